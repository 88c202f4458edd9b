package trainer

// The loop behind Run.Train, in the manner of GoMLX's train.Loop: a loop
// steps the trainer until its budget is reached or the run is interrupted,
// and calls hooks after every step. Each concern of a run is one small
// type here:
//
//	budget        where the loop stops (steps, epochs, training time)
//	trainClock    the training time that RunConfig.Time limits, over sessions
//	evaluator     the periodic evaluation and the last evaluation
//	reporter      RunHooks.Progress
//	checkpointer  the periodic checkpoints and what they hold

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"time"
)

// errInterrupted, returned by a hook, ends the loop as an interrupt (the
// run's context was cancelled) rather than as a failure.
var errInterrupted = errors.New("trainer: interrupted")

// stepHook is called after every step with the step's loss.
// errInterrupted ends the loop as an interrupt, another error as a failure.
type stepHook func(ctx context.Context, loss float64) error

// loop steps t until budget is reached or ctx is cancelled, calling hooks,
// in order, after every step.
type loop struct {
	t      *Trainer
	budget budget
	clock  *trainClock
	hooks  []stepHook
}

// run runs the loop. It returns the last step's loss and whether the loop
// ended by an interrupt.
func (l loop) run(ctx context.Context) (loss float64, interrupted bool, err error) {
	for !l.budget.reached(l.t.Steps(), l.clock) {
		if ctx.Err() != nil {
			return loss, true, nil
		}
		if loss, err = l.t.Step(); err != nil {
			return loss, false, err
		}
		for _, h := range l.hooks {
			switch err := h(ctx, loss); {
			case errors.Is(err, errInterrupted):
				return loss, true, nil
			case err != nil:
				return loss, false, err
			}
		}
	}
	return loss, false, nil
}

// budget is where a run stops, counted over all its sessions: a number of
// steps (0: no limit) and training time (0: no limit).
type budget struct {
	steps int
	time  time.Duration
}

// newBudget is the budget of c for a trainer of stepsPerEpoch steps an
// epoch: the fewest steps of Steps and Epochs, one epoch when c sets no
// budget at all.
func newBudget(c RunConfig, stepsPerEpoch int) budget {
	b := budget{steps: c.Steps, time: c.Time}
	epochs := c.Epochs
	if c.Steps == 0 && c.Epochs == 0 && c.Time == 0 {
		epochs = 1
	}
	if s := epochs * stepsPerEpoch; epochs > 0 && (b.steps == 0 || s < b.steps) {
		b.steps = s
	}
	return b
}

// reached reports whether a run at step is to stop; the clock is read only
// when the steps do not stop it.
func (b budget) reached(step int, clock *trainClock) bool {
	return b.steps != 0 && step >= b.steps || b.time > 0 && clock.trained() >= b.time
}

// trainClock is the training time that RunConfig.Time limits: that of the
// earlier sessions plus this session's, up to stop (the final evaluation
// is not counted).
type trainClock struct {
	now     func() time.Time
	earlier time.Duration
	start   time.Time
	stopped bool
	end     time.Duration // the training time at stop
}

// startClock starts this session's clock after earlierSeconds of training
// in earlier sessions.
func startClock(now func() time.Time, earlierSeconds float64) *trainClock {
	earlier := time.Duration(earlierSeconds * float64(time.Second))
	return &trainClock{now: now, earlier: earlier, start: now()}
}

// trained is the training time so far.
func (c *trainClock) trained() time.Duration {
	if c.stopped {
		return c.end
	}
	return c.earlier + c.now().Sub(c.start)
}

// stop fixes the training time at its current value.
func (c *trainClock) stop() { c.end, c.stopped = c.trained(), true }

// session is this session's wall-clock time so far, after stop too.
func (c *trainClock) session() time.Duration { return c.now().Sub(c.start) }

// evaluator evaluates t every `every` steps and keeps the last evaluation.
type evaluator struct {
	t     *Trainer
	every int
	n     int // the validation images an evaluation takes
	last  Eval
	step  int // the step of last (−1: no evaluation yet)
}

// newEvaluator evaluates every `every` steps (0: once per epoch).
func newEvaluator(t *Trainer, every int) *evaluator {
	if every == 0 {
		every = t.StepsPerEpoch()
	}
	n := t.data.Val.Len()
	if t.cfg.EvalLimit > 0 {
		n = min(n, t.cfg.EvalLimit)
	}
	return &evaluator{t: t, every: every, n: n, step: -1}
}

// restore keeps a checkpoint's evaluation while it is still valid: made at
// the restored step, on as many validation images.
func (e *evaluator) restore(s *SavedEval) {
	if s != nil && s.Step == e.t.Steps() && s.N == e.n {
		e.last, e.step = Eval{Accuracy: s.Accuracy, Loss: s.Loss, N: s.N}, s.Step
	}
}

// afterStep is the evaluator's hook.
func (e *evaluator) afterStep(ctx context.Context, _ float64) error {
	if e.t.Steps()%e.every != 0 {
		return nil
	}
	return e.evaluate(ctx)
}

// evaluate evaluates t now. An evaluation cut short by ctx is
// errInterrupted and leaves the last evaluation as it was.
func (e *evaluator) evaluate(ctx context.Context) error {
	ev, err := e.t.Evaluate(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return errInterrupted
		}
		return err
	}
	e.last, e.step = ev, e.t.Steps()
	return nil
}

// saved is the last evaluation (nil: none).
func (e *evaluator) saved() *SavedEval {
	if e.step < 0 {
		return nil
	}
	return &SavedEval{Step: e.step, Accuracy: e.last.Accuracy, Loss: e.last.Loss, N: e.last.N}
}

// reporter calls RunHooks.Progress (report; nil: nothing) after every step
// and once more, Final, after the loop.
type reporter struct {
	report   func(Progress)
	t        *Trainer
	ev       *evaluator
	clock    *trainClock
	maxSteps int
}

// afterStep is the reporter's hook.
func (r reporter) afterStep(_ context.Context, loss float64) error {
	r.send(loss, false)
	return nil
}

func (r reporter) send(loss float64, final bool) {
	if r.report == nil {
		return
	}
	r.report(Progress{Step: r.t.Steps(), Loss: loss, Eval: r.ev.last, Evaluated: r.ev.step >= 0,
		Alpha: r.t.Alpha(), Gamma: r.t.Gamma(), Trained: r.clock.trained(), MaxSteps: r.maxSteps, Final: final})
}

// checkpointer saves t's checkpoint into the run's folder dir ("": none;
// then it does nothing): every `every` of wall-clock time after a step (0:
// never), and at the end.
type checkpointer struct {
	dir   string
	every time.Duration
	now   func() time.Time
	last  time.Time // the last periodic save, or the start of the session
	t     *Trainer
	ev    *evaluator
	clock *trainClock
}

// afterStep is the checkpointer's hook.
func (c *checkpointer) afterStep(context.Context, float64) error {
	if c.dir == "" || c.every <= 0 || c.now().Sub(c.last) < c.every {
		return nil
	}
	if err := c.save(); err != nil {
		return err
	}
	c.last = c.now()
	return nil
}

// save writes a new checkpoint and swaps it in for the current one,
// crash-safely (runfolder.go).
func (c *checkpointer) save() error {
	if c.dir == "" {
		return nil
	}
	s := c.session()
	return saveCheckpoint(c.dir, func(folder string) error {
		if err := c.t.Save(folder); err != nil {
			return err
		}
		return WriteSession(folder, s)
	})
}

// addEval writes the last evaluation into the current checkpoint, saved
// before that evaluation at the same step.
func (c *checkpointer) addEval() error {
	if c.dir == "" {
		return nil
	}
	return WriteSession(filepath.Join(c.dir, CheckpointCurrent), c.session())
}

// session is what a checkpoint holds besides the trainer's state; an
// evaluation with a non-finite loss is left out.
func (c *checkpointer) session() Session {
	s := Session{Steps: c.t.Steps(), TrainSeconds: c.clock.trained().Seconds()}
	if e := c.ev.saved(); e != nil && !math.IsNaN(e.Loss) && !math.IsInf(e.Loss, 0) {
		s.Eval = e
	}
	return s
}
