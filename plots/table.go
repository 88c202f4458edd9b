package plots

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// TableConfig configures NewTable (the paper's Tables 3 and 4). The zero value
// gives the defaults documented on each field.
type TableConfig struct {
	// Title (caption). Default: "<Experiment.Name>: mean best validation
	// accuracy (± 95% CI over seeds)".
	Title string
	// Early is the early checkpoint in seconds. Default Budget/6 (the paper's
	// 500 s of 3000 s).
	Early float64
	// Final is the final checkpoint in seconds. Default Budget.
	Final float64
	// Baseline and Treatment are the arms compared; gains are
	// (Treatment − Baseline)/Baseline. Defaults SGD and HGD.
	Baseline, Treatment Arm
	// Level is the confidence level. Default DefaultLevel.
	Level float64
	// Reference, when set, is printed in parentheses beside our values,
	// matched by algorithm name (case-insensitive); e.g. PaperTable3().Table().
	Reference *Table
	// Test is the paired test whose p-values the table shows: TestT (the
	// default, "") or TestWilcoxon. Both are computed (TableRow.EarlyPaired).
	Test string
	// Checkpoints are the times over which Table.Leads counts the cells
	// where the treatment leads. Default Checkpoints(Budget, 6): the 1/6,
	// …, 5/6 T of Figures 4/5 (Final instead of Budget when that is zero).
	Checkpoints []float64
}

// Paired tests a table can show (TableConfig.Test).
const (
	TestT        = "t"
	TestWilcoxon = "wilcoxon"
)

// TableRow holds one algorithm's summaries at the two checkpoints and the
// relative gains of the treatment over the baseline.
type TableRow struct {
	Algorithm                     string
	EarlyBaseline, EarlyTreatment Stat
	FinalBaseline, FinalTreatment Stat
	// EarlyGain and FinalGain are (treatment − baseline)/baseline of the means
	// (a fraction: 0.3662 is +36.62%); NaN when either mean is missing or the
	// baseline is zero.
	EarlyGain, FinalGain float64
	// EarlyPaired and FinalPaired compare the arms seed by seed (seed k of
	// both arms is a pair): the differences in accuracy, the log ratios,
	// both paired tests, the detectable difference and the Holm-adjusted p
	// (see ComparePaired, NewTable). Zero in the mean row and in tables
	// without per-seed data (PaperResults.Table).
	EarlyPaired, FinalPaired Paired
}

// Table is the plain-struct form of the paper's Tables 3 and 4: mean best
// accuracy per algorithm and arm at an early checkpoint and at the end, with
// the gain of the treatment (HGD) over the baseline (SGD).
type Table struct {
	Title               string
	Early, Final        float64
	Baseline, Treatment Arm
	Level               float64
	Rows                []TableRow
	// Mean is the mean over algorithms: its Stats' means are the means of the
	// rows' means (no interval; N counts the algorithms that had a value) and
	// its gains are the MEAN OF THE PER-ALGORITHM GAINS (mean of ratios) —
	// the definition behind the paper's headline numbers.
	Mean TableRow
	// EarlyRatioOfMeans and FinalRatioOfMeans are the gains of Mean's
	// accuracies: (mean treatment − mean baseline)/mean baseline.
	EarlyRatioOfMeans, FinalRatioOfMeans float64
	// Reference, if not nil, is printed beside this table's values.
	Reference *Table
	// Paired reports that the rows hold paired comparisons (NewTable); the
	// table then shows them and Leads. Test is the test whose p-values are
	// adjusted for multiple comparisons (TestT or TestWilcoxon): Holm's
	// procedure over the family of every row's early and final comparison.
	Paired bool
	Test   string
	// Leads counts the cells (algorithm × checkpoint) and the distinct
	// comparisons where the treatment's mean is above the baseline's.
	Leads Leads
}

// Family returns the p-values of the test the table adjusts, one per
// paired comparison (rows' early then final), and their Holm-adjusted
// values, in the same order.
func (t *Table) Family() (ps, holm []float64) {
	for _, r := range t.Rows {
		ps = append(ps, r.EarlyPaired.Of(t.Test).P, r.FinalPaired.Of(t.Test).P)
	}
	return ps, Holm(ps)
}

// Gain returns (treatment − baseline)/baseline, or NaN when baseline is zero
// or either value is NaN.
func Gain(treatment, baseline float64) float64 {
	if baseline == 0 || math.IsNaN(baseline) || math.IsNaN(treatment) {
		return math.NaN()
	}
	return (treatment - baseline) / baseline
}

// NewTable summarises e at the early and final checkpoints (seeds that have
// not started at a checkpoint are excluded; see Summarize).
func NewTable(e *Experiment, cfg TableConfig) (*Table, error) {
	level, err := validLevel(e, cfg.Level)
	if err != nil {
		return nil, err
	}
	t := &Table{
		Title: cfg.Title, Early: cfg.Early, Final: cfg.Final,
		Baseline: cfg.Baseline, Treatment: cfg.Treatment, Level: level, Reference: cfg.Reference,
	}
	if t.Early == 0 {
		t.Early = e.Budget / 6
	}
	if t.Final == 0 {
		t.Final = e.Budget
	}
	if !(t.Early > 0 && t.Final > 0) {
		return nil, fmt.Errorf("%w: table needs Experiment.Budget or explicit Early and Final times", ErrBadConfig)
	}
	if t.Baseline == "" {
		t.Baseline = SGD
	}
	if t.Treatment == "" {
		t.Treatment = HGD
	}
	t.Paired, t.Test = true, cfg.Test
	if t.Test == "" {
		t.Test = TestT
	}
	if t.Test != TestT && t.Test != TestWilcoxon {
		return nil, fmt.Errorf("%w: table test %q (want %q or %q)", ErrBadConfig, t.Test, TestT, TestWilcoxon)
	}
	if t.Title == "" {
		t.Title = fmt.Sprintf("mean best validation accuracy (± %s CI over seeds)", levelPercent(level))
		if e.Name != "" {
			t.Title = e.Name + ": " + t.Title
		}
	}
	for _, alg := range e.Algorithms() {
		var r TableRow
		r.Algorithm = alg
		for _, c := range []struct {
			s   *Stat
			arm Arm
			at  float64
		}{
			{&r.EarlyBaseline, t.Baseline, t.Early}, {&r.EarlyTreatment, t.Treatment, t.Early},
			{&r.FinalBaseline, t.Baseline, t.Final}, {&r.FinalTreatment, t.Treatment, t.Final},
		} {
			if *c.s, err = e.At(alg, c.arm, c.at, level); err != nil {
				return nil, err
			}
		}
		for _, c := range []struct {
			g  *Paired
			at float64
		}{{&r.EarlyPaired, t.Early}, {&r.FinalPaired, t.Final}} {
			b, tr := e.Pairs(alg, t.Baseline, t.Treatment, c.at)
			if *c.g, err = ComparePaired(b, tr, level); err != nil {
				return nil, err
			}
		}
		t.Rows = append(t.Rows, r)
	}
	times := cfg.Checkpoints
	if len(times) == 0 {
		end := e.Budget
		if end == 0 {
			end = t.Final
		}
		times = Checkpoints(end, 6)
	}
	if t.Leads, err = CountLeads(e, t.Baseline, t.Treatment, times, level); err != nil {
		return nil, err
	}
	_, holm := t.Family()
	for i := range t.Rows {
		t.Rows[i].EarlyPaired.Holm, t.Rows[i].FinalPaired.Holm = holm[2*i], holm[2*i+1]
	}
	t.finish()
	return t, nil
}

// testName names the test shown, for headers and notes.
func (t *Table) testName() string {
	if t.Test == TestWilcoxon {
		return "Wilcoxon"
	}
	return "paired t"
}

// finish fills the rows' gains, Mean and the ratios of means.
func (t *Table) finish() {
	var m TableRow
	m.Algorithm = "mean"
	meanOf := func(get func(*TableRow) float64) (mean float64, n int) {
		sum := 0.0
		for i := range t.Rows {
			if v := get(&t.Rows[i]); !math.IsNaN(v) {
				sum += v
				n++
			}
		}
		if n == 0 {
			return math.NaN(), 0
		}
		return sum / float64(n), n
	}
	for i := range t.Rows {
		r := &t.Rows[i]
		r.EarlyGain = Gain(r.EarlyTreatment.Mean, r.EarlyBaseline.Mean)
		r.FinalGain = Gain(r.FinalTreatment.Mean, r.FinalBaseline.Mean)
	}
	for _, c := range []struct {
		dst *Stat
		get func(*TableRow) float64
	}{
		{&m.EarlyBaseline, func(r *TableRow) float64 { return r.EarlyBaseline.Mean }},
		{&m.EarlyTreatment, func(r *TableRow) float64 { return r.EarlyTreatment.Mean }},
		{&m.FinalBaseline, func(r *TableRow) float64 { return r.FinalBaseline.Mean }},
		{&m.FinalTreatment, func(r *TableRow) float64 { return r.FinalTreatment.Mean }},
	} {
		mean, n := meanOf(c.get)
		*c.dst = Stat{Mean: mean, HalfWidth: math.NaN(), N: n, Total: len(t.Rows)}
	}
	m.EarlyGain, _ = meanOf(func(r *TableRow) float64 { return r.EarlyGain })
	m.FinalGain, _ = meanOf(func(r *TableRow) float64 { return r.FinalGain })
	t.Mean = m
	t.EarlyRatioOfMeans = Gain(m.EarlyTreatment.Mean, m.EarlyBaseline.Mean)
	t.FinalRatioOfMeans = Gain(m.FinalTreatment.Mean, m.FinalBaseline.Mean)
}

// Row returns the row of algorithm alg (case-insensitive), if any.
func (t *Table) Row(alg string) (TableRow, bool) {
	for _, r := range t.Rows {
		if strings.EqualFold(r.Algorithm, alg) {
			return r, true
		}
	}
	return TableRow{}, false
}

// tableFormat abstracts Markdown and LaTeX.
type tableFormat struct {
	pm, dash, nbs string
	escape        func(string) string
	percent       string
	math          func(string) string
}

var markdownFormat = tableFormat{
	pm: " ± ", dash: "—", nbs: " ", percent: "%",
	escape: func(s string) string { return strings.ReplaceAll(s, "|", `\|`) },
	math:   func(s string) string { return s },
}

var latexFormat = tableFormat{
	pm: ` \pm `, dash: "--", nbs: `\,`, percent: `\%`,
	escape: latexEscape,
	math:   func(s string) string { return "$" + s + "$" },
}

func latexEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\textbackslash{}`)
		case '&', '%', '$', '#', '_', '{', '}':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '~':
			b.WriteString(`\textasciitilde{}`)
		case '^':
			b.WriteString(`\textasciicircum{}`)
		case '±':
			b.WriteString(`$\pm$`)
		case '−':
			b.WriteByte('-')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (f tableFormat) stat(s Stat) string {
	if math.IsNaN(s.Mean) {
		return f.dash
	}
	v := fmt.Sprintf("%.4f", s.Mean)
	if !math.IsNaN(s.HalfWidth) {
		v += f.pm + fmt.Sprintf("%.4f", s.HalfWidth)
	}
	out := f.math(v)
	if s.Total > 0 && s.N < s.Total && s.N > 0 {
		out += fmt.Sprintf(" [n=%d/%d]", s.N, s.Total)
	}
	return out
}

func (f tableFormat) gain(g float64) string {
	if math.IsNaN(g) {
		return f.dash
	}
	r := math.Round(100*100*g) / 100
	if r == 0 {
		r = 0 // no "-0.00%"
	}
	return f.math(fmt.Sprintf("%+.2f", r) + f.percent)
}

// ref appends " (reference)" to a cell when there is one.
func (f tableFormat) withRef(ours, ref string, hasRef bool) string {
	if !hasRef {
		return ours
	}
	return ours + " (" + ref + ")"
}

// cells renders the descriptive table in the paper's format: header,
// rows, mean and ratio-of-means rows, and the notes.
func (t *Table) cells(f tableFormat) (header []string, body [][]string, notes []string) {
	secs := func(x float64) string { return formatSeconds(x) + f.nbs + "s" }
	b, tr := f.escape(string(t.Baseline)), f.escape(string(t.Treatment))
	header = []string{
		"algorithm",
		b + " @ " + secs(t.Early), tr + " @ " + secs(t.Early), "gain @ " + secs(t.Early),
		b + " @ " + secs(t.Final), tr + " @ " + secs(t.Final), "gain @ " + secs(t.Final),
	}
	hasRef := t.Reference != nil
	row := func(r TableRow, ref TableRow, ok bool) []string {
		return []string{
			f.escape(r.Algorithm),
			f.withRef(f.stat(r.EarlyBaseline), f.stat(ref.EarlyBaseline), ok),
			f.withRef(f.stat(r.EarlyTreatment), f.stat(ref.EarlyTreatment), ok),
			f.withRef(f.gain(r.EarlyGain), f.gain(ref.EarlyGain), ok),
			f.withRef(f.stat(r.FinalBaseline), f.stat(ref.FinalBaseline), ok),
			f.withRef(f.stat(r.FinalTreatment), f.stat(ref.FinalTreatment), ok),
			f.withRef(f.gain(r.FinalGain), f.gain(ref.FinalGain), ok),
		}
	}
	for _, r := range t.Rows {
		var ref TableRow
		ok := false
		if hasRef {
			ref, ok = t.Reference.Row(r.Algorithm)
		}
		body = append(body, row(r, ref, ok))
	}
	var refMean TableRow
	if hasRef {
		refMean = t.Reference.Mean
	}
	body = append(body, row(t.Mean, refMean, hasRef))
	ratio := []string{"ratio of means", "", "", f.gain(t.EarlyRatioOfMeans), "", "", f.gain(t.FinalRatioOfMeans)}
	if hasRef {
		ratio[3] = f.withRef(ratio[3], f.gain(t.Reference.EarlyRatioOfMeans), true)
		ratio[6] = f.withRef(ratio[6], f.gain(t.Reference.FinalRatioOfMeans), true)
	}
	body = append(body, ratio)
	notes = append(notes,
		f.escape(fmt.Sprintf("Accuracy: mean ± %s CI half-width over seeds (Student t, n−1 df); [n=k/K]: only k of K seeds had a value yet.",
			levelPercent(t.Level))),
		f.escape(fmt.Sprintf("gain = (%s − %s)/%s of the mean accuracies, as the paper reports it: descriptive, no test. Row mean: mean over algorithms; its gain is the mean of the per-algorithm gains. Row ratio of means: gain of the mean accuracies.",
			t.Treatment, t.Baseline, t.Baseline)),
	)
	if hasRef {
		notes = append(notes, f.escape("In parentheses: "+t.Reference.Title+"."))
	}
	return header, body, notes
}

// points formats an accuracy difference (a fraction) in accuracy points.
func (f tableFormat) points(d float64) string {
	if math.IsNaN(d) {
		return f.dash
	}
	r := math.Round(100*100*d) / 100
	if r == 0 {
		r = 0
	}
	return f.math(fmt.Sprintf("%+.2f", r))
}

// pvalue formats a p-value, starred below alpha.
func (f tableFormat) pvalue(p, alpha float64) string {
	if math.IsNaN(p) {
		return f.dash
	}
	s := fmt.Sprintf("%.4f", p)
	if p < alpha {
		s += "*"
	}
	return s
}

// pairedCells renders the paired comparison (the primary one): a row per
// algorithm and checkpoint, and the notes, verdicts first.
func (t *Table) pairedCells(f tableFormat) (header []string, body [][]string, notes []string) {
	lp := levelPercent(t.Level)
	alpha := 1 - t.Level
	header = []string{"algorithm", "at", "pairs",
		"Δ points [" + lp + " CI]", "geometric-mean gain [" + lp + " CI]",
		"p (paired t)", "p (Wilcoxon)", "p Holm (" + t.testName() + ")", "detectable Δ points (80% power)"}
	for _, r := range t.Rows {
		for _, c := range []struct {
			at float64
			g  Paired
		}{{t.Early, r.EarlyPaired}, {t.Final, r.FinalPaired}} {
			g := c.g
			d := f.points(g.Diff.Mean)
			if !math.IsNaN(g.Diff.HalfWidth) {
				d += " [" + f.points(g.Diff.Lo()) + ", " + f.points(g.Diff.Hi()) + "]"
			}
			geo, lo, hi := g.GeoGain()
			gg := f.gain(geo)
			if !math.IsNaN(g.LogRatio.HalfWidth) {
				gg += " [" + f.gain(lo) + ", " + f.gain(hi) + "]"
			}
			pairs := fmt.Sprintf("%d", g.Diff.N)
			if g.Diff.N < g.Diff.Total {
				pairs += fmt.Sprintf("/%d", g.Diff.Total)
			}
			det := f.dash
			if !math.IsNaN(g.Detectable) {
				det = f.math(fmt.Sprintf("%.1f", 100*g.Detectable))
			}
			body = append(body, []string{f.escape(r.Algorithm), formatSeconds(c.at) + f.nbs + "s", pairs, d, gg,
				f.pvalue(g.T.P, alpha), f.pvalue(g.Wilcoxon.P, alpha), f.pvalue(g.Holm, alpha), det})
		}
	}
	for _, s := range []string{t.Verdict(), t.PowerSummary()} {
		if s != "" {
			notes = append(notes, f.escape(s))
		}
	}
	notes = append(notes, f.escape(fmt.Sprintf(
		"Seed k of both arms is a pair (the same architectures and batch sizes). Δ: %s − %s in accuracy points, mean of the per-seed differences with its %s Student-t interval. Geometric-mean gain: exp(mean of log(%s_k/%s_k)) − 1 with its interval. p: two-sided paired t-test and Wilcoxon signed-rank test (zero differences dropped, midranks, exact for ≤ %d pairs) of the differences; * p < %.3g. p Holm: the %s p-values adjusted by Holm's step-down procedure over the %d comparisons of this table (family-wise error ≤ %.3g). Detectable Δ: the smallest true mean difference a paired t-test at %.3g detects with 80%% power given the observed spread, (t_{%.3g, n−1} + t_{0.8, n−1})·SD/√n: a difference not significant here may still be any size below it.",
		t.Treatment, t.Baseline, lp, t.Treatment, t.Baseline, WilcoxonExactMax, alpha, t.testName(), 2*len(t.Rows), alpha, alpha, 1-alpha/2)))
	if s := t.LeadsSummary(); s != "" {
		notes = append(notes, f.escape(s))
	}
	return header, body, notes
}

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

// Markdown renders the table as GitHub-flavoured Markdown: the title in
// bold, the descriptive table in the paper's format and its notes, then
// (for a paired table) the paired comparison and its notes.
func (t *Table) Markdown() string {
	var sb strings.Builder
	if t.Title != "" {
		fmt.Fprintf(&sb, "**%s**\n\n", markdownFormat.escape(t.Title))
	}
	writeMarkdown(&sb, t.cells)
	if t.Paired {
		fmt.Fprintf(&sb, "\n**Paired comparison, %s − %s, seed by seed**\n\n", t.Treatment, t.Baseline)
		writeMarkdown(&sb, t.pairedCells)
	}
	return sb.String()
}

func writeMarkdown(sb *strings.Builder, render func(tableFormat) ([]string, [][]string, []string)) {
	header, body, notes := render(markdownFormat)
	writeRow := func(cells []string) {
		sb.WriteString("|")
		for _, c := range cells {
			sb.WriteString(" " + c + " |")
		}
		sb.WriteString("\n")
	}
	writeRow(header)
	sep := make([]string, len(header))
	sep[0] = "---"
	for i := 1; i < len(sep); i++ {
		sep[i] = "---:"
	}
	writeRow(sep)
	for _, r := range body {
		writeRow(r)
	}
	sb.WriteString("\n")
	for _, n := range notes {
		sb.WriteString(n + "\n")
	}
}

// LaTeX renders the table as LaTeX table environments (booktabs rules):
// the descriptive table with the title as caption, then (for a paired
// table) the paired comparison, each with its notes below the tabular.
func (t *Table) LaTeX() string {
	var sb strings.Builder
	writeLaTeX(&sb, t.Title, t.cells, 2)
	if t.Paired {
		sb.WriteString("\n")
		writeLaTeX(&sb, fmt.Sprintf("Paired comparison, %s − %s, seed by seed", t.Treatment, t.Baseline), t.pairedCells, 0)
	}
	return sb.String()
}

// writeLaTeX writes one table environment; a rule precedes the last
// summaryRows rows.
func writeLaTeX(sb *strings.Builder, title string, render func(tableFormat) ([]string, [][]string, []string), summaryRows int) {
	header, body, notes := render(latexFormat)
	sb.WriteString("\\begin{table}[ht]\n\\centering\n")
	if title != "" {
		fmt.Fprintf(sb, "\\caption{%s}\n", latexEscape(title))
	}
	sb.WriteString("\\begin{tabular}{l" + strings.Repeat("r", len(header)-1) + "}\n\\toprule\n")
	sb.WriteString(strings.Join(header, " & ") + ` \\` + "\n\\midrule\n")
	for i, r := range body {
		if summaryRows > 0 && i == len(body)-summaryRows {
			sb.WriteString("\\midrule\n")
		}
		sb.WriteString(strings.Join(r, " & ") + ` \\` + "\n")
	}
	sb.WriteString("\\bottomrule\n\\end{tabular}\n\n")
	sb.WriteString("\\smallskip\n{\\footnotesize ")
	sb.WriteString(strings.Join(notes, " "))
	sb.WriteString("}\n\\end{table}\n")
}

// joinSeconds lists times as "500, 1000, 1500".
func joinSeconds(ts []float64) string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = formatSeconds(t)
	}
	return strings.Join(out, ", ")
}
