package asha_test

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/asha"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
)

// fakeView is a View over hand-made trials.
type fakeView struct {
	next   hpo.TrialID
	canRun bool
	metric hpo.Metric
}

func (v *fakeView) Trial(hpo.TrialID) (hpo.Trial, bool) { return hpo.Trial{}, false }
func (v *fakeView) NextTrial() (hpo.TrialID, bool)      { return v.next, v.canRun }
func (v *fakeView) Metric() hpo.Metric                  { return v.metric }
func (v *fakeView) Now() time.Duration                  { return 0 }

func res(id hpo.TrialID, budget int, acc float64) hpo.Result {
	return hpo.Result{Trial: id, Budget: budget, Metrics: map[string]float64{"acc": acc}}
}

func TestRungs(t *testing.T) {
	tests := []struct {
		c    asha.Config
		s    int
		want []int
	}{
		{asha.Config{MaxBudget: 81}, 0, []int{1, 3, 9, 27, 81}},
		{asha.Config{MaxBudget: 81}, 2, []int{9, 27, 81}},
		{asha.Config{MaxBudget: 100, MinBudget: 2, Eta: 4}, 0, []int{2, 8, 32, 100}},
		{asha.Config{MaxBudget: 5, MinBudget: 5}, 0, []int{5}},
	}
	for _, tt := range tests {
		if got := tt.c.Rungs(tt.s); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%+v Rungs(%d) = %v, want %v", tt.c, tt.s, got, tt.want)
		}
	}
	if s := (asha.Config{MaxBudget: 81}).SMax(); s != 4 {
		t.Errorf("SMax = %d", s)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		c    asha.Config
		ok   bool
	}{
		{"defaults", asha.Config{MaxBudget: 27}, true},
		{"max budget 0", asha.Config{}, false},
		{"η = 1", asha.Config{MaxBudget: 27, Eta: 1}, false},
		{"η < 0", asha.Config{MaxBudget: 27, Eta: -2}, false},
		{"grace > max", asha.Config{MaxBudget: 27, MinBudget: 28}, false},
		{"grace < 0", asha.Config{MaxBudget: 27, MinBudget: -1}, false},
		{"too many brackets", asha.Config{MaxBudget: 27, Brackets: 5}, false},
		{"all brackets", asha.Config{MaxBudget: 27, Brackets: 4}, true},
		{"bad mode", asha.Config{MaxBudget: 27, Mode: 7}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := asha.New(tt.c)
			if (err == nil) != tt.ok {
				t.Fatalf("New = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestPromotionGetJob drives promotion ASHA by hand: η = 3, rungs 1, 3, 9.
func TestPromotionGetJob(t *testing.T) {
	s, _ := asha.New(asha.Config{MaxBudget: 9})
	v := &fakeView{canRun: true, metric: hpo.Metric{Name: "acc"}}
	start := func(id hpo.TrialID) {
		v.next = id
		d := s.Next(v)
		if d.Action != hpo.Start || d.Trial != id || d.Until != 1 {
			t.Fatalf("Next = %+v, want start of %d to 1", d, id)
		}
		s.Add(v, hpo.Trial{ID: id, Group: d.Group})
	}
	accs := []float64{0.3, 0.8, 0.5, 0.6, 0.1, 0.9}
	for i, a := range accs[:2] {
		start(hpo.TrialID(i))
		if d := s.OnResult(v, res(hpo.TrialID(i), 1, a)); d.Action != hpo.Pause {
			t.Fatalf("OnResult = %+v, want pause", d)
		}
	}
	// 2 results at rung 0: ⌊2/3⌋ = 0, so a new trial starts.
	start(2)
	s.OnResult(v, res(2, 1, accs[2]))
	// 3 results: trial 1 (0.8) is promoted to 3.
	if d := s.Next(v); d.Action != hpo.Resume || d.Trial != 1 || d.Until != 3 {
		t.Fatalf("Next = %+v, want resume 1 to 3", d)
	}
	// No second promotion from rung 0 until 6 results.
	start(3)
	s.OnResult(v, res(3, 1, accs[3]))
	start(4)
	s.OnResult(v, res(4, 1, accs[4]))
	start(5)
	s.OnResult(v, res(5, 1, accs[5]))
	// Rung 0 now: 5(0.9) 1(0.8) 3(0.6) 2 0 4; top 2 = {5, 1}; 1 promoted.
	if d := s.Next(v); d.Action != hpo.Resume || d.Trial != 5 || d.Until != 3 {
		t.Fatalf("Next = %+v, want resume 5 to 3", d)
	}
	// Results at rung 1 for 1 and 5; rung 1 has 2 < 3 entries: no promotion.
	s.OnResult(v, res(1, 3, 0.85))
	s.OnResult(v, res(5, 3, 0.92))
	v.canRun = false
	if d := s.Next(v); d.Action != hpo.Wait {
		t.Fatalf("Next = %+v, want wait", d)
	}
	// A third rung-1 result makes 5 promotable to the top rung; the top
	// rung completes.
	s.OnResult(v, res(3, 3, 0.7))
	if d := s.Next(v); d.Action != hpo.Resume || d.Trial != 5 || d.Until != 9 {
		t.Fatalf("Next = %+v, want resume 5 to 9", d)
	}
	if d := s.OnResult(v, res(5, 9, 0.93)); d.Action != hpo.Complete {
		t.Fatalf("OnResult at top = %+v, want complete", d)
	}
}

// TestStoppingRule drives stopping ASHA: continue iff at least the (1−1/η)
// quantile of the results already at the rung.
func TestStoppingRule(t *testing.T) {
	s, _ := asha.New(asha.Config{MaxBudget: 9, Mode: asha.Stopping})
	v := &fakeView{canRun: true, metric: hpo.Metric{Name: "acc"}}
	for i := range 6 {
		v.next = hpo.TrialID(i)
		d := s.Next(v)
		if d.Action != hpo.Start || d.Until != 1 {
			t.Fatalf("Next = %+v", d)
		}
		s.Add(v, hpo.Trial{ID: d.Trial})
	}
	steps := []struct {
		id     hpo.TrialID
		budget int
		acc    float64
		want   hpo.Action
		until  int
	}{
		{0, 1, 0.5, hpo.Continue, 3},  // first at the rung
		{1, 1, 0.4, hpo.Stop, 0},      // cutoff = 0.5
		{2, 1, 0.6, hpo.Continue, 3},  // cutoff = pct([0.4 0.5], 66.7) = 0.4667
		{3, 1, 0.55, hpo.Continue, 3}, // cutoff = pct([.4 .5 .6], 66.7) = 0.5333
		{4, 1, 0.52, hpo.Stop, 0},     // cutoff = pct([.4 .5 .55 .6], 66.7) = 0.55
		{0, 3, 0.7, hpo.Continue, 9},
		{0, 9, 0.8, hpo.Complete, 0},
	}
	for i, st := range steps {
		d := s.OnResult(v, res(st.id, st.budget, st.acc))
		if d.Action != st.want || (st.want == hpo.Continue && d.Until != st.until) {
			t.Fatalf("step %d: %+v, want %v %d", i, d, st.want, st.until)
		}
	}
	// Minimize: lower is better.
	m, _ := asha.New(asha.Config{MaxBudget: 9, Mode: asha.Stopping})
	v.metric = hpo.Metric{Name: "acc", Goal: hpo.Minimize}
	m.Add(v, hpo.Trial{ID: 0})
	m.Add(v, hpo.Trial{ID: 1})
	m.OnResult(v, res(0, 1, 0.5))
	if d := m.OnResult(v, res(1, 1, 0.6)); d.Action != hpo.Stop {
		t.Fatalf("minimize: %+v", d)
	}
}

func TestBracketAssignment(t *testing.T) {
	c := asha.Config{MaxBudget: 81, Seed: 9}
	s, err := asha.NewAsyncHyperband(c)
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, 5)
	for id := range 20000 {
		b := s.Bracket(hpo.TrialID(id))
		counts[b]++
		if b2 := s.Bracket(hpo.TrialID(id)); b2 != b {
			t.Fatal("bracket not deterministic")
		}
	}
	// Ray Tune's weights: bracket s (5−s rungs) with probability
	// proportional to e^−s. The standard error of each frequency is below
	// 0.0036, the tolerance 0.02.
	var sum float64
	for b := range 5 {
		sum += math.Exp(-float64(b))
	}
	for b := range 5 {
		frac := float64(counts[b]) / 20000
		if exp := math.Exp(-float64(b)) / sum; math.Abs(frac-exp) > 0.02 {
			t.Errorf("bracket %d: %.3f of trials, want %.3f ± 0.02", b, frac, exp)
		}
	}
	s2, _ := asha.NewAsyncHyperband(asha.Config{MaxBudget: 81, Seed: 10})
	same := 0
	for id := range 1000 {
		if s.Bracket(hpo.TrialID(id)) == s2.Bracket(hpo.TrialID(id)) {
			same++
		}
	}
	if same > 700 {
		t.Errorf("seed has little effect: %d/1000 equal", same)
	}
}

// TestRunBothModes runs each mode on the synthetic problem and checks the
// rung structure of what happened.
func TestRunBothModes(t *testing.T) {
	for _, mode := range []asha.Mode{asha.Promotion, asha.Stopping} {
		for _, brackets := range []int{1, 3} {
			t.Run(fmt.Sprintf("%v/brackets=%d", mode, brackets), func(t *testing.T) {
				c := asha.Config{Mode: mode, MaxBudget: 27, Brackets: brackets, Seed: 3}
				s, err := asha.New(c)
				if err != nil {
					t.Fatal(err)
				}
				clock := hpo.NewManualClock(time.Unix(0, 0))
				p := &synthetic.Problem{Seed: 8, Noise: 0.01, StepCost: time.Second, Clock: clock}
				rep, err := hpo.Run(context.Background(), hpo.Experiment{Space: synthetic.Space(),
					Metric: hpo.Metric{Name: "acc"}, Factory: p.Factory(), Scheduler: s, Slots: 4,
					MaxTrials: 200, Seed: 6, Clock: clock})
				if err != nil {
					t.Fatal(err)
				}
				atRung := map[int]int{}
				for _, r := range rep.Records {
					rungs := c.Rungs(rep.Trials[r.Trial].Group)
					if !slices.Contains(rungs, r.Budget) {
						t.Fatalf("result at budget %d, not a rung of %v", r.Budget, rungs)
					}
					atRung[r.Budget]++
				}
				var budgets []int
				for b := range atRung {
					budgets = append(budgets, b)
				}
				sort.Ints(budgets)
				for i := 1; i < len(budgets); i++ {
					if atRung[budgets[i]] > atRung[budgets[i-1]] && brackets == 1 {
						t.Errorf("more results at %d than at %d: %v", budgets[i], budgets[i-1], atRung)
					}
				}
				if atRung[27] == 0 {
					t.Errorf("no trial reached the max budget: %v", atRung)
				}
				best, _ := rep.Best()
				t.Logf("results per rung %v; best %.4f", atRung, best.Metrics["acc"])
				for _, tr := range rep.Trials {
					switch {
					case mode == asha.Stopping && tr.Status != hpo.Completed && tr.Status != hpo.Stopped:
						t.Errorf("stopping: trial %d ended %v", tr.ID, tr.Status)
					case mode == asha.Promotion && tr.Status != hpo.Completed && tr.Status != hpo.Paused:
						t.Errorf("promotion: trial %d ended %v", tr.ID, tr.Status)
					}
				}
			})
		}
	}
}
