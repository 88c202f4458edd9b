package reproduce

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
	"gonum.org/v1/plot/vg"

	"github.com/hgdtune/hgdtune/plots"
)

// SpeedTest is the test of one speed-up (TargetCell): is log(SpeedUp)
// zero? Its standard error SE is the bootstrap replicates' spread of the
// log speed-up, taken robustly as their interquartile range over 1.349 (the
// standard deviation of a normal distribution), so that a few replicates
// whose speed-up is infinite (one arm's median beyond T) do not make it
// infinite; NaN when a quartile is. z = log(SpeedUp)/SE, P two-sided
// normal, PHolm Holm-adjusted over every speed-up of the report, and
// Detectable the smallest speed-up factor (≥ 1) that a test at the
// Holm-corrected level of the first step (0.05/m) detects with 80% power
// given SE.
type SpeedTest struct {
	SE, P, PHolm, Detectable float64
}

// speedTests tests every cell's speed-up.
func (r *TargetReport) speedTests(logBoots [][]float64) []SpeedTest {
	tests := make([]SpeedTest, len(r.Cells))
	testable := func(i int) bool {
		c := r.Cells[i]
		return !math.IsNaN(tests[i].SE) && tests[i].SE > 0 && c.SpeedUp > 0 && !math.IsInf(c.SpeedUp, 0)
	}
	m := 0
	for i := range r.Cells {
		tests[i] = SpeedTest{SE: robustSD(logBoots[i]), P: math.NaN(), PHolm: math.NaN(), Detectable: math.NaN()}
		if testable(i) {
			m++
		}
	}
	norm := distuv.UnitNormal
	var ps []float64
	var idx []int
	for i, c := range r.Cells {
		if !testable(i) {
			continue
		}
		se := tests[i].SE
		tests[i].P = 2 * norm.CDF(-math.Abs(math.Log(c.SpeedUp)/se))
		tests[i].Detectable = math.Exp((norm.Quantile(1-0.025/float64(m)) + norm.Quantile(0.8)) * se)
		ps = append(ps, tests[i].P)
		idx = append(idx, i)
	}
	for j, p := range plots.Holm(ps) {
		tests[idx[j]].PHolm = p
	}
	return tests
}

// robustSD is the interquartile range of xs over 1.349 (±Inf values
// allowed beyond the quartiles; NaN values left out); NaN if a quartile is
// not finite or fewer than four values remain.
func robustSD(xs []float64) float64 {
	var v []float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) < 4 {
		return math.NaN()
	}
	slices.Sort(v)
	q1, q3 := quantile(v, 0.25), quantile(v, 0.75)
	if math.IsInf(q1, 0) || math.IsInf(q3, 0) {
		return math.NaN()
	}
	return (q3 - q1) / 1.349
}

// Markdown is the report's tables and reading, for a results page.
func (r *TargetReport) Markdown() string {
	o := r.Options
	p := o.Preset
	var b strings.Builder
	fmt.Fprintf(&b, "**Time to target accuracy, %s learning-rate prior** (T = %v compute time; %d seeds per algorithm and arm; intervals: %d pool bootstrap replicates of %d seeds each)\n\n",
		p.lrPrior(), time.Duration(p.Budget), p.Seeds, o.Boot, o.BootSeeds)
	for _, arm := range r.Arms {
		fmt.Fprintf(&b, "- %s pool: %d configurations, effective sample size %.0f under this prior\n", strings.ToUpper(arm), r.PoolSize[arm], r.ESS[arm])
	}
	b.WriteString("\n")
	b.WriteString("| algorithm | target | reached by T: SGD | HGD | median time SGD [95% CI] | HGD [95% CI] | HGD speed-up [95% CI] | p | p Holm | detectable speed-up |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	si, hi := indexOf(r.Arms, "sgd"), indexOf(r.Arms, "hgd")
	for i, c := range r.Cells {
		t := r.Tests[i]
		reached := func(a int) string {
			if a < 0 {
				return "—"
			}
			n := len(c.Reached[a].Value) - 1
			return fmt.Sprintf("%.0f%%", 100*c.Reached[a].Value[n])
		}
		median := func(a int) string {
			if a < 0 {
				return "—"
			}
			return fmt.Sprintf("%s [%s, %s]", seconds(c.Median[a]), seconds(c.MedianLo[a]), seconds(c.MedianHi[a]))
		}
		fmt.Fprintf(&b, "| %s | %.3f | %s | %s | %s | %s | %s [%s, %s] | %s | %s | %s |\n", displayName(c.Algorithm), c.Target,
			reached(si), reached(hi), median(si), median(hi), factor(c.SpeedUp), factor(c.SpeedUpLo), factor(c.SpeedUpHi),
			pValue(t.P), pValue(t.PHolm), factor(t.Detectable))
	}
	b.WriteString("\n")
	b.WriteString("Median time: the median over seeds of the compute time at which a run's best validation accuracy first reached the target; " +
		"\"> T\" when half the runs or fewer reached it. Speed-up: SGD's median time over HGD's (above 1: HGD reaches the target sooner; " +
		"∞: only HGD's median is within T). Intervals: 2.5% and 97.5% percentiles over pool bootstrap replicates (both pools resampled with replacement, " +
		"every algorithm replayed again), so they hold the pool's chance as well as the seeds'. " +
		"p: two-sided z-test of log speed-up = 0, its standard error the replicates' interquartile range of the log speed-up over 1.349 (— when a quartile is infinite); " +
		"p Holm: adjusted over the speed-ups of this table; detectable: the smallest speed-up a test at 0.05/m detects with 80% power.\n\n")
	b.WriteString(r.reading())
	return b.String()
}

// reading says, per algorithm, what the speed-ups say.
func (r *TargetReport) reading() string {
	var faster, slower, open []string
	for i, c := range r.Cells {
		name := fmt.Sprintf("%s at %.3f", displayName(c.Algorithm), c.Target)
		switch t := r.Tests[i]; {
		case t.PHolm < 0.05 && c.SpeedUp > 1:
			faster = append(faster, fmt.Sprintf("%s (%s)", name, factor(c.SpeedUp)))
		case t.PHolm < 0.05 && c.SpeedUp < 1:
			slower = append(slower, fmt.Sprintf("%s (%s)", name, factor(c.SpeedUp)))
		case math.IsNaN(t.P) && c.SpeedUpLo > 1:
			faster = append(faster, fmt.Sprintf("%s (%s; untested — a quartile of the replicates is infinite — with its interval above 1)", name, factor(c.SpeedUp)))
		case math.IsNaN(t.P) && c.SpeedUpHi < 1:
			slower = append(slower, fmt.Sprintf("%s (%s; untested — a quartile of the replicates is infinite or zero — with its interval below 1)", name, factor(c.SpeedUp)))
		default:
			open = append(open, name)
		}
	}
	list := func(xs []string) string {
		if len(xs) == 0 {
			return "none"
		}
		return strings.Join(xs, "; ")
	}
	return fmt.Sprintf("HGD reaches the target sooner (Holm-adjusted p < 0.05): %s.\n\nHGD reaches it later: %s.\n\nNot separated: %s.\n",
		list(faster), list(slower), list(open))
}

func indexOf(xs []string, s string) int {
	for i, x := range xs {
		if x == s {
			return i
		}
	}
	return -1
}

func seconds(s float64) string {
	switch {
	case math.IsNaN(s):
		return "—"
	case math.IsInf(s, 1):
		return "> T"
	}
	return fmt.Sprintf("%.0f s", s)
}

func factor(x float64) string {
	switch {
	case math.IsNaN(x):
		return "—"
	case math.IsInf(x, 1):
		return "∞"
	}
	return fmt.Sprintf("%.2f×", x)
}

func pValue(p float64) string {
	switch {
	case math.IsNaN(p):
		return "—"
	case p < 0.05:
		return fmt.Sprintf("%.4f*", p)
	}
	return fmt.Sprintf("%.4f", p)
}

// Figures writes the report's two figures (Plots) into dir as
// <prefix>reached and <prefix>anytime (.png and .svg); it returns the
// files written.
func (r *TargetReport) Figures(dir, prefix string) ([]string, error) {
	reached, anytime, err := r.Plots()
	if err != nil {
		return nil, err
	}
	var files []string
	for _, f := range []struct {
		name string
		fig  *plots.CurvesFigure
	}{{prefix + "reached", reached}, {prefix + "anytime", anytime}} {
		for _, ext := range []string{".png", ".svg"} {
			if err := f.fig.Save(filepath.Join(dir, f.name+ext)); err != nil {
				return files, err
			}
			files = append(files, f.name+ext)
		}
	}
	return files, nil
}

// Plots draws the share of runs that reached each target over time (one
// panel per algorithm and target, titled with HGD's speed-up) and the mean
// best accuracy over time (one panel per algorithm), both with their
// pool-bootstrap intervals.
func (r *TargetReport) Plots() (reached, anytime *plots.CurvesFigure, err error) {
	armOf := func(a string) plots.Arm { return plotsArm(a) }
	band := func(e Estimate) plots.Band {
		return plots.Band{T: r.Grid, Mean: e.Value, Lo: e.Lo, Hi: e.Hi}
	}
	var reachedPanels []plots.CurvePanel
	for _, c := range r.Cells {
		title := fmt.Sprintf("%s ≥ %.3f", displayName(c.Algorithm), c.Target)
		if !math.IsNaN(c.SpeedUp) {
			title += fmt.Sprintf(": %s [%s, %s]", factor(c.SpeedUp), strings.TrimSuffix(factor(c.SpeedUpLo), "×"), strings.TrimSuffix(factor(c.SpeedUpHi), "×"))
		}
		panel := plots.CurvePanel{Algorithm: title}
		for a, arm := range r.Arms {
			panel.Series = append(panel.Series, plots.Series{Arm: armOf(arm), Band: band(c.Reached[a])})
		}
		reachedPanels = append(reachedPanels, panel)
	}
	var anytimePanels []plots.CurvePanel
	for _, alg := range r.Algorithms {
		panel := plots.CurvePanel{Algorithm: displayName(alg)}
		for _, e := range r.Anytime {
			if e.Algorithm == alg {
				panel.Series = append(panel.Series, plots.Series{Arm: armOf(e.Arm), Band: band(e)})
			}
		}
		anytimePanels = append(anytimePanels, panel)
	}
	prior := r.Options.Preset.lrPrior()
	reached, err = plots.BandCurves(reachedPanels, plots.BandsConfig{
		Title:  fmt.Sprintf("Share of runs that reached the target accuracy (%s prior; HGD speed-up, 95%% pool-bootstrap intervals)", prior),
		YLabel: "share of runs", Legend: "(share, 95% CI)", Columns: len(r.Options.Targets), YMin: 0, YMax: 1,
		Size: plots.Size{Width: vg.Length(3.3*float64(len(r.Options.Targets))) * vg.Inch, Height: vg.Length(2.4*float64(len(r.Algorithms))+0.8) * vg.Inch}})
	if err != nil {
		return nil, nil, err
	}
	anytime, err = plots.BandCurves(anytimePanels, plots.BandsConfig{
		Title:  fmt.Sprintf("Best validation accuracy over time (%s prior; mean over seeds, 95%% pool-bootstrap intervals)", prior),
		YLabel: "best validation accuracy", Legend: "(mean, 95% CI)", Columns: 2})
	if err != nil {
		return nil, nil, err
	}
	return reached, anytime, nil
}
