package main

import (
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/internal/labutil"
	"github.com/trustform/trustform/providers/acme/pebbletest"
	"github.com/trustform/trustform/providers/dns/dnstest"
	"github.com/trustform/trustform/providers/dns/pdnstest"
	"github.com/trustform/trustform/providers/webserver/nginxtest"
)

func acmeAccount(pebble *pebbletest.Lab) string {
	return fmt.Sprintf(`acme_account "pebble" {
  directory = %q
  email     = "hostmaster@example.test"
  ca_roots  = [%q]
  terms_of_service_agreed = true
}
`, pebble.Directory, pebble.RootsFile)
}

// verifyChain checks the deployed chain against the CA's root.
func verifyChain(t *testing.T, path string, root *x509.Certificate, name string) {
	t.Helper()
	chain := readChain(t, path)
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root)
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: name}); err != nil {
		t.Errorf("the deployed chain does not verify against the CA's root: %v", err)
	}
}

// http-01 through the webroot of a real nginx HTTP vhost, which redirects
// everything else to HTTPS and takes its HSTS header from the HTTPS vhost.
func TestACMEHTTP01(t *testing.T) {
	lab := nginxtest.Start(t)
	_, port, _ := strings.Cut(lab.HTTP, ":")
	var httpPort int
	fmt.Sscan(port, &httpPort)
	pebble := pebbletest.Start(t, pebbletest.Options{HTTPPort: httpPort})
	dir := t.TempDir()
	webroot := filepath.Join(lab.Prefix, "acme")
	cfg := acmeAccount(pebble) + strings.Replace(
		webConfig("nginx", lab.Sites, lab.HTTPS, lab.HTTP, lab.TestCommand, lab.ReloadCommand, webroot, `  profile = "mozilla-intermediate"`),
		"  issuer    = local_ca.ca", "  issuer    = acme_account.pebble\n  challenge = \"http-01\"", 1)
	cfg = strings.Replace(cfg, `local_ca "ca" {}`, "", 1)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)

	r := tf(t, dir, "plan")
	mustCode(t, r, 0, "plan")
	for _, want := range []string{`2  \+ vhost.http +challenge +\[acme-challenge-not-redirected\]`, `3  \+ certificate.www +issue +after 1,2  \[acme-challenge-not-redirected\]`,
		`4  \+ vhost.https +write +after 3  \[hsts-on-http-vhost\]`, `5  \+ vhost.http +write +after 2,4`} {
		if !regexp.MustCompile(want).MatchString(r.stdout) {
			t.Errorf("plan lacks %s:\n%s", want, r.stdout)
		}
	}
	r = tf(t, dir, "apply", "-auto-approve")
	mustCode(t, r, 0, "apply")
	verifyChain(t, filepath.Join(dir, "certs/www.pem"), pebble.IssuingRoot(t), "www.example.test")
	waitFor(t, func() bool {
		return servedSPKI(t, lab.HTTPS, "www.example.test") == fileSPKI(t, filepath.Join(dir, "certs/www.pem"))
	})
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after apply")
	mustCode(t, tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode"), 0, "drift check after apply")

	// A hand edit serves the challenge path from another directory: the
	// drift check's token round trip says the next renewal fails (404).
	conf := filepath.Join(lab.Sites, "http.conf")
	good, _ := os.ReadFile(conf)
	os.WriteFile(conf, []byte(strings.ReplaceAll(string(good), webroot, lab.Prefix)), 0o644)
	run0(t, lab.ReloadCommand)
	r = tf(t, dir, "plan", "-refresh-only")
	for _, want := range []string{"acme-challenge-not-redirected: certificate.www would not renew", "404", "the next renewal fails the same way"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the drift check lacks %q:\n%s", want, r.stderr)
		}
	}
	os.WriteFile(conf, good, 0o644)
	run0(t, lab.ReloadCommand)

	// Neither the account key nor the certificate key is in state, plan JSON or output.
	state, _ := os.ReadFile(filepath.Join(dir, ".trustform/state.json"))
	planJSON := tf(t, dir, "plan", "-json").stdout + tfPlanJSON(t, dir, nil).stdout
	for _, keyFile := range []string{".trustform/acme/pebble/account.key", "certs/www.key"} {
		key, err := os.ReadFile(filepath.Join(dir, keyFile))
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Stat(filepath.Join(dir, keyFile)); st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v", keyFile, st.Mode().Perm())
		}
		body := strings.Join(strings.Split(string(key), "\n")[1:3], "\n") // key material, not the PEM header
		for name, text := range map[string]string{"state": string(state), "plan JSON": planJSON, "output": r.stdout + r.stderr} {
			if strings.Contains(text, body) || strings.Contains(text, "PRIVATE KEY") {
				t.Errorf("%s contains %s", name, keyFile)
			}
		}
	}
}

// An HTTP vhost that redirects the challenge path: plan fails with the
// rule's name, and nothing reaches the CA (no account is even registered).
func TestACMERedirectedChallengeRefused(t *testing.T) {
	pebble := pebbletest.Start(t, pebbletest.Options{HTTPPort: 1})
	dir := t.TempDir()
	cfg := acmeAccount(pebble) + `certificate "www" {
  domains   = ["example.test"]
  issuer    = acme_account.pebble
  challenge = "http-01"
  cert_file = "certs/www.pem"
  key_file  = "certs/www.key"
}
vhost "http" {
  server         = "nginx"
  config_file    = "http.conf"
  listen         = "80"
  server_names   = ["example.test"]
  redirect_https = true
  test_command   = ""
  reload_command = ""
}
`
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
	for _, cmd := range [][]string{{"plan"}, {"apply", "-auto-approve"}} {
		r := tf(t, dir, cmd...)
		mustCode(t, r, 1, strings.Join(cmd, " "))
		if !strings.Contains(r.stderr, "acme-challenge-not-redirected: the HTTP vhost redirects the challenge path") {
			t.Errorf("%s: stderr:\n%s", cmd[0], r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".trustform/acme")); !os.IsNotExist(err) {
		t.Error("an account was registered although the plan was refused")
	}
}

// dnsSetup is a BIND lab, a Pebble that resolves through it (rejecting
// nonceReject percent of good nonces), and a configuration directory with
// the account, the zone and certificates for the given names over dns-01.
func dnsSetup(t testing.TB, nonceReject int, names ...string) (string, *pebbletest.Lab, *dnstest.Lab) {
	lab := dnstest.Start(t, "example.test", "www IN A 127.0.0.1")
	pebble := pebbletest.Start(t, pebbletest.Options{HTTPPort: 1, DNSServer: lab.Primary.Addr, NonceReject: nonceReject})
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tsig.secret"), []byte(lab.Secret), 0o600)
	cfg := acmeAccount(pebble) + fmt.Sprintf(`dns_zone "example" {
  name        = "example.test"
  server      = %q
  nameservers = [%q]
  tsig {
    name        = "trustform-key"
    secret_file = "tsig.secret"
  }
}

`, lab.Primary.Addr, lab.Primary.Addr)
	for _, n := range names {
		cfg += fmt.Sprintf(`
certificate %q {
  domains   = ["%s.example.test"]
  issuer    = acme_account.pebble
  challenge = "dns-01"
  cert_file = "certs/%s.pem"
  key_file  = "certs/%s.key"
}
`, n, n, n, n)
	}
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
	return dir, pebble, lab
}

// dns-01 through the zone's RFC 2136 primary (real BIND) with its TSIG key;
// Pebble looks the TXT record up at that primary.
func TestACMEDNS01(t *testing.T) {
	dir, pebble, _ := dnsSetup(t, 0, "www")
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	verifyChain(t, filepath.Join(dir, "certs/www.pem"), pebble.IssuingRoot(t), "www.example.test")
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after apply")
	// Pebble has renewal information (ARI): its window for a fresh
	// certificate lies ahead, so nothing is due.
	st, _ := os.ReadFile(filepath.Join(dir, ".trustform/state.json"))
	if !strings.Contains(string(st), `"renew_from"`) {
		t.Errorf("the CA's renewal window was not observed:\n%s", st)
	}
}

// TestACMENonceRejections: with half of the good nonces rejected
// (PEBBLE_WFE_NONCEREJECT=50), three applies in a row, each ordering two
// certificates, all succeed: lego's own 20 s of badNonce retries per
// request run out now and then on a loaded machine, and trustform retries
// the order as a whole within its budget (acme.RetryBudget).
func TestACMENonceRejections(t *testing.T) {
	dir, pebble, _ := dnsSetup(t, 50, "www", "mail")
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply 1 with PEBBLE_WFE_NONCEREJECT=50")
	for i := 2; i <= 3; i++ {
		mustCode(t, tf(t, dir, "apply", "-auto-approve", "-replace=certificate.*"), 0, fmt.Sprintf("apply %d with PEBBLE_WFE_NONCEREJECT=50", i))
	}
	verifyChain(t, filepath.Join(dir, "certs/mail.pem"), pebble.IssuingRoot(t), "mail.example.test")
}

// The CA goes away during a renewal: the old certificate stays deployed, the
// error names the certificate, and once the CA is back (having forgotten the
// account, as Pebble does) a later apply completes.
func TestACMEOutage(t *testing.T) {
	dir, pebble, _ := dnsSetup(t, 0, "www")
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	before, _ := os.ReadFile(filepath.Join(dir, "certs/www.pem"))
	later := time.Now().Add(70 * 24 * time.Hour) // 20 days before the 90-day certificate expires

	pebble.Stop()
	r := tfAt(t, dir, later, "apply", "-auto-approve")
	mustCode(t, r, 1, "apply while the CA is down")
	if !strings.Contains(r.stderr, "(certificate.www issue) failed") || !strings.Contains(r.stderr, "acme_account.pebble") {
		t.Errorf("the error does not name the certificate and its issuer:\n%s", r.stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "certs/www.pem")); string(after) != string(before) {
		t.Fatal("the deployed certificate changed although the renewal failed")
	}

	pebble.Restart(t)
	mustCode(t, tfAt(t, dir, later, "apply", "-auto-approve"), 0, "apply once the CA is back")
	if after, _ := os.ReadFile(filepath.Join(dir, "certs/www.pem")); string(after) == string(before) {
		t.Error("the certificate was not renewed")
	}
	verifyChain(t, filepath.Join(dir, "certs/www.pem"), pebble.IssuingRoot(t), "www.example.test")
}

// Keys and DANE with an ACME issuer, TLSA on the real BIND zone: a renewal
// that reuses the key leaves the TLSA record alone (no gate); a key change
// goes through staged key → TLSA → gate → certificate → old record removed.
func TestACMEKeysAndTLSA(t *testing.T) {
	dir, pebble, lab := dnsSetup(t, 0, "www")
	cfgPath := filepath.Join(dir, "main.hcl")
	base, _ := os.ReadFile(cfgPath)
	cfg := string(base) + `
tlsa "www" {
  zone          = dns_zone.example
  port          = 443
  hostname      = "www.example.test"
  certificate   = certificate.www
  ttl           = 60
  rollover_wait = "2s"
}
`
	os.WriteFile(cfgPath, []byte(cfg), 0o644)
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-propagation-wait=5s"), 0, "apply")
	owner := "_443._tcp.www.example.test."
	first := served(t, lab.Primary, owner)
	if len(first) != 1 || !strings.HasSuffix(first[0], fileSPKI(t, filepath.Join(dir, "certs/www.pem"))) {
		t.Fatalf("TLSA %v does not pin the certificate", first)
	}

	later := time.Now().Add(70 * 24 * time.Hour) // 20 days before the 90-day certificate expires
	r := tfPlanJSON(t, dir, []string{"TRUSTFORM_TEST_NOW=" + later.UTC().Format(time.RFC3339)})
	if strings.Contains(r.stdout, `"address": "tlsa.www"`) || strings.Contains(r.stdout, `"not_before": "`) {
		t.Errorf("a renewal with the same key touches TLSA or waits:\n%s", r.stdout)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "certs/www.pem"))
	mustCode(t, tfAt(t, dir, later, "apply", "-auto-approve"), 0, "renewal")
	after, _ := os.ReadFile(filepath.Join(dir, "certs/www.pem"))
	if string(before) == string(after) || !strings.HasSuffix(first[0], fileSPKI(t, filepath.Join(dir, "certs/www.pem"))) {
		t.Fatal("the renewal did not keep the key")
	}

	os.WriteFile(cfgPath, []byte(strings.Replace(cfg, `challenge = "dns-01"`, "challenge = \"dns-01\"\n  key_type  = \"ec384\"", 1)), 0o644)
	r = tf(t, dir, "plan")
	for _, want := range []string{`stage-key`, `publish`, `deploy-next +after 1,2  not before`, `prune`} {
		if !regexp.MustCompile(want).MatchString(r.stdout) {
			t.Errorf("rollover plan lacks %s:\n%s", want, r.stdout)
		}
	}
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-wait", "-propagation-wait=5s"), 0, "rollover")
	now := served(t, lab.Primary, owner)
	if len(now) != 1 || now[0] == first[0] || !strings.HasSuffix(now[0], fileSPKI(t, filepath.Join(dir, "certs/www.pem"))) {
		t.Fatalf("after the rollover TLSA is %v; the old record was %v", now, first)
	}
	verifyChain(t, filepath.Join(dir, "certs/www.pem"), pebble.IssuingRoot(t), "www.example.test")
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after the rollover")
}

// No vhost serves the name: lego's own http-01 server answers on http_address.
func TestACMEHTTP01BuiltInServer(t *testing.T) {
	var port int
	addr := fmt.Sprintf("127.0.0.1:%d", labutil.FreePort(t))
	fmt.Sscan(addr[strings.LastIndex(addr, ":")+1:], &port)
	pebble := pebbletest.Start(t, pebbletest.Options{HTTPPort: port})
	dir := builtInServerConfig(t, pebble, addr)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	verifyChain(t, filepath.Join(dir, "certs/api.pem"), pebble.IssuingRoot(t), "api.example.test")
}

// builtInServerConfig is a directory holding a configuration of one
// certificate, api.example.test from pebble, over http-01 answered by
// lego's own server on addr.
func builtInServerConfig(t *testing.T, pebble *pebbletest.Lab, addr string) string {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(acmeAccount(pebble)+fmt.Sprintf(`certificate "api" {
  domains      = ["api.example.test"]
  issuer       = acme_account.pebble
  challenge    = "http-01"
  http_address = %q
  cert_file    = "certs/api.pem"
  key_file     = "certs/api.key"
}
`, addr)), 0o644)
	return dir
}

// A challenge the CA finds invalid (nothing listens where it looks) stops
// the apply naming the certificate and giving the CA's own reason, and
// writes nothing.
func TestACMEChallengeInvalid(t *testing.T) {
	pebble := pebbletest.Start(t, pebbletest.Options{HTTPPort: labutil.FreePort(t)})
	dir := builtInServerConfig(t, pebble, fmt.Sprintf("127.0.0.1:%d", labutil.FreePort(t)))
	r := tf(t, dir, "apply", "-auto-approve")
	mustCode(t, r, 1, "apply with the challenge unreachable")
	for _, want := range []string{"certificate.api", "api.example.test: the CA found the challenge invalid", "urn:ietf:params:acme:error:connection"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the failure does not say %q:\n%s", want, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "certs", "api.pem")); err == nil {
		t.Error("certs/api.pem was written")
	}
}

// dns-01 orders of one zone side by side (-parallelism), each told to the
// CA only once every authoritative server serves its exact TXT value: with
// the secondary stopped, every order waits; resumed, all validate. The
// binary is built with -race.
func TestACMEDNS01SideBySide(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e", "f"}
	dir, pebble, lab := dnsSetup(t, 0, names...)
	rewrite(t, dir, func(s string) string {
		return strings.Replace(s, fmt.Sprintf("nameservers = [%q]", lab.Primary.Addr), fmt.Sprintf("nameservers = [%q, %q]", lab.Primary.Addr, lab.Secondary.Addr), 1)
	})
	lab.Secondary.Pause()
	done := make(chan result, 1)
	start := time.Now()
	go func() { done <- tf(t, dir, "apply", "-auto-approve") }()
	time.Sleep(4 * time.Second)
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, "certs", n+".pem")); err == nil {
			t.Errorf("certs/%s.pem was issued while the secondary served no challenge", n)
		}
	}
	lab.Secondary.Resume()
	r := <-done
	mustCode(t, r, 0, "apply")
	t.Logf("apply took %v, 4 s of it with the secondary stopped", time.Since(start).Round(100*time.Millisecond))
	for _, n := range names {
		verifyChain(t, filepath.Join(dir, "certs", n+".pem"), pebble.IssuingRoot(t), n+".example.test")
	}
	if strings.Contains(r.stderr, "DATA RACE") {
		t.Errorf("the race detector found a race:\n%s", r.stderr)
	}
}

// dns-01 through a zone_file zone: the TXT record is written into the file
// BIND loads (its reload_command runs), published on both servers before
// Pebble is told, and gone from the file afterwards. The same zone
// definition serves TLSA and issuance, whatever backend serves it.
func TestACMEDNS01ZoneFile(t *testing.T) {
	lab := dnstest.StartFileZone(t, "example.test", "www IN A 127.0.0.1")
	pebble := pebbletest.Start(t, pebbletest.Options{HTTPPort: 1, DNSServer: lab.Secondary.Addr})
	dir := t.TempDir()
	cfg := acmeAccount(pebble) + fmt.Sprintf(`dns_zone "example" {
  name           = "example.test"
  zone_file      = %q
  reload_command = %q
  nameservers    = [%q, %q]
}

certificate "www" {
  domains   = ["www.example.test", "*.www.example.test"]
  issuer    = acme_account.pebble
  challenge = "dns-01"
  cert_file = "certs/www.pem"
  key_file  = "certs/www.key"
}
`, lab.ZoneFile, lab.ReloadCommand, lab.Primary.Addr, lab.Secondary.Addr)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	verifyChain(t, filepath.Join(dir, "certs/www.pem"), pebble.IssuingRoot(t), "www.example.test")
	zone, _ := os.ReadFile(lab.ZoneFile)
	if strings.Contains(string(zone), "_acme-challenge") {
		t.Errorf("the challenge records stayed in the zone file:\n%s", zone)
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after apply")
}

// dns-01 through a zone behind PowerDNS's API (real PowerDNS): Pebble looks
// the TXT record up at that server, and the record is gone afterwards.
func TestACMEDNS01PowerDNS(t *testing.T) {
	lab := pdnstest.Start(t, "example.test", "www A 127.0.0.1")
	pebble := pebbletest.Start(t, pebbletest.Options{HTTPPort: 1, DNSServer: lab.DNS})
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pdns.key"), []byte(lab.Key), 0o600)
	cfg := acmeAccount(pebble) + fmt.Sprintf(`dns_zone "example" {
  name        = "example.test"
  nameservers = [%q]
  api {
    type       = "powerdns"
    url        = %q
    token_file = "pdns.key"
  }
}

certificate "www" {
  domains   = ["www.example.test"]
  issuer    = acme_account.pebble
  challenge = "dns-01"
  cert_file = "certs/www.pem"
  key_file  = "certs/www.key"
}
`, lab.DNS, lab.API)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	verifyChain(t, filepath.Join(dir, "certs/www.pem"), pebble.IssuingRoot(t), "www.example.test")
	if r := lab.Query(t, "_acme-challenge.www.example.test.", mdns.TypeTXT); len(r.Answer) > 0 {
		t.Errorf("the challenge record stayed: %v", r.Answer)
	}
}
