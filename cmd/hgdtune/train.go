package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hgdtune/hgdtune/backend"
	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/cifar/trainer"
	"github.com/hgdtune/hgdtune/hgd"
	"github.com/hgdtune/hgdtune/hgd/ref"
)

// DefaultCheckpointEvery is how often "train -checkpoint" saves while it
// trains.
const DefaultCheckpointEvery = 5 * time.Minute

// trainFlags are the flags of "hgdtune train".
type trainFlags struct {
	data                    dataFlags
	backend                 string
	conv, fc                string
	activation              string
	dropout                 float64
	batch                   int
	optimizer               string
	lr, momentum, beta, eta float64
	weightDecay             float64
	augment                 bool
	seed                    uint64
	steps, epochs           int
	duration                time.Duration
	evalEvery               int
	evalLimit               int
	subset                  int
	trainFraction           float64
	logPath                 string
	checkpoint              string
	checkpointEvery         time.Duration
}

func (f *trainFlags) register(fs *flag.FlagSet) {
	f.data.register(fs)
	fs.StringVar(&f.backend, "backend", "", backendFlagHelp)
	fs.StringVar(&f.conv, "conv", "", "widths of the three convolutions, e.g. 32,64,128 (default: the case's middle widths)")
	fs.StringVar(&f.fc, "fc", "", "widths of the two hidden fully connected layers, e.g. 256,128")
	fs.StringVar(&f.activation, "activation", "", "case 2 (-dataset cifar100) only: leaky_relu (default), relu, swish or selu; case 1 always uses ReLU")
	fs.Float64Var(&f.dropout, "dropout", 0, "case 2 (-dataset cifar100) only: dropout rate in [0, 1) (default 0.25; 0: none)")
	fs.IntVar(&f.batch, "batch", trainer.DefaultBatchSize, "batch size (at least 1, at most the training images)")
	fs.StringVar(&f.optimizer, "optimizer", "hgd", "hgd (α and γ adapted), momentum (SGD+momentum, fixed α and γ: the paper's SGD arm), sgd (plain SGD, no momentum), "+
		"sgd-hd, sgdn-hd, adam-hd or adam")
	fs.Float64Var(&f.lr, "lr", 0, "learning rate α (sgd, momentum, adam) or its initial value α0 (optimizers that adapt α), in (0, 10], or (0, 0.2] where α is adapted (adam-hd: (0, 0.1]) (default 0.01, 0.001 for adam kinds)")
	fs.Float64Var(&f.momentum, "momentum", 0, "momentum γ (momentum), its initial value γ0 (hgd) or μ (sgdn-hd), in [0, 0.99] (default 0.9; 0: none)")
	fs.Float64Var(&f.beta, "beta", 0, "hypergradient step size for α, ≥ 0, for optimizers that adapt α (default 1e-4, 1e-7 for adam-hd; 0: α fixed)")
	fs.Float64Var(&f.eta, "eta", 0, "hypergradient step size for γ, ≥ 0, for -optimizer hgd only (default 0.01; 0: γ fixed)")
	fs.Float64Var(&f.weightDecay, "weight-decay", 0, "L2 weight decay added to the gradient, ≥ 0")
	fs.BoolVar(&f.augment, "augment", false, "random crops (4-pixel padding) and horizontal flips")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of the split, the weights, the batch order and augmentation")
	fs.IntVar(&f.steps, "steps", 0, "stop at this many steps in all, counting those of earlier sessions of a -checkpoint (0: no step limit)")
	fs.IntVar(&f.epochs, "epochs", 0, "stop at this many epochs in all, counting earlier sessions of a -checkpoint (0: no epoch limit)")
	fs.DurationVar(&f.duration, "time", 0, "stop at this much training time in all, counting earlier sessions of a -checkpoint, e.g. 5m (0: no time limit); steps, periodic evaluations and checkpoints count, the final evaluation comes on top")
	fs.IntVar(&f.evalEvery, "eval-every", 0, "evaluate every this many steps (default: once per epoch)")
	fs.IntVar(&f.evalLimit, "eval-limit", 0, "evaluate on the first N validation images only (0: all)")
	fs.IntVar(&f.subset, "subset", 0, "use only the first N training images (0: all), for quick runs")
	fs.Float64Var(&f.trainFraction, "train-fraction", cifar.DefaultTrainFraction, "share of each class used for training, in (0, 1); the rest validates")
	fs.StringVar(&f.logPath, "log", "", "append a JSONL log of every step and evaluation to this file (on resume, lines beyond the restored step are dropped)")
	fs.StringVar(&f.checkpoint, "checkpoint", "", "checkpoint folder: resumed from when it holds a checkpoint, written every -checkpoint-every, at the end and on interrupt; one train at a time per folder")
	fs.DurationVar(&f.checkpointEvery, "checkpoint-every", DefaultCheckpointEvery, "with -checkpoint: also save after this much training time since the last save (0: only at the end and on interrupt)")
}

// settings are what a -checkpoint folder must be resumed with, by flag
// name (trainer.RunConfig.Settings): the data and its split, the seed, the
// network, the batch size and the optimizer, as cfg resolved them.
func (f *trainFlags) settings(cfg trainer.Config) map[string]string {
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	o := cfg.Optimizer
	return map[string]string{
		"dataset": f.data.dataset, "train-files": strconv.Itoa(f.data.files), "subset": strconv.Itoa(f.subset),
		"train-fraction": g(f.trainFraction), "seed": strconv.FormatUint(f.seed, 10), "augment": strconv.FormatBool(f.augment),
		"network": cfg.Net.String(), "batch": strconv.Itoa(cfg.BatchSize), "optimizer": o.Kind.String(),
		"lr": g(o.Alpha0), "momentum": g(o.Gamma0), "beta": g(o.Beta), "eta": g(o.Eta), "weight-decay": g(o.WeightDecay),
	}
}

// fmtFlag is "-name value" as an error message starts.
func fmtFlag(name string, v any) string {
	if x, ok := v.(float64); ok {
		v = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprintf("-%s %v", name, v)
}

// inRange reports whether v is finite and lo ≤ v ≤ hi, with the bounds
// themselves excluded where open says so.
func inRange(v, lo, hi float64, loOpen, hiOpen bool) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < lo || v > hi {
		return false
	}
	return !(loOpen && v == lo) && !(hiOpen && v == hi)
}

// dropoutRate maps -dropout to cnn.Config's convention: 0 (unset) is the
// default rate, a negative value no dropout.
func dropoutRate(v float64, set bool) float64 {
	if set && v == 0 {
		return -1
	}
	return v
}

// config turns the flags into a trainer configuration and checks every
// flag's range before any data is read, so that a mistake costs nothing.
// set holds the names of the flags given on the command line.
func (f *trainFlags) config(set map[string]bool) (trainer.Config, error) {
	_, c, err := f.data.parsed()
	if err != nil {
		return trainer.Config{}, err
	}
	net := cnn.Default(c)
	if f.conv != "" {
		w, err := cnn.ParseWidths(f.conv, 3)
		if err != nil {
			return trainer.Config{}, fmt.Errorf("-conv %w", err)
		}
		copy(net.Conv[:], w)
	}
	if f.fc != "" {
		w, err := cnn.ParseWidths(f.fc, 2)
		if err != nil {
			return trainer.Config{}, fmt.Errorf("-fc %w", err)
		}
		copy(net.FC[:], w)
	}
	for _, name := range []string{"activation", "dropout"} {
		if set[name] && c != cnn.Case2 {
			return trainer.Config{}, fmt.Errorf("-%s applies to case 2 (-dataset cifar100) only: case 1 (CIFAR-10) uses ReLU and no dropout", name)
		}
	}
	if f.activation != "" {
		probe := cnn.Default(cnn.Case2)
		probe.Activation = f.activation
		if probe.Validate() != nil {
			return trainer.Config{}, fmt.Errorf("-activation %q: want leaky_relu, relu, swish or selu", f.activation)
		}
	}
	if set["dropout"] && !inRange(f.dropout, 0, 1, false, true) {
		return trainer.Config{}, fmt.Errorf("%s: must be in [0, 1) (0: no dropout)", fmtFlag("dropout", f.dropout))
	}
	net.Activation, net.Dropout = f.activation, dropoutRate(f.dropout, set["dropout"])
	kind, err := optimizerKind(f.optimizer)
	if err != nil {
		return trainer.Config{}, err
	}
	if err := f.checkRanges(kind, set); err != nil {
		return trainer.Config{}, err
	}
	if f.steps == 0 && f.epochs == 0 && f.duration == 0 {
		f.epochs = 1
	}
	// A flag not given keeps the optimizer's default; a flag given is used
	// as it is (-momentum 0: no momentum).
	opt := hgd.Defaults(kind)
	for _, h := range []struct {
		name string
		dst  *float64
		v    float64
	}{{"lr", &opt.Alpha0, f.lr}, {"momentum", &opt.Gamma0, f.momentum}, {"beta", &opt.Beta, f.beta},
		{"eta", &opt.Eta, f.eta}, {"weight-decay", &opt.WeightDecay, f.weightDecay}} {
		if set[h.name] {
			*h.dst = h.v
		}
	}
	cfg := trainer.Config{
		Net: net, BatchSize: f.batch, Optimizer: opt,
		Augment: f.augment, Seed: f.seed, EvalLimit: f.evalLimit,
	}
	return cfg, cfg.Validate()
}

// checkRanges checks the numeric flags, and refuses the optimizer's
// hyperparameters that kind would ignore.
func (f *trainFlags) checkRanges(kind hgd.Kind, set map[string]bool) error {
	for _, c := range []struct {
		name string
		v    int
		what string
	}{
		{"steps", f.steps, "0: no step limit"}, {"epochs", f.epochs, "0: no epoch limit"},
		{"eval-every", f.evalEvery, "0: once per epoch"}, {"eval-limit", f.evalLimit, "0: all validation images"},
		{"subset", f.subset, "0: all training images"},
	} {
		if c.v < 0 {
			return fmt.Errorf("%s: must be ≥ 0 (%s)", fmtFlag(c.name, c.v), c.what)
		}
	}
	for _, c := range []struct {
		name string
		v    time.Duration
		what string
	}{{"time", f.duration, "0: no time limit"}, {"checkpoint-every", f.checkpointEvery, "0: only at the end and on interrupt"}} {
		if c.v < 0 {
			return fmt.Errorf("%s: must be ≥ 0 (%s)", fmtFlag(c.name, c.v), c.what)
		}
	}
	if set["checkpoint-every"] && f.checkpoint == "" {
		return errors.New("-checkpoint-every needs -checkpoint")
	}
	if f.batch < 1 {
		return fmt.Errorf("%s: must be at least 1", fmtFlag("batch", f.batch))
	}
	if !inRange(f.trainFraction, 0, 1, true, true) {
		return fmt.Errorf("%s: must be in (0, 1), the share of each class used for training", fmtFlag("train-fraction", f.trainFraction))
	}
	opt := hgd.Defaults(kind)
	// α is projected into [0, AlphaMax] by the optimizers that adapt it.
	lrMax := 10.0
	if kind.HasAlphaHypergradient() {
		lrMax = opt.AlphaMax
	}
	if set["lr"] && !inRange(f.lr, 0, lrMax, true, false) {
		return fmt.Errorf("%s: must be in (0, %v] for -optimizer %s", fmtFlag("lr", f.lr), lrMax, f.optimizer)
	}
	type hyper struct {
		name    string
		v       float64
		used    bool
		hi      float64
		meaning string
	}
	for _, h := range []hyper{
		{"momentum", f.momentum, kind.HasGamma(), opt.GammaMax, "0: no momentum"},
		{"beta", f.beta, kind.HasAlphaHypergradient(), math.MaxFloat64, "0: α is not adapted"},
		{"eta", f.eta, kind == hgd.HGD, math.MaxFloat64, "0: γ is not adapted"},
		{"weight-decay", f.weightDecay, true, math.MaxFloat64, "0: none"},
	} {
		if !set[h.name] {
			continue
		}
		if !h.used {
			return fmt.Errorf("-%s: -optimizer %s does not use it", h.name, f.optimizer)
		}
		if !inRange(h.v, 0, h.hi, false, false) {
			if h.hi == math.MaxFloat64 {
				return fmt.Errorf("%s: must be ≥ 0 and finite (%s)", fmtFlag(h.name, h.v), h.meaning)
			}
			return fmt.Errorf("%s: must be in [0, %v] (%s)", fmtFlag(h.name, h.v), h.hi, h.meaning)
		}
	}
	return nil
}

// optimizerKind is the kind -optimizer names: every kind of package hgd by
// its own name (ref.ParseKind; "sgd" is plain SGD, "momentum" SGD+momentum).
func optimizerKind(name string) (hgd.Kind, error) {
	k, err := ref.ParseKind(name)
	if err != nil {
		names := make([]string, 0, len(ref.Kinds()))
		for _, k := range ref.Kinds() {
			names = append(names, k.String())
		}
		return 0, fmt.Errorf("unknown -optimizer %q (want %s)", name, strings.Join(names, ", "))
	}
	return k, nil
}

// trainLoader loads the training set named by the data flags (tests pass
// one that returns synthetic data).
type trainLoader func(ctx context.Context, f *dataFlags, progress io.Writer) (*cifar.Dataset, error)

func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return trainWith(ctx, args, stdout, stderr, func(ctx context.Context, f *dataFlags, progress io.Writer) (*cifar.Dataset, error) {
		return f.loadTrain(ctx, progress)
	})
}

// trainWith is "hgdtune train" with the data loaded by load.
func trainWith(ctx context.Context, args []string, stdout, stderr io.Writer, load trainLoader) error {
	fs := flag.NewFlagSet("hgdtune train", flag.ContinueOnError)
	var f trainFlags
	f.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: hgdtune train [flags]

Trains one configuration of the paper's CNN (case 1 on CIFAR-10, case 2 on
CIFAR-100) on the 70% training part and evaluates on the 30% validation part.
Stops at the first of -steps, -epochs and -time (default: one epoch), each
counted over the whole training: a rerun with the same -checkpoint resumes
and stops where a single uninterrupted run would have.

flags:`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	spec := backend.Resolve(f.backend, nil)
	if err := backend.Check(spec); err != nil {
		return err
	}
	cfg, err := f.config(set)
	if err != nil {
		// Every error of config is a flag's value: a usage error.
		fmt.Fprintf(stderr, "invalid flag %v\n", err)
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	run, err := trainer.OpenRun(trainer.RunConfig{
		Steps: f.steps, Epochs: f.epochs, Time: f.duration, EvalEvery: f.evalEvery,
		Checkpoint: f.checkpoint, CheckpointEvery: f.checkpointEvery, LogPath: f.logPath, Messages: stderr,
		Settings: f.settings(cfg),
	})
	if err != nil {
		return err
	}
	defer run.Close()
	cfg.Log = run.Log()

	env, err := trainer.Setup{
		Load:    func(ctx context.Context) (*cifar.Dataset, error) { return load(ctx, &f.data, stderr) },
		Subset:  f.subset,
		Split:   cifar.SplitConfig{TrainFraction: f.trainFraction, Seed: f.seed},
		Backend: spec,
	}.Open(ctx)
	if err != nil {
		return err
	}
	defer env.Close()
	trPart, valPart := env.Data.Train, env.Data.Val
	if f.batch > trPart.Len() {
		return fmt.Errorf("%s: more than the %d training images", fmtFlag("batch", f.batch), trPart.Len())
	}
	desc := env.Describe()
	t, err := env.New(cfg)
	if err != nil {
		return err
	}
	defer t.Close()
	var bar *trainBar
	sum, err := run.Train(ctx, t, trainer.RunHooks{
		Backend: desc,
		Started: func() {
			fmt.Fprintf(stderr, "backend %s\n%s, batch %d, optimizer %s; %d training, %d validation images, %d steps per epoch\n",
				desc, cfg.Net, cfg.BatchSize, cfg.Optimizer.Kind, trPart.Len(), valPart.Len(), t.StepsPerEpoch())
		},
		Progress: func(p trainer.Progress) {
			if bar == nil {
				bar = newTrainBar(stderr, p.MaxSteps, f.duration)
			}
			bar.update(p.Step, p.Loss, p.Eval, p.Evaluated, p.Alpha, p.Gamma, p.Trained, p.Final)
			if p.Final {
				bar.done()
			}
		},
	})
	if bar != nil {
		bar.done()
	}
	if err != nil {
		return err
	}
	var acc, valLoss, evalStep any // null until there is an evaluation
	if e := sum.Eval; e != nil {
		acc, valLoss, evalStep = e.Accuracy, finiteOrString(e.Loss), e.Step
	}
	summary := map[string]any{"steps": sum.Steps, "epochs": sum.Epochs, "accuracy": acc,
		"val_loss": valLoss, "eval_step": evalStep, "alpha": sum.Alpha, "gamma": sum.Gamma,
		"seconds": sum.Seconds, "train_seconds": sum.TrainSeconds,
		"backend": desc, "interrupted": sum.Interrupted}
	writeJSONLine(stdout, summary)
	if sum.Interrupted {
		return ctx.Err()
	}
	return nil
}

func finiteOrString(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprint(v)
	}
	return v
}

func writeJSONLine(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	fmt.Fprintf(w, "%s\n", b)
}

// trainBar is a one-line progress display redrawn at most 10 times a second.
type trainBar struct {
	w        io.Writer
	maxSteps int
	limit    time.Duration
	last     time.Time
	drawn    bool
}

func newTrainBar(w io.Writer, maxSteps int, limit time.Duration) *trainBar {
	return &trainBar{w: w, maxSteps: maxSteps, limit: limit}
}

// update redraws the bar (unless it was drawn less than 0.1 s ago and force
// is false); acc is shown once evaluated is true. elapsed is the training
// time so far, counted as -time counts it.
func (b *trainBar) update(step int, loss float64, e trainer.Eval, evaluated bool, alpha, gamma float64, elapsed time.Duration, force bool) {
	now := time.Now()
	if !force && b.drawn && now.Sub(b.last) < 100*time.Millisecond {
		return
	}
	b.last, b.drawn = now, true
	frac := -1.0
	if b.maxSteps > 0 {
		frac = float64(step) / float64(b.maxSteps)
	}
	if b.limit > 0 {
		frac = max(frac, float64(elapsed)/float64(b.limit))
	}
	bar := ""
	if frac >= 0 {
		const width = 20
		fill := int(min(frac, 1) * width)
		bar = fmt.Sprintf("[%s%s] %3.0f%% ", strings.Repeat("=", fill), strings.Repeat(" ", width-fill), 100*min(frac, 1))
	}
	acc := "—     " // as wide as an accuracy, so the line does not jump
	if evaluated {
		acc = fmt.Sprintf("%.4f", e.Accuracy)
	}
	fmt.Fprintf(b.w, "\r%sstep %d  loss %.4f  val acc %s  α %.4g  γ %.4f  %s ",
		bar, step, loss, acc, alpha, gamma, elapsed.Round(time.Second))
}

// done ends the bar's line (once).
func (b *trainBar) done() {
	if b.drawn {
		fmt.Fprintln(b.w)
		b.drawn = false
	}
}
