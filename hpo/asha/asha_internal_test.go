package asha

import (
	"math"
	"slices"
	"testing"

	"github.com/hgdtune/hgdtune/hpo"
)

// mkRung builds a rung from (id, score) pairs in any order.
func mkRung(pairs [][2]float64, promoted ...hpo.TrialID) *rung {
	g := &rung{budget: 1, promoted: map[hpo.TrialID]bool{}}
	for _, p := range pairs {
		g.insert(hpo.TrialID(p[0]), p[1])
	}
	for _, id := range promoted {
		g.promoted[id] = true
	}
	return g
}

func TestPromotionRule(t *testing.T) {
	tests := []struct {
		name     string
		pairs    [][2]float64
		promoted []hpo.TrialID
		eta      int
		want     hpo.TrialID
		ok       bool
	}{
		{"empty", nil, nil, 3, 0, false},
		{"two results, η=3: top ⌊2/3⌋ = 0", [][2]float64{{0, 0.5}, {1, 0.9}}, nil, 3, 0, false},
		{"three results: the best", [][2]float64{{0, 0.5}, {1, 0.9}, {2, 0.7}}, nil, 3, 1, true},
		{"best already promoted, top 1 only", [][2]float64{{0, 0.5}, {1, 0.9}, {2, 0.7}}, []hpo.TrialID{1}, 3, 0, false},
		{"six results: top 2, best promoted → second", [][2]float64{{0, 0.1}, {1, 0.9}, {2, 0.7}, {3, 0.8}, {4, 0.2}, {5, 0.3}}, []hpo.TrialID{1}, 3, 3, true},
		{"six results: top 2 both promoted", [][2]float64{{0, 0.1}, {1, 0.9}, {2, 0.7}, {3, 0.8}, {4, 0.2}, {5, 0.3}}, []hpo.TrialID{1, 3}, 3, 0, false},
		{"η=2 four results", [][2]float64{{7, 1}, {8, 4}, {9, 3}, {10, 2}}, []hpo.TrialID{8}, 2, 9, true},
		{"ties broken by lower id", [][2]float64{{5, 1}, {2, 1}, {9, 1}}, nil, 3, 2, true},
		{"promoted outside the top does not count", [][2]float64{{0, 0.1}, {1, 0.9}, {2, 0.7}}, []hpo.TrialID{0}, 3, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := mkRung(tt.pairs, tt.promoted...)
			got, ok := g.promotable(tt.eta)
			if ok != tt.ok || (ok && got != tt.want) {
				t.Fatalf("promotable = %d, %v; want %d, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestRungOrder(t *testing.T) {
	g := mkRung([][2]float64{{3, 0.2}, {1, 0.9}, {4, 0.2}, {0, -1}, {2, 0.5}, {5, 0.9}})
	wantIDs := []hpo.TrialID{1, 5, 2, 3, 4, 0}
	for i, id := range wantIDs {
		if g.ids[i] != id {
			t.Fatalf("order %v, want %v", g.ids, wantIDs)
		}
	}
}

func TestCutoffMatchesNumpyPercentile(t *testing.T) {
	// numpy.percentile(values, (1 - 1/eta) * 100), linear interpolation.
	tests := []struct {
		values []float64
		eta    int
		want   float64
	}{
		{[]float64{5}, 3, 5},
		{[]float64{1, 2}, 3, 1 + 2.0/3},
		{[]float64{1, 2, 3, 4}, 3, 3},
		{[]float64{4, 1, 3, 2, 5}, 2, 3},
		{[]float64{0.1, 0.4, 0.35, 0.8}, 4, 0.5},
	}
	for _, tt := range tests {
		var pairs [][2]float64
		for i, v := range tt.values {
			pairs = append(pairs, [2]float64{float64(i), v})
		}
		got, ok := mkRung(pairs).cutoff(tt.eta)
		if !ok || math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("cutoff(%v, η=%d) = %v, want %v", tt.values, tt.eta, got, tt.want)
		}
	}
	if _, ok := mkRung(nil).cutoff(3); ok {
		t.Error("cutoff of an empty rung")
	}
}

// rayRungs is the number of rungs of bracket s in Ray Tune's
// AsyncHyperBandScheduler (_Bracket's MAX_RUNGS):
// int(log(max_t/min_t)/log(η) − s + 1).
func rayRungs(minT, maxT, eta, s int) int {
	return int(math.Log(float64(maxT)/float64(minT))/math.Log(float64(eta)) - float64(s) + 1)
}

// rayProbs is Ray Tune's on_trial_add: bracket s is drawn with probability
// e^(n_s − max n) / Σ_j e^(n_j − max n), n_s the rung counts.
func rayProbs(minT, maxT, eta, brackets int) []float64 {
	n := make([]int, brackets)
	for s := range n {
		n[s] = rayRungs(minT, maxT, eta, s)
	}
	top := slices.Max(n)
	var sum float64
	p := make([]float64, brackets)
	for s := range p {
		p[s] = math.Exp(float64(n[s] - top))
		sum += p[s]
	}
	for s := range p {
		p[s] /= sum
	}
	return p
}

// The brackets of Async Hyperband are drawn with Ray Tune's probabilities:
// a softmax of the brackets' rung counts, which fall by one from each
// bracket to the next, so p_s = e^−s / Σ_j e^−j.
func TestBracketWeightsMatchRay(t *testing.T) {
	e1, e2 := math.Exp(-1), math.Exp(-2)
	byHand := map[int][]float64{
		1: {1},
		2: {1 / (1 + e1), e1 / (1 + e1)},                               // 0.731, 0.269
		3: {1 / (1 + e1 + e2), e1 / (1 + e1 + e2), e2 / (1 + e1 + e2)}, // 0.665, 0.245, 0.090
	}
	if p := byHand[3]; math.Abs(p[0]-0.6652) > 1e-4 || math.Abs(p[1]-0.2447) > 1e-4 || math.Abs(p[2]-0.0900) > 1e-4 {
		t.Fatalf("hand-computed probabilities %v", p)
	}
	for _, c := range []Config{
		{MinBudget: 1, MaxBudget: 27, Eta: 3},  // R a power of η: 4, 3, 2 rungs here and in Ray
		{MinBudget: 1, MaxBudget: 10, Eta: 3},  // R is a rung of its own here: 4, 3, 2 rungs; Ray's 3, 2, 1
		{MinBudget: 2, MaxBudget: 100, Eta: 2}, // s_max = 5
	} {
		for brackets, want := range byHand {
			c.Brackets = brackets
			s, err := New(c)
			if err != nil {
				t.Fatal(err)
			}
			ray := rayProbs(c.MinBudget, c.MaxBudget, c.Eta, brackets)
			prev := 0.0
			for b, cum := range s.cum {
				if got := cum - prev; math.Abs(got-want[b]) > 1e-12 || math.Abs(got-ray[b]) > 1e-12 {
					t.Errorf("r=%d R=%d η=%d, %d brackets: bracket %d has probability %.4f, want %.4f (Ray: %.4f)",
						c.MinBudget, c.MaxBudget, c.Eta, brackets, b, got, want[b], ray[b])
				}
				prev = cum
			}
		}
	}
	// Frequencies over 200,000 seeded assignments: the standard error of
	// each is below 0.0012, the tolerance 0.006.
	const n = 200000
	s, err := New(Config{MaxBudget: 27, Brackets: 3, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, 3)
	for id := range hpo.TrialID(n) {
		counts[s.Bracket(id)]++
	}
	for b, p := range byHand[3] {
		if f := float64(counts[b]) / n; math.Abs(f-p) > 0.006 {
			t.Errorf("bracket %d: %.4f of the trials, want %.4f ± 0.006", b, f, p)
		}
	}
}

// HyperbandWeights weights the brackets by Hyperband's bracket sizes n_s:
// for R = 27, η = 3 and three brackets s = 0, 1, 2 (Hyperband's s = 3, 2,
// 1 of s_max = 3): 27, 12, 6 → 0.6, 0.2667, 0.1333.
func TestHyperbandWeights(t *testing.T) {
	s, err := New(Config{MaxBudget: 27, Brackets: 3, Weights: HyperbandWeights})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{27.0 / 45, 39.0 / 45, 1}
	for i, c := range s.cum {
		if math.Abs(c-want[i]) > 1e-12 {
			t.Errorf("cumulative weight %d = %v, want %v", i, c, want[i])
		}
	}
	if err := (Config{MaxBudget: 27, Weights: 7}).Validate(); err == nil {
		t.Error("unknown weights accepted")
	}
}
