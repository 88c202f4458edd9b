// Package synthetic provides a cheap, deterministic hpo.Trainable with
// CIFAR-like learning curves and a known optimum, for tests, benchmarks of
// the tuning algorithms, and notebooks.
//
// A configuration of Space (lr, momentum, layers, optimizer) has an
// asymptotic accuracy A(cfg) ≤ 0.95 (reached at Optimum) and a learning
// speed 1/τ(cfg) that grows with the learning rate, so curves cross:
// large learning rates look good early and plateau lower — the situation
// early-stopping methods must handle. The state of a trainable is its step
// count and its accumulated progress p (each step adds 1/τ of the current
// configuration), and
//
//	acc = 0.1 + (A(cfg) − 0.1)·(1 − e^(−p)) + Noise·z(seed, cfg, step)
//	loss = −ln(acc)
//
// where z is a standard normal drawn from a hash of the seed, the
// configuration and the step: the same seed and configuration always give
// the same curve, however the training is split, checkpointed and restored.
// Because progress is accumulated, a PBT exploit (restore another trial's
// state, change the configuration) continues the donor's curve.
package synthetic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
)

// Advancer is a clock that training advances, such as *hpo.ManualClock.
type Advancer interface{ Advance(d time.Duration) }

// Problem is a family of synthetic learning curves. The zero value is
// usable: no noise, no simulated cost.
type Problem struct {
	Seed  uint64
	Noise float64 // standard deviation of the evaluation noise
	// StepCost is the simulated cost of one training step of a 4-layer
	// model; a config with k layers costs StepCost·(0.5 + k/8). Cost is
	// this model as an hpo.CostModel, for compute-time experiments.
	StepCost time.Duration
	// Clock, if set, is advanced by the cost of every step (for
	// wall-clock experiments on an hpo.ManualClock; leave it nil with
	// hpo.Experiment.Cost).
	Clock Advancer
	// Sleep, if set, is real time slept per step (for tests that kill a
	// process mid-run).
	Sleep time.Duration
	// FailRate is the fraction of configurations (chosen by hash) whose
	// Train returns an error; Diverge > 0 makes configurations with lr >
	// Diverge report a NaN accuracy.
	FailRate float64
	Diverge  float64
}

// Space is the search space of the synthetic problem.
func Space() hpo.Space {
	return hpo.Space{
		{Name: "lr", Domain: hpo.Float{Low: 1e-4, High: 1, Log: true}},
		{Name: "momentum", Domain: hpo.Float{Low: 0, High: 0.99}},
		{Name: "layers", Domain: hpo.Int{Low: 1, High: 8}},
		{Name: "optimizer", Domain: hpo.Choice{Values: []any{"sgd", "adam", "hgd"}}},
	}
}

// Optimum is the configuration with the highest asymptotic accuracy, 0.95.
func Optimum() hpo.Config {
	return hpo.Config{"lr": 0.01, "momentum": 0.9, "layers": 4, "optimizer": "hgd"}
}

// Asymptote is the accuracy cfg converges to, without noise.
func Asymptote(cfg hpo.Config) float64 {
	dl := math.Log10(cfg.Float("lr")) + 2
	dm := cfg.Float("momentum") - 0.9
	a := 0.95 - 0.08*dl*dl - 0.5*dm*dm - 0.01*math.Abs(float64(cfg.Int("layers")-4))
	switch cfg.String("optimizer") {
	case "sgd":
		a -= 0.05
	case "adam":
		a -= 0.02
	}
	return math.Max(a, 0.11)
}

// Tau is the number of steps cfg needs to cover 63% of the way to its
// asymptote; it shrinks as the learning rate grows.
func Tau(cfg hpo.Config) float64 {
	return 4 * math.Pow(10, -0.5*(math.Log10(cfg.Float("lr"))+2))
}

// Curve is the noise-free accuracy of cfg trained for step steps from
// scratch.
func Curve(cfg hpo.Config, step int) float64 {
	return 0.1 + (Asymptote(cfg)-0.1)*(1-math.Exp(-float64(step)/Tau(cfg)))
}

// stepCost is the simulated cost of one step of cfg.
func (p *Problem) stepCost(cfg hpo.Config) time.Duration {
	return time.Duration(float64(p.StepCost) * (0.5 + float64(cfg.Int("layers"))/8))
}

// Cost is the simulated compute time of training cfg from step from to
// step until: until − from steps of StepCost·(0.5 + layers/8) each, exactly
// what Train advances Clock by. It is an hpo.CostModel: set
// hpo.Experiment.Cost to p.Cost to run on compute time.
func (p *Problem) Cost(cfg hpo.Config, from, until int) time.Duration {
	if until <= from {
		return 0
	}
	return time.Duration(until-from) * p.stepCost(cfg)
}

// Factory returns an hpo.Factory of this problem's trainables.
func (p *Problem) Factory() hpo.Factory {
	return func(_ context.Context, _ hpo.TrialID, cfg hpo.Config) (hpo.Trainable, error) { return p.New(cfg) }
}

// New returns a trainable for cfg, at step 0.
func (p *Problem) New(cfg hpo.Config) (*Trainable, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	h := fnv.New64a()
	h.Write(b)
	t := &Trainable{p: p, cfg: cfg}
	t.setKey(h.Sum64())
	return t, nil
}

// Trainable is one synthetic model. It implements hpo.Trainable and
// hpo.Reconfigurer.
type Trainable struct {
	p        *Problem
	cfg      hpo.Config
	key      uint64
	tau      float64
	asym     float64
	Step     int
	Progress float64
	closed   bool
}

func (t *Trainable) setKey(k uint64) {
	t.key, t.tau, t.asym = k, Tau(t.cfg), Asymptote(t.cfg)
}

// ErrClosed is returned by a closed trainable.
var ErrClosed = errors.New("synthetic: trainable closed")

// ErrInjected is the error of configurations chosen to fail by FailRate.
var ErrInjected = errors.New("synthetic: injected failure")

// Accuracy is the current (noisy) accuracy.
func (t *Trainable) Accuracy() float64 {
	acc := 0.1 + (t.asym-0.1)*(1-math.Exp(-t.Progress))
	if t.p.Noise > 0 {
		acc += t.p.Noise * normal(t.p.Seed, t.key, uint64(t.Step))
	}
	return math.Min(math.Max(acc, 1e-6), 1)
}

// Train implements hpo.Trainable.
func (t *Trainable) Train(ctx context.Context, until int) (hpo.Result, error) {
	if t.closed {
		return hpo.Result{}, ErrClosed
	}
	if t.p.FailRate > 0 && hpo.Unit(t.p.Seed, t.key, 1) < t.p.FailRate {
		return hpo.Result{}, ErrInjected
	}
	cost := t.p.stepCost(t.cfg)
	for t.Step < until {
		if err := ctx.Err(); err != nil {
			return hpo.Result{}, err
		}
		t.Step++
		t.Progress += 1 / t.tau
		if t.p.Clock != nil && cost > 0 {
			t.p.Clock.Advance(cost)
		}
		if t.p.Sleep > 0 {
			time.Sleep(t.p.Sleep)
		}
	}
	acc := t.Accuracy()
	if t.p.Diverge > 0 && t.cfg.Float("lr") > t.p.Diverge {
		acc = math.NaN()
	}
	return hpo.Result{Budget: t.Step, Metrics: map[string]float64{"acc": acc, "loss": -math.Log(acc)}}, nil
}

type state struct {
	Step     int     `json:"step"`
	Progress float64 `json:"progress"`
}

// Save implements hpo.Trainable.
func (t *Trainable) Save(dir string) error {
	if t.closed {
		return ErrClosed
	}
	b, err := json.Marshal(state{t.Step, t.Progress})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "state.json"), b, 0o644)
}

// Restore implements hpo.Trainable.
func (t *Trainable) Restore(dir string) error {
	if t.closed {
		return ErrClosed
	}
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		return err
	}
	var s state
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("synthetic: restore: %w", err)
	}
	t.Step, t.Progress = s.Step, s.Progress
	return nil
}

// Reconfigure implements hpo.Reconfigurer.
func (t *Trainable) Reconfigure(cfg hpo.Config) error {
	n, err := t.p.New(cfg)
	if err != nil {
		return err
	}
	t.cfg = cfg
	t.setKey(n.key)
	return nil
}

// Close implements hpo.Trainable.
func (t *Trainable) Close() error {
	t.closed = true
	return nil
}

// normal is a standard normal variate from a hash (Box–Muller).
func normal(seed, key, step uint64) float64 {
	u1 := hpo.Unit(seed, key, step, 2)
	u2 := hpo.Unit(seed, key, step, 3)
	return math.Sqrt(-2*math.Log(1-u1)) * math.Cos(2*math.Pi*u2)
}
