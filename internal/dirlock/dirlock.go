// Package dirlock gives one process at a time a folder: an experiment's
// results folder, a training checkpoint folder. Two processes writing the
// same journal interleave their lines and corrupt it for good; the second
// one must stop at once with an error that names the first.
//
// The lock is an advisory flock(2) on the file ".lock" inside the folder, so
// the kernel releases it when the holder exits in any way, kill -9 included:
// a stale lock file never blocks anybody. The file holds a line describing
// the holder (pid, host, command with its passwords masked by package
// redact, start time), which the error quotes, masked again.
package dirlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hgdtune/hgdtune/internal/redact"
)

// ErrLocked is returned (wrapped) when another process holds the folder.
var ErrLocked = errors.New("folder in use by another process")

// Name is the lock file's name inside the locked folder.
const Name = ".lock"

// Lock is a held folder lock. Release it with Unlock (exiting does too).
type Lock struct {
	f   *os.File
	dir string
}

// Acquire creates dir if needed and locks it for this process, or fails at
// once with an error wrapping ErrLocked that names the holder.
func Acquire(dir string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, Name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("dirlock: %w", err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("dirlock: locking %s: %w", path, err)
	}
	if !held {
		b, _ := os.ReadFile(path)
		f.Close()
		holder := redact.URL(strings.TrimSpace(string(b))) // whoever wrote the file
		if holder == "" {
			holder = "a process that has not yet written its name"
		}
		return nil, fmt.Errorf("%w: %s is held by %s (lock file %s); wait for it to finish or stop it", ErrLocked, dir, holder, path)
	}
	host, _ := os.Hostname()
	desc := fmt.Sprintf("pid %d on %s (%s), since %s\n", os.Getpid(), host,
		strings.Join(redact.Args(os.Args), " "), time.Now().Format(time.RFC3339))
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(desc), 0) // informative only: a failure here changes nothing
	}
	return &Lock{f: f, dir: dir}, nil
}

// Unlock releases the lock (the lock file stays: removing it would race
// with a process that has just opened it).
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor drops the flock
	l.f = nil
	return err
}
