package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/trustform/trustform/internal/labutil"
)

// Pooler is a real pgbouncer in front of a Lab, listening on a Unix socket
// in a directory of its own (as the postgres user when the tests run as
// root: pgbouncer refuses to run as root).
type Pooler struct {
	Dir  string
	Port int
	Mode string // pool_mode: "session" or "transaction"
	lab  *Lab
}

// ConnStr is the connection string through the pooler, over its socket.
func (p *Pooler) ConnStr(params string) string {
	s := fmt.Sprintf("postgres://%s@/%s?host=%s&port=%d", p.lab.User, p.lab.Database, p.Dir, p.Port)
	if params != "" {
		s += "&" + params
	}
	return s
}

// StartPgbouncer runs pgbouncer with pool_mode mode in front of lab; it
// stops with the test.
func StartPgbouncer(t testing.TB, lab *Lab, mode string) *Pooler {
	t.Helper()
	bin := labutil.Binary(t, "pgbouncer", "/usr/sbin/pgbouncer")
	dir := labutil.OpenDir(t, "pgbouncer")
	p := &Pooler{Dir: dir, Port: labutil.FreePort(t), Mode: mode, lab: lab}
	_, pgPort, _ := net.SplitHostPort(lab.Addr)
	ini := fmt.Sprintf(`[databases]
%[1]s = host=127.0.0.1 port=%[2]s dbname=%[1]s user=%[3]s password=%[4]s

[pgbouncer]
listen_addr =
listen_port = %[5]d
unix_socket_dir = %[6]s
auth_type = trust
auth_file = %[6]s/users.txt
pool_mode = %[7]s
default_pool_size = 4
max_client_conn = 50
logfile = %[6]s/pgbouncer.log
pidfile = %[6]s/pgbouncer.pid
ignore_startup_parameters = extra_float_digits
`, lab.Database, pgPort, lab.User, lab.Password, p.Port, dir, mode)
	must(t, os.WriteFile(filepath.Join(dir, "pgbouncer.ini"), []byte(ini), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "users.txt"), []byte(fmt.Sprintf("%q \"\"\n", lab.User)), 0o600))
	cred := credential(t, dir)
	if cred != nil {
		for _, f := range []string{"pgbouncer.ini", "users.txt"} {
			must(t, os.Chown(filepath.Join(dir, f), int(cred.Uid), int(cred.Gid)))
		}
	}
	cmd := exec.Command(bin, filepath.Join(dir, "pgbouncer.ini"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	labutil.Start(t, cmd)
	socket := filepath.Join(dir, ".s.PGSQL."+strconv.Itoa(p.Port))
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("unix", socket); err == nil {
			c.Close()
			return p
		}
	}
	log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
	t.Fatalf("pgbouncer does not listen at %s:\n%s", socket, log)
	return nil
}
