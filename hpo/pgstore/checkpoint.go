package pgstore

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/jackc/pgx/v5"

	"github.com/hgdtune/hgdtune/hpo"
)

// checkKey refuses a key that is not a relative path inside the experiment.
func checkKey(key string) error {
	if key == "" || !filepath.IsLocal(filepath.FromSlash(key)) {
		return fmt.Errorf("%w: pgstore: checkpoint name %q is not a relative path", hpo.ErrInvalid, key)
	}
	return nil
}

// SaveCheckpoint implements hpo.Storage: write fills a local temporary
// folder, which is stored as a tar in one statement (fenced by the lease
// when this Store holds it).
func (s *Store) SaveCheckpoint(ctx context.Context, key string, write func(dir string) error) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if s.ckptDir != "" {
		return s.saveToFolder(ctx, key, write)
	}
	data, err := packCheckpoint(key, write)
	if err != nil {
		return err
	}
	owner, err := s.fence()
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO hgdtune_checkpoints (experiment, key, data, size)
		SELECT $1::bigint, $2::text, $3::bytea, $4::bigint WHERE `+leaseHeld(5)+`
		ON CONFLICT (experiment, key) DO UPDATE SET data = excluded.data, size = excluded.size, written = now()`,
		s.id, key, data, int64(len(data)), owner)
	if err != nil {
		return s.storageErr(err, "saving checkpoint "+key)
	}
	if tag.RowsAffected() == 0 {
		return s.lostLease()
	}
	return nil
}

// packCheckpoint has write fill a local temporary folder and returns it
// packed (packDir). An error of write is returned as it is; the others
// wrap hpo.ErrStorage.
func packCheckpoint(key string, write func(dir string) error) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "pgstore-save-")
	if err != nil {
		return nil, fmt.Errorf("%w: pgstore: a local folder for checkpoint %s: %w", hpo.ErrStorage, key, err)
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "checkpoint")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: pgstore: a local folder for checkpoint %s: %w", hpo.ErrStorage, key, err)
	}
	if err := write(dir); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := packDir(dir, &buf); err != nil {
		return nil, fmt.Errorf("%w: pgstore: packing checkpoint %s: %w", hpo.ErrStorage, key, err)
	}
	return buf.Bytes(), nil
}

// LoadCheckpoint implements hpo.Storage: the checkpoint is unpacked into a
// local temporary folder, deleted after read returns.
func (s *Store) LoadCheckpoint(ctx context.Context, key string, read func(dir string) error) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if s.ckptDir != "" {
		return s.loadFromFolder(ctx, key, read)
	}
	var data []byte
	err := s.pool.QueryRow(ctx, `SELECT data FROM hgdtune_checkpoints WHERE experiment = $1 AND key = $2`, s.id, key).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("pgstore: %s has no checkpoint %s: %w", s, key, fs.ErrNotExist)
	}
	if err != nil {
		return s.storageErr(err, "loading checkpoint "+key)
	}
	tmp, err := os.MkdirTemp("", "pgstore-load-")
	if err != nil {
		return fmt.Errorf("%w: pgstore: a local folder for checkpoint %s: %w", hpo.ErrStorage, key, err)
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "checkpoint")
	if err := unpack(bytes.NewReader(data), dir); err != nil {
		return fmt.Errorf("%w: pgstore: unpacking checkpoint %s: %w", hpo.ErrStorage, key, err)
	}
	return read(dir)
}

// CopyCheckpoint implements hpo.Storage, inside the database. A missing
// src is an error wrapping fs.ErrNotExist (not hpo.ErrStorage).
func (s *Store) CopyCheckpoint(ctx context.Context, src, dst string) error {
	if err := checkKey(src); err != nil {
		return err
	}
	if err := checkKey(dst); err != nil {
		return err
	}
	if s.ckptDir != "" {
		return s.copyInFolder(ctx, src, dst)
	}
	owner, err := s.fence()
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO hgdtune_checkpoints (experiment, key, data, size)
		SELECT experiment, $3::text, data, size FROM hgdtune_checkpoints
		WHERE experiment = $1 AND key = $2::text AND `+leaseHeld(4)+`
		ON CONFLICT (experiment, key) DO UPDATE SET data = excluded.data, size = excluded.size, written = now()`,
		s.id, src, dst, owner)
	if err != nil {
		return s.storageErr(err, fmt.Sprintf("copying checkpoint %s to %s", src, dst))
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	// Nothing copied: no such source, or the lease is gone.
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM hgdtune_checkpoints WHERE experiment = $1 AND key = $2)`,
		s.id, src).Scan(&exists); err != nil {
		return s.storageErr(err, fmt.Sprintf("copying checkpoint %s to %s", src, dst))
	}
	if !exists {
		return fmt.Errorf("pgstore: %s has no checkpoint %s: %w", s, src, fs.ErrNotExist)
	}
	return s.lostLease()
}

// RemoveCheckpoint implements hpo.Storage.
func (s *Store) RemoveCheckpoint(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if s.ckptDir != "" {
		return s.removeFromFolder(ctx, key)
	}
	owner, err := s.fence()
	if err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM hgdtune_checkpoints WHERE experiment = $1 AND key = $2 AND `+leaseHeld(3),
		s.id, key, owner); err != nil {
		return s.storageErr(err, "removing checkpoint "+key)
	}
	return nil
}

// packDir writes the folders and files under dir as a tar (paths relative
// to dir, slash-separated; files are read through symbolic links, as a
// copy would).
func packDir(dir string, w io.Writer) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		name := filepath.ToSlash(rel)
		if d.IsDir() {
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755})
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// unpack extracts a tar written by packDir into dir, refusing any entry
// that is not a folder or a regular file inside dir.
func unpack(r io.Reader, dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean(h.Name)
		if !filepath.IsLocal(filepath.FromSlash(name)) {
			return fmt.Errorf("entry %q is outside the checkpoint", h.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("entry %q is neither a folder nor a regular file", h.Name)
		}
	}
}
