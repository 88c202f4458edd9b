package hpo_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/asha"
	"github.com/hgdtune/hgdtune/hpo/internal/hpotest"
	"github.com/hgdtune/hgdtune/hpo/internal/killtest"
	"github.com/hgdtune/hgdtune/hpo/pbt"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
)

// inProcess is a Remote whose "workers" are RunTask calls in the runner's
// process, with their own factory and the experiment's folder: what a
// worker on another machine does, without the database.
type inProcess struct {
	e     hpo.Experiment
	tasks atomic.Int64
}

func (p *inProcess) Train(ctx context.Context, task hpo.Task) (hpo.Result, error) {
	p.tasks.Add(1)
	return hpo.RunTask(ctx, p.e.Storage, p.e.Space, p.e.Factory, p.e.Metric.Name, task)
}

// TestRemoteSameAsLocal: an experiment whose trials run as Tasks (built
// afresh, restored from the checkpoint, trained, saved) gives the journal
// and the report of the same experiment trained by local workers that keep
// their trainables in memory — ASHA with promotions and PBT with exploits,
// on compute time.
func TestRemoteSameAsLocal(t *testing.T) {
	cases := []struct {
		name  string
		sched func() hpo.Scheduler
	}{
		{"asha", func() hpo.Scheduler { return hpotest.MustNew(t, asha.New, asha.Config{MaxBudget: 27}) }},
		{"pbt", func() hpo.Scheduler {
			return hpotest.MustNew(t, pbt.New, pbt.Config{Space: synthetic.Space(), PopulationSize: 6, Interval: 3, MaxBudget: 30, Seed: 7})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := func(remote bool) ([]hpo.Event, *hpo.Report, int64) {
				dir := t.TempDir()
				e := computeExp(c.sched(), 4, 0, 0, dir)
				e.TimeBudget = 150 * time.Second
				var p *inProcess
				if remote {
					p = &inProcess{e: e}
					e.Remote, e.Factory = p, nil
				}
				rep, err := hpo.Run(context.Background(), e)
				if err != nil {
					t.Fatal(err)
				}
				if p == nil {
					return journal(t, dir), rep, 0
				}
				return journal(t, dir), rep, p.tasks.Load()
			}
			want, wantRep, _ := run(false)
			got, rep, tasks := run(true)
			if tasks < 20 {
				t.Fatalf("only %d tasks ran remotely", tasks)
			}
			killtest.SameJournal(t, "remote", got, want)
			if !reflect.DeepEqual(rep, wantRep) {
				t.Fatal("the remote run's report differs from the local one's")
			}
		})
	}
}

// failing is a Remote whose Train returns err.
type failing struct{ err error }

func (f failing) Train(context.Context, hpo.Task) (hpo.Result, error) { return hpo.Result{}, f.err }

// A remote trial's own failure fails the trial alone; a storage failure
// stops the experiment.
func TestRemoteErrors(t *testing.T) {
	e, _ := hpotest.Synth(&hpo.FIFO{MaxBudget: 3, Step: 3}, 1, 1, 0, t.TempDir())
	e.MaxTrials, e.Factory = 2, nil
	e.Remote = failing{errors.New("worker: out of memory")}
	rep, err := hpo.Run(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range rep.Trials {
		if tr.Status != hpo.Failed || !strings.Contains(tr.Err, "out of memory") {
			t.Fatalf("trial %d: %v %q, want failed with the worker's error", tr.ID, tr.Status, tr.Err)
		}
	}
	e, _ = hpotest.Synth(&hpo.FIFO{MaxBudget: 3, Step: 3}, 1, 1, 0, t.TempDir())
	e.Factory = nil
	e.Remote = failing{hpo.ErrStorage}
	if _, err := hpo.Run(context.Background(), e); !errors.Is(err, hpo.ErrStorage) {
		t.Fatalf("err %v, want ErrStorage", err)
	}
	e.Storage = nil
	if _, err := hpo.Run(context.Background(), e); !errors.Is(err, hpo.ErrInvalid) {
		t.Fatalf("a Remote without storage: err %v, want ErrInvalid", err)
	}
}
