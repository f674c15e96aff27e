package kinds

import (
	"fmt"
	"testing"

	"github.com/trustform/trustform/providers/acme"
	"github.com/trustform/trustform/providers/certificate"
	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/schema"
)

// TestDNS01DeepestZone: the dns-01 TXT record goes to the deepest zone that
// holds the name, whatever order the zones are configured in.
func TestDNS01DeepestZone(t *testing.T) {
	for _, order := range [][]string{{"sub.example.test", "example.test"}, {"example.test", "sub.example.test"}} {
		var src string
		for i, z := range order {
			src += fmt.Sprintf("dns_zone %q {\n  name = %q\n  server = \"192.0.2.53:53\"\n  tsig {\n    name = \"k\"\n  }\n}\n", []string{"a", "b"}[i], z)
		}
		cfg, diags := Parse("/config", map[string][]byte{"main.hcl": []byte(src)})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		b := &binding{bound: map[schema.Address]any{}, cfg: cfg, once: map[string]any{}}
		for i, z := range order {
			zone := &dns.Server{Origin: z + ".", Primary: z}
			b.bound[schema.Address{Type: dns.ZoneType, Name: []string{"a", "b"}[i]}], b.all = zone, append(b.all, zone)
		}
		iss, diags := (&acme.Account{}).IssuerFor(b, &certificate.Block{Name: "www", Challenge: "dns-01", Domains: []string{"www.sub.example.test"}})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		o := iss.(*acme.Issuer).Order
		if p := o.DNS.(*dns.Server).Primary; p != "sub.example.test" {
			t.Errorf("zones %v: the TXT record goes to %s's primary", order, p)
		}
	}
}
