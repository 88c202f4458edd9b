package trainer

// The wiring before a Trainer: data, split, backend. It lives here, next to
// New and SplitData, because everything it returns is what New takes, and
// every program that trains (hgdtune train, the scripts) goes through the
// same four steps: load a training set, keep its first images, split it
// 70/30 with SplitData, open the backend.

import (
	"context"

	"github.com/gomlx/compute"

	"github.com/hgdtune/hgdtune/backend"
	"github.com/hgdtune/hgdtune/cifar"
)

// Setup says where a run's data and backend come from. The zero value loads
// the CIFAR-10 training set from $HGDTUNE_DATA (cifar.Config's defaults),
// keeps all of it, splits it 70/30 with seed 0 and opens the backend named
// by the environment (backend.FromEnv).
type Setup struct {
	// Load returns the training set; nil loads Set with cifar.Load and
	// Data. Commands give their own (e.g. one that explains a missing file
	// in terms of their flags); tests and benchmarks give synthetic data.
	Load func(ctx context.Context) (*cifar.Dataset, error)
	// Data configures cifar.Load when Load is nil.
	Data cifar.Config
	// Set is the training set cifar.Load reads when Load is nil
	// (default cifar.CIFAR10Train, the zero value).
	Set cifar.Set
	// Subset keeps only the first Subset images of the set (0: all).
	Subset int
	// Split configures the class-stratified split (70/30, seed 0 by
	// default).
	Split cifar.SplitConfig
	// Backend is the backend specification ("go", "xla:cuda", …); "" takes
	// the environment's (backend.Resolve).
	Backend string
}

// Env is what Setup.Open returns: the split data and an open backend, ready
// for New. Close finalizes the backend.
type Env struct {
	Data    Data
	Backend compute.Backend
	// Spec is the resolved backend specification.
	Spec string
}

// Open loads and splits the data, then opens the backend (after the data,
// so that a data error costs no backend start).
func (s Setup) Open(ctx context.Context) (*Env, error) {
	load := s.Load
	if load == nil {
		load = func(ctx context.Context) (*cifar.Dataset, error) { return cifar.Load(ctx, s.Data, s.Set) }
	}
	d, err := load(ctx)
	if err != nil {
		return nil, err
	}
	data, err := SplitData(d.Head(s.Subset), s.Split)
	if err != nil {
		return nil, err
	}
	be, spec, err := backend.FromEnv(s.Backend)
	if err != nil {
		return nil, err
	}
	return &Env{Data: data, Backend: be, Spec: spec}, nil
}

// New builds a Trainer on the environment's data and backend.
func (e *Env) New(cfg Config) (*Trainer, error) { return New(e.Backend, e.Data, cfg) }

// Describe is the one-line description of the backend (backend.Describe).
func (e *Env) Describe() string { return backend.Describe(e.Backend, e.Spec) }

// Close finalizes the backend.
func (e *Env) Close() {
	if e.Backend != nil {
		e.Backend.Finalize()
	}
}
