package hpo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hgdtune/hgdtune/internal/dirlock"
)

// Storage keeps one experiment: its journal, its checkpoints, and the lock
// that lets one runner at a time own them. DirStorage keeps them in a local
// folder; package hpo/pgstore keeps them in a
// PostgreSQL database. Run uses nothing else, so any implementation that
// keeps the contract below runs, resumes and replays experiments the same.
//
// Errors that are the storage's own (a full disk, a lost connection, a lost
// lock) wrap ErrStorage, so that errors.Is(err, ErrStorage) tells them from
// the errors of the callbacks (Trainable.Save and Restore), which are
// returned as they are.
type Storage interface {
	// Lock makes the caller the experiment's only runner until it calls
	// release. Another holder, in this process or another, makes it fail at
	// once with an error wrapping ErrLocked that names the holder. A holder
	// that dies loses the lock (at once for a folder; when its lease
	// expires for a database). Only the holder may write.
	Lock(ctx context.Context) (release func() error, err error)
	Journal
	Checkpoints
}

// Journal is the journal part of a Storage: read it (LoadReportFrom needs
// nothing more), or open it to append.
type Journal interface {
	// ReadJournal returns the journal's events without writing anything
	// and without the lock: it may run while the holder appends. A torn
	// last event is ignored; a malformed one elsewhere wraps ErrJournal.
	ReadJournal(ctx context.Context) ([]Event, error)
	// OpenJournal returns the journal's events and a writer that appends
	// after them, dropping a torn last event for good. The writer numbers
	// the events it appends (Event.Seq), continuing the journal's
	// numbering; an event whose number another writer took first is
	// refused (an error wrapping ErrStorage).
	OpenJournal(ctx context.Context) (events []Event, app JournalWriter, err error)
}

// Checkpoints is the checkpoint part of a Storage: what a training job
// (RunTask, on a worker) needs.
type Checkpoints interface {
	// SaveCheckpoint stores the checkpoint named key (a relative path, as
	// the journal names checkpoints: "t000003/b000009") that write puts
	// into dir, an empty folder: all or nothing, replacing any checkpoint
	// of that name. An error from write is returned as it is, and nothing
	// is stored.
	SaveCheckpoint(ctx context.Context, key string, write func(dir string) error) error
	// LoadCheckpoint calls read with a folder holding checkpoint key,
	// valid during the call. A key that was never saved (or was removed)
	// is an error wrapping fs.ErrNotExist, from the storage or, for
	// DirStorage, from read given the missing folder.
	LoadCheckpoint(ctx context.Context, key string, read func(dir string) error) error
	// CopyCheckpoint makes checkpoint dst a copy of checkpoint src, all or
	// nothing. An error wrapping ErrStorage means that dst could not be
	// written (the experiment stops); any other error means that src
	// could not be read (the exploiting trial fails).
	CopyCheckpoint(ctx context.Context, src, dst string) error
	// RemoveCheckpoint deletes checkpoint key; a missing key is no error.
	RemoveCheckpoint(ctx context.Context, key string) error
}

// JournalWriter appends events to an experiment's journal (Storage.OpenJournal).
// Append sets e.Seq and writes e whole or not at all; after an error it
// takes no more events. It is used by one goroutine at a time.
type JournalWriter interface {
	Append(e *Event) error
	Close() error
}

// ErrLocked reports that another runner holds the experiment (Storage.Lock).
// DirStorage's error also wraps the folder lock's own error (internal/dirlock).
var ErrLocked = errors.New("hpo: experiment in use by another runner")

// DirStorage is a Storage in a local folder: the journal is
// dir/journal.jsonl (one JSON event a line, each line one write in append
// mode; a torn last line is truncated when the journal is opened), the
// checkpoints are folders dir/checkpoints/<key> (written into <key>.tmp
// and renamed), and the lock is an flock on dir/.lock (package
// internal/dirlock), which the kernel drops when its process dies. The
// context arguments are not used: local file operations are not
// interrupted.
type DirStorage string

var _ Storage = DirStorage("")

func (d DirStorage) String() string { return string(d) }

func (d DirStorage) journalPath() string    { return filepath.Join(string(d), "journal.jsonl") }
func (d DirStorage) checkpointRoot() string { return filepath.Join(string(d), "checkpoints") }

// checkpoint returns the folder of checkpoint key.
func (d DirStorage) checkpoint(key string) (string, error) {
	if key == "" || !filepath.IsLocal(filepath.FromSlash(key)) {
		return "", fmt.Errorf("%w: checkpoint name %q is not a relative path inside the experiment", ErrInvalid, key)
	}
	return filepath.Join(d.checkpointRoot(), filepath.FromSlash(key)), nil
}

// Lock implements Storage: it creates the folder and its checkpoints
// folder, locks it, and removes the temporary folders that a killed
// holder left behind.
func (d DirStorage) Lock(context.Context) (func() error, error) {
	l, err := dirlock.Acquire(string(d))
	if err != nil {
		if errors.Is(err, dirlock.ErrLocked) {
			return nil, lockedError{err}
		}
		return nil, err
	}
	root := d.checkpointRoot()
	if err := os.MkdirAll(root, 0o755); err != nil {
		l.Unlock()
		return nil, err
	}
	removeStaleTemps(root)
	return l.Unlock, nil
}

// lockedError is dirlock's error (its message unchanged) that also
// matches ErrLocked.
type lockedError struct{ err error }

func (e lockedError) Error() string        { return e.err.Error() }
func (e lockedError) Unwrap() error        { return e.err }
func (e lockedError) Is(target error) bool { return target == ErrLocked }

func removeStaleTemps(root string) {
	matches, _ := filepath.Glob(filepath.Join(root, "*", "*.tmp"))
	for _, m := range matches {
		os.RemoveAll(m)
	}
}

// ReadJournal implements Storage. A folder without a journal is an error
// wrapping fs.ErrNotExist, as for LoadReport.
func (d DirStorage) ReadJournal(context.Context) ([]Event, error) {
	events, _, err := ReadJournal(d.journalPath())
	return events, err
}

// OpenJournal implements Storage, creating the folder and the journal
// when missing.
func (d DirStorage) OpenJournal(context.Context) ([]Event, JournalWriter, error) {
	if err := os.MkdirAll(string(d), 0o755); err != nil {
		return nil, nil, err
	}
	j, events, err := openJournal(d.journalPath())
	if err != nil {
		return nil, nil, err
	}
	return events, j, nil
}

// SaveCheckpoint implements Storage: write fills key's folder + ".tmp",
// which is then renamed to it.
func (d DirStorage) SaveCheckpoint(_ context.Context, key string, write func(dir string) error) error {
	dir, err := d.checkpoint(key)
	if err != nil {
		return err
	}
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return storage(err)
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return storage(err)
	}
	if err := write(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return storage(err)
	}
	return storage(os.Rename(tmp, dir))
}

// LoadCheckpoint implements Storage: read gets key's folder itself.
func (d DirStorage) LoadCheckpoint(_ context.Context, key string, read func(dir string) error) error {
	dir, err := d.checkpoint(key)
	if err != nil {
		return err
	}
	return read(dir)
}

// CopyCheckpoint implements Storage, copying the folder's regular files and
// folders through a temporary folder renamed at the end.
func (d DirStorage) CopyCheckpoint(_ context.Context, src, dst string) error {
	from, err := d.checkpoint(src)
	if err != nil {
		return err
	}
	to, err := d.checkpoint(dst)
	if err != nil {
		return err
	}
	return copyDir(from, to)
}

// RemoveCheckpoint implements Storage.
func (d DirStorage) RemoveCheckpoint(_ context.Context, key string) error {
	dir, err := d.checkpoint(key)
	if err != nil {
		return err
	}
	return storage(os.RemoveAll(dir))
}

// storageError marks an error of DirStorage's own writes (a checkpoint, a
// copy's destination) with ErrStorage, keeping the error's message as it is.
type storageError struct{ err error }

func (e *storageError) Error() string        { return e.err.Error() }
func (e *storageError) Unwrap() error        { return e.err }
func (e *storageError) Is(target error) bool { return target == ErrStorage }

func storage(err error) error {
	if err == nil {
		return nil
	}
	return &storageError{err}
}

// storageFailure is err, a failure of the experiment's storage while doing
// what, as Run returns it: wrapping ErrStorage, whose text the message
// holds once.
func storageFailure(err error, what string) error {
	if wraps(err, ErrStorage) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrStorage, what, err)
}

// unreadable reports whether a checkpoint's load failed because its data
// are missing or cannot be read back (ErrCheckpointData): a storage
// problem, not the trial's.
func unreadable(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrCheckpointData)
}

// wraps reports whether target itself (not an error that only matches it
// through an Is method) is in err's chain: then err's message holds
// target's text.
func wraps(err, target error) bool {
	for err != nil {
		if err == target {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if wraps(e, target) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// copyDir copies the regular files and directories of src into dst via a
// temporary directory renamed at the end. Errors writing dst are
// *storageError; errors reading src are returned as they are.
func copyDir(src, dst string) error {
	tmp := dst + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return storage(err)
	}
	if fi, err := os.Stat(src); err != nil {
		return err
	} else if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", src)
	}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(tmp, rel)
		if d.IsDir() {
			return storage(os.MkdirAll(target, 0o755))
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return storage(os.WriteFile(target, data, 0o644))
	})
	if err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.RemoveAll(dst); err != nil {
		return storage(err)
	}
	return storage(os.Rename(tmp, dst))
}
