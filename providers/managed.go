package providers

import (
	"strings"

	"github.com/trustform/trustform/internal/host"
)

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

// Adopts reports whether an observed value is of a file trustform did not
// write (its content Unmanaged): replacing it is an adoption, shown as
// such, reviewed with care, and done only after a backup of the file.
func Adopts(observed Value) bool {
	return observed != nil && observed["content"].Str == Unmanaged(nil)
}

// AdoptReason says what an adoption does to file, for plans.
func AdoptReason(file string) string {
	return file + " is a file trustform did not write: it is adopted and replaced, and kept as " + file + host.BackupSuffix + " (same mode and owner)"
}

// Adopter resources can be taken over as they are (trustform import, or
// an import block): a file trustform did not write, a key reached through
// certbot's link. Adoption says, after Observe, what of the resource an
// import takes as it is (per file, what it is now: a digest, a key's
// SPKI); state keeps it, and Plan gets it back as PlanOptions.Adopted. A
// resource whose adopted parts are still what was adopted, and still say
// what its block says, plans no change for them; anything else is planned
// as for any file trustform did not write (adopt and replace).
type Adopter interface {
	Resource
	Adoption() map[string]string
}

// KeepForeign keeps the file at path beside it (host.Backup) when it is a
// file trustform did not write, before it is replaced: what an adoption
// does. A file trustform wrote, or none, needs no backup.
func KeepForeign(h host.Host, path string) error {
	b, err := h.ReadFile(path)
	if err != nil || b == nil || Managed(b) {
		return err
	}
	return host.Backup(h, path)
}
