package caa

import (
	"context"
	"errors"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
)

func rr(flag uint8, tag, value string) *mdns.CAA {
	return &mdns.CAA{Hdr: mdns.RR_Header{Name: "example.com.", Rrtype: mdns.TypeCAA, Class: mdns.ClassINET}, Flag: flag, Tag: tag, Value: value}
}

// RFC 8659 §4 with RFC 8657's parameters, one case per clause.
func TestPermits(t *testing.T) {
	le := Issuer{Identities: []string{"letsencrypt.org"}, AccountURI: "https://acme-v02.api.letsencrypt.org/acme/acct/1", Method: "dns-01"}
	for _, tc := range []struct {
		name     string
		rrs      []*mdns.CAA
		wildcard bool
		ok       bool
		why      string
	}{
		{"no records", nil, false, true, ""},
		{"only iodef", []*mdns.CAA{rr(0, "iodef", "mailto:a@example.com")}, false, true, ""},
		{"this CA", []*mdns.CAA{rr(0, "issue", "letsencrypt.org")}, false, true, ""},
		{"case-insensitive CA", []*mdns.CAA{rr(0, "issue", "LetsEncrypt.org")}, false, true, ""},
		{"another CA", []*mdns.CAA{rr(0, "issue", "digicert.com")}, false, false, `0 issue "digicert.com" names digicert.com, not this CA (letsencrypt.org)`},
		{"one of two", []*mdns.CAA{rr(0, "issue", "digicert.com"), rr(0, "issue", "letsencrypt.org")}, false, true, ""},
		{"no CA at all", []*mdns.CAA{rr(0, "issue", ";")}, false, false, "names no CA"},
		{"this account", []*mdns.CAA{rr(0, "issue", "letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/1")}, false, true, ""},
		{"another account", []*mdns.CAA{rr(0, "issue", "letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/2")}, false, false, "binds another account (https://acme-v02.api.letsencrypt.org/acme/acct/2)"},
		{"this method", []*mdns.CAA{rr(0, "issue", "letsencrypt.org; validationmethods=http-01,dns-01")}, false, true, ""},
		{"another method", []*mdns.CAA{rr(0, "issue", "letsencrypt.org;validationmethods=http-01")}, false, false, "allows only http-01, not dns-01"},
		{"unknown parameter", []*mdns.CAA{rr(0, "issue", "letsencrypt.org; policy=ev")}, false, true, ""},
		{"issuewild ignored for a name", []*mdns.CAA{rr(0, "issuewild", ";"), rr(0, "issue", "letsencrypt.org")}, false, true, ""},
		{"issuewild rules a wildcard", []*mdns.CAA{rr(0, "issuewild", ";"), rr(0, "issue", "letsencrypt.org")}, true, false, "names no CA"},
		{"issue for a wildcard without issuewild", []*mdns.CAA{rr(0, "issue", "digicert.com")}, true, false, "names digicert.com"},
		{"critical unknown tag", []*mdns.CAA{rr(128, "tbs", "x"), rr(0, "issue", "letsencrypt.org")}, false, false, "critical flag"},
		{"unknown tag, not critical", []*mdns.CAA{rr(0, "tbs", "x"), rr(0, "issue", "letsencrypt.org")}, false, true, ""},
		{"critical known tag", []*mdns.CAA{rr(128, "issue", "letsencrypt.org")}, false, true, ""},
	} {
		ok, why := Permits(tc.rrs, tc.wildcard, le)
		if ok != tc.ok || !strings.Contains(why, tc.why) {
			t.Errorf("%s: %t %q, want %t %q", tc.name, ok, why, tc.ok, tc.why)
		}
	}
}

// The relevant RRset is the first up the tree; a wildcard starts at its
// base; a failed lookup is an error.
func TestRelevant(t *testing.T) {
	zone := map[string][]*mdns.CAA{"example.com.": {rr(0, "issue", "letsencrypt.org")}, "sub.example.com.": {rr(0, "issue", "digicert.com")}}
	var asked []string
	lookup := func(_ context.Context, name string) ([]*mdns.CAA, error) {
		asked = append(asked, name)
		if name == "broken.example.net." {
			return nil, errors.New("SERVFAIL")
		}
		return zone[name], nil
	}
	for _, tc := range []struct{ name, owner, tag string }{
		{"www.example.com", "example.com.", "letsencrypt.org"},
		{"a.b.sub.example.com.", "sub.example.com.", "digicert.com"},
		{"*.example.com", "example.com.", "letsencrypt.org"},
		{"www.example.org", "", ""},
	} {
		owner, rrs, err := Relevant(context.Background(), lookup, tc.name)
		if err != nil || owner != tc.owner || (tc.tag != "" && rrs[0].Value != tc.tag) {
			t.Errorf("%s: %q %v %v", tc.name, owner, rrs, err)
		}
	}
	asked = nil
	Relevant(context.Background(), lookup, "www.example.org")
	if strings.Join(asked, " ") != "www.example.org. example.org. org." {
		t.Errorf("climbed %v, want each name below the root", asked)
	}
	if _, _, err := Relevant(context.Background(), lookup, "broken.example.net"); err == nil {
		t.Error("a failed lookup is not an error")
	}
}
