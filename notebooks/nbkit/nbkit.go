// Package nbkit holds the few helpers the GoNB notebooks of notebooks/ share,
// so that the notebooks themselves show the calls into hgdtune's packages and
// not the plumbing: the small mode, where data and results live, a reader for
// the results folders of `hgdtune reproduce`, and line charts rendered to PNG
// for gonbui.DisplayPNG.
//
// It imports package reproduce (its results reader), and with it GoMLX: a
// GoMLX-free nbkit would need the results reader split from the experiment,
// which is not worth it for notebooks that compile in seconds.
//
// # Small mode
//
// With HGDTUNE_NOTEBOOK_SMALL set (to anything but "" or "0"), notebooks
// shrink data and budgets so that all of them run headless in a few minutes
// (scripts/notebooks.sh, CI): a few hundred images — a subset of the real
// data when it is found, else cifar.Synthetic — and seconds of training.
// Outputs go to HGDTUNE_NOTEBOOK_WORK when set, else to a temporary folder.
package nbkit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hgdtune/hgdtune/cifar"
)

// Environment variables read by the notebooks.
const (
	EnvSmall   = "HGDTUNE_NOTEBOOK_SMALL" // small mode when set and not "0"
	EnvWork    = "HGDTUNE_NOTEBOOK_WORK"  // where notebooks write results
	EnvResults = "HGDTUNE_RESULTS"        // a results folder for notebooks 03/04 to read
)

// Small reports whether the notebooks run in small mode.
func Small() bool {
	v := os.Getenv(EnvSmall)
	return v != "" && v != "0"
}

// WorkDir returns a folder for a notebook's outputs, created if missing:
// $HGDTUNE_NOTEBOOK_WORK/name when that is set, else a new temporary folder.
func WorkDir(name string) (string, error) {
	if base := os.Getenv(EnvWork); base != "" {
		dir := filepath.Join(base, name)
		return dir, os.MkdirAll(dir, 0o755)
	}
	return os.MkdirTemp("", "hgdtune-"+name+"-")
}

// Data returns the training images of set (cifar.CIFAR10Train or
// cifar.CIFAR100Train): the real data when package cifar finds it (in
// $HGDTUNE_DATA or the cache; never downloaded), cut to its first n images
// when n > 0. When the real data is missing, small mode falls back to
// cifar.Synthetic(n, classes, 1) (n = 500 when n ≤ 0); outside small mode
// that is an error saying where the data is expected. The string says in
// words what was loaded, for the notebook to print.
func Data(ctx context.Context, set cifar.Set, n int) (*cifar.Dataset, string, error) {
	d, err := cifar.Load(ctx, cifar.Config{}, set)
	if err == nil {
		d = d.Head(n)
		return d, fmt.Sprintf("real data: %s, %d images, %d classes", d.Name, d.N, len(d.Classes)), nil
	}
	if !Small() {
		return nil, "", fmt.Errorf("nbkit: %v: %w (set %s to the folder holding the data, or %s=1 for synthetic data)",
			set, err, cifar.EnvData, EnvSmall)
	}
	classes := 10
	if set == cifar.CIFAR100Train || set == cifar.CIFAR100Test {
		classes = 100
	}
	if n <= 0 {
		n = 500
	}
	reason := "not found"
	if !errors.Is(err, cifar.ErrMissing) {
		reason = "not loaded: " + err.Error()
	}
	return cifar.Synthetic(n, classes, 1),
		fmt.Sprintf("SYNTHETIC data (small mode; real %v %s): cifar.Synthetic, %d images, %d classes", set, reason, n, classes), nil
}
