package cifar

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
)

// batcherStream is the PCG stream constant of a Batcher seeded by Seed.
const batcherStream = 0x5eed_c1fa_ba7c_0002

// DefaultBatcherBatchSize is the batch size of a Batcher whose
// BatcherConfig leaves it 0. It is not the training batch size of
// hgdtune's trainer, which sets its own (trainer.DefaultBatchSize).
const DefaultBatcherBatchSize = 128

// DefaultCropPadding is the zero padding (pixels per side) of the random crop.
const DefaultCropPadding = 4

// Batch is a mini-batch of normalized images in NHWC layout.
type Batch struct {
	Images  []float32 // Size×32×32×3, channels last
	Labels  []int32   // Size (fine) labels
	Indices []int32   // Size Dataset indices of the images
	Size    int
}

// Shape returns the shape of Images: {Size, 32, 32, 3}.
func (b *Batch) Shape() [4]int { return [4]int{b.Size, ImageHeight, ImageWidth, ImageChannels} }

func (b *Batch) resize(n int) {
	b.Size = n
	if cap(b.Images) < n*ImageSize {
		b.Images = make([]float32, n*ImageSize)
	}
	b.Images = b.Images[:n*ImageSize]
	if cap(b.Labels) < n {
		b.Labels = make([]int32, n)
		b.Indices = make([]int32, n)
	}
	b.Labels = b.Labels[:n]
	b.Indices = b.Indices[:n]
}

// Batch fills dst (reusing its buffers when large enough) with images
// start..end-1 of the subset, in subset order, normalized and not augmented:
// the evaluation path.
func (s *Subset) Batch(start, end int, norm Normalization, dst *Batch) error {
	if start < 0 || end > len(s.Indices) || start >= end {
		return fmt.Errorf("%w: batch [%d, %d) of a subset of %d", ErrConfig, start, end, len(s.Indices))
	}
	if err := norm.Validate(); err != nil {
		return err
	}
	dst.resize(end - start)
	t := norm.table()
	ids := s.Indices[start:end]
	parallelImages(len(ids), func(lo, hi int) {
		for k := lo; k < hi; k++ {
			i := ids[k]
			dst.Indices[k] = i
			dst.Labels[k] = int32(s.Data.Labels[i])
			fillImage(t, s.Data.Image(int(i)), dst.Images[k*ImageSize:(k+1)*ImageSize])
		}
	})
	return nil
}

// parallelImages runs fn over [0, n) in contiguous chunks, on up to
// GOMAXPROCS goroutines when n is large enough to pay for them. The result
// never depends on the number of goroutines.
func parallelImages(n int, fn func(lo, hi int)) {
	const minPerWorker = 64
	workers := min(runtime.GOMAXPROCS(0), n/minPerWorker)
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { fn(w*n/workers, (w+1)*n/workers) })
	}
	wg.Wait()
}

// BatcherConfig configures a Batcher. The zero value means batches of 128,
// reshuffled every epoch from seed 0, no augmentation, and the last partial
// batch of each epoch dropped (so every batch has the same shape).
type BatcherConfig struct {
	// BatchSize is the number of images per batch; 0 means
	// DefaultBatcherBatchSize.
	BatchSize int
	// Augment enables the random crop (CropPadding pixels of black padding on
	// each side, then a random 32×32 crop) followed by a random horizontal
	// flip with probability 1/2 — torchvision's RandomCrop(32, padding=4) and
	// RandomHorizontalFlip, applied before normalization.
	Augment bool
	// CropPadding is the padding of the random crop; 0 means
	// DefaultCropPadding (4).
	CropPadding int
	// NoShuffle keeps the subset's order in every epoch.
	NoShuffle bool
	// KeepPartial also serves the last, smaller batch of each epoch.
	KeepPartial bool
	// Seed seeds the Batcher's PCG generator when RNG is nil.
	Seed uint64
	// RNG, when not nil, is the generator to use (it is advanced in place).
	// All shuffling and augmentation randomness comes from it.
	RNG *rand.PCG
}

func (c BatcherConfig) withDefaults() BatcherConfig {
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatcherBatchSize
	}
	if c.CropPadding == 0 {
		c.CropPadding = DefaultCropPadding
	}
	return c
}

// Validate reports whether the BatcherConfig is usable.
func (c BatcherConfig) Validate() error {
	if c.BatchSize < 0 {
		return fmt.Errorf("%w: BatchSize %d < 0", ErrConfig, c.BatchSize)
	}
	if c.CropPadding < 0 || c.CropPadding > ImageWidth {
		return fmt.Errorf("%w: CropPadding %d not in [0, %d]", ErrConfig, c.CropPadding, ImageWidth)
	}
	return nil
}

// Batcher serves an endless stream of training batches from a Subset:
// epoch after epoch, each a fresh permutation of the subset, with optional
// augmentation. Its position (epoch, index within the epoch, generator state)
// is captured by State and restored by SetState, so that a checkpointed
// trainer resumes with bit-identical batches. A Batcher is not safe for
// concurrent use.
type Batcher struct {
	sub      *Subset
	cfg      BatcherConfig
	table    *[3][256]float32
	rng      *rand.PCG
	perm     []int32
	epoch    int
	index    int
	epochRNG []byte
	aug      []uint64
}

// BatcherState is a Batcher's serializable position (encode it with
// encoding/json, or any encoder of plain structs).
type BatcherState struct {
	Epoch     int    `json:"epoch"`      // epochs begun before the current one
	Index     int    `json:"index"`      // images of the current epoch already served
	EpochRNG  []byte `json:"epoch_rng"`  // generator state at the start of the epoch, before its shuffle
	RNG       []byte `json:"rng"`        // generator state now
	N         int    `json:"n"`          // subset size, checked on restore
	BatchSize int    `json:"batch_size"` // checked on restore
}

// NewBatcher returns a Batcher over sub that normalizes with norm.
func NewBatcher(sub *Subset, norm Normalization, cfg BatcherConfig) (*Batcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := norm.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if sub == nil || sub.Len() == 0 {
		return nil, fmt.Errorf("%w: NewBatcher on an empty subset", ErrConfig)
	}
	if !cfg.KeepPartial && cfg.BatchSize > sub.Len() {
		return nil, fmt.Errorf("%w: BatchSize %d exceeds the subset's %d images (and KeepPartial is off)", ErrConfig, cfg.BatchSize, sub.Len())
	}
	rng := cfg.RNG
	if rng == nil {
		rng = rand.NewPCG(cfg.Seed, batcherStream)
	}
	b := &Batcher{sub: sub, cfg: cfg, table: norm.table(), rng: rng, perm: make([]int32, sub.Len())}
	b.startEpoch(0)
	return b, nil
}

// StepsPerEpoch returns the number of batches served per epoch.
func (b *Batcher) StepsPerEpoch() int {
	n, bs := b.sub.Len(), b.cfg.BatchSize
	if b.cfg.KeepPartial {
		return (n + bs - 1) / bs
	}
	return n / bs
}

// Epoch returns the current epoch (0 for the first).
func (b *Batcher) Epoch() int { return b.epoch }

func (b *Batcher) startEpoch(epoch int) {
	st, _ := b.rng.MarshalBinary() // PCG's MarshalBinary never fails
	b.epochRNG = st
	b.epoch, b.index = epoch, 0
	b.fillPerm()
}

func (b *Batcher) fillPerm() {
	copy(b.perm, b.sub.Indices)
	if !b.cfg.NoShuffle {
		shuffleInt32(b.rng, b.perm)
	}
}

// State returns the Batcher's current position.
func (b *Batcher) State() BatcherState {
	st, _ := b.rng.MarshalBinary()
	return BatcherState{
		Epoch: b.epoch, Index: b.index,
		EpochRNG: append([]byte(nil), b.epochRNG...), RNG: st,
		N: b.sub.Len(), BatchSize: b.cfg.BatchSize,
	}
}

// SetState restores a position returned by State of a Batcher with the same
// subset and configuration. The next batches are then bit-identical to those
// the original Batcher served after State.
func (b *Batcher) SetState(s BatcherState) error {
	if s.N != b.sub.Len() || s.BatchSize != b.cfg.BatchSize {
		return fmt.Errorf("%w: state for %d images in batches of %d, batcher has %d in batches of %d", ErrState, s.N, s.BatchSize, b.sub.Len(), b.cfg.BatchSize)
	}
	if s.Epoch < 0 || s.Index < 0 || s.Index > s.N {
		return fmt.Errorf("%w: epoch %d, index %d", ErrState, s.Epoch, s.Index)
	}
	var probe rand.PCG
	if err := probe.UnmarshalBinary(s.RNG); err != nil {
		return fmt.Errorf("%w: rng: %w", ErrState, err)
	}
	if err := b.rng.UnmarshalBinary(s.EpochRNG); err != nil {
		return fmt.Errorf("%w: epoch rng: %w", ErrState, err)
	}
	b.epochRNG = append([]byte(nil), s.EpochRNG...)
	b.fillPerm()
	_ = b.rng.UnmarshalBinary(s.RNG) // checked above
	b.epoch, b.index = s.Epoch, s.Index
	return nil
}

// Next returns the next batch in newly allocated memory (the caller may keep
// or hand it on).
func (b *Batcher) Next() *Batch {
	var dst Batch
	b.NextInto(&dst)
	return &dst
}

// NextInto fills dst with the next batch, reusing its buffers when they are
// large enough.
func (b *Batcher) NextInto(dst *Batch) {
	n, bs := len(b.perm), b.cfg.BatchSize
	if rem := n - b.index; rem == 0 || (rem < bs && !b.cfg.KeepPartial) {
		b.startEpoch(b.epoch + 1)
	}
	size := min(bs, n-b.index)
	ids := b.perm[b.index : b.index+size]
	b.index += size
	dst.resize(size)
	if b.cfg.Augment {
		// Draw all randomness first, in image order, so that it depends on
		// the generator state only.
		b.aug = b.aug[:0]
		for range size {
			b.aug = append(b.aug, b.rng.Uint64())
		}
	}
	d := b.sub.Data
	parallelImages(size, func(lo, hi int) {
		for k := lo; k < hi; k++ {
			i := ids[k]
			dst.Indices[k] = i
			dst.Labels[k] = int32(d.Labels[i])
			out := dst.Images[k*ImageSize : (k+1)*ImageSize]
			if b.cfg.Augment {
				fillAugmented(b.table, d.Image(int(i)), out, b.cfg.CropPadding, b.aug[k])
			} else {
				fillImage(b.table, d.Image(int(i)), out)
			}
		}
	})
}

// fillImage converts one CHW byte image to normalized HWC floats.
func fillImage(t *[3][256]float32, img []uint8, out []float32) {
	r, g, bl := img[:planeSize], img[planeSize:2*planeSize], img[2*planeSize:3*planeSize]
	out = out[:3*planeSize]
	t0, t1, t2 := &t[0], &t[1], &t[2]
	for p := range planeSize {
		o := out[3*p : 3*p+3 : 3*p+3]
		o[0] = t0[r[p]]
		o[1] = t1[g[p]]
		o[2] = t2[bl[p]]
	}
}

// fillAugmented is fillImage with a random crop of the zero-padded image and
// a random horizontal flip, both taken from the 64 random bits r: the low 32
// bits choose the horizontal offset, bits 32..62 the vertical one, bit 63 the
// flip. Offsets are uniform in [0, 2·pad] (bias below 2⁻³⁰).
func fillAugmented(t *[3][256]float32, img []uint8, out []float32, pad int, r uint64) {
	span := uint64(2*pad + 1)
	dx := int((r&(1<<32-1))*span>>32) - pad
	dy := int(((r>>32)&(1<<31-1))*span>>31) - pad
	flip := r>>63 == 1
	zero := [3]float32{t[0][0], t[1][0], t[2][0]}
	for y := range ImageHeight {
		sy := y + dy
		row := out[y*ImageWidth*3 : (y+1)*ImageWidth*3]
		if sy < 0 || sy >= ImageHeight {
			for x := range ImageWidth {
				copy(row[3*x:3*x+3], zero[:])
			}
			continue
		}
		for x := range ImageWidth {
			cx := x
			if flip {
				cx = ImageWidth - 1 - x
			}
			sx := cx + dx
			o := row[3*x : 3*x+3 : 3*x+3]
			if sx < 0 || sx >= ImageWidth {
				copy(o, zero[:])
				continue
			}
			p := sy*ImageWidth + sx
			o[0] = t[0][img[p]]
			o[1] = t[1][img[planeSize+p]]
			o[2] = t[2][img[2*planeSize+p]]
		}
	}
}
