package state

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Holder describes who holds the lock, written into the lock file so that a
// waiting trustform can name it.
type Holder struct {
	// ID names this holding of the lock, for force-unlock LOCK_ID.
	ID        string    `json:"id"`
	PID       int       `json:"pid"`
	Host      string    `json:"host"`
	Operation string    `json:"operation"`
	Since     time.Time `json:"since"`
}

func (h Holder) String() string {
	id := ""
	if h.ID != "" {
		id = ", lock ID " + h.ID
	}
	return fmt.Sprintf("trustform %s (pid %d on %s, since %s%s)", h.Operation, h.PID, h.Host, h.Since.UTC().Format(time.RFC3339), id)
}

// NewHolder is this process holding the lock for operation, under a new ID.
func NewHolder(operation string) Holder {
	host, _ := os.Hostname()
	b := make([]byte, 16)
	rand.Read(b)
	id := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
	return Holder{ID: id, PID: os.Getpid(), Host: host, Operation: operation, Since: time.Now()}
}

// ErrNotLocked is force-unlock's answer when nobody holds the lock.
var ErrNotLocked = errors.New("state is not locked")

// checkHolder is force-unlock's check that the lock it would break is the
// one the user named.
func checkHolder(h Holder, id string) error {
	if h.ID != id {
		return fmt.Errorf("the lock is held by %s, not under lock ID %q; nothing was unlocked", h, id)
	}
	return nil
}

// ForceUnlock takes the lock of stateDir from a holder that will not let
// go (a hung process: the kernel frees the lock of one that died), when
// id is its lock ID: the lock file is removed, so that the next trustform
// locks a new one, and the holder, should it wake, finds that it lost the
// lock (Held) and writes no state.
func ForceUnlock(stateDir, id string) error {
	path := filepath.Join(stateDir, "lock")
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, os.ErrNotExist) {
		return ErrNotLocked
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return ErrNotLocked
	}
	var h Holder
	b, _ := os.ReadFile(path)
	json.Unmarshal(b, &h)
	if err := checkHolder(h, id); err != nil {
		return err
	}
	return os.Remove(path)
}

// Lock is an exclusive flock(2) on .trustform/lock. The kernel releases it
// when the process dies, so a crash never leaves a stale lock.
type Lock struct {
	f    *os.File
	path string
}

// Held fails when the lock file was removed or replaced since Acquire:
// another trustform may then have taken a lock of its own, so this one
// must stop writing state.
func (l *Lock) Held() error {
	if !same(l.f, l.path) {
		return fmt.Errorf("%s was removed or replaced while this run held it; another trustform may be running, so this one stops here", l.path)
	}
	return nil
}

// ErrLocked is returned when the lock stays taken for the whole timeout.
var ErrLocked = errors.New("state is locked")

// Acquire takes the lock of stateDir, waiting up to timeout. The lock file
// is opened without following a link (one planted there would be truncated),
// and after flock it must still be the file at the path: a lock on a file
// that was removed or replaced meanwhile locks nobody out.
func Acquire(stateDir, operation string, timeout time.Duration) (*Lock, error) {
	if err := Dir(stateDir); err != nil {
		return nil, err
	}
	path := filepath.Join(stateDir, "lock")
	deadline := time.Now().Add(timeout)
	var f *os.File
	for {
		var err error
		if f == nil {
			if f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600); err != nil {
				if errors.Is(err, syscall.ELOOP) {
					return nil, fmt.Errorf("%s is a symbolic link; trustform locks only its own file (remove the link)", path)
				}
				return nil, err
			}
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			if same(f, path) {
				break
			}
			f.Close() // locked a file that is no longer the lock: try the one there now
			f = nil
			continue
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		if time.Now().After(deadline) {
			var h Holder
			b, _ := os.ReadFile(path)
			f.Close()
			if json.Unmarshal(b, &h) == nil && h.PID != 0 {
				return nil, fmt.Errorf("%w by %s; waited %s (raise -lock-timeout to wait longer; only if that run hangs: trustform force-unlock %s)", ErrLocked, h, timeout, h.ID)
			}
			return nil, fmt.Errorf("%w by another trustform; waited %s", ErrLocked, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := json.Marshal(NewHolder(operation))
	if err := f.Truncate(0); err == nil {
		f.WriteAt(append(b, '\n'), 0)
	}
	return &Lock{f, path}, nil
}

// Release lets the next trustform in.
func (l *Lock) Release() error {
	if same(l.f, l.path) {
		l.f.Truncate(0)
	}
	err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	return errors.Join(err, l.f.Close())
}

// same reports whether the open file f is the file at path now.
func same(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Lstat(path)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// Dir makes sure stateDir is trustform's own: created with mode 0700 when
// missing; otherwise a real directory (not a link, which would carry state
// and the local CA key elsewhere), owned by the running user, that no one
// else can read or write.
func Dir(stateDir string) error {
	st, err := os.Lstat(stateDir)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.Mkdir(stateDir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		st, err = os.Lstat(stateDir)
	}
	if err != nil {
		return err
	}
	sys, _ := st.Sys().(*syscall.Stat_t)
	switch {
	case st.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link; the state directory must be a real directory (state and the local CA key would land where it points)", stateDir)
	case !st.IsDir():
		return fmt.Errorf("%s is not a directory", stateDir)
	case sys != nil && int(sys.Uid) != os.Geteuid():
		return fmt.Errorf("%s belongs to uid %d, not to this user (uid %d): the state directory must be the running user's own", stateDir, sys.Uid, os.Geteuid())
	case st.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("%s has mode %04o; other users could read or change the state and the local CA key: run chmod 700 %s", stateDir, st.Mode().Perm(), stateDir)
	}
	return nil
}
