package dns_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

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

// A rollover's gate counts only signatures that outlive it. Knot signs
// here for two days and refreshes a day ahead: a TLSA RRset with a one-hour
// rollover_wait is visible (its signatures hold for the wait and the TTL),
// the same with a three-day wait is not yet, and says why, in Lagging and
// a warning, while drift (signed) and served records stay as they are.
func TestGateNeedsSignaturesThatOutliveTheRollover(t *testing.T) {
	lab := knottest.Start(t, "example.test", knottest.Options{RRSIGLifetime: 48 * time.Hour, RRSIGRefresh: 24 * time.Hour}, "www A 127.0.0.1")
	ctx := context.Background()
	owner := "_443._tcp.www.example.test."
	rec := "3 1 1 " + "ab0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
	zone := func() *dns.Server {
		return &dns.Server{Origin: lab.Zone, Primary: lab.Addr, KeyName: knottest.KeyName, Algorithm: mdns.HmacSHA256, Secret: lab.Secret, Nameservers: []string{lab.Addr}, RequireDNSSEC: true}
	}
	z := zone()
	if _, err := z.RRset(ctx, owner, mdns.TypeTLSA); err != nil {
		t.Fatal(err)
	}
	if err := z.Update(ctx, []dns.RRset{{Owner: owner, Type: mdns.TypeTLSA, TTL: 300, Records: []string{rec}}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		wait    time.Duration
		visible bool
	}{{time.Hour, true}, {72 * time.Hour, false}} {
		tl := &dns.TLSA{Zone: zone(), ZoneName: "example", Owner: owner, TTL: 300, Params: [3]uint8{3, 1, 1}, RequireDNSSEC: true, RolloverWait: tc.wait}
		v, err := tl.Observe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v["signed"].Str != "true" {
			t.Errorf("wait %s: signed = %q, want true: the signatures hold for the TTL", tc.wait, v["signed"].Str)
		}
		lagging := strings.Join(tl.Lagging(), "; ")
		if got := len(tl.Visible()) > 0; got != tc.visible || tl.Everywhere() != tc.visible {
			t.Errorf("wait %s: visible %v (%q), everywhere %v; want %v; lagging %q", tc.wait, tl.Visible(), rec, tl.Everywhere(), tc.visible, lagging)
		}
		if warned := strings.Contains(fmt.Sprint(tl.Warnings()), "signatures expire before a rollover could finish"); warned == tc.visible {
			t.Errorf("wait %s: warnings %v", tc.wait, tl.Warnings())
		}
		if !tc.visible && !strings.Contains(lagging, "its signatures expire at ") {
			t.Errorf("wait %s: lagging %q does not say the signatures expire", tc.wait, lagging)
		}
	}
}
