package state_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustform/trustform/engine/state"
)

// TestStateNotTrustformsRefused: a state file that trustform did not write,
// or that a newer trustform wrote, is refused naming what is wrong; a state
// trustform wrote loads back.
func TestStateNotTrustformsRefused(t *testing.T) {
	dir := t.TempDir()
	path := state.Path(dir)
	s, err := state.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	if _, err := state.Load(path); err != nil {
		t.Fatalf("trustform's own state: %v", err)
	}
	for _, tc := range []struct {
		name, content, want string
	}{
		{"truncated", string(good[:len(good)/2]), "truncated"},
		{"unknown key", `{"version": 1, "lineage": "x", "serial": 1, "resources": {}, "hello": 1}`, `unknown field "hello"`},
		{"another version", `{"version": 2, "lineage": "x", "serial": 1, "resources": {}}`, "has version 2"},
		{"newer trustform", `{"version": 1, "trustform_version": "v99.0.0", "lineage": "x", "serial": 1, "resources": {}}`, "newer than this one"},
		{"two objects", string(good) + string(good), "more than one JSON object"},
		{"not JSON", "root:x:0:0:root:/root:/bin/bash\n", "damaged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "state.json")
			os.WriteFile(p, []byte(tc.content), 0o600)
			_, err := state.Load(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error saying %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "root:x") {
				t.Errorf("the error quotes the file: %v", err)
			}
		})
	}
}
