package pgstore_test

import (
	"context"
	"errors"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/asha"
	"github.com/hgdtune/hgdtune/hpo/internal/hpotest"
	"github.com/hgdtune/hgdtune/hpo/internal/killtest"
	"github.com/hgdtune/hgdtune/hpo/pbt"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
)

// cancelling wraps a trainable whose Train cancels the run's context once
// the experiment has trained `after` times.
type cancelling struct {
	hpo.Trainable
	n      *atomic.Int32
	after  int32
	cancel context.CancelFunc
}

func (c cancelling) Train(ctx context.Context, until int) (hpo.Result, error) {
	if c.n.Add(1) == c.after {
		c.cancel()
	}
	return c.Trainable.Train(ctx, until)
}

// scenario is an experiment on compute time (so that its results do not
// depend on real timing: two slots, two workers) on the synthetic problem.
type scenario struct {
	name      string
	scheduler func(t *testing.T) hpo.Scheduler
	maxTrials int
	cancelAt  int32 // Train calls before the first run is cancelled
	copies    bool  // exploits copy checkpoints
}

func (sc scenario) experiment(t *testing.T, cancel context.CancelFunc) hpo.Experiment {
	p := &synthetic.Problem{Seed: 3, Noise: 0.01, StepCost: time.Second}
	e := hpo.Experiment{Space: synthetic.Space(), Metric: hpotest.Acc, Factory: p.Factory(), Scheduler: sc.scheduler(t),
		Slots: 2, MaxTrials: sc.maxTrials, Seed: 3, Cost: p.Cost}
	if cancel != nil {
		n := new(atomic.Int32)
		e.Factory = func(ctx context.Context, id hpo.TrialID, cfg hpo.Config) (hpo.Trainable, error) {
			tr, err := p.New(cfg)
			if err != nil {
				return nil, err
			}
			return cancelling{tr, n, sc.cancelAt, cancel}, nil
		}
	}
	return e
}

var scenarios = []scenario{
	// Paused trials resume from checkpoints (LoadCheckpoint), old ones are
	// removed.
	{"asha-promotion", func(t *testing.T) hpo.Scheduler {
		return hpotest.MustNew(t, asha.New, asha.Config{MaxBudget: 9, Mode: asha.Promotion})
	}, 12, 9, false},
	// Exploits copy checkpoints (CopyCheckpoint).
	{"pbt", func(t *testing.T) hpo.Scheduler {
		return hpotest.MustNew(t, pbt.New, pbt.Config{Space: synthetic.Space(), PopulationSize: 4, Interval: 3, MaxBudget: 12, Seed: 7})
	}, 0, 7, true},
}

// sameReport fails unless got and want hold the same trials, records,
// curve, time and end.
func sameReport(t *testing.T, what string, got, want *hpo.Report) {
	t.Helper()
	if got.Reason != want.Reason || got.Elapsed != want.Elapsed {
		t.Fatalf("%s: reason %q elapsed %v, want %q %v", what, got.Reason, got.Elapsed, want.Reason, want.Elapsed)
	}
	if !reflect.DeepEqual(got.Curve, want.Curve) {
		t.Fatalf("%s: curve %v\nwant %v", what, got.Curve, want.Curve)
	}
	if !reflect.DeepEqual(got.Records, want.Records) {
		t.Fatalf("%s: records %+v\nwant %+v", what, got.Records, want.Records)
	}
	if !reflect.DeepEqual(got.Trials, want.Trials) {
		t.Fatalf("%s: trials %+v\nwant %+v", what, got.Trials, want.Trials)
	}
}

// checkpointKeys returns the keys of experiment name's checkpoints.
func checkpointKeys(t *testing.T, url, name string) map[string]bool {
	t.Helper()
	conn := connect(t, url)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT c.key FROM hgdtune_checkpoints c JOIN hgdtune_experiments e ON c.experiment = e.id WHERE e.name = $1`, name)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, k := range keys {
		out[k] = true
	}
	return out
}

// Run on a database gives what it gives on a folder, journal included;
// LoadReportFrom reads it back; a run cancelled midway resumes, from
// another connection, to the same end.
func TestRunOnPostgres(t *testing.T) {
	url := testDB(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			ref, refJournal := runOnFolder(t, sc.experiment(t, nil))
			if len(ref.Records) < 10 {
				t.Fatalf("only %d records: too small an experiment", len(ref.Records))
			}

			settings := `{"scenario": "` + sc.name + `"}`
			st := open(t, url, sc.name, settings)
			e := sc.experiment(t, nil)
			e.Storage = st
			rep, err := hpo.Run(ctx, e)
			if err != nil {
				t.Fatalf("run on PostgreSQL: %v", err)
			}
			sameReport(t, "PostgreSQL against a folder", rep, ref)
			events, err := st.ReadJournal(ctx)
			if err != nil {
				t.Fatal(err)
			}
			killtest.SameJournal(t, "PostgreSQL's journal against the folder's", events, refJournal)
			copies := 0
			for _, ev := range events {
				if ev.Kind == hpo.EvCheckpoint {
					copies++
				}
			}
			if sc.copies != (copies > 0) {
				t.Fatalf("%d checkpoint copies in the journal", copies)
			}
			// Only each trial's latest checkpoint is kept.
			want := map[string]bool{}
			for _, tr := range rep.Trials {
				if tr.Checkpoint != "" {
					want[tr.Checkpoint] = true
				}
			}
			if got := checkpointKeys(t, url, sc.name); !reflect.DeepEqual(got, want) {
				t.Fatalf("checkpoints kept %v, want the trials' latest %v", got, want)
			}
			loaded, err := hpo.LoadReportSpaceFrom(ctx, open(t, url, sc.name, settings), e.Space)
			if err != nil {
				t.Fatal(err)
			}
			sameReport(t, "LoadReportFrom against Run", loaded, rep)

			// Cancelled midway, then resumed by another connection (as
			// another process would).
			name := sc.name + "-resumed"
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			e = sc.experiment(t, cancel)
			e.Storage = open(t, url, name, settings)
			part, err := hpo.Run(cctx, e)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled run: %v, want context.Canceled", err)
			}
			if len(part.Records) == 0 || len(part.Records) >= len(ref.Records) {
				t.Fatalf("cancelled run has %d records of %d: not midway", len(part.Records), len(ref.Records))
			}
			st2 := open(t, url, name, settings)
			e = sc.experiment(t, nil)
			e.Storage = st2
			rep, err = hpo.Run(ctx, e)
			if err != nil {
				t.Fatalf("resumed run: %v", err)
			}
			sameReport(t, "resumed on PostgreSQL against uninterrupted on a folder", rep, ref)
			events, err = st2.ReadJournal(ctx)
			if err != nil {
				t.Fatal(err)
			}
			killtest.SameJournal(t, "resumed journal", events, refJournal)
		})
	}
}
