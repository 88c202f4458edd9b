package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hgdtune/hgdtune/hpo"
)

// Checkpoints in a shared folder (CheckpointDir): the experiment's folder
// is an hpo.DirStorage, whose writes are fenced by a check of the lease
// just before them (a folder cannot take part in the database's
// transaction; a runner that loses its lease during one write may finish
// that write, and no other).

// folder is the DirStorage of the experiment's checkpoints: checkpoint key
// is the folder <CheckpointDir>/<name>/checkpoints/<key>.
func (s *Store) folder() hpo.DirStorage {
	return hpo.DirStorage(filepath.Join(s.ckptDir, filepath.FromSlash(s.name)))
}

// checkpointPath is the folder of checkpoint key.
func (s *Store) checkpointPath(key string) string {
	return filepath.Join(string(s.folder()), "checkpoints", filepath.FromSlash(key))
}

// checkLease fails when the Store held the lease and lost it.
func (s *Store) checkLease(ctx context.Context) error {
	owner, err := s.fence()
	if err != nil || owner == "" {
		return err
	}
	var held bool
	if err := s.pool.QueryRow(ctx, `SELECT `+leaseHeld(2), s.id, owner).Scan(&held); err != nil {
		return s.storageErr(err, "checking the lease")
	}
	if !held {
		return s.lostLease()
	}
	return nil
}

func (s *Store) saveToFolder(ctx context.Context, key string, write func(dir string) error) error {
	if err := s.checkLease(ctx); err != nil {
		return err
	}
	return s.folder().SaveCheckpoint(ctx, key, write)
}

func (s *Store) loadFromFolder(ctx context.Context, key string, read func(dir string) error) error {
	if _, err := os.Stat(s.checkpointPath(key)); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pgstore: %s has no checkpoint %s: %w", s, key, fs.ErrNotExist)
	}
	return s.folder().LoadCheckpoint(ctx, key, read)
}

func (s *Store) copyInFolder(ctx context.Context, src, dst string) error {
	if err := s.checkLease(ctx); err != nil {
		return err
	}
	if _, err := os.Stat(s.checkpointPath(src)); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pgstore: %s has no checkpoint %s: %w", s, src, fs.ErrNotExist)
	}
	return s.folder().CopyCheckpoint(ctx, src, dst)
}

func (s *Store) removeFromFolder(ctx context.Context, key string) error {
	if err := s.checkLease(ctx); err != nil {
		return err
	}
	return s.folder().RemoveCheckpoint(ctx, key)
}

// stageInFolder has write fill a new folder inside the experiment's
// folder, for a worker to rename into place when it finishes its task
// (placeStaged).
func (s *Store) stageInFolder(key string, write func(dir string) error) (string, error) {
	root := filepath.Join(string(s.folder()), "checkpoints")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("%w: pgstore: %w", hpo.ErrStorage, err)
	}
	dir, err := os.MkdirTemp(root, ".task-")
	if err != nil {
		return "", fmt.Errorf("%w: pgstore: %w", hpo.ErrStorage, err)
	}
	if err := write(dir); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// placeStaged makes the staged folder checkpoint key.
func (s *Store) placeStaged(staged, key string) error {
	dst := s.checkpointPath(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	return os.Rename(staged, dst)
}
