package hpo_test

import (
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/asha"
	"github.com/hgdtune/hgdtune/hpo/internal/hpotest"
	"github.com/hgdtune/hgdtune/hpo/internal/killtest"
)

// killExperiment is the experiment the kill test runs in a child process:
// ASHA (promotion: trials pause and resume from checkpoints) on the
// synthetic problem with a real clock and a real sleep per step.
func killExperiment(dir string, slots int) hpo.Experiment {
	s, err := asha.New(asha.Config{MaxBudget: 27})
	if err != nil {
		panic(err)
	}
	e := hpotest.KillExperiment(s, nil, 3*time.Millisecond, dir, slots)
	e.MaxTrials = 30
	return e
}

// TestKillChild is the child process of TestKillAndResume; it does nothing
// unless started by it.
func TestKillChild(t *testing.T) { killtest.Child(t, killExperiment) }

// TestKillAndResume kills an experiment with SIGKILL several times at
// arbitrary moments, reruns the same command until it finishes, and
// compares with an uninterrupted run: no completed result is lost or
// duplicated, all 30 trials report, and with one slot the results are
// exactly those of the uninterrupted run.
func TestKillAndResume(t *testing.T) {
	killtest.KillAndResumeSlots(t, killExperiment, killtest.Options{UniqueResults: true, Trials: 30})
}
