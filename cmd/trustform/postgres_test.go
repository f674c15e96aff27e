package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/engine/state/pgtest"
	"github.com/trustform/trustform/internal/labutil"
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
	config := func(suite string) string {
		return fmt.Sprintf(`
state "postgres" {
  conn_str = %q
  name     = "ci"
}

host "server" {
  root = %q
}

apt_key "example" {
  fingerprint = "734608F7CD36DD4E720A4C708BF26C0845ABC4F2"
  url         = "file:keys/example-archive.asc"
  keyring     = "/etc/apt/keyrings/example.gpg"
  host        = host.server
}

apt_source "example" {
  file       = "/etc/apt/sources.list.d/example.sources"
  uris       = ["https://apt.example.test/debian"]
  suites     = [%q]
  components = ["main"]
  signed_by  = apt_key.example
  host       = host.server
}
`, lab.ConnStr(), server, suite)
	}
	copies := []string{t.TempDir(), t.TempDir()}
	write := func(suite string) {
		for _, d := range copies {
			os.MkdirAll(filepath.Join(d, "keys"), 0o755)
			os.WriteFile(filepath.Join(d, "keys", "example-archive.asc"), key, 0o644)
			os.WriteFile(filepath.Join(d, "main.hcl"), []byte(config(suite)), 0o644)
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
	conn, err := pgx.Connect(context.Background(), lab.ConnStr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var out strings.Builder
	for _, table := range []string{"schema_version", "states", "locks"} {
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
	if !strings.Contains(out.String(), "apt_source.example") {
		t.Fatalf("the dump does not hold the state:\n%s", out.String())
	}
	return out.String()
}
