package cifar

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/internal/testkit"
)

func TestRealCIFAR10Train(t *testing.T) {
	dataDir := realDataDir(t)
	cache := t.TempDir()
	cfg := Config{DataDir: dataDir, CacheDir: cache}
	d, err := Load(context.Background(), cfg, CIFAR10Train)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("counts", func(t *testing.T) {
		if d.N != 50000 || len(d.Labels) != 50000 || len(d.Pixels) != 50000*3072 {
			t.Fatalf("N = %d", d.N)
		}
		for c, n := range d.ClassCounts() {
			if n != 5000 {
				t.Errorf("class %d (%s): %d images", c, d.Classes[c], n)
			}
		}
		if d.Classes[0] != "airplane" || d.Classes[9] != "truck" {
			t.Errorf("classes %q", d.Classes)
		}
	})
	t.Run("first labels", func(t *testing.T) {
		if want := []uint8{6, 9, 9, 4, 1, 1, 2, 7, 8, 3}; !slices.Equal(d.Labels[:10], want) {
			t.Errorf("first labels %v, want %v", d.Labels[:10], want)
		}
	})
	t.Run("md5", func(t *testing.T) {
		want := map[string]string{
			"data_batch_1.bin": "5dd7e06a14cb22eb9f671a540d1b7c25", "data_batch_2.bin": "5ea93a67294ea407fff1d09f752e9692",
			"data_batch_3.bin": "942cd6a4bcdd0dd3c604fbe906cb4421", "data_batch_4.bin": "ae636b3ba5c66a11e91e8cb52e771fcb",
			"data_batch_5.bin": "53f37980c15c3d472c316c40844f3f0d",
		}
		n := 0
		for _, f := range d.Files {
			if w, ok := want[f.Name]; ok {
				n++
				if f.MD5 != w || !f.Verified || f.Note != "MD5 verified" || f.Records != 10000 {
					t.Errorf("%+v", f)
				}
			}
		}
		if n != 5 {
			t.Errorf("%d data files", n)
		}
		// Second load: stamps in the cache, none in the data folder.
		d2, err := Load(context.Background(), cfg, CIFAR10Train)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range d2.Files[1:] {
			if !f.Verified || !strings.Contains(f.Note, "stamp") {
				t.Errorf("second load: %+v", f)
			}
		}
		stamps, _ := filepath.Glob(filepath.Join(cache, "verified", "*.json"))
		if len(stamps) != 5 {
			t.Errorf("%d stamps", len(stamps))
		}
		for _, sp := range stamps { // ordinary files (os.CreateTemp would make them 0600)
			if st, err := os.Stat(sp); err != nil || st.Mode().Perm()&0o044 != 0o044 {
				t.Errorf("stamp %s: %v, %v; want readable by all", sp, st.Mode(), err)
			}
		}
		if s := d2.Summary(); !strings.Contains(s, "airplane 5000") || !strings.Contains(s, "data_batch_5.bin: 10000 records, MD5 53f37980c15c3d472c316c40844f3f0d ok") {
			t.Errorf("summary:\n%s", s)
		}
	})
	t.Run("mean", func(t *testing.T) {
		n := ComputeNormalization(d.All())
		wantMean := [3]float64{0.4914, 0.4822, 0.4465}
		wantStd := [3]float64{0.2470, 0.2435, 0.2616}
		for c := range 3 {
			if math.Abs(float64(n.Mean[c])-wantMean[c]) > 1e-4 || math.Abs(float64(n.Std[c])-wantStd[c]) > 1e-4 {
				t.Errorf("channel %d: mean %.5f std %.5f, want ≈ %.4f, %.4f", c, n.Mean[c], n.Std[c], wantMean[c], wantStd[c])
			}
		}
	})
	t.Run("split", func(t *testing.T) {
		tr, va, err := Split(d, SplitConfig{Seed: 42})
		if err != nil {
			t.Fatal(err)
		}
		if tr.Len() != 35000 || va.Len() != 15000 {
			t.Fatalf("split %d/%d", tr.Len(), va.Len())
		}
		trc, vac := tr.ClassCounts(), va.ClassCounts()
		for c := range 10 {
			if trc[c] != 3500 || vac[c] != 1500 {
				t.Errorf("class %d: %d/%d", c, trc[c], vac[c])
			}
		}
		tr2, va2, _ := Split(d, SplitConfig{TrainFraction: 0.7, Seed: 42})
		if !slices.Equal(tr.Indices, tr2.Indices) || !slices.Equal(va.Indices, va2.Indices) {
			t.Error("same seed, different split")
		}
		tr3, _, _ := Split(d, SplitConfig{Seed: 43})
		if slices.Equal(tr.Indices, tr3.Indices) {
			t.Error("different seed, same split")
		}
		// Normalization from the train part only: close to, not equal to, the full set's.
		nt, nf := ComputeNormalization(tr), ComputeNormalization(d.All())
		if nt == nf || math.Abs(float64(nt.Mean[0]-nf.Mean[0])) > 2e-3 {
			t.Errorf("train-part normalization %v vs full %v", nt, nf)
		}
	})
}

func TestRealCIFAR10Test(t *testing.T) {
	dataDir := realDataDir(t)
	standIn := filepath.Join(dataDir, "cifar-10-test-jpeg", "test_batch.bin")
	ctx := context.Background()
	cfg := Config{DataDir: dataDir, CacheDir: t.TempDir(), SkipMD5: true} // train MD5s are covered above
	train, test, err := LoadCIFAR10(ctx, cfg)
	if !errors.Is(err, ErrNoTestSet) || train == nil || train.N != 50000 || test != nil {
		t.Fatalf("no official test batch: %v", err)
	}
	cfg.SkipMD5 = false
	cfg.TestFile = standIn
	_, err = Load(ctx, cfg, CIFAR10Test)
	var ce *ChecksumError
	if !errors.As(err, &ce) || ce.Want != "803d5f7f4d78ea53de84dbe85f74fb6d" || ce.File != standIn {
		t.Fatalf("stand-in without opt-out: %v", err)
	}
	cfg.SkipTestMD5 = true
	test, err = Load(ctx, cfg, CIFAR10Test)
	if err != nil {
		t.Fatal(err)
	}
	if test.N != 10000 {
		t.Errorf("N = %d", test.N)
	}
	for c, n := range test.ClassCounts() {
		if n != 1000 {
			t.Errorf("class %d: %d", c, n)
		}
	}
	if s := test.Summary(); !strings.Contains(s, "user-supplied") {
		t.Errorf("summary does not flag the stand-in:\n%s", s)
	}
}

// stampedCopy returns the configuration of an offline layout of the real
// data (see testkit.OfflineCIFAR10) with a private copy of
// data_batch_5.bin, whose path it also returns, after a load that verified
// and stamped the batches.
func stampedCopy(t *testing.T) (Config, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("copies 30 MB")
	}
	dir := testkit.OfflineCIFAR10(t, realDataDir(t), true)
	cfg := Config{DataDir: dir, CacheDir: t.TempDir()}
	if _, err := Load(context.Background(), cfg, CIFAR10Train); err != nil { // verifies and stamps
		t.Fatal(err)
	}
	return cfg, filepath.Join(dir, "cifar-10-batches-bin", "data_batch_5.bin")
}

// TestRealStampInvalidation: a stamp is bound to size and mtime, so a file
// changed after its verification is hashed (and rejected) again.
func TestRealStampInvalidation(t *testing.T) {
	cfg, copyPath := stampedCopy(t)
	b5, err := os.ReadFile(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	b5[1000] ^= 1
	os.WriteFile(copyPath, b5, 0o644)
	later := time.Now().Add(time.Hour) // a distinct mtime even on coarse clocks
	os.Chtimes(copyPath, later, later)
	_, err = Load(context.Background(), cfg, CIFAR10Train)
	var ce *ChecksumError
	if !errors.As(err, &ce) || ce.File != copyPath || ce.Want != "53f37980c15c3d472c316c40844f3f0d" {
		t.Fatalf("changed file after stamp: %v", err)
	}
}

// TestRealStampRehash: a batch corrupted in place with its modification time
// restored is trusted by its stamp; Config.Rehash catches it.
func TestRealStampRehash(t *testing.T) {
	cfg, copyPath := stampedCopy(t)
	testkit.FlipByteKeepingModTime(t, copyPath, 5000) // a pixel byte: the data still decodes
	if _, err := Load(context.Background(), cfg, CIFAR10Train); err != nil {
		t.Fatalf("the stamp should be trusted (size and mtime unchanged): %v", err)
	}
	cfg.Rehash = true
	_, err := Load(context.Background(), cfg, CIFAR10Train)
	var ce *ChecksumError
	if !errors.As(err, &ce) || ce.File != copyPath || ce.Want != "53f37980c15c3d472c316c40844f3f0d" {
		t.Fatalf("Rehash: got %v; want an MD5 mismatch for %s", err, copyPath)
	}
}
