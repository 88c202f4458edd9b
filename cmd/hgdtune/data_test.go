package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hgdtune/hgdtune/internal/testkit"
)

// offlineLayout returns a data folder laid out as the documented offline
// layout: cifar-10-batches-bin/ with the five training batches and the class
// names of $HGDTUNE_DATA (as symbolic links), no test batch. With
// copyBatch5, data_batch_5.bin is a private copy instead of a link.
func offlineLayout(t *testing.T, copyBatch5 bool) string {
	t.Helper()
	real := os.Getenv("HGDTUNE_DATA")
	if real == "" {
		t.Skip("set HGDTUNE_DATA=/path/to/data (the folder holding cifar-10-batches-bin) to run")
	}
	return testkit.OfflineCIFAR10(t, real, copyBatch5)
}

// TestDataMissingHints: the advice for missing files names command-line
// flags, not API fields.
func TestDataMissingHints(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCmd(t, "data", "-data", dir, "-cache", filepath.Join(dir, "cache"), "-download=false")
	if code != 1 {
		t.Fatalf("code %d, stderr %s", code, errOut)
	}
	for _, want := range []string{"data_batch_1.bin", "-data", "-download"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q: %s", want, errOut)
		}
	}
	if strings.Contains(errOut, "Config.") {
		t.Errorf("stderr names an API field: %s", errOut)
	}
}

// TestDataUnreachable: with downloading on and the server unreachable, the
// missing files are named first, then the download's failure.
func TestDataUnreachable(t *testing.T) {
	srv := testkit.UnreachableServer(t)
	dir := t.TempDir()
	code, _, errOut := runCmd(t, "data", "-data", dir, "-cache", filepath.Join(dir, "cache"), "-base-url", srv.URL+"/kriz/")
	if code != 1 {
		t.Fatalf("code %d, stderr %s", code, errOut)
	}
	i, j := strings.Index(errOut, "data_batch_1.bin"), strings.Index(errOut, "could not reach "+srv.URL+"/kriz/cifar-10-binary.tar.gz")
	if i < 0 || j < 0 || i > j {
		t.Errorf("stderr should name the missing files, then the unreachable download: %s", errOut)
	}
	if strings.Contains(errOut, "Config.") {
		t.Errorf("stderr names an API field: %s", errOut)
	}
}

// TestDataOfflineLayout: training batches complete, no test batch (the
// documented offline layout): a success that says what is there and what is
// missing, whether the download is off or cannot reach the server.
func TestDataOfflineLayout(t *testing.T) {
	dir := offlineLayout(t, false)
	srv := testkit.UnreachableServer(t)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"unreachable", []string{"-base-url", srv.URL}, []string{"could not reach " + srv.URL + "/cifar-10-binary.tar.gz"}},
		{"download off", []string{"-download=false"}, []string{"-download"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"data", "-data", dir, "-cache", t.TempDir()}, tc.args...)
			code, out, errOut := runCmd(t, args...)
			if code != 0 {
				t.Fatalf("code %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			for _, want := range append([]string{
				"CIFAR-10 train: 50000 images",
				"MD5 53f37980c15c3d472c316c40844f3f0d ok",
				"test set: not available",
				"test_batch.bin",
				filepath.Join(dir, "cifar-10-batches-bin"),
				"-test-file",
				"validation: 15000 of 50000",
			}, tc.want...) {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out+errOut, "Config.") {
				t.Errorf("output names an API field:\n%s%s", out, errOut)
			}
		})
	}
}

// TestDataRehash: a batch corrupted in place with its modification time
// restored passes on its stamp; -rehash checks it again and fails naming it.
func TestDataRehash(t *testing.T) {
	if testing.Short() {
		t.Skip("copies 30 MB")
	}
	dir := offlineLayout(t, true)
	cache := t.TempDir()
	args := []string{"data", "-data", dir, "-cache", cache, "-download=false"}
	if code, out, errOut := runCmd(t, args...); code != 0 {
		t.Fatalf("first run: code %d\n%s%s", code, out, errOut)
	}
	path := filepath.Join(dir, "cifar-10-batches-bin", "data_batch_5.bin")
	testkit.FlipByteKeepingModTime(t, path, 5000) // a pixel byte: the data still decodes
	code, out, errOut := runCmd(t, args...)
	if code != 0 || !strings.Contains(out, "data_batch_5.bin: 10000 records, MD5 53f37980c15c3d472c316c40844f3f0d ok (MD5 verified earlier (stamp))") {
		t.Fatalf("stamped run: code %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = runCmd(t, append(args, "-rehash")...)
	if code != 1 || !strings.Contains(errOut, "MD5 mismatch for "+path) {
		t.Fatalf("-rehash: code %d, stderr %s", code, errOut)
	}
}

// TestDataFlagErrors: invalid flag values are reported by flag name.
func TestDataFlagErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ flag, want string }{
		{"-base-url=ftp://mirror/", `-base-url "ftp://mirror/"`},
		{"-train-files=7", "-train-files 7"},
	} {
		code, _, errOut := runCmd(t, "data", "-data", dir, "-cache", dir, tc.flag)
		if code != 1 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "BaseURL") || strings.Contains(errOut, "TrainFiles") {
			t.Errorf("%s: code %d, stderr %s", tc.flag, code, errOut)
		}
	}
}
