package kinds

import (
	"testing"

	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/schema"
)

// TestDNS01DeepestZone: the dns-01 TXT record goes to the deepest zone that
// holds the name, whatever order the zones are configured in.
func TestDNS01DeepestZone(t *testing.T) {
	for _, order := range [][]string{{"sub.example.test", "example.test"}, {"example.test", "sub.example.test"}} {
		b := &binding{bound: map[schema.Address]any{}, cfg: &schema.Config{}}
		for i, z := range order {
			name := []string{"a", "b"}[i]
			b.cfg.Zones = append(b.cfg.Zones, &schema.DNSZone{Name: name, Zone: z})
			b.bound[schema.Address{Type: "dns_zone", Name: name}] = &dns.Server{Origin: z + ".", Primary: z}
		}
		o, diags := b.acmeOrder(&schema.Certificate{Name: "www", Challenge: "dns-01", Domains: []string{"www.sub.example.test"}})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if p, _, _, _ := o.DNS.RFC2136(); p != "sub.example.test" {
			t.Errorf("zones %v: the TXT record goes to %s's primary", order, p)
		}
	}
}
