package trainer

import (
	"context"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/backend/backendtest"
)

// The zero RunConfig trains one epoch; an injected clock drives -time.
func TestRunBudgets(t *testing.T) {
	be := backendtest.Go(t)
	data := toyData(t, 100, 10, 1)
	run, err := OpenRun(RunConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	tr := newTrainer(t, be, data, Config{Net: small1, BatchSize: 10})
	var final int
	s, err := run.Train(context.Background(), tr, RunHooks{Progress: func(p Progress) {
		if p.Final {
			final++
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Steps != tr.StepsPerEpoch() || s.Eval == nil || s.Eval.Step != s.Steps || final != 1 {
		t.Errorf("zero RunConfig: %+v (final progress reports %d), want one epoch of %d steps, evaluated", s, final, tr.StepsPerEpoch())
	}

	clock := time.Unix(0, 0)
	tick := func() time.Time { clock = clock.Add(time.Second); return clock }
	run2, err := OpenRun(RunConfig{Time: 10 * time.Second, Now: tick})
	if err != nil {
		t.Fatal(err)
	}
	defer run2.Close()
	tr2 := newTrainer(t, be, data, Config{Net: small1, BatchSize: 10})
	s, err = run2.Train(context.Background(), tr2, RunHooks{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Steps == 0 || s.Steps >= 10 || s.TrainSeconds < 10 {
		t.Errorf("a 10 s budget on a clock that ticks 1 s a read: %+v", s)
	}
}
