package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// DefaultLevel is the confidence level used when a Level field is zero.
const DefaultLevel = 0.95

// Stat summarises one quantity over seeds.
type Stat struct {
	// Mean is the mean over the seeds that contributed (NaN when none did).
	Mean float64
	// HalfWidth is the half width of the two-sided Student-t confidence
	// interval of the mean, t_{(1+level)/2, N−1} · s / √N with s the sample
	// standard deviation. NaN when N < 2 (no interval).
	HalfWidth float64
	// N is the number of seeds that contributed; Total the number of seeds in
	// the group (N < Total when some had no value yet).
	N, Total int
}

// Lo is Mean − HalfWidth (NaN when there is no interval).
func (s Stat) Lo() float64 { return s.Mean - s.HalfWidth }

// Hi is Mean + HalfWidth (NaN when there is no interval).
func (s Stat) Hi() float64 { return s.Mean + s.HalfWidth }

// TQuantile returns the p-quantile of Student's t distribution with df degrees
// of freedom (df > 0), e.g. TQuantile(0.975, 4) ≈ 2.7764.
func TQuantile(p, df float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(p)
}

func resolveLevel(level float64) (float64, error) {
	if level == 0 {
		return DefaultLevel, nil
	}
	if !(level > 0 && level < 1) {
		return 0, fmt.Errorf("%w: confidence level %v not in (0, 1)", ErrBadConfig, level)
	}
	return level, nil
}

// validLevel validates e and resolves a configured confidence level, the
// first steps of every figure and table.
func validLevel(e *Experiment, level float64) (float64, error) {
	if err := e.Validate(); err != nil {
		return 0, err
	}
	return resolveLevel(level)
}

// Summarize returns the mean and the confidence interval (level in (0, 1);
// zero means DefaultLevel) of xs.
//
// Missing values: NaN entries stand for seeds that have no value (a curve that
// has not started yet at the time asked). They are excluded: the mean and the
// interval are over the N seeds that have a value, and N is reported beside
// Total = len(xs). With N = 1 there is no interval; with N = 0 the mean is NaN.
func Summarize(xs []float64, level float64) (Stat, error) {
	level, err := resolveLevel(level)
	if err != nil {
		return Stat{}, err
	}
	s := Stat{Mean: math.NaN(), HalfWidth: math.NaN(), Total: len(xs)}
	sum := 0.0
	for _, x := range xs {
		if !math.IsNaN(x) {
			sum += x
			s.N++
		}
	}
	if s.N == 0 {
		return s, nil
	}
	s.Mean = sum / float64(s.N)
	if s.N < 2 {
		return s, nil
	}
	ss := 0.0
	for _, x := range xs {
		if !math.IsNaN(x) {
			ss += (x - s.Mean) * (x - s.Mean)
		}
	}
	sd := math.Sqrt(ss / float64(s.N-1))
	s.HalfWidth = TQuantile((1+level)/2, float64(s.N-1)) * sd / math.Sqrt(float64(s.N))
	return s, nil
}

// Band is the mean of several seeds' curves and its confidence band on a time
// grid: at grid time T[i] the mean is Mean[i], the interval [Lo[i], Hi[i]],
// and N[i] seeds contributed (of Seeds).
type Band struct {
	T, Mean, Lo, Hi []float64
	N               []int
	Seeds           int
}

// Stat returns the summary at grid index i.
func (b *Band) Stat(i int) Stat {
	return Stat{Mean: b.Mean[i], HalfWidth: b.Hi[i] - b.Mean[i], N: b.N[i], Total: b.Seeds}
}

// Aggregate resamples the curves on grid (see Resample) and summarises them at
// each grid time (see Summarize for the missing-seed rule). Where fewer than
// minSeeds seeds (values below 1 mean 1) have a value, Mean, Lo and Hi are NaN.
func Aggregate(curves []Curve, grid []float64, level float64, minSeeds int) (Band, error) {
	if len(curves) == 0 {
		return Band{}, fmt.Errorf("%w: no curves to aggregate", ErrNoData)
	}
	if minSeeds < 1 {
		minSeeds = 1
	}
	vals := Resample(curves, grid)
	b := Band{
		T:     append([]float64(nil), grid...),
		Mean:  make([]float64, len(grid)),
		Lo:    make([]float64, len(grid)),
		Hi:    make([]float64, len(grid)),
		N:     make([]int, len(grid)),
		Seeds: len(curves),
	}
	col := make([]float64, len(curves))
	for i := range grid {
		for k := range curves {
			col[k] = vals[k][i]
		}
		s, err := Summarize(col, level)
		if err != nil {
			return Band{}, err
		}
		b.N[i] = s.N
		if s.N < minSeeds {
			s.Mean, s.HalfWidth = math.NaN(), math.NaN()
		}
		b.Mean[i], b.Lo[i], b.Hi[i] = s.Mean, s.Lo(), s.Hi()
	}
	return b, nil
}
