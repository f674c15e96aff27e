package host

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// noLinksBeneath fails when p, or a directory on the way to it below
// boundary, is a symbolic link, as lstat sees them (on this machine or
// over SFTP). Without it a link planted at out/etc/ssl would carry keys
// written "under root" to wherever it points. Components that do not exist
// yet are fine: trustform creates them as directories.
func noLinksBeneath(lstat func(string) (fs.FileInfo, error), boundary, p string) error {
	b, c := path.Clean(boundary), path.Clean(p)
	if b != "/" && c != b && !strings.HasPrefix(c, b+"/") {
		return fmt.Errorf("%s is not under %s", p, boundary)
	}
	cur := b
	for _, part := range strings.Split(strings.TrimPrefix(c, b), "/") {
		if part == "" {
			continue
		}
		cur = path.Join(cur, part)
		st, err := lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if st.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symbolic link; trustform does not write through links (remove it, or point the configuration at the real path)", cur)
		}
	}
	return nil
}
