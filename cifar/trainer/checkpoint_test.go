package trainer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hgdtune/hgdtune/backend/backendtest"
)

// savedCheckpoint trains a tiny network 3 steps and saves it; it returns the
// folder and the configuration that restores it.
func savedCheckpoint(t *testing.T) (string, Config, Data) {
	t.Helper()
	be := backendtest.Go(t)
	data := toyData(t, 100, 10, 1)
	cfg := Config{Net: small1, BatchSize: 8, Seed: 2}
	tr := newTrainer(t, be, data, cfg)
	if _, err := tr.Train(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := tr.Save(dir); err != nil {
		t.Fatal(err)
	}
	return dir, cfg, data
}

// copyCheckpoint copies the regular files of a checkpoint folder.
func copyCheckpoint(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "ck")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// A flipped bit or appended bytes in any file of a checkpoint are refused
// with an error naming the file; the untouched checkpoint restores.
func TestCheckpointChecksum(t *testing.T) {
	dir, cfg, data := savedCheckpoint(t)
	be := backendtest.Go(t)
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range names {
		name := e.Name()
		for _, damage := range []struct {
			what string
			fn   func([]byte) []byte
		}{
			{"flipped bit at the start", func(b []byte) []byte { b[0] ^= 1; return b }},
			{"flipped bit in the middle", func(b []byte) []byte { b[len(b)/2] ^= 0x10; return b }},
			{"flipped bit at the end", func(b []byte) []byte { b[len(b)-1] ^= 0x80; return b }},
			{"appended bytes", func(b []byte) []byte { return append(b, "00"...) }},
			{"appended newline", func(b []byte) []byte { return append(b, '\n') }},
		} {
			t.Run(name+"/"+damage.what, func(t *testing.T) {
				ck := copyCheckpoint(t, dir)
				path := filepath.Join(ck, name)
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, damage.fn(b), 0o644); err != nil {
					t.Fatal(err)
				}
				tr := newTrainer(t, be, data, cfg)
				err = tr.Restore(ck)
				if !errors.Is(err, ErrCheckpoint) {
					t.Fatalf("restored a checkpoint with %s in %s (err %v)", damage.what, name, err)
				}
				if !strings.Contains(err.Error(), name) {
					t.Errorf("the error does not name %s: %v", name, err)
				}
				if tr.Steps() != 0 {
					t.Errorf("a refused restore changed the step count to %d", tr.Steps())
				}
			})
		}
	}
	tr := newTrainer(t, be, data, cfg)
	if err := tr.Restore(copyCheckpoint(t, dir)); err != nil {
		t.Fatalf("untouched checkpoint: %v", err)
	}
	if tr.Steps() != 3 {
		t.Errorf("restored at step %d, want 3", tr.Steps())
	}
}

// A checkpoint of format version 1 (before checksums) still restores.
func TestCheckpointVersion1(t *testing.T) {
	dir, cfg, data := savedCheckpoint(t)
	ck := copyCheckpoint(t, dir)
	js, err := os.ReadFile(filepath.Join(ck, stateFile))
	if err != nil {
		t.Fatal(err)
	}
	v1 := bytes.Replace(js, []byte(`"version": 2,`), []byte(`"version": 1,`), 1)
	if bytes.Equal(v1, js) {
		t.Fatal("the fixture edit did not apply")
	}
	if err := os.WriteFile(filepath.Join(ck, stateFile), v1, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(ck, sumsFile)); err != nil {
		t.Fatal(err)
	}
	tr := newTrainer(t, backendtest.Go(t), data, cfg)
	if err := tr.Restore(ck); err != nil {
		t.Fatalf("version-1 checkpoint: %v", err)
	}
	if tr.Steps() != 3 {
		t.Errorf("restored at step %d, want 3", tr.Steps())
	}

	// A version-2 checkpoint without its checksum file is refused.
	ck2 := copyCheckpoint(t, dir)
	if err := os.Remove(filepath.Join(ck2, sumsFile)); err != nil {
		t.Fatal(err)
	}
	err = newTrainer(t, backendtest.Go(t), data, cfg).Restore(ck2)
	if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), sumsFile) {
		t.Errorf("version 2 without %s: %v", sumsFile, err)
	}
}

// A checkpoint whose checksums match but whose index is impossible (edited
// together with its checksums) is still refused by the index checks.
func TestCheckpointIndexChecked(t *testing.T) {
	dir, cfg, data := savedCheckpoint(t)
	ck := copyCheckpoint(t, dir)
	js, err := os.ReadFile(filepath.Join(ck, stateFile))
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(js, []byte(`"dims": [`), []byte(`"dims": [-3, `), 1)
	if bytes.Equal(bad, js) {
		t.Fatal("the fixture edit did not apply")
	}
	vars, err := os.ReadFile(filepath.Join(ck, varsFile))
	if err != nil {
		t.Fatal(err)
	}
	s, v := sha256.Sum256(bad), sha256.Sum256(vars)
	for name, b := range map[string][]byte{stateFile: bad, sumsFile: formatSums(s[:], v[:])} {
		if err := os.WriteFile(filepath.Join(ck, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	err = newTrainer(t, backendtest.Go(t), data, cfg).Restore(ck)
	if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "dimension -3") {
		t.Errorf("negative dimension: %v", err)
	}
}
