// Package mailtest runs real mail servers for tests, on loopback ports
// with their own configuration directories (no system configuration
// touched): Postfix (smtpd offering STARTTLS) and Dovecot (IMAP with
// STARTTLS, and IMAPS), both reading the certificate and key files that
// trustform manages. TestCommand and ReloadCommand are what a service's
// test_command and reload_command must be to manage them. Both need root:
// Postfix's master runs as root and its daemons as the postfix user.
package mailtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"testing"
	"time"

	"github.com/trustform/trustform/internal/labutil"
)

// Lab is one running mail server.
type Lab struct {
	Dir           string
	TestCommand   string
	ReloadCommand string
	log           string
	proc          *labutil.Proc
}

// Postfix is a Postfix lab: smtpd on SMTP (STARTTLS), delivering mail
// for example.test into one Maildir.
type Postfix struct {
	Lab
	SMTP    string // 127.0.0.1:port
	Maildir string // where every message to @example.test lands (new/)
}

// Dovecot is a Dovecot lab: IMAP (STARTTLS) and IMAPS.
type Dovecot struct {
	Lab
	IMAP, IMAPS string // 127.0.0.1:port
}

// StartPostfix runs Postfix with smtpd_tls_chain_files = keyFile, certFile.
// Files that do not exist yet get a self-signed placeholder first, as a
// mail server has before trustform manages it.
func StartPostfix(t testing.TB, certFile, keyFile string) *Postfix {
	t.Helper()
	postfix := labutil.Binary(t, "postfix", "/usr/sbin/postfix")
	master := labutil.Binary(t, "master", "/usr/lib/postfix/sbin/master")
	needRoot(t, "Postfix")
	placeholder(t, certFile, keyFile)
	dir := labutil.OpenDir(t, "postfixlab")
	l := &Postfix{Lab: Lab{Dir: dir, log: filepath.Join(dir, "maillog")}, SMTP: fmt.Sprintf("127.0.0.1:%d", labutil.FreePort(t))}
	conf := filepath.Join(dir, "conf")
	os.MkdirAll(conf, 0o755)
	os.MkdirAll(filepath.Join(dir, "queue"), 0o755)
	os.MkdirAll(filepath.Join(dir, "data"), 0o700)
	os.MkdirAll(filepath.Join(dir, "mail"), 0o755)
	l.Maildir = filepath.Join(dir, "mail", "inbox")
	uid, gid := 0, 0
	if u, err := user.Lookup("postfix"); err == nil {
		fmt.Sscan(u.Uid, &uid)
		fmt.Sscan(u.Gid, &gid)
		os.Chown(filepath.Join(dir, "data"), uid, gid)
		os.Chown(filepath.Join(dir, "mail"), uid, gid)
	}
	os.WriteFile(filepath.Join(conf, "main.cf"), []byte(fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mail.example.test
mydestination =
alias_maps =
alias_database =
maillog_file = %[1]s/maillog
maillog_file_prefixes = %[1]s
smtpd_tls_security_level = may
smtpd_tls_chain_files = %[2]s, %[3]s
virtual_mailbox_domains = example.test
virtual_mailbox_base = %[1]s/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:%[4]d
virtual_gid_maps = static:%[5]d
virtual_minimum_uid = 1
`, dir, keyFile, certFile, uid, gid)), 0o644)
	os.WriteFile(filepath.Join(conf, "master.cf"), []byte(l.SMTP+` inet n - n - - smtpd
pickup    unix  n - n 60    1 pickup
cleanup   unix  n - n -     0 cleanup
qmgr      unix  n - n 300   1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n -     - trivial-rewrite
bounce    unix  - - n -     0 bounce
defer     unix  - - n -     0 bounce
trace     unix  - - n -     0 bounce
verify    unix  - - n -     1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -     - proxymap
smtp      unix  - - n -     - smtp
relay     unix  - - n -     - smtp
showq     unix  n - n -     - showq
error     unix  - - n -     - error
retry     unix  - - n -     - error
discard   unix  - - n -     - discard
local     unix  - n n -     - local
virtual   unix  - n n -     - virtual
anvil     unix  - - n -     1 anvil
scache    unix  - - n -     1 scache
postlog   unix-dgram n - n - 1 postlogd
`), 0o644)
	if out, err := exec.Command(postfix, "-c", conf, "post-install", "create-missing").CombinedOutput(); err != nil {
		t.Fatalf("postfix post-install: %v\n%s", err, out)
	}
	l.TestCommand = postfix + " -c " + conf + " check"
	l.ReloadCommand = postfix + " -c " + conf + " reload"
	l.proc = labutil.Start(t, exec.Command(master, "-c", conf, "-d"))
	l.wait(t, l.SMTP)
	return l
}

// StartDovecot runs Dovecot with ssl_cert and ssl_key from the files
// (placeholders first, as for Postfix).
func StartDovecot(t testing.TB, certFile, keyFile string) *Dovecot {
	t.Helper()
	dovecot := labutil.Binary(t, "dovecot", "/usr/sbin/dovecot")
	needRoot(t, "Dovecot")
	placeholder(t, certFile, keyFile)
	dir := labutil.OpenDir(t, "dovecotlab")
	l := &Dovecot{Lab: Lab{Dir: dir, log: filepath.Join(dir, "dovecot.log")},
		IMAP: fmt.Sprintf("127.0.0.1:%d", labutil.FreePort(t)), IMAPS: fmt.Sprintf("127.0.0.1:%d", labutil.FreePort(t))}
	_, imapPort, _ := net.SplitHostPort(l.IMAP)
	_, imapsPort, _ := net.SplitHostPort(l.IMAPS)
	conf := filepath.Join(dir, "dovecot.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <%[2]s
ssl_key = <%[3]s
default_internal_user = dovecot
default_login_user = dovenull
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=%[1]s/home
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = %[4]s
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = %[5]s
    ssl = yes
  }
}
service anvil {
  chroot =
}
`, dir, certFile, keyFile, imapPort, imapsPort)), 0o644)
	l.TestCommand = "doveconf -c " + conf + " -n >/dev/null"
	l.ReloadCommand = "doveadm -c " + conf + " reload"
	l.proc = labutil.Start(t, exec.Command(dovecot, "-F", "-c", conf))
	l.wait(t, l.IMAPS)
	return l
}

// Log is the server's log, for failure messages.
func (l *Lab) Log() string {
	b, _ := os.ReadFile(l.log)
	return string(b)
}

func (l *Lab) wait(t testing.TB, addr string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("no server listens on %s; the log:\n%s", addr, l.Log())
}

func needRoot(t testing.TB, what string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("the %s lab needs root (its master process runs as root)", what)
	}
	t.Skipf("the %s lab needs root", what)
}

// placeholder writes a self-signed certificate and key where none is yet.
func placeholder(t testing.TB, certFile, keyFile string) {
	t.Helper()
	if _, err := os.Stat(certFile); err == nil {
		return
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "placeholder"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), DNSNames: []string{"placeholder.invalid"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	os.MkdirAll(filepath.Dir(certFile), 0o755)
	os.MkdirAll(filepath.Dir(keyFile), 0o755)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}
