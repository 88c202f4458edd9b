package plots

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Errors returned by this package. They are wrapped with context; test with errors.Is.
var (
	// ErrNoData reports that there is nothing to summarise or draw.
	ErrNoData = errors.New("plots: no data")
	// ErrBadCurve reports a malformed curve (unsorted times, non-finite values).
	ErrBadCurve = errors.New("plots: bad curve")
	// ErrBadConfig reports an invalid configuration value.
	ErrBadConfig = errors.New("plots: bad config")
)

// Point is one step of a best-so-far curve: from elapsed time T (seconds since
// the start of the run) on, the best value found so far is V.
type Point struct {
	T, V float64
}

// Curve is a step function given by its change points, sorted by T
// (non-decreasing). The value of Points[i] holds on [Points[i].T, Points[i+1].T);
// the last value holds for ever; before the first point the curve has no value.
// When several points share a time, the last of them counts.
type Curve []Point

// Validate reports whether c is sorted by time and all its coordinates are finite.
func (c Curve) Validate() error {
	for i, p := range c {
		if math.IsNaN(p.T) || math.IsInf(p.T, 0) || math.IsNaN(p.V) || math.IsInf(p.V, 0) {
			return fmt.Errorf("%w: point %d (%v, %v) is not finite", ErrBadCurve, i, p.T, p.V)
		}
		if i > 0 && p.T < c[i-1].T {
			return fmt.Errorf("%w: point %d at t=%v comes before t=%v", ErrBadCurve, i, p.T, c[i-1].T)
		}
	}
	return nil
}

// At evaluates the step function at time t. ok is false (and v is NaN) when t
// is before the first point or the curve is empty. c must be sorted.
func (c Curve) At(t float64) (v float64, ok bool) {
	// Index of the first point strictly after t.
	i := sort.Search(len(c), func(i int) bool { return c[i].T > t })
	if i == 0 {
		return math.NaN(), false
	}
	return c[i-1].V, true
}

// Start is the time of the first point (NaN for an empty curve).
func (c Curve) Start() float64 {
	if len(c) == 0 {
		return math.NaN()
	}
	return c[0].T
}

// End is the time of the last point (NaN for an empty curve).
func (c Curve) End() float64 {
	if len(c) == 0 {
		return math.NaN()
	}
	return c[len(c)-1].T
}

// BestSoFar turns raw observations (value values[i] reported at elapsed time
// times[i], in any order) into the best-so-far (running maximum) curve, with one
// point per strict improvement. Non-finite values are errors.
func BestSoFar(times, values []float64) (Curve, error) {
	if len(times) != len(values) {
		return nil, fmt.Errorf("%w: %d times but %d values", ErrBadCurve, len(times), len(values))
	}
	idx := make([]int, len(times))
	for i := range idx {
		idx[i] = i
		if math.IsNaN(times[i]) || math.IsInf(times[i], 0) || math.IsNaN(values[i]) || math.IsInf(values[i], 0) {
			return nil, fmt.Errorf("%w: observation %d (%v, %v) is not finite", ErrBadCurve, i, times[i], values[i])
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return times[idx[a]] < times[idx[b]] })
	var c Curve
	for _, i := range idx {
		if len(c) == 0 || values[i] > c[len(c)-1].V {
			if len(c) > 0 && c[len(c)-1].T == times[i] {
				c[len(c)-1].V = values[i]
				continue
			}
			c = append(c, Point{T: times[i], V: values[i]})
		}
	}
	return c, nil
}

// Breakpoints returns the sorted, distinct times at which any of the curves
// changes, restricted to [from, to], with from and to themselves included.
// Evaluating curves on this grid loses nothing: their mean is constant between
// consecutive breakpoints.
func Breakpoints(curves []Curve, from, to float64) []float64 {
	ts := []float64{from, to}
	for _, c := range curves {
		for _, p := range c {
			if p.T > from && p.T < to {
				ts = append(ts, p.T)
			}
		}
	}
	sort.Float64s(ts)
	out := ts[:0]
	for i, t := range ts {
		if i == 0 || t != out[len(out)-1] {
			out = append(out, t)
		}
	}
	if from > to {
		return nil
	}
	return out
}

// Linspace returns n evenly spaced times from from to to inclusive (n ≥ 2), or
// {from} for n = 1.
func Linspace(from, to float64, n int) []float64 {
	if n <= 0 {
		return nil
	}
	if n == 1 {
		return []float64{from}
	}
	g := make([]float64, n)
	for i := range g {
		g[i] = from + (to-from)*float64(i)/float64(n-1)
	}
	g[n-1] = to
	return g
}

// Resample evaluates every curve at every grid time: out[k][i] is curve k at
// grid[i], NaN where that curve has not started yet.
func Resample(curves []Curve, grid []float64) [][]float64 {
	out := make([][]float64, len(curves))
	for k, c := range curves {
		row := make([]float64, len(grid))
		for i, t := range grid {
			row[i], _ = c.At(t)
		}
		out[k] = row
	}
	return out
}

// Arm is one arm of the comparison: how the optimizer's learning rate and
// momentum are set.
type Arm string

// The paper's two arms.
const (
	// SGD: learning rate and momentum searched by the HPO algorithm (baseline).
	SGD Arm = "SGD"
	// HGD: learning rate and momentum adapted online by hypergradients.
	HGD Arm = "HGD"
)

// PaperAlgorithms returns the six HPO algorithms in the paper's column order:
// ASHA, AHB (Async Hyperband), Genetic, HyperBand, PBT, PB2.
func PaperAlgorithms() []string {
	return []string{"ASHA", "AHB", "Genetic", "HyperBand", "PBT", "PB2"}
}

// Run is the best-so-far curve of one HPO run: one algorithm, one arm, one seed.
type Run struct {
	Algorithm string
	Arm       Arm
	Seed      int
	Curve     Curve
	// FirstResults holds, optionally, the time (seconds) of each trial's
	// first result, in any order: tables then say how many trials each arm
	// had reported at a checkpoint (Leads.Reported).
	FirstResults []float64
}

// Experiment groups the runs of one reproduction (one data set).
type Experiment struct {
	// Name names the data set or case, e.g. "CIFAR-10"; used in default titles.
	Name string
	// Budget is the wall-clock budget T of every run in seconds. Figures use it
	// as the end of the time axis and tables and bar charts place their
	// checkpoints at fractions of it. Zero means: the time of the latest point
	// of any curve (figures only; tables and bars then need explicit times).
	Budget float64
	// Runs holds one entry per (algorithm, arm, seed).
	Runs []Run
}

// Validate checks the runs: no empty algorithm or arm names, no duplicate
// (algorithm, arm, seed), valid curves, and a non-negative finite budget.
func (e *Experiment) Validate() error {
	if e.Budget < 0 || math.IsNaN(e.Budget) || math.IsInf(e.Budget, 0) {
		return fmt.Errorf("%w: budget %v", ErrBadConfig, e.Budget)
	}
	if len(e.Runs) == 0 {
		return fmt.Errorf("%w: experiment %q has no runs", ErrNoData, e.Name)
	}
	type key struct {
		alg  string
		arm  Arm
		seed int
	}
	seen := make(map[key]bool, len(e.Runs))
	for i, r := range e.Runs {
		if r.Algorithm == "" || r.Arm == "" {
			return fmt.Errorf("%w: run %d has an empty algorithm or arm", ErrBadConfig, i)
		}
		k := key{r.Algorithm, r.Arm, r.Seed}
		if seen[k] {
			return fmt.Errorf("%w: duplicate run %s/%s/seed %d", ErrBadConfig, r.Algorithm, r.Arm, r.Seed)
		}
		seen[k] = true
		if err := r.Curve.Validate(); err != nil {
			return fmt.Errorf("run %s/%s/seed %d: %w", r.Algorithm, r.Arm, r.Seed, err)
		}
	}
	return nil
}

// Algorithms lists the algorithms present: those of PaperAlgorithms first, in
// the paper's order (matched case-insensitively), then the others in order of
// first appearance.
func (e *Experiment) Algorithms() []string {
	return ranked(e.Runs, func(r Run) string { return r.Algorithm }, func(a string) int {
		for i, p := range PaperAlgorithms() {
			if strings.EqualFold(a, p) {
				return i
			}
		}
		return len(PaperAlgorithms())
	})
}

// Arms lists the arms present: HGD first, then SGD, then others in order of
// first appearance. HGD is drawn solid and SGD dashed.
func (e *Experiment) Arms() []Arm {
	return ranked(e.Runs, func(r Run) Arm { return r.Arm }, func(a Arm) int {
		switch a {
		case HGD:
			return 0
		case SGD:
			return 1
		}
		return 2
	})
}

// ranked returns the distinct keys of runs in order of their rank, and of
// first appearance among equal ranks.
func ranked[K comparable](runs []Run, key func(Run) K, rank func(K) int) []K {
	var present []K
	seen := map[K]bool{}
	for _, r := range runs {
		if k := key(r); !seen[k] {
			seen[k] = true
			present = append(present, k)
		}
	}
	sort.SliceStable(present, func(i, j int) bool { return rank(present[i]) < rank(present[j]) })
	return present
}

// Curves returns the curves of one algorithm and arm, ordered by seed.
func (e *Experiment) Curves(algorithm string, arm Arm) []Curve {
	var runs []Run
	for _, r := range e.Runs {
		if r.Algorithm == algorithm && r.Arm == arm {
			runs = append(runs, r)
		}
	}
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].Seed < runs[j].Seed })
	out := make([]Curve, len(runs))
	for i, r := range runs {
		out[i] = r.Curve
	}
	return out
}

// At summarises the seeds of one algorithm and arm at time t (see Summarize
// for the rule on seeds that have not started yet).
func (e *Experiment) At(algorithm string, arm Arm, t, level float64) (Stat, error) {
	cs := e.Curves(algorithm, arm)
	xs := make([]float64, len(cs))
	for i, c := range cs {
		xs[i], _ = c.At(t)
	}
	return Summarize(xs, level)
}

// end returns the budget, or the latest time of any point when it is zero.
func (e *Experiment) end() float64 {
	if e.Budget > 0 {
		return e.Budget
	}
	end := 0.0
	for _, r := range e.Runs {
		if len(r.Curve) > 0 {
			end = math.Max(end, r.Curve.End())
		}
	}
	return end
}
