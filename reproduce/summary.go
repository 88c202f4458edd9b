package reproduce

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/plots"
)

// Summary is what an experiment produced.
type Summary struct {
	Experiment *plots.Experiment
	Table      *plots.Table
	// Trials and Failed count the trials of all runs and those that failed.
	Trials, Failed int
	// Files are the paths written, relative to the results folder.
	Files []string
}

func plotsArm(arm string) plots.Arm {
	if arm == "hgd" {
		return plots.HGD
	}
	return plots.SGD
}

// experiment converts the runs' best-so-far curves for package plots.
func experiment(p Preset, results []RunResult) *plots.Experiment {
	e := &plots.Experiment{Name: datasetName(p.Dataset), Budget: time.Duration(p.Budget).Seconds()}
	for _, r := range results {
		var c plots.Curve
		for _, pt := range r.Report.Curve {
			c = append(c, plots.Point{T: pt.Elapsed.Seconds(), V: pt.Best})
		}
		e.Runs = append(e.Runs, plots.Run{Algorithm: displayName(r.ID.Algorithm), Arm: plotsArm(r.ID.Arm), Seed: r.ID.Seed, Curve: c})
	}
	return e
}

func datasetName(d string) string {
	if d == "cifar100" {
		return "CIFAR-100"
	}
	return "CIFAR-10"
}

// trajectories collects α and γ of the HGD trials with the most results
// (at most 12), over their training budget (epochs).
func trajectories(results []RunResult) []plots.Trajectory {
	type cand struct {
		t plots.Trajectory
		n int
	}
	var all []cand
	for _, r := range results {
		if r.ID.Arm != "hgd" {
			continue
		}
		by := map[hpo.TrialID]*plots.Trajectory{}
		var order []hpo.TrialID
		for _, rec := range r.Report.Records {
			a, okA := rec.Metrics["alpha"]
			g, okG := rec.Metrics["gamma"]
			if !okA || !okG || rec.Status == hpo.Failed {
				continue
			}
			t := by[rec.Trial]
			if t == nil {
				t = &plots.Trajectory{Label: fmt.Sprintf("%s s%d t%d", displayName(r.ID.Algorithm), r.ID.Seed, rec.Trial)}
				by[rec.Trial] = t
				order = append(order, rec.Trial)
			}
			if n := len(t.X); n > 0 && float64(rec.Budget) <= t.X[n-1] {
				continue // an exploit restarted the trial from an older budget
			}
			t.X = append(t.X, float64(rec.Budget))
			t.Alpha = append(t.Alpha, a)
			t.Gamma = append(t.Gamma, g)
		}
		for _, id := range order {
			all = append(all, cand{*by[id], len(by[id].X)})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].n > all[j].n })
	var out []plots.Trajectory
	for _, c := range all {
		if c.n < 2 || len(out) == 12 {
			continue
		}
		out = append(out, c.t)
	}
	return out
}

func writeSummary(o Options, results []RunResult) (*Summary, error) {
	p := o.Preset
	s := &Summary{Experiment: experiment(p, results)}
	for _, r := range results {
		for _, t := range r.Report.Trials {
			s.Trials++
			if t.Status == hpo.Failed {
				s.Failed++
			}
		}
	}
	ref := plots.PaperTable3()
	if p.Dataset == "cifar100" {
		ref = plots.PaperTable4()
	}
	var err error
	s.Table, err = plots.NewTable(s.Experiment, plots.TableConfig{Reference: ref.Table()})
	if err != nil {
		return nil, err
	}
	write := func(name string, data []byte) error {
		s.Files = append(s.Files, name)
		return writeFileAtomic(filepath.Join(o.Dir, name), data)
	}
	if err := write("table.tex", []byte(s.Table.LaTeX())); err != nil {
		return nil, err
	}
	var figs []string
	// The y range spans the runs' own values (so the means and the seeds'
	// spread), within [0, 1]: with few seeds the Student-t bands are much
	// wider and are clipped rather than squashing the curves.
	lo, hi := 1.0, 0.0
	for _, r := range s.Experiment.Runs {
		for _, pt := range r.Curve {
			lo, hi = min(lo, pt.V), max(hi, pt.V)
		}
	}
	curvesCfg := plots.CurvesConfig{}
	if lo < hi {
		pad := 0.05 * (hi - lo)
		curvesCfg.YMin, curvesCfg.YMax = max(0, lo-pad), min(1, hi+pad)
	}
	if f, err := plots.Curves(s.Experiment, curvesCfg); err == nil {
		for _, ext := range []string{".png", ".svg"} {
			if err := f.Save(filepath.Join(o.Dir, "curves"+ext)); err != nil {
				return nil, err
			}
			s.Files = append(s.Files, "curves"+ext)
		}
		figs = append(figs, "![Figures 2/3: best validation accuracy over time](curves.png)")
	} else {
		figs = append(figs, "(no curves figure: "+err.Error()+")")
	}
	if f, err := plots.Bars(s.Experiment, plots.BarsConfig{}); err == nil {
		for _, ext := range []string{".png", ".svg"} {
			if err := f.Save(filepath.Join(o.Dir, "bars"+ext)); err != nil {
				return nil, err
			}
			s.Files = append(s.Files, "bars"+ext)
		}
		figs = append(figs, "![Figures 4/5: best validation accuracy at 1/6 … 5/6 of T](bars.png)")
	} else {
		figs = append(figs, "(no bars figure: "+err.Error()+")")
	}
	if ts := trajectories(results); len(ts) > 0 {
		f, err := plots.Trajectories(ts, plots.TrajectoriesConfig{XLabel: "epochs", LogAlpha: true})
		if err == nil {
			for _, ext := range []string{".png", ".svg"} {
				if err := f.Save(filepath.Join(o.Dir, "trajectories"+ext)); err != nil {
					return nil, err
				}
				s.Files = append(s.Files, "trajectories"+ext)
			}
			figs = append(figs, "![α and γ of HGD trials](trajectories.png)")
		}
	}
	var b strings.Builder
	info, _ := os.ReadFile(filepath.Join(o.Dir, "config.json"))
	var ri runInfo
	_ = json.Unmarshal(info, &ri)
	fmt.Fprintf(&b, "# %s reproduction, preset %q\n\n", datasetName(p.Dataset), p.Name)
	fmt.Fprintf(&b, "- machine: %s\n- backend: %s\n- Go: %s\n- started: %s\n", ri.Machine, ri.Backend, ri.GoVersion, ri.Started.Format(time.RFC3339))
	fmt.Fprintf(&b, "- T = %v per run, %d seeds, %d slots; algorithms %s; arms %s\n", time.Duration(p.Budget), p.Seeds, p.Slots,
		strings.Join(p.Algorithms, ", "), strings.Join(p.Arms, ", "))
	fmt.Fprintf(&b, "- scalings: %s\n", scalings(p))
	fmt.Fprintf(&b, "- trials: %d, failed: %d\n\n", s.Trials, s.Failed)
	b.WriteString(s.Table.Markdown())
	b.WriteString("\n")
	for _, f := range figs {
		b.WriteString(f + "\n\n")
	}
	if err := write("summary.md", []byte(b.String())); err != nil {
		return nil, err
	}
	return s, nil
}

// scalings describes how the preset departs from the paper's protocol.
func scalings(p Preset) string {
	var out []string
	if p.TrainImages > 0 {
		out = append(out, fmt.Sprintf("first %d training images (70/30 split of those)", p.TrainImages))
	} else {
		out = append(out, "all 50,000 training images (70/30 split)")
	}
	if p.EvalLimit > 0 {
		out = append(out, fmt.Sprintf("validation on the first %d images of the 30%% part", p.EvalLimit))
	}
	if p.MaxConv > 0 {
		out = append(out, fmt.Sprintf("conv widths ≤ %d", p.MaxConv))
	}
	if p.MaxFC1 > 0 {
		out = append(out, fmt.Sprintf("fc1 ≤ %d", p.MaxFC1))
	}
	if p.MaxFC2 > 0 {
		out = append(out, fmt.Sprintf("fc2 ≤ %d", p.MaxFC2))
	}
	if p.MinBatch > 0 || p.MaxBatch > 0 {
		out = append(out, fmt.Sprintf("batch sizes in [%d, %d]", p.MinBatch, p.MaxBatch))
	}
	out = append(out, fmt.Sprintf("at most %d epochs per trial, η = %d", p.MaxEpochs, p.Eta))
	out = append(out, fmt.Sprintf("populations of %d, perturbation interval %d epochs", p.Population, p.PerturbEvery))
	if p.PBTResetAdapted {
		out = append(out, "PBT/PB2 exploits reset HGD's α and γ")
	}
	if time.Duration(p.Budget) != 3000*time.Second {
		out = append(out, fmt.Sprintf("T = %v instead of 3000 s (early checkpoint T/6 stands for the paper's 500 s)", time.Duration(p.Budget)))
	}
	return strings.Join(out, "; ")
}
