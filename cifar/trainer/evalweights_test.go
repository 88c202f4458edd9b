package trainer

import (
	"context"
	"testing"

	"github.com/hgdtune/hgdtune/backend/backendtest"
	"github.com/hgdtune/hgdtune/hgd"
)

// The evaluation graph is compiled once, at the first Evaluate; every later
// evaluation must see the weights as they are then. Reference: a fresh
// trainer restored from a checkpoint taken at that moment, whose
// evaluation graph is compiled after the restore. (GoMLX's pure-Go backend
// prefers variables as graph constants outside training mode; a graph
// that took that offer kept the weights of its first call: chance accuracy
// while the training loss fell.)
func TestEvaluationSeesCurrentWeights(t *testing.T) {
	be := backendtest.Go(t)
	data := toyData(t, 200, 10, 1)
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"hgd", Config{Net: small1, BatchSize: 8, Seed: 3}},
		{"momentum", Config{Net: small1, BatchSize: 8, Seed: 3,
			Optimizer: opt(hgd.Momentum, func(c *hgd.Config) { c.Alpha0, c.Gamma0 = 0.05, 0.9 })}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			tr := newTrainer(t, be, data, tc.cfg)
			var first Eval
			for round := range 3 {
				// Steps first: a graph compiled before the variables
				// have values reads them as parameters anyway.
				for range 10 {
					if _, err := tr.Step(); err != nil {
						t.Fatal(err)
					}
				}
				got, err := tr.Evaluate(ctx)
				if err != nil {
					t.Fatal(err)
				}
				dir := t.TempDir()
				if err := tr.Save(dir); err != nil {
					t.Fatal(err)
				}
				fresh := newTrainer(t, be, data, tc.cfg)
				if err := fresh.Restore(dir); err != nil {
					t.Fatal(err)
				}
				want, err := fresh.Evaluate(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("after %d steps: evaluation %+v, a freshly compiled one %+v", tr.Steps(), got, want)
				}
				if round == 0 {
					first = got
				} else if want.Loss == first.Loss {
					t.Errorf("after %d steps the validation loss is still %v: the test cannot tell stale weights", tr.Steps(), want.Loss)
				}
			}
		})
	}
}
