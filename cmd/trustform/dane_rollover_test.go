package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/trustform/trustform/internal/labutil"
	"github.com/trustform/trustform/internal/testutil"
	"github.com/trustform/trustform/providers/acme/pebbletest"
	"github.com/trustform/trustform/providers/dns/dnstest"
	"github.com/trustform/trustform/providers/webserver/nginxtest"
)

// daneLab is examples/dane-rollover wired to real BIND (primary and
// secondary), Pebble and nginx.
type daneLab struct {
	dir         string
	dns         *dnstest.Lab
	pebble      *pebbletest.Lab
	https, smtp string // TLSA owner names of the two services
	services    map[string]string
}

func startDANELab(t *testing.T, edit func(cfg string) string) *daneLab {
	dns := dnstest.Start(t, "example.test", "www IN A 127.0.0.1")
	web := nginxtest.Start(t)
	pebble := pebbletest.Start(t, pebbletest.Options{HTTPPort: 1, DNSServer: dns.Primary.Addr})
	submission := fmt.Sprintf("127.0.0.1:%d", labutil.FreePort(t))
	port := func(addr string) string { return addr[strings.LastIndex(addr, ":")+1:] }

	dir := testutil.CopyDir(t, filepath.Join("..", "..", "examples", "dane-rollover"))
	b, _ := os.ReadFile(filepath.Join(dir, "main.hcl"))
	cfg := strings.NewReplacer(
		"127.0.0.1:5353", dns.Primary.Addr, "127.0.0.1:5354", dns.Secondary.Addr,
		"https://127.0.0.1:14000/dir", pebble.Directory,
		"127.0.0.1:8443", web.HTTPS, "port          = 8443", "port          = "+port(web.HTTPS),
		"127.0.0.1:8465", submission, "port          = 8465", "port          = "+port(submission),
		"out/nginx/https.conf", web.Sites+"/https.conf", "out/nginx/submission.conf", web.Sites+"/submission.conf",
		"nginx -t -p out/nginx -c nginx.conf", web.TestCommand, "nginx -s reload -p out/nginx -c nginx.conf", web.ReloadCommand,
	).Replace(string(b))
	if edit != nil {
		cfg = edit(cfg)
	}
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
	os.WriteFile(filepath.Join(dir, "tsig.secret"), []byte(dns.Secret), 0o600)
	roots, _ := os.ReadFile(pebble.RootsFile)
	os.WriteFile(filepath.Join(dir, "pebble-roots.pem"), roots, 0o644)
	https, smtp := "_"+port(web.HTTPS)+"._tcp.www.example.test.", "_"+port(submission)+"._tcp.www.example.test."
	return &daneLab{dir: dir, dns: dns, pebble: pebble, https: https, smtp: smtp, services: map[string]string{https: web.HTTPS, smtp: submission}}
}

// watch starts the independent DANE checker on both services.
func (l *daneLab) watch(t *testing.T) (stop func() (int, []string)) {
	return watchDANE(t, l.dir, bindAuthorities(l.dns.Servers()...), l.services)
}

// TestDANERolloverExample runs examples/dane-rollover against real BIND
// (primary and secondary), Pebble and nginx: a first deployment, then an
// emergency key replacement (-replace) with the whole rollover in one
// apply -wait, while the independent checker watches both TLS services.
func TestDANERolloverExample(t *testing.T) {
	lab := startDANELab(t, nil)
	dir, dns, https, smtp := lab.dir, lab.dns, lab.https, lab.smtp
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-propagation-wait=10s"), 0, "first deployment")
	// The built-in DANE check: both services serve a published key.
	mustCode(t, tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode"), 0, "DANE check after the deployment")
	before := served(t, dns.Primary, https)

	stop := lab.watch(t)
	r := tf(t, dir, "apply", "-auto-approve", "-wait", "-propagation-wait=10s", "-replace=certificate.www")
	checks, violations := stop()
	mustCode(t, r, 0, "apply -replace -wait")
	after := served(t, dns.Primary, https)
	if len(after) != 1 || after[0] == before[0] || !strings.HasSuffix(after[0], servedSPKI(t, lab.services[https], "www.example.test")) {
		t.Errorf("after the replacement the RRset is %v (before %v)", after, before)
	}
	if got := served(t, dns.Secondary, smtp); len(got) != 1 || got[0] != after[0] {
		t.Errorf("the secondary publishes %v for the second service", got)
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after the replacement")
	t.Logf("%d invariant checks during the replacement, %d violations", checks, len(violations))
	if len(violations) > 0 {
		t.Errorf("moments without a published record for a served key:\n%s\n%s", strings.Join(violations, "\n"), r.stderr)
	}
}

// TestDANETARollover: a DANE-TA RRset (2 1 1) pins the CA that issues the
// certificate, beside a 3 1 1 record at the same owner (another tlsa block).
// When the CA changes (here: a second Pebble, with its own intermediate, as
// when a CA rotates intermediates), the certificate is issued into a staged
// file first, the new CA's record published beside the old, and the
// certificate deployed only after rollover_wait; the plan warns when the
// served CA is not covered, and apply repairs it. Real BIND, two Pebbles,
// nginx, and the independent checker throughout.
func TestDANETARollover(t *testing.T) {
	lab := startDANELab(t, func(cfg string) string {
		cfg = strings.ReplaceAll(cfg, `rollover_wait = "10s"`, `rollover_wait = "3s"`)
		// The HTTPS owner has both: 2 1 1 (tlsa.https) and 3 1 1 (tlsa.https_ee).
		i := strings.Index(cfg, `tlsa "https" {`)
		block := cfg[i : i+strings.Index(cfg[i:], "\n}\n")+3]
		cfg += "\n" + strings.Replace(block, `tlsa "https"`, `tlsa "https_ee"`, 1)
		return strings.Replace(cfg, `tlsa "https" {`, "tlsa \"https\" {\n  usage         = 2", 1)
	})
	dir := lab.dir
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-propagation-wait=10s"), 0, "first deployment")
	before := handshakeRecordsOf(t, lab.services[lab.https])
	caA := before[1]
	waitServed(t, lab.dns.Secondary, lab.https, slices.Sorted(slices.Values(before)))

	second := pebbletest.Start(t, pebbletest.Options{HTTPPort: 1, DNSServer: lab.dns.Primary.Addr})
	cfg, _ := os.ReadFile(filepath.Join(dir, "main.hcl"))
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(strings.Replace(string(cfg), lab.pebble.Directory, second.Directory, 1)), 0o644)
	roots, _ := os.ReadFile(second.RootsFile)
	f, _ := os.OpenFile(filepath.Join(dir, "pebble-roots.pem"), os.O_APPEND|os.O_WRONLY, 0)
	f.Write(roots)
	f.Close()

	p := tf(t, dir, "plan", "-replace=certificate.www")
	for _, want := range []string{`certificate.www +stage-cert`, `tlsa.https +publish`, `certificate.www +deploy-next +after [0-9,]+ +not before`} {
		if !regexp.MustCompile(want).MatchString(p.stdout) {
			t.Errorf("the plan has no %q:\n%s", want, p.stdout)
		}
	}
	stop := lab.watch(t)
	r := tf(t, dir, "apply", "-auto-approve", "-wait", "-propagation-wait=10s", "-replace=certificate.www")
	checks, violations := stop()
	mustCode(t, r, 0, "apply -replace -wait with a new CA")
	served := handshakeRecordsOf(t, lab.services[lab.https])
	caB := served[1]
	if caB == caA {
		t.Fatalf("the second Pebble issued under the same CA key %s", caA)
	}
	for _, n := range lab.dns.Servers() {
		waitServed(t, n, lab.https, slices.Sorted(slices.Values(served)))
		waitServed(t, n, lab.smtp, []string{served[0]})
	}
	t.Logf("%d invariant checks while the CA changed, %d violations", checks, len(violations))
	if len(violations) > 0 {
		t.Errorf("moments without a published record for the served chain:\n%s\n%s", strings.Join(violations, "\n"), r.stderr)
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after the CA change")

	// The served CA's record replaced behind trustform's back (by the old
	// CA's): a warning, drift, and apply puts it back.
	lab.dns.Edit(t, []string{lab.https + " 5 IN TLSA " + caB}, []string{lab.https + " 5 IN TLSA " + caA})
	waitServed(t, lab.dns.Secondary, lab.https, slices.Sorted(slices.Values([]string{caA, served[0]})))
	d := tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode")
	mustCode(t, d, 2, "refresh-only without the CA's record")
	if !strings.Contains(d.stderr, "the issuing CA in the served chain is not covered") {
		t.Errorf("no warning about the uncovered CA:\n%s", d.stderr)
	}
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-propagation-wait=10s"), 0, "repair")
	waitServed(t, lab.dns.Secondary, lab.https, slices.Sorted(slices.Values(served)))
}

func handshakeRecordsOf(t *testing.T, addr string) []string {
	t.Helper()
	recs, err := handshakeRecords(addr, "www.example.test")
	if err != nil || len(recs) < 3 {
		t.Fatalf("handshake with %s: %v %v", addr, recs, err)
	}
	return recs[:2] // the 3 1 1 and 2 1 1 records: what this configuration publishes
}
