package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/providers/dns/dnstest"
	"github.com/trustform/trustform/providers/dns/knottest"
	"github.com/trustform/trustform/providers/dns/pdnstest"
)

// authority is one authoritative server the independent DANE checker
// asks, whichever software it is.
type authority struct {
	Addr   string
	Signed bool // its answers must carry RRSIGs
	query  func(t testing.TB, name string, qtype uint16) *mdns.Msg
}

// tlsa is the TLSA RRset the server answers at owner, as trustform writes
// records (lower-case hex in one piece), sorted; an unsigned answer from a
// signed zone fails the test.
func (a authority) tlsa(t testing.TB, owner string) []string {
	t.Helper()
	var recs []string
	signed := false
	for _, rr := range a.query(t, owner, mdns.TypeTLSA).Answer {
		switch rr := rr.(type) {
		case *mdns.TLSA:
			recs = append(recs, strings.ToLower(strings.Join(strings.Fields(rr.String())[4:], " ")))
		case *mdns.RRSIG:
			signed = signed || rr.TypeCovered == mdns.TypeTLSA
		}
	}
	if len(recs) > 0 && !signed && a.Signed {
		t.Errorf("%s serves %s without an RRSIG", a.Addr, owner)
	}
	slices.Sort(recs)
	return recs
}

// bindAuthorities are a BIND lab's primary and secondary.
func bindAuthorities(servers ...*dnstest.Named) []authority {
	var out []authority
	for _, n := range servers {
		out = append(out, authority{Addr: n.Addr, Signed: n.Signed, query: n.Query})
	}
	return out
}

// zoneLab is the zone example.test on one of the DNS backends trustform
// writes to, signed: the dns_zone "example" block that reaches it, the
// secret files that block reads, and the servers that answer for it.
type zoneLab struct {
	backend string
	block   string
	secrets map[string]string // file name -> content, written 0600
	servers []authority
}

// zoneBackends are the backends the rollover tests run on.
var zoneBackends = []string{"bind", "powerdns", "knot"}

// startZone starts the zone on backend ("bind": a BIND primary and
// secondary over RFC 2136; "knot": Knot over RFC 2136; "powerdns":
// PowerDNS through its HTTP API) with the extra records, given as
// "NAME TYPE RDATA" with fully qualified targets.
func startZone(t *testing.T, backend string, extra ...string) zoneLab {
	t.Helper()
	const tsig = `
  require_dnssec = true
  tsig {
    name        = "trustform-key"
    secret_file = "tsig.secret"
  }
}`
	switch backend {
	case "bind":
		l := dnstest.Start(t, "example.test", extra...)
		return zoneLab{backend, fmt.Sprintf("dns_zone \"example\" {\n  name           = \"example.test\"\n  server         = %q\n  nameservers    = [%q, %q]", l.Primary.Addr, l.Primary.Addr, l.Secondary.Addr) + tsig,
			map[string]string{"tsig.secret": l.Secret}, bindAuthorities(l.Servers()...)}
	case "knot":
		l := knottest.Start(t, "example.test", knottest.Options{RRSIGLifetime: 48 * time.Hour, RRSIGRefresh: 24 * time.Hour}, extra...)
		return zoneLab{backend, fmt.Sprintf("dns_zone \"example\" {\n  name           = \"example.test\"\n  server         = %q\n  nameservers    = [%q]", l.Addr, l.Addr) + tsig,
			map[string]string{"tsig.secret": l.Secret}, []authority{{Addr: l.Addr, Signed: true, query: l.Query}}}
	case "powerdns":
		l := pdnstest.Start(t, "example.test", extra...)
		return zoneLab{backend, fmt.Sprintf(`dns_zone "example" {
  name           = "example.test"
  nameservers    = [%q]
  require_dnssec = true
  api {
    type       = "powerdns"
    url        = %q
    token_file = "pdns.key"
  }
}`, l.DNS, l.API), map[string]string{"pdns.key": l.Key}, []authority{{Addr: l.DNS, Signed: true, query: l.Query}}}
	}
	t.Fatalf("no zone backend %q", backend)
	return zoneLab{}
}

// writeSecrets puts the zone's secret files in dir.
func (z zoneLab) writeSecrets(t *testing.T, dir string) {
	t.Helper()
	for name, content := range z.secrets {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// waitAgree waits until every server serves what the first does at owner.
func (z zoneLab) waitAgree(t *testing.T, owner string) {
	t.Helper()
	want := z.servers[0].tlsa(t, owner)
	for _, a := range z.servers[1:] {
		deadline := time.Now().Add(20 * time.Second)
		for got := a.tlsa(t, owner); !slices.Equal(got, want); got = a.tlsa(t, owner) {
			if time.Now().After(deadline) {
				t.Fatalf("%s serves %v at %s, the primary %v", a.Addr, got, owner, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}
