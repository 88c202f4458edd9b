// Package killtest holds the kill -9 and resume check shared by the tests
// of the population-based algorithms (pbt, pb2, genetic): the experiment
// runs uninterrupted, then in a child process (the test binary itself)
// killed with SIGKILL at growing delays and rerun until it finishes, and the
// journals are compared.
package killtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
)

type resKey struct {
	trial  hpo.TrialID
	budget int
	seq    int // the n-th result of this trial at this budget (exploits may revisit a budget)
}

// JournalResults reads the results of a run's journal in dir, keyed by
// (trial, budget, occurrence), with the "acc" metric as value.
func JournalResults(t *testing.T, dir string) (map[resKey]float64, []hpo.Event) {
	t.Helper()
	events, _, err := hpo.ReadJournal(filepath.Join(dir, "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[resKey]float64{}
	for _, e := range events {
		if e.Kind != hpo.EvResult {
			continue
		}
		k := resKey{e.Trial, e.Budget, 0}
		for {
			if _, dup := out[k]; !dup {
				break
			}
			k.seq++
		}
		out[k] = e.Metrics["acc"]
	}
	return out, events
}

// KillAndResume runs exp uninterrupted, then in a child process — the test
// binary running the test named run, with the environment variable env set
// to the experiment folder and env_SLOTS to slots — killed with SIGKILL five
// times at growing delays and rerun until it finishes. It fails the test if
// a journaled result is lost or changed by a kill, if no resume is
// journaled, if the end differs, or (with one slot) if the final results
// differ from the uninterrupted run's.
func KillAndResume(t *testing.T, run, env string, slots int, exp func(string, int) hpo.Experiment) {
	ref := t.TempDir()
	if _, err := hpo.Run(context.Background(), exp(ref, slots)); err != nil {
		t.Fatal(err)
	}
	want, wantEvents := JournalResults(t, ref)
	dir := t.TempDir()
	kills := 0
	var seen map[resKey]float64
	for attempt := 0; ; attempt++ {
		cmd := exec.Command(os.Args[0], "-test.run="+run, "-test.count=1")
		cmd.Env = append(os.Environ(), env+"="+dir, env+"_SLOTS="+strconv.Itoa(slots))
		out, _ := os.CreateTemp(t.TempDir(), "out")
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
			case <-time.After(time.Duration(80+50*attempt) * time.Millisecond):
				cmd.Process.Kill()
				<-done
				kills++
				finished = false
			}
		} else {
			err = <-done
		}
		if finished {
			if err != nil {
				b, _ := os.ReadFile(out.Name())
				t.Fatalf("child: %v\n%s", err, b)
			}
			break
		}
		now, _ := JournalResults(t, dir)
		for k, v := range seen {
			if now[k] != v {
				t.Fatalf("result %+v lost or changed after kill %d", k, kills)
			}
		}
		seen = now
	}
	got, events := JournalResults(t, dir)
	resumes := 0
	for _, e := range events {
		if e.Kind == hpo.EvResume {
			resumes++
		}
	}
	t.Logf("%d kills, %d resumes, %d results (uninterrupted %d)", kills, resumes, len(got), len(want))
	if kills > 0 && resumes == 0 {
		t.Fatal("no resume recorded")
	}
	last, wantLast := events[len(events)-1], wantEvents[len(wantEvents)-1]
	if last.Kind != hpo.EvEnd || last.Reason != wantLast.Reason {
		t.Fatalf("last event %+v, want reason %q", last, wantLast.Reason)
	}
	if slots > 1 {
		return // timing-dependent; the end reason says every member completed
	}
	if len(got) != len(want) {
		t.Fatalf("%d results after kills, %d uninterrupted", len(got), len(want))
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Fatalf("result %+v: got %v (present %v), want %v", k, g, ok, v)
		}
	}
}
