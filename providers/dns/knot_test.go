package dns_test

import (
	"context"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/providers/dns/knottest"
)

// Knot answers the zone transfer signed with the TSIG key, so a plan
// observes a Knot zone with one transfer; a wrong secret is BADSIG.
func TestKnotServer(t *testing.T) {
	lab := knottest.Start(t, "example.test", knottest.Options{}, "www A 127.0.0.1")
	s := &dns.Server{Origin: lab.Zone, Primary: lab.Addr, KeyName: knottest.KeyName, Algorithm: mdns.HmacSHA256, Secret: lab.Secret, Nameservers: []string{lab.Addr}, RequireDNSSEC: true}
	ctx := context.Background()
	owner := "_443._tcp.www.example.test."
	if _, err := s.RRset(ctx, owner, mdns.TypeTLSA); err != nil {
		t.Fatal(err)
	}
	if err := s.TransferError(); err != nil {
		t.Errorf("Knot refused the transfer: %v", err)
	}
	rec := "3 1 1 " + "ab0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
	if err := s.Update(ctx, []dns.RRset{{Owner: owner, Type: mdns.TypeTLSA, TTL: 300, Records: []string{rec}}}); err != nil {
		t.Fatal(err)
	}
	if signed, err := s.Signed(ctx, owner, mdns.TypeTLSA); err != nil || !signed {
		t.Errorf("signed %v, %v", signed, err)
	}
	bad := &dns.Server{Origin: lab.Zone, Primary: lab.Addr, KeyName: knottest.KeyName, Algorithm: mdns.HmacSHA256, Secret: "c2VjcmV0IHRoYXQgaXMgbm90IHRoZSBzZXJ2ZXInczE=", Nameservers: []string{lab.Addr}}
	if _, err := bad.RRset(ctx, owner, mdns.TypeTLSA); err != nil {
		t.Fatal(err)
	}
	err := bad.Update(ctx, []dns.RRset{{Owner: owner, Type: mdns.TypeTLSA, TTL: 300}})
	if err == nil || !strings.Contains(err.Error(), "BADSIG") || strings.Contains(err.Error(), "update-policy") {
		t.Fatalf("an update with a wrong secret: %v", err)
	}
}
