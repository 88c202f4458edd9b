package plots

import (
	"fmt"
	"math"
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
	// both arms is a pair): the mean per-seed gain with its interval and
	// both paired tests (see ComparePaired). Zero in the mean row and in
	// tables without per-seed data (PaperResults.Table).
	EarlyPaired, FinalPaired PairedGain
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
	// table then shows them and Leads. Test is the test shown (TestT or
	// TestWilcoxon).
	Paired bool
	Test   string
	// Leads counts the cells (algorithm × checkpoint) where the treatment's
	// mean is above the baseline's.
	Leads Leads
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
			g  *PairedGain
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
	t.finish()
	return t, nil
}

// shown returns the test of g that the table shows.
func (t *Table) shown(g PairedGain) TestResult { return g.Of(t.Test) }

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

// cells renders the body: header, rows, mean and ratio-of-means rows, and
// the notes.
func (t *Table) cells(f tableFormat) (header []string, body [][]string, notes []string) {
	secs := func(x float64) string { return formatSeconds(x) + f.nbs + "s" }
	b, tr := f.escape(string(t.Baseline)), f.escape(string(t.Treatment))
	header = []string{
		"algorithm",
		b + " @ " + secs(t.Early), tr + " @ " + secs(t.Early), "gain @ " + secs(t.Early),
		b + " @ " + secs(t.Final), tr + " @ " + secs(t.Final), "gain @ " + secs(t.Final),
	}
	if t.Paired {
		for _, at := range []float64{t.Early, t.Final} {
			header = append(header, "paired gain @ "+secs(at), "p ("+t.testName()+") @ "+secs(at))
		}
	}
	hasRef := t.Reference != nil
	alpha := 1 - t.Level
	paired := func(g PairedGain) []string {
		if g.Gain.Total == 0 { // the mean row
			return []string{"", ""}
		}
		gain := f.gain(g.Gain.Mean)
		if !math.IsNaN(g.Gain.Mean) && !math.IsNaN(g.Gain.HalfWidth) {
			gain += " [" + f.gain(g.Gain.Lo()) + ", " + f.gain(g.Gain.Hi()) + "]"
		}
		if g.Gain.N > 0 && g.Gain.N < g.Gain.Total {
			gain += fmt.Sprintf(" [n=%d/%d]", g.Gain.N, g.Gain.Total)
		}
		p := t.shown(g).P
		ps := f.dash
		if !math.IsNaN(p) {
			ps = fmt.Sprintf("%.4f", p)
			if p < alpha {
				ps += "*"
			}
		}
		return []string{gain, ps}
	}
	row := func(r TableRow, ref TableRow, ok bool) []string {
		cells := []string{
			f.escape(r.Algorithm),
			f.withRef(f.stat(r.EarlyBaseline), f.stat(ref.EarlyBaseline), ok),
			f.withRef(f.stat(r.EarlyTreatment), f.stat(ref.EarlyTreatment), ok),
			f.withRef(f.gain(r.EarlyGain), f.gain(ref.EarlyGain), ok),
			f.withRef(f.stat(r.FinalBaseline), f.stat(ref.FinalBaseline), ok),
			f.withRef(f.stat(r.FinalTreatment), f.stat(ref.FinalTreatment), ok),
			f.withRef(f.gain(r.FinalGain), f.gain(ref.FinalGain), ok),
		}
		if t.Paired {
			cells = append(cells, paired(r.EarlyPaired)...)
			cells = append(cells, paired(r.FinalPaired)...)
		}
		return cells
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
	if t.Paired {
		ratio = append(ratio, "", "", "", "")
	}
	if hasRef {
		ratio[3] = f.withRef(ratio[3], f.gain(t.Reference.EarlyRatioOfMeans), true)
		ratio[6] = f.withRef(ratio[6], f.gain(t.Reference.FinalRatioOfMeans), true)
	}
	body = append(body, ratio)
	notes = append(notes,
		f.escape(fmt.Sprintf("Accuracy: mean ± %s CI half-width over seeds (Student t, n−1 df); [n=k/K]: only k of K seeds had a value yet.",
			levelPercent(t.Level))),
		f.escape(fmt.Sprintf("gain = (%s − %s)/%s. Row mean: mean over algorithms; its gain is the mean of the per-algorithm gains. Row ratio of means: gain of the mean accuracies.",
			t.Treatment, t.Baseline, t.Baseline)),
	)
	if t.Paired {
		test := fmt.Sprintf("two-sided paired t-test of the per-seed gains (Student t, n−1 df; p < %.3g exactly when the interval excludes 0)", alpha)
		if t.Test == TestWilcoxon {
			test = fmt.Sprintf("two-sided Wilcoxon signed-rank test of the per-seed gains (zero gains dropped, midranks for ties; exact for ≤ %d pairs, normal approximation above; with 5 seeds p ≥ 0.0625)", WilcoxonExactMax)
		}
		notes = append(notes, f.escape(fmt.Sprintf(
			"paired gain: seed k of both arms is a pair; mean over seeds of the per-seed gains (%s_k − %s_k)/%s_k with its %s Student-t interval in brackets. p: %s; * p < %.3g.",
			t.Treatment, t.Baseline, t.Baseline, levelPercent(t.Level), test, alpha)))
		if l := t.Leads; l.Cells > 0 {
			notes = append(notes, f.escape(fmt.Sprintf(
				"%s leads (higher mean than %s) in %d of %d cells (algorithms × checkpoints %s s): %.1f%%, %s Clopper–Pearson interval [%.1f%%, %.1f%%] (the cells share seeds, so the interval is indicative). The paper: %s leads in 88.3%% of cases (53 of 60 cells over both data sets; Clopper–Pearson 95%% [77.4%%, 95.2%%]).",
				t.Treatment, t.Baseline, l.Leads, l.Cells, joinSeconds(l.Times), 100*l.Share, levelPercent(l.Level), 100*l.Lo, 100*l.Hi, t.Treatment)))
		}
	}
	if hasRef {
		notes = append(notes, f.escape("In parentheses: "+t.Reference.Title+"."))
	}
	return header, body, notes
}

// Markdown renders the table as a GitHub-flavoured Markdown table, preceded by
// its title in bold and followed by notes.
func (t *Table) Markdown() string {
	header, body, notes := t.cells(markdownFormat)
	var sb strings.Builder
	if t.Title != "" {
		fmt.Fprintf(&sb, "**%s**\n\n", markdownFormat.escape(t.Title))
	}
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
	return sb.String()
}

// LaTeX renders the table as a LaTeX table environment (booktabs rules), with
// the title as caption and the notes below the tabular.
func (t *Table) LaTeX() string {
	header, body, notes := t.cells(latexFormat)
	var sb strings.Builder
	sb.WriteString("\\begin{table}[ht]\n\\centering\n")
	if t.Title != "" {
		fmt.Fprintf(&sb, "\\caption{%s}\n", latexEscape(t.Title))
	}
	sb.WriteString("\\begin{tabular}{l" + strings.Repeat("r", len(header)-1) + "}\n\\toprule\n")
	sb.WriteString(strings.Join(header, " & ") + ` \\` + "\n\\midrule\n")
	for i, r := range body {
		if i == len(body)-2 {
			sb.WriteString("\\midrule\n")
		}
		sb.WriteString(strings.Join(r, " & ") + ` \\` + "\n")
	}
	sb.WriteString("\\bottomrule\n\\end{tabular}\n\n")
	sb.WriteString("\\smallskip\n{\\footnotesize ")
	sb.WriteString(strings.Join(notes, " "))
	sb.WriteString("}\n\\end{table}\n")
	return sb.String()
}

// joinSeconds lists times as "500, 1000, 1500".
func joinSeconds(ts []float64) string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = formatSeconds(t)
	}
	return strings.Join(out, ", ")
}
