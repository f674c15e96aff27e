package dns

import (
	"fmt"
	"strings"

	"github.com/trustform/trustform/providers"
)

var _ providers.DANEReporter = (*TLSA)(nil)

// Measure is, per authoritative server, whether the RRset it publishes
// matches the chain the endpoint serves (DANECells), and when its
// signatures over the RRset expire (a signed zone).
func (t *TLSA) Measure(_, _ providers.Value) []providers.Sample {
	var out []providers.Sample
	for _, c := range t.DANECells() {
		out = append(out, providers.Sample{Name: providers.MetricTLSAMatch, Labels: map[string]string{"endpoint": c.Endpoint, "server": c.Server}, Value: providers.Bool(c.OK)})
	}
	for _, s := range t.answers() {
		if !s.SignedUntil.IsZero() {
			out = append(out, providers.Sample{Name: providers.MetricSignaturesExpire, Labels: map[string]string{"zone": "dns_zone." + t.ZoneName, "server": s.Server}, Value: providers.Timestamp(s.SignedUntil)})
		}
	}
	return out
}

// answers are each authoritative server's answer as Observe found them; a
// zone file without nameservers is one server, "file".
func (t *TLSA) answers() []ServerAnswer {
	if len(t.servers) == 0 {
		return []ServerAnswer{{Server: "file", Records: t.visible}}
	}
	return t.servers
}

// DANECells is, per authoritative server, whether the RRset it publishes
// matches the chain the endpoint serves, and why not: the server's answer
// (none, unsigned), the endpoint not answering, or the served record
// beside the published ones. An RRset no probed endpoint serves has none.
func (t *TLSA) DANECells() []providers.DANECell {
	if t.servedURL == "" {
		return nil
	}
	var out []providers.DANECell
	for _, s := range t.answers() {
		cell := providers.DANECell{Owner: t.Owner, Endpoint: t.servedURL, Server: s.Server}
		switch m := Matching(s.Records, t.servedChain); {
		case s.Err != "":
			cell.Why = s.Err
		case t.servedChain == nil:
			cell.Why = "the endpoint serves " + t.servedRecord()
		case len(m) > 0:
			cell.OK, cell.Why = true, "matches "+m[0]
		case len(s.Records) == 0:
			cell.Why = "publishes nothing; the endpoint serves " + t.servedRecord()
		default:
			cell.Why = fmt.Sprintf("publishes %s; the endpoint serves %s", strings.Join(s.Records, ", "), t.servedRecord())
		}
		out = append(out, cell)
	}
	return out
}
