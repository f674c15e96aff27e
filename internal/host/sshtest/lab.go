// Package sshtest runs a real OpenSSH sshd for tests, on a loopback port
// with its own host key, configuration and authorized key (no system
// configuration touched). Each Lab is one "host" of a fleet.
package sshtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/trustform/trustform/internal/labutil"
)

// Lab is one running sshd.
type Lab struct {
	Dir          string
	Addr         string // 127.0.0.1:port
	Port         int
	User         string // the login user: the one running the tests
	IdentityFile string // the client's private key (0600)
	KnownHosts   string // a known_hosts file that knows this sshd's host key
	HostKey      ssh.PublicKey
	proc         *labutil.Proc
	bin, config  string
}

// BecomeUser is the unprivileged login user of the become tests, with
// passwordless sudo; scripts/test.sh creates it where it runs as root.
const BecomeUser = "trustform-test"

// Start runs sshd for the user running the tests; it stops with the test.
func Start(t testing.TB) *Lab {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return StartAs(t, u.Username)
}

// StartAs runs sshd that lets login (with the lab's key) as login, with
// extra lines of sshd_config.
func StartAs(t testing.TB, login string, extra ...string) *Lab {
	t.Helper()
	bin := labutil.Binary(t, "sshd", "/usr/sbin/sshd")
	keygen := labutil.Binary(t, "ssh-keygen", "/usr/bin/ssh-keygen")
	dir := labutil.OpenDir(t, "sshlab")
	lab := &Lab{Dir: dir, Port: labutil.FreePort(t), User: login, bin: bin}
	lab.Addr = fmt.Sprintf("127.0.0.1:%d", lab.Port)
	hostKey := filepath.Join(dir, "host_ed25519")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	lab.HostKey = readPublic(t, hostKey+".pub")
	lab.IdentityFile = filepath.Join(dir, "id_ed25519")
	client := newClientKey(t, lab.IdentityFile)
	authorized := filepath.Join(dir, "authorized_keys")
	// sshd reads it as the login user.
	must(t, os.WriteFile(authorized, ssh.MarshalAuthorizedKey(client), 0o644))
	lab.KnownHosts = filepath.Join(dir, "known_hosts")
	lab.TrustHostKey(t, lab.HostKey)
	lab.config = filepath.Join(dir, "sshd_config")
	must(t, os.WriteFile(lab.config, []byte(fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile %s/sshd.pid
AuthorizedKeysFile %s
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
MaxSessions 100
MaxStartups 100
Subsystem sftp internal-sftp
LogLevel ERROR
%s
`, lab.Port, hostKey, dir, authorized, strings.Join(extra, "\n"))), 0o600))
	lab.start(t)
	return lab
}

func (l *Lab) start(t testing.TB) {
	t.Helper()
	// sshd insists on its privilege separation directory, which the
	// package's own (never started) service would create.
	if _, err := os.Stat("/run/sshd"); err != nil && os.Geteuid() == 0 {
		must(t, os.MkdirAll("/run/sshd", 0o755))
	}
	if out, err := exec.Command(l.bin, "-t", "-f", l.config).CombinedOutput(); err != nil {
		t.Fatalf("sshd -t: %v\n%s", err, out)
	}
	l.proc = labutil.Start(t, exec.Command(l.bin, "-D", "-E", filepath.Join(l.Dir, "sshd.log"), "-f", l.config))
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", l.Addr); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("sshd does not listen on %s", l.Addr)
}

// Log is what sshd logged (at LogLevel VERBOSE, each session it started:
// "Starting session: command …", "Starting session: subsystem 'sftp' …").
func (l *Lab) Log(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(l.Dir, "sshd.log"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// Stop kills sshd and every session it runs, as a host that goes down.
func (l *Lab) Stop(t testing.TB) {
	t.Helper()
	if err := l.proc.Stop(); err != nil {
		t.Fatal(err)
	}
}

// Pid is sshd's process id, which is also its process group's.
func (l *Lab) Pid() int { return l.proc.Pid() }

// Restart starts sshd again after Stop, with the same host key.
func (l *Lab) Restart(t testing.TB) { l.start(t) }

// TrustHostKey writes known_hosts with key for this sshd's address.
func (l *Lab) TrustHostKey(t testing.TB, key ssh.PublicKey) {
	t.Helper()
	line := fmt.Sprintf("[127.0.0.1]:%d %s", l.Port, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))))
	must(t, os.WriteFile(l.KnownHosts, []byte(line+"\n"), 0o600))
}

// OtherKey is a host key that is not this sshd's, for a known_hosts that
// remembers another one.
func OtherKey(t testing.TB) ssh.PublicKey {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	k, err := ssh.NewPublicKey(pub)
	must(t, err)
	return k
}

func newClientKey(t testing.TB, path string) ssh.PublicKey {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	block, err := ssh.MarshalPrivateKey(priv, "")
	must(t, err)
	must(t, os.WriteFile(path, pem.EncodeToMemory(block), 0o600))
	k, err := ssh.NewPublicKey(pub)
	must(t, err)
	return k
}

func readPublic(t testing.TB, path string) ssh.PublicKey {
	b, err := os.ReadFile(path)
	must(t, err)
	k, _, _, _, err := ssh.ParseAuthorizedKey(b)
	must(t, err)
	return k
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// CertifyHostKey signs the host key with a new CA as a host certificate
// for principals, valid for validity (ssh-keygen -V syntax, "" for
// always), restarts sshd presenting it (HostCertificate), and returns the
// CA's public key.
func (l *Lab) CertifyHostKey(t testing.TB, principals []string, validity string) ssh.PublicKey {
	t.Helper()
	keygen := labutil.Binary(t, "ssh-keygen", "/usr/bin/ssh-keygen")
	ca := filepath.Join(t.TempDir(), "host_ca")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-f", ca).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	args := []string{"-q", "-s", ca, "-I", "lab", "-h", "-n", strings.Join(principals, ",")}
	if validity != "" {
		args = append(args, "-V", validity)
	}
	if out, err := exec.Command(keygen, append(args, l.hostKey()+".pub")...).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -s: %v\n%s", err, out)
	}
	l.SetConfig(t, "HostCertificate", l.hostKey()+"-cert.pub")
	return readPublic(t, ca+".pub")
}

// ReplaceHostKey gives sshd a new host key of type keyType ("rsa",
// "ecdsa", "ed25519") in place of its own, as a reinstalled host has, and
// returns it.
func (l *Lab) ReplaceHostKey(t testing.TB, keyType string) ssh.PublicKey {
	t.Helper()
	keygen := labutil.Binary(t, "ssh-keygen", "/usr/bin/ssh-keygen")
	key := filepath.Join(l.Dir, "host_"+keyType+"_new")
	if out, err := exec.Command(keygen, "-q", "-t", keyType, "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	l.SetConfig(t, "HostKey", key)
	l.HostKey = readPublic(t, key+".pub")
	return l.HostKey
}

// WriteKnownHosts writes the client's known_hosts.
func (l *Lab) WriteKnownHosts(t testing.TB, lines ...string) {
	t.Helper()
	must(t, os.WriteFile(l.KnownHosts, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
}

// hostKey is the private host key file sshd's configuration names.
func (l *Lab) hostKey() string {
	b, _ := os.ReadFile(l.config)
	for _, line := range strings.Split(string(b), "\n") {
		if k, ok := strings.CutPrefix(line, "HostKey "); ok {
			return k
		}
	}
	return ""
}

// SetConfig sets one sshd_config keyword (replacing it where it is) and
// restarts sshd.
func (l *Lab) SetConfig(t testing.TB, keyword, value string) {
	t.Helper()
	b, _ := os.ReadFile(l.config)
	var lines []string
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if !strings.HasPrefix(line, keyword+" ") {
			lines = append(lines, line)
		}
	}
	lines = append(lines, keyword+" "+value)
	must(t, os.WriteFile(l.config, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	l.Stop(t)
	l.start(t)
}
