package plots

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/recorder"
)

// fixture is a small hand-checkable experiment: two algorithms, two arms,
// three seeds, every curve starting at t=0, budget 100 s.
func fixture() *Experiment {
	return &Experiment{Name: "fixture", Budget: 100, Runs: []Run{
		{Algorithm: "ASHA", Arm: SGD, Seed: 0, Curve: Curve{{0, .10}, {40, .30}, {80, .40}}},
		{Algorithm: "ASHA", Arm: SGD, Seed: 1, Curve: Curve{{0, .20}, {50, .35}}},
		{Algorithm: "ASHA", Arm: SGD, Seed: 2, Curve: Curve{{0, .15}, {30, .25}, {90, .50}}},
		{Algorithm: "ASHA", Arm: HGD, Seed: 0, Curve: Curve{{0, .30}, {20, .60}}},
		{Algorithm: "ASHA", Arm: HGD, Seed: 1, Curve: Curve{{0, .25}, {60, .70}}},
		{Algorithm: "ASHA", Arm: HGD, Seed: 2, Curve: Curve{{0, .35}}},
		{Algorithm: "PBT", Arm: SGD, Seed: 0, Curve: Curve{{0, .05}, {70, .45}}},
		{Algorithm: "PBT", Arm: SGD, Seed: 1, Curve: Curve{{0, .10}}},
		{Algorithm: "PBT", Arm: SGD, Seed: 2, Curve: Curve{{0, .12}, {10, .20}}},
		{Algorithm: "PBT", Arm: HGD, Seed: 0, Curve: Curve{{0, .40}}},
		{Algorithm: "PBT", Arm: HGD, Seed: 1, Curve: Curve{{0, .42}, {55, .52}}},
		{Algorithm: "PBT", Arm: HGD, Seed: 2, Curve: Curve{{0, .38}, {99, .60}}},
	}}
}

// record draws f into a recording canvas.
func record[F interface {
	render(draw.Canvas) ([]*plot.Plot, []draw.Canvas)
}](f F, size Size) (*recorder.Canvas, []*plot.Plot, []draw.Canvas) {
	rec := &recorder.Canvas{}
	ps, cs := f.render(draw.NewCanvas(rec, size.Width, size.Height))
	return rec, ps, cs
}

func pathPoints(p vg.Path) []vg.Point {
	var pts []vg.Point
	for _, c := range p {
		if c.Type == vg.MoveComp || c.Type == vg.LineComp {
			pts = append(pts, c.Pos)
		}
	}
	return pts
}

func samePoints(a, b []vg.Point) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i].X-b[i].X)) > 1e-6 || math.Abs(float64(a[i].Y-b[i].Y)) > 1e-6 {
			return false
		}
	}
	return true
}

// findPath returns the index of the first Stroke (fill=false) or Fill action
// whose path goes through exactly want, and the line dashes in effect then.
func findPath(rec *recorder.Canvas, want []vg.Point, fill bool) (int, []vg.Length) {
	var dashes []vg.Length
	for i, a := range rec.Actions {
		switch a := a.(type) {
		case *recorder.SetLineDash:
			dashes = a.Dashes
		case *recorder.Stroke:
			if !fill && samePoints(pathPoints(a.Path), want) {
				return i, dashes
			}
		case *recorder.Fill:
			if fill && samePoints(pathPoints(a.Path), want) {
				return i, dashes
			}
		}
	}
	return -1, nil
}

func drawnStrings(rec *recorder.Canvas) map[string]bool {
	m := map[string]bool{}
	for _, a := range rec.Actions {
		if fs, ok := a.(*recorder.FillString); ok {
			m[fs.String] = true
		}
	}
	return m
}

func TestCurvesData(t *testing.T) {
	f, err := Curves(fixture(), CurvesConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Panels) != 2 || f.Panels[0].Algorithm != "ASHA" || f.Panels[1].Algorithm != "PBT" {
		t.Fatalf("panels %+v", f.Panels)
	}
	sgd := f.Panels[0].Series[1]
	if f.Panels[0].Series[0].Arm != HGD || sgd.Arm != SGD {
		t.Fatalf("series order %v %v", f.Panels[0].Series[0].Arm, sgd.Arm)
	}
	// Exact grid: the breakpoints of ASHA/SGD and the ends.
	wantT := []float64{0, 30, 40, 50, 80, 90, 100}
	wantMean := []float64{.15, (.10 + .20 + .25) / 3, (.30 + .20 + .25) / 3, .30, (.40 + .35 + .25) / 3, (.40 + .35 + .50) / 3, (.40 + .35 + .50) / 3}
	if len(sgd.Band.T) != len(wantT) {
		t.Fatalf("grid %v, want %v", sgd.Band.T, wantT)
	}
	for i := range wantT {
		if sgd.Band.T[i] != wantT[i] || !near(sgd.Band.Mean[i], wantMean[i], 1e-12) || sgd.Band.N[i] != 3 {
			t.Errorf("t=%v: mean %v (N %d), want t=%v mean %v", sgd.Band.T[i], sgd.Band.Mean[i], sgd.Band.N[i], wantT[i], wantMean[i])
		}
	}
	// At 50 s the seeds are .30, .35, .25: sd .05, t(0.975, 2) = 4.302653.
	if s := sgd.Band.Stat(3); !near(s.HalfWidth, 4.302653*0.05/math.Sqrt(3), 1e-6) {
		t.Errorf("half width at 50 s = %v", s.HalfWidth)
	}
	if f.XMin != 0 || f.XMax != 100 {
		t.Errorf("x range %v..%v", f.XMin, f.XMax)
	}
	for _, p := range f.Panels {
		for _, s := range p.Series {
			for i := range s.Band.T {
				if s.Band.Lo[i] < f.YMin || s.Band.Hi[i] > f.YMax {
					t.Errorf("%s/%s band outside shared y range at %v", p.Algorithm, s.Arm, s.Band.T[i])
				}
			}
		}
	}
	// A uniform grid.
	g, err := Curves(fixture(), CurvesConfig{GridPoints: 11, YMin: 0, YMax: 1})
	if err != nil {
		t.Fatal(err)
	}
	if b := g.Panels[0].Series[1].Band; len(b.T) != 11 || b.T[5] != 50 || !near(b.Mean[5], .30, 1e-12) || g.YMin != 0 || g.YMax != 1 {
		t.Errorf("uniform grid band %+v, y %v..%v", b, g.YMin, g.YMax)
	}
}

func TestCurvesPlotted(t *testing.T) {
	f, err := Curves(fixture(), CurvesConfig{Size: Size{Width: 6 * vg.Inch, Height: 4 * vg.Inch}})
	if err != nil {
		t.Fatal(err)
	}
	rec, ps, cs := record(f, f.Size)
	for i, panel := range f.Panels {
		da := ps[i].DataCanvas(cs[i])
		trX, trY := ps[i].Transforms(&da)
		tr := func(xs, ys []float64) []vg.Point {
			pts := make([]vg.Point, len(xs))
			for k := range xs {
				pts[k] = vg.Point{X: trX(xs[k]), Y: trY(ys[k])}
			}
			return pts
		}
		for _, s := range panel.Series {
			b := s.Band
			// The mean line: a staircase through (T[k], Mean[k]) holding each
			// value until T[k+1].
			var xs, ys []float64
			for k := range b.T {
				if k > 0 {
					xs, ys = append(xs, b.T[k]), append(ys, b.Mean[k-1])
				}
				xs, ys = append(xs, b.T[k]), append(ys, b.Mean[k])
			}
			idx, dashes := findPath(rec, tr(xs, ys), false)
			if idx < 0 {
				t.Errorf("%s/%s: mean staircase not drawn", panel.Algorithm, s.Arm)
			} else if (s.Arm == SGD) != (len(dashes) > 0) {
				t.Errorf("%s/%s: dashes %v", panel.Algorithm, s.Arm, dashes)
			}
			// The band: upper staircase then lower staircase backwards.
			xs, ys = nil, nil
			for k := range b.T {
				xs, ys = append(xs, b.T[k]), append(ys, b.Hi[k])
				if k+1 < len(b.T) {
					xs, ys = append(xs, b.T[k+1]), append(ys, b.Hi[k])
				}
			}
			for k := len(b.T) - 1; k >= 0; k-- {
				if k+1 < len(b.T) {
					xs, ys = append(xs, b.T[k+1]), append(ys, b.Lo[k])
				}
				xs, ys = append(xs, b.T[k]), append(ys, b.Lo[k])
			}
			if idx, _ := findPath(rec, tr(xs, ys), true); idx < 0 {
				t.Errorf("%s/%s: band not filled", panel.Algorithm, s.Arm)
			}
		}
	}
	strs := drawnStrings(rec)
	for _, s := range []string{f.Title, f.Panels[0].Heading(), f.Panels[len(f.Panels)-1].Heading(), "time (s)", "best validation accuracy", "HGD (mean, 95% CI)", "SGD (mean, 95% CI)"} {
		if !strs[s] {
			t.Errorf("text %q not drawn", s)
		}
	}
}

func TestCurvesMissingSeeds(t *testing.T) {
	// Seed 1 starts at 40 s: before that, the mean is over seed 0 only and
	// there is no band; with MinSeeds 2 nothing is drawn before 40 s.
	e := &Experiment{Budget: 100, Runs: []Run{
		{Algorithm: "ASHA", Arm: HGD, Seed: 0, Curve: Curve{{10, .2}, {60, .5}}},
		{Algorithm: "ASHA", Arm: HGD, Seed: 1, Curve: Curve{{40, .4}}},
	}}
	for _, tc := range []struct {
		minSeeds int
		mean10   float64
	}{{0, .2}, {2, math.NaN()}} {
		f, err := Curves(e, CurvesConfig{MinSeeds: tc.minSeeds})
		if err != nil {
			t.Fatal(err)
		}
		b := f.Panels[0].Series[0].Band
		// grid 0 10 40 60 100
		if b.N[0] != 0 || !math.IsNaN(b.Mean[0]) || b.N[1] != 1 || !near(b.Mean[1], tc.mean10, 0) || !math.IsNaN(b.Hi[1]) ||
			b.N[2] != 2 || !near(b.Mean[2], .3, 1e-12) || !near(b.Mean[3], .45, 1e-12) {
			t.Errorf("minSeeds %d: band %+v", tc.minSeeds, b)
		}
		// Plotted: one staircase from the first defined time on.
		rec, _, _ := record(f, f.Size)
		strokes := 0
		for _, a := range rec.Actions {
			if _, ok := a.(*recorder.Stroke); ok {
				strokes++
			}
		}
		if strokes == 0 {
			t.Error("nothing stroked")
		}
	}
}

func TestStairs(t *testing.T) {
	nan := math.NaN()
	got := stairs([]float64{0, 1, 2, 3, 4}, []float64{nan, 1, 2, nan, 5})
	want := [][]vg.Point{{{X: 1, Y: 1}, {X: 2, Y: 1}, {X: 2, Y: 2}, {X: 3, Y: 2}}, {{X: 4, Y: 5}}}
	if len(got) != len(want) || !samePoints(got[0], want[0]) || !samePoints(got[1], want[1]) {
		t.Errorf("stairs = %v, want %v", got, want)
	}
	polys := bandPolygons([]float64{0, 1, 2}, []float64{nan, 1, 2}, []float64{nan, 3, 4})
	wantPoly := []vg.Point{{X: 1, Y: 3}, {X: 2, Y: 3}, {X: 2, Y: 4}, {X: 2, Y: 2}, {X: 2, Y: 1}, {X: 1, Y: 1}}
	if len(polys) != 1 || !samePoints(tr(polys[0]), wantPoly) {
		t.Errorf("bandPolygons = %v, want %v", polys, wantPoly)
	}
}

func tr(xys interface {
	Len() int
	XY(int) (float64, float64)
}) []vg.Point {
	pts := make([]vg.Point, xys.Len())
	for i := range pts {
		x, y := xys.XY(i)
		pts[i] = vg.Point{X: vg.Length(x), Y: vg.Length(y)}
	}
	return pts
}

func TestBarsData(t *testing.T) {
	f, err := Bars(fixture(), BarsConfig{Times: []float64{25, 50, 95}})
	if err != nil {
		t.Fatal(err)
	}
	p := f.Panels[0]
	if p.Algorithm != "ASHA" || len(p.Arms) != 2 || p.Arms[0] != HGD || p.Arms[1] != SGD {
		t.Fatalf("panel %+v", p)
	}
	// ASHA/SGD at 50 s: .30 .35 .25; at 95 s: .40 .35 .50. ASHA/HGD at 25 s: .60 .25 .35.
	checks := []struct {
		arm, time  int
		mean, half float64
	}{
		{1, 1, .30, 4.302653 * 0.05 / math.Sqrt(3)},
		{1, 2, (.40 + .35 + .50) / 3, 4.302653 * 0.0763763 / math.Sqrt(3)},
		{0, 0, .40, 4.302653 * 0.1802776 / math.Sqrt(3)},
	}
	for _, c := range checks {
		s := p.Stats[c.arm][c.time]
		if !near(s.Mean, c.mean, 1e-12) || !near(s.HalfWidth, c.half, 1e-5) || s.N != 3 {
			t.Errorf("arm %d time %d: %+v, want %v ± %v", c.arm, c.time, s, c.mean, c.half)
		}
	}
	if def, err := Bars(fixture(), BarsConfig{}); err != nil || len(def.Times) != 5 || def.Times[0] != 100.0/6 {
		t.Errorf("default checkpoints %v, %v", def.Times, err)
	}
	if _, err := Bars(&Experiment{Runs: fixture().Runs}, BarsConfig{}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("no budget: err = %v", err)
	}

	rec, ps, cs := record(f, f.Size)
	for i, panel := range f.Panels {
		da := ps[i].DataCanvas(cs[i])
		trX, trY := ps[i].Transforms(&da)
		for a := range panel.Arms {
			for j := range f.Times {
				s := panel.Stats[a][j]
				x, w := barCenter(j, a, len(panel.Arms))
				rect := []vg.Point{
					{X: trX(x - w/2), Y: trY(0)}, {X: trX(x - w/2), Y: trY(s.Mean)},
					{X: trX(x + w/2), Y: trY(s.Mean)}, {X: trX(x + w/2), Y: trY(0)},
				}
				if idx, _ := findPath(rec, rect, true); idx < 0 {
					t.Errorf("%s/%s@%v: bar not filled", panel.Algorithm, panel.Arms[a], f.Times[j])
				}
				// Clipped to the axes (the bars start at 0).
				clamp := func(y float64) float64 { return math.Min(math.Max(y, 0), f.YMax) }
				errBar := []vg.Point{{X: trX(x), Y: trY(clamp(s.Lo()))}, {X: trX(x), Y: trY(clamp(s.Hi()))}}
				if idx, _ := findPath(rec, errBar, false); idx < 0 {
					t.Errorf("%s/%s@%v: error bar not drawn", panel.Algorithm, panel.Arms[a], f.Times[j])
				}
			}
		}
	}
	strs := drawnStrings(rec)
	for _, s := range []string{"25", "50", "95", "ASHA", "PBT", "HGD (mean ± 95% CI)"} {
		if !strs[s] {
			t.Errorf("text %q not drawn", s)
		}
	}
}

func TestTrajectories(t *testing.T) {
	ts := []Trajectory{
		{Label: "trial 0", X: []float64{0, 1, 2, 3}, Alpha: []float64{1e-3, 2e-3, 4e-3, 3e-3}, Gamma: []float64{.9, .91, .93, .92}},
		{Label: "trial 1", X: []float64{0, 2, 4}, Alpha: []float64{1e-3, 5e-4, 7e-4}, Gamma: []float64{.8, .85, .86}},
		{X: []float64{0, 5}, Alpha: []float64{2e-3, 2e-3}}, // no γ
	}
	f, err := Trajectories(ts, TrajectoriesConfig{LogAlpha: true, MaxLegend: 2})
	if err != nil {
		t.Fatal(err)
	}
	rec, ps, cs := record(f, f.Size)
	for pi, get := range []func(Trajectory) []float64{
		func(t Trajectory) []float64 { return t.Alpha },
		func(t Trajectory) []float64 { return t.Gamma },
	} {
		da := ps[pi].DataCanvas(cs[pi])
		trX, trY := ps[pi].Transforms(&da)
		for i, tj := range ts {
			ys := get(tj)
			if ys == nil {
				continue
			}
			pts := make([]vg.Point, len(ys))
			for k := range ys {
				pts[k] = vg.Point{X: trX(tj.X[k]), Y: trY(ys[k])}
			}
			if idx, _ := findPath(rec, pts, false); idx < 0 {
				t.Errorf("panel %d trajectory %d not drawn", pi, i)
			}
		}
	}
	strs := drawnStrings(rec)
	for _, s := range []string{"trial 0", "trial 1", "+1 more", "α", "γ", "step"} {
		if !strs[s] {
			t.Errorf("text %q not drawn", s)
		}
	}

	bad := []struct {
		name string
		ts   []Trajectory
		cfg  TrajectoriesConfig
		want error
	}{
		{"none", nil, TrajectoriesConfig{}, ErrNoData},
		{"length", []Trajectory{{X: []float64{0, 1}, Alpha: []float64{1}}}, TrajectoriesConfig{}, ErrBadCurve},
		{"unsorted", []Trajectory{{X: []float64{1, 0}, Alpha: []float64{1, 1}}}, TrajectoriesConfig{}, ErrBadCurve},
		{"nan", []Trajectory{{X: []float64{0}, Gamma: []float64{math.NaN()}}}, TrajectoriesConfig{}, ErrBadCurve},
		{"log of negative", []Trajectory{{X: []float64{0}, Alpha: []float64{-1e-3}}}, TrajectoriesConfig{LogAlpha: true}, ErrBadCurve},
		{"size", ts, TrajectoriesConfig{Size: Size{Width: -1}}, ErrBadConfig},
	}
	for _, tc := range bad {
		if _, err := Trajectories(tc.ts, tc.cfg); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	e := fixture()
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"curves level", second(Curves(e, CurvesConfig{Level: 2})), ErrBadConfig},
		{"curves grid 1", second(Curves(e, CurvesConfig{GridPoints: 1})), ErrBadConfig},
		{"curves y range", second(Curves(e, CurvesConfig{YMin: 1, YMax: 0})), ErrBadConfig},
		{"curves empty", second(Curves(&Experiment{}, CurvesConfig{})), ErrNoData},
		{"bars columns", second(Bars(e, BarsConfig{Columns: -1})), ErrBadConfig},
		{"bars size", second(Bars(e, BarsConfig{Size: Size{Height: -3}})), ErrBadConfig},
		{"table no budget", second(NewTable(&Experiment{Runs: e.Runs}, TableConfig{})), ErrBadConfig},
	}
	for _, tc := range tests {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, tc.err, tc.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// figures returns one figure of each kind at the given size.
func figures(t *testing.T, size Size) map[string]*Figure {
	t.Helper()
	e := fixture()
	c, err := Curves(e, CurvesConfig{Size: size})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Bars(e, BarsConfig{Size: size})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := Trajectories([]Trajectory{{X: []float64{0, 1, 2}, Alpha: []float64{.1, .2, .15}, Gamma: []float64{.9, .8, .85}}}, TrajectoriesConfig{Size: size})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*Figure{"curves": &c.Figure, "bars": &b.Figure, "trajectories": &tr.Figure}
}

func TestPNG(t *testing.T) {
	blue := armColors[0]
	for _, tc := range []struct {
		size, want Size
		w, h       int
	}{
		{Size{Width: 5 * vg.Inch, Height: 3 * vg.Inch, DPI: 60}, Size{Width: 5 * vg.Inch, Height: 3 * vg.Inch, DPI: 60}, 300, 180},
		{Size{Width: 4 * vg.Inch, Height: 4 * vg.Inch}, Size{Width: 4 * vg.Inch, Height: 4 * vg.Inch, DPI: 96}, 384, 384},
	} {
		for name, f := range figures(t, tc.size) {
			if f.Size != tc.want {
				t.Errorf("%s: size %+v, want %+v", name, f.Size, tc.want)
			}
			b, err := f.PNG()
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got := img.Bounds().Size(); got != (image.Point{X: tc.w, Y: tc.h}) {
				t.Errorf("%s: %v pixels, want %d×%d", name, got, tc.w, tc.h)
			}
			if w, h := f.Size.Pixels(); w != tc.w || h != tc.h {
				t.Errorf("%s: Pixels = %d×%d", name, w, h)
			}
			// Data is drawn: some pixels have the HGD / first-trial blue.
			// Bars are filled with the arm colour at alpha 200 over white.
			want := blue
			if name == "bars" {
				mix := func(c uint8) uint8 { return uint8((int(c)*200 + 255*55 + 127) / 255) }
				want = color.NRGBA{R: mix(blue.R), G: mix(blue.G), B: mix(blue.B), A: 255}
			}
			if n := countColor(img, want, 12); n < 10 {
				t.Errorf("%s: only %d blue pixels", name, n)
			}
		}
	}
	// Default sizes.
	e := fixture()
	c, _ := Curves(e, CurvesConfig{})
	if w, h := c.Size.Pixels(); w != 960 || h != 624 {
		t.Errorf("default curves size %d×%d", w, h)
	}
	tr, _ := Trajectories([]Trajectory{{X: []float64{0}, Alpha: []float64{1}}}, TrajectoriesConfig{})
	if w, h := tr.Size.Pixels(); w != 960 || h != 384 {
		t.Errorf("default trajectories size %d×%d", w, h)
	}
}

func countColor(img image.Image, c color.NRGBA, tol int) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			p := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			if abs(int(p.R)-int(c.R)) <= tol && abs(int(p.G)-int(c.G)) <= tol && abs(int(p.B)-int(c.B)) <= tol {
				n++
			}
		}
	}
	return n
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestSVG(t *testing.T) {
	size := Size{Width: 5 * vg.Inch, Height: 3 * vg.Inch}
	for name, f := range figures(t, size) {
		b, err := f.SVG()
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			XMLName xml.Name
			Width   string `xml:"width,attr"`
			Height  string `xml:"height,attr"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if doc.XMLName.Local != "svg" || doc.Width != "360pt" || doc.Height != "216pt" {
			t.Errorf("%s: <%s width=%q height=%q>", name, doc.XMLName.Local, doc.Width, doc.Height)
		}
		// Well-formed throughout, with paths and text.
		dec := xml.NewDecoder(bytes.NewReader(b))
		counts := map[string]int{}
		for {
			tok, err := dec.Token()
			if err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("%s: %v", name, err)
				}
				break
			}
			if se, ok := tok.(xml.StartElement); ok {
				counts[se.Name.Local]++
			}
		}
		if counts["path"] < 10 || counts["text"] < 5 {
			t.Errorf("%s: elements %v", name, counts)
		}
	}
}

func TestSave(t *testing.T) {
	dir := t.TempDir()
	f := figures(t, Size{Width: 2 * vg.Inch, Height: 2 * vg.Inch, DPI: 30})["curves"]
	for _, name := range []string{"a.png", "b.SVG"} {
		p := filepath.Join(dir, name)
		if err := f.Save(p); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, "png") {
			if _, err := png.Decode(bytes.NewReader(b)); err != nil {
				t.Error(err)
			}
		} else if !bytes.Contains(b, []byte("<svg")) {
			t.Error("not an SVG")
		}
	}
	if err := f.Save(filepath.Join(dir, "c.pdf")); !errors.Is(err, ErrBadConfig) {
		t.Errorf("pdf: err = %v", err)
	}
}

func TestZeroFigure(t *testing.T) {
	var f Figure
	if _, err := f.PNG(); !errors.Is(err, ErrNoData) {
		t.Errorf("PNG: err = %v", err)
	}
	if _, err := f.SVG(); !errors.Is(err, ErrNoData) {
		t.Errorf("SVG: err = %v", err)
	}
	f.Draw(draw.NewCanvas(&recorder.Canvas{}, 10, 10)) // no panic
}

func TestLogTicks(t *testing.T) {
	labels := func(ts []plot.Tick) (out []string) {
		for _, tk := range ts {
			if tk.Label != "" {
				out = append(out, tk.Label)
			}
		}
		return out
	}
	tests := []struct {
		min, max float64
		want     string
	}{
		{1e-3, 5e-3, "0.001 0.002 0.005"},
		{1.5e-3, 4e-2, "0.002 0.005 0.01 0.02"},
		{1e-5, 0.2, "1e-05 0.0001 0.001 0.01 0.1"},
		{-1, 1, ""},
	}
	for _, tc := range tests {
		if got := strings.Join(labels(logTicks{}.Ticks(tc.min, tc.max)), " "); got != tc.want {
			t.Errorf("ticks(%v, %v) = %q, want %q", tc.min, tc.max, got, tc.want)
		}
	}
}
