package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/trustform/trustform/internal/host/sshtest"
	"github.com/trustform/trustform/internal/labutil"
	"github.com/trustform/trustform/providers/webserver/nginxtest"
)

// sshFleet is two hosts reached over real sshd: "web" runs the nginx of the
// lab (its files at their real paths, root "/"), "apt" is an APT client whose
// files live under a root of its own.
type sshFleet struct {
	dir      string
	web, apt *sshtest.Lab
	nginx    *nginxtest.Lab
	aptRoot  string
	webKey   string // the TLS key on the web host
	aptKey   string // the certificate key on the APT host
}

var fleetConfig = fixture("ssh_fleet.hcl.tmpl")

func startFleet(t *testing.T) *sshFleet {
	f := &sshFleet{web: sshtest.Start(t), apt: sshtest.Start(t), nginx: nginxtest.Start(t), aptRoot: labutil.OpenDir(t, "apthost")}
	f.dir = t.TempDir()
	key, err := os.ReadFile(filepath.Join("..", "..", "examples", "quickstart", "keys", "example-archive.asc"))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(f.dir, "keys"), 0o755)
	os.WriteFile(filepath.Join(f.dir, "keys", "example-archive.asc"), key, 0o644)
	cfg := fmt.Sprintf(fleetConfig, f.web.Port, f.web.IdentityFile, f.web.KnownHosts, f.aptRoot, f.apt.Port, f.apt.IdentityFile, f.apt.KnownHosts,
		f.nginx.Prefix, f.nginx.Sites, f.nginx.HTTPS, f.nginx.TestCommand, f.nginx.ReloadCommand)
	os.WriteFile(filepath.Join(f.dir, "main.hcl"), []byte(cfg), 0o644)
	f.webKey = filepath.Join(f.nginx.Prefix, "certs", "www.key")
	f.aptKey = filepath.Join(f.aptRoot, "etc", "ssl", "private", "apt-client.key")
	return f
}

// TestSSHFleet: a certificate and a TLS vhost (nginx really reloaded over
// SSH, and probed from here) on one host, a certificate and an APT source on
// another, each reached over its own real sshd. The second plan is empty,
// the keys are 0600 on their hosts, and no key crossed to this machine.
func TestSSHFleet(t *testing.T) {
	f := startFleet(t)
	r := tf(t, f.dir, "apply", "-auto-approve")
	mustCode(t, r, 0, "apply over SSH")
	for _, key := range []string{f.webKey, f.aptKey} {
		st, err := os.Stat(key)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s on its host: %v, %v", key, st, err)
		}
	}
	for _, p := range []string{"etc/apt/keyrings/example.gpg", "etc/apt/sources.list.d/example.sources", "etc/ssl/apt-client.pem"} {
		if _, err := os.Stat(filepath.Join(f.aptRoot, p)); err != nil {
			t.Errorf("not under the APT host's root: %v", err)
		}
	}
	mustCode(t, tf(t, f.dir, "plan", "-detailed-exitcode"), 0, "second plan over SSH")
	served := servedSPKI(t, f.nginx.HTTPS, "www.example.test")
	if got := keyFileSPKI(t, f.webKey); got != served {
		t.Errorf("nginx serves %s, the key on the web host is %s", served[:8], got[:8])
	}
	// Nothing of either key on this machine: not in state, not in the plan.
	for _, key := range []string{f.webKey, f.aptKey} {
		b, _ := os.ReadFile(key)
		secret := strings.Split(string(b), "\n")[1]
		filepath.WalkDir(f.dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if c, _ := os.ReadFile(p); strings.Contains(string(c), secret) {
					t.Errorf("key material of %s in %s", key, p)
				}
			}
			return nil
		})
	}
}

// TestSSHHostKeyChanged: a host whose key changed is refused before
// anything is written to it, naming the host, the address and both keys.
func TestSSHHostKeyChanged(t *testing.T) {
	f := startFleet(t)
	f.apt.TrustHostKey(t, sshtest.OtherKey(t))
	r := tf(t, f.dir, "apply", "-auto-approve")
	mustCode(t, r, 1, "apply to a host whose key changed")
	for _, want := range []string{"host.apt", f.apt.Addr, "changed", "SHA256:"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the refusal does not say %q:\n%s", want, r.stderr)
		}
	}
	if ents, _ := os.ReadDir(f.aptRoot); len(ents) > 0 {
		t.Errorf("written to the refused host: %v", ents)
	}
}

// TestSSHHostDown: a host that is down fails the plan with its name and the
// reason; an apply that loses a host halfway stops at the first step that
// needs it, and the next apply, with the host back, finishes.
func TestSSHHostDown(t *testing.T) {
	f := startFleet(t)
	f.apt.Stop(t)
	r := tf(t, f.dir, "plan")
	mustCode(t, r, 1, "plan with a host down")
	if !strings.Contains(r.stderr, "host.apt") || !strings.Contains(r.stderr, "connection refused") {
		t.Errorf("the failure does not name the host and the reason:\n%s", r.stderr)
	}
	f.apt.Restart(t)
	// The APT host goes down mid-apply: the test of its vhost kills its
	// sshd, and with it the connection trustform is using.
	cfg := filepath.Join(f.dir, "main.hcl")
	b, _ := os.ReadFile(cfg)
	kill := fmt.Sprintf("pkill -9 -P %[1]d; kill -9 -%[1]d", f.apt.Pid())
	os.WriteFile(cfg, []byte(strings.Replace(string(b), `test_command   = ""`, fmt.Sprintf("test_command   = %q", kill), 1)), 0o644)
	r = tf(t, f.dir, "apply", "-auto-approve")
	mustCode(t, r, 1, "apply that loses a host")
	if !strings.Contains(r.stderr, "vhost.status") || !strings.Contains(r.stderr, "host.apt") {
		t.Errorf("the failure does not name the step and the host:\n%s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(f.aptRoot, "etc/apt/sources.list.d/example.sources")); err == nil {
		t.Error("a step after the host went down was carried out")
	}
	f.apt.Stop(t) // reap what the kill left
	f.apt.Restart(t)
	os.WriteFile(cfg, b, 0o644)
	mustCode(t, tf(t, f.dir, "apply", "-auto-approve"), 0, "apply after the host is back")
	mustCode(t, tf(t, f.dir, "plan", "-detailed-exitcode"), 0, "plan after the resumed apply")
}

// TestSSHBecome: with become, a login user who cannot write root's
// directories deploys a key there through sudo -n: the key is root's and
// 0600, written in place (never through a temp file of the login user's),
// and the second plan is empty. Without become the same write is refused by
// the host, naming it.
func TestSSHBecome(t *testing.T) {
	needBecomeUser(t)
	lab := sshtest.StartAs(t, sshtest.BecomeUser)
	root := labutil.OpenDir(t, "becomehost") // root's, 0755: the login user cannot write it
	dir := t.TempDir()
	cfg := func(become bool) {
		os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(fmt.Sprintf(fixture("ssh_become.hcl.tmpl"), root, sshtest.BecomeUser, lab.Port, lab.IdentityFile, lab.KnownHosts, become)), 0o644)
	}
	cfg(false)
	r := tf(t, dir, "apply", "-auto-approve")
	mustCode(t, r, 1, "apply without become")
	if !strings.Contains(r.stderr, "host.mx") || !strings.Contains(strings.ToLower(r.stderr), "permission denied") {
		t.Errorf("the refusal does not name the host and the reason:\n%s", r.stderr)
	}
	cfg(true)
	mustCode(t, tf(t, dir, "apply", "-auto-approve"), 0, "apply with become")
	key := filepath.Join(root, "etc", "ssl", "private", "mail.key")
	st, err := os.Stat(key)
	if err != nil || st.Mode().Perm() != 0o600 || st.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Fatalf("the key: %v, %v", st, err)
	}
	mustCode(t, tf(t, dir, "plan", "-detailed-exitcode"), 0, "second plan with become")
}
