package host_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/trustform/trustform/internal/host"
	"github.com/trustform/trustform/internal/host/sshtest"
	"github.com/trustform/trustform/internal/labutil"
)

func sshHost(lab *sshtest.Lab, root string) *host.SSH {
	return host.NewSSH(host.SSHConfig{Name: "host.test", Address: lab.Addr, User: lab.User,
		IdentityFile: lab.IdentityFile, KnownHosts: lab.KnownHosts, Root: root, Timeout: 5 * time.Second})
}

// TestSSHFiles: files over SFTP behave as on this machine: absent is a
// value, writes are atomic with their mode (a key 0600), links are refused,
// and commands run on the host.
func TestSSHFiles(t *testing.T) {
	lab := sshtest.Start(t)
	root := labutil.OpenDir(t, "sshroot")
	h := sshHost(lab, root)
	defer h.Close()
	key := filepath.Join(root, "etc", "ssl", "private", "www.key")
	if b, err := h.ReadFile(key); b != nil || err != nil {
		t.Fatalf("absent file: %q, %v", b, err)
	}
	if st, err := h.Stat(key); st != nil || err != nil {
		t.Fatalf("absent stat: %v, %v", st, err)
	}
	if err := h.WriteFile(key, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(key)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the key on the host: %v, %v", st, err)
	}
	if d, _ := os.Stat(filepath.Dir(key)); d.Mode().Perm() != 0o755 {
		t.Errorf("created directory has mode %04o", d.Mode().Perm())
	}
	if b, err := h.ReadFile(key); string(b) != "secret\n" || err != nil {
		t.Fatalf("read back: %q, %v", b, err)
	}
	if err := h.WriteFile(key, []byte("new\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(key)); len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}
	if h.UID() != os.Geteuid() {
		t.Errorf("UID %d, want %d", h.UID(), os.Geteuid())
	}
	out, err := h.Run(context.Background(), "echo $((1+2)); exit 0")
	if err != nil || strings.TrimSpace(string(out)) != "3" {
		t.Fatalf("run: %q, %v", out, err)
	}
	if _, err := h.Run(context.Background(), "echo failing >&2; exit 3"); err == nil {
		t.Error("a failing command succeeded")
	}
	got, err := h.Glob(filepath.Join(root, "etc", "ssl", "*", "*.key"))
	if err != nil || len(got) != 1 || got[0] != key {
		t.Errorf("glob: %v, %v", got, err)
	}

	// A link planted in the managed tree.
	elsewhere := t.TempDir()
	os.Symlink(elsewhere, filepath.Join(root, "etc", "nginx"))
	if err := h.WriteFile(filepath.Join(root, "etc", "nginx", "site.conf"), []byte("x"), 0o644); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("write through a linked directory: %v", err)
	}
	if ents, _ := os.ReadDir(elsewhere); len(ents) > 0 {
		t.Errorf("written where the link points: %v", ents)
	}
	if err := h.Remove(key); err != nil {
		t.Fatal(err)
	}
	if err := h.Remove(key); err != nil {
		t.Errorf("removing a missing file: %v", err)
	}
}

// TestSSHHostKeys: an unknown host key and a changed one are refused,
// naming the host, its address and the fingerprints; nothing is sent.
func TestSSHHostKeys(t *testing.T) {
	lab := sshtest.Start(t)
	lab.TrustHostKey(t, sshtest.OtherKey(t))
	h := sshHost(lab, "/")
	_, err := h.ReadFile("/etc/hostname")
	if err == nil || !strings.Contains(err.Error(), "host key of") || !strings.Contains(err.Error(), "changed") ||
		!strings.Contains(err.Error(), "host.test") || !strings.Contains(err.Error(), lab.Addr) || strings.Count(err.Error(), "SHA256:") != 2 {
		t.Errorf("a changed host key: %v", err)
	}
	os.WriteFile(lab.KnownHosts, nil, 0o600)
	h = sshHost(lab, "/")
	if _, err := h.ReadFile("/etc/hostname"); err == nil || !strings.Contains(err.Error(), "unknown host key") {
		t.Errorf("an unknown host key: %v", err)
	}
	lab.Stop(t)
	h = sshHost(lab, "/")
	if _, err := h.ReadFile("/etc/hostname"); err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "host.test") {
		t.Errorf("a host that is down: %v", err)
	}
}

// TestSSHJump: a host behind a bastion is reached through it (ProxyJump):
// with forwarding refused on the bastion the host cannot be reached, with
// it allowed it can.
func TestSSHJump(t *testing.T) {
	target := sshtest.Start(t)
	for _, allowed := range []bool{false, true} {
		extra := "AllowTcpForwarding no"
		if allowed {
			extra = "AllowTcpForwarding yes"
		}
		bastion := sshtest.StartAs(t, target.User, extra)
		known := filepath.Join(t.TempDir(), "known_hosts")
		a, _ := os.ReadFile(target.KnownHosts)
		b, _ := os.ReadFile(bastion.KnownHosts)
		os.WriteFile(known, append(a, b...), 0o600)
		// One identity for both: the bastion's lab accepts the target's key too.
		os.WriteFile(filepath.Join(bastion.Dir, "authorized_keys"), mustRead(t, filepath.Join(target.Dir, "authorized_keys")), 0o644)
		h := host.NewSSH(host.SSHConfig{Name: "host.behind", Address: target.Addr, User: target.User, IdentityFile: target.IdentityFile,
			KnownHosts: known, Jump: target.User + "@" + bastion.Addr, Timeout: 5 * time.Second})
		out, err := h.Run(context.Background(), "echo through")
		h.Close()
		switch {
		case allowed && (err != nil || strings.TrimSpace(string(out)) != "through"):
			t.Errorf("through the bastion: %q, %v", out, err)
		case !allowed && (err == nil || !strings.Contains(err.Error(), "jump host")):
			t.Errorf("a bastion that forwards nothing let the connection through: %q, %v", out, err)
		}
	}
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSSHAgent: without identity_file the key comes from the SSH agent at
// SSH_AUTH_SOCK (a real ssh-agent holding the lab's key).
func TestSSHAgent(t *testing.T) {
	lab := sshtest.Start(t)
	agentBin := labutil.Binary(t, "ssh-agent", "/usr/bin/ssh-agent")
	sock := filepath.Join(t.TempDir(), "agent.sock")
	labutil.Start(t, exec.Command(agentBin, "-D", "-a", sock))
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
	}
	add := exec.Command("ssh-add", lab.IdentityFile)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, out)
	}
	t.Setenv("SSH_AUTH_SOCK", sock)
	h := host.NewSSH(host.SSHConfig{Name: "host.agent", Address: lab.Addr, User: lab.User, KnownHosts: lab.KnownHosts, Timeout: 5 * time.Second})
	defer h.Close()
	if out, err := h.Run(context.Background(), "echo agent"); err != nil || strings.TrimSpace(string(out)) != "agent" {
		t.Fatalf("through the agent: %q, %v", out, err)
	}
}

// TestSSHKnownKeyType: a host known by one key type (Ed25519) that also
// offers a type the client would prefer (ECDSA) is asked for the key
// known_hosts has, not refused as changed.
func TestSSHKnownKeyType(t *testing.T) {
	ecdsa := filepath.Join(labutil.OpenDir(t, "hostkeys"), "host_ecdsa")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", ecdsa).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	lab := sshtest.StartAs(t, currentUser(t), "HostKey "+ecdsa) // known_hosts: its Ed25519 key only
	h := sshHost(lab, "/")
	defer h.Close()
	if _, err := h.Run(context.Background(), "true"); err != nil {
		t.Fatalf("a host known by its Ed25519 key: %v", err)
	}
}

func currentUser(t *testing.T) string {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

// TestSSHCertAuthorityReportedAsAttack: a host that presents a host
// certificate is known through @cert-authority as OpenSSH knows it: with
// the port in the pattern, with a wildcard, and hashed; a certificate for
// another name, expired, of a revoked CA or of a CA not trusted for the
// host is refused, saying why.
func TestSSHCertAuthorityReportedAsAttack(t *testing.T) {
	lab := sshtest.Start(t)
	ca := lab.CertifyHostKey(t, []string{"127.0.0.1"}, "")
	caLine := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(ca)))
	name := fmt.Sprintf("[127.0.0.1]:%d", lab.Port)
	for _, pattern := range []string{name, "*", "[127.0.0.*]:*", knownhosts.HashHostname(name), "*,!other.example"} {
		lab.WriteKnownHosts(t, "@cert-authority "+pattern+" "+caLine)
		if _, err := sshHost(lab, "/").ReadFile("/etc/hostname"); err != nil {
			t.Errorf("@cert-authority %s: %v", pattern, err)
		}
	}
	for _, tc := range []struct{ lines []string }{
		{[]string{"@cert-authority other.example " + caLine}},
		{[]string{"@cert-authority * " + caLine, "@revoked * " + caLine}},
		{[]string{"@cert-authority * " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshtest.OtherKey(t))))}},
	} {
		lab.WriteKnownHosts(t, tc.lines...)
		_, err := sshHost(lab, "/").ReadFile("/etc/hostname")
		if err == nil || !strings.Contains(err.Error(), "not trust") || strings.Contains(err.Error(), "CHANGED") {
			t.Errorf("%v: %v", tc.lines, err)
		}
	}
	lab.WriteKnownHosts(t, "@cert-authority * "+caLine)
	for _, tc := range []struct {
		principals     []string
		validity, want string
	}{
		{[]string{"mail.example.test"}, "", "not in the set of valid principals"},
		{[]string{"127.0.0.1"}, "20200101:20200102", "expired"},
	} {
		ca := lab.CertifyHostKey(t, tc.principals, tc.validity)
		lab.WriteKnownHosts(t, "@cert-authority * "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(ca))))
		_, err := sshHost(lab, "/").ReadFile("/etc/hostname")
		if err == nil || !strings.Contains(err.Error(), "host certificate refused") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("a certificate for %v valid %q: %v", tc.principals, tc.validity, err)
		}
	}
}

// TestSSHChangedKeyAlgorithm: a host known by its ed25519 key that now
// offers only an RSA key is a changed key, with both fingerprints, as
// OpenSSH reports it, not "no common algorithm"; a host known by several
// keys is reached whichever of them it offers.
func TestSSHChangedKeyAlgorithm(t *testing.T) {
	lab := sshtest.Start(t)
	old := lab.HostKey
	rsa := lab.ReplaceHostKey(t, "rsa")
	lab.TrustHostKey(t, old)
	_, err := sshHost(lab, "/").ReadFile("/etc/hostname")
	if err == nil || !strings.Contains(err.Error(), "REMOTE HOST IDENTIFICATION HAS CHANGED") ||
		!strings.Contains(err.Error(), ssh.FingerprintSHA256(old)) || !strings.Contains(err.Error(), ssh.FingerprintSHA256(rsa)) {
		t.Errorf("a host that now offers only RSA: %v", err)
	}
	name := fmt.Sprintf("[127.0.0.1]:%d ", lab.Port)
	lab.WriteKnownHosts(t, name+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(old))), name+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(rsa))))
	if _, err := sshHost(lab, "/").ReadFile("/etc/hostname"); err != nil {
		t.Errorf("a host known by two keys: %v", err)
	}
}

// TestSSHNewFilesPrivate: where the SFTP server's umask would let anyone
// read a new file (internal-sftp -u 000, a hostile host's default), no
// file trustform writes is ever reachable by another user before it has
// its mode: a watcher that lists the directory all the time never sees a
// file open to others, nor a file inside a temporary directory that is.
func TestSSHNewFilesPrivate(t *testing.T) {
	lab := sshtest.Start(t)
	lab.SetConfig(t, "Subsystem", "sftp internal-sftp -u 000")
	root := labutil.OpenDir(t, "sshroot")
	h := sshHost(lab, root)
	defer h.Close()
	dir := filepath.Join(root, "etc", "ssl", "private")
	key := filepath.Join(dir, "www.key")
	if err := h.WriteFile(key, []byte("first\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stop, seen := make(chan struct{}), make(chan string, 1)
	go func() {
		defer close(seen)
		looks := 0
		for {
			select {
			case <-stop:
				t.Logf("the watcher listed the directory %d times", looks)
				return
			default:
			}
			looks++
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				p := filepath.Join(dir, e.Name())
				// What a directory holds, then its mode: a directory is
				// made open to all and closed before anything is put in
				// it, so a mode read after its contents is the one they
				// were put in under, or a later one.
				inside, _ := os.ReadDir(p)
				st, err := os.Lstat(p)
				if err != nil {
					continue
				}
				switch {
				case st.Mode().IsRegular() && st.Mode().Perm()&0o077 != 0:
					seen <- fmt.Sprintf("%s with mode %v", p, st.Mode())
					return
				case st.IsDir() && len(inside) > 0 && st.Mode().Perm() != 0o700:
					seen <- fmt.Sprintf("%s holding %s with mode %v", p, inside[0].Name(), st.Mode())
					return
				}
			}
		}
	}()
	for i := range 40 {
		if err := h.WriteFile(key, []byte(fmt.Sprintf("secret %d\n", i)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	if what, ok := <-seen; ok {
		t.Errorf("another user could have opened %s", what)
	}
	if st, err := os.Stat(key); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("the key: %v, %v", st, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
}

// TestSSHOneCommandSession: files go through the sftp subsystem, which
// starts no shell where sshd serves it itself, and the commands of a run
// through one session: the login shell (and a heavy rc file with it)
// starts once, not per command. A command that is interrupted ends the
// session, and the next one starts another.
func TestSSHOneCommandSession(t *testing.T) {
	lab := sshtest.Start(t)
	lab.SetConfig(t, "LogLevel", "VERBOSE")
	root := labutil.OpenDir(t, "sshroot")
	h := sshHost(lab, root)
	defer h.Close()
	if err := h.WriteFile(filepath.Join(root, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	sessions := func(kind string) int { return strings.Count(lab.Log(t), "Starting session: "+kind) }
	if n, m := sessions("subsystem 'sftp'"), sessions("command"); n != 1 || m != 0 {
		t.Errorf("files took %d sftp subsystem sessions and %d command sessions; want 1 and 0", n, m)
	}
	for i := range 5 {
		out, err := h.Run(context.Background(), fmt.Sprintf("printf 'line\\n%%s' %d; echo oops >&2", i))
		if err != nil || string(out) != fmt.Sprintf("line\n%doops\n", i) {
			t.Fatalf("command %d: %q, %v", i, out, err)
		}
	}
	if out, err := h.Run(context.Background(), "echo failing; exit 3"); err == nil || string(out) != "failing\n" || !strings.Contains(err.Error(), "status 3") {
		t.Errorf("a failing command: %q, %v", out, err)
	}
	if n := sessions("command"); n != 1 {
		t.Errorf("six commands took %d sessions; want 1", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := h.Run(ctx, "sleep 30"); err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("an interrupted command: %v after %s", err, time.Since(start))
	}
	if out, err := h.Run(context.Background(), "echo again"); err != nil || string(out) != "again\n" {
		t.Errorf("after an interrupted command: %q, %v", out, err)
	}
}
