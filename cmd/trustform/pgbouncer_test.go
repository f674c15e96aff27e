package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/engine/state/pgtest"
)

// stateBlock puts the quickstart's state in PostgreSQL at connStr.
func stateBlock(t *testing.T, dir, connStr string) {
	rewrite(t, dir, func(s string) string {
		s, _, _ = strings.Cut(s, "\n# state\n")
		return s + "\n# state\n" + fmt.Sprintf("state \"postgres\" {\n  conn_str = %q\n}\n", connStr)
	})
}

// TestStateQueryModesForPgbouncer: the query modes pgx recommends behind
// pgbouncer (exec, simple_protocol), and the others, keep state directly
// against PostgreSQL; and through a real pgbouncer in transaction mode,
// the defaults do too, run after run.
func TestStateQueryModesForPgbouncer(t *testing.T) {
	lab := pgtest.Start(t)
	env := []string{"PGPASSWORD=" + lab.Password}
	for _, mode := range []string{"exec", "simple_protocol", "describe_exec", "cache_describe", "cache_statement"} {
		t.Run(mode, func(t *testing.T) {
			dir := quickstart(t)
			stateBlock(t, dir, lab.ConnStr()+"&default_query_exec_mode="+mode)
			rewrite(t, dir, func(s string) string { return strings.Replace(s, "conn_str", "name     = \""+mode+"\"\n  conn_str", 1) })
			mustCode(t, tfEnv(t, dir, env, "apply", "-auto-approve"), 0, "apply")
			mustCode(t, tfEnv(t, dir, env, "plan", "-detailed-exitcode"), 0, "plan on the state written")
		})
	}
	for _, mode := range []string{"transaction", "session"} {
		t.Run("pgbouncer "+mode, func(t *testing.T) {
			pool := pgtest.StartPgbouncer(t, lab, mode)
			dir := quickstart(t)
			stateBlock(t, dir, pool.ConnStr(""))
			for i := range 3 {
				mustCode(t, tfEnv(t, dir, env, "apply", "-auto-approve"), 0, fmt.Sprintf("apply %d through pgbouncer", i+1))
			}
			mustCode(t, tfEnv(t, dir, env, "plan", "-detailed-exitcode"), 0, "plan through pgbouncer")
		})
	}
}

// TestLockSharedThroughTransactionPooling: through pgbouncer, in session
// and in transaction pooling and in every query mode, a runner holding the
// lock keeps it: another runner's plan and apply wait for it and give up
// naming the holder, and the holder's state stays as it wrote it.
func TestLockSharedThroughTransactionPooling(t *testing.T) {
	lab := pgtest.Start(t)
	t.Setenv("PGPASSWORD", lab.Password)
	env := []string{"PGPASSWORD=" + lab.Password}
	for _, mode := range []string{"transaction", "session"} {
		pool := pgtest.StartPgbouncer(t, lab, mode)
		for _, qm := range []string{"", "default_query_exec_mode=describe_exec", "default_query_exec_mode=simple_protocol"} {
			t.Run(mode+" "+qm, func(t *testing.T) {
				dir := quickstart(t)
				stateBlock(t, dir, pool.ConnStr(qm))
				mustCode(t, tfEnv(t, dir, env, "apply", "-auto-approve"), 0, "first apply")
				holder := &state.PostgresStore{ConnStr: pool.ConnStr(qm), Schema: "trustform", Name: "default"}
				if err := holder.Lock(t.Context(), "apply -wait", 0); err != nil {
					t.Fatal(err)
				}
				defer holder.Close()
				for _, args := range [][]string{{"plan", "-lock-timeout=1s"}, {"apply", "-auto-approve", "-replace=certificate.www", "-lock-timeout=1s"}} {
					r := tfEnv(t, dir, env, args...)
					mustCode(t, r, 1, fmt.Sprintf("%v while another runner holds the lock", args))
					if !strings.Contains(r.stderr, "apply -wait") {
						t.Errorf("%v does not name the holder:\n%s", args, r.stderr)
					}
				}
				if err := holder.Held(); err != nil {
					t.Errorf("the holder lost its lock: %v", err)
				}
				holder.Close()
				mustCode(t, tfEnv(t, dir, env, "plan", "-lock-timeout=5s", "-detailed-exitcode"), 0, "plan once the lock is free")
			})
		}
	}
}
