package plots

import (
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Trajectory is the path of one HGD trial's learning rate α and momentum γ.
type Trajectory struct {
	// Label names the trial in the legend (e.g. "trial 7").
	Label string
	// X is the step index or elapsed time of each sample, non-decreasing.
	X []float64
	// Alpha and Gamma have one value per X; either may be nil (that panel
	// then skips this trial).
	Alpha, Gamma []float64
}

// TrajectoriesConfig configures Trajectories. The zero value gives the
// defaults documented on each field.
type TrajectoriesConfig struct {
	// Title defaults to "HGD trials: learning rate α and momentum γ".
	Title string
	// XLabel defaults to "step".
	XLabel string
	// LogAlpha draws α on a log scale (every α must then be > 0).
	LogAlpha bool
	// MaxLegend is the number of trials named in the legend, the rest being
	// counted as "+k more". Default 10.
	MaxLegend int
	// Size defaults to 10 × 4 inches at DefaultDPI (960 × 384 pixels).
	Size Size
}

// TrajectoriesFigure is a two-panel figure, α (left) and γ (right) against X,
// one line per trial.
type TrajectoriesFigure struct {
	Figure
	Title        string
	XLabel       string
	LogAlpha     bool
	Trajectories []Trajectory
	maxLegend    int
}

func finiteAll(xs []float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// Trajectories lays out the α and γ trajectories of several HGD trials.
func Trajectories(ts []Trajectory, cfg TrajectoriesConfig) (*TrajectoriesFigure, error) {
	if len(ts) == 0 {
		return nil, fmt.Errorf("%w: no trajectories", ErrNoData)
	}
	if cfg.MaxLegend < 0 {
		return nil, fmt.Errorf("%w: MaxLegend %d", ErrBadConfig, cfg.MaxLegend)
	}
	size, err := cfg.Size.resolve(10*vg.Inch, 4*vg.Inch)
	if err != nil {
		return nil, err
	}
	for i, t := range ts {
		if len(t.X) == 0 || (t.Alpha != nil && len(t.Alpha) != len(t.X)) || (t.Gamma != nil && len(t.Gamma) != len(t.X)) {
			return nil, fmt.Errorf("%w: trajectory %d (%q): %d x, %d α, %d γ values", ErrBadCurve, i, t.Label, len(t.X), len(t.Alpha), len(t.Gamma))
		}
		if !finiteAll(t.X) || !finiteAll(t.Alpha) || !finiteAll(t.Gamma) {
			return nil, fmt.Errorf("%w: trajectory %d (%q) has non-finite values", ErrBadCurve, i, t.Label)
		}
		for k := 1; k < len(t.X); k++ {
			if t.X[k] < t.X[k-1] {
				return nil, fmt.Errorf("%w: trajectory %d (%q): x not sorted at %d", ErrBadCurve, i, t.Label, k)
			}
		}
		if cfg.LogAlpha {
			for _, a := range t.Alpha {
				if a <= 0 {
					return nil, fmt.Errorf("%w: trajectory %d (%q): α = %v on a log scale", ErrBadCurve, i, t.Label, a)
				}
			}
		}
	}
	f := &TrajectoriesFigure{Title: cfg.Title, XLabel: cfg.XLabel, LogAlpha: cfg.LogAlpha, Trajectories: ts, maxLegend: cfg.MaxLegend}
	if f.Title == "" {
		f.Title = "HGD trials: learning rate α and momentum γ"
	}
	if f.XLabel == "" {
		f.XLabel = "step"
	}
	if f.maxLegend == 0 {
		f.maxLegend = 10
	}
	f.Figure = Figure{Size: size, draw: func(dc draw.Canvas) { f.render(dc) }}
	return f, nil
}

func trialStyle(i int) draw.LineStyle {
	sty := draw.LineStyle{Color: palette[i%len(palette)], Width: vg.Points(1.3)}
	switch (i / len(palette)) % 3 {
	case 1:
		sty.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
	case 2:
		sty.Dashes = []vg.Length{vg.Points(1.5), vg.Points(2)}
	}
	return sty
}

func (f *TrajectoriesFigure) panelPlots() ([]*plot.Plot, []legendItem) {
	alpha, gamma := plot.New(), plot.New()
	alpha.Title.Text, alpha.Y.Label.Text = "learning rate", "α"
	gamma.Title.Text, gamma.Y.Label.Text = "momentum", "γ"
	var items []legendItem
	for _, p := range []*plot.Plot{alpha, gamma} {
		p.Add(plotter.NewGrid())
		p.X.Label.Text = f.XLabel
	}
	hasAlpha := false
	for _, t := range f.Trajectories {
		hasAlpha = hasAlpha || len(t.Alpha) > 0
	}
	if f.LogAlpha && hasAlpha {
		alpha.Y.Scale = plot.LogScale{}
		alpha.Y.Tick.Marker = logTicks{}
	}
	for i, t := range f.Trajectories {
		sty := trialStyle(i)
		for _, pv := range []struct {
			p  *plot.Plot
			ys []float64
		}{{alpha, t.Alpha}, {gamma, t.Gamma}} {
			if len(pv.ys) == 0 {
				continue
			}
			xys := make(plotter.XYs, len(t.X))
			for k := range t.X {
				xys[k] = plotter.XY{X: t.X[k], Y: pv.ys[k]}
			}
			pv.p.Add(&plotter.Line{XYs: xys, LineStyle: sty})
		}
		if i < f.maxLegend {
			label := t.Label
			if label == "" {
				label = fmt.Sprintf("trial %d", i)
			}
			items = append(items, legendItem{label: label, thumbs: []plot.Thumbnailer{&plotter.Line{LineStyle: sty}}})
		}
	}
	if n := len(f.Trajectories) - f.maxLegend; n > 0 {
		items = append(items, legendItem{label: fmt.Sprintf("+%d more", n)})
	}
	for _, p := range []*plot.Plot{alpha, gamma} {
		if p.Y.Min == p.Y.Max { // constant series: open the range a little
			d := math.Max(math.Abs(p.Y.Min)*0.05, 1e-3)
			if f.LogAlpha && hasAlpha && p == alpha {
				p.Y.Min, p.Y.Max = p.Y.Min/1.1, p.Y.Max*1.1
			} else {
				p.Y.Min, p.Y.Max = p.Y.Min-d, p.Y.Max+d
			}
		}
	}
	return []*plot.Plot{alpha, gamma}, items
}

func (f *TrajectoriesFigure) render(dc draw.Canvas) ([]*plot.Plot, []draw.Canvas) {
	ps, items := f.panelPlots()
	rest := drawHeader(dc, f.Title, items)
	return ps, drawPanels(rest, ps, 2)
}

// logTicks marks a log axis: majors at 1, 2 and 5 × 10^k when the range spans
// less than two decades (at 10^k otherwise), minors at the other integers ×
// 10^k. gonum's LogTicks labels powers of ten only, which leaves a narrow α
// range with one label or none.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || !(max >= min) {
		return nil
	}
	lo, hi := int(math.Floor(math.Log10(min))), int(math.Ceil(math.Log10(max)))
	dense := math.Log10(max/min) < 2
	var ticks []plot.Tick
	for k := lo; k <= hi; k++ {
		for m := 1; m <= 9; m++ {
			v := float64(m) * math.Pow(10, float64(k))
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			major := m == 1 || dense && (m == 2 || m == 5)
			t := plot.Tick{Value: v}
			if major {
				t.Label = strconv.FormatFloat(v, 'g', 3, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}
