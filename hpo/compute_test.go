package hpo_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/asha"
	"github.com/hgdtune/hgdtune/hpo/internal/hpotest"
	"github.com/hgdtune/hgdtune/hpo/internal/killtest"
	"github.com/hgdtune/hgdtune/hpo/pbt"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
)

// jittery is a synthetic trainable that sleeps a random real duration (up
// to max) before every Train, so that real completion orders vary from run
// to run.
type jittery struct {
	*synthetic.Trainable
	max time.Duration
}

func (j jittery) Train(ctx context.Context, until int) (hpo.Result, error) {
	if j.max > 0 {
		time.Sleep(rand.N(j.max))
	}
	return j.Trainable.Train(ctx, until)
}

// computeExp is an experiment under s on compute time: the synthetic
// problem (seed 3, noise 0.01, a simulated second per step of a 4-layer
// model) on slots virtual slots trained by workers real workers, each
// Train first sleeping up to jitter of real time.
func computeExp(s hpo.Scheduler, slots, workers int, jitter time.Duration, dir string) hpo.Experiment {
	p := &synthetic.Problem{Seed: 3, Noise: 0.01, StepCost: time.Second}
	return hpo.Experiment{
		Space: synthetic.Space(), Metric: hpotest.Acc, Scheduler: s, Slots: slots, Workers: workers,
		Seed: 3, Storage: hpotest.At(dir), Cost: p.Cost,
		Factory: func(_ context.Context, _ hpo.TrialID, cfg hpo.Config) (hpo.Trainable, error) {
			t, err := p.New(cfg)
			if err != nil {
				return nil, err
			}
			return jittery{t, jitter}, nil
		},
	}
}

// journal reads the journal of dir without its wall-clock times, sequence
// numbers and resume notes (killtest.Comparable).
func journal(t *testing.T, dir string) []hpo.Event {
	t.Helper()
	events, _, err := hpo.ReadJournal(filepath.Join(dir, "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return killtest.Comparable(events)
}

// TestComputeTimeIgnoresRealTiming runs ASHA (cut by a time budget) and PBT
// (more members than slots, with exploits) on 4 virtual slots, trained by
// 4, 2 and 1 real workers with random real delays, and requires journals
// (apart from wall-clock times) and reports identical to an undelayed run
// on 4 workers: on compute time the results do not depend on real timing.
func TestComputeTimeIgnoresRealTiming(t *testing.T) {
	cases := []struct {
		name   string
		sched  func() hpo.Scheduler
		budget time.Duration
		reason string
	}{
		{"asha", func() hpo.Scheduler { return hpotest.MustNew(t, asha.New, asha.Config{MaxBudget: 27}) }, 150 * time.Second, "time budget"},
		{"pbt", func() hpo.Scheduler {
			return hpotest.MustNew(t, pbt.New, pbt.Config{Space: synthetic.Space(), PopulationSize: 6, Interval: 3, MaxBudget: 30, Seed: 7})
		}, 0, "population done"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := func(workers int, jitter time.Duration) ([]hpo.Event, *hpo.Report) {
				dir := t.TempDir()
				e := computeExp(c.sched(), 4, workers, jitter, dir)
				e.TimeBudget = c.budget
				rep, err := hpo.Run(context.Background(), e)
				if err != nil {
					t.Fatal(err)
				}
				if rep.Reason != c.reason {
					t.Fatalf("reason %q, want %q", rep.Reason, c.reason)
				}
				return journal(t, dir), rep
			}
			want, wantRep := run(4, 0)
			results := 0
			for _, e := range want {
				if e.Kind == hpo.EvResult {
					results++
				}
			}
			if results < 20 {
				t.Fatalf("only %d results", results)
			}
			for _, v := range []struct {
				workers int
				jitter  time.Duration
			}{{4, 2 * time.Millisecond}, {2, 2 * time.Millisecond}, {1, time.Millisecond}, {4, 2 * time.Millisecond}} {
				got, rep := run(v.workers, v.jitter)
				killtest.SameJournal(t, fmt.Sprintf("workers %d", v.workers), got, want)
				if !reflect.DeepEqual(rep, wantRep) {
					t.Fatalf("workers %d: report differs", v.workers)
				}
			}
		})
	}
}

// TestComputeTimeSchedule checks the virtual schedule itself: FIFO on 2
// slots starts a trial whenever a slot frees, results come in the order of
// their virtual end times (not of real completion: the trainables sleep
// random real durations) at exactly those times, and the curve and the
// report are on virtual time.
func TestComputeTimeSchedule(t *testing.T) {
	const trials, budget = 7, 5
	p := &synthetic.Problem{StepCost: time.Second}
	e := computeExp(&hpo.FIFO{MaxBudget: budget}, 2, 0, 3*time.Millisecond, "")
	e.MaxTrials = trials
	rep, err := hpo.Run(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Reason != "trial budget" || len(rep.Records) != trials {
		t.Fatalf("reason %q, %d records", rep.Reason, len(rep.Records))
	}
	// Simulate: trial i starts on the slot that frees first.
	type end struct {
		at time.Duration
		id hpo.TrialID
	}
	free := []time.Duration{0, 0}
	var ends []end
	for i := range trials {
		sort.Slice(free, func(a, b int) bool { return free[a] < free[b] })
		at := free[0] + p.Cost(rep.Trials[i].Config, 0, budget)
		free[0] = at
		ends = append(ends, end{at, hpo.TrialID(i)})
	}
	sort.Slice(ends, func(a, b int) bool {
		return ends[a].at < ends[b].at || ends[a].at == ends[b].at && ends[a].id < ends[b].id
	})
	for i, rec := range rep.Records {
		if rec.Trial != ends[i].id || rec.Elapsed != ends[i].at {
			t.Fatalf("record %d: trial %d at %v, want trial %d at %v", i, rec.Trial, rec.Elapsed, ends[i].id, ends[i].at)
		}
	}
	if rep.Elapsed != ends[trials-1].at {
		t.Fatalf("report elapsed %v, want %v", rep.Elapsed, ends[trials-1].at)
	}
	for _, pt := range rep.Curve {
		if _, ok := rep.BestAt(pt.Elapsed); !ok || pt.Elapsed > rep.Elapsed {
			t.Fatalf("curve point %+v", pt)
		}
	}
}

// TestComputeTimeBudget: the time budget ends the experiment at exactly
// the budget; the jobs that would end after it report nothing (their
// trials are paused at their last journaled result, whose checkpoint is
// the only one left), and LoadReport agrees with Run.
func TestComputeTimeBudget(t *testing.T) {
	dir := t.TempDir()
	const budget = 300 * time.Second
	e := computeExp(hpotest.MustNew(t, asha.New, asha.Config{MaxBudget: 27}), 3, 0, time.Millisecond, dir)
	e.TimeBudget = budget
	rep, err := hpo.Run(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Reason != "time budget" || rep.Elapsed != budget {
		t.Fatalf("reason %q at %v", rep.Reason, rep.Elapsed)
	}
	ev := journal(t, dir)
	n := len(ev)
	if ev[n-2].Kind != hpo.EvTimeout || ev[n-2].Elapsed != int64(budget) || ev[n-1].Kind != hpo.EvEnd {
		t.Fatalf("journal ends with %+v, %+v", ev[n-2], ev[n-1])
	}
	interrupted := 0
	for _, tr := range rep.Trials {
		if last, _ := tr.Last(); last.Elapsed > budget {
			t.Fatalf("trial %d reported at %v, after the budget", tr.ID, last.Elapsed)
		}
		if tr.Status == hpo.Paused && tr.Until > tr.Budget {
			interrupted++
		}
		if tr.Checkpoint == "" {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(dir, "checkpoints", filepath.Dir(tr.Checkpoint)))
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Name() != filepath.Base(tr.Checkpoint) {
			t.Fatalf("trial %d: checkpoints %v, want only %s", tr.ID, entries, tr.Checkpoint)
		}
	}
	if interrupted == 0 {
		t.Fatal("no job was interrupted by the budget")
	}
	loaded, err := hpo.LoadReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded.Records) != len(rep.Records) || !reflect.DeepEqual(loaded.Curve, rep.Curve) || loaded.Elapsed != rep.Elapsed {
		t.Fatal("LoadReport differs from Run's report")
	}
	for i, rec := range rep.Records { // (LoadReport's configurations are JSON's)
		l := loaded.Records[i]
		if !reflect.DeepEqual(l.Result, rec.Result) || l.Status != rec.Status || l.Err != rec.Err {
			t.Fatalf("record %d: LoadReport %+v, Run %+v", i, l, rec)
		}
	}
}

// TestComputeTimeResume interrupts a compute-time PBT run twice (its
// context is cancelled after some results), resumes it with another number
// of real workers, and requires the journal of an uninterrupted run; a wall-clock
// experiment refuses the journal.
func TestComputeTimeResume(t *testing.T) {
	exp := func(dir string, workers int) hpo.Experiment {
		s := hpotest.MustNew(t, pbt.New, pbt.Config{Space: synthetic.Space(), PopulationSize: 6, Interval: 3, MaxBudget: 30, Seed: 7})
		return computeExp(s, 3, workers, time.Millisecond, dir)
	}
	ref := t.TempDir()
	if _, err := hpo.Run(context.Background(), exp(ref, 0)); err != nil {
		t.Fatal(err)
	}
	want := journal(t, ref)
	dir := t.TempDir()
	for i, cut := range []int{12, 20} {
		// One worker: counting's hook runs on the worker goroutine.
		e := exp(dir, 1)
		ctx, cancel := context.WithCancel(context.Background())
		factory, n := e.Factory, 0
		e.Factory = func(c context.Context, id hpo.TrialID, cfg hpo.Config) (hpo.Trainable, error) {
			tr, err := factory(c, id, cfg)
			if err != nil {
				return nil, err
			}
			return counting{tr, func() {
				if n++; n == cut {
					cancel()
				}
			}}, nil
		}
		if _, err := hpo.Run(ctx, e); !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted run %d: %v", i, err)
		}
		cancel()
	}
	if _, err := hpo.Run(context.Background(), exp(dir, 2)); err != nil {
		t.Fatal(err)
	}
	killtest.SameJournal(t, "resumed", journal(t, dir), want)
	events, _, _ := hpo.ReadJournal(filepath.Join(dir, "journal.jsonl"))
	resumes := 0
	for _, e := range events {
		if e.Kind == hpo.EvResume {
			resumes++
		}
	}
	if resumes != 2 {
		t.Fatalf("%d resumes, want 2", resumes)
	}
	wall := exp(dir, 0)
	wall.Cost, wall.Workers = nil, 0
	if _, err := hpo.Run(context.Background(), wall); !errors.Is(err, hpo.ErrJournal) {
		t.Fatalf("wall-clock run on a compute-time journal: %v", err)
	}
}

// counting calls hook after every Train.
type counting struct {
	hpo.Trainable
	hook func()
}

func (c counting) Train(ctx context.Context, until int) (hpo.Result, error) {
	r, err := c.Trainable.Train(ctx, until)
	c.hook()
	return r, err
}

func (c counting) Reconfigure(cfg hpo.Config) error {
	if rc, ok := c.Trainable.(hpo.Reconfigurer); ok {
		return rc.Reconfigure(cfg)
	}
	return hpo.ErrRebuild
}

func (j jittery) Reconfigure(cfg hpo.Config) error { return j.Trainable.Reconfigure(cfg) }

// killComputeExperiment is killExperiment on compute time (a simulated
// second per step of a 4-layer model), its virtual slots trained by one
// real worker fewer when there are several, cut by a time budget.
func killComputeExperiment(dir string, slots int) hpo.Experiment {
	e := killExperiment(dir, slots)
	p := &synthetic.Problem{Seed: 5, Noise: 0.01, StepCost: time.Second}
	e.Cost = p.Cost
	e.Workers = max(1, slots-1)
	e.TimeBudget = 45 * time.Second
	return e
}

// TestKillChildCompute is the child process of TestKillAndResumeCompute.
func TestKillChildCompute(t *testing.T) { killtest.Child(t, killComputeExperiment) }

// TestKillAndResumeCompute is TestKillAndResume on compute time (cut by a
// time budget), where even with 3 slots the journal after kills and
// resumes must equal the uninterrupted run's.
func TestKillAndResumeCompute(t *testing.T) {
	killtest.KillAndResumeSlots(t, killComputeExperiment, killtest.Options{UniqueResults: true, Deterministic: true, Child: "TestKillChildCompute"})
}

// TestComputeTimeValidate: Workers is in [0, Slots], and differs from
// Slots only on compute time.
func TestComputeTimeValidate(t *testing.T) {
	for _, c := range []struct {
		workers int
		cost    bool
		ok      bool
	}{{0, false, true}, {3, false, true}, {1, false, false}, {0, true, true}, {1, true, true}, {3, true, true}, {4, true, false}, {-1, true, false}} {
		e := computeExp(&hpo.FIFO{MaxBudget: 3}, 3, c.workers, 0, "")
		if !c.cost {
			e.Cost = nil
		}
		if err := e.Validate(); (err == nil) != c.ok || err != nil && !errors.Is(err, hpo.ErrInvalid) {
			t.Errorf("workers %d, cost %v: %v", c.workers, c.cost, err)
		}
	}
}
