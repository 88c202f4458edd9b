package cifar

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// maxMemberSize bounds one archive member (CIFAR-100's train.bin has
// 153,700,000 bytes), so a corrupt header cannot exhaust memory.
const maxMemberSize = 256 << 20

// ctxReader fails reads once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// walkArchive streams a .tar.gz archive and calls fn for every regular file
// directly inside folder/ (by base name). It reads the archive to its end,
// so gzip's CRC is checked, and returns the archive's MD5.
func walkArchive(ctx context.Context, archivePath, folder string, fn func(name string, size int64, r io.Reader) error) (string, error) {
	fh, _, err := openRegular(archivePath)
	if errors.Is(err, ErrFormat) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("cifar: opening %s: %w", archivePath, err)
	}
	defer fh.Close()
	h := md5.New()
	tee := io.TeeReader(ctxReader{ctx, fh}, h)
	bad := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("%w: %s: %w", ErrArchive, archivePath, err)
	}
	gz, err := gzip.NewReader(tee)
	if err != nil {
		return "", bad(err)
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", bad(err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Clean(strings.TrimPrefix(hdr.Name, "./"))
		dir, base := path.Split(name)
		if strings.TrimSuffix(dir, "/") != folder || base == "" || base == "." || base == ".." {
			continue
		}
		if hdr.Size < 0 || hdr.Size > maxMemberSize {
			return "", bad(fmt.Errorf("member %s: implausible size %d", name, hdr.Size))
		}
		if err := fn(base, hdr.Size, tr); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return "", bad(fmt.Errorf("member %s: %w", name, io.ErrUnexpectedEOF))
			}
			var ae archiveErr
			if errors.As(err, &ae) {
				return "", bad(fmt.Errorf("member %s: %w", name, ae.err))
			}
			return "", err
		}
	}
	// Drain: checks gzip's CRC and completes the archive's MD5.
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return "", bad(err)
	}
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return "", bad(err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// archiveErr marks a read error from the archive stream inside a callback.
type archiveErr struct{ err error }

func (a archiveErr) Error() string { return a.err.Error() }

// readArchive returns the wanted members of folder/ in the archive, read into
// memory, after checking the archive's MD5 (unless SkipMD5).
func (r resolved) readArchive(ctx context.Context, archivePath, folder string, want map[string]bool) (map[string][]byte, error) {
	out := map[string][]byte{}
	sum, err := walkArchive(ctx, archivePath, folder, func(name string, size int64, rd io.Reader) error {
		if !want[name] {
			return nil
		}
		buf := make([]byte, size)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return archiveErr{err}
		}
		out[name] = buf
		return nil
	})
	if err != nil {
		return nil, err
	}
	if want, ok := KnownMD5(filepath.Base(archivePath)); ok && !r.SkipMD5 && sum != want {
		return nil, &ChecksumError{File: archivePath, Want: want, Got: sum}
	}
	return out, nil
}

// extractArchive extracts the regular files of folder/ from the archive into
// destDir/folder/, each written to a temporary folder inside destDir first and
// then renamed into place. Files already present are left alone.
func extractArchive(ctx context.Context, archivePath, folder, destDir string) error {
	tmpDir, err := os.MkdirTemp(destDir, ".extract-*")
	if err != nil {
		return fmt.Errorf("cifar: extracting %s: %w", archivePath, err)
	}
	defer os.RemoveAll(tmpDir)
	var names []string
	_, err = walkArchive(ctx, archivePath, folder, func(name string, size int64, rd io.Reader) error {
		f, err := os.OpenFile(filepath.Join(tmpDir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("cifar: extracting %s: %w", archivePath, err)
		}
		n, err := io.Copy(f, rd)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil && n != size {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return archiveErr{err}
		}
		names = append(names, name)
		return nil
	})
	if err != nil {
		return err
	}
	final := filepath.Join(destDir, folder)
	if err := os.MkdirAll(final, 0o755); err != nil {
		return fmt.Errorf("cifar: extracting %s: %w", archivePath, err)
	}
	for _, n := range names {
		dst := filepath.Join(final, n)
		if _, err := os.Lstat(dst); err == nil {
			continue
		}
		if err := os.Rename(filepath.Join(tmpDir, n), dst); err != nil {
			return fmt.Errorf("cifar: extracting %s: %w", archivePath, err)
		}
	}
	return nil
}
