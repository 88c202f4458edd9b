//go:build unix

package cifar

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// mkfifo makes a named pipe at path. At the end of the test it opens and
// closes the pipe's writing end, so that a reader stuck opening it (the bug
// this guards against) is released instead of leaking.
func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
	t.Cleanup(func() {
		if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
	})
}

// TestNonRegularFiles: a FIFO, socket, device or folder in place of a data
// file, label file, test file or archive is refused at once with an error
// naming it; nothing blocks.
func TestNonRegularFiles(t *testing.T) {
	ctx := context.Background()
	type setup func(t *testing.T, path string)
	kinds := []struct {
		name string
		make setup
		word string // in the error message
	}{
		{"fifo", mkfifo, "named pipe"},
		{"folder", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
		}, "folder"},
		{"socket", func(t *testing.T, path string) {
			l, err := net.Listen("unix", path)
			if err != nil {
				t.Skipf("cannot make a socket here: %v", err)
			}
			t.Cleanup(func() { l.Close() })
		}, "socket"},
		{"device", func(t *testing.T, path string) {
			if _, err := os.Stat("/dev/null"); err != nil {
				t.Skip("no /dev/null")
			}
			if err := os.Symlink("/dev/null", path); err != nil {
				t.Fatal(err)
			}
		}, "device"},
	}
	places := []struct {
		name string
		// prepare lays out the data folder with the odd file at the returned
		// path and returns the Config and set to load.
		prepare func(t *testing.T, dir string) (path string, cfg Config, set Set)
	}{
		{"data batch", func(t *testing.T, dir string) (string, Config, Set) {
			files := cifar10Fixture(3)
			delete(files, "data_batch_2.bin")
			folder := writeFolder(t, dir, "cifar-10-batches-bin", files)
			return filepath.Join(folder, "data_batch_2.bin"), fixtureConfig(t, dir), CIFAR10Train
		}},
		{"label names", func(t *testing.T, dir string) (string, Config, Set) {
			files := cifar10Fixture(3)
			delete(files, "batches.meta.txt")
			folder := writeFolder(t, dir, "cifar-10-batches-bin", files)
			return filepath.Join(folder, "batches.meta.txt"), fixtureConfig(t, dir), CIFAR10Test
		}},
		{"test file", func(t *testing.T, dir string) (string, Config, Set) {
			writeFolder(t, dir, "cifar-10-batches-bin", cifar10Fixture(3))
			cfg := fixtureConfig(t, dir)
			cfg.TestFile = filepath.Join(dir, "stand-in.bin")
			return cfg.TestFile, cfg, CIFAR10Test
		}},
		{"archive", func(t *testing.T, dir string) (string, Config, Set) {
			return filepath.Join(dir, "cifar-100-binary.tar.gz"), fixtureConfig(t, dir), CIFAR100Train
		}},
		{"cache archive", func(t *testing.T, dir string) (string, Config, Set) {
			cfg := fixtureConfig(t, dir)
			return filepath.Join(cfg.CacheDir, "cifar-100-binary.tar.gz"), cfg, CIFAR100Train
		}},
	}
	for _, k := range kinds {
		for _, p := range places {
			t.Run(k.name+"/"+p.name, func(t *testing.T) {
				// A short folder name: socket paths are limited to ~100 bytes.
				dir, err := os.MkdirTemp("", "nr")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.RemoveAll(dir) })
				path, cfg, set := p.prepare(t, dir)
				if strings.HasPrefix(path, cfg.CacheDir) && k.name == "socket" {
					t.Skip("t.TempDir paths are too long for a socket")
				}
				k.make(t, path)
				err = loadWithin(t, func() error {
					_, err := Load(ctx, cfg, set)
					return err
				})
				if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), path) ||
					!strings.Contains(err.Error(), "not a regular file") || !strings.Contains(err.Error(), k.word) {
					t.Fatalf("got %v; want ErrFormat naming %s as a %s, not a regular file", err, path, k.word)
				}
			})
		}
	}
}
