package cifar

import (
	"context"
	"testing"
)

// BenchmarkLoadTrain loads, decodes and normalizes all 50,000 CIFAR-10
// training images from $HGDTUNE_DATA: Load, ComputeNormalization over the
// whole set, then every image converted to normalized NHWC float32 (in
// chunks of 1,000 through a reused Batch). "stamped" is the usual case (MD5
// verified on an earlier run, per the cache's stamps); "md5" hashes every
// file again, as on first use.
func BenchmarkLoadTrain(b *testing.B) {
	dataDir := realDataDir(b)
	cache := b.TempDir()
	for _, bc := range []struct {
		name   string
		rehash bool
	}{{"stamped", false}, {"md5", true}} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := Config{DataDir: dataDir, CacheDir: cache, Rehash: bc.rehash}
			if _, err := Load(context.Background(), cfg, CIFAR10Train); err != nil { // writes the stamps
				b.Fatal(err)
			}
			var batch Batch
			for b.Loop() {
				d, err := Load(context.Background(), cfg, CIFAR10Train)
				if err != nil {
					b.Fatal(err)
				}
				all := d.All()
				norm := ComputeNormalization(all)
				for start := 0; start < d.N; start += 1000 {
					if err := all.Batch(start, min(start+1000, d.N), norm, &batch); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkBatcherNext measures one augmented training batch of 128.
func BenchmarkBatcherNext(b *testing.B) {
	d := syntheticDataset(100, 1)
	bt, err := NewBatcher(d.All(), Normalization{}, BatcherConfig{Augment: true})
	if err != nil {
		b.Fatal(err)
	}
	var batch Batch
	for b.Loop() {
		bt.NextInto(&batch)
	}
}
