package dns

import (
	"github.com/trustform/trustform/providers"
)

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
