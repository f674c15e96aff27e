package engine_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/engine"
	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/internal/testutil"
	"github.com/trustform/trustform/kinds"
	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/providers/dns/dnstest"
	"github.com/trustform/trustform/schema"
)

// BenchmarkPlanTLSA2000 is a whole plan (read the configuration, observe,
// diff, order) of 2,000 published TLSA RRsets of a zone on a local BIND
// primary and secondary, each behind a forwarder that adds 20 ms to every
// answer (a remote server's round trip), with the default flags: first by
// zone transfer (one AXFR, one SOA per server), then with the transfer
// refused (the questions side by side). Each plan is interleaved with its
// anchor, `dig +dnssec -f` asking the same 2,000 questions of the primary,
// one after another (medians and their ratio). bench/observe2000.sh runs it.
func BenchmarkPlanTLSA2000(b *testing.B) {
	const n = 2000
	lab := dnstest.Start(b, "example.test")
	publish(b, lab, n)
	primary := dnstest.DelayProxy(b, lab.Primary.Addr, 20*time.Millisecond)
	secondary := dnstest.DelayProxy(b, lab.Secondary.Addr, 20*time.Millisecond)
	var questions []string
	for i := range n {
		questions = append(questions, fmt.Sprintf("_443._tcp.h%d.example.test", i))
	}
	dir := tlsaConfig(b, lab, primary, []string{primary, secondary}, n)
	plan := func(b *testing.B) {
		run := newRun(b, dir, &state.State{Resources: map[string]*state.Resource{}})
		defer run.Close()
		if _, d := run.Plan(); d.HasErrors() {
			b.Fatal(d)
		}
	}
	dig := func(b *testing.B) { digQuestions(b, primary, questions) }
	b.Run("forwarder-20ms/transfer", func(b *testing.B) {
		testutil.Interleaved(b, testutil.Measured{Name: "plan", Run: plan}, testutil.Measured{Name: "dig", Run: dig})
	})
	lab.DenyTransfer(b)
	b.Run("forwarder-20ms/questions", func(b *testing.B) {
		testutil.Interleaved(b, testutil.Measured{Name: "plan", Run: plan}, testutil.Measured{Name: "dig", Run: dig})
	})
}

// BenchmarkPlanMixed1000 is the plan after apply of a mixed fleet: 1,000
// certificates (a local CA), each pinned by two TLSA RRsets (HTTPS and
// SMTP, the SMTP ones checked against the zone's MX) in a signed zone with
// require_dnssec, on a BIND primary and secondary each behind a forwarder
// that adds 20 ms; interleaved with `dig +dnssec -f` of the same 2,000
// questions. bench/observe2000.sh runs it.
func BenchmarkPlanMixed1000(b *testing.B) {
	const certs = 1000
	lab := dnstest.Start(b, "example.test", "@ IN MX 10 h0.example.test.")
	primary := dnstest.DelayProxy(b, lab.Primary.Addr, 20*time.Millisecond)
	secondary := dnstest.DelayProxy(b, lab.Secondary.Addr, 20*time.Millisecond)
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "tsig.secret"), []byte(lab.Secret), 0o600)
	var cfg strings.Builder
	fmt.Fprintf(&cfg, `dns_zone "z" {
  name           = "example.test"
  server         = %q
  nameservers    = [%q, %q]
  require_dnssec = true
  tsig {
    name        = %q
    secret_file = "tsig.secret"
  }
}
local_ca "ca" {}
`, lab.Primary.Addr, lab.Primary.Addr, lab.Secondary.Addr, dnstest.KeyName)
	var questions []string
	for i := range certs {
		fmt.Fprintf(&cfg, `certificate "h%[1]d" {
  domains   = ["h%[1]d.example.test"]
  issuer    = local_ca.ca
  cert_file = "certs/h%[1]d.pem"
  key_file  = "certs/h%[1]d.key"
}
tlsa "h%[1]d_https" {
  zone        = dns_zone.z
  port        = 443
  hostname    = "h%[1]d.example.test"
  certificate = certificate.h%[1]d
}
tlsa "h%[1]d_smtp" {
  zone        = dns_zone.z
  port        = 25
  hostname    = "h%[1]d.example.test"
  certificate = certificate.h%[1]d
}
`, i)
		questions = append(questions, fmt.Sprintf("_443._tcp.h%d.example.test", i), fmt.Sprintf("_25._tcp.h%d.example.test", i))
	}
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg.String()), 0o644)
	// Applied directly, then planned through the forwarders.
	st := &state.State{Version: state.Version, Resources: map[string]*state.Resource{}}
	run := newRun(b, dir, st)
	p, d := run.Plan()
	if d.HasErrors() {
		b.Fatal(d)
	}
	out, err := run.Apply(context.Background(), p, engine.ApplyOptions{Wait: true, Save: func(*state.State) error { return nil }, PropagationWait: time.Minute})
	if err != nil || len(out.Held) > 0 {
		b.Fatalf("apply: %v, %d held", err, len(out.Held))
	}
	run.Close()
	saved := filepath.Join(b.TempDir(), "state.json")
	if err := st.Save(saved); err != nil {
		b.Fatal(err)
	}
	cfgText := strings.ReplaceAll(cfg.String(), fmt.Sprintf("server         = %q\n  nameservers    = [%q, %q]", lab.Primary.Addr, lab.Primary.Addr, lab.Secondary.Addr),
		fmt.Sprintf("server         = %q\n  nameservers    = [%q, %q]", primary, primary, secondary))
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfgText), 0o644)
	plan := func(b *testing.B) {
		st, err := state.Load(saved)
		if err != nil {
			b.Fatal(err)
		}
		run := newRun(b, dir, st)
		defer run.Close()
		p, d := run.Plan()
		if d.HasErrors() || len(p.Steps) > 0 {
			b.Fatalf("the plan after apply: %v, %d steps", d, len(p.Steps))
		}
	}
	dig := func(b *testing.B) { digQuestions(b, primary, questions) }
	b.Run("forwarder-20ms", func(b *testing.B) {
		testutil.Interleaved(b, testutil.Measured{Name: "plan", Run: plan}, testutil.Measured{Name: "dig", Run: dig})
	})
}

// newRun reads the configuration in dir and observes it with st.
func newRun(b *testing.B, dir string, st *state.State) *engine.Run {
	b.Helper()
	cfg, diags := kinds.Load(dir, schema.Inputs{})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	run, diags := engine.New(cfg, st, kinds.Bind, engine.Options{Parallelism: 10})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	if d := run.Observe(context.Background()); d.HasErrors() {
		b.Fatal(d)
	}
	return run
}

// publish puts n TLSA RRsets into the lab's zone.
func publish(b *testing.B, lab *dnstest.Lab, n int) {
	s := &dns.Server{Origin: lab.Zone, Primary: lab.Primary.Addr, KeyName: dnstest.KeyName + ".", Algorithm: mdns.HmacSHA256, Secret: lab.Secret}
	ctx := context.Background()
	var sets []dns.RRset
	for i := range n {
		owner := fmt.Sprintf("_443._tcp.h%d.example.test.", i)
		if _, err := s.RRset(ctx, owner, mdns.TypeTLSA); err != nil {
			b.Fatal(err)
		}
		sets = append(sets, dns.RRset{Owner: owner, Type: mdns.TypeTLSA, TTL: 300, Records: []string{"3 1 1 " + strings.Repeat("ab", 32)}})
	}
	if err := s.Update(ctx, sets); err != nil {
		b.Fatal(err)
	}
}

// tlsaConfig writes a configuration of n TLSA RRsets in the lab's zone,
// its primary reached at addr, checked on nameservers.
func tlsaConfig(b *testing.B, lab *dnstest.Lab, addr string, nameservers []string, n int) string {
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "tsig.secret"), []byte(lab.Secret), 0o600)
	var s strings.Builder
	fmt.Fprintf(&s, `dns_zone "z" {
  name        = "example.test"
  server      = %q
  nameservers = ["%s"]
  tsig {
    name        = %q
    secret_file = "tsig.secret"
  }
}
local_ca "ca" {}
certificate "c" {
  domains   = ["example.test"]
  issuer    = local_ca.ca
  cert_file = "c.pem"
  key_file  = "c.key"
}
`, addr, strings.Join(nameservers, `", "`), dnstest.KeyName)
	for i := range n {
		fmt.Fprintf(&s, "tlsa \"h%d\" {\n  zone        = dns_zone.z\n  port        = 443\n  hostname    = \"h%d.example.test\"\n  certificate = certificate.c\n}\n", i, i)
	}
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(s.String()), 0o644)
	return dir
}

// digQuestions asks addr the TLSA questions with `dig +dnssec -f`, one
// after another.
func digQuestions(b *testing.B, addr string, questions []string) {
	dig, err := exec.LookPath("dig")
	if err != nil {
		b.Fatal("dig is not installed (bind9-dnsutils)")
	}
	host, port, _ := net.SplitHostPort(addr)
	file := filepath.Join(b.TempDir(), "queries")
	os.WriteFile(file, []byte(strings.Join(questions, " TLSA\n")+" TLSA\n"), 0o644)
	out, err := exec.Command(dig, "+dnssec", "+tries=1", "+time=2", "-p", port, "@"+host, "-f", file).CombinedOutput()
	if err != nil {
		b.Fatalf("dig: %v\n%s", err, out)
	}
	if got := strings.Count(string(out), "status: NOERROR"); got != len(questions) {
		b.Fatalf("dig got %d NOERROR answers of %d", got, len(questions))
	}
}
