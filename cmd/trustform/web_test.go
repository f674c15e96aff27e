package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-acme/lego/v4/certcrypto"

	"github.com/trustform/trustform/providers/webserver/nginxtest"
)

// webConfig is a certificate, an HTTPS vhost with HSTS and its HTTP vhost,
// managed on a running server (test and reload commands given).
func webConfig(server, sites, https, http, test, reload, webroot, policy string) string {
	return fmt.Sprintf(fixture("web.hcl.tmpl"), server, sites, https, http, test, reload, webroot, "", policy)
}

// servedSPKI handshakes with SNI name and returns the leaf's SPKI SHA-256.
func servedSPKI(t *testing.T, addr, name string) string {
	t.Helper()
	spki, err := handshakeSPKI(addr, name)
	if err != nil {
		t.Fatalf("TLS handshake with %s as %s: %v", addr, name, err)
	}
	return spki
}

func fileSPKI(t *testing.T, path string) string {
	t.Helper()
	return spkiHex(readChain(t, path)[0].RawSubjectPublicKeyInfo)
}

// readChain parses a deployed PEM chain, leaf first.
func readChain(t *testing.T, path string) []*x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := certcrypto.ParsePEMBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	return chain
}

// fetch requests scheme://name/path at addr without following redirects.
func fetch(t *testing.T, scheme, addr, name, path string) (*http.Response, string) {
	t.Helper()
	client := &http.Client{
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, n, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, n, addr)
			},
			TLSClientConfig: &tls.Config{ServerName: name, InsecureSkipVerify: true},
		},
	}
	resp, err := client.Get(scheme + "://" + name + path)
	if err != nil {
		t.Fatalf("GET %s://%s%s at %s: %v", scheme, name, path, addr, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

const hsts = "max-age=63072000; includeSubDomains; preload"

func TestNginxVhosts(t *testing.T) {
	lab := nginxtest.Start(t)
	dir := t.TempDir()
	webroot := filepath.Join(lab.Prefix, "acme")
	cfg := webConfig("nginx", lab.Sites, lab.HTTPS, lab.HTTP, lab.TestCommand, lab.ReloadCommand, webroot, `  profile = "mozilla-intermediate"`)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)

	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	want := fileSPKI(t, filepath.Join(dir, "certs/www.pem"))
	waitFor(t, func() bool { // a reload is a signal: give the new workers their moment
		resp, _ := fetch(t, "http", lab.HTTP, "example.test", "/")
		return resp.StatusCode == 301
	})
	for _, name := range []string{"example.test", "www.example.test"} {
		if got := servedSPKI(t, lab.HTTPS, name); got != want {
			t.Errorf("%s is served the key %s, the certificate file has %s", name, got, want)
		}
		if resp, _ := fetch(t, "https", lab.HTTPS, name, "/"); resp.Header.Get("Strict-Transport-Security") != hsts {
			t.Errorf("HTTPS %s: HSTS %q", name, resp.Header.Get("Strict-Transport-Security"))
		}
		resp, _ := fetch(t, "http", lab.HTTP, name, "/some/page")
		if resp.StatusCode != 301 || resp.Header.Get("Location") != "https://"+name+"/some/page" || resp.Header.Get("Strict-Transport-Security") != hsts {
			t.Errorf("HTTP %s: %d Location %q HSTS %q", name, resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("Strict-Transport-Security"))
		}
	}
	os.MkdirAll(filepath.Join(webroot, ".well-known/acme-challenge"), 0o755)
	os.WriteFile(filepath.Join(webroot, ".well-known/acme-challenge/token123"), []byte("token123.thumbprint"), 0o644)
	if resp, body := fetch(t, "http", lab.HTTP, "www.example.test", "/.well-known/acme-challenge/token123"); resp.StatusCode != 200 || body != "token123.thumbprint" {
		t.Errorf("challenge path: %d %q", resp.StatusCode, body)
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after apply")

	// An invalid cipher string is caught by nginx -t: the old file comes back
	// byte for byte and the server keeps serving.
	httpsConf := filepath.Join(lab.Sites, "https.conf")
	before, _ := os.ReadFile(httpsConf)
	broken := webConfig("nginx", lab.Sites, lab.HTTPS, lab.HTTP, lab.TestCommand, lab.ReloadCommand, webroot, `  protocols = ["TLSv1.2"]
  ciphers   = "NOT-A-REAL-CIPHER"`)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(broken), 0o644)
	r := tf(t, dir, "apply", "-auto-approve")
	mustCode(t, r, 1, "apply with an invalid cipher")
	if !strings.Contains(r.stderr, "vhost.https") || !strings.Contains(r.stderr, "[emerg]") || !strings.Contains(r.stderr, "NOT-A-REAL-CIPHER") {
		t.Errorf("the error does not name the vhost or quote nginx:\n%s", r.stderr)
	}
	if after, _ := os.ReadFile(httpsConf); !bytes.Equal(before, after) {
		t.Errorf("https.conf not restored byte for byte:\n%s", after)
	}
	if got := servedSPKI(t, lab.HTTPS, "example.test"); got != want {
		t.Error("the server stopped serving after the failed change")
	}

	// Editing the managed file by hand shows up as drift.
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
	mustCode(t, tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode"), 0, "no drift before the hand edit")
	os.WriteFile(httpsConf, bytes.Replace(before, []byte("max-age=63072000"), []byte("max-age=300"), 1), 0o644)
	run0(t, lab.ReloadCommand)
	waitFor(t, func() bool {
		resp, _ := fetch(t, "https", lab.HTTPS, "example.test", "/")
		return resp.Header.Get("Strict-Transport-Security") != hsts
	})
	for i := 0; i < 50; i++ { // until every worker runs the edited configuration
		if r = tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode"); r.code == 2 && strings.Contains(r.stdout, "max-age=300") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	mustCode(t, r, 2, "drift after the hand edit")
	if !strings.Contains(r.stdout, "max-age=300") {
		t.Errorf("the drift report does not show what differs:\n%s", r.stdout)
	}
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply repairs the drift")
	mustCode(t, tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode"), 0, "no drift after the repair")

	// A hand-written redirect that swallows the challenge path: the live
	// rules quote what the server answers.
	httpConf := filepath.Join(lab.Sites, "http.conf")
	good, _ := os.ReadFile(httpConf)
	os.WriteFile(httpConf, []byte(strings.Replace(string(good), "    location ^~ /.well-known/acme-challenge/ {", "    location ^~ /.well-known/acme-challenge/ {\n        return 301 https://$host$request_uri;", 1)), 0o644)
	run0(t, lab.ReloadCommand)
	waitFor(t, func() bool {
		resp, _ := fetch(t, "http", lab.HTTP, "example.test", "/.well-known/acme-challenge/x")
		return resp.StatusCode == 301
	})
	quoted := func() bool { // the reload is asynchronous: a probe may still reach the previous workers
		r = tf(t, dir, "plan")
		folded := strings.Join(strings.Fields(r.stderr), " ")
		return strings.Contains(folded, "acme-challenge-not-redirected: the challenge path is redirected") &&
			strings.Contains(folded, `is answered "example.test: 301 https://example.test/.well-known/acme-challenge/trustform-probe"`) // every name is probed, each named
	}
	for i := 0; i < 50 && !quoted(); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	if !quoted() {
		t.Errorf("plan does not quote the redirected challenge:\n%s", r.stderr)
	}
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply repairs the challenge path")

	// A certificate replaced on disk, not yet served: drift, with both keys.
	os.WriteFile(filepath.Join(dir, "certs/www.pem"), []byte(otherCert(t)), 0o644)
	r = tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode")
	mustCode(t, r, 2, "drift after the certificate file changed")
	if !strings.Contains(r.stdout, "certificate.www") {
		t.Errorf("the drift report does not name the certificate:\n%s", r.stdout)
	}
}

func run0(t *testing.T, command string) {
	t.Helper()
	if out, err := osexec(command); err != nil {
		t.Fatalf("%s: %v\n%s", command, err, out)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatal("condition not reached within 5s")
}

// A renewal with the same key that the server did not pick up (its reload
// was skipped): the key is the same, the served certificate is not the file.
func TestNginxServesStaleCertificate(t *testing.T) {
	lab := nginxtest.Start(t)
	dir := t.TempDir()
	cfg := webConfig("nginx", lab.Sites, lab.HTTPS, lab.HTTP, lab.TestCommand, lab.ReloadCommand, filepath.Join(lab.Prefix, "acme"), `  profile = "mozilla-intermediate"`)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	served := func() string { return servedSPKI(t, lab.HTTPS, "example.test") }
	waitFor(t, func() bool { return served() == fileSPKI(t, filepath.Join(dir, "certs/www.pem")) })
	before, _ := os.ReadFile(filepath.Join(dir, "certs/www.pem"))

	renewing := strings.ReplaceAll(cfg, fmt.Sprintf("reload_command = %q", lab.ReloadCommand), `reload_command = "true"`)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(renewing), 0o644)
	later := time.Now().Add(70 * 24 * time.Hour) // 20 days before the 90-day certificate expires
	mustCode(t, tfAt(t, dir, later, "apply", "-auto-approve", "-target=certificate.www"), 0, "renewal without a reload")
	after, _ := os.ReadFile(filepath.Join(dir, "certs/www.pem"))
	if bytes.Equal(before, after) || fileSPKI(t, filepath.Join(dir, "certs/www.pem")) != served() {
		t.Fatal("the setup did not renew with the same key")
	}

	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
	r := tf(t, dir, "plan", "-detailed-exitcode")
	mustCode(t, r, 2, "plan while the server serves the previous certificate")
	if !strings.Contains(r.stdout, "served_certificate") {
		t.Errorf("the plan does not show the served certificate differing:\n%s", r.stdout)
	}
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply reloads")
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after the reload")
}
