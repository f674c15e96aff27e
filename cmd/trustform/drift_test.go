package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustform/trustform/providers/webserver/nginxtest"
)

// TestDriftKinds produces each kind of drift that plan -refresh-only reports
// and checks exit code 2 and the entry in -json; apply repairs each one.
// (An APT key about to expire is TestAPTKeyExpiringSoon.)
func TestDriftKinds(t *testing.T) {
	lab := nginxtest.Start(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "zone"), []byte("$ORIGIN example.test.\n@ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 3600\n@ 3600 IN NS ns1\n"), 0o644)
	cfg := webConfig("nginx", lab.Sites, lab.HTTPS, lab.HTTP, lab.TestCommand, lab.ReloadCommand, filepath.Join(lab.Prefix, "acme"), `  profile = "mozilla-intermediate"`) + `
dns_zone "example" {
  name      = "example.test"
  zone_file = "zone"
}

tlsa "www" {
  zone        = dns_zone.example
  port        = ` + lab.HTTPS[strings.LastIndex(lab.HTTPS, ":")+1:] + `
  hostname    = "www.example.test"
  certificate = certificate.www
}
`
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
	httpsConf, httpConf := filepath.Join(lab.Sites, "https.conf"), filepath.Join(lab.Sites, "http.conf")
	edit := func(path, old, new string) {
		b, _ := os.ReadFile(path)
		if !strings.Contains(string(b), old) {
			t.Fatalf("%s lacks %q", path, old)
		}
		os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
	}
	editAndReload := func(path, old, new string) {
		edit(path, old, new)
		run0(t, lab.ReloadCommand)
	}
	for _, tc := range []struct {
		kind, address, reason string
		cause                 func()
		warn                  string   // a warning plan -refresh-only prints too
		env                   []string // of the drift checks
	}{
		{"certificate renewal due", "certificate.www", "within renew_before", func() {}, "",
			[]string{"TRUSTFORM_TEST_NOW=" + time.Now().Add(70*24*time.Hour).UTC().Format(time.RFC3339)}}, // 20 days before a 90-day certificate expires
		{"served certificate is not the deployed one", "vhost.https", "served_certificate", func() {
			edit(httpsConf, filepath.Join(dir, "certs/www.pem"), filepath.Join(lab.Prefix, "other.pem"))
			editAndReload(httpsConf, filepath.Join(dir, "certs/www.key"), filepath.Join(lab.Prefix, "other.pem"))
		}, "", nil},
		{"served certificate is not in the published TLSA RRset (built-in DANE check)", "tlsa.www", "served_match", func() {
			edit(httpsConf, filepath.Join(dir, "certs/www.pem"), filepath.Join(lab.Prefix, "other.pem"))
			editAndReload(httpsConf, filepath.Join(dir, "certs/www.key"), filepath.Join(lab.Prefix, "other.pem"))
		}, "", nil},
		{"TLSA record does not match", "tlsa.www", "records", func() {
			b, _ := os.ReadFile(filepath.Join(dir, "zone"))
			s := string(b)
			i := strings.Index(s, "TLSA\t3 1 1 ") + len("TLSA\t3 1 1 ")
			other := "00" // another digest's first byte (one in 256 starts with 00)
			if s[i:i+2] == other {
				other = "ff"
			}
			os.WriteFile(filepath.Join(dir, "zone"), []byte(s[:i]+other+s[i+2:]), 0o644)
		}, "", nil},
		{"HSTS header changed", "vhost.https", "served_hsts", func() {
			editAndReload(httpsConf, "max-age=63072000", "max-age=600")
		}, "", nil},
		{"a second HSTS header", "vhost.https", "served_hsts", func() {
			b, _ := os.ReadFile(httpsConf)
			i := strings.Index(string(b), "add_header Strict-Transport-Security")
			editAndReload(httpsConf, string(b[i:]), "add_header 'Strict-Transport-Security' 'max-age=600' always;\n    "+string(b[i:]))
		}, "more than one Strict-Transport-Security header", nil},
		{"redirect changed", "vhost.http", "served_redirect", func() {
			editAndReload(httpConf, "return 301 https://$host$request_uri;", "return 302 https://elsewhere.example/;")
		}, "", nil},
		{"TLS settings changed", "vhost.https", "served_protocols", func() {
			editAndReload(httpsConf, "ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv1.3;")
		}, "", nil},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			if strings.HasPrefix(tc.kind, "served certificate") { // a valid pair that is not ours
				os.WriteFile(filepath.Join(lab.Prefix, "other.pem"), []byte(otherCert(t)+otherKey), 0o644)
			}
			tc.cause()
			var entry *driftEntry
			named := func() bool { return entry != nil && strings.Contains(strings.Join(entry.Reasons, " "), tc.reason) }
			for range 50 { // reloads are asynchronous: the file may show before the server does
				if entry = driftFor(t, dir, tc.address, tc.env); named() {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if !named() {
				t.Fatalf("no drift entry for %s naming %q (last: %+v)", tc.address, tc.reason, entry)
			}
			if r := tfEnv(t, dir, tc.env, "plan", "-refresh-only"); !strings.Contains(r.stderr, tc.warn) {
				t.Errorf("plan -refresh-only does not warn %q:\n%s", tc.warn, r.stderr)
			}
			os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
			mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply repairing "+tc.kind)
			mustCode(t, tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode"), 0, "drift after repairing "+tc.kind)
		})
	}
}

type driftEntry struct {
	Address string   `json:"address"`
	Reasons []string `json:"reasons"`
}

// driftFor runs plan -refresh-only -detailed-exitcode -json and returns the
// entry for address, or nil; it fails unless the exit code matches the drift.
func driftFor(t *testing.T, dir, address string, env []string) *driftEntry {
	t.Helper()
	r := tfPlanJSON(t, dir, env, "-refresh-only", "-detailed-exitcode")
	var p struct {
		Mode    string       `json:"mode"`
		Changes []driftEntry `json:"changes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatalf("plan -json: %v\n%s\n%s", err, r.stdout, r.stderr)
	}
	if want := map[bool]int{true: 2, false: 0}[len(p.Changes) > 0]; r.code != want || p.Mode != "refresh-only" {
		t.Fatalf("exit %d with %d drift entries (mode %q)", r.code, len(p.Changes), p.Mode)
	}
	for i := range p.Changes {
		if p.Changes[i].Address == address {
			return &p.Changes[i]
		}
	}
	return nil
}
