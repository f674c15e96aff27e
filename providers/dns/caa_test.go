package dns_test

import (
	"context"
	"testing"

	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/providers/dns/dnstest"
)

// A CAA lookup asks the zone's primary (real BIND) and follows an alias as
// a CA's resolver does (RFC 8659 §3); above a special-use zone there is
// nothing a CA could find.
func TestCAALookup(t *testing.T) {
	lab := dnstest.Start(t, "example.test", "alias IN CNAME target", `target IN CAA 0 issue "ca.example"`, `@ IN CAA 0 issue "other.example"`)
	s := &dns.Server{Origin: lab.Zone, Primary: lab.Primary.Addr}
	ctx := context.Background()
	for _, tc := range []struct{ name, want string }{
		{"alias.example.test.", "ca.example"},
		{"target.example.test.", "ca.example"},
		{"example.test.", "other.example"},
		{"www.example.test.", ""},
		{"test.", ""},
	} {
		rrs, err := s.CAA(ctx, tc.name)
		got := ""
		if len(rrs) > 0 {
			got = rrs[0].Value
		}
		if err != nil || got != tc.want {
			t.Errorf("CAA at %s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}
