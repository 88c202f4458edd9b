package cifar

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hgdtune/hgdtune/internal/testkit"
)

func checkDecoded(t *testing.T, d *Dataset, labelBytes int, raws ...[]byte) {
	t.Helper()
	rs := labelBytes + ImageSize
	i := 0
	for _, raw := range raws {
		for r := 0; r < len(raw)/rs; r, i = r+1, i+1 {
			rec := raw[r*rs : (r+1)*rs]
			if labelBytes == 2 {
				if d.Coarse[i] != rec[0] || d.Labels[i] != rec[1] {
					t.Fatalf("image %d: labels (%d,%d), want (%d,%d)", i, d.Coarse[i], d.Labels[i], rec[0], rec[1])
				}
			} else if d.Labels[i] != rec[0] {
				t.Fatalf("image %d: label %d, want %d", i, d.Labels[i], rec[0])
			}
			if !bytes.Equal(d.Image(i), rec[labelBytes:]) {
				t.Fatalf("image %d: pixels differ", i)
			}
		}
	}
	if i != d.N {
		t.Fatalf("N = %d, want %d", d.N, i)
	}
}

func TestLoadFixtures(t *testing.T) {
	c10 := cifar10Fixture(23)
	c100 := cifar100Fixture(200, 50)
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		archive bool
	}{{"folder", false}, {"archive", true}} {
		t.Run("cifar10/"+tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.archive {
				os.WriteFile(filepath.Join(dir, "cifar-10-binary.tar.gz"), tarGz(t, "cifar-10-batches-bin", c10), 0o644)
			} else {
				writeFolder(t, dir, "cifar-10-batches-bin", c10)
			}
			train, test, err := LoadCIFAR10(ctx, fixtureConfig(t, dir))
			if err != nil {
				t.Fatal(err)
			}
			checkDecoded(t, train, 1, c10["data_batch_1.bin"], c10["data_batch_2.bin"], c10["data_batch_3.bin"], c10["data_batch_4.bin"], c10["data_batch_5.bin"])
			checkDecoded(t, test, 1, c10["test_batch.bin"])
			if train.Coarse != nil || len(train.Classes) != 10 || train.Classes[3] != "class3" {
				t.Errorf("classes %q, coarse %v", train.Classes, train.Coarse != nil)
			}
			if len(train.Files) != 6 || !strings.Contains(train.Files[1].Path, "data_batch_1.bin") || train.Files[1].Records != 23 {
				t.Errorf("files %+v", train.Files)
			}
			if tc.archive != strings.Contains(train.Files[1].Path, ".tar.gz:") {
				t.Errorf("path %q", train.Files[1].Path)
			}
		})
		t.Run("cifar100/"+tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.archive {
				os.WriteFile(filepath.Join(dir, "cifar-100-binary.tar.gz"), tarGz(t, "cifar-100-binary", c100), 0o644)
			} else {
				writeFolder(t, dir, "cifar-100-binary", c100)
			}
			train, test, err := LoadCIFAR100(ctx, fixtureConfig(t, dir))
			if err != nil {
				t.Fatal(err)
			}
			checkDecoded(t, train, 2, c100["train.bin"])
			checkDecoded(t, test, 2, c100["test.bin"])
			if len(train.Classes) != 100 || len(train.CoarseClasses) != 20 || train.CoarseClasses[19] != "coarse19" {
				t.Errorf("classes %d, coarse %q", len(train.Classes), train.CoarseClasses)
			}
			if train.Name != "CIFAR-100 train" || test.Name != "CIFAR-100 test" {
				t.Errorf("names %q %q", train.Name, test.Name)
			}
			s := train.Summary()
			for _, want := range []string{"CIFAR-100 train: 200 images, 100 classes (20 coarse)", "fine0 2", "train.bin: 200 records, MD5 check skipped"} {
				if !strings.Contains(s, want) {
					t.Errorf("Summary lacks %q:\n%s", want, s)
				}
			}
		})
	}
}

func TestLoadWorkers(t *testing.T) {
	dir := t.TempDir()
	c10 := cifar10Fixture(11)
	writeFolder(t, dir, "cifar-10-batches-bin", c10)
	var ref *Dataset
	for _, w := range []int{1, 2, 5, 8} {
		t.Run(string(rune('0'+w)), func(t *testing.T) {
			cfg := fixtureConfig(t, dir)
			cfg.Workers = w
			d, err := Load(context.Background(), cfg, CIFAR10Train)
			if err != nil {
				t.Fatal(err)
			}
			if ref == nil {
				ref = d
			} else if !bytes.Equal(ref.Pixels, d.Pixels) || !bytes.Equal(ref.Labels, d.Labels) {
				t.Fatal("result depends on Workers")
			}
		})
	}
}

func TestLoadBadInput(t *testing.T) {
	ctx := context.Background()
	type fixture struct {
		folder string
		files  map[string][]byte
	}
	c10 := func(edit func(m map[string][]byte)) fixture {
		m := cifar10Fixture(4)
		edit(m)
		return fixture{"cifar-10-batches-bin", m}
	}
	c100 := func(edit func(m map[string][]byte)) fixture {
		m := cifar100Fixture(30, 10)
		edit(m)
		return fixture{"cifar-100-binary", m}
	}
	setLabel := func(name string, rec, off int, v byte, rs int) func(m map[string][]byte) {
		return func(m map[string][]byte) { m[name][rec*rs+off] = v }
	}
	full := cifar100Fixture(30, 10)
	arc100 := tarGz(t, "cifar-100-binary", full)

	for _, tc := range []struct {
		name     string
		set      Set
		fx       fixture
		archive  []byte // written as the set's archive instead of the folder
		exact    bool   // require official record counts
		checkMD5 bool
		want     error
		inMsg    []string
	}{
		{name: "truncated", set: CIFAR10Train, fx: c10(func(m map[string][]byte) { m["data_batch_3.bin"] = m["data_batch_3.bin"][:3073*2+100] }),
			want: ErrFormat, inMsg: []string{"data_batch_3.bin", "not a multiple of the 3073-byte record"}},
		{name: "empty", set: CIFAR10Train, fx: c10(func(m map[string][]byte) { m["data_batch_2.bin"] = nil }),
			want: ErrFormat, inMsg: []string{"data_batch_2.bin", "empty"}},
		{name: "wrong count cifar10", set: CIFAR10Train, exact: true, fx: c10(func(map[string][]byte) {}),
			want: ErrFormat, inMsg: []string{"data_batch_1.bin", "4 records, want 10000"}},
		{name: "wrong count cifar100", set: CIFAR100Test, exact: true, fx: c100(func(map[string][]byte) {}),
			want: ErrFormat, inMsg: []string{"test.bin", "10 records, want 10000"}},
		{name: "label 10", set: CIFAR10Train, fx: c10(setLabel("data_batch_4.bin", 2, 0, 10, 3073)),
			want: ErrFormat, inMsg: []string{"data_batch_4.bin", "record 2", "label 10 out of range 0..9"}},
		{name: "label 255 test", set: CIFAR10Test, fx: c10(setLabel("test_batch.bin", 0, 0, 255, 3073)),
			want: ErrFormat, inMsg: []string{"test_batch.bin", "label 255"}},
		{name: "fine 100", set: CIFAR100Train, fx: c100(setLabel("train.bin", 7, 1, 100, 3074)),
			want: ErrFormat, inMsg: []string{"train.bin", "record 7", "fine label 100 out of range 0..99"}},
		{name: "coarse 20", set: CIFAR100Train, fx: c100(setLabel("train.bin", 5, 0, 20, 3074)),
			want: ErrFormat, inMsg: []string{"train.bin", "record 5", "coarse label 20 out of range 0..19"}},
		{name: "missing batch", set: CIFAR10Train, fx: c10(func(m map[string][]byte) { delete(m, "data_batch_5.bin") }),
			want: ErrMissing, inMsg: []string{"data_batch_5.bin", "cifar-10-batches-bin"}},
		{name: "missing names", set: CIFAR100Train, fx: c100(func(m map[string][]byte) { delete(m, "coarse_label_names.txt") }),
			want: ErrMissing, inMsg: []string{"coarse_label_names.txt"}},
		{name: "nine names", set: CIFAR10Train, fx: c10(func(m map[string][]byte) { m["batches.meta.txt"] = classNames("c", 9) }),
			want: ErrFormat, inMsg: []string{"batches.meta.txt", "9 class names, want 10"}},
		{name: "md5 mismatch", set: CIFAR10Train, checkMD5: true, fx: c10(func(map[string][]byte) {}),
			want: ErrChecksum, inMsg: []string{"data_batch_", "expected ", ", got "}},
		{name: "archive garbage", set: CIFAR100Train, archive: []byte("this is not gzip at all"),
			want: ErrArchive, inMsg: []string{"cifar-100-binary.tar.gz"}},
		{name: "archive truncated", set: CIFAR100Train, archive: arc100[:len(arc100)/2],
			want: ErrArchive, inMsg: []string{"cifar-100-binary.tar.gz", "unexpected EOF"}},
		{name: "archive corrupt byte", set: CIFAR100Train, archive: func() []byte {
			b := bytes.Clone(arc100)
			b[len(b)/2] ^= 0xff
			return b
		}(), want: ErrArchive, inMsg: []string{"cifar-100-binary.tar.gz"}},
		{name: "archive md5", set: CIFAR100Train, archive: arc100, checkMD5: true,
			want: ErrChecksum, inMsg: []string{"cifar-100-binary.tar.gz", "expected 03b5dce01913d631647c71ecec9e9cb8"}},
		{name: "archive lacks member", set: CIFAR100Test, archive: tarGz(t, "cifar-100-binary", map[string][]byte{
			"fine_label_names.txt": full["fine_label_names.txt"], "coarse_label_names.txt": full["coarse_label_names.txt"]}),
			want: ErrMissing, inMsg: []string{"test.bin", "cifar-100-binary.tar.gz"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			sp, _ := tc.set.spec()
			if tc.archive != nil {
				os.WriteFile(filepath.Join(dir, sp.archive), tc.archive, 0o644)
			} else {
				writeFolder(t, dir, tc.fx.folder, tc.fx.files)
			}
			cfg := fixtureConfig(t, dir)
			cfg.AnyRecordCount = !tc.exact
			cfg.SkipMD5 = !tc.checkMD5
			d, err := Load(ctx, cfg, tc.set)
			if !errors.Is(err, tc.want) || d != nil {
				t.Fatalf("Load = %v, %v; want error %v", d != nil, err, tc.want)
			}
			for _, s := range tc.inMsg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if tc.want == ErrChecksum {
				var ce *ChecksumError
				if !errors.As(err, &ce) || len(ce.Want) != 32 || len(ce.Got) != 32 || ce.Want == ce.Got {
					t.Errorf("ChecksumError %+v", ce)
				}
			}
		})
	}
}

func TestLoadNoTestSet(t *testing.T) {
	dir := t.TempDir()
	c10 := cifar10Fixture(5)
	delete(c10, "test_batch.bin")
	writeFolder(t, dir, "cifar-10-batches-bin", c10)
	train, test, err := LoadCIFAR10(context.Background(), fixtureConfig(t, dir))
	if !errors.Is(err, ErrNoTestSet) || !errors.Is(err, ErrMissing) || train == nil || test != nil {
		t.Fatalf("got %v, %v, %v", train != nil, test != nil, err)
	}
	if train.N != 25 {
		t.Errorf("N = %d", train.N)
	}

	// An explicit TestFile stands in for the missing one.
	other := filepath.Join(t.TempDir(), "my_test.bin")
	os.WriteFile(other, fixtureRecords(7, 1, 10, 0, 5), 0o644)
	cfg := fixtureConfig(t, dir)
	cfg.SkipMD5 = false
	cfg.TestFile = other
	if _, err := Load(context.Background(), cfg, CIFAR10Test); !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "my_test.bin") {
		t.Fatalf("TestFile without SkipTestMD5: %v", err)
	}
	cfg.SkipTestMD5 = true
	cfg.TestFile = other + ".nope"
	cfg.SkipMD5 = true // the fixture's training batches
	if tr, _, err := LoadCIFAR10(context.Background(), cfg); tr != nil || errors.Is(err, ErrNoTestSet) || !errors.Is(err, ErrMissing) {
		t.Fatalf("missing TestFile: %v", err)
	}
	cfg.TestFile, cfg.SkipMD5 = other, false
	test, err = Load(context.Background(), cfg, CIFAR10Test)
	if err != nil || test.N != 7 {
		t.Fatalf("TestFile: %v", err)
	}
	if f := test.Files[1]; f.Verified || !strings.Contains(f.Note, "user-supplied") || f.Path != other {
		t.Errorf("file status %+v", f)
	}
}

func TestLookupOrder(t *testing.T) {
	ctx := context.Background()
	dataDir, cacheDir := t.TempDir(), t.TempDir()
	a, b := cifar100Fixture(10, 10), cifar100Fixture(20, 20)
	t.Setenv(EnvData, "")
	t.Setenv(EnvCache, "")

	load := func(cfg Config) *Dataset {
		t.Helper()
		cfg.SkipMD5, cfg.AnyRecordCount = true, true
		d, err := Load(ctx, cfg, CIFAR100Train)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	// Cache archive only.
	os.WriteFile(filepath.Join(cacheDir, "cifar-100-binary.tar.gz"), tarGz(t, "cifar-100-binary", b), 0o644)
	if d := load(Config{DataDir: dataDir, CacheDir: cacheDir}); d.N != 20 {
		t.Errorf("cache archive: N = %d", d.N)
	}
	// Data archive beats the cache.
	os.WriteFile(filepath.Join(dataDir, "cifar-100-binary.tar.gz"), tarGz(t, "cifar-100-binary", a), 0o644)
	if d := load(Config{DataDir: dataDir, CacheDir: cacheDir}); d.N != 10 {
		t.Errorf("data archive: N = %d", d.N)
	}
	// Data folder beats the data archive; the env var stands in for DataDir.
	writeFolder(t, dataDir, "cifar-100-binary", cifar100Fixture(30, 1))
	t.Setenv(EnvData, dataDir)
	t.Setenv(EnvCache, cacheDir)
	if d := load(Config{}); d.N != 30 || !strings.HasPrefix(d.Files[2].Path, dataDir) {
		t.Errorf("data folder via env: N = %d, %s", d.N, d.Files[2].Path)
	}
	// DataDir may name the extracted folder itself.
	if d := load(Config{DataDir: filepath.Join(dataDir, "cifar-100-binary"), CacheDir: cacheDir}); d.N != 30 {
		t.Errorf("folder as DataDir: N = %d", d.N)
	}
	if dd, cd := (Config{}).Dirs(); dd != dataDir || cd != cacheDir {
		t.Errorf("Dirs = %q, %q", dd, cd)
	}
	// Nothing configured anywhere.
	t.Setenv(EnvData, "")
	t.Setenv(EnvCache, "")
	_, err := Load(ctx, Config{CacheDir: t.TempDir()}, CIFAR100Train)
	if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), EnvData) {
		t.Errorf("nothing: %v", err)
	}
}

// TestDataDirUntouched checks that loading (with verification) never writes
// into the data folder, and keeps its stamps in the cache.
func TestDataDirUntouched(t *testing.T) {
	dataDir := t.TempDir()
	writeFolder(t, dataDir, "cifar-10-batches-bin", cifar10Fixture(3))
	os.WriteFile(filepath.Join(dataDir, "cifar-100-binary.tar.gz"), tarGz(t, "cifar-100-binary", cifar100Fixture(5, 5)), 0o644)
	before := listTree(t, dataDir)
	os.Chmod(filepath.Join(dataDir, "cifar-10-batches-bin"), 0o555)
	defer os.Chmod(filepath.Join(dataDir, "cifar-10-batches-bin"), 0o755)
	cfg := fixtureConfig(t, dataDir)
	for _, set := range []Set{CIFAR10Train, CIFAR10Test, CIFAR100Train, CIFAR100Test} {
		if _, err := Load(context.Background(), cfg, set); err != nil {
			t.Fatal(err)
		}
	}
	cfg.SkipMD5 = false // fails, but must not write either
	if _, err := Load(context.Background(), cfg, CIFAR10Train); !errors.Is(err, ErrChecksum) {
		t.Fatal(err)
	}
	if after := listTree(t, dataDir); !slices.Equal(before, after) {
		t.Errorf("data dir changed:\n%v\n%v", before, after)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg Config
		ok  bool
	}{
		{Config{}, true},
		{Config{BaseURL: "http://localhost:1234/x/"}, true},
		{Config{BaseURL: "ftp://x/"}, false},
		{Config{BaseURL: "://"}, false},
		{Config{Workers: -1}, false},
	} {
		t.Run(tc.cfg.BaseURL, func(t *testing.T) {
			err := tc.cfg.Validate()
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrConfig)) {
				t.Errorf("Validate = %v", err)
			}
		})
	}
	if _, err := Load(context.Background(), Config{}, Set(9)); !errors.Is(err, ErrConfig) {
		t.Errorf("bad set: %v", err)
	}
}

// TestStampRehash: a verification stamp trusts path, size and modification
// time only, so a file changed in place with its mtime restored passes;
// Config.Rehash hashes it again and catches the change.
func TestStampRehash(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	folder := writeFolder(t, dir, "cifar-10-batches-bin", cifar10Fixture(3))
	cfg := fixtureConfig(t, dir)
	cfg.SkipMD5 = false
	// Fixtures cannot have the official sums, so stamp them as a verified
	// load of the official files would have.
	r := cfg.resolve()
	for k := 1; k <= 5; k++ {
		name := fmt.Sprintf("data_batch_%d.bin", k)
		path := filepath.Join(folder, name)
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := KnownMD5(name)
		r.writeStamp(path, info, want)
	}
	if _, err := Load(ctx, cfg, CIFAR10Train); err != nil {
		t.Fatalf("stamped files: %v", err)
	}

	// Corrupt one byte in place and restore the modification time.
	path := filepath.Join(folder, "data_batch_3.bin")
	testkit.FlipByteKeepingModTime(t, path, 1000)
	d, err := Load(ctx, cfg, CIFAR10Train)
	if err != nil {
		t.Fatalf("the stamp should still be trusted: %v", err)
	}
	if st := d.Files[3]; st.Name != "data_batch_3.bin" || !st.Verified || !strings.Contains(st.Note, "stamp") {
		t.Errorf("status %+v", st)
	}

	// Rehash checks every file again; as fixtures all five now fail, and
	// data_batch_3.bin among them.
	cfg.Rehash = true
	_, err = Load(ctx, cfg, CIFAR10Train)
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "MD5 mismatch for "+path) {
		t.Fatalf("Rehash: got %v; want an MD5 mismatch for %s", err, path)
	}
}
