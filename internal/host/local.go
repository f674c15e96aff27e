package host

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
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
	// Env are NAME=VALUE pairs the configuration sets for commands, on top
	// of CommandEnv's.
	Env []string
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

// Run runs command with sh -c, in an environment of its own: the
// allow-listed variables of trustform's (CommandEnv) and the host's
// environment, never the runner's credentials (PGPASSWORD, CI tokens,
// TRUSTFORM_* secrets).
func (l Local) Run(ctx context.Context, command string) ([]byte, error) {
	if err := mayRun(ctx); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Env = append(CommandEnv(os.Environ()), l.Env...) // never nil: nil would pass the whole environment on
	out, err := cmd.CombinedOutput()
	slog.Info("local: run", "command", command, "result", errOr(err, "ok"), "output_bytes", len(out))
	return out, err
}

// UID is the user trustform runs as.
func (Local) UID() int { return os.Geteuid() }

// Chown gives path to uid and gid, never through a symbolic link.
func (Local) Chown(path string, uid, gid int) error { return os.Lchown(path, uid, gid) }

// commandVars are the variables a command inherits from trustform's
// environment: where programs are, whose home, which language and time
// zone. Everything else a command needs is set by the configuration (a
// host's environment).
var commandVars = map[string]bool{"PATH": true, "HOME": true, "USER": true, "LOGNAME": true, "SHELL": true,
	"LANG": true, "LANGUAGE": true, "TZ": true, "TMPDIR": true}

// CommandEnv is what a command inherits of environ: the allow-listed
// variables and the locale's LC_*.
func CommandEnv(environ []string) []string {
	out := []string{}
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if commandVars[name] || strings.HasPrefix(name, "LC_") {
			out = append(out, kv)
		}
	}
	return out
}
