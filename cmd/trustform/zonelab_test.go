package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/internal/testutil"
	"github.com/trustform/trustform/providers/dns/cftest"
	"github.com/trustform/trustform/providers/dns/desectest"
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
// writes to: the dns_zone "example" block that reaches it, the secret
// files that block reads, the servers that answer for it, and what
// trustform asked of it. trustform reaches an RFC 2136 server through a
// proxy that counts DNS requests, an API through one that counts HTTP
// requests; the checker asks the servers directly.
type zoneLab struct {
	backend  string
	block    string
	secrets  map[string]string // file name -> content, written 0600
	servers  []authority
	requests func() int64 // since the last reset: DNS requests to an RFC 2136 server, or API requests
	reset    func()
	// perServer counts the DNS messages of each RFC 2136 server since the
	// last reset, the primary first (nil for an API).
	perServer func() []int64
}

// zoneBackends are the backends a zone can be on: real BIND, Knot and
// PowerDNS, signed; deSEC and Cloudflare as in-process servers of their
// documented APIs (they cannot be reached from a test machine), unsigned.
var zoneBackends = []string{"bind", "knot", "powerdns", "desec", "cloudflare"}

// startZone starts the zone on backend ("bind": a BIND primary and
// secondary over RFC 2136; "knot": Knot over RFC 2136; "powerdns":
// PowerDNS through its HTTP API; "desec", "cloudflare") with the extra
// records, given as "NAME TYPE RDATA" with fully qualified targets (not
// for deSEC and Cloudflare).
func startZone(t *testing.T, backend string, extra ...string) zoneLab {
	t.Helper()
	const tsig = `
  require_dnssec = true
  tsig {
    name        = "trustform-key"
    secret_file = "tsig.secret"
  }
}`
	api := func(typ, url, nameserver, signed string) string {
		return fmt.Sprintf(`dns_zone "example" {
  name           = "example.test"
  nameservers    = [%q]%s
  api {
    type       = %q
    url        = %q
    token_file = "api.token"
  }
}`, nameserver, signed, typ, url)
	}
	counted := func(z zoneLab, proxies ...*dnstest.Proxy) zoneLab {
		z.requests = func() (n int64) {
			for _, p := range proxies {
				n += p.Messages()
			}
			return n
		}
		z.reset = func() {
			for _, p := range proxies {
				p.Reset()
			}
		}
		z.perServer = func() (n []int64) {
			for _, p := range proxies {
				n = append(n, p.Messages())
			}
			return n
		}
		return z
	}
	countedAPI := func(z zoneLab, n *atomic.Int32) zoneLab {
		z.requests, z.reset = func() int64 { return int64(n.Load()) }, func() { n.Store(0) }
		return z
	}
	switch backend {
	case "bind":
		l := dnstest.Start(t, "example.test", extra...)
		p, s := dnstest.StartProxy(t, l.Primary.Addr, 0), dnstest.StartProxy(t, l.Secondary.Addr, 0)
		return counted(zoneLab{backend, fmt.Sprintf("dns_zone \"example\" {\n  name           = \"example.test\"\n  server         = %q\n  nameservers    = [%q, %q]", p.Addr, p.Addr, s.Addr) + tsig,
			map[string]string{"tsig.secret": l.Secret}, bindAuthorities(l.Servers()...), nil, nil, nil}, p, s)
	case "knot":
		l := knottest.Start(t, "example.test", knottest.Options{RRSIGLifetime: 48 * time.Hour, RRSIGRefresh: 24 * time.Hour}, extra...)
		p := dnstest.StartProxy(t, l.Addr, 0)
		return counted(zoneLab{backend, fmt.Sprintf("dns_zone \"example\" {\n  name           = \"example.test\"\n  server         = %q\n  nameservers    = [%q]", p.Addr, p.Addr) + tsig,
			map[string]string{"tsig.secret": l.Secret}, []authority{{Addr: l.Addr, Signed: true, query: l.Query}}, nil, nil, nil}, p)
	case "powerdns":
		l := pdnstest.Start(t, "example.test", extra...)
		url, n := testutil.CountingProxy(t, l.API)
		return countedAPI(zoneLab{backend, api("powerdns", url, l.DNS, "\n  require_dnssec = true"), map[string]string{"api.token": l.Key},
			[]authority{{Addr: l.DNS, Signed: true, query: l.Query}}, nil, nil, nil}, n)
	case "desec", "cloudflare":
		if len(extra) > 0 {
			t.Fatalf("the %s lab takes no extra records", backend)
		}
		var url, dnsAddr, token string
		if backend == "desec" {
			srv := desectest.Start(t, "example.test", "desec-token-0123456789")
			url, dnsAddr, token = srv.URL, srv.DNS, srv.Token
		} else {
			srv := cftest.Start(t, "example.test", "cf-token-0123456789")
			url, dnsAddr, token = srv.URL, srv.DNS, srv.Token
		}
		url, n := testutil.CountingProxy(t, url)
		ask := func(t testing.TB, name string, qtype uint16) *mdns.Msg {
			m := new(mdns.Msg)
			m.SetQuestion(mdns.Fqdn(name), qtype)
			r, err := mdns.Exchange(m, dnsAddr)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		return countedAPI(zoneLab{backend, api(backend, url, dnsAddr, ""), map[string]string{"api.token": token},
			[]authority{{Addr: dnsAddr, query: ask}}, nil, nil, nil}, n)
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

// TestPlanObservesZoneInConstantRequests: a plan observes a zone with the
// same number of requests whether it holds 10 RRsets trustform manages or
// 40, on every backend: one transfer (and a serial per other server, the
// DNSKEY and MX once) over RFC 2136, one listing through an API. The
// servers' answers that prove visibility are not counted for an API zone:
// there each RRset is asked of each authoritative server, together. And
// the zone's secret (TSIG secret, API token) is in no output, no file
// trustform wrote, and not in the TRUSTFORM_LOG=DEBUG log of what was
// asked.
func TestPlanObservesZoneInConstantRequests(t *testing.T) {
	for _, backend := range zoneBackends {
		t.Run(backend, func(t *testing.T) {
			zone := startZone(t, backend)
			dir := t.TempDir()
			zone.writeSecrets(t, dir)
			counts := map[int]int64{}
			var outputs []string
			for _, n := range []int{10, 40} {
				ports := []string{`"25"`}
				for i := 1; i < n; i++ {
					ports = append(ports, fmt.Sprintf(`"%d"`, 1000+i))
				}
				cfg := zone.block + fmt.Sprintf(`

variable "ports" {
  type    = set(string)
  default = [%s]
}

local_ca "ca" {}

certificate "www" {
  domains   = ["www.example.test"]
  issuer    = local_ca.ca
  key_type  = "ec256"
  cert_file = "www.pem"
  key_file  = "www.key"
}

tlsa "www" {
  for_each    = var.ports
  zone        = dns_zone.example
  name        = "_${each.key}._tcp.www"
  certificate = certificate.www
  ttl         = 3600
}
`, strings.Join(ports, ", "))
				os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
				r := tf(t, dir, "apply", "-auto-approve", "-propagation-wait=10s")
				mustCode(t, r, 0, fmt.Sprintf("apply of %d RRsets", n))
				outputs = append(outputs, r.stdout, r.stderr)
				zone.reset()
				r = tfEnv(t, dir, []string{"TRUSTFORM_LOG=DEBUG"}, "plan", "-detailed-exitcode", "-out=saved.plan")
				mustCode(t, r, 0, fmt.Sprintf("plan of %d RRsets", n))
				if !strings.Contains(r.stderr, `level=DEBUG msg="dns: `) { // what was asked of the zone, its secret left out (below)
					t.Errorf("%s: TRUSTFORM_LOG=DEBUG logs nothing of the zone:\n%s", backend, r.stderr)
				}
				counts[n] = zone.requests()
				if zone.perServer != nil { // one transfer from the primary, one SOA of each other server: nothing per RRset
					if got := zone.perServer(); slices.ContainsFunc(got, func(m int64) bool { return m != 1 }) {
						t.Errorf("%s: a plan of %d RRsets sent %v messages to the servers (primary first); want one each", backend, n, got)
					}
				}
				outputs = append(outputs, r.stdout, r.stderr)
			}
			for _, args := range [][]string{{"show", "-json", "saved.plan"}, {"state", "pull"}} {
				r := tf(t, dir, args...)
				outputs = append(outputs, r.stdout, r.stderr)
			}
			filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && zone.secrets[d.Name()] == "" {
					b, _ := os.ReadFile(path)
					outputs = append(outputs, path+":\n"+string(b))
				}
				return nil
			})
			for _, secret := range zone.secrets {
				for _, o := range outputs {
					if strings.Contains(o, strings.TrimSpace(secret)) {
						t.Errorf("the zone's secret is in:\n%s", o)
					}
				}
			}
			t.Logf("%s: a plan of 10 RRsets made %d requests, of 40 RRsets %d", backend, counts[10], counts[40])
			if counts[10] != counts[40] || counts[40] == 0 || counts[40] > 6 {
				t.Errorf("%s: a plan of 10 RRsets made %d requests, of 40 RRsets %d: want the same few", backend, counts[10], counts[40])
			}
		})
	}
}
