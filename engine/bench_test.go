package engine_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/trustform/trustform/engine/rules"
	"github.com/trustform/trustform/kinds"
	"github.com/trustform/trustform/schema"
)

// generate writes a configuration of hosts × (a certificate, two TLSA RRsets
// and two vhosts): 5 resources per host, 10,000 for 2,000 hosts.
func generate(b *testing.B, hosts int) string {
	b.Helper()
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "zone"), []byte(zoneFile), 0o644)
	var s strings.Builder
	s.WriteString(`dns_zone "big" {
  name      = "example.test"
  zone_file = "zone"
}
local_ca "ca" {}
tls_policy "p" {
  profile = "mozilla-intermediate"
}
`)
	for i := range hosts {
		fmt.Fprintf(&s, `
host "h%[1]d" {
  root = "out/h%[1]d"
}
certificate "h%[1]d" {
  domains   = ["h%[1]d.example.test", "www.h%[1]d.example.test"]
  issuer    = local_ca.ca
  cert_file = "/etc/ssl/site.pem"
  key_file  = "/etc/ssl/site.key"
  host      = host.h%[1]d
}
tlsa "h%[1]d_https" {
  zone        = dns_zone.big
  port        = 443
  hostname    = "www.h%[1]d.example.test"
  certificate = certificate.h%[1]d
}
tlsa "h%[1]d_smtp" {
  zone        = dns_zone.big
  port        = 25
  hostname    = "h%[1]d.example.test"
  certificate = certificate.h%[1]d
}
vhost "h%[1]d_https" {
  server         = "nginx"
  config_file    = "/etc/nginx/sites-enabled/https.conf"
  listen         = "192.0.2.%[2]d:443"
  server_names   = ["h%[1]d.example.test", "www.h%[1]d.example.test"]
  certificate    = certificate.h%[1]d
  tls_policy     = tls_policy.p
  host           = host.h%[1]d
  test_command   = ""
  reload_command = ""
  hsts {
    max_age            = 63072000
    include_subdomains = true
    preload            = false # preload needs the apex served with it: not part of this fleet
  }
}
vhost "h%[1]d_http" {
  server         = "nginx"
  config_file    = "/etc/nginx/sites-enabled/http.conf"
  listen         = "192.0.2.%[2]d:80"
  server_names   = ["h%[1]d.example.test", "www.h%[1]d.example.test"]
  redirect_https = true
  hsts_from      = vhost.h%[1]d_https
  acme_webroot   = "/var/www/acme"
  host           = host.h%[1]d
  test_command   = ""
  reload_command = ""
}
`, i, i%250+1)
	}
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(s.String()), 0o644)
	return dir
}

// reportPeak runs fn and reports the peak of live heap objects seen while it
// ran, sampled every millisecond through runtime/metrics (which, unlike
// ReadMemStats, does not stop the world).
func reportPeak(b *testing.B, fn func()) {
	b.Helper()
	runtime.GC()
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var max uint64
		for {
			metrics.Read(sample)
			max = maxOf(max, sample[0].Value.Uint64())
			select {
			case <-done:
				peak <- max
				return
			case <-tick.C:
			}
		}
	}()
	b.ResetTimer()
	for b.Loop() {
		fn()
	}
	b.StopTimer()
	close(done)
	b.ReportMetric(float64(<-peak)/(1<<20), "peak-heap-MiB")
}

func maxOf(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// BenchmarkParse10k is the floor: only HCL parsing of the same files.
func BenchmarkParse10k(b *testing.B) {
	dir := generate(b, benchHosts)
	src, _ := os.ReadFile(filepath.Join(dir, "main.hcl"))
	reportPeak(b, func() {
		if _, diags := hclparse.NewParser().ParseHCL(src, "main.hcl"); diags.HasErrors() {
			b.Fatal(diags)
		}
	})
}

// BenchmarkValidate10k is `trustform validate`: decode, references, checks, rules.
func BenchmarkValidate10k(b *testing.B) {
	dir := generate(b, benchHosts)
	reportPeak(b, func() {
		cfg, diags := kinds.Load(dir, schema.Inputs{})
		if diags.HasErrors() {
			b.Fatal(diags)
		}
		if diags := rules.Refuse(cfg); diags.HasErrors() {
			b.Fatal(diags)
		}
	})
}

// BenchmarkPlan10k is `trustform plan` on a fresh machine: validate, bind,
// observe every resource, diff and order 10,000+ changes.
func BenchmarkPlan10k(b *testing.B) {
	dir := generate(b, benchHosts)
	reportPeak(b, func() {
		if p := freshPlan(b, dir); len(p.Steps) < 5*benchHosts {
			b.Fatalf("plan: %d steps", len(p.Steps))
		}
	})
}

// benchHosts is the size of the generated configurations: 2,000 hosts, 10,000 resources.
const benchHosts = 2000
