package pgstore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/internal/hpotest"
	"github.com/hgdtune/hgdtune/hpo/pgstore"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
)

// timed is a Remote that records the round trip of each task: queued by
// the runner, taken and trained by a worker, its result back in the
// runner.
type timed struct {
	hpo.Remote
	mu    sync.Mutex
	trips []time.Duration
}

func (r *timed) Train(ctx context.Context, task hpo.Task) (hpo.Result, error) {
	t0 := time.Now()
	res, err := r.Remote.Train(ctx, task)
	r.mu.Lock()
	r.trips = append(r.trips, time.Since(t0))
	r.mu.Unlock()
	return res, err
}

// BenchmarkHandOut measures the hand-out of trials through PostgreSQL:
// b.N one-step trials of a synthetic trainable that trains at once (FIFO,
// random search), queued by one runner with as many slots as there are
// workers, and trained by 1, 4 or 16 workers (in this process, each with
// its own connections). It reports trials/s and the round trip of a task
// (queued → taken → trained → result back in the runner), median and p99.
func BenchmarkHandOut(b *testing.B) {
	url := testDB(b)
	for _, n := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			name := fmt.Sprintf("bench-%d-%d-%s", n, b.N, randomHex(4))
			p := &synthetic.Problem{Seed: 1}
			lookup := func(context.Context, string, []byte) (hpo.Experiment, error) {
				return hpo.Experiment{Space: synthetic.Space(), Metric: hpotest.Acc, Factory: p.Factory()}, nil
			}
			cctx, cancel := context.WithCancel(ctx)
			var wg sync.WaitGroup
			for range n {
				w := &pgstore.Worker{Lookup: lookup}
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := w.Run(cctx, url); err != nil {
						b.Error(err)
					}
				}()
			}
			defer func() { cancel(); wg.Wait() }()
			st, err := pgstore.Open(ctx, url, name, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			r := &timed{Remote: st.Remote()}
			e := hpo.Experiment{Space: synthetic.Space(), Metric: hpotest.Acc, Scheduler: &hpo.FIFO{MaxBudget: 1},
				Slots: n, MaxTrials: b.N, Seed: 1, Storage: st, Remote: r}
			b.ResetTimer()
			t0 := time.Now()
			rep, err := hpo.Run(ctx, e)
			elapsed := time.Since(t0)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if len(rep.Records) != b.N {
				b.Fatalf("%d results of %d trials", len(rep.Records), b.N)
			}
			slices.Sort(r.trips)
			q := func(f float64) float64 {
				return float64(r.trips[min(len(r.trips)-1, int(f*float64(len(r.trips))))].Microseconds()) / 1000
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "trials/s")
			b.ReportMetric(q(0.5), "ms-median")
			b.ReportMetric(q(0.99), "ms-p99")
		})
	}
}
