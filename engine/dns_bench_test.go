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
// refused (the questions side by side). dig-ms is `dig +dnssec -f` asking
// the same 2,000 questions of the primary, one after another.
// bench/observe2000.sh prints the ratio.
func BenchmarkPlanTLSA2000(b *testing.B) {
	const n = 2000
	lab := dnstest.Start(b, "example.test")
	publish(b, lab, n)
	primary := dnstest.DelayProxy(b, lab.Primary.Addr, 20*time.Millisecond)
	secondary := dnstest.DelayProxy(b, lab.Secondary.Addr, 20*time.Millisecond)
	dig := digTime(b, primary, n)
	dir := tlsaConfig(b, lab, primary, []string{primary, secondary}, n)
	plan := func(b *testing.B) {
		for b.Loop() {
			cfg, diags := kinds.Load(dir, schema.Inputs{})
			if diags.HasErrors() {
				b.Fatal(diags)
			}
			run, diags := engine.New(cfg, &state.State{Resources: map[string]*state.Resource{}}, kinds.Bind, engine.Options{Parallelism: 10})
			if diags.HasErrors() {
				b.Fatal(diags)
			}
			if d := run.Observe(context.Background()); d.HasErrors() {
				b.Fatal(d)
			}
			if _, d := run.Plan(); d.HasErrors() {
				b.Fatal(d)
			}
		}
		b.ReportMetric(float64(dig.Milliseconds()), "dig-ms")
	}
	b.Run("forwarder-20ms/transfer", plan)
	lab.DenyTransfer(b)
	b.Run("forwarder-20ms/questions", plan)
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

// digTime is how long dig takes for the same n questions, sequentially.
func digTime(b *testing.B, addr string, n int) time.Duration {
	dig, err := exec.LookPath("dig")
	if err != nil {
		b.Skip("dig is not installed (bind9-dnsutils)")
	}
	host, port, _ := net.SplitHostPort(addr)
	var q strings.Builder
	for i := range n {
		fmt.Fprintf(&q, "_443._tcp.h%d.example.test TLSA\n", i)
	}
	file := filepath.Join(b.TempDir(), "queries")
	os.WriteFile(file, []byte(q.String()), 0o644)
	start := time.Now()
	out, err := exec.Command(dig, "+dnssec", "+tries=1", "+time=2", "-p", port, "@"+host, "-f", file).CombinedOutput()
	elapsed := time.Since(start)
	if err != nil {
		b.Fatalf("dig: %v\n%s", err, out)
	}
	if got := strings.Count(string(out), "status: NOERROR"); got != n {
		b.Fatalf("dig got %d NOERROR answers of %d", got, n)
	}
	return elapsed
}
