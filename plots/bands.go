package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// BandsConfig configures BandCurves. The zero value gives the defaults
// documented on each field.
type BandsConfig struct {
	// Title of the figure; XLabel and YLabel name the axes (defaults
	// "time (s)" and "value").
	Title, XLabel, YLabel string
	// Legend follows each arm's name in the legend (default "(mean, 95%
	// CI)").
	Legend string
	// Columns is the number of panels per row. Default 3.
	Columns int
	// XMax ends the time axis (default: the latest time of any band).
	XMax float64
	// YMin and YMax fix the shared y range; when both are zero it spans
	// every value and band.
	YMin, YMax float64
	// Size defaults to 10 × 6.5 inches at DefaultDPI.
	Size Size
}

// BandCurves lays out bands computed elsewhere (any statistic with any
// interval, a bootstrap's say) as Curves lays out the mean curves of runs:
// one panel per entry of panels, titled by its Algorithm field, one step
// line (Band.Mean) and translucent band (Band.Lo to Band.Hi) per series on
// the times Band.T; NaN values are left out.
func BandCurves(panels []CurvePanel, cfg BandsConfig) (*CurvesFigure, error) {
	if len(panels) == 0 {
		return nil, fmt.Errorf("%w: no panels", ErrNoData)
	}
	if cfg.Columns < 0 || cfg.XMax < 0 || cfg.YMin > cfg.YMax {
		return nil, fmt.Errorf("%w: bands config %+v", ErrBadConfig, cfg)
	}
	size, err := cfg.Size.resolve(10*vg.Inch, 6.5*vg.Inch)
	if err != nil {
		return nil, err
	}
	f := &CurvesFigure{Title: cfg.Title, XMax: cfg.XMax, Level: DefaultLevel, xLabel: cfg.XLabel, yLabel: cfg.YLabel,
		cols: cfg.Columns, legend: cfg.Legend, Panels: panels}
	if f.xLabel == "" {
		f.xLabel = "time (s)"
	}
	if f.yLabel == "" {
		f.yLabel = "value"
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range panels {
		for _, s := range p.Series {
			b := s.Band
			if len(b.Mean) != len(b.T) || len(b.Lo) != len(b.T) || len(b.Hi) != len(b.T) {
				return nil, fmt.Errorf("%w: panel %q, arm %s: %d times, %d values, %d/%d bounds", ErrBadConfig, p.Algorithm, s.Arm, len(b.T), len(b.Mean), len(b.Lo), len(b.Hi))
			}
			if cfg.XMax == 0 && len(b.T) > 0 {
				f.XMax = math.Max(f.XMax, floats.Max(b.T))
			}
			for _, vs := range [][]float64{b.Mean, b.Lo, b.Hi} {
				for _, v := range vs {
					if !math.IsNaN(v) && !math.IsInf(v, 0) {
						lo, hi = math.Min(lo, v), math.Max(hi, v)
					}
				}
			}
		}
	}
	switch {
	case cfg.YMin != 0 || cfg.YMax != 0:
		f.YMin, f.YMax = cfg.YMin, cfg.YMax
	case math.IsInf(lo, 1):
		return nil, fmt.Errorf("%w: no finite value in any band", ErrNoData)
	default:
		pad := 0.03 * (hi - lo)
		if pad == 0 {
			pad = 0.01
		}
		f.YMin, f.YMax = lo-pad, hi+pad
	}
	if !(f.XMax > 0) {
		return nil, fmt.Errorf("%w: the time axis is empty", ErrNoData)
	}
	f.Figure = Figure{Size: size, draw: func(dc draw.Canvas) { f.render(dc) }}
	return f, nil
}
