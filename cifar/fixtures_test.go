package cifar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// fixtureRecords returns n records in the official format: labelBytes label
// bytes (coarse, fine for CIFAR-100) then 3072 pseudo-random pixel bytes.
// Labels cycle through the classes so every class is present.
func fixtureRecords(n, labelBytes, classes, coarse int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	rs := labelBytes + ImageSize
	out := make([]byte, n*rs)
	for i := range n {
		rec := out[i*rs : (i+1)*rs]
		fine := (i*7 + int(seed)) % classes
		if labelBytes == 2 {
			rec[0] = byte(fine % coarse)
			rec[1] = byte(fine)
		} else {
			rec[0] = byte(fine)
		}
		for j := labelBytes; j < rs; j++ {
			rec[j] = byte(rng.Uint32())
		}
	}
	return out
}

func classNames(prefix string, n int) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s%d\n", prefix, i)
	}
	b.WriteString("\n")
	return []byte(b.String())
}

// cifar10Fixture returns the files of a small CIFAR-10 folder: five training
// batches of perFile records and a test batch.
func cifar10Fixture(perFile int) map[string][]byte {
	files := map[string][]byte{"batches.meta.txt": classNames("class", 10)}
	for k := 1; k <= 5; k++ {
		files[fmt.Sprintf("data_batch_%d.bin", k)] = fixtureRecords(perFile, 1, 10, 0, uint64(k))
	}
	files["test_batch.bin"] = fixtureRecords(perFile, 1, 10, 0, 99)
	return files
}

// cifar100Fixture returns the files of a small CIFAR-100 folder.
func cifar100Fixture(nTrain, nTest int) map[string][]byte {
	return map[string][]byte{
		"fine_label_names.txt":   classNames("fine", 100),
		"coarse_label_names.txt": classNames("coarse", 20),
		"train.bin":              fixtureRecords(nTrain, 2, 100, 20, 1),
		"test.bin":               fixtureRecords(nTest, 2, 100, 20, 2),
	}
}

func writeFolder(t testing.TB, dir, folder string, files map[string][]byte) string {
	t.Helper()
	p := filepath.Join(dir, folder)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(p, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// tarGz builds a .tar.gz holding folder/ with the files, in name order.
func tarGz(t testing.TB, folder string, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tw.WriteHeader(&tar.Header{Name: folder + "/", Typeflag: tar.TypeDir, Mode: 0o755}))
	must(tw.WriteHeader(&tar.Header{Name: folder + "/readme.html", Typeflag: tar.TypeReg, Mode: 0o644, Size: 5}))
	_, err := tw.Write([]byte("hello"))
	must(err)
	for _, n := range names {
		must(tw.WriteHeader(&tar.Header{Name: folder + "/" + n, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(files[n]))}))
		_, err := tw.Write(files[n])
		must(err)
	}
	must(tw.Close())
	must(gz.Close())
	return buf.Bytes()
}

// fixtureConfig is a Config for generated fixtures: no environment, a private
// cache, official MD5s and record counts not required.
func fixtureConfig(t testing.TB, dataDir string) Config {
	return Config{DataDir: dataDir, CacheDir: t.TempDir(), SkipMD5: true, AnyRecordCount: true}
}

// realDataDir returns $HGDTUNE_DATA or skips the test.
func realDataDir(t testing.TB) string {
	t.Helper()
	d := os.Getenv(EnvData)
	if d == "" {
		t.Skip("set HGDTUNE_DATA=/path/to/data (the folder holding cifar-10-batches-bin) to run")
	}
	// go test runs in the package folder; a relative path is usually meant
	// relative to the module root (e.g. CI's ../shared/data).
	if _, err := os.Stat(d); err != nil && !filepath.IsAbs(d) {
		if _, err := os.Stat(filepath.Join("..", d)); err == nil {
			d = filepath.Join("..", d)
		}
	}
	return d
}

// listTree returns the relative paths of all entries under dir.
func listTree(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// loadWithin runs load in a goroutine and fails the test if it has not
// returned within a minute, far beyond any honest load of a tiny fixture or
// any timeout a test configures: it catches hangs, not slowness.
func loadWithin(t *testing.T, load func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- load() }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatal("still running after a minute: it hangs")
		return nil
	}
}
