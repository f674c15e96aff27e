package host_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustform/trustform/internal/host"
)

// A symlink planted at a managed path is refused, and what it points to is
// left alone: a configuration must not be turned into a write to /etc/passwd.
func TestLocalWriteRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious\n"), 0o644)
	link := filepath.Join(dir, "site.conf")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	err := host.Local{}.WriteFile(link, []byte("hostile\n"), 0o644)
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("write through a symlink: %v", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Errorf("the link's target was changed: %q", b)
	}
}

// A key written with 0600 is never readable by others, not even for a moment:
// the mode is set before the content lands, and the file appears whole.
func TestLocalWriteModeAndAbsent(t *testing.T) {
	h := host.Local{}
	path := filepath.Join(t.TempDir(), "sub", "key.pem")
	if b, err := h.ReadFile(path); b != nil || err != nil {
		t.Fatalf("reading a missing file: %q, %v; want absent", b, err)
	}
	if st, err := h.Stat(path); st != nil || err != nil {
		t.Fatalf("stat of a missing file: %v, %v; want absent", st, err)
	}
	if err := h.WriteFile(path, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := h.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left beside the key: %v", entries)
	}
	if err := h.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := h.Remove(path); err != nil {
		t.Errorf("removing a missing file: %v", err)
	}
}

// A snapshot puts back content and mode, and removes what did not exist.
func TestSnapshotRestore(t *testing.T) {
	h := host.Local{}
	dir := t.TempDir()
	old, added := filepath.Join(dir, "old"), filepath.Join(dir, "added")
	os.WriteFile(old, []byte("v1"), 0o640)
	snap, err := host.Take(h, old, added)
	if err != nil {
		t.Fatal(err)
	}
	h.WriteFile(old, []byte("v2"), 0o644)
	h.WriteFile(added, []byte("new"), 0o644)
	if err := snap.Restore(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(old); string(b) != "v1" {
		t.Errorf("old holds %q", b)
	}
	if st, _ := os.Stat(old); st.Mode().Perm() != 0o640 {
		t.Errorf("old has mode %v", st.Mode().Perm())
	}
	if _, err := os.Stat(added); !os.IsNotExist(err) {
		t.Errorf("a file that did not exist is still there: %v", err)
	}
}

// TestCommandEnvironment: a reload_command sees the allow-listed variables
// and the host's environment, never the runner's credentials: the TSIG
// secret, PGPASSWORD, a CI token.
func TestCommandEnvironment(t *testing.T) {
	t.Setenv("TRUSTFORM_TSIG_SECRET_UPDATE_KEY", "c2VjcmV0")
	t.Setenv("PGPASSWORD", "pg-hunter2")
	t.Setenv("GITHUB_TOKEN", "ghs_token")
	t.Setenv("TRUSTFORM_HARMLESS", "dropped too")
	t.Setenv("LC_ALL", "C.UTF-8")
	out, err := host.Local{Env: []string{"SYSTEMCTL_SKIP_REDIRECT=1"}}.Run(t.Context(), "env")
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"c2VjcmV0", "pg-hunter2", "ghs_token", "dropped too"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("the command saw %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"PATH=", "LC_ALL=C.UTF-8", "SYSTEMCTL_SKIP_REDIRECT=1"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the command lacks %s:\n%s", want, out)
		}
	}
}

// TestReadOnlyRunsNothing: in an observation's context no command runs.
func TestReadOnlyRunsNothing(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	_, err := host.Local{}.Run(host.ReadOnly(t.Context()), "touch "+marker)
	if !errors.Is(err, host.ErrReadOnly) {
		t.Errorf("Run in a read-only context: %v, want ErrReadOnly", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command ran")
	}
}
