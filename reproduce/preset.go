package reproduce

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/hpo/asha"
	"github.com/hgdtune/hgdtune/plots"
)

// ErrConfig wraps every configuration error of this package.
var ErrConfig = errors.New("reproduce: invalid configuration")

// Upper bounds that Validate enforces. They are far beyond any sensible
// experiment (the paper's is 5 seeds, 4 slots, T = 3000 s, 27 epochs) and
// stop a typo from asking for years of compute or from filling the memory
// before the first run starts.
const (
	SeedsLimit  = 1000
	SlotsLimit  = 1024
	BudgetLimit = 30 * 24 * time.Hour
	EpochsLimit = 10000
	// ImagesLimit is the size of the CIFAR-10 and CIFAR-100 training sets.
	ImagesLimit = 50000
)

// Algorithm names (the keys of flags, presets and run folders): the
// paper's column names (plots.PaperAlgorithms) in lower case.
const (
	ASHA      = "asha"
	AHB       = "ahb"
	Genetic   = "genetic"
	HyperBand = "hyperband"
	PBT       = "pbt"
	PB2       = "pb2"
	Random    = "random" // not in the paper: a baseline for checks
	// Recording is not an HPO algorithm: it records a curve pool (Record),
	// training PoolSGD and PoolHGD configurations to MaxEpochs.
	Recording = "curves"
)

// PaperAlgorithms lists the paper's six algorithms in its column order: the
// keys of plots.PaperAlgorithms, the one list of them.
func PaperAlgorithms() []string {
	names := plots.PaperAlgorithms()
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = strings.ToLower(n)
	}
	return keys
}

// displayName is the column name of an algorithm in tables and figures:
// the paper's name (plots.PaperAlgorithms), "Random" for the baseline, the
// key itself otherwise.
func displayName(alg string) string {
	for _, n := range plots.PaperAlgorithms() {
		if strings.ToLower(n) == alg {
			return n
		}
	}
	if alg == Random {
		return "Random"
	}
	return alg
}

// Preset is a complete experiment configuration.
type Preset struct {
	Name    string `json:"name"`
	Dataset string `json:"dataset"` // cifar10 or cifar100
	// Budget is T, the wall-clock budget of each run.
	Budget Duration `json:"budget"`
	// Seeds is K, the number of runs per algorithm and arm.
	Seeds int `json:"seeds"`
	// Slots is the number of trials trained at once within a run.
	Slots int `json:"slots"`
	// Algorithms run, in order (see PaperAlgorithms).
	Algorithms []string `json:"algorithms"`
	// Arms run: "sgd" and/or "hgd".
	Arms []string `json:"arms"`
	// TrainImages keeps the first N images of the training set before the
	// 70/30 split (0: all 50,000).
	TrainImages int `json:"train_images"`
	// EvalLimit evaluates each result on the first N validation images (0: all).
	EvalLimit int `json:"eval_limit"`
	// MaxEpochs is R, the largest training budget of a trial, in epochs of
	// the training part; Eta is the reduction factor of the multi-fidelity
	// algorithms.
	MaxEpochs int `json:"max_epochs"`
	Eta       int `json:"eta"`
	// Population is the population size of PBT, PB2 and the genetic
	// algorithm; PerturbEvery their perturbation interval / generation
	// budget in epochs.
	Population   int `json:"population"`
	PerturbEvery int `json:"perturb_every"`
	// MaxConv, MaxFC1, MaxFC2 cap the widths of Table 2's domains, and
	// MinBatch/MaxBatch its batch sizes (0: no cap).
	MaxConv  int `json:"max_conv,omitempty"`
	MaxFC1   int `json:"max_fc1,omitempty"`
	MaxFC2   int `json:"max_fc2,omitempty"`
	MinBatch int `json:"min_batch,omitempty"`
	MaxBatch int `json:"max_batch,omitempty"`
	// PBTResetAdapted makes PBT and PB2 exploits reset HGD's adapted α and γ
	// to their initial values instead of copying the donor's (the paper
	// suspects copying the decayed learning rate slows PBT with HGD).
	PBTResetAdapted bool `json:"pbt_reset_adapted,omitempty"`
	// Augment turns on random crops and flips.
	Augment bool `json:"augment"`
	// ASHAMode is the form of both ASHA and Async Hyperband: "stopping" (""
	// means it: the form of Ray Tune's ASHAScheduler and
	// AsyncHyperBandScheduler, after which the paper names its algorithms;
	// a trial trains on unless stopped at a rung) or "promotion" (Li et al.'s
	// ASHA: trials pause at rungs and are promoted later). One form for both,
	// so that their columns differ only in the number of brackets.
	ASHAMode string `json:"asha_mode,omitempty"`
	// LRPrior is the prior of the SGD arm's learning rate on Table 2's
	// interval [1e-5, 0.2], which the paper gives without a distribution:
	// "log" ("" means it: log-uniform, about 46% of draws below 1e-3) or
	// "uniform" (about 0.5% below 1e-3).
	LRPrior string `json:"lr_prior,omitempty"`
	// Clock is what Budget measures: "wall" ("" means it: the paper's
	// wall-clock seconds, which shrink on a busy machine) or "compute"
	// (every training step and evaluation is charged a fixed cost from the
	// network's FLOPs, calibrated on the reference machine — see cost.go —
	// and the runs' slots are simulated on that time, so the same command
	// gives the same results whatever the machine does).
	Clock string `json:"clock,omitempty"`
	// Costs names the compute clock's cost model (CostModels): "" means
	// CostsCurrent. A preset read from JSON (config.json, a shared
	// reproduction's settings) that has the compute clock and no "costs"
	// gets CostsGoMLX0282; written to JSON, that model is left out again,
	// so that such folders and databases keep their exact settings. Only
	// with the compute clock.
	Costs string `json:"costs,omitempty"`
	// AHBWeights is how Async Hyperband shares new trials among its
	// brackets: "ray" ("" means it: Ray Tune's softmax of the brackets' rung
	// counts) or "hyperband" (Hyperband's bracket sizes; what a preset read
	// from JSON without this field gets).
	AHBWeights string `json:"ahb_weights,omitempty"`
	// GeneticMutation is the genetic algorithm's per-gene mutation
	// probability: "shared" ("" means it: 1/len(the SGD arm's space) in both
	// arms, so that the genes the arms share mutate alike) or "per-arm"
	// (1/len(the arm's space): the HGD arm's genes mutate more often; what a
	// preset read from JSON without this field gets).
	GeneticMutation string `json:"genetic_mutation,omitempty"`
	// PoolSGD and PoolHGD, with the algorithm Recording alone (Record), are
	// the numbers of configurations the curve pool records in each arm.
	PoolSGD int `json:"pool_sgd,omitempty"`
	PoolHGD int `json:"pool_hgd,omitempty"`
	// Replay, when set, is the identity of the curve pool (Curves.ID) that
	// the runs replay instead of training (Options.Curves).
	Replay string `json:"replay,omitempty"`
	// Workers, with the compute clock, is how many of a run's Slots train
	// at once for real (0: Slots); it changes the wall time, never the
	// results. One per core uses a CPU, where a trial runs mostly on one
	// core.
	Workers int `json:"workers,omitempty"`
}

// Clocks (Preset.Clock).
const (
	ClockWall    = "wall"
	ClockCompute = "compute"
)

// compute reports whether the preset's budgets are compute time.
func (p Preset) compute() bool { return p.Clock == ClockCompute }

// LR priors (Preset.LRPrior).
const (
	LRPriorLog     = "log"
	LRPriorUniform = "uniform"
)

// lrPrior is the preset's learning-rate prior, "log" or "uniform".
func (p Preset) lrPrior() string {
	if p.LRPrior == LRPriorUniform {
		return LRPriorUniform
	}
	return LRPriorLog
}

// ashaMode is the form of ASHA and Async Hyperband of the preset.
func (p Preset) ashaMode() asha.Mode {
	if p.ASHAMode == "promotion" {
		return asha.Promotion
	}
	return asha.Stopping
}

// Duration is a time.Duration that reads and writes as "15s" in JSON.
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// Presets returns the named presets.
func Presets() map[string]Preset {
	return map[string]Preset{
		"paper": {
			Name: "paper", Dataset: DatasetCIFAR10, Budget: Duration(3000 * time.Second), Seeds: 5, Slots: 4,
			Algorithms: PaperAlgorithms(), Arms: []string{"sgd", "hgd"},
			MaxEpochs: 27, Eta: 3, Population: 8, PerturbEvery: 3,
		},
		"cpu-study": {
			Name: "cpu-study", Dataset: DatasetCIFAR10, Budget: Duration(16 * time.Second), Seeds: 10, Slots: 2,
			Clock: ClockCompute, Workers: 2,
			Algorithms: PaperAlgorithms(), Arms: []string{"sgd", "hgd"},
			TrainImages: 5000, EvalLimit: 500, MaxEpochs: 9, Eta: 3, Population: 4, PerturbEvery: 1,
			MaxConv: 16, MaxFC1: 256, MaxFC2: 64, MinBatch: 16, MaxBatch: 64,
		},
		"cpu-quick": {
			Name: "cpu-quick", Dataset: DatasetCIFAR10, Budget: Duration(15 * time.Second), Seeds: 2, Slots: 2, Clock: ClockCompute,
			Algorithms: PaperAlgorithms(), Arms: []string{"sgd", "hgd"},
			TrainImages: 2000, EvalLimit: 0, MaxEpochs: 9, Eta: 3, Population: 4, PerturbEvery: 1,
			MaxConv: 16, MaxFC1: 256, MaxFC2: 64, MinBatch: 16, MaxBatch: 64,
		},
	}
}

// PresetNames lists the preset names, sorted.
func PresetNames() []string {
	var names []string
	for n := range Presets() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Validate checks the preset before anything runs.
func (p Preset) Validate() error {
	known := append(PaperAlgorithms(), Random, Recording)
	if _, err := DatasetCase(p.Dataset); err != nil {
		return err
	}
	switch {
	case p.Budget <= 0 || time.Duration(p.Budget) > BudgetLimit:
		return fmt.Errorf("%w: budget %v not in (0, %v]", ErrConfig, time.Duration(p.Budget), BudgetLimit)
	case p.Seeds < 1 || p.Seeds > SeedsLimit:
		return fmt.Errorf("%w: seeds %d not in [1, %d]", ErrConfig, p.Seeds, SeedsLimit)
	case p.Slots < 1 || p.Slots > SlotsLimit:
		return fmt.Errorf("%w: slots %d not in [1, %d]", ErrConfig, p.Slots, SlotsLimit)
	case len(p.Algorithms) == 0:
		return fmt.Errorf("%w: no algorithms", ErrConfig)
	case len(p.Arms) == 0:
		return fmt.Errorf("%w: no arms", ErrConfig)
	case p.TrainImages < 0 || (p.TrainImages > 0 && p.TrainImages < 100) || p.TrainImages > ImagesLimit:
		return fmt.Errorf("%w: train images %d (0 for all, else 100 to %d)", ErrConfig, p.TrainImages, ImagesLimit)
	case p.EvalLimit < 0:
		return fmt.Errorf("%w: eval limit %d < 0", ErrConfig, p.EvalLimit)
	case p.MaxEpochs < 1 || p.MaxEpochs > EpochsLimit:
		return fmt.Errorf("%w: max epochs %d not in [1, %d]", ErrConfig, p.MaxEpochs, EpochsLimit)
	case p.Eta < 2:
		return fmt.Errorf("%w: eta %d < 2", ErrConfig, p.Eta)
	case p.Population < 2:
		return fmt.Errorf("%w: population %d < 2", ErrConfig, p.Population)
	case p.PerturbEvery < 1 || p.PerturbEvery > p.MaxEpochs:
		return fmt.Errorf("%w: perturbation interval %d not in [1, max epochs %d]", ErrConfig, p.PerturbEvery, p.MaxEpochs)
	case p.MaxConv < 0 || p.MaxFC1 < 0 || p.MaxFC2 < 0 || p.MinBatch < 0 || p.MaxBatch < 0:
		return fmt.Errorf("%w: negative width or batch cap", ErrConfig)
	case p.ASHAMode != "" && p.ASHAMode != "stopping" && p.ASHAMode != "promotion":
		return fmt.Errorf("%w: asha mode %q (want stopping or promotion)", ErrConfig, p.ASHAMode)
	case p.Clock != "" && p.Clock != ClockWall && p.Clock != ClockCompute:
		return fmt.Errorf("%w: clock %q (want wall or compute)", ErrConfig, p.Clock)
	case p.Workers < 0 || p.Workers > p.Slots:
		return fmt.Errorf("%w: workers %d not in [0, slots %d]", ErrConfig, p.Workers, p.Slots)
	case p.Workers > 0 && p.Clock != ClockCompute:
		return fmt.Errorf("%w: workers %d need the compute clock (with the wall clock every slot trains at once)", ErrConfig, p.Workers)
	case p.LRPrior != "" && p.LRPrior != LRPriorLog && p.LRPrior != LRPriorUniform:
		return fmt.Errorf("%w: learning-rate prior %q (want log or uniform)", ErrConfig, p.LRPrior)
	case p.Costs != "" && p.Clock != ClockCompute:
		return fmt.Errorf("%w: cost model %q needs the compute clock", ErrConfig, p.Costs)
	case p.AHBWeights != "" && p.AHBWeights != AHBWeightsRay && p.AHBWeights != AHBWeightsHyperband:
		return fmt.Errorf("%w: Async Hyperband weights %q (want ray or hyperband)", ErrConfig, p.AHBWeights)
	case p.GeneticMutation != "" && p.GeneticMutation != GeneticMutationShared && p.GeneticMutation != GeneticMutationPerArm:
		return fmt.Errorf("%w: genetic mutation %q (want shared or per-arm)", ErrConfig, p.GeneticMutation)
	}
	if p.compute() {
		if _, err := CostModelNamed(p.Costs); err != nil {
			return err
		}
	}
	if err := p.validatePool(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, a := range p.Algorithms {
		if !slices.Contains(known, a) {
			return fmt.Errorf("%w: unknown algorithm %q (want %s)", ErrConfig, a, strings.Join(known, ", "))
		}
		if seen[a] {
			return fmt.Errorf("%w: algorithm %q listed twice", ErrConfig, a)
		}
		seen[a] = true
	}
	arms, err := p.parseArms()
	if err != nil {
		return err
	}
	seenArm := map[cnn.Arm]bool{}
	for _, a := range arms {
		if seenArm[a] {
			return fmt.Errorf("%w: arm %q listed twice", ErrConfig, a)
		}
		seenArm[a] = true
	}
	return nil
}

// Diff lists the fields in which q differs from p, as "field: p's value →
// q's value", fields named as in config.json; empty if they are equal.
// Workers is left out: it changes the wall time, never the results.
func (p Preset) Diff(q Preset) []string {
	p.Workers, q.Workers = 0, 0
	pv, qv := reflect.ValueOf(p.resolved()), reflect.ValueOf(q.resolved())
	var out []string
	for i, f := range reflect.VisibleFields(pv.Type()) {
		a, b := formatField(pv.Field(i).Interface()), formatField(qv.Field(i).Interface())
		if a == b {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		out = append(out, fmt.Sprintf("%s: %s → %s", name, a, b))
	}
	return out
}

func formatField(v any) string {
	switch v := v.(type) {
	case Duration:
		return time.Duration(v).String()
	case []string:
		if len(v) == 0 {
			return "(none)"
		}
		return strings.Join(v, ",")
	case string:
		if v == "" {
			return `""`
		}
		return v
	}
	return fmt.Sprint(v)
}
