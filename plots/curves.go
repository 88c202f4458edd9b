package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// CurvesConfig configures Curves (the paper's Figures 2 and 3). The zero value
// gives the defaults documented on each field.
type CurvesConfig struct {
	// Title of the figure. Default: "<Experiment.Name>: best validation
	// accuracy vs time (mean, 95% CI over seeds; gain at end, paired t)";
	// each panel's title gives that gain and p (CurvePanel.Heading).
	Title string
	// End is the end of the time axis in seconds. Default: Experiment.Budget,
	// or the latest point of any curve when the budget is zero.
	End float64
	// GridPoints is the number of evenly spaced times, from 0 to End, at which
	// the curves are averaged. Zero (the default) averages at every breakpoint
	// of the curves, which is exact: the mean of step functions is a step
	// function that changes only there.
	GridPoints int
	// Level is the confidence level of the bands. Default DefaultLevel (0.95).
	Level float64
	// MinSeeds: the mean is drawn only where at least MinSeeds seeds have
	// started (default 1). The band needs two.
	MinSeeds int
	// Columns is the number of panels per row. Default 3.
	Columns int
	// YMin and YMax fix the shared y range; when both are zero it spans all
	// panels' means, and their bands where every seed has started (bands over
	// fewer seeds can be very wide; they are clipped to the axes).
	YMin, YMax float64
	// XLabel and YLabel default to "time (s)" and "best validation accuracy".
	XLabel, YLabel string
	// Size defaults to 10 × 6.5 inches at DefaultDPI (960 × 624 pixels).
	Size Size
}

// Series is one arm's mean curve and confidence band in one panel.
type Series struct {
	Arm  Arm
	Band Band
}

// CurvePanel is one algorithm's panel: one series per arm, in Experiment.Arms
// order (HGD first, drawn solid; SGD dashed).
type CurvePanel struct {
	Algorithm string
	Series    []Series
	// Final compares SGD and HGD seed by seed at the end of the time axis
	// (ComparePaired); nil when the panel lacks either arm. The panel's
	// title shows its mean difference and paired-t p-value (Heading).
	Final *Paired
}

// Heading is the panel's title: the algorithm, and with Final the mean
// paired difference HGD − SGD at the end of the axis in accuracy points
// and its paired-t p-value, starred below 0.05 with at least MinPairs
// pairs ("PB2: HGD +6.2 pts, p 0.0096*"); with fewer pairs the number of
// pairs instead of a p-value.
func (p CurvePanel) Heading() string {
	if p.Final == nil || math.IsNaN(p.Final.Diff.Mean) {
		return p.Algorithm
	}
	if n := p.Final.Diff.N; n < MinPairs {
		return fmt.Sprintf("%s: HGD %+.1f pts (%d pairs)", p.Algorithm, 100*p.Final.Diff.Mean, n)
	}
	mark := ""
	if p.Final.T.P < 0.05 {
		mark = "*"
	}
	return fmt.Sprintf("%s: HGD %+.1f pts, p %.2g%s", p.Algorithm, 100*p.Final.Diff.Mean, p.Final.T.P, mark)
}

// CurvesFigure is the figure of best-so-far curves, one panel per algorithm,
// with the data it plots.
type CurvesFigure struct {
	Figure
	Title  string
	Panels []CurvePanel
	// Axis ranges shared by all panels.
	XMin, XMax, YMin, YMax float64
	// Level is the confidence level of the bands.
	Level          float64
	xLabel, yLabel string
	cols           int
	legend         string // after each arm's name in the legend; "" : "(mean, <level> CI)"
}

// Curves computes and lays out the paper's accuracy-vs-time figure (Figures
// 2 and 3) for e: one panel per algorithm in a grid with shared axis ranges,
// the mean best-so-far value of each arm over seeds (HGD solid, SGD dashed)
// and its translucent Student-t confidence band. Seeds whose curve has not
// started are left out of the mean at that time (see Summarize).
func Curves(e *Experiment, cfg CurvesConfig) (*CurvesFigure, error) {
	level, err := validLevel(e, cfg.Level)
	if err != nil {
		return nil, err
	}
	if cfg.GridPoints < 0 || cfg.GridPoints == 1 || cfg.Columns < 0 || cfg.MinSeeds < 0 || cfg.End < 0 || cfg.YMin > cfg.YMax {
		return nil, fmt.Errorf("%w: curves config %+v", ErrBadConfig, cfg)
	}
	size, err := cfg.Size.resolve(10*vg.Inch, 6.5*vg.Inch)
	if err != nil {
		return nil, err
	}
	end := cfg.End
	if end == 0 {
		end = e.end()
	}
	if !(end > 0) {
		return nil, fmt.Errorf("%w: the time axis is empty (no budget and no points after t=0)", ErrNoData)
	}
	f := &CurvesFigure{
		Title: cfg.Title, XMin: 0, XMax: end, Level: level,
		xLabel: cfg.XLabel, yLabel: cfg.YLabel, cols: cfg.Columns,
	}
	f.Title, f.xLabel, f.yLabel = e.labels(f.Title, f.xLabel, f.yLabel,
		fmt.Sprintf("best validation accuracy vs time (mean, %s CI over seeds; gain at end, paired t)", levelPercent(level)))
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, alg := range e.Algorithms() {
		panel := CurvePanel{Algorithm: alg}
		for _, arm := range e.Arms() {
			cs := e.Curves(alg, arm)
			if len(cs) == 0 {
				continue
			}
			grid := Linspace(0, end, cfg.GridPoints)
			if cfg.GridPoints == 0 {
				grid = Breakpoints(cs, 0, end)
			}
			b, err := Aggregate(cs, grid, level, cfg.MinSeeds)
			if err != nil {
				return nil, err
			}
			for i := range b.T {
				vs := []float64{b.Mean[i]}
				if b.N[i] == b.Seeds {
					// Bands of partial groups (few seeds started) can be very
					// wide; they are clipped rather than stretching the axis.
					vs = append(vs, b.Lo[i], b.Hi[i])
				}
				for _, v := range vs {
					if !math.IsNaN(v) {
						lo, hi = math.Min(lo, v), math.Max(hi, v)
					}
				}
			}
			panel.Series = append(panel.Series, Series{Arm: arm, Band: b})
		}
		if len(e.Curves(alg, SGD)) > 0 && len(e.Curves(alg, HGD)) > 0 {
			b, tr := e.Pairs(alg, SGD, HGD, end)
			g, err := ComparePaired(b, tr, level)
			if err != nil {
				return nil, err
			}
			panel.Final = &g
		}
		f.Panels = append(f.Panels, panel)
	}
	switch {
	case cfg.YMin != 0 || cfg.YMax != 0:
		f.YMin, f.YMax = cfg.YMin, cfg.YMax
	case math.IsInf(lo, 1):
		return nil, fmt.Errorf("%w: no curve has a value before t=%v", ErrNoData, end)
	default:
		pad := 0.03 * (hi - lo)
		if pad == 0 {
			pad = 0.01
		}
		f.YMin, f.YMax = lo-pad, hi+pad
	}
	f.Figure = Figure{Size: size, draw: func(dc draw.Canvas) { f.render(dc) }}
	return f, nil
}

// stairs returns the staircase through a step function given on grid ts with
// values vs (NaN = undefined), one polyline per run of defined values. A value
// holds until the next grid time; the last one ends at the last grid time.
func stairs(ts, vs []float64) [][]vg.Point {
	var out [][]vg.Point
	var cur []vg.Point
	for i := range ts {
		if math.IsNaN(vs[i]) {
			if cur != nil {
				cur = append(cur, vg.Point{X: vg.Length(ts[i]), Y: cur[len(cur)-1].Y})
				out, cur = append(out, cur), nil
			}
			continue
		}
		if cur != nil {
			cur = append(cur, vg.Point{X: vg.Length(ts[i]), Y: cur[len(cur)-1].Y})
		}
		cur = append(cur, vg.Point{X: vg.Length(ts[i]), Y: vg.Length(vs[i])})
	}
	if cur != nil {
		out = append(out, cur)
	}
	return out
}

func toXYs(pts []vg.Point) plotter.XYs {
	xys := make(plotter.XYs, len(pts))
	for i, p := range pts {
		xys[i] = plotter.XY{X: float64(p.X), Y: float64(p.Y)}
	}
	return xys
}

// bandPolygons returns the step-shaped regions between lo and hi, one per run
// of grid times where both are defined.
func bandPolygons(ts, lo, hi []float64) []plotter.XYs {
	var out []plotter.XYs
	defined := func(i int) bool { return !math.IsNaN(lo[i]) && !math.IsNaN(hi[i]) }
	for i := 0; i < len(ts); {
		if !defined(i) {
			i++
			continue
		}
		j := i
		for j < len(ts) && defined(j) {
			j++
		}
		seg := stairsOne(ts, hi, i, j)
		low := stairsOne(ts, lo, i, j)
		for k := len(low) - 1; k >= 0; k-- {
			seg = append(seg, low[k])
		}
		out = append(out, seg)
		i = j
	}
	return out
}

// stairsOne is the staircase of vs over grid indices [i, j), extended to
// ts[j] when j is in range.
func stairsOne(ts, vs []float64, i, j int) plotter.XYs {
	var xys plotter.XYs
	for k := i; k < j; k++ {
		xys = append(xys, plotter.XY{X: ts[k], Y: vs[k]})
		if k+1 < len(ts) {
			xys = append(xys, plotter.XY{X: ts[k+1], Y: vs[k]})
		}
	}
	return xys
}

// band fills step-shaped polygons, without outline.
type band struct {
	polys []plotter.XYs
	color color.Color
}

func (b *band) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for _, poly := range b.polys {
		pts := make([]vg.Point, len(poly))
		for i, xy := range poly {
			pts[i] = vg.Point{X: trX(xy.X), Y: trY(xy.Y)}
		}
		c.FillPolygon(b.color, c.ClipPolygonXY(pts))
	}
}

func (b *band) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(b.color, []vg.Point{
		{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y},
		{X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y},
	})
}

// panelPlots builds one plot per panel and the legend items.
func (f *CurvesFigure) panelPlots() ([]*plot.Plot, []legendItem) {
	var arms []Arm
	seen := map[Arm]bool{}
	for _, p := range f.Panels {
		for _, s := range p.Series {
			if !seen[s.Arm] {
				seen[s.Arm] = true
				arms = append(arms, s.Arm)
			}
		}
	}
	styles := map[Arm]draw.LineStyle{}
	var items []legendItem
	for i, sty := range armStyles(arms) {
		styles[arms[i]] = sty
		l := &plotter.Line{LineStyle: sty}
		bd := &band{color: translucent(sty.Color, 60)}
		legend := f.legend
		if legend == "" {
			legend = fmt.Sprintf("(mean, %s CI)", levelPercent(f.Level))
		}
		items = append(items, legendItem{label: fmt.Sprintf("%s %s", arms[i], legend), thumbs: []plot.Thumbnailer{bd, l}})
	}
	g := newGridLayout(len(f.Panels), f.cols)
	ps := make([]*plot.Plot, len(f.Panels))
	for i, panel := range f.Panels {
		p := plot.New()
		p.Title.Text = panel.Heading()
		p.Add(plotter.NewGrid())
		for _, s := range panel.Series {
			sty := styles[s.Arm]
			p.Add(&band{polys: bandPolygons(s.Band.T, s.Band.Lo, s.Band.Hi), color: translucent(sty.Color, 60)})
		}
		for _, s := range panel.Series {
			for _, seg := range stairs(s.Band.T, s.Band.Mean) {
				p.Add(&plotter.Line{XYs: toXYs(seg), LineStyle: styles[s.Arm]})
			}
		}
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = f.XMin, f.XMax, f.YMin, f.YMax
		g.labelAxes(p, i, len(f.Panels), f.xLabel, f.yLabel)
		ps[i] = p
	}
	return ps, items
}

// render draws the figure and returns the panels and their canvases (for tests).
func (f *CurvesFigure) render(dc draw.Canvas) ([]*plot.Plot, []draw.Canvas) {
	ps, items := f.panelPlots()
	rest := drawHeader(dc, f.Title, items)
	return ps, drawPanels(rest, ps, f.cols)
}

// labels fills in the defaults of a time-axis figure of e: the title is
// what, prefixed by the experiment's name; the axes are "time (s)" and
// "best validation accuracy". Given values are kept.
func (e *Experiment) labels(title, xLabel, yLabel, what string) (string, string, string) {
	if title == "" {
		title = what
		if e.Name != "" {
			title = e.Name + ": " + title
		}
	}
	if xLabel == "" {
		xLabel = "time (s)"
	}
	if yLabel == "" {
		yLabel = "best validation accuracy"
	}
	return title, xLabel, yLabel
}
