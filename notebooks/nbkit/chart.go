package nbkit

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Palette is the colour cycle of Line: blue and orange first, as package
// plots draws HGD and SGD, then green, red, purple, brown, pink, grey.
var Palette = []color.Color{
	color.RGBA{31, 119, 180, 255}, color.RGBA{255, 127, 14, 255}, color.RGBA{44, 160, 44, 255},
	color.RGBA{214, 39, 40, 255}, color.RGBA{148, 103, 189, 255}, color.RGBA{140, 86, 75, 255},
	color.RGBA{227, 119, 194, 255}, color.RGBA{127, 127, 127, 255},
}

// NewPlot returns a plot with a title, axis labels and a grid.
func NewPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	return p
}

// Line adds the polyline (xs[i], ys[i]) to p in colour Palette[i mod n],
// dashed when dashed is set, named in the legend unless name is "". Points
// with a non-finite coordinate are left out.
func Line(p *plot.Plot, name string, xs, ys []float64, i int, dashed bool) error {
	if len(xs) != len(ys) {
		return fmt.Errorf("nbkit: %d x values, %d y values", len(xs), len(ys))
	}
	var pts plotter.XYs
	for k := range xs {
		if !math.IsNaN(xs[k]) && !math.IsInf(xs[k], 0) && !math.IsNaN(ys[k]) && !math.IsInf(ys[k], 0) {
			pts = append(pts, plotter.XY{X: xs[k], Y: ys[k]})
		}
	}
	if len(pts) == 0 {
		return nil
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	l.Color = Palette[((i%len(Palette))+len(Palette))%len(Palette)]
	l.Width = vg.Points(1.5)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	p.Add(l)
	if name != "" {
		p.Legend.Add(name, l)
	}
	return nil
}

// Points adds markers at (xs[i], ys[i]) in colour Palette[i mod n].
func Points(p *plot.Plot, name string, xs, ys []float64, i int) error {
	pts := make(plotter.XYs, len(xs))
	for k := range xs {
		pts[k] = plotter.XY{X: xs[k], Y: ys[k]}
	}
	s, err := plotter.NewScatter(pts)
	if err != nil {
		return err
	}
	s.Color = Palette[((i%len(Palette))+len(Palette))%len(Palette)]
	s.Radius = vg.Points(3)
	p.Add(s)
	if name != "" {
		p.Legend.Add(name, s)
	}
	return nil
}

// Seq returns 0, 1, …, n−1 as float64 (x values of per-step series).
func Seq(n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = float64(i)
	}
	return xs
}

// PNG renders plots side by side, cols per row, each w × h inches, at 96
// DPI, and returns the PNG bytes (for gonbui.DisplayPNG).
func PNG(w, h float64, cols int, ps ...*plot.Plot) ([]byte, error) {
	if len(ps) == 0 {
		return nil, fmt.Errorf("nbkit: no plots")
	}
	cols = max(1, min(cols, len(ps)))
	rows := (len(ps) + cols - 1) / cols
	W, H := vg.Length(w*float64(cols))*vg.Inch, vg.Length(h*float64(rows))*vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(W, H), vgimg.UseDPI(96))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 2, PadY: vg.Millimeter * 2,
		PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter}
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
		for c := range cols {
			if k := r*cols + c; k < len(ps) {
				grid[r][c] = ps[k]
			}
		}
	}
	canvases := plot.Align(grid, tiles, dc)
	for r := range grid {
		for c := range grid[r] {
			if grid[r][c] != nil {
				grid[r][c].Draw(canvases[r][c])
			}
		}
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
