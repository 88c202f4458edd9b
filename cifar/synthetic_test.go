package cifar

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

func TestSynthetic(t *testing.T) {
	a, b, c := Synthetic(50, 10, 1), Synthetic(50, 10, 1), Synthetic(50, 10, 2)
	if !bytes.Equal(a.Pixels, b.Pixels) || !bytes.Equal(a.Labels, b.Labels) {
		t.Error("same seed, different data")
	}
	if bytes.Equal(a.Pixels, c.Pixels) {
		t.Error("different seeds, same pixels")
	}
	if a.N != 50 || len(a.Classes) != 10 || len(a.Pixels) != 50*ImageSize {
		t.Fatalf("N %d, %d classes, %d bytes", a.N, len(a.Classes), len(a.Pixels))
	}
	for k, n := range a.ClassCounts() {
		if n != 5 {
			t.Errorf("class %d has %d images", k, n)
		}
	}
	// The class marker: image 3 (class 3) has a bright square at rows
	// 12..17, columns 0..5 of channel 0.
	if img := a.Image(3); img[0*planeSize+12*32+0] != 255 || img[0*planeSize+17*32+5] != 255 {
		t.Error("class marker missing")
	}
	d := Synthetic(30, 100, 1)
	if len(d.Classes) != 100 || d.Labels[29] != 29 {
		t.Errorf("100 classes: %d names, label 29 = %d", len(d.Classes), d.Labels[29])
	}
}

// TrainFiles loads only the first CIFAR-10 training batches: the others may
// be absent.
func TestTrainFiles(t *testing.T) {
	files := cifar10Fixture(20)
	delete(files, "data_batch_3.bin")
	delete(files, "data_batch_4.bin")
	delete(files, "data_batch_5.bin")
	dir := t.TempDir()
	writeFolder(t, dir, "cifar-10-batches-bin", files)
	cfg := fixtureConfig(t, dir)
	if _, err := Load(context.Background(), cfg, CIFAR10Train); !errors.Is(err, ErrMissing) {
		t.Fatalf("all five files without them: %v, want ErrMissing", err)
	}
	cfg.TrainFiles = 2
	d, err := Load(context.Background(), cfg, CIFAR10Train)
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 40 {
		t.Errorf("two files of 20: N = %d", d.N)
	}
	for _, bad := range []int{-1, 6} {
		cfg.TrainFiles = bad
		if err := cfg.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("TrainFiles %d: %v", bad, err)
		}
	}
}

func TestHead(t *testing.T) {
	d := Synthetic(30, 10, 1)
	h := d.Head(12)
	if h.N != 12 || len(h.Pixels) != 12*ImageSize || len(h.Labels) != 12 || !bytes.Equal(h.Pixels, d.Pixels[:12*ImageSize]) {
		t.Fatalf("Head(12): N %d, %d bytes", h.N, len(h.Pixels))
	}
	if h.Name == d.Name {
		t.Error("Head does not say it is a part")
	}
	for _, n := range []int{0, -1, 30, 99} {
		if d.Head(n) != d {
			t.Errorf("Head(%d) is not the whole set", n)
		}
	}
}
