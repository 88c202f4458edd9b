package reproduce

import (
	"math"
	"slices"
)

// targetStats are the statistics of one set of replayed runs (the main
// runs, or one bootstrap replicate's), in TargetReport's layout.
type targetStats struct {
	anytime [][]float64 // [alg·arms+arm][grid]: mean best accuracy
	reached [][]float64 // [(alg·targets+target)·arms+arm][grid]: share reached
	median  []float64   // [(alg·targets+target)·arms+arm]
	speedUp []float64   // [alg·targets+target]
}

func newTargetStats(r *TargetReport, runs []replayed) *targetStats {
	targets := r.Options.Targets
	nArms := len(r.Arms)
	s := &targetStats{}
	for _, alg := range r.Algorithms {
		for _, arm := range r.Arms {
			var curves [][]float64
			for _, run := range runs {
				if run.alg == alg && run.arm == arm {
					row := make([]float64, len(r.Grid))
					for i, t := range r.Grid {
						row[i] = bestAt(run.curve, t)
					}
					curves = append(curves, row)
				}
			}
			mean := make([]float64, len(r.Grid))
			for i := range r.Grid {
				var sum float64
				n := 0
				for _, c := range curves {
					if !math.IsNaN(c[i]) {
						sum += c[i]
						n++
					}
				}
				mean[i] = math.NaN()
				if n > 0 {
					mean[i] = sum / float64(n)
				}
			}
			s.anytime = append(s.anytime, mean)
		}
		for _, target := range targets {
			for _, arm := range r.Arms {
				var hits []float64
				for _, run := range runs {
					if run.alg == alg && run.arm == arm {
						hits = append(hits, hitTime(run.curve, target))
					}
				}
				slices.Sort(hits)
				share := make([]float64, len(r.Grid))
				for i, t := range r.Grid {
					k, _ := slices.BinarySearchFunc(hits, t, func(h, t float64) int {
						if h <= t {
							return -1
						}
						return 1
					})
					share[i] = float64(k) / float64(max(len(hits), 1))
				}
				s.reached = append(s.reached, share)
				s.median = append(s.median, medianHit(hits))
			}
			k := len(s.median) - nArms
			s.speedUp = append(s.speedUp, speedUp(r.Arms, s.median[k:]))
		}
	}
	return s
}

// medianHit is the median of sorted hitting times: +Inf unless more than
// half are finite.
func medianHit(sorted []float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	return quantile(sorted, 0.5)
}

// speedUp is the SGD arm's median hitting time over the HGD arm's (NaN
// without both arms or when neither reached).
func speedUp(arms []string, medians []float64) float64 {
	si, hi := slices.Index(arms, "sgd"), slices.Index(arms, "hgd")
	if si < 0 || hi < 0 {
		return math.NaN()
	}
	s, h := medians[si], medians[hi]
	switch {
	case math.IsInf(s, 1) && math.IsInf(h, 1):
		return math.NaN()
	case math.IsInf(s, 1):
		return math.Inf(1)
	case math.IsInf(h, 1):
		return 0
	case h == 0:
		return math.NaN()
	}
	return s / h
}

// percentileInterval is the 2.5% and 97.5% percentiles of xs, NaNs left
// out (NaN, NaN when fewer than two remain).
func percentileInterval(xs []float64) (lo, hi float64) {
	var v []float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) < 2 {
		return math.NaN(), math.NaN()
	}
	slices.Sort(v)
	return quantile(v, 0.025), quantile(v, 0.975)
}

// fill writes the main runs' statistics s and their bootstrap intervals
// from the replicates into r.
func (s *targetStats) fill(r *TargetReport, boots []*targetStats) {
	series := func(alg, arm string, value []float64, pick func(b *targetStats) []float64) Estimate {
		e := Estimate{Algorithm: alg, Arm: arm, Value: value}
		for i := range value {
			col := make([]float64, len(boots))
			for b, bs := range boots {
				col[b] = pick(bs)[i]
			}
			lo, hi := percentileInterval(col)
			e.Lo, e.Hi = append(e.Lo, lo), append(e.Hi, hi)
		}
		return e
	}
	nArms, nTargets := len(r.Arms), len(r.Options.Targets)
	var logBoots [][]float64
	for a, alg := range r.Algorithms {
		for m, arm := range r.Arms {
			k := a*nArms + m
			r.Anytime = append(r.Anytime, series(alg, arm, s.anytime[k], func(b *targetStats) []float64 { return b.anytime[k] }))
		}
		for t, target := range r.Options.Targets {
			cell := TargetCell{Algorithm: alg, Target: target}
			for m, arm := range r.Arms {
				k := (a*nTargets+t)*nArms + m
				cell.Reached = append(cell.Reached, series(alg, arm, s.reached[k], func(b *targetStats) []float64 { return b.reached[k] }))
				col := make([]float64, len(boots))
				for b, bs := range boots {
					col[b] = bs.median[k]
				}
				lo, hi := percentileInterval(col)
				cell.Median, cell.MedianLo, cell.MedianHi = append(cell.Median, s.median[k]), append(cell.MedianLo, lo), append(cell.MedianHi, hi)
			}
			j := a*nTargets + t
			col := make([]float64, len(boots))
			for b, bs := range boots {
				col[b] = bs.speedUp[j]
			}
			cell.SpeedUp = s.speedUp[j]
			cell.SpeedUpLo, cell.SpeedUpHi = percentileInterval(col)
			logs := make([]float64, len(col))
			for b, x := range col {
				logs[b] = math.Log(x)
			}
			logBoots = append(logBoots, logs)
			r.Cells = append(r.Cells, cell)
		}
	}
	r.Tests = r.speedTests(logBoots)
}
