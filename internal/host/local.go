package host

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/trustform/trustform/internal/files"
)

// Local is the machine trustform runs on. Roots are the directories that a
// configuration manages files under (a host's root, the configuration
// directory): below the deepest one that holds a path, no directory on the
// way to a written file may be a symbolic link; outside them, none from "/".
type Local struct {
	Roots []string
}

var _ Host = Local{}

// boundary is the deepest root holding path, or "/".
func (l Local) boundary(path string) string {
	best := "/"
	for _, r := range l.Roots {
		if rel, err := filepath.Rel(r, path); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && len(r) > len(best) {
			best = r
		}
	}
	return best
}

// ReadFile reads path; missing is (nil, nil).
func (Local) ReadFile(path string) ([]byte, error) { return files.ReadOptional(path) }

// Stat describes path without following a final symlink; missing is (nil, nil).
func (Local) Stat(path string) (fs.FileInfo, error) {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return st, err
}

// WriteFile replaces path atomically with mode perm.
func (l Local) WriteFile(path string, data []byte, perm fs.FileMode) error {
	if err := noLinksBeneath(os.Lstat, l.boundary(path), path); err != nil {
		return err
	}
	return files.WriteAtomic(path, data, perm)
}

// Remove deletes path.
func (l Local) Remove(path string) error {
	if err := noLinksBeneath(os.Lstat, l.boundary(filepath.Dir(path)), filepath.Dir(path)); err != nil {
		return err
	}
	return files.Remove(path)
}

// Glob lists the paths matching pattern.
func (Local) Glob(pattern string) ([]string, error) { return filepath.Glob(pattern) }

// Run runs command with sh -c, in trustform's environment less its
// secrets: a test_command or reload_command is the server's, not a place
// for TSIG keys.
func (Local) Run(ctx context.Context, command string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Env = []string{} // never nil: nil would pass the whole environment on
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); !SecretEnv(name) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	return cmd.CombinedOutput()
}

// UID is the user trustform runs as.
func (Local) UID() int { return os.Geteuid() }

// SecretEnv says whether an environment variable carries a secret of
// trustform's (TRUSTFORM_TSIG_SECRET_NAME and any other TRUSTFORM_*SECRET*
// or TRUSTFORM_*KEY* variable).
func SecretEnv(name string) bool {
	rest, ok := strings.CutPrefix(strings.ToUpper(name), "TRUSTFORM_")
	return ok && (strings.Contains(rest, "SECRET") || strings.Contains(rest, "KEY") || strings.Contains(rest, "HMAC"))
}
