package plots

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Checkpoints returns budget·k/n for k = 1, …, n−1: the paper's 500, 1000, …,
// 2500 s are Checkpoints(3000, 6).
func Checkpoints(budget float64, n int) []float64 {
	if n < 2 {
		return nil
	}
	out := make([]float64, n-1)
	for k := 1; k < n; k++ {
		out[k-1] = budget * float64(k) / float64(n)
	}
	return out
}

// BarsConfig configures Bars (the paper's Figures 4 and 5). The zero value
// gives the defaults documented on each field.
type BarsConfig struct {
	// Title of the figure. Default: "<Experiment.Name>: best validation
	// accuracy at checkpoints (mean ± 95% CI over seeds; * paired t p < 0.05)".
	Title string
	// Times are the checkpoints in seconds. Default Checkpoints(Budget, 6):
	// 1/6, 2/6, …, 5/6 of the budget (an error when the budget is zero).
	Times []float64
	// Level is the confidence level of the error bars. Default DefaultLevel.
	Level float64
	// Columns is the number of panels per row. Default 3.
	Columns int
	// YMax fixes the top of the shared y axis (bars start at 0). Default: the
	// highest bar or error bar over all panels, plus 5%.
	YMax float64
	// XLabel and YLabel default to "time (s)" and "best validation accuracy".
	XLabel, YLabel string
	// Size defaults to 10 × 6.5 inches at DefaultDPI (960 × 624 pixels).
	Size Size
	// Baseline and Treatment are the arms whose seeds are paired at each
	// checkpoint (ComparePaired); a group where the paired test's p is below
	// 1 − Level gets a star above its bars ("**" below (1 − Level)/5).
	// Defaults SGD and HGD; no stars when a panel lacks either arm.
	Baseline, Treatment Arm
	// Test is the paired test behind the stars: TestT (the default, "") or
	// TestWilcoxon, as in TableConfig.
	Test string
}

// BarPanel is one algorithm's panel: Stats[a][j] summarises arm Arms[a] at
// checkpoint Times[j] (of the figure). Arms follow Experiment.Arms order.
type BarPanel struct {
	Algorithm string
	Arms      []Arm
	Stats     [][]Stat
	// Paired[j] compares BarsFigure.Baseline and Treatment seed by seed at
	// Times[j]; nil when the panel lacks either arm.
	Paired []Paired
}

// Marks returns the significance mark of checkpoint j: "**" when the shown
// test's p (of the paired differences) is below (1 − level)/5, "*" below
// 1 − level, else "" — also with fewer than MinPairs pairs, too few for a
// mark to mean anything.
func (p BarPanel) Marks(j int, test string, level float64) string {
	if j >= len(p.Paired) || p.Paired[j].Diff.N < MinPairs {
		return ""
	}
	r := p.Paired[j].Of(test)
	switch alpha := 1 - level; {
	case r.P < alpha/5:
		return "**"
	case r.P < alpha:
		return "*"
	}
	return "" // also for NaN
}

// BarsFigure is the figure of grouped bars, one panel per algorithm, one group
// per checkpoint and one bar per arm with its confidence interval as error bar.
type BarsFigure struct {
	Figure
	Title  string
	Times  []float64
	Panels []BarPanel
	// YMax is the top of the shared y axis (the bottom is 0).
	YMax  float64
	Level float64
	// Baseline, Treatment and Test say which paired test the stars show
	// (BarsConfig).
	Baseline, Treatment Arm
	Test                string
	xLabel, yLabel      string
	cols                int
}

// groupWidth is the fraction of the unit spacing of groups that bars fill.
const groupWidth = 0.8

// barCenter returns the x coordinate (in data units) of the bar of arm index a
// of m in checkpoint group j, and the bar width.
func barCenter(j, a, m int) (x, w float64) {
	w = groupWidth / float64(m)
	return float64(j) - groupWidth/2 + (float64(a)+0.5)*w, w
}

// Bars computes and lays out the paper's checkpoint figure (Figures 4 and 5):
// per algorithm, the mean best-so-far value of each arm at each checkpoint as
// grouped bars (HGD blue, SGD orange), with confidence intervals as error bars.
// Seeds that have not started at a checkpoint are excluded (see Summarize).
func Bars(e *Experiment, cfg BarsConfig) (*BarsFigure, error) {
	level, err := validLevel(e, cfg.Level)
	if err != nil {
		return nil, err
	}
	if cfg.Columns < 0 || cfg.YMax < 0 {
		return nil, fmt.Errorf("%w: bars config %+v", ErrBadConfig, cfg)
	}
	size, err := cfg.Size.resolve(10*vg.Inch, 6.5*vg.Inch)
	if err != nil {
		return nil, err
	}
	times := append([]float64(nil), cfg.Times...)
	if len(times) == 0 {
		if e.Budget == 0 {
			return nil, fmt.Errorf("%w: bars need Experiment.Budget or BarsConfig.Times", ErrBadConfig)
		}
		times = Checkpoints(e.Budget, 6)
	}
	f := &BarsFigure{Title: cfg.Title, Times: times, Level: level, xLabel: cfg.XLabel, yLabel: cfg.YLabel, cols: cfg.Columns,
		Baseline: cmp.Or(cfg.Baseline, SGD), Treatment: cmp.Or(cfg.Treatment, HGD), Test: cmp.Or(cfg.Test, TestT)}
	if f.Test != TestT && f.Test != TestWilcoxon {
		return nil, fmt.Errorf("%w: bars test %q (want %q or %q)", ErrBadConfig, f.Test, TestT, TestWilcoxon)
	}
	f.Title, f.xLabel, f.yLabel = e.labels(f.Title, f.xLabel, f.yLabel,
		fmt.Sprintf("best validation accuracy at checkpoints (mean ± %s CI over seeds; * paired %s p < %s)",
			levelPercent(level), f.testName(), formatAlpha(1-level)))
	top := 0.0
	for _, alg := range e.Algorithms() {
		panel := BarPanel{Algorithm: alg}
		for _, arm := range e.Arms() {
			if len(e.Curves(alg, arm)) == 0 {
				continue
			}
			row := make([]Stat, len(times))
			for j, t := range times {
				if row[j], err = e.At(alg, arm, t, level); err != nil {
					return nil, err
				}
				for _, v := range []float64{row[j].Mean, math.Min(1, row[j].Hi())} {
					if !math.IsNaN(v) {
						top = math.Max(top, v)
					}
				}
			}
			panel.Arms = append(panel.Arms, arm)
			panel.Stats = append(panel.Stats, row)
		}
		if slices.Contains(panel.Arms, f.Baseline) && slices.Contains(panel.Arms, f.Treatment) {
			for _, t := range times {
				b, tr := e.Pairs(alg, f.Baseline, f.Treatment, t)
				g, err := ComparePaired(b, tr, level)
				if err != nil {
					return nil, err
				}
				panel.Paired = append(panel.Paired, g)
			}
		}
		f.Panels = append(f.Panels, panel)
	}
	f.YMax = cfg.YMax
	if f.YMax == 0 {
		f.YMax = 1.12 * top // room for the stars above the error bars
		if f.YMax == 0 {
			f.YMax = 1
		}
	}
	f.Figure = Figure{Size: size, draw: func(dc draw.Canvas) { f.render(dc) }}
	return f, nil
}

// barSet draws one arm's bars (from 0 to the mean) and error bars, in data
// coordinates.
type barSet struct {
	xs, width []float64
	stats     []Stat
	fill      color.Color
	line      draw.LineStyle
}

// rect returns the corners of bar i in data coordinates.
func (b *barSet) rect(i int) (x0, x1, y0, y1 float64) {
	return b.xs[i] - b.width[i]/2, b.xs[i] + b.width[i]/2, 0, b.stats[i].Mean
}

func (b *barSet) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	errSty := draw.LineStyle{Color: color.Black, Width: vg.Points(1)}
	for i, s := range b.stats {
		if math.IsNaN(s.Mean) {
			continue
		}
		x0, x1, y0, y1 := b.rect(i)
		pts := []vg.Point{
			{X: trX(x0), Y: trY(y0)}, {X: trX(x0), Y: trY(y1)},
			{X: trX(x1), Y: trY(y1)}, {X: trX(x1), Y: trY(y0)},
		}
		c.FillPolygon(b.fill, c.ClipPolygonXY(pts))
		c.StrokeLines(b.line, c.ClipLinesXY(append(pts, pts[0]))...)
		if math.IsNaN(s.HalfWidth) {
			continue
		}
		x := trX(b.xs[i])
		// An accuracy lies in [0, 1]; so does what its interval can say.
		lo, hi := trY(math.Max(0, s.Lo())), trY(math.Min(1, s.Hi()))
		capW := (trX(x1) - trX(x0)) / 4
		c.StrokeLines(errSty, c.ClipLinesXY(
			[]vg.Point{{X: x, Y: lo}, {X: x, Y: hi}},
			[]vg.Point{{X: x - capW, Y: lo}, {X: x + capW, Y: lo}},
			[]vg.Point{{X: x - capW, Y: hi}, {X: x + capW, Y: hi}},
		)...)
	}
}

func (b *barSet) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{
		{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y},
		{X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y},
	}
	c.FillPolygon(b.fill, pts)
	c.StrokeLines(b.line, append(pts, pts[0]))
}

func (f *BarsFigure) panelPlots() ([]*plot.Plot, []legendItem) {
	var arms []Arm
	seen := map[Arm]bool{}
	for _, p := range f.Panels {
		for _, a := range p.Arms {
			if !seen[a] {
				seen[a] = true
				arms = append(arms, a)
			}
		}
	}
	fills := map[Arm]color.Color{}
	var items []legendItem
	for i, sty := range armStyles(arms) {
		fills[arms[i]] = translucent(sty.Color, 200)
		items = append(items, legendItem{
			label:  fmt.Sprintf("%s (mean ± %s CI)", arms[i], levelPercent(f.Level)),
			thumbs: []plot.Thumbnailer{&barSet{fill: fills[arms[i]], line: draw.LineStyle{Color: sty.Color, Width: vg.Points(0.8)}}},
		})
	}
	names := make([]string, len(f.Times))
	for j, t := range f.Times {
		names[j] = formatSeconds(t)
	}
	g := newGridLayout(len(f.Panels), f.cols)
	ps := make([]*plot.Plot, len(f.Panels))
	for i, panel := range f.Panels {
		p := plot.New()
		p.Title.Text = panel.Algorithm
		grid := plotter.NewGrid()
		grid.Vertical.Color = nil
		p.Add(grid)
		for a, arm := range panel.Arms {
			bs := &barSet{stats: panel.Stats[a], fill: fills[arm], line: draw.LineStyle{Color: armStyleColor(arm, arms), Width: vg.Points(0.8)}}
			for j := range f.Times {
				x, w := barCenter(j, a, len(panel.Arms))
				bs.xs, bs.width = append(bs.xs, x), append(bs.width, w)
			}
			p.Add(bs)
		}
		p.Add(&starSet{panel: panel, fig: f})
		if len(names) > 0 {
			p.NominalX(names...)
		}
		p.X.Min, p.X.Max = -0.5, float64(len(f.Times))-0.5
		p.Y.Min, p.Y.Max = 0, f.YMax
		g.labelAxes(p, i, len(f.Panels), f.xLabel, f.yLabel)
		ps[i] = p
	}
	return ps, items
}

func armStyleColor(arm Arm, arms []Arm) color.Color {
	for i, sty := range armStyles(arms) {
		if arms[i] == arm {
			return sty.Color
		}
	}
	return color.Black
}

func (f *BarsFigure) render(dc draw.Canvas) ([]*plot.Plot, []draw.Canvas) {
	ps, items := f.panelPlots()
	rest := drawHeader(dc, f.Title, items)
	return ps, drawPanels(rest, ps, f.cols)
}

// testName names the paired test behind the stars.
func (f *BarsFigure) testName() string {
	if f.Test == TestWilcoxon {
		return "Wilcoxon"
	}
	return "t"
}

// formatAlpha writes a significance level without trailing zeros (0.05).
func formatAlpha(a float64) string { return strconv.FormatFloat(a, 'g', 3, 64) }

// starSet draws the significance marks of one panel above each checkpoint
// group, just over its highest bar or error bar.
type starSet struct {
	panel BarPanel
	fig   *BarsFigure
}

func (s *starSet) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	ts := textStyle(12, draw.XCenter, draw.YBottom)
	for j := range s.fig.Times {
		mark := s.panel.Marks(j, s.fig.Test, s.fig.Level)
		if mark == "" {
			continue
		}
		top := 0.0
		for _, row := range s.panel.Stats {
			for _, v := range []float64{row[j].Mean, math.Min(1, row[j].Hi())} {
				if !math.IsNaN(v) {
					top = math.Max(top, v)
				}
			}
		}
		top = math.Min(top, s.fig.YMax)
		c.FillText(ts, vg.Point{X: trX(float64(j)), Y: trY(top) + vg.Points(1)}, mark)
	}
}
