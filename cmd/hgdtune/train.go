package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hgdtune/hgdtune/backend"
	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/cifar/trainer"
	"github.com/hgdtune/hgdtune/hgd"
	"github.com/hgdtune/hgdtune/nn"
)

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
}

func (f *trainFlags) register(fs *flag.FlagSet) {
	f.data.register(fs)
	fs.StringVar(&f.backend, "backend", "", backendFlagHelp)
	fs.StringVar(&f.conv, "conv", "", "widths of the three convolutions, e.g. 32,64,128 (default: the case's middle widths)")
	fs.StringVar(&f.fc, "fc", "", "widths of the two hidden fully connected layers, e.g. 256,128")
	fs.StringVar(&f.activation, "activation", "", "case 2 activation: leaky_relu (default), relu, swish or selu")
	fs.Float64Var(&f.dropout, "dropout", 0, "case 2 dropout rate (default 0.25; negative: none)")
	fs.IntVar(&f.batch, "batch", trainer.DefaultBatchSize, "batch size")
	fs.StringVar(&f.optimizer, "optimizer", "hgd", "hgd (α and γ adapted), sgd (SGD+momentum, fixed α and γ), or any hgd kind: sgd-hd, sgdn-hd, adam, adam-hd, momentum")
	fs.Float64Var(&f.lr, "lr", 0, "learning rate α (sgd) or its initial value α0 (hgd); 0: the default 0.01")
	fs.Float64Var(&f.momentum, "momentum", 0, "momentum γ (sgd) or its initial value γ0 (hgd); 0: the default 0.9")
	fs.Float64Var(&f.beta, "beta", 0, "HGD hypergradient step size for α (0: default)")
	fs.Float64Var(&f.eta, "eta", 0, "HGD hypergradient step size for γ (0: default)")
	fs.Float64Var(&f.weightDecay, "weight-decay", 0, "L2 weight decay added to the gradient")
	fs.BoolVar(&f.augment, "augment", false, "random crops (4-pixel padding) and horizontal flips")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of the split, the weights, the batch order and augmentation")
	fs.IntVar(&f.steps, "steps", 0, "stop after this many steps (0: no step limit)")
	fs.IntVar(&f.epochs, "epochs", 0, "stop after this many epochs (0: no epoch limit)")
	fs.DurationVar(&f.duration, "time", 0, "stop after this much training time, e.g. 5m (0: no time limit)")
	fs.IntVar(&f.evalEvery, "eval-every", 0, "evaluate every this many steps (default: once per epoch)")
	fs.IntVar(&f.evalLimit, "eval-limit", 0, "evaluate on the first N validation images only (0: all)")
	fs.IntVar(&f.subset, "subset", 0, "use only the first N training images (0: all), for quick runs")
	fs.Float64Var(&f.trainFraction, "train-fraction", cifar.DefaultTrainFraction, "share of each class used for training; the rest validates")
	fs.StringVar(&f.logPath, "log", "", "append a JSONL log of every step and evaluation to this file")
	fs.StringVar(&f.checkpoint, "checkpoint", "", "checkpoint folder: resumed from when it exists, written at the end and on interrupt")
}

func parseWidths(s string, n int, name string) ([]int, error) {
	parts := strings.Split(s, ",")
	if len(parts) != n {
		return nil, fmt.Errorf("-%s %q: want %d comma-separated widths", name, s, n)
	}
	out := make([]int, n)
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("-%s %q: %q is not a positive integer", name, s, p)
		}
		out[i] = v
	}
	return out, nil
}

// config turns the flags into a trainer configuration (before any data is
// read, so that a mistake costs nothing).
func (f *trainFlags) config(impl nn.Impl) (trainer.Config, error) {
	c := cnn.Case1
	if f.data.dataset == "cifar100" {
		c = cnn.Case2
	} else if f.data.dataset != "cifar10" {
		return trainer.Config{}, fmt.Errorf("unknown -dataset %q (want cifar10 or cifar100)", f.data.dataset)
	}
	net := cnn.Default(c)
	if f.conv != "" {
		w, err := parseWidths(f.conv, 3, "conv")
		if err != nil {
			return trainer.Config{}, err
		}
		copy(net.Conv[:], w)
	}
	if f.fc != "" {
		w, err := parseWidths(f.fc, 2, "fc")
		if err != nil {
			return trainer.Config{}, err
		}
		copy(net.FC[:], w)
	}
	net.Activation, net.Dropout, net.Impl = f.activation, f.dropout, impl
	var kind hgd.Kind
	switch f.optimizer {
	case "sgd":
		kind = hgd.Momentum
	default:
		k, err := hgdKind(f.optimizer)
		if err != nil {
			return trainer.Config{}, err
		}
		kind = k
	}
	if f.steps < 0 || f.epochs < 0 || f.duration < 0 || f.evalEvery < 0 || f.subset < 0 {
		return trainer.Config{}, errors.New("-steps, -epochs, -time, -eval-every and -subset must not be negative")
	}
	if f.steps == 0 && f.epochs == 0 && f.duration == 0 {
		f.epochs = 1
	}
	cfg := trainer.Config{
		Net: net, BatchSize: f.batch, Optimizer: kind,
		LearningRate: f.lr, Momentum: f.momentum, Beta: f.beta, Eta: f.eta, WeightDecay: f.weightDecay,
		Augment: f.augment, Seed: f.seed, EvalLimit: f.evalLimit,
	}
	return cfg, cfg.Validate()
}

func hgdKind(name string) (hgd.Kind, error) {
	for _, k := range []hgd.Kind{hgd.HGD, hgd.SGD, hgd.Momentum, hgd.SGDHD, hgd.SGDNHD, hgd.AdamHD, hgd.Adam} {
		if k.String() == name {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown -optimizer %q (want hgd, sgd, momentum, sgd-hd, sgdn-hd, adam-hd or adam)", name)
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
Stops at the first of -steps, -epochs and -time (default: one epoch).

flags:`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	spec := backend.Resolve(f.backend, nil)
	if err := backend.Check(spec); err != nil {
		return err
	}
	cfg, err := f.config(nn.ForBackend(backend.Name(spec)))
	if err != nil {
		return err
	}
	var logw io.Writer
	if f.logPath != "" {
		lf, err := os.OpenFile(f.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer lf.Close()
		logw = lf
		cfg.Log = lf
	}

	train, err := load(ctx, &f.data, stderr)
	if err != nil {
		return err
	}
	data, err := trainer.SplitData(train.Head(f.subset), cifar.SplitConfig{TrainFraction: f.trainFraction, Seed: f.seed})
	if err != nil {
		return err
	}
	trPart, valPart := data.Train, data.Val

	be, err := backend.New(spec)
	if err != nil {
		return err
	}
	defer be.Finalize()
	desc := backend.Describe(be, spec)
	t, err := trainer.New(be, data, cfg)
	if err != nil {
		return err
	}
	defer t.Close()
	if f.checkpoint != "" {
		if _, err := os.Stat(filepath.Join(f.checkpoint, "trainer.json")); err == nil {
			if err := t.Restore(f.checkpoint); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "resumed from %s at step %d\n", f.checkpoint, t.Steps())
		}
	}
	fmt.Fprintf(stderr, "backend %s\n%s, batch %d, optimizer %s; %d training, %d validation images, %d steps per epoch\n",
		desc, cfg.Net, cfg.BatchSize, cfg.Optimizer, trPart.Len(), valPart.Len(), t.StepsPerEpoch())
	if logw != nil {
		writeJSONLine(logw, map[string]any{"event": "start", "backend": desc, "net": cfg.Net.String(),
			"params": cfg.Net.Params(), "batch": cfg.BatchSize, "optimizer": cfg.Optimizer.String(),
			"lr": cfg.LearningRate, "momentum": cfg.Momentum, "seed": cfg.Seed, "augment": cfg.Augment,
			"train_images": trPart.Len(), "val_images": valPart.Len(), "resumed_at": t.Steps()})
	}

	maxSteps := 0
	if f.steps > 0 {
		maxSteps = f.steps
	}
	if f.epochs > 0 {
		if s := f.epochs * t.StepsPerEpoch(); maxSteps == 0 || s < maxSteps {
			maxSteps = s
		}
	}
	evalEvery := f.evalEvery
	if evalEvery == 0 {
		evalEvery = t.StepsPerEpoch()
	}
	bar := newTrainBar(stderr, maxSteps, f.duration)
	start := time.Now()
	var last trainer.Eval
	var lastLoss float64
	interrupted := false
	for maxSteps == 0 || t.Steps() < maxSteps {
		if f.duration > 0 && time.Since(start) >= f.duration {
			break
		}
		if ctx.Err() != nil {
			interrupted = true
			break
		}
		l, err := t.Step()
		if err != nil {
			bar.done()
			return err
		}
		lastLoss = l
		if t.Steps()%evalEvery == 0 {
			if last, err = t.Evaluate(ctx); err != nil {
				if ctx.Err() != nil {
					interrupted = true
					break
				}
				return err
			}
		}
		bar.update(t.Steps(), lastLoss, last.Accuracy, t.Alpha(), t.Gamma(), time.Since(start))
	}
	if !interrupted && (last.N == 0 || t.Steps()%evalEvery != 0) {
		if last, err = t.Evaluate(context.WithoutCancel(ctx)); err != nil {
			return err
		}
	}
	bar.update(t.Steps(), lastLoss, last.Accuracy, t.Alpha(), t.Gamma(), time.Since(start))
	bar.done()
	if f.checkpoint != "" {
		if err := saveAtomic(t, f.checkpoint); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "checkpoint written to %s\n", f.checkpoint)
	}
	summary := map[string]any{"steps": t.Steps(), "epochs": t.Epochs(), "accuracy": last.Accuracy,
		"val_loss": last.Loss, "alpha": t.Alpha(), "gamma": t.Gamma(), "seconds": time.Since(start).Seconds(),
		"backend": desc, "interrupted": interrupted}
	writeJSONLine(stdout, summary)
	if interrupted {
		return ctx.Err()
	}
	return nil
}

// saveAtomic writes the checkpoint to a temporary sibling folder and renames
// it over dir, so an interrupted save never leaves a half-written checkpoint.
func saveAtomic(t *trainer.Trainer, dir string) error {
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, ".ckpt-*")
	if err != nil {
		return err
	}
	if err := t.Save(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			os.RemoveAll(tmp)
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
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

func (b *trainBar) update(step int, loss, acc, alpha, gamma float64, elapsed time.Duration) {
	now := time.Now()
	if b.drawn && now.Sub(b.last) < 100*time.Millisecond {
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
	fmt.Fprintf(b.w, "\r%sstep %d  loss %.4f  val acc %.4f  α %.4g  γ %.4f  %s ",
		bar, step, loss, acc, alpha, gamma, elapsed.Round(time.Second))
}

func (b *trainBar) done() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}
