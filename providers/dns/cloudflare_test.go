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
	"github.com/trustform/trustform/providers/dns/cftest"
)

func cfZone(s *cftest.Server, token string) *dns.Hosted {
	return &dns.Hosted{Origin: "example.test.", API: &dns.Cloudflare{Origin: "example.test.", URL: s.URL, Token: token}, Nameservers: []string{s.DNS}}
}

// A zone at Cloudflare (an in-process server of its documented API): found
// by name, read page by page, a change set of TLSA, TXT and CAA in one
// batch with TLSA and CAA in their structured form; Cloudflare's upper-case
// hex reads back as what was written, so a second plan sees no change.
func TestCloudflareZone(t *testing.T) {
	srv := cftest.Start(t, "example.test", "cf-token")
	srv.PageSize = 3
	z := cfZone(srv, "cf-token")
	ctx := context.Background()
	tlsa := "3 1 1 " + strings.Repeat("ab", 32)
	sets := []dns.RRset{
		{Owner: "example.test.", Type: mdns.TypeCAA, TTL: 300, Records: []string{`0 issue "ca.example.net"`}},
		{Owner: "_mta-sts.example.test.", Type: mdns.TypeTXT, TTL: 300, Records: []string{`"v=STSv1; id=20261207"`}},
		{Owner: "_25._tcp.mail.example.test.", Type: mdns.TypeTLSA, TTL: 300, Records: []string{tlsa}},
	}
	var filler []dns.RRset
	for i := range 7 {
		filler = append(filler, dns.RRset{Owner: fmt.Sprintf("h%d.example.test.", i), Type: mdns.TypeTXT, TTL: 300, Records: []string{`"x"`}})
	}
	for _, set := range append(slices.Clone(sets), filler...) {
		if _, err := z.RRset(ctx, set.Owner, set.Type); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Update(ctx, filler); err != nil {
		t.Fatal(err)
	}
	fresh := cfZone(srv, "cf-token")
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
	if posts := slices.DeleteFunc(slices.Clone(srv.Calls), func(c string) bool { return !strings.HasPrefix(c, "POST") }); len(posts) != 1 {
		t.Errorf("the change set took %d batch requests: %v", len(posts), srv.Calls)
	}
	if got := srv.Contents("_25._tcp.mail.example.test", "TLSA"); len(got) != 1 || got[0] != "3 1 1 "+strings.Repeat("AB", 32) {
		t.Errorf("Cloudflare holds %q", got)
	}
	again := cfZone(srv, "cf-token")
	for _, set := range sets {
		rrs, err := again.RRset(ctx, set.Owner, set.Type)
		if got := dns.Presentation(rrs); err != nil || !slices.Equal(got, set.Records) {
			t.Errorf("%s %s reads back as %q, %v; want %q", set.Owner, mdns.TypeToString[set.Type], got, err, set.Records)
		}
		sv, err := again.Propagation(ctx, set.Owner, set.Type)
		visible, lagging := sv.Visible, sv.Lagging
		if err != nil || len(lagging) > 0 || !slices.Equal(visible, set.Records) {
			t.Errorf("%s: visible %q lagging %v, %v", set.Owner, visible, lagging, err)
		}
	}
	// A rollover's two records, then one: the old record is deleted in the
	// same batch that posts the new.
	if err := again.Update(ctx, []dns.RRset{{Owner: "_25._tcp.mail.example.test.", Type: mdns.TypeTLSA, TTL: 300, Records: []string{tlsa, "3 1 1 " + strings.Repeat("cd", 32)}}}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Contents("_25._tcp.mail.example.test", "TLSA"); len(got) != 2 {
		t.Errorf("after publishing the next key: %q", got)
	}
}

// Cloudflare's 429 is waited out; a wrong token is an error that does not
// quote it.
func TestCloudflareFaults(t *testing.T) {
	srv := cftest.Start(t, "example.test", "cf-token")
	ctx := context.Background()
	srv.RateLimit(1)
	start := time.Now()
	if _, err := cfZone(srv, "cf-token").RRset(ctx, "_443._tcp.www.example.test.", mdns.TypeTLSA); err != nil {
		t.Fatalf("after a 429: %v", err)
	}
	if time.Since(start) < time.Second {
		t.Errorf("Retry-After was not waited out")
	}
	_, err := cfZone(srv, "not-the-token").RRset(ctx, "_443._tcp.www.example.test.", mdns.TypeTLSA)
	if err == nil || !strings.Contains(err.Error(), "403") || strings.Contains(err.Error(), "not-the-token") {
		t.Errorf("a wrong token: %v", err)
	}
}
