// Package host is the door to the machine a resource lives on. Every file a
// provider reads, writes or removes there and every command it runs goes
// through a Host, so that a remote transport can stand behind the same
// interface without a provider changing.
package host

import (
	"context"
	"io/fs"
)

// Host reads and changes files, and runs commands, on one machine.
//
// Paths are as the Host resolves them (absolute on that machine). Reading or
// stating a missing file is (nil, nil): absent is a value, not an error.
// WriteFile replaces a file atomically (readers see the old or the new
// content, never a part), creating its directory, with perm in force from
// the first byte; it refuses to write through a symlink at path. Remove of a
// missing file succeeds. Glob lists the paths matching a filepath.Match
// pattern, sorted. Run runs command with sh -c and returns its
// combined output; a non-zero exit is an error, with the output kept. UID
// is the user trustform acts as there, whose files it trusts (with root's).
type Host interface {
	ReadFile(path string) ([]byte, error)
	Stat(path string) (fs.FileInfo, error)
	WriteFile(path string, data []byte, perm fs.FileMode) error
	Remove(path string) error
	Glob(pattern string) ([]string, error)
	Run(ctx context.Context, command string) ([]byte, error)
	UID() int
}
