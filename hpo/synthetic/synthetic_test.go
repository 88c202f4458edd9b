package synthetic_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
)

func train(t *testing.T, tr hpo.Trainable, until int) float64 {
	t.Helper()
	r, err := tr.Train(context.Background(), until)
	if err != nil {
		t.Fatal(err)
	}
	if r.Budget != until {
		t.Fatalf("budget %d, want %d", r.Budget, until)
	}
	return r.Metrics["acc"]
}

func TestDeterministicAndCheckpointable(t *testing.T) {
	p := &synthetic.Problem{Seed: 4, Noise: 0.02}
	s := synthetic.Space()
	r := rand.New(rand.NewPCG(1, 1))
	for range 20 {
		cfg := s.Sample(r)
		a, _ := p.New(cfg)
		b, _ := p.New(cfg)
		direct := train(t, a, 10)
		// Split training with a save/restore into a fresh trainable.
		train(t, b, 4)
		dir := t.TempDir()
		if err := b.Save(dir); err != nil {
			t.Fatal(err)
		}
		b.Close()
		c, _ := p.New(cfg)
		if err := c.Restore(dir); err != nil {
			t.Fatal(err)
		}
		if got := train(t, c, 10); got != direct {
			t.Fatalf("split training %v != direct %v", got, direct)
		}
		other, _ := (&synthetic.Problem{Seed: 5, Noise: 0.02}).New(cfg)
		if train(t, other, 10) == direct {
			t.Fatal("seed has no effect")
		}
	}
}

func TestKnownOptimum(t *testing.T) {
	opt := synthetic.Optimum()
	if _, err := synthetic.Space().Normalize(opt); err != nil {
		t.Fatal(err)
	}
	if a := synthetic.Asymptote(opt); math.Abs(a-0.95) > 1e-12 {
		t.Fatalf("optimum asymptote %v", a)
	}
	r := rand.New(rand.NewPCG(2, 2))
	for range 2000 {
		c := synthetic.Space().Sample(r)
		if synthetic.Asymptote(c) > 0.95 {
			t.Fatalf("config %v beats the optimum", c)
		}
	}
	// Curves cross: a large learning rate leads early and loses late.
	fast := hpo.Config{"lr": 0.3, "momentum": 0.9, "layers": 4, "optimizer": "hgd"}
	if !(synthetic.Curve(fast, 1) > synthetic.Curve(opt, 1) && synthetic.Curve(fast, 81) < synthetic.Curve(opt, 81)) {
		t.Fatalf("curves do not cross: fast %v/%v, optimum %v/%v",
			synthetic.Curve(fast, 1), synthetic.Curve(fast, 81), synthetic.Curve(opt, 1), synthetic.Curve(opt, 81))
	}
	// Noise-free training follows Curve.
	tr, _ := (&synthetic.Problem{}).New(opt)
	if got := train(t, tr, 7); math.Abs(got-synthetic.Curve(opt, 7)) > 1e-12 {
		t.Fatalf("trained %v, curve %v", got, synthetic.Curve(opt, 7))
	}
}

func TestCostAndFailures(t *testing.T) {
	clock := hpo.NewManualClock(time.Unix(0, 0))
	p := &synthetic.Problem{StepCost: time.Second, Clock: clock}
	tr, _ := p.New(synthetic.Optimum()) // 4 layers: 1 s per step
	train(t, tr, 5)
	if got := clock.Now().Sub(time.Unix(0, 0)); got != 5*time.Second {
		t.Fatalf("clock advanced %v, want 5s", got)
	}
	// Cost is what Train advances the clock by.
	wide := synthetic.Optimum()
	wide["layers"] = 7
	w, _ := p.New(wide)
	before := clock.Now()
	train(t, w, 3)
	train(t, w, 8)
	if got, want := clock.Now().Sub(before), p.Cost(wide, 0, 3)+p.Cost(wide, 3, 8); got != want || want != 8*1375*time.Millisecond {
		t.Fatalf("clock advanced %v, Cost says %v, want 11s", got, want)
	}
	if c := p.Cost(wide, 8, 8); c != 0 {
		t.Fatalf("Cost of no step %v", c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tr.Train(ctx, 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Train: %v", err)
	}
	tr.Close()
	if _, err := tr.Train(context.Background(), 20); !errors.Is(err, synthetic.ErrClosed) {
		t.Fatalf("closed Train: %v", err)
	}
	div := &synthetic.Problem{Diverge: 0.1}
	c := synthetic.Optimum()
	c["lr"] = 0.5
	d, _ := div.New(c)
	if r, _ := d.Train(context.Background(), 1); !math.IsNaN(r.Metrics["acc"]) {
		t.Fatalf("diverging config reported %v", r.Metrics["acc"])
	}
	fail := &synthetic.Problem{FailRate: 1}
	f, _ := fail.New(synthetic.Optimum())
	if _, err := f.Train(context.Background(), 1); !errors.Is(err, synthetic.ErrInjected) {
		t.Fatalf("FailRate 1: %v", err)
	}
}
