package plots

import (
	"fmt"
	"math"
)

// Leads counts where the treatment's mean over seeds is above the
// baseline's, over the cells (algorithm, checkpoint) of an experiment.
//
// Cells are not independent comparisons: at an early checkpoint several
// algorithms may still hold the same values (each seed's first trial, the
// same in every algorithm that starts from the same configuration), and
// then they are one comparison counted several times. Cells of one
// checkpoint whose per-seed values are identical in both arms count once
// in Distinct, and Share and its interval are over the distinct
// comparisons.
type Leads struct {
	// Leads of Cells: cells where both arms have a mean; a tie is no lead.
	Leads, Cells int
	// DistinctLeads of Distinct: the same over distinct comparisons.
	DistinctLeads, Distinct int
	// Share is DistinctLeads/Distinct, Lo and Hi its Clopper–Pearson
	// interval at Level. NaN when Distinct is 0.
	Share, Lo, Hi, Level float64
	// Times are the checkpoints counted.
	Times []float64
	// Coincident[j] lists the groups of algorithms whose per-seed values
	// are identical in both arms at Times[j] (each group counted once).
	Coincident [][][]string
	// Reported[arm][j] is the mean number of trials per run of the arm
	// that had reported a result by Times[j] (Run.FirstResults); absent
	// when the runs do not record their results.
	Reported map[Arm][]float64
	// Data is the experiment's name (its data set), which the cells come
	// from.
	Data string
}

// CountLeads counts, over every algorithm of e and every checkpoint in
// times, the cells and the distinct comparisons in which treatment's mean
// is above baseline's, with the Clopper–Pearson interval of the share of
// distinct comparisons at level (zero: DefaultLevel). The interval treats
// the comparisons as independent trials, which they are not (the same
// seeds run at every checkpoint): read it as indicative.
func CountLeads(e *Experiment, baseline, treatment Arm, times []float64, level float64) (Leads, error) {
	level, err := validLevel(e, level)
	if err != nil {
		return Leads{}, err
	}
	l := Leads{Share: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), Level: level, Times: append([]float64(nil), times...), Data: e.Name}
	for _, t := range times {
		groups := map[string][]string{}
		var keys []string
		for _, alg := range e.Algorithms() {
			b, err := e.At(alg, baseline, t, level)
			if err != nil {
				return Leads{}, err
			}
			tr, err := e.At(alg, treatment, t, level)
			if err != nil {
				return Leads{}, err
			}
			if math.IsNaN(b.Mean) || math.IsNaN(tr.Mean) {
				continue
			}
			l.Cells++
			lead := tr.Mean > b.Mean
			if lead {
				l.Leads++
			}
			bv, tv := e.Pairs(alg, baseline, treatment, t)
			key := fmt.Sprint(bv, tv)
			if _, seen := groups[key]; !seen {
				keys = append(keys, key)
				l.Distinct++
				if lead {
					l.DistinctLeads++
				}
			}
			groups[key] = append(groups[key], alg)
		}
		var same [][]string
		for _, k := range keys {
			if len(groups[k]) > 1 {
				same = append(same, groups[k])
			}
		}
		l.Coincident = append(l.Coincident, same)
	}
	for _, arm := range []Arm{baseline, treatment} {
		counts := make([]float64, len(times))
		runs := 0
		for _, r := range e.Runs {
			if r.Arm != arm || r.FirstResults == nil {
				continue
			}
			runs++
			for j, t := range times {
				for _, at := range r.FirstResults {
					if at <= t {
						counts[j]++
					}
				}
			}
		}
		if runs > 0 {
			if l.Reported == nil {
				l.Reported = map[Arm][]float64{}
			}
			for j := range counts {
				counts[j] /= float64(runs)
			}
			l.Reported[arm] = counts
		}
	}
	if l.Distinct > 0 {
		l.Share = float64(l.DistinctLeads) / float64(l.Distinct)
		if l.Lo, l.Hi, err = ClopperPearson(l.DistinctLeads, l.Distinct, level); err != nil {
			return Leads{}, err
		}
	}
	return l, nil
}
