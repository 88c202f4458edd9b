package cifar_test

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/hgdtune/hgdtune/cifar"
)

// writeTinyCIFAR10 writes a small CIFAR-10 folder in the official binary
// format: five batches of 20 records, labels 0..9 in turn, random pixels.
func writeTinyCIFAR10(dir string) error {
	folder := filepath.Join(dir, "cifar-10-batches-bin")
	if err := os.MkdirAll(folder, 0o755); err != nil {
		return err
	}
	names := "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n"
	if err := os.WriteFile(filepath.Join(folder, "batches.meta.txt"), []byte(names), 0o644); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for k := 1; k <= 5; k++ {
		rec := make([]byte, 20*(1+cifar.ImageSize))
		for i := range 20 {
			r := rec[i*(1+cifar.ImageSize):]
			r[0] = byte(i % 10)
			for j := 1; j <= cifar.ImageSize; j++ {
				r[j] = byte(rng.IntN(256))
			}
		}
		if err := os.WriteFile(filepath.Join(folder, fmt.Sprintf("data_batch_%d.bin", k)), rec, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Example loads a (generated, tiny) CIFAR-10 training set, splits it 70/30
// by class, normalizes with the training part's statistics and serves
// augmented NHWC batches whose position can be saved and restored.
func Example() {
	dir, err := os.MkdirTemp("", "cifar-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := writeTinyCIFAR10(dir); err != nil {
		log.Fatal(err)
	}

	cfg := cifar.Config{
		DataDir:        dir,
		CacheDir:       filepath.Join(dir, "cache"),
		SkipMD5:        true, // generated files do not have the official sums
		AnyRecordCount: true, // nor the official 10,000 records per batch
	}
	data, err := cifar.Load(context.Background(), cfg, cifar.CIFAR10Train)
	if err != nil {
		log.Fatal(err)
	}
	train, val, err := cifar.Split(data, cifar.SplitConfig{Seed: 1}) // 70/30
	if err != nil {
		log.Fatal(err)
	}
	norm := cifar.ComputeNormalization(train)
	batches, err := cifar.NewBatcher(train, norm, cifar.BatcherConfig{BatchSize: 16, Augment: true, Seed: 7})
	if err != nil {
		log.Fatal(err)
	}
	batches.Next()
	saved := batches.State() // e.g. stored in a checkpoint
	b := batches.Next()

	resumed, _ := cifar.NewBatcher(train, norm, cifar.BatcherConfig{BatchSize: 16, Augment: true})
	if err := resumed.SetState(saved); err != nil {
		log.Fatal(err)
	}
	again := resumed.Next()

	fmt.Println(data.N, "images;", train.Len(), "train,", val.Len(), "validation")
	fmt.Println("train per class:", train.ClassCounts())
	fmt.Println("batch shape:", b.Shape(), "steps per epoch:", batches.StepsPerEpoch())
	fmt.Println("same batch after restore:", fmt.Sprint(b.Indices) == fmt.Sprint(again.Indices) && b.Images[1234] == again.Images[1234])
	// Output:
	// 100 images; 70 train, 30 validation
	// train per class: [7 7 7 7 7 7 7 7 7 7]
	// batch shape: [16 32 32 3] steps per epoch: 4
	// same batch after restore: true
}

// ExampleDataset_Summary shows the description a command-line tool prints.
func ExampleDataset_Summary() {
	dir, _ := os.MkdirTemp("", "cifar-example")
	defer os.RemoveAll(dir)
	if err := writeTinyCIFAR10(dir); err != nil {
		log.Fatal(err)
	}
	cfg := cifar.Config{DataDir: dir, CacheDir: filepath.Join(dir, "cache"), SkipMD5: true, AnyRecordCount: true}
	data, err := cifar.Load(context.Background(), cfg, cifar.CIFAR10Train)
	if err != nil {
		log.Fatal(err)
	}
	data.Files = data.Files[:2] // keep the output short
	data.Files[0].Path, data.Files[1].Path = "…/batches.meta.txt", "…/data_batch_1.bin"
	fmt.Print(data.Summary())
	// Output:
	// CIFAR-10 train: 100 images, 10 classes
	// per class: airplane 10, automobile 10, bird 10, cat 10, deer 10, dog 10, frog 10, horse 10, ship 10, truck 10
	// files:
	//   batches.meta.txt: no official MD5 […/batches.meta.txt]
	//   data_batch_1.bin: 20 records, MD5 check skipped […/data_batch_1.bin]
}
