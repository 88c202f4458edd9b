package trainer

import (
	"bytes"
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

// cancelOnStep is a trainer log that cancels a context when it receives
// the step event of one step.
type cancelOnStep struct {
	step   string // `"step":4,`, as the step event holds it
	cancel context.CancelFunc
}

func (w cancelOnStep) Write(b []byte) (int, error) {
	if bytes.Contains(b, []byte(`"event":"step"`)) && bytes.Contains(b, []byte(w.step)) {
		w.cancel()
	}
	return len(b), nil
}

// An interrupt that cancels a periodic evaluation ends the run at that
// step, and the run keeps the evaluation before it.
func TestRunInterruptedEvaluation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run, err := OpenRun(RunConfig{Steps: 10, EvalEvery: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	tr := newTrainer(t, backendtest.Go(t), toyData(t, 100, 10, 1),
		Config{Net: small1, BatchSize: 10, Log: cancelOnStep{step: `"step":4,`, cancel: cancel}})
	var last Progress
	s, err := run.Train(ctx, tr, RunHooks{Progress: func(p Progress) { last = p }})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Interrupted || s.Steps != 4 {
		t.Errorf("summary %+v, want interrupted at step 4", s)
	}
	if s.Eval == nil || s.Eval.Step != 2 || s.Eval.N == 0 {
		t.Errorf("summary evaluation %+v, want the evaluation of step 2", s.Eval)
	}
	if !last.Final || !last.Evaluated || last.Eval.N == 0 {
		t.Errorf("final progress %+v, want the evaluation of step 2", last)
	}
}
