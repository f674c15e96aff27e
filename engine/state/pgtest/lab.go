// Package pgtest runs a real PostgreSQL for tests: initdb into a temp
// directory and postgres on a loopback port, as an unprivileged user (the
// postgres system user when the tests run as root), with scram-sha-256
// password authentication. No system cluster is touched.
package pgtest

import (
	"fmt"
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
}

// ConnStr is the connection string of the lab, without the password.
func (l *Lab) ConnStr() string {
	return fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", l.User, l.Addr, l.Database)
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
	cmd := run("postgres", "-D", data, "-p", strconv.Itoa(lab.Port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off")
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

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
