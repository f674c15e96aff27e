package state_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/engine/state/pgtest"
	"github.com/trustform/trustform/internal/version"
	"github.com/trustform/trustform/providers"
)

// TestPostgresStore: two runners share one state in a real PostgreSQL; the
// lock names its holder and frees itself when the holder's connection
// ends; a writer that read an older serial loses loudly and overwrites
// nothing.
func TestPostgresStore(t *testing.T) {
	lab := pgtest.Start(t)
	t.Setenv("PGPASSWORD", lab.Password)
	ctx := context.Background()
	a := &state.PostgresStore{ConnStr: lab.ConnStr(), Name: "prod"}
	b := &state.PostgresStore{ConnStr: lab.ConnStr(), Name: "prod"}
	defer b.Close()
	if err := a.Lock(ctx, "apply", 0); err != nil {
		t.Fatal(err)
	}
	err := b.Lock(ctx, "plan", 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "state is locked by trustform apply (pid") {
		t.Fatalf("a second lock: %v", err)
	}
	st, err := a.Load(ctx)
	if err != nil || st.Serial != 0 {
		t.Fatalf("a new state: %v, %v", st, err)
	}
	st.Set("certificate.www", "certificate", providers.Value{"domains": providers.List("www.example.test")}, time.Now())
	if err := a.Save(ctx, st); err != nil {
		t.Fatal(err)
	}
	stale, err := b.Load(ctx) // read without the lock, as a racing runner would
	if err != nil || stale.Serial != 1 || stale.Get("certificate.www") == nil {
		t.Fatalf("the other runner reads %v, %v", stale, err)
	}
	if err := a.Save(ctx, st); err != nil {
		t.Fatal(err)
	}
	err = b.Save(ctx, stale)
	if err == nil || !strings.Contains(err.Error(), "another trustform wrote it meanwhile") {
		t.Fatalf("a lost race: %v", err)
	}
	if stale.Serial != 1 {
		t.Errorf("the failed save changed the serial in memory to %d", stale.Serial)
	}
	a.Close() // the holder's connection ends
	start := time.Now()
	if err := b.Lock(ctx, "plan", 5*time.Second); err != nil {
		t.Fatalf("the lock did not free itself: %v", err)
	}
	t.Logf("the lock was taken %s after its holder's connection ended", time.Since(start).Round(time.Millisecond))
	if got, err := b.Load(ctx); err != nil || got.Serial != 2 {
		t.Fatalf("after the race the state is %v, %v; want serial 2", got, err)
	}

	// A document that a newer trustform wrote is refused, both versions named.
	conn, err := pgx.Connect(ctx, lab.ConnStr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE trustform.states SET document = jsonb_set(document, '{trustform_version}', '"v99.0.0"') WHERE name = 'prod'`); err != nil {
		t.Fatal(err)
	}
	_, err = b.Load(ctx)
	if err == nil || !strings.Contains(err.Error(), "written by trustform v99.0.0, newer than this one ("+version.String()+")") {
		t.Fatalf("a state from a newer trustform: %v", err)
	}
}

// What notify blocks sent is kept per state beside it, without moving the
// state's serial: a reviewed plan stays valid after a run that notifies.
func TestPostgresNotified(t *testing.T) {
	lab := pgtest.Start(t)
	t.Setenv("PGPASSWORD", lab.Password)
	ctx := context.Background()
	dir := t.TempDir()
	os.Chmod(dir, 0o700)
	for _, store := range []interface {
		state.Store
		state.Notes
	}{&state.PostgresStore{ConnStr: lab.ConnStr(), Name: "prod"}, &state.DirStore{Dir: dir}} {
		if err := store.Lock(ctx, "plan", 0); err != nil {
			t.Fatal(err)
		}
		st, err := store.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := store.Notified(ctx); err != nil || len(n) != 0 {
			t.Fatalf("%T: nothing sent yet, read %v, %v", store, n, err)
		}
		at := time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)
		if err := store.SaveNotified(ctx, state.Notified{"notify.ops\x1fdrift\x1fcertificate.www\x1fkey_mode changed": at}); err != nil {
			t.Fatal(err)
		}
		n, err := store.Notified(ctx)
		if err != nil || !n["notify.ops\x1fdrift\x1fcertificate.www\x1fkey_mode changed"].Equal(at) {
			t.Errorf("%T: read back %v, %v", store, n, err)
		}
		if again, _ := store.Load(ctx); again.Serial != st.Serial {
			t.Errorf("%T: recording what was sent moved the state from serial %d to %d", store, st.Serial, again.Serial)
		}
		store.Close()
	}
}
