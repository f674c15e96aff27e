package dns_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/providers/dns/desectest"
)

func desecZone(s *desectest.Server, token string) *dns.Hosted {
	return &dns.Hosted{Origin: "example.test.", API: &dns.DeSEC{Origin: "example.test.", URL: s.URL, Token: token}, Nameservers: []string{s.DNS}}
}

// A zone at deSEC (an in-process server of its documented API): read page
// by page with its cursor, a change set of TLSA, TXT and CAA in one bulk
// PATCH, served by its name server; an RRset deleted; a dns-01 value added
// and removed beside another.
func TestDeSECZone(t *testing.T) {
	srv := desectest.Start(t, "example.test", "tok-123")
	srv.PageSize = 3
	z := desecZone(srv, "tok-123")
	ctx := context.Background()
	tlsa := "3 1 1 " + strings.Repeat("ab", 32)
	sets := []dns.RRset{
		{Owner: "example.test.", Type: mdns.TypeCAA, TTL: 3600, Records: []string{`0 issue "ca.example.net"`}},
		{Owner: "_mta-sts.example.test.", Type: mdns.TypeTXT, TTL: 3600, Records: []string{`"v=STSv1; id=20261207"`}},
		{Owner: "_25._tcp.mail.example.test.", Type: mdns.TypeTLSA, TTL: 3600, Records: []string{tlsa}},
	}
	// Enough RRsets for several pages.
	var filler []dns.RRset
	for i := range 7 {
		filler = append(filler, dns.RRset{Owner: fmt.Sprintf("h%d.example.test.", i), Type: mdns.TypeTXT, TTL: 3600, Records: []string{`"x"`}})
	}
	for _, set := range append(slices.Clone(sets), filler...) {
		if _, err := z.RRset(ctx, set.Owner, set.Type); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Update(ctx, filler); err != nil {
		t.Fatal(err)
	}
	fresh := desecZone(srv, "tok-123")
	for _, set := range sets {
		if _, err := fresh.RRset(ctx, set.Owner, set.Type); err != nil {
			t.Fatal(err)
		}
	}
	if rrs, _ := fresh.RRset(ctx, "h6.example.test.", mdns.TypeTXT); len(rrs) != 1 {
		t.Errorf("the last page was not read: %v", rrs)
	}
	srv.Calls = nil
	if err := fresh.Update(ctx, sets); err != nil {
		t.Fatal(err)
	}
	if patches := slices.DeleteFunc(slices.Clone(srv.Calls), func(c string) bool { return !strings.HasPrefix(c, "PATCH") }); len(patches) != 1 {
		t.Errorf("the change set took %d PATCHes: %v", len(patches), srv.Calls)
	}
	for _, set := range sets {
		sv, err := fresh.Propagation(ctx, set.Owner, set.Type)
		visible, lagging := sv.Visible, sv.Lagging
		if err != nil || len(lagging) > 0 || !slices.Equal(visible, set.Records) {
			t.Errorf("%s %s: visible %q lagging %v, %v", set.Owner, mdns.TypeToString[set.Type], visible, lagging, err)
		}
	}
	if got := srv.Records("_25._tcp.mail", "TLSA"); !slices.Equal(got, []string{tlsa}) {
		t.Errorf("deSEC holds %q", got)
	}
	// A dns-01 value beside the MTA-STS record, then gone again.
	if err := fresh.AddTXT(ctx, "_mta-sts.example.test.", "challenge"); err != nil {
		t.Fatal(err)
	}
	if got := srv.Records("_mta-sts", "TXT"); len(got) != 2 {
		t.Errorf("after AddTXT: %q", got)
	}
	if lagging, err := fresh.TXTServed(ctx, "_mta-sts.example.test.", "challenge"); err != nil || len(lagging) > 0 {
		t.Errorf("TXTServed: %v %v", lagging, err)
	}
	if err := fresh.RemoveTXT(ctx, "_mta-sts.example.test.", "challenge"); err != nil {
		t.Fatal(err)
	}
	if got := srv.Records("_mta-sts", "TXT"); !slices.Equal(got, sets[1].Records) {
		t.Errorf("after RemoveTXT: %q", got)
	}
	// Deleting.
	if err := fresh.Update(ctx, []dns.RRset{{Owner: "example.test.", Type: mdns.TypeCAA, TTL: 3600}}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Records("", "CAA"); len(got) != 0 {
		t.Errorf("the CAA RRset was not deleted: %q", got)
	}
}

// deSEC's 429 is waited out; a wrong token is an error that does not quote
// it; an edit at deSEC since the read stops the change as stale.
func TestDeSECFaults(t *testing.T) {
	srv := desectest.Start(t, "example.test", "tok-123")
	ctx := context.Background()
	z := desecZone(srv, "tok-123")
	srv.RateLimit(2)
	start := time.Now()
	if _, err := z.RRset(ctx, "_443._tcp.www.example.test.", mdns.TypeTLSA); err != nil {
		t.Fatalf("after two 429s: %v", err)
	}
	if time.Since(start) < 2*time.Second {
		t.Errorf("Retry-After was not waited out (%s)", time.Since(start))
	}
	wrong := desecZone(srv, "not-the-token")
	if _, err := wrong.RRset(ctx, "_443._tcp.www.example.test.", mdns.TypeTLSA); err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "not-the-token") {
		t.Errorf("a wrong token: %v", err)
	}
	other := desecZone(srv, "tok-123")
	owner := "_443._tcp.www.example.test."
	if _, err := other.RRset(ctx, owner, mdns.TypeTLSA); err != nil {
		t.Fatal(err)
	}
	if err := other.Update(ctx, []dns.RRset{{Owner: owner, Type: mdns.TypeTLSA, TTL: 3600, Records: []string{"3 1 1 " + strings.Repeat("cd", 32)}}}); err != nil {
		t.Fatal(err)
	}
	err := z.Update(ctx, []dns.RRset{{Owner: owner, Type: mdns.TypeTLSA, TTL: 3600, Records: []string{"3 1 1 " + strings.Repeat("ab", 32)}}})
	if err == nil || !strings.Contains(err.Error(), "since it was read") {
		t.Fatalf("an update over someone else's change: %v", err)
	}
	if got := srv.Records("_443._tcp.www", "TLSA"); len(got) != 1 || !strings.Contains(got[0], "cdcd") {
		t.Errorf("their record was overwritten: %q", got)
	}
}
