package reproduce

import (
	"math"
	"testing"

	"github.com/hgdtune/hgdtune/hpo"
)

// The live trial count is the number of distinct trials: one more than the
// highest id built, however often a trial is built again.
func TestRunStatsTrials(t *testing.T) {
	var s runStats
	for _, id := range []hpo.TrialID{0, 1, 0, 1, 2, 1, 0} {
		s.sawTrial(id)
	}
	if got := s.trials.Load(); got != 3 {
		t.Errorf("trials = %d, want 3", got)
	}
	st := RunStatus{stats: &s}
	if c := st.Counts(); c.Trials != 3 || !math.IsNaN(c.Best) {
		t.Errorf("counts %+v: want 3 trials and no best before a result", c)
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
