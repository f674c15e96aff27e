package providers

import "strings"

const managedPrefix = "# Managed by trustform ("

// ManagedHeader is the first line of every file trustform renders.
func ManagedHeader(addr string) string {
	return managedPrefix + addr + "). Edits here are overwritten: change the configuration instead.\n"
}

// Managed reports whether content is a file trustform rendered (it starts
// with the managed header, perhaps edited by hand since).
func Managed(content []byte) bool { return strings.HasPrefix(string(content), managedPrefix) }

// Unmanaged is how a file that trustform did not write shows in a plan:
// nothing of it. Such a file may be anything a path was pointed at (a
// key, /etc/shadow), and plans are posted on pull requests: even its size
// and digest would let a pull request's author confirm a guess of its
// content.
func Unmanaged([]byte) string {
	return "(a file trustform did not write: its content is not shown)"
}
