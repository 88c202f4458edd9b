package cifar

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// splitStream is the PCG stream constant of the split's RNG; the Batcher uses
// another, so equal seeds do not correlate the two.
const splitStream = 0x5eed_c1fa_5717_0001

// Subset is a selection of a Dataset's images, by index (ascending for
// subsets made by Split and All).
type Subset struct {
	Data    *Dataset
	Indices []int32
}

// Len returns the number of images in the subset.
func (s *Subset) Len() int { return len(s.Indices) }

// ClassCounts returns the number of images per (fine) class.
func (s *Subset) ClassCounts() []int {
	counts := make([]int, len(s.Data.Classes))
	for _, i := range s.Indices {
		if l := int(s.Data.Labels[i]); l < len(counts) {
			counts[l]++
		}
	}
	return counts
}

// SplitConfig configures Split. The zero value is the paper's protocol: 70%
// of each class for training, 30% for validation, seed 0.
type SplitConfig struct {
	// TrainFraction is the share of each class that goes to the training
	// part, in (0, 1); 0 means DefaultTrainFraction (0.7).
	TrainFraction float64
	// Seed selects the (deterministic) split.
	Seed uint64
}

// Validate reports whether the SplitConfig is usable.
func (c SplitConfig) Validate() error {
	f := c.TrainFraction
	if f != 0 && !(f > 0 && f < 1) {
		return fmt.Errorf("%w: TrainFraction %v not in (0, 1)", ErrConfig, f)
	}
	return nil
}

// Split divides d into a training and a validation subset, class by class:
// of each (fine) class's n images, round(TrainFraction·n) chosen by a
// PCG random generator seeded with Seed go to train, the rest to val. The
// split depends only on the labels, the fraction and the seed; both subsets
// list their indices in ascending order.
func Split(d *Dataset, cfg SplitConfig) (train, val *Subset, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	if d == nil || d.N == 0 {
		return nil, nil, fmt.Errorf("%w: Split of an empty dataset", ErrConfig)
	}
	frac := cfg.TrainFraction
	if frac == 0 {
		frac = DefaultTrainFraction
	}
	byClass := make([][]int32, max(len(d.Classes), 256))
	for i, l := range d.Labels {
		byClass[l] = append(byClass[l], int32(i))
	}
	rng := rand.NewPCG(cfg.Seed, splitStream)
	tr := make([]int32, 0, int(float64(d.N)*frac)+len(byClass))
	va := make([]int32, 0, d.N-cap(tr)+len(byClass))
	for _, idx := range byClass {
		if len(idx) == 0 {
			continue
		}
		shuffleInt32(rng, idx)
		k := int(math.Round(frac * float64(len(idx))))
		tr = append(tr, idx[:k]...)
		va = append(va, idx[k:]...)
	}
	slices.Sort(tr)
	slices.Sort(va)
	return &Subset{Data: d, Indices: tr}, &Subset{Data: d, Indices: va}, nil
}

// uniformN returns a uniform integer in [0, n), n > 0, without modulo bias
// (Lemire's multiply-and-reject method). It is spelled out here, rather than
// taken from math/rand/v2's Rand, so that sequences stay bit-exact across Go
// releases: only the PCG algorithm itself is relied upon.
func uniformN(src rand.Source, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}

// shuffleInt32 is a Fisher–Yates shuffle driven by uniformN.
func shuffleInt32(src rand.Source, a []int32) {
	for i := len(a) - 1; i > 0; i-- {
		j := uniformN(src, uint64(i+1))
		a[i], a[j] = a[j], a[i]
	}
}
