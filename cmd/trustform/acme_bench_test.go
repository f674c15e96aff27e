package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
