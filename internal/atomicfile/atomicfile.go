// Package atomicfile writes files whole or not at all: the data go to a
// temporary file in the same folder, which is flushed to disk (fsync) and
// renamed over the destination, so a reader (or a crash) sees the old
// content or the new one, never a part. The file gets ordinary permissions
// (the perm given, usually 0644, less the umask, as os.WriteFile), not the
// 0600 of os.CreateTemp.
//
// Every error names the destination file.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// tempInfix separates a temporary file's destination name from its random
// suffix: ".name.tmp-123456".
const tempInfix = ".tmp-"

// WriteFile writes data to path atomically, with permissions perm (before
// the umask). The folder must exist.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write writes path atomically with what write writes (buffered), with
// permissions perm (before the umask). If write fails, or anything after
// it, the destination is left as it was and the temporary file is removed.
// The folder must exist.
func Write(path string, perm os.FileMode, write func(io.Writer) error) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	f, err := createTemp(path, perm)
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// createTemp creates a new temporary file beside path, with mode perm less
// the umask (os.CreateTemp would make it 0600).
func createTemp(path string, perm os.FileMode) (*os.File, error) {
	prefix := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+tempInfix)
	for range 100 {
		name := prefix + strconv.FormatUint(rand.Uint64()%1e12, 10)
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("no unused temporary name %s*", prefix)
}

// SyncDir makes the entries of folder dir durable: the files created,
// renamed or removed in it (fsync of the folder). File systems that cannot
// sync a folder (EINVAL, ENOTSUP) are fine: the entries are changed, there
// is nothing more to wait for. Its errors name dir.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil
	}
	return err
}

// IsTemp reports whether name (a base name) is one of this package's
// temporary files, which a process killed while writing leaves behind.
func IsTemp(name string) bool {
	i := strings.LastIndex(name, tempInfix)
	if !strings.HasPrefix(name, ".") || i < 2 {
		return false
	}
	_, err := strconv.ParseUint(name[i+len(tempInfix):], 10, 64)
	return err == nil
}

// RemoveTemps removes the temporary files left in dir by writers that were
// killed. Only call it while no other process writes into dir (hold the
// folder's lock).
func RemoveTemps(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.Type().IsRegular() && IsTemp(e.Name()) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}
