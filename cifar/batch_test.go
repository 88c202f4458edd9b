package cifar

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// syntheticDataset builds an in-memory CIFAR-10-like dataset whose class
// sizes differ (class c has base+c images), with random pixels.
func syntheticDataset(base int, seed uint64) *Dataset {
	rng := rand.New(rand.NewPCG(seed, 7))
	d := &Dataset{Name: "synthetic", Classes: make([]string, 10)}
	for c := range 10 {
		d.Classes[c] = fmt.Sprint("c", c)
		for range base + c {
			d.Labels = append(d.Labels, uint8(c))
		}
	}
	rng.Shuffle(len(d.Labels), func(i, j int) { d.Labels[i], d.Labels[j] = d.Labels[j], d.Labels[i] })
	d.N = len(d.Labels)
	d.Pixels = make([]uint8, d.N*ImageSize)
	for i := range d.Pixels {
		d.Pixels[i] = uint8(rng.Uint32())
	}
	return d
}

func TestSplit(t *testing.T) {
	d := syntheticDataset(40, 1)
	for _, tc := range []struct {
		frac, eff float64
	}{{0, 0.7}, {0.7, 0.7}, {0.5, 0.5}, {0.9, 0.9}, {0.1, 0.1}} {
		t.Run(fmt.Sprint(tc.frac), func(t *testing.T) {
			tr, va, err := Split(d, SplitConfig{TrainFraction: tc.frac, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.IsSorted(tr.Indices) || !slices.IsSorted(va.Indices) {
				t.Error("indices not sorted")
			}
			all := slices.Concat(tr.Indices, va.Indices)
			slices.Sort(all)
			for i, v := range all {
				if int(v) != i {
					t.Fatal("train ∪ val is not a partition of the dataset")
				}
			}
			trc, vac, dc := tr.ClassCounts(), va.ClassCounts(), d.ClassCounts()
			for c := range 10 {
				if want := int(math.Round(tc.eff * float64(dc[c]))); trc[c] != want || vac[c] != dc[c]-want {
					t.Errorf("class %d: %d/%d, want %d/%d", c, trc[c], vac[c], want, dc[c]-want)
				}
			}
			tr2, _, _ := Split(d, SplitConfig{TrainFraction: tc.frac, Seed: 3})
			tr3, _, _ := Split(d, SplitConfig{TrainFraction: tc.frac, Seed: 4})
			if !slices.Equal(tr.Indices, tr2.Indices) {
				t.Error("same seed, different split")
			}
			if slices.Equal(tr.Indices, tr3.Indices) {
				t.Error("different seed, same split")
			}
		})
	}
	for _, bad := range []float64{-0.1, 1, 1.5, math.NaN()} {
		if _, _, err := Split(d, SplitConfig{TrainFraction: bad}); !errors.Is(err, ErrConfig) {
			t.Errorf("fraction %v: %v", bad, err)
		}
	}
	if _, _, err := Split(&Dataset{}, SplitConfig{}); !errors.Is(err, ErrConfig) {
		t.Errorf("empty: %v", err)
	}
}

func TestUniformN(t *testing.T) {
	src := rand.NewPCG(1, 2)
	counts := make([]int, 9)
	for range 90000 {
		counts[uniformN(src, 9)]++
	}
	for v, c := range counts {
		if c < 9500 || c > 10500 {
			t.Errorf("value %d drawn %d times of 90000", v, c)
		}
	}
	if uniformN(src, 1) != 0 {
		t.Error("uniformN(1) != 0")
	}
}

func TestComputeNormalization(t *testing.T) {
	d := syntheticDataset(30, 2)
	sub, _, _ := Split(d, SplitConfig{Seed: 1})
	got := ComputeNormalization(sub)
	for c := range 3 {
		var s, q float64
		for _, i := range sub.Indices {
			for _, v := range d.Image(int(i))[c*planeSize : (c+1)*planeSize] {
				x := float64(v) / 255
				s += x
				q += x * x
			}
		}
		n := float64(sub.Len() * planeSize)
		mean := s / n
		std := math.Sqrt(q/n - mean*mean)
		if math.Abs(float64(got.Mean[c])-mean) > 1e-6 || math.Abs(float64(got.Std[c])-std) > 1e-6 {
			t.Errorf("channel %d: %v/%v, want %v/%v", c, got.Mean[c], got.Std[c], mean, std)
		}
	}
	if err := got.Validate(); err != nil {
		t.Error(err)
	}
	if err := (Normalization{Std: [3]float32{1, -1, 1}}).Validate(); !errors.Is(err, ErrConfig) {
		t.Error("negative std accepted")
	}
}

// refPixel is the reference: channel c of output pixel (y, x) after a crop at
// offset (dy, dx) of the zero-padded image and an optional flip, normalized.
func refPixel(img []uint8, norm Normalization, y, x, c, dx, dy int, flip bool) float32 {
	if flip {
		x = ImageWidth - 1 - x
	}
	sy, sx := y+dy, x+dx
	v := 0.0
	if sy >= 0 && sy < ImageHeight && sx >= 0 && sx < ImageWidth {
		v = float64(img[c*planeSize+sy*ImageWidth+sx])
	}
	std := float64(norm.Std[c])
	if std == 0 {
		std = 1
	}
	return float32((v/255 - float64(norm.Mean[c])) / std)
}

func TestSubsetBatchLayout(t *testing.T) {
	d := syntheticDataset(5, 3)
	norm := Normalization{Mean: [3]float32{0.5, 0.4, 0.3}, Std: [3]float32{0.25, 0.2, 0.0}}
	var b Batch
	if err := d.All().Batch(3, 9, norm, &b); err != nil {
		t.Fatal(err)
	}
	if b.Shape() != [4]int{6, 32, 32, 3} || len(b.Images) != 6*ImageSize {
		t.Fatalf("shape %v", b.Shape())
	}
	for k := range 6 {
		if b.Indices[k] != int32(3+k) || b.Labels[k] != int32(d.Labels[3+k]) {
			t.Fatalf("image %d: index %d label %d", k, b.Indices[k], b.Labels[k])
		}
		for y := range 32 {
			for x := range 32 {
				for c := range 3 {
					if got, want := b.Images[k*ImageSize+(y*32+x)*3+c], refPixel(d.Image(3+k), norm, y, x, c, 0, 0, false); got != want {
						t.Fatalf("image %d (%d,%d,%d): %v, want %v", k, y, x, c, got, want)
					}
				}
			}
		}
	}
	for _, r := range [][2]int{{-1, 2}, {5, 5}, {0, d.N + 1}} {
		if err := d.All().Batch(r[0], r[1], norm, &b); !errors.Is(err, ErrConfig) {
			t.Errorf("range %v: %v", r, err)
		}
	}
}

func TestAugmentMatchesReference(t *testing.T) {
	d := syntheticDataset(1, 4)
	img := d.Image(0)
	norm := Normalization{Mean: [3]float32{0.49, 0.48, 0.45}, Std: [3]float32{0.25, 0.24, 0.26}}
	tab := norm.table()
	out := make([]float32, ImageSize)
	rng := rand.NewPCG(5, 6)
	seen := map[[3]int]bool{}
	for _, pad := range []int{4, 2} {
		for range 500 * pad {
			r := rng.Uint64()
			fillAugmented(tab, img, out, pad, r)
			span := uint64(2*pad + 1)
			dx := int((r&(1<<32-1))*span>>32) - pad
			dy := int(((r>>32)&(1<<31-1))*span>>31) - pad
			flip := r>>63 == 1
			if pad == 4 {
				seen[[3]int{dx, dy, int(r >> 63)}] = true
			}
			for y := range 32 {
				for x := range 32 {
					for c := range 3 {
						if got, want := out[(y*32+x)*3+c], refPixel(img, norm, y, x, c, dx, dy, flip); got != want {
							t.Fatalf("pad %d r %x (%d,%d,%d): %v, want %v", pad, r, y, x, c, got, want)
						}
					}
				}
			}
		}
	}
	if len(seen) != 9*9*2 {
		t.Errorf("%d of 162 crop/flip combinations seen", len(seen))
	}
}

func TestBatcherEpochs(t *testing.T) {
	d := syntheticDataset(3, 5) // 75 images
	sub := d.All()
	for _, tc := range []struct {
		cfg   BatcherConfig
		steps int
		sizes []int
	}{
		{BatcherConfig{BatchSize: 16}, 4, []int{16, 16, 16, 16}},
		{BatcherConfig{BatchSize: 16, KeepPartial: true}, 5, []int{16, 16, 16, 16, 11}},
		{BatcherConfig{BatchSize: 25, NoShuffle: true, Augment: true}, 3, []int{25, 25, 25}},
		{BatcherConfig{KeepPartial: true}, 1, []int{75}},
	} {
		t.Run(fmt.Sprintf("%+v", tc.cfg), func(t *testing.T) {
			b, err := NewBatcher(sub, Normalization{}, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if b.StepsPerEpoch() != tc.steps {
				t.Errorf("StepsPerEpoch = %d", b.StepsPerEpoch())
			}
			var perms [][]int32
			for e := range 3 {
				var seen []int32
				for s := range tc.steps {
					if b.Epoch() != e && s > 0 {
						t.Fatalf("epoch %d at step %d", b.Epoch(), s)
					}
					bt := b.Next()
					if bt.Size != tc.sizes[s] {
						t.Fatalf("epoch %d step %d: size %d", e, s, bt.Size)
					}
					if b.Epoch() != e {
						t.Fatalf("epoch %d after step %d of epoch %d", b.Epoch(), s, e)
					}
					seen = append(seen, bt.Indices...)
				}
				perms = append(perms, slices.Clone(seen))
				slices.Sort(seen)
				if len(slices.Compact(slices.Clone(seen))) != len(seen) {
					t.Fatal("an image served twice in one epoch")
				}
			}
			if tc.cfg.NoShuffle {
				if !slices.Equal(perms[0], sub.Indices) || !slices.Equal(perms[1], perms[0]) {
					t.Error("NoShuffle changed the order")
				}
			} else if slices.Equal(perms[0], perms[1]) {
				t.Error("two epochs in the same order")
			}
		})
	}
	for _, bad := range []BatcherConfig{{BatchSize: -1}, {CropPadding: -2}, {BatchSize: 76}} {
		if _, err := NewBatcher(sub, Normalization{}, bad); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if _, err := NewBatcher(&Subset{Data: d}, Normalization{}, BatcherConfig{}); !errors.Is(err, ErrConfig) {
		t.Errorf("empty subset: %v", err)
	}
}

func sameBatch(a, b *Batch) bool {
	return a.Size == b.Size && slices.Equal(a.Labels, b.Labels) && slices.Equal(a.Indices, b.Indices) &&
		slices.EqualFunc(a.Images, b.Images, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// TestBatcherResume: N+N steps equal N steps, save, restore into a fresh
// Batcher, N steps — mid-epoch, at and across epoch boundaries, with and
// without augmentation.
func TestBatcherResume(t *testing.T) {
	d := syntheticDataset(4, 6) // 85 images
	train, _, _ := Split(d, SplitConfig{Seed: 9})
	norm := ComputeNormalization(train)
	for _, cfg := range []BatcherConfig{
		{BatchSize: 8, Seed: 1},
		{BatchSize: 8, Seed: 1, Augment: true},
		{BatchSize: 7, Seed: 2, Augment: true, KeepPartial: true},
		{BatchSize: 5, NoShuffle: true, Augment: true},
	} {
		for _, n := range []int{0, 1, 3, 7, 8, 9, 20} {
			t.Run(fmt.Sprintf("%+v/N=%d", cfg, n), func(t *testing.T) {
				a, _ := NewBatcher(train, norm, cfg)
				for range n {
					a.Next()
				}
				js, err := json.Marshal(a.State())
				if err != nil {
					t.Fatal(err)
				}
				var st BatcherState
				if err := json.Unmarshal(js, &st); err != nil {
					t.Fatal(err)
				}
				cfg2 := cfg
				cfg2.Seed = 12345 // the state, not the seed, decides
				b, _ := NewBatcher(train, norm, cfg2)
				b.Next()
				if err := b.SetState(st); err != nil {
					t.Fatal(err)
				}
				var bufA, bufB Batch
				for k := range n + 10 {
					a.NextInto(&bufA)
					b.NextInto(&bufB)
					if !sameBatch(&bufA, &bufB) {
						t.Fatalf("batch %d after restore differs", k)
					}
				}
				if a.Epoch() != b.Epoch() {
					t.Errorf("epochs %d vs %d", a.Epoch(), b.Epoch())
				}
			})
		}
	}
}

func TestBatcherInjectedRNG(t *testing.T) {
	d := syntheticDataset(3, 7)
	cfg := BatcherConfig{BatchSize: 10, Augment: true}
	cfg.RNG = rand.NewPCG(11, 12)
	a, _ := NewBatcher(d.All(), Normalization{}, cfg)
	cfg.RNG = rand.NewPCG(11, 12)
	b, _ := NewBatcher(d.All(), Normalization{}, cfg)
	cfg.RNG = rand.NewPCG(11, 13)
	c, _ := NewBatcher(d.All(), Normalization{}, cfg)
	x, y, z := a.Next(), b.Next(), c.Next()
	if !sameBatch(x, y) || sameBatch(x, z) {
		t.Error("batches do not follow the injected generator")
	}
}

func TestBatcherSetStateErrors(t *testing.T) {
	d := syntheticDataset(3, 8)
	b, _ := NewBatcher(d.All(), Normalization{}, BatcherConfig{BatchSize: 10})
	good := b.State()
	for name, edit := range map[string]func(*BatcherState){
		"n":     func(s *BatcherState) { s.N++ },
		"batch": func(s *BatcherState) { s.BatchSize = 11 },
		"index": func(s *BatcherState) { s.Index = s.N + 1 },
		"rng":   func(s *BatcherState) { s.RNG = []byte("junk") },
		"erng":  func(s *BatcherState) { s.EpochRNG = nil },
	} {
		t.Run(name, func(t *testing.T) {
			s := good
			edit(&s)
			if err := b.SetState(s); !errors.Is(err, ErrState) {
				t.Errorf("SetState = %v", err)
			}
		})
	}
}
