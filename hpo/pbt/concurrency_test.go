package pbt_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/internal/hpotest"
	"github.com/hgdtune/hgdtune/hpo/internal/killtest"
	"github.com/hgdtune/hgdtune/hpo/pbt"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
)

// checked wraps a synthetic trainable: Restore fails if the checkpoint
// directory is missing or incomplete, and Train sleeps so that donors are
// busy training and saving while others copy their checkpoints.
type checked struct {
	*synthetic.Trainable
	restores *atomic.Int64
}

var errMissing = errors.New("checkpoint missing")

func (c checked) Restore(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "state.json")); err != nil {
		return fmt.Errorf("%w: %v", errMissing, err)
	}
	c.restores.Add(1)
	return c.Trainable.Restore(dir)
}

// TestExploitsNeverSeeDeletedCheckpoints runs PBT with 8 slots (run it with
// -race) over 16 members that exploit one another often while the donors
// keep training, and checks that every exploit copied an existing
// checkpoint (the runner fails the run if a copy fails, and a restore of a
// missing checkpoint fails the trial), that the copies were restored, and
// that each trial's latest checkpoint exists at the end.
func TestExploitsNeverSeeDeletedCheckpoints(t *testing.T) {
	dir := t.TempDir()
	s := mustNew(t, pbt.Config{Space: synthetic.Space(), PopulationSize: 16, Interval: 1, MaxBudget: 24,
		Quantile: 0.5, Seed: 3})
	p := &synthetic.Problem{Seed: 8, Noise: 0.02, Sleep: 200 * time.Microsecond}
	var restores atomic.Int64
	rep, err := hpo.Run(context.Background(), hpo.Experiment{
		Space: synthetic.Space(), Metric: hpotest.Acc, Scheduler: s, Slots: 8, Seed: 1, Storage: hpotest.At(dir),
		Factory: func(_ context.Context, _ hpo.TrialID, cfg hpo.Config) (hpo.Trainable, error) {
			st, err := p.New(cfg)
			if err != nil {
				return nil, err
			}
			return checked{st, &restores}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range rep.Trials {
		if tr.Status != hpo.Completed {
			t.Fatalf("trial %d %v: %s", tr.ID, tr.Status, tr.Err)
		}
		if _, err := os.Stat(filepath.Join(dir, "checkpoints", tr.Checkpoint, "state.json")); err != nil {
			t.Fatalf("trial %d: latest checkpoint %s: %v", tr.ID, tr.Checkpoint, err)
		}
	}
	n := countExploits(t, dir)
	if n < 20 {
		t.Fatalf("only %d exploits", n)
	}
	if restores.Load() == 0 {
		t.Fatal("no checkpoint restored")
	}
	t.Logf("%d exploits, %d restores", n, restores.Load())
}

var killExperiment = hpotest.PopulationKillExperiment(pbt.New)

// TestKillChild is the child process of TestKillAndResume.
func TestKillChild(t *testing.T) { killtest.Child(t, killExperiment) }

// TestKillAndResume kills a PBT experiment with SIGKILL at arbitrary
// moments and reruns it until it finishes: with one slot the journal's
// results equal an uninterrupted run's; with several, every member
// completes and no result is lost or duplicated.
func TestKillAndResume(t *testing.T) {
	killtest.KillAndResumeSlots(t, killExperiment, killtest.Options{})
}

// killComputeExperiment is killExperiment on compute time (the synthetic
// problem's cost model, a simulated second per step of a 4-layer model),
// trained by one real worker fewer than its virtual slots when it has
// several.
func killComputeExperiment(dir string, slots int) hpo.Experiment {
	e := killExperiment(dir, slots)
	e.Cost = (&synthetic.Problem{StepCost: time.Second}).Cost
	e.Workers = max(1, slots-1)
	return e
}

// TestKillChildCompute is the child process of TestKillAndResumeCompute.
func TestKillChildCompute(t *testing.T) { killtest.Child(t, killComputeExperiment) }

// TestKillAndResumeCompute is TestKillAndResume on compute time: exploits
// (checkpoint copies) included, the journal after kills and resumes equals
// an uninterrupted run's with any number of slots.
func TestKillAndResumeCompute(t *testing.T) {
	killtest.KillAndResumeSlots(t, killComputeExperiment, killtest.Options{Deterministic: true, Child: "TestKillChildCompute"})
}
