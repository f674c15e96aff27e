package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustform/trustform/internal/labutil"
	"github.com/trustform/trustform/internal/testutil"
	"github.com/trustform/trustform/providers/acme/pebbletest"
	"github.com/trustform/trustform/providers/dns/dnstest"
	"github.com/trustform/trustform/providers/nginx/nginxtest"
)

// daneLab is examples/dane-rollover wired to real BIND (primary and
// secondary), Pebble and nginx.
type daneLab struct {
	dir         string
	dns         *dnstest.Lab
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
	return &daneLab{dir: dir, dns: dns, https: https, smtp: smtp, services: map[string]string{https: web.HTTPS, smtp: submission}}
}

// watch starts the independent DANE checker on both services.
func (l *daneLab) watch(t *testing.T) (stop func() (int, []string)) {
	return watchDANE(t, l.dir, []*dnstest.Named{l.dns.Primary, l.dns.Secondary}, l.services)
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
	if len(after) != 1 || after[0] == before[0] || !strings.HasSuffix(after[0], servedSPKIOf(t, lab.services[https])) {
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

func servedSPKIOf(t *testing.T, addr string) string {
	spki, err := handshakeSPKI(addr, "www.example.test")
	if err != nil {
		t.Fatal(err)
	}
	return spki
}
