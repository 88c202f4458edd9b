// Package testkit holds small helpers shared by the tests of several
// packages: the process's umask, a server standing for an unreachable
// network, and CIFAR-10 data folders built from real data and corrupted on
// cue.
package testkit

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// UnreachableServer is a server that drops every connection without an
// answer, as an unreachable network does: the request fails in the
// transport, before any response. It is closed when the test ends.
func UnreachableServer(t testing.TB) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			c.Close()
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// OfflineCIFAR10 returns a new data folder laid out as the documented
// offline layout: cifar-10-batches-bin/ with the five training batches and
// the class names of the real data folder dataDir (as symbolic links), no
// test batch. With copyBatch5, data_batch_5.bin is a private copy instead
// of a link, one a test may change.
func OfflineCIFAR10(t testing.TB, dataDir string, copyBatch5 bool) string {
	t.Helper()
	src, err := filepath.Abs(filepath.Join(dataDir, "cifar-10-batches-bin"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	folder := filepath.Join(dir, "cifar-10-batches-bin")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"batches.meta.txt", "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"} {
		if n == "data_batch_5.bin" && copyBatch5 {
			b, err := os.ReadFile(filepath.Join(src, n))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(folder, n), b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.Symlink(filepath.Join(src, n), filepath.Join(folder, n)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// FlipByteKeepingModTime flips the lowest bit of the byte at off in the
// file at path, in place, and restores the file's modification time: a
// change that its size and time do not show.
func FlipByteKeepingModTime(t testing.TB, path string, off int64) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 1
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, info.ModTime(), info.ModTime()); err != nil {
		t.Fatal(err)
	}
}

// CheckMode reports an error on t unless path exists with the permission
// bits perm less the process's umask (what os.WriteFile(path, b, perm) or
// os.MkdirAll(path, perm) would give).
func CheckMode(t testing.TB, path string, perm os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Error(err)
		return
	}
	if got, want := st.Mode().Perm(), perm&^Umask(t); got != want {
		t.Errorf("%s: mode %v, want %v", path, got, want)
	}
}

// StartChild starts this test binary again running only test run (a
// helper that skips unless its environment says otherwise) with env added
// to the environment, its output going to the file logPath. The caller
// kills and waits for it.
func StartChild(t testing.TB, run, logPath string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+run+"$", "-test.v")
	cmd.Env = append(os.Environ(), env...)
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}
