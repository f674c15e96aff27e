package host

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
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
	if why := Foreign(st); why != "" {
		return path + " " + why, nil
	}
	dir, err := h.Stat(filepath.Dir(path))
	if err != nil || dir == nil {
		return "", err
	}
	if why := Foreign(dir); why != "" {
		return "its directory " + filepath.Dir(path) + " " + why, nil
	}
	if dir.Mode().Perm()&0o022 != 0 {
		return fmt.Sprintf("its directory %s has mode %04o, writable by other users", filepath.Dir(path), dir.Mode().Perm()), nil
	}
	return "", nil
}

// Foreign says why st is not the running user's or root's, if it is not.
func Foreign(st fs.FileInfo) string {
	if st.Mode()&fs.ModeSymlink != 0 {
		return "is a symbolic link"
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok || sys.Uid == 0 || int(sys.Uid) == os.Geteuid() {
		return ""
	}
	return fmt.Sprintf("belongs to uid %d, not to this user (uid %d) or root", sys.Uid, os.Geteuid())
}
