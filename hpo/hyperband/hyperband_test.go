package hyperband_test

import (
	"context"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/hyperband"
	"github.com/hgdtune/hgdtune/hpo/synthetic"
)

func TestBracketsPaperArithmetic(t *testing.T) {
	type nr = hyperband.Round
	tests := []struct {
		R, eta int
		want   []hyperband.Bracket
	}{
		{81, 3, []hyperband.Bracket{
			{S: 4, Rounds: []nr{{81, 1}, {27, 3}, {9, 9}, {3, 27}, {1, 81}}},
			{S: 3, Rounds: []nr{{34, 3}, {11, 9}, {3, 27}, {1, 81}}},
			{S: 2, Rounds: []nr{{15, 9}, {5, 27}, {1, 81}}},
			{S: 1, Rounds: []nr{{8, 27}, {2, 81}}},
			{S: 0, Rounds: []nr{{5, 81}}},
		}},
		{27, 3, []hyperband.Bracket{
			{S: 3, Rounds: []nr{{27, 1}, {9, 3}, {3, 9}, {1, 27}}},
			{S: 2, Rounds: []nr{{12, 3}, {4, 9}, {1, 27}}},
			{S: 1, Rounds: []nr{{6, 9}, {2, 27}}},
			{S: 0, Rounds: []nr{{4, 27}}},
		}},
		{8, 2, []hyperband.Bracket{
			{S: 3, Rounds: []nr{{8, 1}, {4, 2}, {2, 4}, {1, 8}}},
			{S: 2, Rounds: []nr{{6, 2}, {3, 4}, {1, 8}}},
			{S: 1, Rounds: []nr{{4, 4}, {2, 8}}},
			{S: 0, Rounds: []nr{{4, 8}}},
		}},
		{1, 3, []hyperband.Bracket{{S: 0, Rounds: []nr{{1, 1}}}}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("R=%d,eta=%d", tt.R, tt.eta), func(t *testing.T) {
			if got := hyperband.Brackets(tt.R, tt.eta); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Brackets = %v\nwant       %v", got, tt.want)
			}
		})
	}
	if s := hyperband.SMax(80, 3); s != 3 {
		t.Fatalf("SMax(80, 3) = %d", s)
	}
}

// TestRunMatchesBrackets runs Hyperband with R = 81, η = 3 on the synthetic
// problem and checks that each bracket trained exactly n_i trials to r_i in
// each round, that promoted trials continued from their checkpoints (their
// budgets grow by round) and that all others were stopped or completed.
func TestRunMatchesBrackets(t *testing.T) {
	for _, slots := range []int{1, 4} {
		t.Run(fmt.Sprintf("slots=%d", slots), func(t *testing.T) {
			s, err := hyperband.New(hyperband.Config{MaxBudget: 81})
			if err != nil {
				t.Fatal(err)
			}
			clock := hpo.NewManualClock(time.Unix(0, 0))
			p := &synthetic.Problem{Seed: 1, Noise: 0.01, StepCost: time.Second, Clock: clock}
			var builds atomic.Int64
			factory := p.Factory()
			counting := func(ctx context.Context, id hpo.TrialID, c hpo.Config) (hpo.Trainable, error) {
				builds.Add(1)
				return factory(ctx, id, c)
			}
			e := hpo.Experiment{Space: synthetic.Space(), Metric: hpo.Metric{Name: "acc"}, Factory: counting,
				Scheduler: s, Slots: slots, Seed: 4, Clock: clock}
			rep, err := hpo.Run(context.Background(), e)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Reason != "hyperband done" {
				t.Fatalf("reason %q", rep.Reason)
			}
			// count[(s, budget)] = number of results.
			count := map[[2]int]int{}
			for _, r := range rep.Records {
				count[[2]int{rep.Trials[r.Trial].Group, r.Budget}]++
			}
			total := 0
			for _, b := range hyperband.Brackets(81, 3) {
				total += b.Rounds[0].N
				for _, rd := range b.Rounds {
					if got := count[[2]int{b.S, rd.Budget}]; got != rd.N {
						t.Errorf("bracket %d budget %d: %d results, want %d", b.S, rd.Budget, got, rd.N)
					}
				}
			}
			if len(rep.Trials) != total {
				t.Fatalf("%d trials, want %d", len(rep.Trials), total)
			}
			for _, tr := range rep.Trials {
				if tr.Status != hpo.Completed && tr.Status != hpo.Stopped {
					t.Errorf("trial %d ended %v", tr.ID, tr.Status)
				}
				for i := 1; i < len(tr.Results); i++ {
					if tr.Results[i].Budget <= tr.Results[i-1].Budget {
						t.Errorf("trial %d budgets %d then %d", tr.ID, tr.Results[i-1].Budget, tr.Results[i].Budget)
					}
				}
			}
			// One build per trial plus one per promotion (a restore after the
			// pause).
			promotions := 0
			for _, tr := range rep.Trials {
				promotions += len(tr.Results) - 1
			}
			if int(builds.Load()) != total+promotions {
				t.Errorf("%d builds, want %d trials + %d promotions", builds.Load(), total, promotions)
			}
			best, _ := rep.Best()
			t.Logf("best acc %.4f (trial %d, budget %d), %d trials", best.Metrics["acc"], best.Trial, best.Budget, len(rep.Trials))
		})
	}
}

func TestHyperbandStopsPromotesTopOnly(t *testing.T) {
	// With R = 9, η = 3 the first bracket is (9,1)(3,3)(1,9): after round 0
	// exactly the 3 best of 9 are promoted.
	s, _ := hyperband.New(hyperband.Config{MaxBudget: 9})
	clock := hpo.NewManualClock(time.Unix(0, 0))
	p := &synthetic.Problem{Seed: 2, StepCost: time.Second, Clock: clock}
	rep, err := hpo.Run(context.Background(), hpo.Experiment{Space: synthetic.Space(), Metric: hpo.Metric{Name: "acc"},
		Factory: p.Factory(), Scheduler: s, Slots: 2, Seed: 1, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	var round0 []hpo.Result
	for _, r := range rep.Records {
		if rep.Trials[r.Trial].Group == 2 && r.Budget == 1 {
			round0 = append(round0, r.Result)
		}
	}
	if len(round0) != 9 {
		t.Fatalf("%d round-0 results", len(round0))
	}
	promoted := 0
	for _, r := range round0 {
		better := 0
		for _, o := range round0 {
			if o.Metrics["acc"] > r.Metrics["acc"] {
				better++
			}
		}
		if len(rep.Trials[r.Trial].Results) > 1 {
			promoted++
			if better >= 3 {
				t.Errorf("trial %d promoted with %d better", r.Trial, better)
			}
		}
	}
	if promoted != 3 {
		t.Fatalf("%d promoted, want 3", promoted)
	}
}

func TestLoopsAndTrialBudget(t *testing.T) {
	// A trial budget that ends in the middle of a first round: the round
	// goes on with the trials it has, and the experiment ends.
	s, _ := hyperband.New(hyperband.Config{MaxBudget: 27, Loops: -1})
	clock := hpo.NewManualClock(time.Unix(0, 0))
	p := &synthetic.Problem{Seed: 2, StepCost: time.Second, Clock: clock}
	rep, err := hpo.Run(context.Background(), hpo.Experiment{Space: synthetic.Space(), Metric: hpo.Metric{Name: "acc"},
		Factory: p.Factory(), Scheduler: s, Slots: 3, Seed: 1, Clock: clock, MaxTrials: 60})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Trials) != 60 {
		t.Fatalf("%d trials", len(rep.Trials))
	}
	for _, tr := range rep.Trials {
		if !tr.Status.Terminal() {
			t.Errorf("trial %d left %v (reason %q)", tr.ID, tr.Status, rep.Reason)
		}
	}
}
