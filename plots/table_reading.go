package plots

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Verdict says, in one sentence, which paired differences survive Holm's
// correction over the table's family, or that none does and the smallest
// adjusted p; "" when no comparison has MinPairs pairs (PowerSummary then
// says that the seeds are too few).
func (t *Table) Verdict() string {
	pairs := 0
	for _, r := range t.Rows {
		pairs = max(pairs, r.EarlyPaired.Diff.N, r.FinalPaired.Diff.N)
	}
	if pairs < MinPairs {
		return ""
	}
	alpha := 1 - t.Level
	var hits []string
	best, bestAt := math.NaN(), ""
	for _, r := range t.Rows {
		for _, c := range []struct {
			at float64
			g  Paired
		}{{t.Early, r.EarlyPaired}, {t.Final, r.FinalPaired}} {
			h := c.g.Holm
			if math.IsNaN(h) {
				continue
			}
			at := fmt.Sprintf("%s @ %s s", r.Algorithm, formatSeconds(c.at))
			if h < alpha {
				hits = append(hits, fmt.Sprintf("%s (Δ %+.1f points, p Holm %.3g)", at, 100*c.g.Diff.Mean, h))
			}
			if math.IsNaN(best) || h < best {
				best, bestAt = h, at
			}
		}
	}
	family := 2 * len(t.Rows)
	if len(hits) == 0 {
		return fmt.Sprintf("After Holm's correction over the %d comparisons, no difference between %s and %s is significant at %.3g (smallest adjusted p: %.3g, %s).",
			family, t.Treatment, t.Baseline, alpha, best, bestAt)
	}
	return fmt.Sprintf("After Holm's correction over the %d comparisons, significant at %.3g: %s.", family, alpha, strings.Join(hits, "; "))
}

// Detectable returns the median, smallest and largest over algorithms of
// the difference detectable at the final checkpoint with 80% power
// (Paired.Detectable, in accuracy points), and the most pairs any
// algorithm had there; NaNs when no algorithm had two pairs.
func (t *Table) Detectable() (median, lo, hi float64, pairs int) {
	var ds []float64
	for _, r := range t.Rows {
		if d := r.FinalPaired.Detectable; !math.IsNaN(d) {
			ds = append(ds, 100*d)
		}
		pairs = max(pairs, r.FinalPaired.Diff.N)
	}
	if len(ds) == 0 {
		return math.NaN(), math.NaN(), math.NaN(), pairs
	}
	sort.Float64s(ds)
	median = ds[len(ds)/2]
	if len(ds)%2 == 0 {
		median = (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
	}
	return median, ds[0], ds[len(ds)-1], pairs
}

// PowerSummary says how large a difference the table's comparisons could
// detect with 80% power at the final checkpoint (Detectable), "" when
// none could be computed. With fewer than MinPairs pairs it says first
// that the seeds are too few to separate the arms.
func (t *Table) PowerSummary() string {
	med, lo, hi, pairs := t.Detectable()
	var s string
	if pairs < MinPairs {
		s = fmt.Sprintf("%d seeds cannot separate the arms (at least %d pairs are needed for a test to mean much). ", pairs, MinPairs)
	}
	if math.IsNaN(med) {
		return strings.TrimSpace(s)
	}
	return s + fmt.Sprintf("With %d pairs, a difference at %s s is detected with 80%% power only if it is about %.1f points or more (median over algorithms; %.1f–%.1f).",
		pairs, formatSeconds(t.Final), med, lo, hi)
}

// LeadsSummary describes Leads in one paragraph ("" without cells): the
// share of distinct comparisons where the treatment leads with its
// interval, the cells that coincide, the trials reported per checkpoint,
// and the paper's share, which spans both of its data sets.
func (t *Table) LeadsSummary() string {
	l := t.Leads
	if l.Cells == 0 {
		return ""
	}
	var b strings.Builder
	data := ""
	if l.Data != "" {
		data = " (" + l.Data + " only)"
	}
	fmt.Fprintf(&b, "%s has the higher mean in %d of %d cells (algorithms × checkpoints %s s), %d of %d distinct comparisons%s: %.1f%%, %s Clopper–Pearson interval [%.1f%%, %.1f%%] (the comparisons share seeds, so the interval is indicative).",
		t.Treatment, l.Leads, l.Cells, joinSeconds(l.Times), l.DistinctLeads, l.Distinct, data, 100*l.Share, levelPercent(l.Level), 100*l.Lo, 100*l.Hi)
	for j, groups := range l.Coincident {
		for _, g := range groups {
			fmt.Fprintf(&b, " At %s s, %s hold identical per-seed values (one comparison).", formatSeconds(l.Times[j]), strings.Join(g, ", "))
		}
	}
	if bl, tr := l.Reported[t.Baseline], l.Reported[t.Treatment]; bl != nil && tr != nil {
		var parts []string
		for j := range l.Times {
			parts = append(parts, fmt.Sprintf("%s s: %.1f / %.1f", formatSeconds(l.Times[j]), bl[j], tr[j]))
		}
		fmt.Fprintf(&b, " Trials reported per run (%s / %s): %s.", t.Baseline, t.Treatment, strings.Join(parts, "; "))
	}
	fmt.Fprintf(&b, " The paper: %s leads in 88.3%% of cases, 53 of 60 cells over CIFAR-10 and CIFAR-100 together.", t.Treatment)
	return b.String()
}
