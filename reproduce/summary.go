package reproduce

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/hpo/asha"
	"github.com/hgdtune/hgdtune/internal/dirlock"

	"github.com/hgdtune/hgdtune/plots"
)

// Summary is what an experiment produced.
type Summary struct {
	*Results
	Table *plots.Table
	// Files are the paths written, relative to the results folder.
	Files []string
}

// plotsArm is the arm of a run for the figures and tables. Its runs' arms
// were checked where they entered (Preset.Validate, readRunID): "hgd" or
// "sgd".
func plotsArm(arm string) plots.Arm {
	if arm == "hgd" {
		return plots.HGD
	}
	return plots.SGD
}

// datasetName is the name of case c's data set in tables and titles.
func datasetName(c cnn.Case) string {
	if c == cnn.Case2 {
		return "CIFAR-100"
	}
	return "CIFAR-10"
}

// Summarize writes again the summary.md, table.tex and figures of a
// results folder from its journals, training nothing: after an update of
// hgdtune's tables or statistics, an old folder gets them. It holds the
// folder's lock meanwhile.
func Summarize(dir string) (*Summary, error) {
	l, err := dirlock.Acquire(dir)
	if err != nil {
		return nil, fmt.Errorf("reproduce: %w", err)
	}
	defer l.Unlock()
	return writeSummary(dir)
}

// writeSummary reads the results folder back (Load: the journals are the
// one source of truth, also for notebooks) and writes summary.md, table.tex
// and the figures.
func writeSummary(dir string) (*Summary, error) {
	r, err := Load(dir)
	if err != nil {
		return nil, err
	}
	s := &Summary{Results: r}
	if s.Table, err = r.Table(); err != nil {
		return nil, err
	}
	write := func(name string, data []byte) error {
		s.Files = append(s.Files, name)
		return writeFileAtomic(filepath.Join(dir, name), data)
	}
	if err := write("table.tex", []byte(s.Table.LaTeX())); err != nil {
		return nil, err
	}
	var figs []string
	// saveFigure writes name.png and name.svg, or notes why there is no figure.
	saveFigure := func(name, caption string, f interface{ Save(string) error }, err error) error {
		if err != nil {
			figs = append(figs, fmt.Sprintf("(no %s figure: %v)", name, err))
			return nil
		}
		for _, ext := range []string{".png", ".svg"} {
			if err := f.Save(filepath.Join(dir, name+ext)); err != nil {
				return err
			}
			s.Files = append(s.Files, name+ext)
		}
		figs = append(figs, fmt.Sprintf("![%s](%s.png)", caption, name))
		return nil
	}
	curves, err := plots.Curves(r.Experiment, r.CurvesConfig())
	if err := saveFigure("curves", "Figures 2/3: best validation accuracy over time", curves, err); err != nil {
		return nil, err
	}
	bars, err := plots.Bars(r.Experiment, plots.BarsConfig{})
	if err := saveFigure("bars", "Figures 4/5: best validation accuracy at 1/6 … 5/6 of T", bars, err); err != nil {
		return nil, err
	}
	if len(r.Trajectories) > 0 {
		traj, err := plots.Trajectories(r.Trajectories, plots.TrajectoriesConfig{XLabel: "epochs", LogAlpha: true})
		if err := saveFigure("trajectories", "α and γ of HGD trials", traj, err); err != nil {
			return nil, err
		}
	}
	p := r.Config
	var b strings.Builder
	fmt.Fprintf(&b, "# %s reproduction, preset %q\n\n", datasetName(p.Case()), p.Name)
	fmt.Fprintf(&b, "- machine: %s\n- backend: %s\n- Go: %s\n- started: %s\n", r.Machine, r.Backend, r.GoVersion, r.Started.Format(time.RFC3339))
	fmt.Fprintf(&b, "- T = %v per run, %d seeds, %d slots; algorithms %s; arms %s\n", time.Duration(p.Budget), p.Seeds, p.Slots,
		strings.Join(p.Algorithms, ", "), strings.Join(p.Arms, ", "))
	fmt.Fprintf(&b, "- scalings: %s\n", scalings(p))
	if p.Replay != "" {
		fmt.Fprintf(&b, "- **a replay** of curve pool %s: no trial was trained; each was served from the pool's recorded curves (hgdtune curves record), "+
			"its configurations drawn without replacement from the arm's pool, weighted to the learning-rate prior\n", p.Replay)
	}
	fmt.Fprintf(&b, "- trials: %d, failed: %d\n\n", r.Trials, r.Failed)
	if p.Seeds < plots.MinPairs {
		fmt.Fprintf(&b, "**%d seeds cannot separate the arms**: a paired test needs at least %d pairs to mean much, and differences of %s would go unnoticed here. "+
			"This is a demonstration of the protocol; the study that can separate them has 10 seeds (`-preset cpu-study`, docs/results/README.md).\n\n",
			p.Seeds, plots.MinPairs, detectableText(s.Table))
	}
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

// detectableText is the median detectable difference at T over the
// table's algorithms, in words.
func detectableText(t *plots.Table) string {
	med, _, _, _ := t.Detectable()
	if math.IsNaN(med) {
		return "any size"
	}
	return fmt.Sprintf("up to about %.0f accuracy points (the median over algorithms of what 80%% power needs)", med)
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
	out = append(out, fmt.Sprintf("ASHA and Async Hyperband in %s form", p.ashaMode()))
	if p.ahbWeights() == asha.HyperbandWeights {
		out = append(out, "Async Hyperband's brackets weighted by Hyperband's bracket sizes")
	} else {
		out = append(out, "Async Hyperband's brackets weighted as Ray Tune's (softmax of rung counts)")
	}
	if p.sharedMutation() {
		out = append(out, "genetic mutation rate 1/len(SGD space) in both arms")
	} else {
		out = append(out, "genetic mutation rate 1/len(space) in each arm")
	}
	if p.compute() {
		w := p.Workers
		if w == 0 {
			w = p.Slots
		}
		out = append(out, fmt.Sprintf("T is compute time: steps and evaluations charged from the network's FLOPs (cost model %s, reproduce/cost.go), %d slots simulated on %d workers", p.resolved().Costs, p.Slots, w))
	} else {
		out = append(out, "T is wall-clock time")
	}
	if p.lrPrior() == LRPriorUniform {
		out = append(out, "SGD learning rate uniform on [1e-5, 0.2] (Table 2 gives no prior)")
	} else {
		out = append(out, "SGD learning rate log-uniform on [1e-5, 0.2] (Table 2 gives no prior)")
	}
	if p.PBTResetAdapted {
		out = append(out, "PBT/PB2 exploits reset HGD's α and γ")
	}
	if time.Duration(p.Budget) != 3000*time.Second {
		out = append(out, fmt.Sprintf("T = %v instead of 3000 s (early checkpoint T/6 stands for the paper's 500 s)", time.Duration(p.Budget)))
	}
	return strings.Join(out, "; ")
}
