package hpo_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/asha"
	"github.com/hgdtune/hgdtune/hpo/hyperband"
	"github.com/hgdtune/hgdtune/hpo/internal/hpotest"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
)

var acc = hpotest.Acc

// synth returns an experiment on the synthetic problem with a manual clock
// advanced by the simulated training cost.
func synth(sched hpo.Scheduler, slots, trials int, dir string) (hpo.Experiment, *synthetic.Problem) {
	clock := hpo.NewManualClock(time.Unix(0, 0))
	p := &synthetic.Problem{Seed: 3, Noise: 0.01, StepCost: time.Second, Clock: clock}
	return hpo.Experiment{
		Space: synthetic.Space(), Metric: acc, Factory: p.Factory(), Scheduler: sched,
		Slots: slots, MaxTrials: trials, Seed: 11, Clock: clock, Storage: hpotest.At(dir),
	}, p
}

func mustASHA(t testing.TB, c asha.Config) *asha.Scheduler {
	t.Helper()
	return hpotest.MustNew(t, asha.New, c)
}

func TestValidationBeforeAnything(t *testing.T) {
	var built atomic.Int32
	factory := func(context.Context, hpo.TrialID, hpo.Config) (hpo.Trainable, error) {
		built.Add(1)
		return nil, errors.New("never")
	}
	good := func() hpo.Experiment {
		return hpo.Experiment{Space: synthetic.Space(), Metric: acc, Factory: factory,
			Scheduler: &hpo.FIFO{MaxBudget: 3}, Slots: 2, MaxTrials: 4}
	}
	tests := []struct {
		name string
		edit func(*hpo.Experiment)
	}{
		{"zero slots", func(e *hpo.Experiment) { e.Slots = 0 }},
		{"negative slots", func(e *hpo.Experiment) { e.Slots = -1 }},
		{"empty space", func(e *hpo.Experiment) { e.Space = nil }},
		{"bad domain", func(e *hpo.Experiment) { e.Space = hpo.Space{{"a", hpo.Float{Low: 1, High: 0}}} }},
		{"no metric", func(e *hpo.Experiment) { e.Metric = hpo.Metric{} }},
		{"no factory", func(e *hpo.Experiment) { e.Factory = nil }},
		{"no scheduler", func(e *hpo.Experiment) { e.Scheduler = nil }},
		{"negative trials", func(e *hpo.Experiment) { e.MaxTrials = -1 }},
		{"negative time", func(e *hpo.Experiment) { e.TimeBudget = -time.Second }},
		{"fifo budget 0", func(e *hpo.Experiment) { e.Scheduler = &hpo.FIFO{} }},
		{"bad searcher", func(e *hpo.Experiment) { e.Searcher = &hpo.Random{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := good()
			tt.edit(&e)
			dir := filepath.Join(t.TempDir(), "exp")
			e.Storage = hpo.DirStorage(dir)
			if _, err := hpo.Run(context.Background(), e); !errors.Is(err, hpo.ErrInvalid) {
				t.Fatalf("Run = %v, want ErrInvalid", err)
			}
			if built.Load() != 0 {
				t.Fatal("a trial was built")
			}
			if _, err := os.Stat(dir); err == nil {
				t.Fatal("experiment dir created before validation")
			}
		})
	}
	// Scheduler configs are validated by their constructors too.
	for _, c := range []asha.Config{
		{MaxBudget: 9, Eta: 1}, {MaxBudget: 9, MinBudget: 10}, {MaxBudget: 0}, {MaxBudget: 9, Brackets: 9},
	} {
		if _, err := asha.New(c); !errors.Is(err, hpo.ErrInvalid) {
			t.Errorf("asha.New(%+v) = %v, want ErrInvalid", c, err)
		}
	}
	for _, c := range []hyperband.Config{{MaxBudget: 0}, {MaxBudget: 27, Eta: 1}, {MaxBudget: 27, Eta: -3}} {
		if _, err := hyperband.New(c); !errors.Is(err, hpo.ErrInvalid) {
			t.Errorf("hyperband.New(%+v) = %v, want ErrInvalid", c, err)
		}
	}
}

func TestFailuresDoNotStopTheExperiment(t *testing.T) {
	e, p := synth(&hpo.FIFO{MaxBudget: 4, Step: 2}, 3, 40, "")
	p.FailRate = 0.2
	p.Diverge = 0.3
	rep, err := hpo.Run(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	var failed, completed int
	for _, tr := range rep.Trials {
		switch tr.Status {
		case hpo.Failed:
			failed++
			if tr.Err == "" {
				t.Errorf("trial %d failed without an error", tr.ID)
			}
		case hpo.Completed:
			completed++
		default:
			t.Errorf("trial %d ended %v", tr.ID, tr.Status)
		}
	}
	if failed == 0 || completed == 0 || failed+completed != 40 {
		t.Fatalf("failed %d, completed %d", failed, completed)
	}
	var failRows int
	for _, r := range rep.Records {
		if r.Status == hpo.Failed {
			failRows++
		}
	}
	if failRows != failed {
		t.Fatalf("%d failure records for %d failed trials", failRows, failed)
	}
}

func TestPanickingTrainableFails(t *testing.T) {
	e, _ := synth(&hpo.FIFO{MaxBudget: 2}, 2, 3, "")
	e.Factory = func(context.Context, hpo.TrialID, hpo.Config) (hpo.Trainable, error) { return panicky{}, nil }
	rep, err := hpo.Run(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range rep.Trials {
		if tr.Status != hpo.Failed {
			t.Fatalf("trial %d: %v", tr.ID, tr.Status)
		}
	}
}

type panicky struct{}

func (panicky) Train(context.Context, int) (hpo.Result, error) { panic("boom") }
func (panicky) Save(string) error                              { return nil }
func (panicky) Restore(string) error                           { return nil }
func (panicky) Close() error                                   { return nil }

func TestTimeBudget(t *testing.T) {
	dir := t.TempDir()
	e, _ := synth(mustASHA(t, asha.Config{MaxBudget: 27, Mode: asha.Stopping}), 4, 0, dir)
	e.TimeBudget = 500 * time.Second
	rep, err := hpo.Run(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Reason != "time budget" || rep.Elapsed < e.TimeBudget {
		t.Fatalf("reason %q elapsed %v", rep.Reason, rep.Elapsed)
	}
	n := len(rep.Records)
	// Running again (with a fresh scheduler, as a new process would) replays
	// the finished journal and runs nothing more.
	e.Scheduler = mustASHA(t, asha.Config{MaxBudget: 27, Mode: asha.Stopping})
	rep2, err := hpo.Run(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep2.Records) != n || rep2.Reason != "time budget" {
		t.Fatalf("rerun: %d records (%q), want %d", len(rep2.Records), rep2.Reason, n)
	}
}

// blocking is a trainable whose Train waits for the context.
type blocking struct{ started chan struct{} }

func (b blocking) Train(ctx context.Context, _ int) (hpo.Result, error) {
	b.started <- struct{}{}
	<-ctx.Done()
	return hpo.Result{}, ctx.Err()
}
func (blocking) Save(string) error    { return nil }
func (blocking) Restore(string) error { return nil }
func (blocking) Close() error         { return nil }

func TestCancelStopsCleanlyAndResumes(t *testing.T) {
	dir := t.TempDir()
	started := make(chan struct{}, 16)
	e, p := synth(mustASHA(t, asha.Config{MaxBudget: 9}), 2, 30, dir)
	good := e.Factory
	var calls atomic.Int32
	e.Factory = func(ctx context.Context, id hpo.TrialID, c hpo.Config) (hpo.Trainable, error) {
		if calls.Add(1) > 12 {
			return blocking{started}, nil
		}
		return good(ctx, id, c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	rep, err := hpo.Run(ctx, e)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if rep == nil || rep.Reason != "" || len(rep.Records) == 0 {
		t.Fatalf("partial report %+v", rep)
	}
	for _, r := range rep.Records {
		if r.Status == hpo.Failed {
			t.Fatalf("cancellation marked trial %d failed", r.Trial)
		}
	}
	e.Factory = good
	e.Scheduler = mustASHA(t, asha.Config{MaxBudget: 9})
	_ = p
	rep2, err := hpo.Run(context.Background(), e)
	if err != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "journal.jsonl"))
		t.Log(string(b))
		t.Fatal(err)
	}
	if rep2.Reason != "trial budget" || len(rep2.Trials) != 30 {
		t.Fatalf("resumed: reason %q, %d trials", rep2.Reason, len(rep2.Trials))
	}
	checkNoDuplicates(t, rep2)
	for i := range rep.Records {
		a, b := rep.Records[i], rep2.Records[i]
		if a.Trial != b.Trial || a.Budget != b.Budget || a.Metrics["acc"] != b.Metrics["acc"] {
			t.Fatalf("record %d changed after resume: %+v vs %+v", i, a, b)
		}
	}
}

func checkNoDuplicates(t *testing.T, rep *hpo.Report) {
	t.Helper()
	seen := map[[2]int]bool{}
	for _, r := range rep.Records {
		k := [2]int{int(r.Trial), r.Budget}
		if r.Status != hpo.Failed && seen[k] {
			t.Fatalf("duplicate result trial %d budget %d", r.Trial, r.Budget)
		}
		seen[k] = true
	}
}

// journalLines returns the journal's lines without the wall-clock time
// (and the checksums, which cover it).
func journalLines(t *testing.T, dir string) []string {
	t.Helper()
	events, _, err := hpo.ReadJournal(filepath.Join(dir, "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(events))
	for i, e := range events {
		e.Time, e.Sum = time.Time{}, "" // the sums chain the times
		b, _ := json.Marshal(e)
		out[i] = string(b)
	}
	return out
}

func TestDeterministicJournal(t *testing.T) {
	scheds := map[string]func() hpo.Scheduler{
		"asha-promotion": func() hpo.Scheduler { return mustASHA(t, asha.Config{MaxBudget: 27}) },
		"asha-stopping":  func() hpo.Scheduler { return mustASHA(t, asha.Config{MaxBudget: 27, Mode: asha.Stopping}) },
		"async-hyperband": func() hpo.Scheduler {
			s, err := asha.NewAsyncHyperband(asha.Config{MaxBudget: 27, Seed: 5})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"hyperband": func() hpo.Scheduler {
			s, err := hyperband.New(hyperband.Config{MaxBudget: 27})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"fifo": func() hpo.Scheduler { return &hpo.FIFO{MaxBudget: 9, Step: 3} },
	}
	for name, mk := range scheds {
		t.Run(name, func(t *testing.T) {
			var runs [2][]string
			for i := range runs {
				dir := t.TempDir()
				e, _ := synth(mk(), 1, 60, dir)
				if _, err := hpo.Run(context.Background(), e); err != nil {
					t.Fatal(err)
				}
				runs[i] = journalLines(t, dir)
			}
			if len(runs[0]) < 10 || len(runs[0]) != len(runs[1]) {
				t.Fatalf("journals have %d and %d lines", len(runs[0]), len(runs[1]))
			}
			for i := range runs[0] {
				if runs[0][i] != runs[1][i] {
					t.Fatalf("line %d differs:\n%s\n%s", i, runs[0][i], runs[1][i])
				}
			}
		})
	}
}

func TestManyTrialsManySlots(t *testing.T) {
	s, err := asha.NewAsyncHyperband(asha.Config{MaxBudget: 27, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := synth(s, 8, 1000, t.TempDir())
	start := time.Now()
	rep, err := hpo.Run(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Trials) != 1000 || rep.Reason != "trial budget" {
		t.Fatalf("%d trials, reason %q", len(rep.Trials), rep.Reason)
	}
	checkNoDuplicates(t, rep)
	for i := 1; i < len(rep.Curve); i++ {
		if rep.Curve[i].Best <= rep.Curve[i-1].Best || rep.Curve[i].Elapsed < rep.Curve[i-1].Elapsed {
			t.Fatalf("curve not improving: %+v then %+v", rep.Curve[i-1], rep.Curve[i])
		}
	}
	if _, ok := rep.BestAt(rep.Curve[0].Elapsed - 1); ok {
		t.Fatal("BestAt before the first result")
	}
	for _, p := range rep.Curve {
		if got, _ := rep.BestAt(p.Elapsed); got.Best < p.Best {
			t.Fatalf("BestAt(%v) = %v < %v", p.Elapsed, got.Best, p.Best)
		}
	}
	if got, _ := rep.BestAt(rep.Elapsed); got != rep.Curve[len(rep.Curve)-1] {
		t.Fatalf("BestAt(end) = %+v", got)
	}
	best, _ := rep.Best()
	t.Logf("1000 trials on 8 slots: %d results, best %.4f, %v", len(rep.Records), best.Metrics["acc"], time.Since(start))
}

func TestCSV(t *testing.T) {
	e, p := synth(&hpo.FIFO{MaxBudget: 6, Step: 3}, 2, 10, "")
	p.FailRate = 0.2
	rep, err := hpo.Run(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"trial", "group", "budget", "elapsed_s", "acc", "loss", "status", "error", "lr", "momentum", "layers", "optimizer"}
	if fmt.Sprint(rows[0]) != fmt.Sprint(want) {
		t.Fatalf("header %v, want %v", rows[0], want)
	}
	if len(rows) != len(rep.Records)+1 {
		t.Fatalf("%d rows for %d records", len(rows)-1, len(rep.Records))
	}
	for i, row := range rows[1:] {
		rec := rep.Records[i]
		if row[6] != rec.Status.String() {
			t.Fatalf("row %d status %q, want %v", i, row[6], rec.Status)
		}
		if rec.Status == hpo.Failed {
			continue
		}
		a, err := strconv.ParseFloat(row[4], 64)
		if err != nil || a != rec.Metrics["acc"] {
			t.Fatalf("row %d acc %q, want %v", i, row[4], rec.Metrics["acc"])
		}
		if _, err := strconv.Atoi(row[10]); err != nil {
			t.Fatalf("layers %q not an int", row[10])
		}
	}
}

func TestTornJournalLine(t *testing.T) {
	dir := t.TempDir()
	e, _ := synth(mustASHA(t, asha.Config{MaxBudget: 9}), 1, 12, dir)
	// Truncating the journal of a finished run is like a crash only if no
	// checkpoint it names was deleted since.
	e.KeepCheckpoints = true
	ref, err := hpo.Run(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "journal.jsonl")
	data, _ := os.ReadFile(path)
	// Keep the first half of the lines and half of the next one.
	var cut int
	sc := bufio.NewScanner(bytes.NewReader(data))
	lines := 0
	for sc.Scan() {
		lines++
	}
	for i, n := 0, 0; i < len(data); i++ {
		if data[i] == '\n' {
			n++
			if n == lines/2 {
				cut = i + 1
				break
			}
		}
	}
	torn := append(data[:cut:cut], data[cut:cut+25]...)
	if err := os.WriteFile(path, torn, 0o644); err != nil {
		t.Fatal(err)
	}
	e2, _ := synth(mustASHA(t, asha.Config{MaxBudget: 9}), 1, 12, dir)
	e2.KeepCheckpoints = true
	rep, err := hpo.Run(context.Background(), e2)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Records) != len(ref.Records) {
		t.Fatalf("%d records after torn resume, want %d", len(rep.Records), len(ref.Records))
	}
	for i := range rep.Records {
		if rep.Records[i].Trial != ref.Records[i].Trial || rep.Records[i].Budget != ref.Records[i].Budget ||
			rep.Records[i].Metrics["acc"] != ref.Records[i].Metrics["acc"] {
			t.Fatalf("record %d: %+v vs %+v", i, rep.Records[i], ref.Records[i])
		}
	}
	// A corrupt line in the middle is an error, not silently skipped.
	data, _ = os.ReadFile(path)
	bad := bytes.Replace(data, []byte(`"ev":"result"`), []byte(`"ev":"result"x`), 1)
	os.WriteFile(path, bad, 0o644)
	e2.Scheduler = mustASHA(t, asha.Config{MaxBudget: 9})
	if _, err := hpo.Run(context.Background(), e2); !errors.Is(err, hpo.ErrJournal) {
		t.Fatalf("corrupt journal: %v", err)
	}
}

func TestJournalOfAnotherExperiment(t *testing.T) {
	dir := t.TempDir()
	e, _ := synth(&hpo.FIFO{MaxBudget: 2}, 1, 3, dir)
	if _, err := hpo.Run(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	e.Seed++
	if _, err := hpo.Run(context.Background(), e); !errors.Is(err, hpo.ErrJournal) {
		t.Fatalf("seed changed: %v", err)
	}
	e.Seed--
	e.Scheduler = &hpo.FIFO{MaxBudget: 3}
	if _, err := hpo.Run(context.Background(), e); !errors.Is(err, hpo.ErrReplay) {
		t.Fatalf("scheduler changed: %v", err)
	}
}

// TestTimeBudgetAcrossResume: the time budget counts the time spent before
// an interruption; a resumed run gets only what is left.
func TestTimeBudgetAcrossResume(t *testing.T) {
	dir := t.TempDir()
	mk := func() (hpo.Experiment, *hpo.ManualClock, *synthetic.Problem) {
		e, p := synth(mustASHA(t, asha.Config{MaxBudget: 27, Mode: asha.Stopping}), 1, 0, dir)
		e.TimeBudget = 600 * time.Second
		return e, e.Clock.(*hpo.ManualClock), p
	}
	e, clock, p := mk()
	ctx, cancel := context.WithCancel(context.Background())
	var spent time.Duration
	p.Clock = advanceFunc(func(d time.Duration) {
		clock.Advance(d)
		if spent += d; spent >= 250*time.Second {
			cancel()
		}
	})
	first, err := hpo.Run(ctx, e)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v", err)
	}
	e2, clock2, _ := mk() // a fresh clock, as in a new process
	start := clock2.Now()
	rep, err := hpo.Run(context.Background(), e2)
	if err != nil {
		t.Fatal(err)
	}
	second := clock2.Now().Sub(start)
	if rep.Reason != "time budget" || rep.Elapsed < 600*time.Second {
		t.Fatalf("reason %q elapsed %v", rep.Reason, rep.Elapsed)
	}
	if first.Elapsed < 200*time.Second || second > 600*time.Second-first.Elapsed+60*time.Second {
		t.Fatalf("first run recorded %v, second ran %v: the budget did not count the first", first.Elapsed, second)
	}
	for i := 1; i < len(rep.Records); i++ {
		if rep.Records[i].Elapsed < rep.Records[i-1].Elapsed {
			t.Fatalf("elapsed went back at record %d", i)
		}
	}
}
