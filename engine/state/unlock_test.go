package state_test

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/trustform/trustform/engine/state"
	"github.com/trustform/trustform/engine/state/pgtest"
)

// lockID is the lock ID a refused Lock names.
var lockID = regexp.MustCompile(`lock ID ([0-9a-f-]+)\)`)

// TestForceUnlock: a run that hangs holding the lock (a live holder: the
// lock does not free itself) is unlocked by its lock ID, in a directory and
// in PostgreSQL; a wrong ID unlocks nothing; the hung holder then finds
// its lock lost and saves nothing; the next run takes the lock.
func TestForceUnlock(t *testing.T) {
	ctx := context.Background()
	lab := pgtest.Start(t)
	t.Setenv("PGPASSWORD", lab.Password)
	dir := filepath.Join(t.TempDir(), ".trustform")
	for name, store := range map[string]func() state.Store{
		"dir":      func() state.Store { return &state.DirStore{Dir: dir} },
		"postgres": func() state.Store { return &state.PostgresStore{ConnStr: lab.ConnStr(), Name: "prod"} },
	} {
		t.Run(name, func(t *testing.T) {
			hung, next := store(), store()
			defer hung.Close()
			defer next.Close()
			if err := next.ForceUnlock(ctx, "nobody"); !errors.Is(err, state.ErrNotLocked) {
				t.Errorf("force-unlock of a free lock: %v", err)
			}
			if err := hung.Lock(ctx, "apply", 0); err != nil {
				t.Fatal(err)
			}
			st, err := hung.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			err = next.Lock(ctx, "apply", 200*time.Millisecond)
			m := lockID.FindStringSubmatch(errString(err))
			if m == nil {
				t.Fatalf("the refused lock names no lock ID: %v", err)
			}
			if err := next.ForceUnlock(ctx, "0000"); err == nil || errors.Is(err, state.ErrNotLocked) {
				t.Errorf("force-unlock with a wrong ID: %v", err)
			}
			if err := hung.Held(); err != nil {
				t.Fatalf("a wrong ID broke the lock: %v", err)
			}
			if err := next.ForceUnlock(ctx, m[1]); err != nil {
				t.Fatalf("force-unlock %s: %v", m[1], err)
			}
			if err := hung.Save(ctx, st); err == nil {
				t.Error("the hung holder saved state after its lock was broken")
			}
			if err := next.Lock(ctx, "apply", 5*time.Second); err != nil {
				t.Errorf("the next run cannot lock after force-unlock: %v", err)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
