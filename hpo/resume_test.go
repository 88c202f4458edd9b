package hpo_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/asha"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
)

const (
	envKillDir   = "HPO_KILL_TEST_DIR"
	envKillSlots = "HPO_KILL_TEST_SLOTS"
)

// killExperiment is the experiment the kill test runs in a child process:
// ASHA (promotion: trials pause and resume from checkpoints) on the
// synthetic problem with a real clock and a real sleep per step.
func killExperiment(dir string, slots int) hpo.Experiment {
	s, err := asha.New(asha.Config{MaxBudget: 27})
	if err != nil {
		panic(err)
	}
	p := &synthetic.Problem{Seed: 5, Noise: 0.01, Sleep: 3 * time.Millisecond}
	return hpo.Experiment{
		Space: synthetic.Space(), Metric: acc, Factory: p.Factory(), Scheduler: s,
		Slots: slots, MaxTrials: 30, Seed: 2, Dir: dir,
	}
}

// TestKillChild is the child process of TestKillAndResume; it does nothing
// unless started by it.
func TestKillChild(t *testing.T) {
	dir := os.Getenv(envKillDir)
	if dir == "" {
		t.Skip("only run as the child of TestKillAndResume")
	}
	slots, _ := strconv.Atoi(os.Getenv(envKillSlots))
	if _, err := hpo.Run(context.Background(), killExperiment(dir, slots)); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
}

type key struct {
	trial  hpo.TrialID
	budget int
}

func journalResults(t *testing.T, dir string) (map[key]float64, []hpo.Event) {
	t.Helper()
	events, _, err := hpo.ReadJournal(filepath.Join(dir, "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[key]float64{}
	for _, e := range events {
		if e.Kind != hpo.EvResult {
			continue
		}
		k := key{e.Trial, e.Budget}
		if _, dup := out[k]; dup {
			t.Fatalf("duplicate result trial %d budget %d", e.Trial, e.Budget)
		}
		out[k] = e.Metrics["acc"]
	}
	return out, events
}

// TestKillAndResume kills an experiment with SIGKILL several times at
// arbitrary moments, reruns the same command until it finishes, and
// compares with an uninterrupted run.
func TestKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	for _, slots := range []int{1, 3} {
		t.Run(fmt.Sprintf("slots=%d", slots), func(t *testing.T) {
			ref := t.TempDir()
			if _, err := hpo.Run(context.Background(), killExperiment(ref, slots)); err != nil {
				t.Fatal(err)
			}
			want, _ := journalResults(t, ref)

			dir := t.TempDir()
			kills := 0
			var seen map[key]float64
			for attempt := 0; ; attempt++ {
				cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
				cmd.Env = append(os.Environ(), envKillDir+"="+dir, envKillSlots+"="+strconv.Itoa(slots))
				out := &limitedBuffer{}
				cmd.Stdout, cmd.Stderr = out, out
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				done := make(chan error, 1)
				go func() { done <- cmd.Wait() }()
				var err error
				finished := true
				if attempt < 5 {
					select {
					case err = <-done:
					case <-time.After(time.Duration(60+40*attempt) * time.Millisecond):
						cmd.Process.Kill() // SIGKILL
						<-done
						kills++
						finished = false
					}
				} else {
					err = <-done
				}
				if finished {
					if err != nil {
						t.Fatalf("child: %v\n%s", err, out.String())
					}
					break
				}
				// Nothing recorded before a kill may be lost afterwards.
				now, _ := journalResults(t, dir)
				for k, v := range seen {
					if now[k] != v {
						t.Fatalf("result %+v lost or changed after kill %d", k, kills)
					}
				}
				seen = now
			}
			got, events := journalResults(t, dir)
			t.Logf("%d kills, %d results, %d journal lines", kills, len(got), len(events))
			if kills == 0 {
				t.Log("the child finished before any kill")
			}
			var last int64
			resumes := 0
			for _, e := range events {
				if e.Elapsed < last {
					t.Fatalf("experiment time went back at seq %d: %d < %d", e.Seq, e.Elapsed, last)
				}
				last = e.Elapsed
				if e.Kind == hpo.EvResume {
					resumes++
				}
			}
			if kills > 0 && resumes == 0 {
				t.Fatal("no resume recorded")
			}
			if e := events[len(events)-1]; e.Kind != hpo.EvEnd || e.Reason != "trial budget" {
				t.Fatalf("last event %+v", e)
			}
			if slots > 1 {
				// Concurrent runs depend on timing; check the invariants only.
				trials := map[hpo.TrialID]bool{}
				for k := range got {
					trials[k.trial] = true
				}
				if len(trials) != 30 {
					t.Fatalf("%d trials reported, want 30", len(trials))
				}
				return
			}
			if len(got) != len(want) {
				t.Fatalf("%d results after kills, %d uninterrupted", len(got), len(want))
			}
			for k, v := range want {
				if g, ok := got[k]; !ok || g != v {
					t.Fatalf("result %+v: got %v (present %v), want %v", k, g, ok, v)
				}
			}
		})
	}
}

type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if len(l.b) < 1<<16 {
		l.b = append(l.b, p...)
	}
	return len(p), nil
}
func (l *limitedBuffer) String() string { return string(l.b) }
