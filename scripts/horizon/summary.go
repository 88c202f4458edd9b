package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/hgdtune/hgdtune/internal/atomicfile"
	"github.com/hgdtune/hgdtune/plots"
)

// protocolFile records the protocol of a results folder, so that a rerun
// with other flags is refused instead of mixing runs.
const protocolFile = "protocol.json"

type protocolJSON struct {
	TrainImages, Epochs, Batch, EvalLimit, TraceEvery int
	Conv                                              [3]int
	FC                                                [2]int
}

func (p protocol) json() protocolJSON {
	return protocolJSON{p.trainImages, p.epochs, p.batch, p.evalLimit, p.traceEvery, p.conv, p.fc}
}

// readProtocol reads out/protocol.json.
func readProtocol(out string) (protocol, error) {
	path := filepath.Join(out, protocolFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return protocol{}, err
	}
	var j protocolJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return protocol{}, fmt.Errorf("%s: %w", path, err)
	}
	return protocol{trainImages: j.TrainImages, epochs: j.Epochs, batch: j.Batch, evalLimit: j.EvalLimit, traceEvery: j.TraceEvery, conv: j.Conv, fc: j.FC}, nil
}

// checkProtocol writes out/protocol.json, or compares p with the one there.
func checkProtocol(out string, p protocol) error {
	path := filepath.Join(out, protocolFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		nb, _ := json.MarshalIndent(p.json(), "", "  ")
		return atomicfile.WriteFile(path, append(nb, '\n'), 0o644)
	}
	if err != nil {
		return err
	}
	var had protocolJSON
	if err := json.Unmarshal(b, &had); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if had != p.json() {
		return fmt.Errorf("%s holds runs of another protocol (%+v); these flags give %+v: use another -out", out, had, p.json())
	}
	return nil
}

// cell is a group of paired runs: one setting from one start, every seed.
type cell map[int]Run

// index groups runs by start, then setting.
func index(runs []Run) map[string]map[string]cell {
	m := map[string]map[string]cell{}
	for _, r := range runs {
		if m[r.Start] == nil {
			m[r.Start] = map[string]cell{}
		}
		if m[r.Start][r.Setting] == nil {
			m[r.Start][r.Setting] = cell{}
		}
		m[r.Start][r.Setting][r.Seed] = r
	}
	return m
}

// accAt is the run's accuracy after epoch e (1-based); a run that diverged
// before it counts as chance (0.1), one that did not get there yet is NaN.
func accAt(r Run, e int) float64 {
	switch {
	case e <= len(r.Acc):
		return r.Acc[e-1]
	case r.Diverged != 0:
		return 0.1
	}
	return math.NaN()
}

// column is one checkpoint of the tables: the setting's accuracy (mean ±
// interval over seeds) and its paired difference to SGD+momentum.
type column struct {
	Acc, Diff plots.Stat
	P         float64
}

// bestUpTo is the run's best accuracy over epochs 1 … e (what an HPO
// algorithm keeps: the best validation accuracy so far); NaN before epoch
// e, unless the run diverged.
func bestUpTo(r Run, e int) float64 {
	if math.IsNaN(accAt(r, e)) {
		return math.NaN()
	}
	best := math.Inf(-1)
	for k := 1; k <= e; k++ {
		best = math.Max(best, accAt(r, k))
	}
	return best
}

// compare computes a column at epoch e: the seeds of c, and their paired
// differences to base (seed by seed; seeds missing from either are left
// out of the difference).
func compare(c, base cell, e int) (column, error) { return compareBy(c, base, e, accAt) }

// compareBy is compare with another measure of a run at epoch e.
func compareBy(c, base cell, e int, at func(Run, int) float64) (column, error) {
	var accs, diffs []float64
	for _, seed := range seedsOf(c) {
		a := at(c[seed], e)
		accs = append(accs, a)
		if b, ok := base[seed]; ok && !math.IsNaN(a) && !math.IsNaN(at(b, e)) {
			diffs = append(diffs, a-at(b, e))
		}
	}
	var col column
	var err error
	if col.Acc, err = plots.Summarize(accs, 0.95); err != nil {
		return col, err
	}
	if col.Diff, err = plots.Summarize(diffs, 0.95); err != nil {
		return col, err
	}
	col.P = plots.TTest(diffs).P
	return col, nil
}

func seedsOf(c cell) []int {
	var s []int
	for k := range c {
		s = append(s, k)
	}
	sort.Ints(s)
	return s
}

// checkpoints are the epochs the tables show: 1, 5 and the last.
func checkpoints(epochs int) []int {
	var out []int
	for _, e := range []int{1, 5, epochs} {
		if e <= epochs && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

func pm(s plots.Stat, scale float64, signed bool) string {
	if math.IsNaN(s.Mean) {
		return "–"
	}
	f := "%.1f"
	if signed {
		f = "%+.1f"
	}
	out := fmt.Sprintf(f, scale*s.Mean)
	if !math.IsNaN(s.HalfWidth) {
		out += fmt.Sprintf(" ± %.1f", scale*s.HalfWidth)
	}
	if s.N < s.Total {
		out += fmt.Sprintf(" [n=%d]", s.N)
	}
	return out
}

// tables renders the summary's tables: per start, one row per setting.
func tables(runs []Run, epochs int) (string, error) {
	idx := index(runs)
	var b strings.Builder
	cps := checkpoints(epochs)
	for _, st := range starts() {
		byset := idx[st.Name]
		if byset == nil {
			continue
		}
		fmt.Fprintf(&b, "\n### Start %s: α0 = %g, γ0 = %g\n\n", st.Name, st.Alpha0, st.Gamma0)
		b.WriteString("| setting | seeds |")
		for _, e := range cps {
			fmt.Fprintf(&b, " acc @%d ep (%%) | Δ vs sgd @%d ep (points) | p |", e, e)
		}
		fmt.Fprintf(&b, " best ≤ %d ep (%%) | Δ vs sgd (points) | p | α at end | γ at end |\n|---|---:|", epochs)
		for range cps {
			b.WriteString("---:|---:|---:|")
		}
		b.WriteString("---:|---:|---:|---:|---:|\n")
		for _, set := range settings() {
			c := byset[set.Name]
			if c == nil {
				continue
			}
			fmt.Fprintf(&b, "| %s | %d |", set.Name, len(c))
			cols := make([]func() (column, error), 0, len(cps)+1)
			for _, e := range cps {
				cols = append(cols, func() (column, error) { return compare(c, byset["sgd"], e) })
			}
			cols = append(cols, func() (column, error) { return compareBy(c, byset["sgd"], epochs, bestUpTo) })
			for _, get := range cols {
				col, err := get()
				if err != nil {
					return "", err
				}
				diff, p := "–", "–"
				if set.Name != "sgd" && byset["sgd"] != nil {
					diff = pm(col.Diff, 100, true)
					if !math.IsNaN(col.P) {
						p = fmt.Sprintf("%.2g", col.P)
						if col.P < 0.05 {
							p += "*"
						}
					}
				}
				fmt.Fprintf(&b, " %s | %s | %s |", pm(col.Acc, 100, false), diff, p)
			}
			var as, gs []float64
			for _, seed := range seedsOf(c) {
				tr := c[seed].Trace
				as, gs = append(as, tr[len(tr)-1][1]), append(gs, tr[len(tr)-1][2])
			}
			fmt.Fprintf(&b, " %.3g | %.3g |\n", mean(as), mean(gs))
		}
	}
	return b.String(), nil
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// writeSummary writes summary.md and the three figures.
func writeSummary(out string, p protocol, runs []Run) error {
	tab, err := tables(runs, p.epochs)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("# HGD horizon study: generated summary\n\n")
	fmt.Fprintf(&b, "Command: `go run ./scripts/horizon` (flags: -train-images %d -epochs %d -batch %d -eval-limit %d -trace-every %d -conv %d,%d,%d -fc %d,%d); %d runs.\n\n",
		p.trainImages, p.epochs, p.batch, p.evalLimit, p.traceEvery, p.conv[0], p.conv[1], p.conv[2], p.fc[0], p.fc[1], len(runs))
	b.WriteString("Accuracy: validation accuracy in percent, mean ± 95% Student-t half-width over seeds. ")
	b.WriteString("Δ vs sgd: the paired difference to SGD+momentum from the same start and seed (same weights and batches), in points, mean ± 95% interval; p: two-sided paired t-test, * p < 0.05. ")
	b.WriteString("best ≤ E ep: the best accuracy over the evaluations after epochs 1 … E (what an HPO algorithm keeps), same statistics. ")
	b.WriteString("A diverged run counts as chance (10%) after it diverged. α, γ at end: mean over seeds.\n\nSettings:\n\n")
	for _, s := range settings() {
		fmt.Fprintf(&b, "- **%s**: %s\n", s.Name, s.Doc)
	}
	b.WriteString(tab)
	b.WriteString("\n![accuracy](accuracy.png)\n\n![alpha](alpha.png)\n\n![gamma](gamma.png)\n")
	if err := atomicfile.WriteFile(filepath.Join(out, "summary.md"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	for _, f := range []struct {
		name, ylabel string
		series       func(r Run) plotter.XYs
		logY         bool
	}{
		{"accuracy.png", "validation accuracy", accSeries, false},
		{"alpha.png", "α (log scale)", func(r Run) plotter.XYs { return traceSeries(r, 1) }, true},
		{"gamma.png", "γ", func(r Run) plotter.XYs { return traceSeries(r, 2) }, false},
	} {
		if err := figure(filepath.Join(out, f.name), runs, f.ylabel, f.series, f.logY); err != nil {
			return err
		}
	}
	return nil
}

func accSeries(r Run) plotter.XYs {
	xy := make(plotter.XYs, len(r.Acc))
	for i, a := range r.Acc {
		xy[i] = plotter.XY{X: float64(i + 1), Y: a}
	}
	return xy
}

func traceSeries(r Run, k int) plotter.XYs {
	var xy plotter.XYs
	for _, t := range r.Trace {
		if t[k] >= 0 {
			xy = append(xy, plotter.XY{X: t[0] / float64(r.StepsPerEpoch), Y: t[k]})
		}
	}
	return xy
}

// meanSeries averages the seeds' series point by point, over the points
// every seed has (the series of one setting share their x).
func meanSeries(c cell, series func(Run) plotter.XYs) plotter.XYs {
	var all []plotter.XYs
	n := math.MaxInt
	for _, seed := range seedsOf(c) {
		s := series(c[seed])
		all = append(all, s)
		n = min(n, len(s))
	}
	if len(all) == 0 || n == 0 {
		return nil
	}
	out := make(plotter.XYs, n)
	for i := range n {
		out[i].X = all[0][i].X
		for _, s := range all {
			out[i].Y += s[i].Y / float64(len(all))
		}
	}
	return out
}

// figure draws one panel per start, one line per setting (mean over seeds)
// against epochs, in a 2×3 grid with the legend in the sixth cell.
func figure(path string, runs []Run, ylabel string, series func(Run) plotter.XYs, logY bool) error {
	idx := index(runs)
	const rows, cols = 2, 3
	img := vgimg.New(15*vg.Inch, 9*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	var legend *plot.Plot
	i := 0
	for _, st := range starts() {
		byset := idx[st.Name]
		if byset == nil {
			continue
		}
		p := plot.New()
		p.Title.Text = fmt.Sprintf("start %s (α0 %g, γ0 %g)", st.Name, st.Alpha0, st.Gamma0)
		p.X.Label.Text, p.Y.Label.Text = "epochs", ylabel
		p.Add(plotter.NewGrid())
		if logY {
			p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{}
		}
		if legend == nil {
			legend = plot.New()
			legend.HideAxes()
			legend.Legend.Top, legend.Legend.Left = true, true
		}
		for k, set := range settings() {
			c := byset[set.Name]
			if c == nil {
				continue
			}
			xy := meanSeries(c, series)
			if logY {
				xy = positive(xy)
			}
			if len(xy) == 0 {
				continue
			}
			l, err := plotter.NewLine(xy)
			if err != nil {
				return err
			}
			l.Color = plotutil.Color(k)
			l.Dashes = plotutil.Dashes(k / 7)
			l.Width = vg.Points(1.2)
			if set.Name == "sgd" {
				l.Width = vg.Points(2.2)
			}
			p.Add(l)
			if i == 0 {
				legend.Legend.Add(set.Name, l)
			}
		}
		if i < rows*cols-1 {
			r, c := i/cols, i%cols
			p.Draw(tiles.At(dc, c, r))
		}
		i++
	}
	if legend != nil {
		legend.Draw(tiles.At(dc, cols-1, rows-1))
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
		return err
	})
}

func positive(xy plotter.XYs) plotter.XYs {
	var out plotter.XYs
	for _, p := range xy {
		if p.Y > 0 {
			out = append(out, p)
		}
	}
	return out
}
