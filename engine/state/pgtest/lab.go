// Package pgtest runs a real PostgreSQL for tests: initdb into a temp
// directory and postgres on a loopback port, as an unprivileged user (the
// postgres system user when the tests run as root), with scram-sha-256
// password authentication over TLS (a CA of the lab's own, which the
// connection string verifies, as trustform requires where a password is
// sent). No system cluster is touched.
package pgtest

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
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/trustform/trustform/internal/labutil"
)

// Lab is one running PostgreSQL.
type Lab struct {
	Addr     string // 127.0.0.1:port
	Port     int
	User     string // a superuser
	Password string // for PGPASSWORD: conn strings carry none
	Database string
	RootCert string // the lab CA's certificate, for sslrootcert
}

// ConnStr is the connection string of the lab, without the password,
// verifying the server's certificate.
func (l *Lab) ConnStr() string {
	return fmt.Sprintf("postgres://%s@%s/%s?sslmode=verify-full&sslrootcert=%s", l.User, l.Addr, l.Database, url.QueryEscape(l.RootCert))
}

// Start runs PostgreSQL; it stops with the test.
func Start(t testing.TB) *Lab {
	t.Helper()
	bin := pgBin(t)
	dir := labutil.OpenDir(t, "pglab")
	lab := &Lab{Port: labutil.FreePort(t), User: "trustform_test", Password: "s3cret-" + strconv.Itoa(os.Getpid()), Database: "postgres"}
	lab.Addr = fmt.Sprintf("127.0.0.1:%d", lab.Port)
	cred := credential(t, dir)
	pw := filepath.Join(dir, "pwfile")
	must(t, os.WriteFile(pw, []byte(lab.Password+"\n"), 0o600))
	data := filepath.Join(dir, "data")
	if cred != nil {
		must(t, os.Chown(pw, int(cred.Uid), int(cred.Gid)))
	}
	run := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Dir = dir
		return cmd
	}
	if out, err := run("initdb", "-D", data, "-U", lab.User, "--pwfile="+pw, "--auth=scram-sha-256", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	crt, key := serverCertificate(t, dir, lab)
	if cred != nil {
		must(t, os.Chown(key, int(cred.Uid), int(cred.Gid)))
	}
	cmd := run("postgres", "-D", data, "-p", strconv.Itoa(lab.Port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
		"-c", "ssl=on", "-c", "ssl_cert_file="+crt, "-c", "ssl_key_file="+key)
	labutil.Start(t, cmd)
	var out []byte
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var err error
		if out, err = exec.Command(filepath.Join(bin, "pg_isready"), "-h", "127.0.0.1", "-p", strconv.Itoa(lab.Port)).CombinedOutput(); err == nil {
			return lab
		}
	}
	t.Fatalf("postgres does not accept connections on %s: %s", lab.Addr, out)
	return nil
}

// credential is whom the server runs as: this user, or postgres when the
// tests run as root (PostgreSQL refuses to run as root).
func credential(t testing.TB, dir string) *syscall.Credential {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("running as root, PostgreSQL needs the postgres user: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	must(t, os.Chown(dir, uid, gid))
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

func pgBin(t testing.TB) string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		labutil.Binary(t, "initdb") // skips, or fails under CI=true
		p, _ := exec.LookPath("initdb")
		return filepath.Dir(p)
	}
	return filepath.Dir(matches[len(matches)-1])
}

// serverCertificate makes the lab's CA (lab.RootCert) and the server's
// certificate for 127.0.0.1, and returns the server's files.
func serverCertificate(t testing.TB, dir string, lab *Lab) (crt, key string) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pgtest CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, caKey.Public(), caKey)
	must(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	must(t, err)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	srv := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(24 * time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srv, caCert, srvKey.Public(), caKey)
	must(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(srvKey)
	must(t, err)
	lab.RootCert, crt, key = filepath.Join(dir, "root.crt"), filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	must(t, os.WriteFile(lab.RootCert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644))
	must(t, os.WriteFile(crt, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}), 0o644))
	must(t, os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	return crt, key
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
