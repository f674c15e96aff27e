package state_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustform/trustform/engine/state"
)

// TestPathsAndLinksStateDir: the state directory and its lock are
// trustform's own; a planted link or a loose mode is refused before anything
// is written, and a lock file removed under a running apply stops it.
func TestPathsAndLinksStateDir(t *testing.T) {
	t.Run("symlinked .trustform", func(t *testing.T) {
		dir, elsewhere := t.TempDir(), t.TempDir()
		os.Symlink(elsewhere, filepath.Join(dir, ".trustform"))
		_, err := state.Acquire(filepath.Join(dir, ".trustform"), "plan", 0)
		if err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Fatalf("got %v", err)
		}
		if ents, _ := os.ReadDir(elsewhere); len(ents) > 0 {
			t.Errorf("something was written where the link points: %v", ents)
		}
	})
	t.Run("world-writable .trustform", func(t *testing.T) {
		sd := filepath.Join(t.TempDir(), ".trustform")
		os.Mkdir(sd, 0o777)
		os.Chmod(sd, 0o777)
		if _, err := state.Acquire(sd, "plan", 0); err == nil || !strings.Contains(err.Error(), "chmod 700") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("symlink at the lock", func(t *testing.T) {
		sd := filepath.Join(t.TempDir(), ".trustform")
		os.Mkdir(sd, 0o700)
		victim := filepath.Join(t.TempDir(), "victim")
		os.WriteFile(victim, []byte("precious\n"), 0o644)
		os.Symlink(victim, filepath.Join(sd, "lock"))
		if _, err := state.Acquire(sd, "plan", 0); err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Fatalf("got %v", err)
		}
		if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
			t.Errorf("the link's target was truncated: %q", b)
		}
	})
	t.Run("lock removed while held", func(t *testing.T) {
		sd := filepath.Join(t.TempDir(), ".trustform")
		first, err := state.Acquire(sd, "apply", 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := first.Held(); err != nil {
			t.Fatalf("a fresh lock: %v", err)
		}
		os.Remove(filepath.Join(sd, "lock"))
		second, err := state.Acquire(sd, "apply", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer second.Release()
		if err := first.Held(); err == nil {
			t.Error("the first apply goes on writing state beside the second")
		}
		if err := second.Held(); err != nil {
			t.Errorf("the second, now the holder: %v", err)
		}
		first.Release()
		if b, _ := os.ReadFile(filepath.Join(sd, "lock")); !strings.Contains(string(b), `"operation":"apply"`) {
			t.Errorf("the first apply's release cleared the second's lock file: %q", b)
		}
	})
}
