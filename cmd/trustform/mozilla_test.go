package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustform/trustform/providers/webserver/apachetest"
	"github.com/trustform/trustform/providers/webserver/nginxtest"
)

// TestMozillaIntermediateServed: real nginx and Apache, configured with
// profile = "mozilla-intermediate", serve what Mozilla's generator writes
// for it, as openssl s_client sees it: the profile's groups (X25519
// accepted, secp521r1 refused) and no session ticket.
func TestMozillaIntermediateServed(t *testing.T) {
	for _, server := range []string{"nginx", "apache"} {
		t.Run(server, func(t *testing.T) {
			var sites, https, http, test, reload, root string
			if server == "nginx" {
				l := nginxtest.Start(t)
				sites, https, http, test, reload, root = l.Sites, l.HTTPS, l.HTTP, l.TestCommand, l.ReloadCommand, l.Prefix
			} else {
				l := apachetest.Start(t)
				sites, https, http, test, reload, root = l.Sites, l.HTTPS, l.HTTP, l.TestCommand, l.ReloadCommand, l.Root
			}
			dir := t.TempDir()
			cfg := webConfig(server, sites, https, http, test, reload, filepath.Join(root, "acme"), `  profile = "mozilla-intermediate"`)
			os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cfg), 0o644)
			mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply")
			conf, _ := os.ReadFile(filepath.Join(sites, "https.conf"))
			s := func(args ...string) (string, error) {
				cmd := exec.Command("openssl", append([]string{"s_client", "-connect", https, "-servername", "www.example.test"}, args...)...)
				cmd.Stdin = strings.NewReader("")
				out, err := cmd.CombinedOutput()
				return string(out), err
			}
			waitFor(t, func() bool { _, err := s("-groups", "X25519", "-brief"); return err == nil })
			if out, err := s("-groups", "secp521r1", "-brief"); err == nil {
				t.Errorf("the server accepts secp521r1, a group outside the profile:\n%s\n%s", out, conf)
			}
			out, err := s("-tls1_2")
			if err != nil {
				t.Fatalf("TLS 1.2 handshake: %v\n%s", err, out)
			}
			if strings.Contains(out, "TLS session ticket:") {
				t.Errorf("the server issues session tickets:\n%s\n%s", out, conf)
			}
			mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "plan after apply")
		})
	}
}
