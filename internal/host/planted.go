package host

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"syscall"

	"github.com/pkg/sftp"
)

// Planted says why the file at path may have been put there by another
// user, or "" when it cannot have been: it is owned by the running user or
// root, in a directory owned by them that no other user can write. A key
// that fails this is never adopted. A missing file is "".
func Planted(h Host, path string) (string, error) {
	st, err := h.Stat(path)
	if err != nil || st == nil {
		return "", err
	}
	if why := Foreign(h, st); why != "" {
		return path + " " + why, nil
	}
	dir, err := h.Stat(filepath.Dir(path))
	if err != nil || dir == nil {
		return "", err
	}
	if why := Foreign(h, dir); why != "" {
		return "its directory " + filepath.Dir(path) + " " + why, nil
	}
	if dir.Mode().Perm()&0o022 != 0 {
		return fmt.Sprintf("its directory %s has mode %04o, writable by other users", filepath.Dir(path), dir.Mode().Perm()), nil
	}
	return "", nil
}

// Foreign says why st, a file on h, is not the user trustform acts as
// there or root's, if it is not.
func Foreign(h Host, st fs.FileInfo) string {
	if st.Mode()&fs.ModeSymlink != 0 {
		return "is a symbolic link"
	}
	var uid int
	switch sys := st.Sys().(type) {
	case *syscall.Stat_t:
		uid = int(sys.Uid)
	case *sftp.FileStat:
		uid = int(sys.UID)
	default:
		return ""
	}
	if uid == 0 || uid == h.UID() {
		return ""
	}
	return fmt.Sprintf("belongs to uid %d, not to this user (uid %d) or root", uid, h.UID())
}
