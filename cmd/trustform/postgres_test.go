package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/engine/state/pgtest"
	"github.com/trustform/trustform/internal/labutil"
	"github.com/trustform/trustform/providers/acme/pebbletest"
	"github.com/trustform/trustform/providers/dns/dnstest"
)

// TestPostgresState: two working copies of one configuration (two CI
// runners) share state through a real PostgreSQL: an apply on one leaves
// the other's plan empty; a plan saved on one applies on the other and is
// then refused as stale; a held lock is named; no secret reaches the
// database.
func TestPostgresState(t *testing.T) {
	lab := pgtest.Start(t)
	env := []string{"PGPASSWORD=" + lab.Password}
	server := labutil.OpenDir(t, "pgserver") // the managed machine both runners reach
	key, err := os.ReadFile(filepath.Join("..", "..", "examples", "quickstart", "keys", "example-archive.asc"))
	if err != nil {
		t.Fatal(err)
	}
	copies := []string{t.TempDir(), t.TempDir()}
	write := func(suite string) {
		for _, d := range copies {
			os.MkdirAll(filepath.Join(d, "keys"), 0o755)
			os.WriteFile(filepath.Join(d, "keys", "example-archive.asc"), key, 0o644)
			os.WriteFile(filepath.Join(d, "main.hcl"), []byte(sharedAPTConfig(lab, server, suite)), 0o644)
		}
	}
	a, b := copies[0], copies[1]
	write("stable")
	mustCode(t, tfEnv(t, a, env, "apply", "-auto-approve"), 0, "apply on runner A")
	mustCode(t, tfEnv(t, b, env, "plan", "-detailed-exitcode"), 0, "plan on runner B after A's apply")
	if _, err := os.Stat(filepath.Join(b, ".trustform", "state.json")); err == nil {
		t.Error("runner B wrote local state")
	}

	write("trixie")
	planFile := filepath.Join(a, "reviewed.tfplan")
	mustCode(t, tfEnv(t, a, env, "plan", "-out="+planFile), 0, "plan -out on runner A")
	mustCode(t, tfEnv(t, b, env, "apply", planFile), 0, "apply of A's plan on runner B")
	r := tfEnv(t, b, env, "apply", planFile)
	mustCode(t, r, 1, "the same plan again")
	if !strings.Contains(r.stderr, "plan is stale: the state changed") {
		t.Errorf("the second apply is not refused as stale:\n%s", r.stderr)
	}
	mustCode(t, tfEnv(t, a, env, "plan", "-detailed-exitcode"), 0, "plan on runner A after B's apply")

	// A lock held elsewhere is named.
	t.Setenv("PGPASSWORD", lab.Password)
	holder := &state.PostgresStore{ConnStr: lab.ConnStr(), Name: "ci"}
	if err := holder.Lock(context.Background(), "apply", 0); err != nil {
		t.Fatal(err)
	}
	r = tfEnv(t, b, env, "plan", "-lock-timeout=1s")
	mustCode(t, r, 1, "plan while another runner holds the lock")
	if !strings.Contains(r.stderr, "state is locked by trustform apply (pid") {
		t.Errorf("the holder is not named:\n%s", r.stderr)
	}
	holder.Close()
	mustCode(t, tfEnv(t, b, env, "plan", "-lock-timeout=5s", "-detailed-exitcode"), 0, "plan once the lock is free")

	// The database holds no password.
	if strings.Contains(dumpState(t, lab), lab.Password) {
		t.Error("the password is in the database")
	}
}

// dumpState is every row of trustform's tables, as text.
func dumpState(t *testing.T, lab *pgtest.Lab) string {
	t.Helper()
	return dumpStateOf(t, lab, "apt_source.example")
}

// dumpStateOf is every row of every table in trustform's schema, as
// text, which must hold addr.
func dumpStateOf(t *testing.T, lab *pgtest.Lab, addr string) string {
	t.Helper()
	t.Setenv("PGPASSWORD", lab.Password)
	conn, err := pgx.Connect(context.Background(), lab.ConnStr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var out strings.Builder
	var tables []string
	rows, err := conn.Query(context.Background(), "SELECT table_name FROM information_schema.tables WHERE table_schema = 'trustform'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 3 {
		t.Fatalf("trustform's tables are %v", tables)
	}
	for _, table := range tables {
		rows, err := conn.Query(context.Background(), "SELECT t::text FROM trustform."+table+" t")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var row string
			rows.Scan(&row)
			out.WriteString(row + "\n")
		}
		rows.Close()
	}
	if !strings.Contains(out.String(), addr) {
		t.Fatalf("the dump does not hold the state:\n%s", out.String())
	}
	return out.String()
}

// TestStateMovesToPostgresAndBack: local state moves into PostgreSQL and
// back with state pull and state push, the documented sequence; the plan is
// empty on each side; push refuses another lineage and a serial that goes
// back; state list and state rm work on either store.
func TestStateMovesToPostgresAndBack(t *testing.T) {
	lab := pgtest.Start(t)
	env := []string{"PGPASSWORD=" + lab.Password}
	dir := quickstart(t)
	mustCode(t, tfEnv(t, dir, env, "apply", "-auto-approve"), 0, "apply with local state")
	pull := tfEnv(t, dir, env, "state", "pull")
	mustCode(t, pull, 0, "state pull (local)")
	saved := filepath.Join(dir, "state-backup.json")
	os.WriteFile(saved, []byte(pull.stdout), 0o600)

	cfg := filepath.Join(dir, "main.hcl")
	b, _ := os.ReadFile(cfg)
	block := fmt.Sprintf("state \"postgres\" {\n  conn_str = %q\n}\n\n", lab.ConnStr())
	os.WriteFile(cfg, append([]byte(block), b...), 0o644)
	mustCode(t, tfEnv(t, dir, env, "state", "push", saved), 0, "state push into PostgreSQL")
	os.Rename(filepath.Join(dir, ".trustform", "state.json"), filepath.Join(dir, "local-state.old"))
	mustCode(t, tfEnv(t, dir, env, "plan", "-detailed-exitcode"), 0, "plan on the state in PostgreSQL")
	list := tfEnv(t, dir, env, "state", "list")
	if !strings.Contains(list.stdout, "certificate.www\n") || !strings.Contains(list.stdout, "tlsa.mail_smtp\n") {
		t.Errorf("state list:\n%s", list.stdout)
	}

	// Pushes that would lose a state are refused.
	other := strings.Replace(pull.stdout, `"lineage": "`, `"lineage": "0`, 1)
	os.WriteFile(filepath.Join(dir, "other.json"), []byte(other), 0o600)
	if r := tfEnv(t, dir, env, "state", "push", filepath.Join(dir, "other.json")); r.code != 1 || !strings.Contains(r.stderr, "another configuration's state") {
		t.Errorf("push of another lineage: %d\n%s", r.code, r.stderr)
	}
	again := tfEnv(t, dir, env, "state", "pull")
	os.WriteFile(filepath.Join(dir, "again.json"), []byte(again.stdout), 0o600)
	mustCode(t, tfEnv(t, dir, env, "state", "push", filepath.Join(dir, "again.json")), 0, "a push moves the serial on")
	if r := tfEnv(t, dir, env, "state", "push", saved); r.code != 1 || !strings.Contains(r.stderr, "would go back") {
		t.Errorf("push of an older serial: %d\n%s", r.code, r.stderr)
	}

	// And back.
	back := tfEnv(t, dir, env, "state", "pull")
	mustCode(t, back, 0, "state pull (PostgreSQL)")
	os.WriteFile(saved, []byte(back.stdout), 0o600)
	os.WriteFile(cfg, b, 0o644)
	mustCode(t, tfEnv(t, dir, env, "state", "push", saved), 0, "state push into .trustform")
	mustCode(t, tfEnv(t, dir, env, "plan", "-detailed-exitcode"), 0, "plan on the local state again")
	mustCode(t, tfEnv(t, dir, env, "state", "rm", "apt_source.example"), 0, "state rm")
	if list := tfEnv(t, dir, env, "state", "list"); strings.Contains(list.stdout, "apt_source.example") {
		t.Errorf("state rm left it:\n%s", list.stdout)
	}
}

// TestPostgresDown: a state database that cannot be reached fails the plan
// naming the server, and nothing is applied.
func TestPostgresDown(t *testing.T) {
	dir := quickstart(t)
	addr := fmt.Sprintf("127.0.0.1:%d", labutil.FreePort(t))
	cfg := filepath.Join(dir, "main.hcl")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append([]byte(fmt.Sprintf("state \"postgres\" {\n  conn_str = \"postgres://trustform@%s/trustform\"\n}\n\n", addr)), b...), 0o644)
	r := tf(t, dir, "apply", "-auto-approve")
	mustCode(t, r, 1, "apply with the state database down")
	if !strings.Contains(r.stderr, "cannot reach PostgreSQL at 127.0.0.1:"+addr[strings.LastIndex(addr, ":")+1:]) {
		t.Errorf("the error does not name the server:\n%s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("something was applied")
	}
	if r := tf(t, dir, "validate"); r.code != 0 {
		t.Errorf("validate needs no database: %s", r.stderr)
	}
	os.WriteFile(cfg, append([]byte(fmt.Sprintf("state \"postgres\" {\n  conn_str = \"postgres://trustform:hunter2@%s/trustform\"\n}\n\n", addr)), b...), 0o644)
	if r := tf(t, dir, "validate"); r.code != 1 || !strings.Contains(r.stderr, "Password in conn_str") {
		t.Errorf("a password in conn_str: %d\n%s", r.code, r.stderr)
	}
}

// TestPostgresLockHolderKilled: while one runner's apply holds the lock in
// a slow step, the other's plan gives up naming it; after kill -9 of the
// holder the lock is free as soon as PostgreSQL sees its connection end.
func TestPostgresLockHolderKilled(t *testing.T) {
	lab := pgtest.Start(t)
	env := []string{"PGPASSWORD=" + lab.Password}
	slow, fast := quickstart(t), quickstart(t)
	for i, dir := range []string{slow, fast} {
		cfg := filepath.Join(dir, "main.hcl")
		b, _ := os.ReadFile(cfg)
		c := fmt.Sprintf("state \"postgres\" {\n  conn_str = %q\n  name     = \"shared\"\n}\n\n", lab.ConnStr()) + string(b)
		if i == 0 { // the https vhost's test takes a minute
			c = strings.Replace(c, `test_command   = "" # no nginx runs in the quickstart`, `test_command   = "sleep 60"`, 1)
		}
		os.WriteFile(cfg, []byte(c), 0o644)
	}
	cmd := exec.Command(binary, "-chdir="+slow, "apply", "-auto-approve", "-lock-timeout=30s")
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), env...)
	applyOut := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = applyOut, applyOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var r result
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		r = tfEnv(t, fast, env, "plan", "-lock-timeout=1s")
		if r.code == 1 && strings.Contains(r.stderr, "state is locked by trustform apply (pid "+fmt.Sprint(cmd.Process.Pid)) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(r.stderr, "state is locked by trustform apply (pid "+fmt.Sprint(cmd.Process.Pid)) {
		t.Fatalf("the other runner's plan does not name the holder (exit %d):\n%s\nthe apply:\n%s", r.code, r.stderr, applyOut.String())
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	start := time.Now()
	mustCode(t, tfEnv(t, fast, env, "plan", "-lock-timeout=30s"), 0, "plan after the holder was killed")
	t.Logf("after kill -9 of the holder, the plan (lock and all) took %s", time.Since(start).Round(10*time.Millisecond))
}

// TestPostgresConnectionLost: the state database drops the apply's
// connection in the middle of a step: the apply stops there, saying the
// lock is gone with the connection, and the next apply resumes from the
// last committed serial and finishes.
func TestPostgresConnectionLost(t *testing.T) {
	lab := pgtest.Start(t)
	env := []string{"PGPASSWORD=" + lab.Password}
	dir := quickstart(t)
	cfg := filepath.Join(dir, "main.hcl")
	b, _ := os.ReadFile(cfg)
	flag := filepath.Join(dir, "slow")
	os.WriteFile(flag, nil, 0o644)
	test := fmt.Sprintf(`if [ -e %s ]; then sleep 3; fi`, flag)
	c := fmt.Sprintf("state \"postgres\" {\n  conn_str = %q\n}\n\n", lab.ConnStr()) +
		strings.Replace(string(b), `test_command   = "" # no nginx runs in the quickstart`, fmt.Sprintf("test_command   = %q", test), 1)
	os.WriteFile(cfg, []byte(c), 0o644)

	cmd := exec.Command(binary, "-chdir="+dir, "apply", "-auto-approve")
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Once the apply is in the slow test, its connection goes.
	t.Setenv("PGPASSWORD", lab.Password)
	admin, err := pgx.Connect(context.Background(), lab.ConnStr())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && !strings.Contains(out.String(), "vhost.https write"); {
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := admin.Exec(context.Background(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database()"); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if err == nil || !strings.Contains(out.String(), "vhost.https") || !strings.Contains(out.String(), "PostgreSQL") {
		t.Fatalf("the apply does not stop at its step naming the lost connection (%v):\n%s", err, out.String())
	}
	os.Remove(flag)
	mustCode(t, tfEnv(t, dir, env, "apply", "-auto-approve"), 0, "the next apply")
	mustCode(t, tfEnv(t, dir, env, "plan", "-detailed-exitcode"), 0, "plan after the resumed apply")
}

// syncBuffer is a process's output, read while the process still writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPostgresTwentyApplies: twenty applies started at once from two
// working copies that disagree on a setting (each flips the APT source's
// suite back) queue on the one lock; the state ends parseable, and its
// serial counts every flip exactly once.
func TestPostgresTwentyApplies(t *testing.T) {
	lab := pgtest.Start(t)
	env := []string{"PGPASSWORD=" + lab.Password}
	server := labutil.OpenDir(t, "pgserver")
	key, err := os.ReadFile(filepath.Join("..", "..", "examples", "quickstart", "keys", "example-archive.asc"))
	if err != nil {
		t.Fatal(err)
	}
	copies := map[string]string{"stable": t.TempDir(), "trixie": t.TempDir()}
	for suite, d := range copies {
		os.MkdirAll(filepath.Join(d, "keys"), 0o755)
		os.WriteFile(filepath.Join(d, "keys", "example-archive.asc"), key, 0o644)
		os.WriteFile(filepath.Join(d, "main.hcl"), []byte(sharedAPTConfig(lab, server, suite)), 0o644)
	}
	t.Setenv("PGPASSWORD", lab.Password)
	serial := func() int64 {
		st := &state.PostgresStore{ConnStr: lab.ConnStr(), Name: "ci"}
		defer st.Close()
		s, err := st.Load(context.Background())
		if err != nil {
			t.Fatalf("the state does not parse: %v", err)
		}
		return s.Serial
	}
	mustCode(t, tfEnv(t, copies["stable"], env, "apply", "-auto-approve"), 0, "first apply")
	s0 := serial()
	mustCode(t, tfEnv(t, copies["trixie"], env, "apply", "-auto-approve"), 0, "one flip")
	perFlip := serial() - s0

	var wg sync.WaitGroup
	results := make([]result, 20)
	for i := range results {
		dir := copies[[]string{"stable", "trixie"}[i%2]]
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = tfEnv(t, dir, env, "apply", "-auto-approve", "-lock-timeout=5m")
		}()
	}
	wg.Wait()
	flips := 0
	for i, r := range results {
		switch {
		case r.code != 0:
			t.Errorf("apply %d: exit %d\n%s", i, r.code, r.stderr)
		case strings.Contains(r.stdout, "Apply complete: 1 step(s) applied."):
			flips++
		case !strings.Contains(r.stdout, "No changes."):
			t.Errorf("apply %d neither flipped nor found nothing to do:\n%s", i, r.stdout)
		}
	}
	if got, want := serial(), s0+perFlip*int64(1+flips); got != want {
		t.Errorf("the serial is %d after %d flips of %d writes each from %d; want %d", got, flips, perFlip, s0, want)
	}
	t.Logf("%d of 20 applies flipped the setting; %d writes each", flips, perFlip)
}

// sharedAPTConfig is a configuration whose state is "ci" in the lab's
// PostgreSQL, managing an APT key and source under server: the one
// configuration that the runners of these tests check out.
func sharedAPTConfig(lab *pgtest.Lab, server, suite string) string {
	return fmt.Sprintf(fixture("postgres_shared_apt.hcl.tmpl"), lab.ConnStr(), server, suite)
}

// TestPostgresSharedSecrets: the private material stays in files that the
// runners get from their secret store (key_file on local_ca and on
// acme_account, secret_file of a zone's TSIG key), never in the database. A runner with the shared files
// plans nothing after another's apply (it finds the ACME account at the CA
// by its key); a runner without the CA key is refused with the reason; a
// runner without the account key says it registers a new account.
func TestPostgresSharedSecrets(t *testing.T) {
	lab := pgtest.Start(t)
	pebble := pebbletest.Start(t, pebbletest.Options{})
	env := []string{"PGPASSWORD=" + lab.Password}
	server := labutil.OpenDir(t, "pgserver")
	secrets := labutil.OpenDir(t, "secrets") // what the secret store hands each runner
	dns := dnstest.Start(t, "example.test")
	os.WriteFile(filepath.Join(secrets, "tsig.secret"), []byte(dns.Secret), 0o600)
	cfg := acmeAccount(pebble) + fmt.Sprintf(`
dns_zone "example" {
  name        = "example.test"
  server      = %q
  nameservers = [%q]
  tsig {
    name        = "trustform-key"
    secret_file = %q
  }
}

tlsa "www_https" {
  zone        = dns_zone.example
  name        = "_443._tcp.www"
  certificate = certificate.www
}
`, dns.Primary.Addr, dns.Primary.Addr, filepath.Join(secrets, "tsig.secret")) + fmt.Sprintf(fixture("postgres_shared_secrets.hcl.tmpl"), lab.ConnStr(), server, filepath.Join(secrets, "ca.key"), filepath.Join(secrets, "ca.pem"))
	cfg = strings.Replace(cfg, "ca_roots", fmt.Sprintf("key_file  = %q\n  ca_roots", filepath.Join(secrets, "account.key")), 1)
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		os.WriteFile(filepath.Join(d, "main.hcl"), []byte(cfg), 0o644)
	}
	mustCode(t, tfEnv(t, a, env, "apply", "-auto-approve"), 0, "apply on runner A")
	for _, f := range []string{"ca.key", "account.key"} {
		if st, err := os.Stat(filepath.Join(secrets, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want a file with mode 0600", f, st, err)
		}
	}
	mustCode(t, tfEnv(t, b, env, "plan", "-detailed-exitcode"), 0, "plan on runner B, which has the shared files but not A's .trustform")

	dump := dumpStateOf(t, lab, "certificate.www")
	for _, f := range []string{filepath.Join(secrets, "ca.key"), filepath.Join(secrets, "account.key"), filepath.Join(server, "etc/ssl/www.key")} {
		key, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		body := strings.Split(strings.TrimSpace(string(key)), "\n")[1] // the first line of key material
		if strings.Contains(dump, body) {
			t.Errorf("%s is in the database", f)
		}
	}
	if !strings.Contains(dump, "tlsa.www_https") {
		t.Fatalf("the TLSA records are not in the state:\n%s", dump)
	}
	if strings.Contains(dump, "PRIVATE KEY") || strings.Contains(dump, lab.Password) || strings.Contains(dump, dns.Secret) {
		t.Errorf("private material in the database:\n%s", dump)
	}

	// A runner whose secret store lacks the CA key is refused, not handed a new CA.
	key, _ := os.ReadFile(filepath.Join(secrets, "ca.key"))
	os.Remove(filepath.Join(secrets, "ca.key"))
	r := tfEnv(t, b, env, "plan")
	mustCode(t, r, 1, "plan without the CA key")
	if msg := strings.Join(strings.Fields(r.stderr), " "); !strings.Contains(msg, "its key "+filepath.Join(secrets, "ca.key")+" is not") || !strings.Contains(msg, "secret store") {
		t.Errorf("the missing CA key is not explained:\n%s", r.stderr)
	}
	os.WriteFile(filepath.Join(secrets, "ca.key"), key, 0o600)

	// Without the account key, the plan says a new account is registered.
	os.Rename(filepath.Join(secrets, "account.key"), filepath.Join(secrets, "account.key.away"))
	r = tfEnv(t, b, env, "plan", "-no-color")
	mustCode(t, r, 0, "plan without the account key")
	if msg := strings.Join(strings.Fields(r.stdout), " "); !strings.Contains(msg, "no account key at "+filepath.Join(secrets, "account.key")) || !strings.Contains(msg, "under the same contact (hostmaster@example.test)") {
		t.Errorf("the plan does not say a new account is registered:\n%s", r.stdout)
	}
}
