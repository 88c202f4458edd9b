package pgstore_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/internal/hpotest"
	"github.com/hgdtune/hgdtune/hpo/pgstore"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
)

// blocking is a trainable whose Train waits for its context (a worker
// stopped with Ctrl-C), after saying it started.
type blocking struct {
	hpo.Trainable
	started chan<- struct{}
}

func (b blocking) Train(ctx context.Context, until int) (hpo.Result, error) {
	b.started <- struct{}{}
	<-ctx.Done()
	return hpo.Result{}, ctx.Err()
}

// A worker stopped while it trains (Ctrl-C) gives its task back at once,
// not after its lease: another worker takes it (its second take) and
// trains it to the end.
func TestWorkerStopGivesTaskBack(t *testing.T) {
	url := testDB(t)
	st := open(t, url, "give-back", `{"scenario": "any"}`)
	release, err := st.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	p := &synthetic.Problem{Seed: 3, StepCost: time.Second}
	lookup := func(block chan<- struct{}) func(context.Context, string, []byte) (hpo.Experiment, error) {
		return func(context.Context, string, []byte) (hpo.Experiment, error) {
			e := hpo.Experiment{Space: synthetic.Space(), Metric: hpotest.Acc, Factory: p.Factory()}
			if block != nil {
				e.Factory = func(_ context.Context, _ hpo.TrialID, cfg hpo.Config) (hpo.Trainable, error) {
					tr, err := p.New(cfg)
					return blocking{tr, block}, err
				}
			}
			return e, nil
		}
	}
	res := make(chan error, 1)
	go func() {
		_, err := st.Remote().Train(ctx, hpo.Task{Trial: 0, Config: []byte(`{"layers": 2, "lr": 0.1, "momentum": 0.9, "optimizer": "hgd"}`), Until: 2})
		res <- err
	}()
	// The first worker's lease would keep the task for an hour.
	started := make(chan struct{}, 1)
	wctx, stop := context.WithCancel(ctx)
	first := &pgstore.Worker{Lookup: lookup(started), LeaseTTL: time.Hour, Poll: 50 * time.Millisecond}
	stopped := make(chan error, 1)
	go func() { stopped <- first.Run(wctx, url) }()
	select {
	case <-started:
	case err := <-stopped:
		t.Fatalf("the worker ended before training: %v", err)
	}
	stop()
	if err := <-stopped; err != nil {
		t.Fatalf("the stopped worker: %v", err)
	}
	if held := count(t, url, "hgdtune_tasks WHERE done IS NULL AND worker IS NOT NULL"); held != 0 {
		t.Fatalf("%d tasks still held by the stopped worker", held)
	}
	var log syncBuffer
	startWorkers(t, url, 1, func(w *pgstore.Worker) { w.Lookup, w.LeaseTTL, w.Log = lookup(nil), time.Hour, &log })
	if err := <-res; err != nil {
		t.Fatalf("Train: %v", err)
	}
	if !strings.Contains(log.String(), "take 2)") {
		t.Errorf("the second worker's log does not show its second take:\n%s", log.String())
	}
}

// syncBuffer is a bytes.Buffer that a worker's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
