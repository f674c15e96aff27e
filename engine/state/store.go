package state

import (
	"context"
	"errors"
	"os"
	"time"
)

// Store keeps one configuration's state and the lock around it: the
// .trustform directory beside the configuration (Dir), or a PostgreSQL
// database that every runner shares (Postgres).
//
// Lock takes the lock for operation, waiting up to timeout, and names the
// holder when it gives up; the lock frees itself when its holder dies.
// Held fails when the lock was lost meanwhile. Load reads the state (a
// missing one is new and empty). Save writes the next serial of st, and
// writes nothing when the stored state moved on since st was loaded.
// ForceUnlock breaks a lock whose holder will not let go, when id is the
// lock ID it holds it under; the holder then finds that it lost the lock.
type Store interface {
	Lock(ctx context.Context, operation string, timeout time.Duration) error
	ForceUnlock(ctx context.Context, id string) error
	Held() error
	Load(ctx context.Context) (*State, error)
	Save(ctx context.Context, st *State) error
	Close() error
}

// DirStore is the state in a directory: state.json and the lock file.
type DirStore struct {
	Dir string
	// ReadOnly (an untrusted plan): nothing is created or written, and no
	// lock is taken; a missing directory is an empty state.
	ReadOnly bool
	lock     *Lock
}

// errReadOnly is what a read-only store says to a write.
var errReadOnly = errors.New("state: this run only reads the state (plan -untrusted)")

var _ Store = (*DirStore)(nil)

// Lock takes the lock file's flock.
func (d *DirStore) Lock(_ context.Context, operation string, timeout time.Duration) error {
	if d.ReadOnly {
		return errReadOnly
	}
	l, err := Acquire(d.Dir, operation, timeout)
	d.lock = l
	return err
}

// ForceUnlock removes the lock file of a holder that will not let go.
func (d *DirStore) ForceUnlock(_ context.Context, id string) error {
	if d.ReadOnly {
		return errReadOnly
	}
	return ForceUnlock(d.Dir, id)
}

// Held fails when the lock file was removed or replaced meanwhile.
func (d *DirStore) Held() error {
	if d.lock == nil {
		return nil
	}
	return d.lock.Held()
}

// Load reads state.json, checking the directory is trustform's own.
func (d *DirStore) Load(context.Context) (*State, error) {
	if _, err := os.Lstat(d.Dir); d.ReadOnly && errors.Is(err, os.ErrNotExist) {
		return Load(Path(d.Dir)) // missing: new and empty
	}
	if err := Dir(d.Dir); err != nil {
		return nil, err
	}
	return Load(Path(d.Dir))
}

// Save writes state.json atomically (the lock keeps writers one at a time).
func (d *DirStore) Save(_ context.Context, st *State) error {
	if d.ReadOnly {
		return errReadOnly
	}
	if err := d.Held(); err != nil {
		return err
	}
	return st.Save(Path(d.Dir))
}

// Close releases the lock.
func (d *DirStore) Close() error {
	if d.lock == nil {
		return nil
	}
	return d.lock.Release()
}
