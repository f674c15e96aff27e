package host

import (
	"errors"
	"io/fs"
	"syscall"

	"github.com/pkg/sftp"
)

// BackupSuffix is what a kept copy of an adopted file is named by.
const BackupSuffix = ".trustform-backup"

// chowner is a Host that can give a file to another owner.
type chowner interface {
	Chown(path string, uid, gid int) error
}

// Backup keeps the file at path beside it, as path+BackupSuffix, with its
// content, mode and owner: what trustform keeps of a file it did not
// write before it replaces it (adopt and replace). A missing file needs
// no backup; a backup already there is replaced by the file as it is now.
func Backup(h Host, path string) error {
	b, err := h.ReadFile(path)
	if err != nil || b == nil {
		return err
	}
	st, err := h.Stat(path)
	if err != nil || st == nil {
		return errors.Join(err, errors.New(path+" went away while it was backed up"))
	}
	backup := path + BackupSuffix
	if err := h.WriteFile(backup, b, st.Mode().Perm()); err != nil {
		return err
	}
	uid, gid, ok := owner(st)
	if c, can := h.(chowner); ok && can && (uid != 0 || gid != 0) {
		return c.Chown(backup, uid, gid)
	}
	return nil
}

// owner is a file's owner and group, where the FileInfo says.
func owner(st fs.FileInfo) (uid, gid int, ok bool) {
	switch sys := st.Sys().(type) {
	case *syscall.Stat_t:
		return int(sys.Uid), int(sys.Gid), true
	case *sftp.FileStat:
		return int(sys.UID), int(sys.GID), true
	}
	return 0, 0, false
}
