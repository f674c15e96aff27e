package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/trustform/trustform/internal/labutil"
	"github.com/trustform/trustform/providers/dns/dnstest"
	"github.com/trustform/trustform/providers/webserver/nginxtest"
)

// BenchmarkDriftCheck300 is the scheduled drift check (plan -refresh-only)
// of 300 TLS endpoints (real nginx, one port each) and their 300 TLSA
// RRsets (real BIND, signed, primary and secondary), against the anchor
// measured in the same run: `openssl s_client` over the same 300
// endpoints with xargs -P at the same parallelism (10). It reports the
// plan's peak RSS. bench/drift300.sh runs it and prints the ratio (goal:
// at most 0.2).
func BenchmarkDriftCheck300(b *testing.B) {
	const n, parallelism = 300, 10
	bin := filepath.Join(b.TempDir(), "trustform")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	lab := dnstest.Start(b, "example.test")
	web := nginxtest.Start(b)
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "tsig.secret"), []byte(lab.Secret), 0o600)
	ports := make([]int, n)
	var cfg, conf, list strings.Builder
	fmt.Fprintf(&cfg, `dns_zone "z" {
  name        = "example.test"
  server      = %[1]q
  nameservers = [%[1]q, %[2]q]
  tsig {
    name        = "trustform-key"
    secret_file = "tsig.secret"
  }
}
local_ca "ca" {}
certificate "c" {
  domains   = ["example.test", "*.example.test"]
  issuer    = local_ca.ca
  key_type  = "ec256"
  cert_file = "c.pem"
  key_file  = "c.key"
}
`, lab.Primary.Addr, lab.Secondary.Addr)
	for i := range ports {
		ports[i] = labutil.FreePort(b)
		fmt.Fprintf(&cfg, "service \"s%[1]d\" {\n  certificate    = certificate.c\n  endpoints      = [\"tls://127.0.0.1:%[2]d\"]\n  test_command   = \"\"\n  reload_command = \"\"\n}\n", i, ports[i])
		fmt.Fprintf(&cfg, "tlsa \"t%[1]d\" {\n  zone        = dns_zone.z\n  port        = %[2]d\n  hostname    = \"h%[1]d.example.test\"\n  certificate = certificate.c\n}\n", i, ports[i])
		fmt.Fprintf(&conf, "server {\n  listen 127.0.0.1:%d ssl;\n  ssl_certificate %s;\n  ssl_certificate_key %s;\n}\n", ports[i], filepath.Join(dir, "c.pem"), filepath.Join(dir, "c.key"))
		fmt.Fprintf(&list, "%d\n", ports[i])
	}
	os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg.String()), 0o644)
	run := func(args ...string) *os.ProcessState {
		cmd := exec.Command(bin, append([]string{"-chdir=" + dir}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("trustform %v: %v\n%s", args, err, lastLines(string(out), 20))
		}
		return cmd.ProcessState
	}
	run("apply", "-auto-approve", "-target=certificate.c")
	os.WriteFile(filepath.Join(web.Sites, "fleet.conf"), []byte(conf.String()), 0o644)
	if out, err := exec.Command("sh", "-c", web.ReloadCommand).CombinedOutput(); err != nil {
		b.Fatalf("reloading nginx: %v\n%s", err, out)
	}
	run("apply", "-auto-approve", "-propagation-wait=30s")
	os.WriteFile(filepath.Join(dir, "ports"), []byte(list.String()), 0o644)

	b.Run("trustform-drift-check", func(b *testing.B) {
		var rss int64
		for b.Loop() {
			st := run("plan", "-refresh-only", "-detailed-exitcode", fmt.Sprintf("-parallelism=%d", parallelism))
			rss = max(rss, st.SysUsage().(*syscall.Rusage).Maxrss)
		}
		b.ReportMetric(float64(rss)/1024, "MiB-peak-RSS")
	})
	b.Run("openssl-s_client-xargs", func(b *testing.B) {
		loop := fmt.Sprintf("xargs -P %d -I{} sh -c 'openssl s_client -connect 127.0.0.1:{} </dev/null >/dev/null 2>&1' < %s", parallelism, filepath.Join(dir, "ports"))
		for b.Loop() {
			if out, err := exec.Command("sh", "-c", loop).CombinedOutput(); err != nil {
				b.Fatalf("%s: %v\n%s", loop, err, out)
			}
		}
	})
}
