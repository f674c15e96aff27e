package state

import (
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
	PID       int       `json:"pid"`
	Host      string    `json:"host"`
	Operation string    `json:"operation"`
	Since     time.Time `json:"since"`
}

func (h Holder) String() string {
	return fmt.Sprintf("trustform %s (pid %d on %s, since %s)", h.Operation, h.PID, h.Host, h.Since.UTC().Format(time.RFC3339))
}

// Lock is an exclusive flock(2) on .trustform/lock. The kernel releases it
// when the process dies, so a crash never leaves a stale lock.
type Lock struct{ f *os.File }

// ErrLocked is returned when the lock stays taken for the whole timeout.
var ErrLocked = errors.New("state is locked")

// Acquire takes the lock of stateDir, waiting up to timeout.
func Acquire(stateDir, operation string, timeout time.Duration) (*Lock, error) {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(stateDir, "lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
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
				return nil, fmt.Errorf("%w by %s; waited %s (raise -lock-timeout to wait longer)", ErrLocked, h, timeout)
			}
			return nil, fmt.Errorf("%w by another trustform; waited %s", ErrLocked, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	host, _ := os.Hostname()
	b, _ := json.Marshal(Holder{PID: os.Getpid(), Host: host, Operation: operation, Since: time.Now()})
	if err := f.Truncate(0); err == nil {
		f.WriteAt(append(b, '\n'), 0)
	}
	return &Lock{f}, nil
}

// Release lets the next trustform in.
func (l *Lock) Release() error {
	l.f.Truncate(0)
	err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	return errors.Join(err, l.f.Close())
}
