package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/cifar/trainer"
)

// dataFlags are the flags every command that reads CIFAR shares.
type dataFlags struct {
	dataset  string
	dataDir  string
	cacheDir string
	download bool
	skipMD5  bool
	testFile string
	files    int
}

// defaultDataDir is $HGDTUNE_DATA, else ./data.
func defaultDataDir() string {
	if d := os.Getenv(cifar.EnvData); d != "" {
		return d
	}
	return "data"
}

func (f *dataFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dataset, "dataset", "cifar10", "data set: cifar10 or cifar100")
	fs.StringVar(&f.dataDir, "data", defaultDataDir(),
		"read-only folder holding cifar-10-batches-bin/, cifar-100-binary/ or the official .tar.gz archives ($"+cifar.EnvData+")")
	fs.StringVar(&f.cacheDir, "cache", "",
		"writable folder for downloads and MD5 stamps (default $"+cifar.EnvCache+", else the user cache folder/hgdtune)")
	fs.BoolVar(&f.download, "download", true, "download missing files from the dataset authors' site")
	fs.BoolVar(&f.skipMD5, "skip-md5", false, "accept files whose MD5 differs from the official one (user-supplied copies)")
	fs.IntVar(&f.files, "train-files", 0, "CIFAR-10: load only the first N of the five training batch files (0: all)")
	fs.StringVar(&f.testFile, "test-file", "",
		"use this test-set file instead of the official one (its MD5 is not checked), e.g. a re-encoded stand-in")
}

func (f *dataFlags) config(progress io.Writer) (cifar.Config, error) {
	cfg := cifar.Config{
		DataDir:    f.dataDir,
		CacheDir:   f.cacheDir,
		Download:   f.download,
		Progress:   progress,
		SkipMD5:    f.skipMD5,
		TestFile:   f.testFile,
		TrainFiles: f.files,
	}
	if f.testFile != "" {
		cfg.SkipTestMD5 = true
	}
	return cfg, cfg.Validate()
}

func (f *dataFlags) load(ctx context.Context, progress io.Writer) (train, test *cifar.Dataset, err error) {
	cfg, err := f.config(progress)
	if err != nil {
		return nil, nil, err
	}
	switch f.dataset {
	case "cifar10":
		train, test, err = cifar.LoadCIFAR10(ctx, cfg)
	case "cifar100":
		train, test, err = cifar.LoadCIFAR100(ctx, cfg)
	default:
		return nil, nil, fmt.Errorf("unknown -dataset %q (want cifar10 or cifar100)", f.dataset)
	}
	if errors.Is(err, cifar.ErrNoTestSet) && train != nil {
		return train, nil, nil // the paper's protocol needs only the training set
	}
	return train, test, err
}

// loadTrain loads the training set only (the paper's protocol splits it
// into training and validation parts; the test set is not needed).
func (f *dataFlags) loadTrain(ctx context.Context, progress io.Writer) (*cifar.Dataset, error) {
	cfg, err := f.config(progress)
	if err != nil {
		return nil, err
	}
	switch f.dataset {
	case "cifar10":
		return cifar.Load(ctx, cfg, cifar.CIFAR10Train)
	case "cifar100":
		return cifar.Load(ctx, cfg, cifar.CIFAR100Train)
	}
	return nil, fmt.Errorf("unknown -dataset %q (want cifar10 or cifar100)", f.dataset)
}

func runData(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hgdtune data", flag.ContinueOnError)
	var df dataFlags
	df.register(fs)
	seed := fs.Uint64("seed", 0, "seed of the 70/30 train/validation split")
	frac := fs.Float64("train-fraction", cifar.DefaultTrainFraction, "share of each class used for training")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: hgdtune data [flags]\n\nFinds (or downloads) the data set, verifies every file's MD5 and prints a summary\nof the set and of the paper's class-stratified train/validation split.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	start := time.Now()
	train, test, err := df.load(ctx, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "loaded in %v\n\n", time.Since(start).Round(time.Millisecond))
	fmt.Fprint(stdout, train.Summary())
	if test != nil {
		fmt.Fprintln(stdout)
		fmt.Fprint(stdout, test.Summary())
	} else {
		fmt.Fprintln(stdout, "\n(no test set found: the paper's protocol uses only the training set)")
	}
	d, err := trainer.SplitData(train, cifar.SplitConfig{TrainFraction: *frac, Seed: *seed})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nsplit (seed %d, train fraction %.2f):\ntrain: %s", *seed, *frac, d.Train.Summary())
	fmt.Fprintf(stdout, "validation: %s", d.Val.Summary())
	fmt.Fprintf(stdout, "normalization (train part, pixel/255): mean %.4f  std %.4f\n", d.Norm.Mean, d.Norm.Std)
	return nil
}
