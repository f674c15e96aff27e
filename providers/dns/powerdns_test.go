package dns_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/internal/testutil"
	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/providers/dns/pdnstest"
)

// counted is the lab's API behind a proxy that counts the requests.
func counted(t testing.TB, lab *pdnstest.Lab) (string, *atomic.Int32) {
	return testutil.CountingProxy(t, lab.API)
}

func pdnsZone(lab *pdnstest.Lab, api string) *dns.Hosted {
	return &dns.Hosted{Origin: lab.Zone, API: &dns.PowerDNS{Origin: lab.Zone, URL: api, Token: lab.Key}, Nameservers: []string{lab.DNS}, RequireDNSSEC: true}
}

// A zone behind PowerDNS's API: observed with one request whatever the
// number of RRsets, changed with one PATCH per change set (TLSA, TXT and
// CAA together), served signed by the server as dig sees it.
func TestPowerDNSZone(t *testing.T) {
	lab := pdnstest.Start(t, "example.test", "www A 127.0.0.1", "@ MX 10 mail.example.test.")
	api, requests := counted(t, lab)
	z := pdnsZone(lab, api)
	ctx := context.Background()
	sets := []dns.RRset{
		{Owner: "example.test.", Type: mdns.TypeCAA, TTL: 300, Records: []string{`0 issue "ca.example.net; accounturi=https://ca.example.net/acct/1"`}},
		{Owner: "_mta-sts.example.test.", Type: mdns.TypeTXT, TTL: 300, Records: []string{`"v=STSv1; id=20261207"`}},
		{Owner: "_25._tcp.mail.example.test.", Type: mdns.TypeTLSA, TTL: 300, Records: []string{"3 1 1 " + strings.Repeat("ab", 32)}},
	}
	for i := 0; i < 200; i++ { // observing many RRsets costs one GET
		if _, err := z.RRset(ctx, "_"+string(rune('a'+i%26))+"._tcp.host.example.test.", mdns.TypeTLSA); err != nil {
			t.Fatal(err)
		}
	}
	for _, set := range sets {
		if rrs, err := z.RRset(ctx, set.Owner, set.Type); err != nil || len(rrs) != 0 {
			t.Fatalf("%s before: %v %v", set.Owner, rrs, err)
		}
	}
	if mx, err := z.MX(ctx); err != nil || !slices.Equal(mx, []string{"mail.example.test."}) {
		t.Errorf("MX: %v %v", mx, err)
	}
	if got := requests.Load(); got != 1 {
		t.Errorf("observing the zone took %d requests, want 1", got)
	}
	requests.Store(0)
	if err := z.Update(ctx, sets); err != nil {
		t.Fatal(err)
	}
	if got := requests.Load(); got != 2 {
		t.Errorf("the change set took %d requests, want 2 (a GET that checks nothing changed, one PATCH)", got)
	}
	for _, set := range sets {
		sv, err := z.Propagation(ctx, set.Owner, set.Type)
		visible, lagging := sv.Visible, sv.Lagging
		if err != nil || len(lagging) > 0 || !slices.Equal(visible, set.Records) {
			t.Errorf("%s %s: visible %q lagging %v, %v", set.Owner, mdns.TypeToString[set.Type], visible, lagging, err)
		}
		if signed, err := z.Signed(ctx, set.Owner, set.Type); err != nil || !signed {
			t.Errorf("%s: signed %v, %v", set.Owner, signed, err)
		}
		out, err := runDig(lab.DNS, set.Owner, mdns.TypeToString[set.Type])
		if err != nil || !strings.Contains(out, mdns.TypeToString[set.Type]+" ") {
			t.Errorf("dig %s: no signed answer: %v\n%s", set.Owner, err, out)
		}
	}
	// Deleting an RRset.
	if _, err := z.RRset(ctx, "example.test.", mdns.TypeCAA); err != nil {
		t.Fatal(err)
	}
	if err := z.Update(ctx, []dns.RRset{{Owner: "example.test.", Type: mdns.TypeCAA, TTL: 300}}); err != nil {
		t.Fatal(err)
	}
	if r := lab.Query(t, "example.test.", mdns.TypeCAA); len(r.Answer) != 0 && r.Answer[0].Header().Rrtype == mdns.TypeCAA {
		t.Errorf("the CAA RRset is still served: %v", r.Answer)
	}
}

// Someone else changes an RRset between plan and apply: the update stops
// as stale and does not overwrite it.
func TestPowerDNSStale(t *testing.T) {
	lab := pdnstest.Start(t, "example.test")
	z := pdnsZone(lab, lab.API)
	ctx := context.Background()
	owner := "_443._tcp.www.example.test."
	if _, err := z.RRset(ctx, owner, mdns.TypeTLSA); err != nil {
		t.Fatal(err)
	}
	theirs := "3 1 1 " + strings.Repeat("cd", 32)
	patch(t, lab, `{"rrsets":[{"name":"`+owner+`","type":"TLSA","ttl":300,"changetype":"REPLACE","records":[{"content":"`+theirs+`","disabled":false}]}]}`)
	err := z.Update(ctx, []dns.RRset{{Owner: owner, Type: mdns.TypeTLSA, TTL: 300, Records: []string{"3 1 1 " + strings.Repeat("ab", 32)}}})
	if err == nil || !strings.Contains(err.Error(), "since it was read") {
		t.Fatalf("update over someone else's change: %v", err)
	}
	r := lab.Query(t, owner, mdns.TypeTLSA)
	var served []mdns.RR
	for _, rr := range r.Answer {
		if rr.Header().Rrtype == mdns.TypeTLSA {
			served = append(served, rr)
		}
	}
	if got := dns.Presentation(served); !slices.Equal(got, []string{theirs}) {
		t.Errorf("their record was overwritten: PowerDNS serves %q", got)
	}
}

// A wrong API key: the error names the zone, the API and its status,
// never the key sent, and nothing changes.
func TestPowerDNSWrongKey(t *testing.T) {
	lab := pdnstest.Start(t, "example.test")
	z := pdnsZone(lab, lab.API)
	wrong := "not-the-key-0123456789"
	z.API.(*dns.PowerDNS).Token = wrong
	_, err := z.RRset(context.Background(), "_443._tcp.www.example.test.", mdns.TypeTLSA)
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "zone example.test.") || strings.Contains(err.Error(), wrong) {
		t.Fatalf("wrong key: %v", err)
	}
}

func patch(t *testing.T, lab *pdnstest.Lab, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPatch, lab.API+"/api/v1/servers/localhost/zones/"+lab.Zone, bytes.NewBufferString(body))
	req.Header.Set("X-API-Key", lab.Key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var e map[string]any
		json.NewDecoder(resp.Body).Decode(&e)
		t.Fatalf("PATCH: %s %v", resp.Status, e)
	}
}

// runDig asks server (host:port) with dig +dnssec +short.
func runDig(server, name, qtype string) (string, error) {
	host, port, _ := net.SplitHostPort(server)
	out, err := exec.Command("dig", "+dnssec", "+norec", "+short", "-p", port, "@"+host, name, qtype).CombinedOutput()
	return string(out), err
}

// Every fault of the API stops the change set with an error that names
// the zone, the API and what it answered, never the key, and PowerDNS
// serves what it served before: nothing of the change set is half
// written. The 422 is PowerDNS's own (a TXT RRset beside a CNAME, in the
// same PATCH as a TLSA change); the other answers come from a proxy in
// front of the real API, as a load balancer or a broken server gives them.
func TestPowerDNSFaults(t *testing.T) {
	lab := pdnstest.Start(t, "example.test", "www A 127.0.0.1", "alias CNAME www.example.test.")
	ctx := context.Background()
	owner := "_443._tcp.www.example.test."
	before, after := "3 1 1 "+strings.Repeat("ab", 32), "3 1 1 "+strings.Repeat("cd", 32)
	seed := pdnsZone(lab, lab.API)
	if _, err := seed.RRset(ctx, owner, mdns.TypeTLSA); err != nil {
		t.Fatal(err)
	}
	if err := seed.Update(ctx, []dns.RRset{{Owner: owner, Type: mdns.TypeTLSA, TTL: 300, Records: []string{before}}}); err != nil {
		t.Fatal(err)
	}
	var fault atomic.Pointer[func(http.ResponseWriter)]
	u, _ := url.Parse(lab.API)
	upstream := httputil.NewSingleHostReverseProxy(u)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := fault.Load(); f != nil && r.Method == http.MethodPatch {
			(*f)(w)
			return
		}
		upstream.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	answer := func(status int, body string) *func(http.ResponseWriter) {
		f := func(w http.ResponseWriter) { w.WriteHeader(status); io.WriteString(w, body) }
		return &f
	}
	stall := func(w http.ResponseWriter) { time.Sleep(2 * time.Second) }
	tlsa := dns.RRset{Owner: owner, Type: mdns.TypeTLSA, TTL: 300, Records: []string{after}}
	for _, tc := range []struct {
		name  string
		fault *func(http.ResponseWriter)
		sets  []dns.RRset
		want  string
	}{
		{"401", answer(401, `{"error": "Unauthorized"}`), []dns.RRset{tlsa}, "401 Unauthorized to PATCH: Unauthorized (is the API token right?)"},
		{"403", answer(403, `{"error": "Forbidden"}`), []dns.RRset{tlsa}, "403 Forbidden to PATCH: Forbidden"},
		{"404", answer(404, `{"error": "Could not find domain 'example.test.'"}`), []dns.RRset{tlsa}, "Could not find domain 'example.test.' (does the API hold this zone"},
		{"500", answer(500, `{"error": "Internal Server Error"}`), []dns.RRset{tlsa}, "500 Internal Server Error to PATCH"},
		{"503 from a proxy", answer(503, "<html>upstream unavailable</html>"), []dns.RRset{tlsa}, "503 Service Unavailable to PATCH"},
		{"timeout", &stall, []dns.RRset{tlsa}, "Client.Timeout exceeded"},
		{"422 of PowerDNS", nil, []dns.RRset{tlsa, {Owner: "alias.example.test.", Type: mdns.TypeTXT, TTL: 300, Records: []string{`"v=spf1 -all"`}}}, "422 Unprocessable Entity to PATCH: RRset alias.example.test. IN TXT: Conflicts with pre-existing RRset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fault.Store(tc.fault)
			z := &dns.Hosted{Origin: lab.Zone, API: &dns.PowerDNS{Origin: lab.Zone, URL: proxy.URL, Token: lab.Key, Timeout: time.Second}, Nameservers: []string{lab.DNS}, RequireDNSSEC: true}
			for _, set := range tc.sets {
				if _, err := z.RRset(ctx, set.Owner, set.Type); err != nil {
					t.Fatal(err)
				}
			}
			err := z.Update(ctx, tc.sets)
			if err == nil || !strings.Contains(err.Error(), "zone example.test.: PowerDNS API "+proxy.URL) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), lab.Key) {
				t.Errorf("the error names the zone, the API and %q, never the key: %v", tc.want, err)
			}
			time.Sleep(100 * time.Millisecond) // what a stalled PATCH would still write
			if got := pdnsServed(t, lab, owner); !slices.Equal(got, []string{before}) {
				t.Errorf("PowerDNS serves %q after the failed change set, want the RRset before it", got)
			}
		})
	}
	fault.Store(nil)
	z := pdnsZone(lab, proxy.URL)
	z.RRset(ctx, owner, mdns.TypeTLSA)
	if err := z.Update(ctx, []dns.RRset{tlsa}); err != nil {
		t.Fatalf("once the API answers again: %v", err)
	}
}

// pdnsServed is the TLSA RRset PowerDNS serves at owner.
func pdnsServed(t *testing.T, lab *pdnstest.Lab, owner string) []string {
	t.Helper()
	var rrs []mdns.RR
	for _, rr := range lab.Query(t, owner, mdns.TypeTLSA).Answer {
		if rr.Header().Rrtype == mdns.TypeTLSA {
			rrs = append(rrs, rr)
		}
	}
	return dns.Presentation(rrs)
}
