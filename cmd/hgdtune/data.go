package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/cifar/trainer"
	"github.com/hgdtune/hgdtune/reproduce"
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
	// Set by flags of the data command only (see runData).
	rehash  bool
	baseURL string
}

// folderFlag is a flag naming a folder: a path that exists and is not a
// folder is refused when the flag is parsed (a usage error naming the
// flag); a missing one is created when used.
type folderFlag string

func (f *folderFlag) String() string { return string(*f) }

func (f *folderFlag) Set(v string) error {
	if st, err := os.Stat(v); err == nil && !st.IsDir() {
		return fmt.Errorf("%s is a file, not a folder", v)
	}
	*f = folderFlag(v)
	return nil
}

// defaultDataDir is $HGDTUNE_DATA, else ./data.
func defaultDataDir() string {
	if d := os.Getenv(cifar.EnvData); d != "" {
		return d
	}
	return "data"
}

func (f *dataFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dataset, "dataset", reproduce.DatasetCIFAR10, "data set: cifar10 or cifar100")
	fs.StringVar(&f.dataDir, "data", defaultDataDir(),
		"read-only folder holding cifar-10-batches-bin/, cifar-100-binary/ or the official .tar.gz archives ($"+cifar.EnvData+")")
	fs.Var((*folderFlag)(&f.cacheDir), "cache",
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
		BaseURL:    f.baseURL,
		SkipMD5:    f.skipMD5,
		Rehash:     f.rehash,
		TestFile:   f.testFile,
		TrainFiles: f.files,
	}
	if f.testFile != "" {
		cfg.SkipTestMD5 = true
	}
	if err := cfg.Validate(); err != nil {
		// Name the flag, not the Config field.
		switch {
		case f.files < 0 || f.files > 5:
			return cfg, &flagError{msg: fmt.Sprintf("-train-files %d: want 0 (all) to 5", f.files), err: err}
		case f.baseURL != "":
			return cfg, &flagError{msg: fmt.Sprintf("-base-url %q: want an http:// or https:// URL", f.baseURL), err: err}
		}
		return cfg, err
	}
	return cfg, nil
}

// load loads the training and test sets. When only the test set is not
// available (not found, and not downloaded or its download could not reach
// the server), it returns the training set, no test set and, as noTest, the
// loader's error (wrapping cifar.ErrNoTestSet and a *cifar.MissingError).
func (f *dataFlags) load(ctx context.Context, progress io.Writer) (train, test *cifar.Dataset, noTest, err error) {
	cfg, err := f.config(progress)
	if err != nil {
		return nil, nil, nil, err
	}
	set, _, err := f.parsed()
	if err != nil {
		return nil, nil, nil, err
	}
	if set == cifar.CIFAR100Train {
		train, test, err = cifar.LoadCIFAR100(ctx, cfg)
	} else {
		train, test, err = cifar.LoadCIFAR10(ctx, cfg)
	}
	if errors.Is(err, cifar.ErrNoTestSet) && train != nil {
		return train, nil, err, nil // the paper's protocol needs only the training set
	}
	return train, test, nil, f.explain(err)
}

// loadTrain loads the training set only (the paper's protocol splits it
// into training and validation parts; the test set is not needed).
func (f *dataFlags) loadTrain(ctx context.Context, progress io.Writer) (*cifar.Dataset, error) {
	cfg, err := f.config(progress)
	if err != nil {
		return nil, err
	}
	set, _, err := f.parsed()
	if err != nil {
		return nil, err
	}
	d, err := cifar.Load(ctx, cfg, set)
	return d, f.explain(err)
}

// parsed is the -dataset flag as typed values: its training set and the
// paper's case study on it.
func (f *dataFlags) parsed() (cifar.Set, cnn.Case, error) {
	c, err := reproduce.DatasetCase(f.dataset)
	if err != nil {
		return 0, 0, fmt.Errorf("unknown -dataset %q (want %s or %s)", f.dataset, reproduce.DatasetCIFAR10, reproduce.DatasetCIFAR100)
	}
	if c == cnn.Case2 {
		return cifar.CIFAR100Train, c, nil
	}
	return cifar.CIFAR10Train, c, nil
}

// flagError replaces the message of err (kept for errors.Is and errors.As)
// by one that gives advice in terms of command-line flags.
type flagError struct {
	msg string
	err error
}

func (e *flagError) Error() string { return e.msg }
func (e *flagError) Unwrap() error { return e.err }

// explain rewrites a *cifar.MissingError inside err (whose own advice names
// API fields) into a message naming the missing files first, then the
// download's failure, then how to provide the files with this command's
// flags. Other errors are returned unchanged.
func (f *dataFlags) explain(err error) error {
	var me *cifar.MissingError
	if err == nil || !errors.As(err, &me) {
		return err
	}
	missing, download, advice := f.describeMissing(me)
	msg := me.Set.String() + ": not found: " + missing
	if download != "" {
		msg += "; download failed: " + download
	}
	return &flagError{msg: msg + "; " + advice, err: err}
}

// describeMissing says which files are missing and where they were looked
// for, why the download failed ("" when none was tried or it succeeded), and
// how to provide the files, naming this command's flags.
func (f *dataFlags) describeMissing(me *cifar.MissingError) (missing, download, advice string) {
	files := strings.Join(me.Files, ", ")
	missing = files
	if len(me.Searched) > 0 {
		missing += " (searched " + strings.Join(me.Searched, ", ") + ")"
	}
	if me.DownloadErr != nil {
		download = strings.TrimPrefix(me.DownloadErr.Error(), cifar.ErrDownload.Error()+": ")
	}
	var ways []string
	if me.Folder != "" {
		ways = append(ways, fmt.Sprintf("put %s into %s, or the archive %s into %s (-data or $%s chooses that folder)",
			files, me.Folder, me.Archive, me.DataDir, cifar.EnvData))
	} else {
		ways = append(ways, fmt.Sprintf("name a folder holding %s (or the folder it extracts to) with -data or $%s",
			me.Archive, cifar.EnvData))
	}
	switch {
	case !me.Download:
		ways = append(ways, "run with -download to fetch "+me.URL)
	case me.Unreachable():
		ways = append(ways, "run again where "+me.URL+" can be reached, or fetch it from a mirror with hgdtune data -base-url URL")
	}
	if isTestSet(me.Set) {
		ways = append(ways, "pass -test-file FILE to use a stand-in test set")
	}
	return missing, download, strings.Join(ways, ", or ")
}

func isTestSet(s cifar.Set) bool { return s == cifar.CIFAR10Test || s == cifar.CIFAR100Test }

func runData(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hgdtune data", flag.ContinueOnError)
	var df dataFlags
	df.register(fs)
	seed := fs.Uint64("seed", 0, "seed of the 70/30 train/validation split")
	frac := fs.Float64("train-fraction", cifar.DefaultTrainFraction, "share of each class used for training")
	fs.BoolVar(&df.rehash, "rehash", false,
		"hash every file again instead of trusting the MD5 stamps in the cache folder (a stamp vouches for a verified file while its path, size and modification time are unchanged)")
	fs.StringVar(&df.baseURL, "base-url", "",
		"URL prefix the official archives are downloaded from, e.g. a mirror (default "+cifar.DefaultBaseURL+")")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: hgdtune data [flags]

Finds (or downloads) the data set, verifies every file's MD5 and prints a summary
of the set and of the paper's class-stratified train/validation split.

Exit status: 0 when the training set is complete and verified, also when the
test set is not available (not found, and not downloaded or the download could
not reach the server): the paper's protocol uses only the training set, and the
report says which test files are missing and how to provide them. 1 on any
other error (a missing or corrupt training file, an MD5 mismatch, ...), 2 on a
usage error.

flags:
`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	start := time.Now()
	train, test, noTest, err := df.load(ctx, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "loaded in %v\n\n", time.Since(start).Round(time.Millisecond))
	fmt.Fprint(stdout, train.Summary())
	if test != nil {
		fmt.Fprintln(stdout)
		fmt.Fprint(stdout, test.Summary())
	} else {
		fmt.Fprint(stdout, "\n"+df.noTestReport(noTest))
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

// noTestReport says that the test set is not available, which files are
// missing, what became of the download and how to provide them.
func (f *dataFlags) noTestReport(noTest error) string {
	var b strings.Builder
	b.WriteString("test set: not available (the paper's protocol uses only the training set, which is complete)\n")
	var me *cifar.MissingError
	if !errors.As(noTest, &me) {
		fmt.Fprintf(&b, "  %v\n", noTest)
		return b.String()
	}
	missing, download, advice := f.describeMissing(me)
	switch {
	case download != "":
	case me.Download:
		download = "done, but the archive lacks these files"
	default:
		download = "not tried (-download=false)"
	}
	fmt.Fprintf(&b, "  missing:  %s\n  download: %s\n  to add:   %s\n", missing, download, advice)
	return b.String()
}
