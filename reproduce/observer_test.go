package reproduce

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
)

// The live counts are the journal's: trials created, results, failures,
// the best accuracy and the latest experiment time of its events.
func TestRunStatsCountsEvents(t *testing.T) {
	var s runStats
	st := RunStatus{stats: &s}
	for _, e := range []hpo.Event{{Kind: hpo.EvTrial, Trial: 0}, {Kind: hpo.EvTrial, Trial: 1}, {Kind: hpo.EvDecision, Trial: 1, Elapsed: 5}} {
		s.event(e)
	}
	if c := st.Counts(); c.Trials != 2 || c.Results != 0 || !math.IsNaN(c.Best) || c.Elapsed != 5 {
		t.Errorf("counts %+v: want 2 trials, no best before a result, elapsed 5ns", c)
	}
	for _, e := range []hpo.Event{
		{Kind: hpo.EvResult, Trial: 0, Elapsed: 9, Metrics: map[string]float64{"accuracy": 0.3}},
		{Kind: hpo.EvResult, Trial: 1, Elapsed: 12, Metrics: map[string]float64{"accuracy": 0.2}},
		{Kind: hpo.EvFail, Trial: 1, Elapsed: 12},
		{Kind: hpo.EvTrial, Trial: 2, Elapsed: 12},
	} {
		s.event(e)
	}
	if c := st.Counts(); c != (Counts{Trials: 3, Results: 2, Failed: 1, Best: 0.3, Elapsed: 12}) {
		t.Errorf("counts %+v", c)
	}
}

// ReportCounts counts a run exactly from its report: its trials, the
// failed ones, its results (failures are not results) and its best value.
func TestReportCounts(t *testing.T) {
	if c := ReportCounts(nil); c.Trials != 0 || !math.IsNaN(c.Best) {
		t.Errorf("nil report: %+v", c)
	}
	rep := &hpo.Report{
		Trials:  []hpo.Trial{{ID: 0}, {ID: 1, Status: hpo.Failed}, {ID: 2}},
		Records: []hpo.Record{{Status: hpo.Running}, {Status: hpo.Failed}, {Status: hpo.Completed}},
		Curve:   []hpo.Point{{Best: 0.25}, {Best: 0.5}},
	}
	if c := ReportCounts(rep); c != (Counts{Trials: 3, Results: 2, Failed: 1, Best: 0.5}) {
		t.Errorf("counts %+v", c)
	}
}

// While a run goes, its status reads the experiment time of the latest
// result the runner handled: on the compute clock its compute time, which
// the budget measures (so a display can show how far the run is, whatever
// the wall time), on the wall clock its wall time. The status says which.
func TestRunStatusElapsed(t *testing.T) {
	for _, clock := range []string{ClockCompute, ClockWall} {
		t.Run(clock, func(t *testing.T) {
			f := &fakeTrials{}
			w := &elapsedWatch{}
			o := fakeOptions(t, f, Random)
			o.Preset.Arms = []string{"sgd"}
			o.Preset.Clock = clock
			o.Observer = w
			o.Trainables = w.factory(f.factory)
			if _, err := Run(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			if len(w.started) != 1 {
				t.Fatalf("%d runs started, want 1", len(w.started))
			}
			if got, want := w.started[0].ComputeClock, clock == ClockCompute; got != want {
				t.Errorf("ComputeClock = %v, want %v", got, want)
			}
			if len(w.ended) != 1 {
				t.Fatalf("%d runs ended, want 1", len(w.ended))
			}
			rep := w.ended[0].rep
			if len(rep.Records) < 2 || len(w.seen) < 2 {
				t.Fatalf("%d records, %d jobs: the test checks nothing", len(rep.Records), len(w.seen))
			}
			// One slot: each job starts once the runner has handled the
			// result before it. On the compute clock the runner may know
			// before the last job trains that it would end past T: the
			// time budget's end (at T) can come first.
			if w.seen[0] != 0 {
				t.Errorf("first job saw Elapsed %v, want 0", w.seen[0])
			}
			for i, el := range w.seen[1:] {
				if i >= len(rep.Records) {
					t.Fatalf("job %d started after %d records", i+1, len(rep.Records))
				}
				last := i == len(w.seen)-2
				if last && clock == ClockCompute && el == w.started[0].Budget {
					continue
				}
				if want := rep.Records[i].Elapsed; el != want || want <= 0 {
					t.Errorf("job %d saw Elapsed %v, want %v (its previous result's)", i+1, el, want)
				}
			}
			if c := ReportCounts(rep); c.Elapsed != rep.Elapsed {
				t.Errorf("ReportCounts Elapsed %v, want the report's %v", c.Elapsed, rep.Elapsed)
			}
		})
	}
}

// elapsedWatch is a recorder whose trainables note the live
// Counts.Elapsed of the run in progress each time they start training.
type elapsedWatch struct {
	recorder
	seen []time.Duration
}

func (w *elapsedWatch) factory(build hpo.Factory) hpo.Factory {
	return func(ctx context.Context, id hpo.TrialID, cfg hpo.Config) (hpo.Trainable, error) {
		t, err := build(ctx, id, cfg)
		if err != nil || t == nil {
			return t, err
		}
		return &watchedTrainable{Trainable: t, w: w}, nil
	}
}

type watchedTrainable struct {
	hpo.Trainable
	w *elapsedWatch
}

func (t *watchedTrainable) Train(ctx context.Context, until int) (hpo.Result, error) {
	t.w.mu.Lock()
	t.w.seen = append(t.w.seen, t.w.started[len(t.w.started)-1].Counts().Elapsed)
	t.w.mu.Unlock()
	return t.Trainable.Train(ctx, until)
}
