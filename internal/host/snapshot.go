package host

import (
	"errors"
	"fmt"
	"io/fs"
)

// Snapshot is the content of a set of files on a host before a change, so a
// failed change (a config test that fails) can put every byte back.
type Snapshot struct {
	host  Host
	files map[string]saved
}

type saved struct {
	data []byte // nil: the file did not exist
	mode fs.FileMode
}

// Take records the current content and mode of paths on h.
func Take(h Host, paths ...string) (*Snapshot, error) {
	s := &Snapshot{host: h, files: map[string]saved{}}
	for _, p := range paths {
		b, err := h.ReadFile(p)
		if err != nil {
			return nil, err
		}
		mode := fs.FileMode(0o644)
		if st, err := h.Stat(p); err == nil && st != nil {
			mode = st.Mode().Perm()
		}
		s.files[p] = saved{b, mode}
	}
	return s, nil
}

// Restore puts every file back as it was, removing those that did not exist.
func (s *Snapshot) Restore() error {
	var errs []error
	for p, f := range s.files {
		var err error
		if f.data == nil {
			err = s.host.Remove(p)
		} else {
			err = s.host.WriteFile(p, f.data, f.mode)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("restore %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}
