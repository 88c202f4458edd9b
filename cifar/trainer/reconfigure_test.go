package trainer

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/hgdtune/hgdtune/backend/backendtest"
	"github.com/hgdtune/hgdtune/hgd"
	"github.com/hgdtune/hgdtune/hpo"
)

// The exploit policy is the trainer's: restoring another trial's checkpoint
// (its seed differs) keeps the donor's adapted α and γ or resets them to
// this trainer's Alpha0 and Gamma0; restoring its own checkpoint never
// resets them (a resume).
func TestExploitPolicy(t *testing.T) {
	be := backendtest.Go(t)
	data := toyData(t, 200, 10, 1)
	donor := newTrainer(t, be, data, Config{Net: small1, BatchSize: 8, Seed: 1, Optimizer: opt(hgd.HGD, func(c *hgd.Config) { c.Alpha0, c.Gamma0 = 0.05, 0.5 })})
	if _, err := donor.Train(context.Background(), 30); err != nil {
		t.Fatal(err)
	}
	if donor.Alpha() == float64(float32(0.05)) {
		t.Fatal("HGD did not adapt α in 30 steps; the test needs it to")
	}
	dir := t.TempDir()
	if err := donor.Save(dir); err != nil {
		t.Fatal(err)
	}
	target := func(seed uint64, p ExploitPolicy) *Trainer {
		return newTrainer(t, be, data, Config{Net: small1, BatchSize: 8, Seed: seed, OnExploit: p,
			Optimizer: opt(hgd.HGD, func(c *hgd.Config) { c.Alpha0, c.Gamma0 = 0.02, 0.8 })})
	}
	for _, c := range []struct {
		name       string
		seed       uint64
		policy     ExploitPolicy
		wantA      float64
		wantGammaA bool // γ as the donor's
	}{
		{"another trial, keep", 9, KeepAdapted, donor.Alpha(), true},
		{"another trial, reset", 9, ResetAdapted, float64(float32(0.02)), false},
		{"own checkpoint, reset policy", 1, ResetAdapted, donor.Alpha(), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := target(c.seed, c.policy)
			if err := tr.Restore(dir); err != nil {
				t.Fatal(err)
			}
			if tr.Alpha() != c.wantA {
				t.Errorf("α = %v, want %v", tr.Alpha(), c.wantA)
			}
			wantG := float64(float32(0.8))
			if c.wantGammaA {
				wantG = donor.Gamma()
			}
			if tr.Gamma() != wantG {
				t.Errorf("γ = %v, want %v", tr.Gamma(), wantG)
			}
		})
	}
}

// Reconfigure followed by Restore (an exploit that keeps the trainer)
// gives exactly the state and the next losses of a new trainer built with
// the new configuration and restored from the same checkpoint (an exploit
// that rebuilds): for SGD+momentum with a new α, γ and batch size.
func TestReconfigureEqualsRebuild(t *testing.T) {
	be := backendtest.Go(t)
	data := toyData(t, 200, 10, 2)
	sgd := func(a, g float64, batch int) Config {
		return Config{Net: small1, BatchSize: batch, Seed: 4, Optimizer: opt(hgd.Momentum, func(c *hgd.Config) { c.Alpha0, c.Gamma0 = a, g })}
	}
	donor := newTrainer(t, be, data, Config{Net: small1, BatchSize: 8, Seed: 3, Optimizer: opt(hgd.Momentum, func(c *hgd.Config) { c.Alpha0, c.Gamma0 = 0.03, 0.7 })})
	if _, err := donor.Train(context.Background(), 25); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := donor.Save(dir); err != nil {
		t.Fatal(err)
	}
	// The kept trainer has trained under its old configuration first.
	kept := newTrainer(t, be, data, sgd(0.01, 0.9, 8))
	if _, err := kept.Train(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	next := sgd(0.05, 0.8, 16)
	if err := kept.Reconfigure(next); err != nil {
		t.Fatal(err)
	}
	if err := kept.Restore(dir); err != nil {
		t.Fatal(err)
	}
	fresh := newTrainer(t, be, data, next)
	if err := fresh.Restore(dir); err != nil {
		t.Fatal(err)
	}
	if kept.Steps() != fresh.Steps() || kept.Alpha() != fresh.Alpha() || kept.Gamma() != fresh.Gamma() {
		t.Fatalf("kept: %d steps, α %v, γ %v; fresh: %d steps, α %v, γ %v",
			kept.Steps(), kept.Alpha(), kept.Gamma(), fresh.Steps(), fresh.Alpha(), fresh.Gamma())
	}
	if kept.Alpha() != float64(float32(0.05)) || kept.Gamma() != float64(float32(0.8)) {
		t.Fatalf("α %v, γ %v: not the new configuration's", kept.Alpha(), kept.Gamma())
	}
	for range 5 {
		a, err := kept.Step()
		if err != nil {
			t.Fatal(err)
		}
		b, err := fresh.Step()
		if err != nil {
			t.Fatal(err)
		}
		if a != b {
			t.Fatalf("losses differ after the exploit: %v (reconfigured) vs %v (rebuilt)", a, b)
		}
	}
	sk, sf := snapshot(t, kept), snapshot(t, fresh)
	for path, w := range sf {
		if !bytes.Equal(w, sk[path]) {
			t.Errorf("variable %s differs", path)
		}
	}
}

// What cannot change in place is refused with hpo.ErrRebuild, and nothing
// changes.
func TestReconfigureNeedsRebuild(t *testing.T) {
	be := backendtest.Go(t)
	base := Config{Net: small1, BatchSize: 8, Seed: 1, Optimizer: hgd.Defaults(hgd.HGD)}
	tr := newTrainer(t, be, toyData(t, 200, 10, 1), base)
	wider := small1
	wider.FC[0]++
	other := base
	other.Net = wider
	kind := base
	kind.Optimizer = hgd.Defaults(hgd.Momentum)
	seed := base
	seed.Seed = 2
	before := tr.Config()
	for name, c := range map[string]Config{"network": other, "kind": kind, "seed": seed} {
		if err := tr.Reconfigure(c); !errors.Is(err, hpo.ErrRebuild) {
			t.Errorf("%s: %v, want hpo.ErrRebuild", name, err)
		}
	}
	if tr.Config() != before {
		t.Errorf("a refused Reconfigure changed the configuration: %+v", tr.Config())
	}
}
