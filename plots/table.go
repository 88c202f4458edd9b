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
	// PairNote says what makes seed k of the two arms a pair, opening the
	// notes of the paired comparisons. Default DefaultPairNote.
	PairNote string
	// Checkpoints are the times over which Table.Leads counts the cells
	// where the treatment leads. Default Checkpoints(Budget, 6): the 1/6,
	// …, 5/6 T of Figures 4/5 (Final instead of Budget when that is zero).
	Checkpoints []float64
}

// DefaultPairNote is the pairing of the paper's protocol with paired draws.
const DefaultPairNote = "Seed k of both arms is a pair (the same architectures and batch sizes)."

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
	// PairNote says what makes the pairs (TableConfig.PairNote).
	PairNote string
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
	t.Paired, t.Test, t.PairNote = true, cfg.Test, cfg.PairNote
	if t.PairNote == "" {
		t.PairNote = DefaultPairNote
	}
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
