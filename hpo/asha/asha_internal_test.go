package asha

import (
	"math"
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
