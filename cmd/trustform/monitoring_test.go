package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/trustform/trustform/engine/metrics/promtest"
	"github.com/trustform/trustform/internal/labutil"
	"github.com/trustform/trustform/providers/dns/dnstest"
	"github.com/trustform/trustform/providers/webserver/nginxtest"
)

// TestMonitoringScrape: a real scrape end to end. Debian's node exporter
// reads the file trustform's drift check writes (plan -refresh-only
// -metrics-file) and Prometheus scrapes it, with examples/monitoring's
// alert rules. After a first apply on real BIND (signed, two servers) and
// nginx, the certificate is put back to one that expires in two days and
// the TLSA record is changed behind trustform's back: Prometheus's API
// shows the certificate's expiry, the mismatch on both servers and the
// drift, and the alerts for the expiring certificate and the mismatch.
func TestMonitoringScrape(t *testing.T) {
	dns := dnstest.Start(t, "example.test", "www IN A 127.0.0.1")
	web := nginxtest.Start(t)
	rules, _ := filepath.Abs(filepath.Join("..", "..", "examples", "monitoring", "alerts.yml"))
	prom := promtest.Start(t, rules)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tsig.secret"), []byte(dns.Secret), 0o600)
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(fmt.Sprintf(`
dns_zone "example" {
  name           = "example.test"
  server         = %[1]q
  nameservers    = [%[1]q, %[2]q]
  require_dnssec = true
  tsig {
    name        = "trustform-key"
    secret_file = "tsig.secret"
  }
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
  zone          = dns_zone.example
  port          = %[3]s
  hostname      = "www.example.test"
  certificate   = certificate.www
  ttl           = 30
  rollover_wait = "1s"
}

vhost "www" {
  server         = "nginx"
  config_file    = "%[4]s/www.conf"
  listen         = %[5]q
  server_names   = ["www.example.test"]
  certificate    = certificate.www
  test_command   = %[6]q
  reload_command = %[7]q
}
`, dns.Primary.Addr, dns.Secondary.Addr, port(web.HTTPS), web.Sites, web.HTTPS, web.TestCommand, web.ReloadCommand)), 0o644)
	mustCode(t, tf(t, dir, "apply", "-auto-approve", "-wait"), 0, "first apply")
	metricsFile := filepath.Join(prom.TextfileDir, "trustform.prom")
	mustCode(t, tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode", "-metrics-file="+metricsFile), 0, "drift check after the apply")

	// Behind trustform's back: the certificate file put back to one of
	// the same key that expires in two days (nginx keeps serving the one
	// it loaded), and the TLSA record replaced by one for another key.
	ca := filepath.Join(dir, ".trustform", "local_ca", "ca")
	csr := exec.Command("openssl", "req", "-new", "-key", filepath.Join(dir, "www.key"), "-subj", "/CN=www.example.test",
		"-addext", "subjectAltName=DNS:www.example.test")
	sign := exec.Command("openssl", "x509", "-req", "-CA", filepath.Join(ca, "ca.pem"), "-CAkey", filepath.Join(ca, "ca.key"),
		"-days", "2", "-copy_extensions", "copy", "-out", filepath.Join(dir, "www.pem"))
	pipe, _ := csr.StdoutPipe()
	sign.Stdin = pipe
	if err := csr.Start(); err != nil {
		t.Fatal(err)
	}
	if out, err := sign.CombinedOutput(); err != nil {
		t.Fatalf("openssl x509 -req: %v\n%s", err, out)
	}
	csr.Wait()
	owner := "_" + port(web.HTTPS) + "._tcp.www.example.test."
	var old []string
	for _, rr := range dns.Primary.Query(t, owner, mdns.TypeTLSA).Answer {
		if rr.Header().Rrtype == mdns.TypeTLSA {
			old = append(old, rr.String())
		}
	}
	dns.Edit(t, old, []string{owner + " 30 IN TLSA 3 1 1 " + strings.Repeat("ab", 32)})
	waitSecondary(t, dns, owner)

	r := tf(t, dir, "plan", "-refresh-only", "-detailed-exitcode", "-metrics-file="+metricsFile)
	mustCode(t, r, 2, "drift check after the changes")
	if out, err := exec.Command("sh", "-c", "promtool check metrics < "+metricsFile).CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}

	// What Prometheus scraped, through the node exporter.
	wait := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(250 * time.Millisecond) {
			if time.Now().After(deadline) {
				b, _ := os.ReadFile(metricsFile)
				t.Fatalf("Prometheus does not show %s after 30 s; the metrics file:\n%s", what, b)
			}
		}
	}
	wait("the certificate's expiry two days out", func() bool {
		s := prom.Query(t, `trustform_certificate_not_after_timestamp_seconds{address="certificate.www"} - time()`)
		v := 0.0
		if len(s) == 1 {
			v, _ = strconv.ParseFloat(s[0].Value, 64)
		}
		return v > 47*3600 && v < 49*3600
	})
	wait("the TLSA mismatch on both servers", func() bool {
		return len(prom.Query(t, `trustform_tlsa_match{address="tlsa.www"} == 0`)) == 2
	})
	wait("the drift of the certificate and the TLSA RRset", func() bool {
		return len(prom.Query(t, `trustform_drift{address=~"tlsa.www|certificate.www"} == 1`)) == 2
	})
	if s := prom.Query(t, `trustform_dnssec_signatures_expire_timestamp_seconds{zone="dns_zone.example"} - time() > 86400`); len(s) != 2 {
		t.Errorf("the zone's signatures on both servers: %+v", s)
	}
	if s := prom.Query(t, `trustform_last_run_success{command="plan"}`); len(s) != 1 || s[0].Value != "1" {
		t.Errorf("the drift check's last run: %+v", s)
	}
	// The alerts: the expiring certificate and the TLSA mismatch fire at
	// once; the served certificate and the drift wait out their "for"
	// (pending).
	wait("the alerts", func() bool {
		got := map[string]string{}
		for _, a := range prom.Alerts(t) {
			got[a.Labels["alertname"]+" "+a.Labels["address"]] = a.State
		}
		return got["TrustformCertificateExpiringSoon certificate.www"] == "firing" && got["TrustformTLSAMismatch tlsa.www"] == "firing" &&
			got["TrustformServedCertificateNotDeployed vhost.www"] == "pending" && got["TrustformDrift tlsa.www"] == "pending"
	})
	t.Logf("alerts: %+v", prom.Alerts(t))

	// The status page of the same moment, in a real browser.
	r = tf(t, dir, "show", "-html", "-metrics-file="+metricsFile)
	mustCode(t, r, 0, "show -html")
	page := filepath.Join(t.TempDir(), "status.html")
	os.WriteFile(page, []byte(r.stdout), 0o644)
	dom := chromium(t, "--dump-dom", "file://"+page)
	if n := strings.Count(dom, `<tr class="certificate"`); n != 1 {
		t.Errorf("the page has %d certificate rows in Chromium's DOM, want 1", n)
	}
	if n := strings.Count(dom, `class="cell bad"`); n != 2 || !strings.Contains(dom, "does not match: publishes 3 1 1 "+strings.Repeat("ab", 32)) {
		t.Errorf("the DANE matrix does not show the changed record red on both servers (%d red cells)", n)
	}
	if !strings.Contains(dom, `id="timeline"`) || !strings.Contains(dom, `data-address="certificate.www"`) {
		t.Error("the timeline has no bar for the certificate")
	}
	shot := filepath.Join(artifacts(t), "status-page.png")
	chromium(t, "--screenshot="+shot, "--window-size=1280,1400", "file://"+page)
	if st, err := os.Stat(shot); err != nil || st.Size() == 0 {
		t.Errorf("no screenshot: %v", err)
	}
	t.Logf("status page screenshot: %s", shot)
}

// chromium runs Debian's Chromium headless on args and returns what it
// printed (the DOM, for --dump-dom).
func chromium(t *testing.T, args ...string) string {
	t.Helper()
	bin := labutil.Binary(t, "chromium", "/usr/bin/chromium")
	args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + t.TempDir()}, args...)
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("chromium %v: %v", args, err)
	}
	return string(out)
}

// artifacts is where a test keeps what outlives it (screenshots):
// $TRUSTFORM_TEST_ARTIFACTS, or trustform-test-artifacts in the temp
// directory.
func artifacts(t *testing.T) string {
	dir := os.Getenv("TRUSTFORM_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "trustform-test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// waitSecondary waits until the secondary serves what the primary does at
// owner.
func waitSecondary(t *testing.T, l *dnstest.Lab, owner string) {
	t.Helper()
	want := fmt.Sprint(l.Primary.Query(t, owner, mdns.TypeTLSA).Answer)
	for deadline := time.Now().Add(10 * time.Second); fmt.Sprint(l.Secondary.Query(t, owner, mdns.TypeTLSA).Answer) != want; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the secondary does not serve the change at %s", owner)
		}
	}
}
