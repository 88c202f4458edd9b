package plots

import (
	"fmt"
	"math"
	"strings"
)

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
		"%s Δ: %s − %s in accuracy points, mean of the per-seed differences with its %s Student-t interval. Geometric-mean gain: exp(mean of log(%s_k/%s_k)) − 1 with its interval. p: two-sided paired t-test and Wilcoxon signed-rank test (zero differences dropped, midranks, exact for ≤ %d pairs) of the differences; * p < %.3g. p Holm: the %s p-values adjusted by Holm's step-down procedure over the %d comparisons of this table (family-wise error ≤ %.3g). Detectable Δ: the smallest true mean difference a paired t-test at %.3g detects with 80%% power given the observed spread, (t_{%.3g, n−1} + t_{0.8, n−1})·SD/√n: a difference not significant here may still be any size below it.",
		t.PairNote, t.Treatment, t.Baseline, lp, t.Treatment, t.Baseline, WilcoxonExactMax, alpha, t.testName(), 2*len(t.Rows), alpha, alpha, 1-alpha/2)))
	if s := t.LeadsSummary(); s != "" {
		notes = append(notes, f.escape(s))
	}
	return header, body, notes
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
