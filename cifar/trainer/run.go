package trainer

// The training loop of "hgdtune train": budgets over sessions, periodic
// evaluation, periodic crash-safe checkpoints and a JSONL log kept
// consistent with them. The folder layout is in runfolder.go.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hgdtune/hgdtune/internal/dirlock"
)

// RunConfig configures a Run. The zero value trains one epoch, evaluates
// once per epoch and at the end, writes no log and no checkpoint, prints
// nothing and uses the wall clock.
type RunConfig struct {
	// Steps, Epochs and Time stop the run at the first reached, each
	// counted over every session of a Checkpoint folder (a resumed run
	// stops where one uninterrupted run would have). Zero means no limit of
	// that kind; all three zero means one epoch. Time is training time:
	// steps, periodic evaluations and checkpoints; the final evaluation
	// comes on top.
	Steps, Epochs int
	Time          time.Duration
	// EvalEvery evaluates every this many steps (0: once per epoch).
	EvalEvery int
	// Checkpoint is the run's folder ("": none): resumed from when it holds
	// a checkpoint, saved every CheckpointEvery of training, before the
	// final evaluation and on interrupt; locked while the run is open.
	Checkpoint string
	// CheckpointEvery is the training time between two periodic saves (0:
	// only at the end and on interrupt).
	CheckpointEvery time.Duration
	// LogPath appends the trainer's JSONL log to this file ("": none); with
	// a Checkpoint, a resume first drops the run's lines beyond the
	// restored step.
	LogPath string
	// Messages receives the run's lines for a person: resume, log
	// trimming, final evaluation, where the checkpoint went (nil: none).
	Messages io.Writer
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Settings are what shapes the training and the log, which a resumed
	// checkpoint must keep (hgdtune train's flags: data, split, seed,
	// network, batch size, optimizer), by flag name; budgets and
	// evaluation settings are not among them. With a Checkpoint, OpenRun
	// records them in the folder's run.json and refuses to resume a
	// checkpoint with other settings (ErrSettings, naming each).
	Settings map[string]string
}

// ErrSettings reports a checkpoint folder that cannot be resumed: it was
// trained with other settings than those given, or its run.json is missing
// or damaged beside a checkpoint.
var ErrSettings = errors.New("trainer: the checkpoint folder cannot be resumed")

// RunHooks is what Train tells its caller, and the description of the
// backend it cannot know. The zero value reports nothing.
type RunHooks struct {
	// Backend describes the backend in the log's start event.
	Backend string
	// Started is called once the checkpoint is restored and the log
	// trimmed, before the first step (nil: nothing).
	Started func()
	// Progress is called after every step and once more, Final, when the
	// loop ends, before the final evaluation (nil: nothing).
	Progress func(Progress)
}

// Progress is what a Run reports after a step.
type Progress struct {
	Step         int
	Loss         float64 // of the last step
	Eval         Eval    // the last evaluation, if Evaluated
	Evaluated    bool
	Alpha, Gamma float64
	Trained      time.Duration // training time so far, as RunConfig.Time counts it
	MaxSteps     int           // the step budget (0: none)
	Final        bool
}

// Summary is what a Run ends with.
type Summary struct {
	Steps        int
	Epochs       float64
	Eval         *SavedEval // the last evaluation (nil: none)
	Alpha, Gamma float64
	Seconds      float64 // this session's wall-clock time
	TrainSeconds float64 // training time of every session
	Interrupted  bool    // ctx was cancelled
}

// Run is a run being prepared or trained: OpenRun (before any data is
// read), give Log to the trainer's Config, build the trainer, Train, Close.
type Run struct {
	cfg  RunConfig
	id   string
	ckpt string // the checkpoint to resume from ("": none)
	lock *dirlock.Lock
	log  *logSink
}

// OpenRun locks the checkpoint folder, finds its checkpoint and the run's
// identity, and checks the log can be written: everything that can fail
// before data is read or a trainer built.
func OpenRun(cfg RunConfig) (*Run, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Messages == nil {
		cfg.Messages = io.Discard
	}
	r := &Run{cfg: cfg, id: newRunID(), log: &logSink{}}
	if cfg.Checkpoint != "" {
		lock, err := dirlock.Acquire(cfg.Checkpoint)
		if err != nil {
			return nil, err
		}
		r.lock = lock
		r.ckpt = findCheckpoint(cfg.Checkpoint)
		// A checkpoint of the layout without current/ has no run.json to
		// check against: its settings are recorded from now on.
		layout := r.ckpt != "" && r.ckpt != cfg.Checkpoint
		if r.id, err = runID(cfg.Checkpoint, cfg.Settings, layout); err != nil {
			r.Close()
			return nil, err
		}
	}
	if cfg.LogPath != "" {
		lf, err := os.OpenFile(cfg.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			r.Close()
			return nil, err
		}
		lf.Close()
	}
	return r, nil
}

// Log is the writer to give as the trainer's Config.Log (nil without a
// LogPath); it opens the file once Train has trimmed it.
func (r *Run) Log() io.Writer {
	if r.cfg.LogPath == "" {
		return nil
	}
	return r.log
}

// Close releases the log and the folder's lock.
func (r *Run) Close() error {
	err := r.log.Close()
	if r.lock != nil {
		r.lock.Unlock()
		r.lock = nil
	}
	return err
}

// Train restores t from the run's checkpoint, if any, and trains it to the
// budgets, saving and evaluating as configured. An interrupt (ctx
// cancelled) is not an error: the checkpoint is saved and Summary says so.
//
// The loop and its hooks (periodic evaluation, progress, periodic
// checkpoints) are in loop.go.
func (r *Run) Train(ctx context.Context, t *Trainer, h RunHooks) (Summary, error) {
	c := r.cfg
	ev := newEvaluator(t, c.EvalEvery)
	sess, err := r.restore(t, ev)
	if err != nil {
		return Summary{}, err
	}
	if err := r.openLog(t, h.Backend, sess.Steps, ev.step >= 0); err != nil {
		return Summary{}, err
	}
	if h.Started != nil {
		h.Started()
	}
	b := newBudget(c, t.StepsPerEpoch())
	clock := startClock(c.Now, sess.TrainSeconds)
	ck := &checkpointer{dir: c.Checkpoint, every: c.CheckpointEvery, now: c.Now, last: c.Now(), t: t, ev: ev, clock: clock}
	rep := reporter{report: h.Progress, t: t, ev: ev, clock: clock, maxSteps: b.steps}
	l := loop{t: t, budget: b, clock: clock, hooks: []stepHook{ev.afterStep, rep.afterStep, ck.afterStep}}
	loss, interrupted, err := l.run(ctx)
	if err != nil {
		return Summary{}, err
	}
	clock.stop()
	rep.send(loss, true)
	if err := r.finish(ctx, ev, ck, interrupted); err != nil {
		return Summary{}, err
	}
	return Summary{Steps: t.Steps(), Epochs: t.Epochs(), Eval: ev.saved(), Alpha: t.Alpha(), Gamma: t.Gamma(),
		Seconds: clock.session().Seconds(), TrainSeconds: clock.trained().Seconds(), Interrupted: interrupted}, nil
}

// finish ends a run after its loop: it saves the checkpoint before the
// final evaluation, so that a kill during that evaluation loses no
// training; evaluates, unless interrupted or already evaluated at the last
// step, and adds that evaluation to the checkpoint; and tells the results.
func (r *Run) finish(ctx context.Context, ev *evaluator, ck *checkpointer, interrupted bool) error {
	msg := r.cfg.Messages
	if err := ck.save(); err != nil {
		return err
	}
	if !interrupted && ev.step != ev.t.Steps() {
		fmt.Fprintf(msg, "evaluating on %d validation images…\n", ev.n)
		if err := ev.evaluate(context.WithoutCancel(ctx)); err != nil {
			return err
		}
		if err := ck.addEval(); err != nil {
			return err
		}
	}
	if ev.step >= 0 {
		fmt.Fprintf(msg, "step %d: validation accuracy %.4f, loss %.4f\n", ev.step, ev.last.Accuracy, ev.last.Loss)
	}
	if ck.dir != "" {
		fmt.Fprintf(msg, "checkpoint written to %s\n", filepath.Join(ck.dir, CheckpointCurrent))
	}
	return nil
}

// restore restores t from the run's checkpoint, if any, returns the
// restored session and gives ev its evaluation when still valid.
func (r *Run) restore(t *Trainer, ev *evaluator) (sess Session, err error) {
	if r.ckpt == "" {
		return sess, nil
	}
	if r.ckpt != r.cfg.Checkpoint { // the layout with session.json
		if sess, err = ReadSession(r.ckpt); err != nil {
			return sess, err
		}
	}
	if err := t.Restore(r.ckpt); err != nil {
		return sess, err
	}
	if r.ckpt == r.cfg.Checkpoint {
		sess.Steps = t.Steps()
	}
	ev.restore(sess.Eval)
	fmt.Fprintf(r.cfg.Messages, "resumed from %s at step %d, %v of training\n", r.ckpt, t.Steps(),
		time.Duration(sess.TrainSeconds*float64(time.Second)).Round(100*time.Millisecond))
	return sess, nil
}

// openLog trims the log to the restored step, opens it and writes the
// session's start event.
func (r *Run) openLog(t *Trainer, backend string, step int, evalKept bool) error {
	c := r.cfg
	if c.LogPath == "" {
		return nil
	}
	if c.Checkpoint != "" {
		n, err := trimLog(c.LogPath, r.id, step, evalKept, r.ckpt == "")
		if err != nil {
			return fmt.Errorf("-log %s: %w", c.LogPath, err)
		}
		if n > 0 {
			fmt.Fprintf(c.Messages, "dropped %d line(s) of this run beyond step %d from %s\n", n, step, c.LogPath)
		}
	}
	if err := r.log.open(c.LogPath); err != nil {
		return err
	}
	cfg, opt := t.cfg, t.cfg.Optimizer
	start := map[string]any{"event": "start", "run": r.id, "backend": backend, "net": cfg.Net.String(),
		"params": cfg.Net.Params(), "batch": cfg.BatchSize, "optimizer": opt.Kind.String(),
		"lr": opt.Alpha0, "momentum": opt.Gamma0, "beta": opt.Beta, "eta": opt.Eta, "weight_decay": opt.WeightDecay,
		"seed": cfg.Seed, "augment": cfg.Augment,
		"train_images": t.data.Train.Len(), "val_images": t.data.Val.Len(), "resumed_at": t.Steps()}
	if c.Checkpoint != "" {
		start["checkpoint"] = c.Checkpoint
	}
	b, err := json.Marshal(start)
	if err != nil {
		return fmt.Errorf("-log %s: encoding the start line: %w", c.LogPath, err)
	}
	if _, err := r.log.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("-log %s: writing the start line: %w", c.LogPath, err)
	}
	return nil
}

// logSink is the trainer's log writer: the log file is opened only after
// the restored checkpoint has told what to drop from it.
type logSink struct{ f *os.File }

func (l *logSink) open(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	l.f = f
	return nil
}

func (l *logSink) Write(b []byte) (int, error) {
	if l.f == nil {
		return 0, errors.New("log not open")
	}
	return l.f.Write(b)
}

func (l *logSink) Close() error {
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
