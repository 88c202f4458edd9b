package cifar

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// Normalization holds per-channel (R, G, B) statistics of pixel/255. A batch
// pixel v of channel c becomes (v/255 − Mean[c]) / Std[c]. A Std of 0 is
// treated as 1, so the zero value maps pixels to v/255.
type Normalization struct {
	Mean, Std [3]float32
}

// Validate reports whether the statistics are finite and Std is not negative.
func (n Normalization) Validate() error {
	for c := range 3 {
		m, s := float64(n.Mean[c]), float64(n.Std[c])
		if math.IsNaN(m) || math.IsInf(m, 0) || math.IsNaN(s) || math.IsInf(s, 0) || s < 0 {
			return fmt.Errorf("%w: normalization channel %d: mean %v, std %v", ErrConfig, c, m, s)
		}
	}
	return nil
}

// ComputeNormalization returns the per-channel mean and (population) standard
// deviation of pixel/255 over the subset's images. Apply it to the training
// part only, then use it for every part.
func ComputeNormalization(s *Subset) Normalization {
	type acc struct{ sum, sq [3]uint64 }
	workers := max(1, min(runtime.GOMAXPROCS(0), len(s.Indices)/1000))
	parts := make([]acc, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(s.Indices)/workers, (w+1)*len(s.Indices)/workers
		wg.Go(func() {
			var a acc
			for _, i := range s.Indices[lo:hi] {
				img := s.Data.Image(int(i))
				for c := range 3 {
					var sum, sq uint64
					for _, v := range img[c*planeSize : (c+1)*planeSize] {
						x := uint64(v)
						sum += x
						sq += x * x
					}
					a.sum[c] += sum
					a.sq[c] += sq
				}
			}
			parts[w] = a
		})
	}
	wg.Wait()
	var n Normalization
	count := float64(len(s.Indices) * planeSize)
	if count == 0 {
		return n
	}
	for c := range 3 {
		var sum, sq uint64
		for _, a := range parts {
			sum += a.sum[c]
			sq += a.sq[c]
		}
		mean := float64(sum) / count
		variance := max(float64(sq)/count-mean*mean, 0)
		n.Mean[c] = float32(mean / 255)
		n.Std[c] = float32(math.Sqrt(variance) / 255)
	}
	return n
}

// table returns, per channel, the normalized value of each byte.
func (n Normalization) table() *[3][256]float32 {
	var t [3][256]float32
	for c := range 3 {
		std := float64(n.Std[c])
		if std == 0 {
			std = 1
		}
		for v := range 256 {
			t[c][v] = float32((float64(v)/255 - float64(n.Mean[c])) / std)
		}
	}
	return &t
}
