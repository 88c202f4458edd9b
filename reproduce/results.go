package reproduce

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/plots"
)

// Results is what a results folder of Run holds, read back from its files: config.json and every run's
// runs/<algorithm>-<arm>-s<seed>/journal.jsonl (hpo.LoadReport) and run.json
// (its identity; for a run folder without run.json, the folder's name gives
// it). Reading the journals rather
// than results.csv also works on a folder whose experiment is still running
// or was interrupted.
type Results struct {
	Dir string
	// Preset names the preset, Dataset is "cifar10" or "cifar100", Budget is
	// T and Seeds K, as config.json records them.
	Preset  string
	Dataset string
	Budget  time.Duration
	Seeds   int
	// Backend and Machine say where the experiment ran, GoVersion with
	// which Go, Started when.
	Backend, Machine, GoVersion string
	Started                     time.Time
	// Config is config.json's preset.
	Config Preset
	// Experiment holds every run's best-so-far validation accuracy over time,
	// for plots.Curves, plots.Bars and plots.NewTable.
	Experiment *plots.Experiment
	// Trajectories are α and γ of the HGD trials with the most results (at
	// most 12, each with two results or more unless no trial has two),
	// over their training budget in epochs.
	Trajectories []plots.Trajectory
	// Runs, Trials and Failed count the runs found, their trials and the
	// trials that failed; Results counts the evaluations.
	Runs, Trials, Failed, Results int
}

// Load reads a results folder written (or being written) by Run.
func Load(dir string) (*Results, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("reproduce: not a results folder: %w", err)
	}
	var info runInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return nil, fmt.Errorf("reproduce: %s: %w", filepath.Join(dir, "config.json"), err)
	}
	r := newResults(info)
	r.Dir = dir
	runs, err := filepath.Glob(filepath.Join(dir, "runs", "*", "journal.jsonl"))
	if err != nil {
		return nil, err
	}
	sort.Strings(runs)
	var trajs []candidate
	for _, path := range runs {
		runDir := filepath.Dir(path)
		id, ok, err := readRunID(runDir)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		rep, err := hpo.LoadReport(runDir)
		if err != nil {
			return nil, fmt.Errorf("reproduce: %s: %w", path, err)
		}
		if trajs, err = r.add(id, rep, path, trajs); err != nil {
			return nil, err
		}
	}
	if r.Runs == 0 {
		return nil, fmt.Errorf("reproduce: %s: %w", dir, errNoRuns)
	}
	r.pickTrajectories(trajs)
	return r, nil
}

// SharedRunReport is one run of a reproduction kept in a shared storage:
// its settings (as Run stored them) and its report so far.
type SharedRunReport struct {
	Settings RunSettings
	Report   *hpo.Report
}

// LoadShared builds the Results of a reproduction kept in a shared storage
// (Options.Shared) from its runs' reports — what pgstore.Status reads —
// as Load does from a results folder, while the runs go on. Every run must
// have the same preset. Backend, Machine and GoVersion are not known
// there and stay empty.
func LoadShared(runs []SharedRunReport) (*Results, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("reproduce: %w", errNoRuns)
	}
	sort.Slice(runs, func(i, j int) bool {
		a, b := runs[i].Settings, runs[j].Settings
		return RunID{a.Algorithm, a.Arm, a.Seed}.String() < RunID{b.Algorithm, b.Arm, b.Seed}.String()
	})
	p := runs[0].Settings.Preset
	r := newResults(runInfo{Preset: p})
	var trajs []candidate
	for _, run := range runs {
		s := run.Settings
		if diff := p.Diff(s.Preset); len(diff) > 0 {
			return nil, fmt.Errorf("%w: the runs have different presets (%s)", ErrConfig, strings.Join(diff, "; "))
		}
		if _, err := cnn.ParseArm(s.Arm); err != nil {
			return nil, fmt.Errorf("%w: run %s-%s-s%d: %w", ErrConfig, s.Algorithm, s.Arm, s.Seed, err)
		}
		id := RunID{s.Algorithm, s.Arm, s.Seed}
		if run.Report == nil {
			continue // not started
		}
		var err error
		if trajs, err = r.add(id, run.Report, id.String(), trajs); err != nil {
			return nil, err
		}
	}
	if r.Runs == 0 {
		return nil, fmt.Errorf("reproduce: %w", errNoRuns)
	}
	r.pickTrajectories(trajs)
	return r, nil
}

func newResults(info runInfo) *Results {
	p := info.Preset
	r := &Results{Config: p, Preset: p.Name, Dataset: p.Dataset, Budget: time.Duration(p.Budget), Seeds: p.Seeds,
		Backend: info.Backend, Machine: info.Machine, GoVersion: info.GoVersion, Started: info.Started}
	r.Experiment = &plots.Experiment{Name: datasetName(p.Case()), Budget: r.Budget.Seconds()}
	return r
}

// candidate is an HGD trial's trajectory and its number of points.
type candidate struct {
	t plots.Trajectory
	n int
}

// add counts run id's report (read from where) into r, and returns trajs
// with its HGD trials' trajectories.
func (r *Results) add(id RunID, rep *hpo.Report, where string, trajs []candidate) ([]candidate, error) {
	seed := id.Seed
	alg, arm := displayName(id.Algorithm), plotsArm(id.Arm)
	r.Trials += len(rep.Trials)
	var times, accs []float64
	first := map[hpo.TrialID]float64{}
	by := map[hpo.TrialID]*plots.Trajectory{}
	var order []hpo.TrialID
	for _, rec := range rep.Records {
		if rec.Status == hpo.Failed {
			r.Failed++
			continue
		}
		acc, ok := rec.Metrics[Objective().Name]
		if !ok || math.IsNaN(acc) || math.IsInf(acc, 0) {
			continue
		}
		r.Results++
		if _, ok := first[rec.Trial]; !ok {
			first[rec.Trial] = rec.Elapsed.Seconds()
		}
		times = append(times, rec.Elapsed.Seconds())
		accs = append(accs, acc)
		a, okA := rec.Metrics["alpha"]
		g, okG := rec.Metrics["gamma"]
		if arm != plots.HGD || !okA || !okG {
			continue
		}
		t := by[rec.Trial]
		if t == nil {
			t = &plots.Trajectory{Label: fmt.Sprintf("%s s%d t%d", alg, seed, rec.Trial)}
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
	curve, err := plots.BestSoFar(times, accs)
	if err != nil {
		return nil, fmt.Errorf("reproduce: %s: %w", where, err)
	}
	r.Runs++
	firsts := make([]float64, 0, len(first))
	for _, at := range first {
		firsts = append(firsts, at)
	}
	sort.Float64s(firsts)
	r.Experiment.Runs = append(r.Experiment.Runs, plots.Run{Algorithm: alg, Arm: arm, Seed: seed, Curve: curve, FirstResults: firsts})
	for _, id := range order {
		trajs = append(trajs, candidate{*by[id], len(by[id].X)})
	}
	return trajs, nil
}

// pickTrajectories keeps the (at most 12) trajectories with the most
// points: trials with two results or more or, in very short runs where
// no trial reported twice, the single results (drawn as lone points).
func (r *Results) pickTrajectories(trajs []candidate) {
	sort.SliceStable(trajs, func(i, j int) bool { return trajs[i].n > trajs[j].n })
	for _, need := range []int{2, 1} {
		for _, c := range trajs {
			if c.n >= need && len(r.Trajectories) < 12 {
				r.Trajectories = append(r.Trajectories, c.t)
			}
		}
		if len(r.Trajectories) > 0 {
			break
		}
	}
}

var errNoRuns = errors.New("no runs/*/journal.jsonl")

// runFile is runs/<run>/run.json, the run's identity, written when the run
// starts.
type runFile struct {
	Algorithm string `json:"algorithm"`
	Arm       string `json:"arm"`
	Seed      int    `json:"seed"`
	Dataset   string `json:"dataset"`
}

// writeRunFile writes run.json into the folder of run id (creating it).
func writeRunFile(dir string, id RunID, dataset string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	b, err := json.MarshalIndent(runFile{Algorithm: id.Algorithm, Arm: id.Arm, Seed: id.Seed, Dataset: dataset}, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, "run.json"), append(b, '\n'))
}

// readRunID returns the identity of the run in folder dir, from its
// run.json or, in a results folder without it, from the folder's
// name (<algorithm>-<arm>-s<seed>); false for a folder that is not a run.
func readRunID(dir string) (RunID, bool, error) {
	path := filepath.Join(dir, "run.json")
	b, err := os.ReadFile(path)
	if err == nil {
		var f runFile
		if err := json.Unmarshal(b, &f); err != nil {
			return RunID{}, false, fmt.Errorf("reproduce: %s: %w", path, err)
		}
		if _, err := cnn.ParseArm(f.Arm); err != nil {
			return RunID{}, false, fmt.Errorf("reproduce: %s: %w", path, err)
		}
		return RunID{f.Algorithm, f.Arm, f.Seed}, true, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return RunID{}, false, fmt.Errorf("reproduce: %w", err)
	}
	parts := strings.Split(filepath.Base(dir), "-")
	if len(parts) != 3 || !strings.HasPrefix(parts[2], "s") {
		return RunID{}, false, nil
	}
	seed, err := strconv.Atoi(parts[2][1:])
	if err != nil {
		return RunID{}, false, nil
	}
	if _, err := cnn.ParseArm(parts[1]); err != nil {
		return RunID{}, false, nil // not a run's folder
	}
	return RunID{parts[0], parts[1], seed}, true, nil
}

// Paper returns the paper's table for the data set: Table 3 (CIFAR-10) or
// Table 4 (CIFAR-100).
func (r *Results) Paper() plots.PaperResults {
	if r.Config.Case() == cnn.Case2 {
		return plots.PaperTable4()
	}
	return plots.PaperTable3()
}

// Table returns Table 3 or 4 of these results, with the paper's numbers
// beside ours (at T/6 and T, as in summary.md).
func (r *Results) Table() (*plots.Table, error) {
	cfg := plots.TableConfig{Reference: r.Paper().Table()}
	if r.Config.Replay != "" {
		cfg.PairNote = "Seed k of both arms is a pair by its index only: a replay draws each arm's configurations from that arm's own pool, " +
			"so the two runs of a pair are independent; the paired tests stay valid, with the power of unpaired ones."
	}
	return plots.NewTable(r.Experiment, cfg)
}

// CurvesConfig returns the configuration of Figures 2/3: the y range spans
// the runs' own values (so the means and the seeds' spread), within [0, 1];
// with few seeds the Student-t bands are much wider and are clipped rather
// than squashing the curves.
func (r *Results) CurvesConfig() plots.CurvesConfig {
	lo, hi := 1.0, 0.0
	for _, run := range r.Experiment.Runs {
		for _, p := range run.Curve {
			lo, hi = min(lo, p.V), max(hi, p.V)
		}
	}
	var c plots.CurvesConfig
	if lo < hi {
		pad := 0.05 * (hi - lo)
		c.YMin, c.YMax = max(0, lo-pad), min(1, hi+pad)
	}
	return c
}
