package providers

import (
	"crypto/sha256"
	"fmt"
	"strings"
)

const managedPrefix = "# Managed by trustform ("

// ManagedHeader is the first line of every file trustform renders.
func ManagedHeader(addr string) string {
	return managedPrefix + addr + "). Edits here are overwritten: change the configuration instead.\n"
}

// Managed reports whether content is a file trustform rendered (it starts
// with the managed header, perhaps edited by hand since).
func Managed(content []byte) bool { return strings.HasPrefix(string(content), managedPrefix) }

// Unmanaged is how a file that trustform did not write shows in a plan: its
// digest and size, never its content. Such a file may be anything a path
// was pointed at (a key, a password file), and plans are posted on pull
// requests.
func Unmanaged(content []byte) string {
	return fmt.Sprintf("(a file trustform did not write: %d bytes, sha256:%x)", len(content), sha256.Sum256(content))
}
