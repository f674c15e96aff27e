package state_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/trustform/trustform/engine/state"
)

// FuzzLoad: a state file written by someone else is read without a panic,
// and what is accepted saves and loads again.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(`{"version": 1, "lineage": "x", "serial": 1, "resources": {}}`))
	f.Add([]byte(`{"version": 1, "lineage": "x", "serial": 3, "resources": {"certificate.www": {"type": "certificate", "value": {"domains": ["a"], "not_after": {"unknown": "x"}}, "applied_at": "2026-01-01T00:00:00Z"}}, "pending": {"vhost.https": "write"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "state.json")
		os.WriteFile(path, b, 0o600)
		s, err := state.Load(path)
		if err != nil {
			return
		}
		if err := s.Save(path); err != nil {
			t.Fatal(err)
		}
		if _, err := state.Load(path); err != nil {
			t.Fatalf("an accepted state does not load back: %v", err)
		}
	})
}
