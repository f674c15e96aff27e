package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustform/trustform/internal/probe"
	"github.com/trustform/trustform/providers/webserver/apachetest"
)

// apacheConfig: two TLS vhosts (example.test, www.example.test) on one
// IP:port with one certificate, their TLS policies given, and the HTTP vhost.
func apacheConfig(lab *apachetest.Lab, webroot, apexPolicy, wwwPolicy string) string {
	return fmt.Sprintf(fixture("apache.hcl.tmpl"), lab.Sites, lab.HTTPS, lab.HTTP, lab.TestCommand, lab.ReloadCommand, apexPolicy, wwwPolicy, webroot)
}

func TestApacheVhosts(t *testing.T) {
	lab := apachetest.Start(t)
	dir := t.TempDir()
	webroot := filepath.Join(lab.Root, "acme")
	os.MkdirAll(filepath.Join(webroot, ".well-known/acme-challenge"), 0o755)
	os.WriteFile(filepath.Join(webroot, ".well-known/acme-challenge/tok"), []byte("tok.thumb"), 0o644)

	// Different TLS settings on one IP:port: refused before anything is touched.
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(apacheConfig(lab, webroot, "tls_policy.intermediate", "tls_policy.strict")), 0o644)
	r := tf(t, dir, "plan")
	mustCode(t, r, 1, "plan with different TLS policies on one address")
	for _, want := range []string{"cipher-consistency", "vhost.apex (tls_policy.intermediate)", "vhost.www (tls_policy.strict)", "ECDHE-ECDSA-AES256-GCM-SHA384"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the refusal lacks %q:\n%s", want, r.stderr)
		}
	}

	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(apacheConfig(lab, webroot, "tls_policy.intermediate", "tls_policy.intermediate")), 0o644)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	want := fileSPKI(t, filepath.Join(dir, "certs/www.pem"))
	waitFor(t, func() bool { return servedSPKI(t, lab.HTTPS, "www.example.test") == want })
	if resp, _ := fetch(t, "https", lab.HTTPS, "example.test", "/"); resp.Header.Get("Strict-Transport-Security") != hsts {
		t.Errorf("HTTPS example.test: HSTS %q", resp.Header.Get("Strict-Transport-Security"))
	}
	resp, _ := fetch(t, "http", lab.HTTP, "www.example.test", "/page")
	if resp.StatusCode != 301 || resp.Header.Get("Location") != "https://www.example.test/page" || resp.Header.Get("Strict-Transport-Security") != hsts {
		t.Errorf("HTTP: %d Location %q HSTS %q", resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("Strict-Transport-Security"))
	}
	if resp, body := fetch(t, "http", lab.HTTP, "example.test", "/.well-known/acme-challenge/tok"); resp.StatusCode != 200 || body != "tok.thumb" {
		t.Errorf("challenge path: %d %q", resp.StatusCode, body)
	}

	// A browser reusing one HTTP/2 connection for both names gets 200, not
	// 421 Misdirected Request: the vhosts share their TLS settings.
	status, err := probe.ReusedConnectionStatus(context.Background(), lab.HTTPS, "example.test", "www.example.test")
	if err != nil || status != 200 {
		t.Errorf("second name on a reused HTTP/2 connection: %d, %v", status, err)
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after apply")
}

// The rule's premise, on the real server: vhosts on one address with
// different ciphers make Apache answer 421 on a reused connection.
func TestApacheMisdirectedWithoutSharedPolicy(t *testing.T) {
	lab := apachetest.Start(t)
	dir := t.TempDir()
	// Managed with one policy first, then the www file is edited by hand to
	// other ciphers: what the rule prevents in a configuration.
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(apacheConfig(lab, filepath.Join(lab.Root, "acme"), "tls_policy.intermediate", "tls_policy.intermediate")), 0o644)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	wwwConf := filepath.Join(lab.Sites, "www.conf")
	b, _ := os.ReadFile(wwwConf)
	edited := strings.Replace(string(b), "SSLProtocol -all +TLSv1.2 +TLSv1.3", "SSLProtocol -all +TLSv1.2", 1)
	os.WriteFile(wwwConf, []byte(edited), 0o644)
	run0(t, lab.ReloadCommand)
	waitFor(t, func() bool {
		status, err := probe.ReusedConnectionStatus(context.Background(), lab.HTTPS, "example.test", "www.example.test")
		return err == nil && status == 421
	})
	var r result
	for i := 0; i < 50; i++ { // graceful restarts leave old children answering for a moment
		r = tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode")
		if r.code == 2 && strings.Contains(r.stderr, "cipher-consistency: the server answers 421 Misdirected Request") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	mustCode(t, r, 2, "drift after the hand edit")
	if !strings.Contains(r.stdout, "vhost.www") {
		t.Errorf("drift report:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "cipher-consistency: the server answers 421 Misdirected Request") {
		t.Errorf("plan does not report the live 421:\n%s", r.stderr)
	}
}

// The certificate half of the rule, on the real server: two vhosts on one
// address with the same TLS settings but different certificate files, one
// certificate covering the other's name, make Apache answer 421 on a
// reused connection (mod_ssl compares the files); a configuration that
// would do this is refused by plan, before anything is written.
func TestApacheMisdirectedByCertificates(t *testing.T) {
	lab := apachetest.Start(t)
	dir := t.TempDir()
	cfg := apacheConfig(lab, filepath.Join(lab.Root, "acme"), "tls_policy.intermediate", "tls_policy.intermediate")
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")

	// By hand: vhost www serves another certificate, as a second
	// certificate block would make it.
	os.WriteFile(filepath.Join(dir, "certs/other.pem"), []byte(otherCert(t)), 0o644)
	os.WriteFile(filepath.Join(dir, "certs/other.key"), []byte(otherKey), 0o600)
	wwwConf := filepath.Join(lab.Sites, "www.conf")
	b, _ := os.ReadFile(wwwConf)
	edited := strings.ReplaceAll(strings.ReplaceAll(string(b), "certs/www.pem", "certs/other.pem"), "certs/www.key", "certs/other.key")
	if edited == string(b) {
		t.Fatalf("www.conf names no certs/www.pem:\n%s", b)
	}
	os.WriteFile(wwwConf, []byte(edited), 0o644)
	run0(t, lab.ReloadCommand)
	waitFor(t, func() bool {
		status, err := probe.ReusedConnectionStatus(context.Background(), lab.HTTPS, "example.test", "www.example.test")
		return err == nil && status == 421
	})

	other := strings.Replace(cfg, `vhost "www" {`, `certificate "other" {
  domains   = ["www.example.test"]
  issuer    = local_ca.ca
  cert_file = "certs/other.pem"
  key_file  = "certs/other.key"
}

vhost "www" {`, 1)
	other = strings.Replace(other, "server_names   = [\"www.example.test\"]\n  certificate    = certificate.www", "server_names   = [\"www.example.test\"]\n  certificate    = certificate.other", 1)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(other), 0o644)
	r := tf(t, dir, "plan")
	mustCode(t, r, 1, "plan of two overlapping certificates on one Apache address")
	if msg := strings.Join(strings.Fields(r.stderr), " "); !strings.Contains(msg, "cipher-consistency: Apache vhosts on") || !strings.Contains(msg, "421 Misdirected Request") {
		t.Errorf("the refusal does not explain the 421:\n%s", r.stderr)
	}
}
