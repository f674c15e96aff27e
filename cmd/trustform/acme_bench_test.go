package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkIssue20 issues 20 certificates over dns-01 against a local Pebble
// and BIND: trustform in one apply (issues run side by side, -parallelism
// 10), and the lego CLI once per certificate, one after another, as a cron
// job or a shell loop would. Each iteration starts from a fresh account.
func BenchmarkIssue20(b *testing.B) {
	names := make([]string, 20)
	for i := range names {
		names[i] = fmt.Sprintf("h%02d", i)
	}
	dir, pebble, lab := dnsSetup(b, 0, names...)
	cfg, _ := os.ReadFile(filepath.Join(dir, "main.hcl"))
	secret, _ := os.ReadFile(filepath.Join(dir, "tsig.secret"))

	b.Run("trustform", func(b *testing.B) {
		for b.Loop() {
			run := b.TempDir()
			os.WriteFile(filepath.Join(run, "main.hcl"), cfg, 0o644)
			os.WriteFile(filepath.Join(run, "tsig.secret"), secret, 0o600)
			mustCode(b, tf(b, run, "apply", "-auto-approve"), 0, "apply")
		}
	})
	b.Run("lego-cli-sequential", func(b *testing.B) {
		lego, err := exec.LookPath("lego")
		if err != nil {
			if _, err = os.Stat("/tmp/lego"); err != nil {
				b.Skip("the lego CLI is not installed")
			}
			lego = "/tmp/lego"
		}
		for b.Loop() {
			path := b.TempDir()
			for _, n := range names {
				cmd := exec.Command(lego, "--server", pebble.Directory, "--email", "hostmaster@example.test", "--accept-tos",
					"--path", path, "--key-type", "ec256", "--dns", "rfc2136", "--dns.resolvers", lab.Primary.Addr,
					"--dns.propagation-disable-ans", "--domains", n+".example.test", "run")
				cmd.Env = append(os.Environ(), "LEGO_CA_CERTIFICATES="+pebble.RootsFile,
					"RFC2136_NAMESERVER="+lab.Primary.Addr, "RFC2136_TSIG_KEY=trustform-key.",
					"RFC2136_TSIG_SECRET="+strings.TrimSpace(string(secret)), "RFC2136_TSIG_ALGORITHM=hmac-sha256.",
					"RFC2136_POLLING_INTERVAL=1", "RFC2136_PROPAGATION_TIMEOUT=120")
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("lego %s: %v\n%s", n, err, out)
				}
			}
		}
	})
}
