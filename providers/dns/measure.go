package dns

import (
	"fmt"
	"strings"

	"github.com/trustform/trustform/providers"
)

var _ providers.DANEReporter = (*TLSA)(nil)

// Measure is, per authoritative server, whether the RRset it publishes
// matches the chain the endpoint serves (for an RRset whose endpoint the
// configuration probes), and when its signatures over the RRset expire
// (a signed zone). A zone file without nameservers is one server, "file".
func (t *TLSA) Measure(_, _ providers.Value) []providers.Sample {
	var out []providers.Sample
	servers := t.servers
	if len(servers) == 0 {
		servers = []ServerAnswer{{Server: "file", Records: t.visible}}
	}
	for _, s := range servers {
		if t.servedURL != "" {
			match := s.Err == "" && t.servedChain != nil && len(Matching(s.Records, t.servedChain)) > 0
			out = append(out, providers.Sample{Name: providers.MetricTLSAMatch, Labels: map[string]string{"endpoint": t.servedURL, "server": s.Server}, Value: providers.Bool(match)})
		}
		if !s.SignedUntil.IsZero() {
			out = append(out, providers.Sample{Name: providers.MetricSignaturesExpire, Labels: map[string]string{"zone": "dns_zone." + t.ZoneName, "server": s.Server}, Value: providers.Timestamp(s.SignedUntil)})
		}
	}
	return out
}

// DANECells is, per authoritative server, whether the RRset it publishes
// matches the chain the endpoint serves, and why not: the server's answer
// (none, unsigned), the endpoint not answering, or the served record
// beside the published ones. An RRset no probed endpoint serves has none.
func (t *TLSA) DANECells() []providers.DANECell {
	if t.servedURL == "" {
		return nil
	}
	servers := t.servers
	if len(servers) == 0 {
		servers = []ServerAnswer{{Server: "file", Records: t.visible}}
	}
	served := "nothing (the endpoint does not answer)"
	if t.servedChain != nil {
		served = "no CA certificate"
		if c := Pinned(t.Params[0], t.servedChain); c != nil {
			served, _ = Record(t.Params, c)
		}
	}
	var out []providers.DANECell
	for _, s := range servers {
		cell := providers.DANECell{Owner: t.Owner, Endpoint: t.servedURL, Server: s.Server}
		switch m := Matching(s.Records, t.servedChain); {
		case s.Err != "":
			cell.Why = s.Err
		case t.servedChain == nil:
			cell.Why = "the endpoint serves " + served
		case len(m) > 0:
			cell.OK, cell.Why = true, "matches "+m[0]
		case len(s.Records) == 0:
			cell.Why = "publishes nothing; the endpoint serves " + served
		default:
			cell.Why = fmt.Sprintf("publishes %s; the endpoint serves %s", strings.Join(s.Records, ", "), served)
		}
		out = append(out, cell)
	}
	return out
}
