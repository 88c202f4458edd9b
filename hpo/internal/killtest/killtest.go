// Package killtest holds the kill -9 and resume check shared by the tests
// of the hpo runner and its algorithms: the experiment runs uninterrupted,
// then in a child process (the test binary itself) killed with SIGKILL at
// growing delays and rerun until it finishes, and the journals are
// compared.
//
// A package using it has two tests:
//
//	func TestKillChild(t *testing.T) { killtest.Child(t, experiment) }
//	func TestKillAndResume(t *testing.T) { killtest.KillAndResume(t, 1, experiment, killtest.Options{}) }
package killtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
)

// Environment of the child process.
const (
	envDir   = "HPO_KILLTEST_DIR"
	envSlots = "HPO_KILLTEST_SLOTS"
)

// Experiment builds the experiment under test in dir with the given slots.
type Experiment func(dir string, slots int) hpo.Experiment

// Options refine the checks.
type Options struct {
	// UniqueResults: a (trial, budget) pair is reported at most once (true
	// for schedulers without exploits, which may revisit a budget).
	UniqueResults bool
	// Trials, when > 0, is the number of trials that must have reported.
	Trials int
	// Deterministic: the run is deterministic with any number of slots (an
	// experiment on compute time, hpo.Experiment.Cost), so the journal
	// after the kills, apart from wall-clock times, sequence numbers and
	// resume notes, must equal the uninterrupted run's.
	Deterministic bool
	// Child is the name of the test that calls Child; "" means
	// TestKillChild.
	Child string
}

// Child is the body of the package's TestKillChild: it runs the experiment
// in the folder given by its parent, and skips when not started by
// KillAndResume.
func Child(t *testing.T, exp Experiment) {
	dir := os.Getenv(envDir)
	if dir == "" {
		t.Skip("only run as the child of TestKillAndResume")
	}
	slots, _ := strconv.Atoi(os.Getenv(envSlots))
	if _, err := hpo.Run(context.Background(), exp(dir, slots)); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
}

type resKey struct {
	trial  hpo.TrialID
	budget int
	seq    int // the n-th result of this trial at this budget (exploits may revisit a budget)
}

// journalResults reads the results of a run's journal in dir, keyed by
// (trial, budget, occurrence), with the "acc" metric as value.
func journalResults(t *testing.T, dir string, unique bool) (map[resKey]float64, []hpo.Event) {
	t.Helper()
	events, _, err := hpo.ReadJournal(filepath.Join(dir, "journal.jsonl"))
	if errors.Is(err, fs.ErrNotExist) {
		return map[resKey]float64{}, nil // killed before it created the journal
	}
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
			if unique {
				t.Fatalf("duplicate result: trial %d, budget %d", e.Trial, e.Budget)
			}
			k.seq++
		}
		out[k] = e.Metrics["acc"]
	}
	return out, events
}

// KillAndResume runs exp uninterrupted, then in a child process — the test
// binary running TestKillChild, which must call Child — killed with SIGKILL
// five times and rerun until it finishes. It fails the test if a journaled
// result is lost or changed by a kill, if experiment time goes back, if the
// journal a kill left behind was not resumed, if the end differs, or (with
// one slot, where the run is deterministic) if the final results differ
// from the uninterrupted run's.
//
// The kills are placed by the journal's progress, not by the clock, so that
// they land at the same points of the experiment on an idle or a busy
// machine: the first at once (before the child can have created its
// journal), the others when the journal has reached 20%, 40%, 60% and 80%
// of the uninterrupted run's length (or grown by one line, if it already
// had). A child that finishes first is simply not killed.
func KillAndResume(t *testing.T, slots int, exp Experiment, o Options) {
	t.Helper()
	ref := t.TempDir()
	if _, err := hpo.Run(context.Background(), exp(ref, slots)); err != nil {
		t.Fatal(err)
	}
	want, wantEvents := journalResults(t, ref, o.UniqueResults)
	dir := t.TempDir()
	journal := filepath.Join(dir, "journal.jsonl")
	const killRuns = 5
	kills := 0
	var seen map[resKey]float64
	var before []hpo.Event // the journal as the last kill left it
	for attempt := 0; ; attempt++ {
		child := o.Child
		if child == "" {
			child = "TestKillChild"
		}
		cmd := exec.Command(os.Args[0], "-test.run=^"+child+"$", "-test.count=1")
		cmd.Env = append(os.Environ(), envDir+"="+dir, envSlots+"="+strconv.Itoa(slots))
		out, err := os.CreateTemp(t.TempDir(), "out")
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = out, out
		startLines := journalLines(journal)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		finished := true
		if attempt < killRuns {
			target := max(attempt*len(wantEvents)/killRuns, startLines+1)
			if attempt == 0 {
				target = 0 // kill at once
			}
			err, finished = waitOrKill(cmd, done, journal, target)
			if !finished {
				kills++
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
		// Nothing recorded before a kill may be lost afterwards.
		now, evs := journalResults(t, dir, o.UniqueResults)
		for k, v := range seen {
			if now[k] != v {
				t.Fatalf("result %+v lost or changed after kill %d", k, kills)
			}
		}
		seen, before = now, evs
	}
	got, events := journalResults(t, dir, o.UniqueResults)
	resumes := 0
	var last int64
	for _, e := range events {
		if e.Elapsed < last {
			t.Fatalf("experiment time went back at seq %d: %d < %d", e.Seq, e.Elapsed, last)
		}
		last = e.Elapsed
		if e.Kind == hpo.EvResume {
			resumes++
		}
	}
	t.Logf("%d kills, %d resumes, %d results (uninterrupted %d); the last kill left %d journal lines",
		kills, resumes, len(got), len(want), len(before))
	// The final run found the journal the last kill left behind: if that
	// journal had anything to replay and was not over, the final run's first
	// line must be its resume. (Earlier reruns may have been killed before
	// they could journal theirs, and no run resumes without a kill first.)
	if resumable(before) {
		if len(events) <= len(before) || events[len(before)].Kind != hpo.EvResume {
			t.Fatalf("the last kill left a started journal of %d lines, but the final run did not journal a resume after it", len(before))
		}
	}
	if resumes > kills {
		t.Fatalf("%d resumes after %d kills", resumes, kills)
	}
	lastEv, wantLast := events[len(events)-1], wantEvents[len(wantEvents)-1]
	if lastEv.Kind != hpo.EvEnd || lastEv.Reason != wantLast.Reason {
		t.Fatalf("last event %+v, want reason %q", lastEv, wantLast.Reason)
	}
	if o.Trials > 0 {
		trials := map[hpo.TrialID]bool{}
		for k := range got {
			trials[k.trial] = true
		}
		if len(trials) != o.Trials {
			t.Fatalf("%d trials reported, want %d", len(trials), o.Trials)
		}
	}
	if o.Deterministic {
		a, b := Comparable(wantEvents), Comparable(events)
		if len(a) != len(b) {
			t.Fatalf("%d journal events after kills, %d uninterrupted", len(b), len(a))
		}
		for i := range a {
			if !reflect.DeepEqual(a[i], b[i]) {
				t.Fatalf("journal event %d after kills %+v, uninterrupted %+v", i, b[i], a[i])
			}
		}
	}
	if slots > 1 && !o.Deterministic {
		return // timing-dependent beyond the invariants above
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

// Comparable returns the events without resume notes, wall-clock times and
// sequence numbers: what two runs of a deterministic experiment share.
func Comparable(events []hpo.Event) []hpo.Event {
	var out []hpo.Event
	for _, e := range events {
		if e.Kind == hpo.EvResume {
			continue
		}
		e.Time, e.Seq, e.Sum = time.Time{}, 0, "" // the sums chain the times
		out = append(out, e)
	}
	return out
}

// SameJournal fails t unless got and want hold the same events once made
// Comparable (what says which journals are compared).
func SameJournal(t testing.TB, what string, got, want []hpo.Event) {
	t.Helper()
	got, want = Comparable(got), Comparable(want)
	if len(got) != len(want) {
		t.Fatalf("%s: %d journal events, want %d", what, len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("%s: journal event %d is %+v\nwant %+v", what, i, got[i], want[i])
		}
	}
}

// waitOrKill waits for the child to end, or kills it (SIGKILL) as soon as
// its journal holds at least target complete lines. It reports the child's
// exit error and whether it finished by itself.
func waitOrKill(cmd *exec.Cmd, done <-chan error, journal string, target int) (error, bool) {
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		if journalLines(journal) >= target {
			select {
			case err := <-done: // it finished first
				return err, true
			default:
			}
			cmd.Process.Kill()
			<-done
			return nil, false
		}
		select {
		case err := <-done:
			return err, true
		case <-tick.C:
		}
	}
}

// journalLines counts the complete lines of a journal (0 when it does not
// exist yet).
func journalLines(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte{'\n'})
}

// resumable tells whether a rerun on this journal replays something and
// then goes on, which the runner marks with a resume line: the journal holds
// an event besides its header and resume notes, and has not ended.
func resumable(events []hpo.Event) bool {
	replay := false
	for _, e := range events {
		if e.Kind != hpo.EvExperiment && e.Kind != hpo.EvResume {
			replay = true
		}
	}
	return replay && events[len(events)-1].Kind != hpo.EvEnd
}

// KillAndResumeSlots runs KillAndResume with one slot, where the results
// must equal an uninterrupted run's, and with three, as the subtests
// "slots=1" and "slots=3"; it is skipped in short mode (it starts
// subprocesses).
func KillAndResumeSlots(t *testing.T, exp Experiment, o Options) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	for _, slots := range []int{1, 3} {
		t.Run(fmt.Sprintf("slots=%d", slots), func(t *testing.T) {
			KillAndResume(t, slots, exp, o)
		})
	}
}
