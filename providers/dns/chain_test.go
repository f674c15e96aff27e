package dns_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/providers/dns/dnstest"
)

// The chain from the parent's key down to an inline-signed BIND zone: valid,
// then with a DS at the parent that matches no key of the child, then with
// the signature over the DS expired. Each verdict is first BIND's own
// validator's (delv, with the parent's key as its anchor), then the walk's,
// which must agree and name the link that breaks.
func TestChainValidation(t *testing.T) {
	child := dnstest.Start(t, "example.test")
	parent := dnstest.StartParent(t, child, dnstest.ParentOptions{})
	anchor, err := dns.ParseAnchor(parent.Anchor)
	if err != nil {
		t.Fatal(err)
	}
	chain := dns.Chain{Anchor: anchor, Resolver: parent.Addr}
	for _, tc := range []struct {
		name    string
		o       dnstest.ParentOptions
		delv    string // what delv says
		problem string // what the walk says; "" valid
	}{
		{"valid", dnstest.ParentOptions{}, "; fully validated", ""},
		{"wrong DS", dnstest.ParentOptions{WrongDS: true}, "resolution failed", "no DNSKEY of example.test. matches the DS RRset at test. (key tags "},
		{"expired DS signature", dnstest.ParentOptions{ExpiredDS: true}, "RRSIG has expired", "the DS RRset of example.test.: the signature by key tag "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent.Resign(t, tc.o)
			out := delv(t, parent, "example.test.", "DNSKEY")
			if !strings.Contains(out, tc.delv) {
				t.Fatalf("delv says:\n%s\nwant %q", out, tc.delv)
			}
			until, err := chain.Validate(context.Background(), "example.test")
			var ce *dns.ChainError
			switch {
			case tc.problem == "" && err != nil:
				t.Errorf("delv validates the chain, the walk does not: %v", err)
			case tc.problem == "" && until.Before(time.Now()):
				t.Errorf("valid until %s", until)
			case tc.problem != "" && (!errors.As(err, &ce) || !strings.Contains(err.Error(), tc.problem)):
				t.Errorf("delv refuses the chain; the walk says %v, want %q", err, tc.problem)
			case tc.problem != "" && (ce.Parent != "test." || ce.Child != "example.test."):
				t.Errorf("the broken link is named %s -> %s: %v", ce.Parent, ce.Child, err)
			}
			t.Logf("delv: %s; trustform: %v", firstLine(out), err)
		})
	}
}

// delv asks the parent's server for name/qtype and validates it with BIND's
// delv from the parent's key.
func delv(t *testing.T, p *dnstest.Parent, name, qtype string) string {
	t.Helper()
	host, port := p.Addr[:strings.LastIndex(p.Addr, ":")], p.Addr[strings.LastIndex(p.Addr, ":")+1:]
	out, _ := exec.Command("delv", "@"+host, "-p", port, "-a", p.AnchorFile(t), "+root="+p.Zone, name, qtype).CombinedOutput()
	return string(out)
}

func firstLine(s string) string { return strings.SplitN(strings.TrimSpace(s), "\n", 2)[0] }

// A trust anchor is DS or DNSKEY records of one owner; IANA's root anchors
// parse as one.
func TestParseAnchor(t *testing.T) {
	if rrs, err := dns.ParseAnchor(dns.RootAnchors); err != nil || len(rrs) != 2 || rrs[0].Header().Name != "." {
		t.Errorf("the root anchors: %v, %v", rrs, err)
	}
	for _, tc := range []struct{ text, err string }{
		{"", "holds no DS or DNSKEY record"},
		{"example. IN A 192.0.2.1", "DS or DNSKEY records, not A"},
		{"a.example. IN DS 1 13 2 " + strings.Repeat("ab", 32) + "\nb.example. IN DS 2 13 2 " + strings.Repeat("cd", 32), "two owners"},
		{"example. IN DS nonsense", "bad DS"},
	} {
		if _, err := dns.ParseAnchor(tc.text); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseAnchor(%q) = %v, want %q", tc.text, err, tc.err)
		}
	}
}
