package reproduce

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/cifar/trainer"
	"github.com/hgdtune/hgdtune/hpo"
)

// Time to target. A replay answers the paper's question — does HGD inside
// HPO reach good accuracy sooner? — directly: for each algorithm, arm and
// target accuracy, the compute time each run needs until its best result
// reaches the target (its hitting time; never, if not within T). Targets
// compares the arms by the share of runs that reached each target over
// time and by the median hitting time; the HGD arm's speed-up is the SGD
// arm's median over the HGD arm's.
//
// Every run of a study draws from the same pool, so the pool's own chance
// (which configurations happened to be recorded, with which seed) is in
// every run alike and no interval over seeds covers it. The intervals of
// Targets are a pool bootstrap: each replicate resamples both arms' pools
// with replacement, replays BootSeeds seeds on it, and computes every
// statistic again; the interval is the replicates' 2.5% and 97.5%
// percentiles. A replicate's statistics also vary with its own seeds, so
// with BootSeeds below Seeds the intervals are wider than the pool's and
// the seeds' chance together need: conservative.

// TargetOptions configure Targets.
type TargetOptions struct {
	// Preset is the replay's preset: Replay set to Curves' ID, the
	// algorithms, arms, seeds, budget and learning-rate prior.
	Preset Preset
	Curves *Curves
	// Targets are the target accuracies; nil: DefaultTargets of the main
	// runs.
	Targets []float64
	// Boot is the number of pool bootstrap replicates (default 200) and
	// BootSeeds the seeds each replays (default 20).
	Boot, BootSeeds int
	// Seed seeds the bootstrap's resampling.
	Seed uint64
	// GridPoints is the number of times, 0 to T, at which the curves are
	// given (default 101).
	GridPoints int
	// Progress, if set, is called after each replayed run with the runs
	// done and their total.
	Progress func(done, total int)
}

// TargetReport is what Targets found.
type TargetReport struct {
	Options TargetOptions
	// Grid holds the times (seconds) of the curves.
	Grid []float64
	// Algorithms and Arms in the preset's order.
	Algorithms, Arms []string
	// Cells holds one cell per algorithm and target, algorithm-major.
	Cells []TargetCell
	// Tests tests each cell's speed-up (SpeedTest), in Cells' order.
	Tests []SpeedTest
	// PoolSize and ESS are, per arm, the pool's configurations and their
	// effective sample size under the preset's learning-rate prior (ESS of
	// the replay weights; the pool's size for the HGD arm).
	PoolSize map[string]int
	ESS      map[string]float64
	// Anytime holds, per algorithm and arm (algorithm-major), the mean best
	// accuracy over the main runs at each grid time and its bootstrap
	// interval.
	Anytime []Estimate
}

// Estimate is a statistic of the main runs at each grid time (or once),
// with its pool-bootstrap interval.
type Estimate struct {
	Algorithm, Arm string
	Value, Lo, Hi  []float64
}

// TargetCell compares the arms of one algorithm at one target.
type TargetCell struct {
	Algorithm string
	Target    float64
	// Reached[a] is, per arm a (Arms' order), the share of runs that reached
	// the target at each grid time (the last one is the share by T), with
	// its interval.
	Reached []Estimate
	// Median[a] is the median hitting time (seconds; +Inf when half the
	// runs or fewer reached the target), MedianLo/Hi its interval.
	Median, MedianLo, MedianHi []float64
	// SpeedUp is the SGD arm's median hitting time over the HGD arm's (+Inf
	// when only HGD's median is finite, 0 when only SGD's is, NaN when
	// neither is), with its interval.
	SpeedUp, SpeedUpLo, SpeedUpHi float64
}

// Targets replays the preset's runs on the pool (Seeds seeds each), then
// Boot pool bootstrap replicates, and compares the arms' times to the
// targets. It trains nothing and writes nothing.
func Targets(ctx context.Context, o TargetOptions) (*TargetReport, error) {
	p := o.Preset
	if o.Curves == nil || p.Replay != o.Curves.ID() {
		return nil, fmt.Errorf("%w: Targets needs the pool that the preset replays", ErrConfig)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := o.Curves.Fits(p); err != nil {
		return nil, err
	}
	if o.Boot == 0 {
		o.Boot = 200
	}
	if o.BootSeeds == 0 {
		o.BootSeeds = 20
	}
	if o.GridPoints == 0 {
		o.GridPoints = 101
	}
	if o.Boot < 2 || o.BootSeeds < 1 || o.GridPoints < 2 {
		return nil, fmt.Errorf("%w: %d bootstrap replicates (≥ 2), %d seeds each (≥ 1), %d grid points (≥ 2)", ErrConfig, o.Boot, o.BootSeeds, o.GridPoints)
	}
	for _, t := range o.Targets {
		if !(t > 0 && t <= 1) {
			return nil, fmt.Errorf("%w: target accuracy %v not in (0, 1]", ErrConfig, t)
		}
	}
	r := &TargetReport{Algorithms: p.Algorithms, Arms: p.Arms, PoolSize: map[string]int{}, ESS: map[string]float64{}}
	for _, name := range p.Arms {
		arm, err := cnn.ParseArm(name)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		ms := o.Curves.Arms[name]
		r.PoolSize[name], r.ESS[name] = len(ms), ESS(replayWeights(p, arm, ms))
	}
	T := time.Duration(p.Budget).Seconds()
	for i := range o.GridPoints {
		r.Grid = append(r.Grid, T*float64(i)/float64(o.GridPoints-1))
	}
	total := len(p.Algorithms) * len(p.Arms) * (p.Seeds + o.Boot*o.BootSeeds)
	done := 0
	progress := func() {
		done++
		if o.Progress != nil {
			o.Progress(done, total)
		}
	}
	main, err := replayCurves(ctx, p, o.Curves, p.Seeds, progress)
	if err != nil {
		return nil, err
	}
	if o.Targets == nil {
		o.Targets = defaultTargets(main)
	}
	r.Options = o
	est := newTargetStats(r, main)
	rng := rand.New(rand.NewPCG(o.Seed, 0x706f6f6c)) // "pool"
	boots := make([]*targetStats, o.Boot)
	for b := range o.Boot {
		bp := bootstrapPool(o.Curves, rng)
		q := p
		q.Replay = bp.ID()
		runs, err := replayCurves(ctx, q, bp, o.BootSeeds, progress)
		if err != nil {
			return nil, err
		}
		boots[b] = newTargetStats(r, runs)
	}
	est.fill(r, boots)
	return r, nil
}

// replayed is the best-so-far curve of one replayed run.
type replayed struct {
	alg, arm string
	curve    []hpo.Point
}

// replayCurves replays seeds seeds of every algorithm and arm of p on pool
// c in memory, returning their best-so-far curves.
func replayCurves(ctx context.Context, p Preset, c *Curves, seeds int, progress func()) ([]replayed, error) {
	var out []replayed
	for _, alg := range p.Algorithms {
		for _, arm := range p.Arms {
			for s := range seeds {
				o := Options{Preset: p, Curves: c, mem: newMemStore()}
				e, err := experiment(o, trainer.Data{}, RunID{alg, arm, s}, nil)
				if err != nil {
					return nil, err
				}
				rep, err := hpo.Run(ctx, e)
				if err != nil {
					return nil, fmt.Errorf("reproduce: replay %s: %w", RunID{alg, arm, s}, err)
				}
				out = append(out, replayed{alg, arm, rep.Curve})
				progress()
			}
		}
	}
	return out, nil
}

// bootstrapPool resamples each arm's members with replacement.
func bootstrapPool(c *Curves, rng *rand.Rand) *Curves {
	b := *c
	b.id = ""
	b.Arms = map[string][]Member{}
	for _, arm := range slices.Sorted(maps.Keys(c.Arms)) {
		ms := c.Arms[arm]
		out := make([]Member, len(ms))
		for i := range out {
			out[i] = ms[rng.IntN(len(ms))]
		}
		b.Arms[arm] = out
	}
	return &b
}

// defaultTargets are three target accuracies that most runs reach: the
// 10%, 25% and 50% quantiles of the runs' best accuracy at T (so that
// about 90%, 75% and 50% of all runs, both arms and every algorithm
// together, reach them), rounded down to 0.005.
func defaultTargets(runs []replayed) []float64 {
	var final []float64
	for _, r := range runs {
		if n := len(r.curve); n > 0 {
			final = append(final, r.curve[n-1].Best)
		} else {
			final = append(final, 0)
		}
	}
	slices.Sort(final)
	var out []float64
	for _, q := range []float64{0.10, 0.25, 0.50} {
		v := math.Floor(quantile(final, q)*200) / 200
		if v > 0 && (len(out) == 0 || v > out[len(out)-1]) {
			out = append(out, v)
		}
	}
	return out
}

// quantile is the q-quantile of sorted xs (linear interpolation). Between
// an infinite value and another the quantile is that infinity (NaN between
// −Inf and +Inf).
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(xs)-1)
	i := int(pos)
	if i >= len(xs)-1 {
		return xs[len(xs)-1]
	}
	lo, hi, frac := xs[i], xs[i+1], pos-float64(i)
	switch {
	case frac == 0:
		return lo
	case math.IsInf(lo, -1) && math.IsInf(hi, 1):
		return math.NaN()
	case math.IsInf(lo, -1):
		return lo
	case math.IsInf(hi, 1):
		return hi
	}
	return lo + frac*(hi-lo)
}

// hitTime is the first time (seconds) the curve's best reaches target;
// +Inf if it never does.
func hitTime(curve []hpo.Point, target float64) float64 {
	for _, p := range curve {
		if p.Best >= target {
			return p.Elapsed.Seconds()
		}
	}
	return math.Inf(1)
}

// bestAt is the curve's best at time t (NaN before its first result).
func bestAt(curve []hpo.Point, t float64) float64 {
	v := math.NaN()
	for _, p := range curve {
		if p.Elapsed.Seconds() > t {
			break
		}
		v = p.Best
	}
	return v
}
