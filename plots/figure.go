package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/hgdtune/hgdtune/internal/atomicfile"
)

// DefaultDPI is the PNG resolution used when Size.DPI is zero.
const DefaultDPI = 96

// Size is the size of a figure. Zero fields take the figure's defaults
// (documented on each figure's config; DPI defaults to DefaultDPI). The PNG is
// Width/inch·DPI by Height/inch·DPI pixels (rounded); the SVG is Width by Height
// points.
type Size struct {
	Width, Height vg.Length
	DPI           int
}

func (s Size) resolve(w, h vg.Length) (Size, error) {
	if s.Width == 0 {
		s.Width = w
	}
	if s.Height == 0 {
		s.Height = h
	}
	if s.DPI == 0 {
		s.DPI = DefaultDPI
	}
	if !(s.Width > 0 && s.Height > 0) || math.IsInf(float64(s.Width+s.Height), 0) || s.DPI < 0 {
		return s, fmt.Errorf("%w: size %v×%v at %d dpi", ErrBadConfig, s.Width, s.Height, s.DPI)
	}
	return s, nil
}

// Pixels returns the PNG dimensions of a figure of this (resolved) size.
func (s Size) Pixels() (w, h int) {
	dpi := s.DPI
	if dpi == 0 {
		dpi = DefaultDPI
	}
	return int(s.Width/vg.Inch*vg.Length(dpi) + 0.5), int(s.Height/vg.Inch*vg.Length(dpi) + 0.5)
}

// Figure is a drawable figure of a given size. The figure types of this
// package (made by Curves, Bars and Trajectories) embed it, beside the data
// they plot. A zero Figure draws nothing and its writers return ErrNoData.
type Figure struct {
	// Size is the resolved size (defaults applied).
	Size Size
	draw func(draw.Canvas)
}

// Draw draws the figure onto c (any canvas, e.g. a vg/recorder canvas or one
// tile of a larger figure).
func (f *Figure) Draw(c draw.Canvas) {
	if f.draw != nil {
		f.draw(c)
	}
}

func (f *Figure) check() error {
	if f.draw == nil {
		return fmt.Errorf("%w: empty figure (use Curves, Bars or Trajectories)", ErrNoData)
	}
	if _, err := f.Size.resolve(f.Size.Width, f.Size.Height); err != nil {
		return err
	}
	return nil
}

// WritePNG writes the figure as a PNG image.
func (f *Figure) WritePNG(w io.Writer) error {
	return f.write(w, "PNG", func() vg.CanvasWriterTo {
		return vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(f.Size.Width, f.Size.Height), vgimg.UseDPI(f.Size.DPI))}
	})
}

// PNG returns the figure as PNG bytes (for gonbui.DisplayPNG in notebooks).
func (f *Figure) PNG() ([]byte, error) { return bytesOf(f.WritePNG) }

// WriteSVG writes the figure as an SVG document (fonts referenced by name,
// not embedded).
func (f *Figure) WriteSVG(w io.Writer) error {
	return f.write(w, "SVG", func() vg.CanvasWriterTo { return vgsvg.New(f.Size.Width, f.Size.Height) })
}

// SVG returns the figure as SVG bytes.
func (f *Figure) SVG() ([]byte, error) { return bytesOf(f.WriteSVG) }

// write checks the figure, draws it on the canvas newCanvas makes and
// writes that to w in format.
func (f *Figure) write(w io.Writer, format string, newCanvas func() vg.CanvasWriterTo) error {
	if err := f.check(); err != nil {
		return err
	}
	c := newCanvas()
	f.Draw(draw.New(c))
	if _, err := c.WriteTo(w); err != nil {
		return fmt.Errorf("plots: writing %s: %w", format, err)
	}
	return nil
}

// bytesOf returns what write writes.
func bytesOf(write func(io.Writer) error) ([]byte, error) {
	var b bytes.Buffer
	err := write(&b)
	return b.Bytes(), err
}

// Save writes the figure to path, as PNG or SVG according to its extension
// (.png or .svg, case-insensitive). The file is written atomically (a
// temporary file in the same folder, flushed and renamed): if rendering or
// writing fails, a file already at path is left as it was. It gets the
// permissions 0644 (less the umask); errors name path.
func (f *Figure) Save(path string) error {
	var write func(io.Writer) error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		write = f.WritePNG
	case ".svg":
		write = f.WriteSVG
	default:
		return fmt.Errorf("%w: %q: want a .png or .svg file name", ErrBadConfig, path)
	}
	if err := f.check(); err != nil {
		return err
	}
	if err := atomicfile.Write(path, 0o644, write); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	return nil
}

// Colors and line styles of the arms: HGD solid blue, SGD dashed orange, any
// other arm dotted in further colors.
var armColors = [...]color.NRGBA{
	{R: 31, G: 119, B: 180, A: 255}, // HGD
	{R: 255, G: 127, B: 14, A: 255}, // SGD
	{R: 44, G: 160, B: 44, A: 255},
	{R: 148, G: 103, B: 189, A: 255},
	{R: 140, G: 86, B: 75, A: 255},
}

// palette is used for trajectories (tab10).
var palette = [...]color.NRGBA{
	{R: 31, G: 119, B: 180, A: 255}, {R: 255, G: 127, B: 14, A: 255},
	{R: 44, G: 160, B: 44, A: 255}, {R: 214, G: 39, B: 40, A: 255},
	{R: 148, G: 103, B: 189, A: 255}, {R: 140, G: 86, B: 75, A: 255},
	{R: 227, G: 119, B: 194, A: 255}, {R: 127, G: 127, B: 127, A: 255},
	{R: 188, G: 189, B: 34, A: 255}, {R: 23, G: 190, B: 207, A: 255},
}

// armStyle returns the line style of the i-th arm in Experiment.Arms order
// (HGD, SGD, others).
func armStyle(arm Arm, others int) draw.LineStyle {
	sty := draw.LineStyle{Width: vg.Points(1.6)}
	switch arm {
	case HGD:
		sty.Color = armColors[0]
	case SGD:
		sty.Color = armColors[1]
		sty.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
	default:
		sty.Color = armColors[2+others%(len(armColors)-2)]
		sty.Dashes = []vg.Length{vg.Points(1.5), vg.Points(2)}
	}
	return sty
}

func armStyles(arms []Arm) []draw.LineStyle {
	out := make([]draw.LineStyle, len(arms))
	others := 0
	for i, a := range arms {
		out[i] = armStyle(a, others)
		if a != HGD && a != SGD {
			others++
		}
	}
	return out
}

func translucent(c color.Color, alpha uint8) color.Color {
	r, g, b, _ := color.NRGBAModel.Convert(c).(color.NRGBA).RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: alpha}
}

func textStyle(size vg.Length, xa draw.XAlignment, ya draw.YAlignment) text.Style {
	return text.Style{
		Color:   color.Black,
		Font:    font.From(plot.DefaultFont, size),
		XAlign:  xa,
		YAlign:  ya,
		Handler: plot.DefaultTextHandler,
	}
}

type legendItem struct {
	label  string
	thumbs []plot.Thumbnailer
}

// drawHeader draws the title and a horizontal (wrapping) legend at the top of
// dc, fills the background white, and returns the canvas left below them.
func drawHeader(dc draw.Canvas, title string, items []legendItem) draw.Canvas {
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	pad := vg.Points(5)
	top := dc.Max.Y - pad
	if title != "" {
		ts := textStyle(14, draw.XCenter, draw.YTop)
		dc.FillText(ts, vg.Point{X: dc.Center().X, Y: top}, title)
		top -= ts.Rectangle(title).Size().Y + pad
	}
	if len(items) > 0 {
		ls := textStyle(11, draw.XLeft, draw.YTop)
		thumbW, gap, sep := vg.Points(24), vg.Points(4), vg.Points(18)
		width := func(it legendItem) vg.Length { return thumbW + gap + ls.Width(it.label) }
		avail := dc.Max.X - dc.Min.X - 2*pad
		// Greedy rows.
		var rows [][]legendItem
		var rowW []vg.Length
		for _, it := range items {
			w := width(it)
			n := len(rows)
			if n == 0 || rowW[n-1]+sep+w > avail {
				rows = append(rows, []legendItem{it})
				rowW = append(rowW, w)
				continue
			}
			rows[n-1] = append(rows[n-1], it)
			rowW[n-1] += sep + w
		}
		h := ls.Rectangle("Mg").Size().Y
		for r, row := range rows {
			x := dc.Center().X - rowW[r]/2
			for _, it := range row {
				tc := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
					Min: vg.Point{X: x, Y: top - h}, Max: vg.Point{X: x + thumbW, Y: top},
				}}
				for _, th := range it.thumbs {
					th.Thumbnail(&tc)
				}
				dc.FillText(ls, vg.Point{X: x + thumbW + gap, Y: top}, it.label)
				x += width(it) + sep
			}
			top -= h + pad/2
		}
		top -= pad / 2
	}
	dc.Max.Y = top
	return dc
}

// grid lays out n panels in rows of cols below the header.
type gridLayout struct {
	rows, cols int
}

func newGridLayout(n, cols int) gridLayout {
	if cols <= 0 {
		cols = 3
	}
	if cols > n {
		cols = n
	}
	return gridLayout{rows: (n + cols - 1) / cols, cols: cols}
}

// labelAxes labels the axes of p, panel i of n: the x axis on the lowest
// panel of each column, the y axis in the first column.
func (g gridLayout) labelAxes(p *plot.Plot, i, n int, xLabel, yLabel string) {
	if i/g.cols == g.rows-1 || i+g.cols >= n {
		p.X.Label.Text = xLabel
	}
	if i%g.cols == 0 {
		p.Y.Label.Text = yLabel
	}
}

func (g gridLayout) tiles() draw.Tiles {
	return draw.Tiles{
		Rows: g.rows, Cols: g.cols,
		PadX: vg.Points(12), PadY: vg.Points(10),
		PadLeft: vg.Points(6), PadRight: vg.Points(10), PadBottom: vg.Points(6),
	}
}

// arrange places the panels in a rows×cols matrix (nil where none).
func (g gridLayout) arrange(ps []*plot.Plot) [][]*plot.Plot {
	m := make([][]*plot.Plot, g.rows)
	for r := range m {
		m[r] = make([]*plot.Plot, g.cols)
	}
	for i, p := range ps {
		m[i/g.cols][i%g.cols] = p
	}
	return m
}

// drawPanels draws panels aligned in the grid and returns each panel's canvas
// in panel order.
func drawPanels(dc draw.Canvas, ps []*plot.Plot, cols int) []draw.Canvas {
	g := newGridLayout(len(ps), cols)
	m := g.arrange(ps)
	cs := plot.Align(m, g.tiles(), dc)
	out := make([]draw.Canvas, len(ps))
	for i, p := range ps {
		c := cs[i/g.cols][i%g.cols]
		p.Draw(c)
		out[i] = c
	}
	return out
}

// formatSeconds formats a time for labels ("500", "1000", "12.5").
func formatSeconds(t float64) string {
	return fmt.Sprintf("%g", math.Round(t*1000)/1000)
}

// levelPercent formats a level as "95%".
func levelPercent(level float64) string {
	return fmt.Sprintf("%g%%", math.Round(level*1000)/10)
}
