package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustform/trustform/internal/testutil"
	"github.com/trustform/trustform/providers/acme/pebbletest"
	"github.com/trustform/trustform/providers/webserver/nginxtest"
)

// BenchmarkIssue20 issues 20 certificates over http-01 through the webroot
// of a real nginx, against a local Pebble: trustform in one apply (issues
// side by side, -parallelism 10), and the lego CLI once per certificate, one
// after another, as a shell loop or cron job runs it. Each iteration starts
// with a fresh account.
func BenchmarkIssue20(b *testing.B) {
	lab := nginxtest.Start(b)
	var port int
	fmt.Sscan(lab.HTTP[strings.LastIndex(lab.HTTP, ":")+1:], &port)
	pebble := pebbletest.Start(b, pebbletest.Options{HTTPPort: port})
	webroot := filepath.Join(lab.Prefix, "acme")
	var names, certs []string
	for i := range 20 {
		names = append(names, fmt.Sprintf("h%02d.example.test", i))
		certs = append(certs, fmt.Sprintf(`certificate "h%02d" {
  domains   = ["h%02d.example.test"]
  issuer    = acme_account.pebble
  challenge = "http-01"
  cert_file = "certs/h%02d.pem"
  key_file  = "certs/h%02d.key"
}
`, i, i, i, i))
	}
	cfg := acmeAccount(pebble) + strings.Join(certs, "\n") + fmt.Sprintf(`
vhost "http" {
  server         = "nginx"
  config_file    = "%s/http.conf"
  listen         = %q
  server_names   = ["%s"]
  acme_webroot   = %q
  test_command   = %q
  reload_command = %q
}
`, lab.Sites, lab.HTTP, strings.Join(names, `", "`), webroot, lab.TestCommand, lab.ReloadCommand)

	b.Run("trustform", func(b *testing.B) {
		for b.Loop() {
			dir := b.TempDir()
			os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
			mustCode(b, tf(b, dir, "apply", "-auto-approve"), 0, "apply")
		}
	})
	b.Run("lego-cli-sequential", func(b *testing.B) {
		lego, err := exec.LookPath("lego")
		if err != nil {
			b.Skip("the lego CLI is not on PATH")
		}
		for b.Loop() {
			path := b.TempDir()
			for _, n := range names {
				cmd := exec.Command(lego, "--server", pebble.Directory, "--email", "hostmaster@example.test", "--accept-tos",
					"--path", path, "--key-type", "ec256", "--http", "--http.webroot", webroot, "--domains", n, "run")
				cmd.Env = append(os.Environ(), "LEGO_CA_CERTIFICATES="+pebble.RootsFile)
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("lego %s: %v\n%s", n, err, out)
				}
			}
		}
	})
}

// BenchmarkDNS01x20 issues 20 certificates over dns-01 through real BIND
// (RFC 2136 with TSIG) on a local Pebble: trustform in one apply (orders
// side by side, their challenges in one UPDATE), certbot with its rfc2136
// plugin one certificate after another, and the lego CLI in a loop, the
// three interleaved in every iteration (medians and the ratios). Each run
// starts with a fresh account. bench/dns01.sh installs the anchors.
func BenchmarkDNS01x20(b *testing.B) {
	var names []string
	for i := range 20 {
		names = append(names, fmt.Sprintf("n%02d", i))
	}
	cfgDir, pebble, lab := dnsSetup(b, 0, names...)
	cfg, _ := os.ReadFile(filepath.Join(cfgDir, "main.hcl"))
	host, port, _ := strings.Cut(lab.Primary.Addr, ":")
	certbot, err := exec.LookPath("certbot")
	if err != nil {
		b.Fatal("certbot is not on PATH (bench/dns01.sh installs it)")
	}
	lego, err := exec.LookPath("lego")
	if err != nil {
		b.Fatal("the lego CLI is not on PATH (bench/dns01.sh installs it)")
	}
	trustform := func(b *testing.B) {
		dir := b.TempDir()
		os.WriteFile(filepath.Join(dir, "main.hcl"), cfg, 0o644)
		os.WriteFile(filepath.Join(dir, "tsig.secret"), []byte(lab.Secret), 0o600)
		mustCode(b, tf(b, dir, "apply", "-auto-approve"), 0, "apply")
	}
	certbotRun := func(b *testing.B) {
		dir := b.TempDir()
		creds := filepath.Join(dir, "rfc2136.ini")
		os.WriteFile(creds, fmt.Appendf(nil, "dns_rfc2136_server = %s\ndns_rfc2136_port = %s\ndns_rfc2136_name = trustform-key.\ndns_rfc2136_secret = %s\ndns_rfc2136_algorithm = HMAC-SHA256\n", host, port, lab.Secret), 0o600)
		for _, n := range names {
			cmd := exec.Command(certbot, "certonly", "--non-interactive", "--agree-tos", "-m", "hostmaster@example.test",
				"--server", pebble.Directory, "--config-dir", dir+"/etc", "--work-dir", dir+"/work", "--logs-dir", dir+"/logs",
				"--key-type", "ecdsa", "--dns-rfc2136", "--dns-rfc2136-credentials", creds, "--dns-rfc2136-propagation-seconds", "1",
				"-d", n+".example.test")
			cmd.Env = append(os.Environ(), "REQUESTS_CA_BUNDLE="+pebble.RootsFile)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("certbot %s: %v\n%s", n, err, out)
			}
		}
	}
	legoRun := func(b *testing.B) {
		path := b.TempDir()
		for _, n := range names {
			cmd := exec.Command(lego, "--server", pebble.Directory, "--email", "hostmaster@example.test", "--accept-tos",
				"--path", path, "--key-type", "ec256", "--dns", "rfc2136", "--dns.resolvers", lab.Primary.Addr,
				"--dns.propagation-disable-ans", "--domains", n+".example.test", "run")
			cmd.Env = append(os.Environ(), "LEGO_CA_CERTIFICATES="+pebble.RootsFile, "RFC2136_NAMESERVER="+lab.Primary.Addr,
				"RFC2136_TSIG_KEY=trustform-key.", "RFC2136_TSIG_SECRET="+lab.Secret, "RFC2136_TSIG_ALGORITHM=hmac-sha256.",
				"RFC2136_POLLING_INTERVAL=1", "RFC2136_PROPAGATION_TIMEOUT=120")
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("lego %s: %v\n%s", n, err, out)
			}
		}
	}
	b.Run("interleaved", func(b *testing.B) {
		testutil.Interleaved(b, testutil.Measured{Name: "trustform", Run: trustform},
			testutil.Measured{Name: "certbot", Run: certbotRun}, testutil.Measured{Name: "lego", Run: legoRun})
	})
}
