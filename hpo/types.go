package hpo

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Config is one point of a Space: parameter name → value, each value of its
// domain's canonical Go type (float64 for Float, int for Int, the choice
// value itself for Choice). Configs handed to schedulers, searchers and
// factories are shared: treat them as read-only and Clone before changing.
type Config map[string]any

// Clone returns a shallow copy of c.
func (c Config) Clone() Config {
	out := make(Config, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

// Float returns the named value as a float64 (ints are converted); it
// returns 0 if the value is missing or not a number.
func (c Config) Float(name string) float64 {
	f, _ := toFloat(c[name])
	return f
}

// Int returns the named value as an int; 0 if missing or not integral.
func (c Config) Int(name string) int {
	k, _ := toInt(c[name])
	return k
}

// String returns the named value if it is a string, else its fmt %v form.
func (c Config) String(name string) string {
	v, ok := c[name]
	if !ok {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// TrialID identifies a trial within an experiment: 0, 1, 2, … in creation
// order.
type TrialID int

// Goal says whether a metric is maximized or minimized.
type Goal int

// Goals.
const (
	Maximize Goal = iota
	Minimize
)

func (g Goal) String() string {
	if g == Minimize {
		return "min"
	}
	return "max"
}

// Metric names the objective reported in Result.Metrics and its goal.
type Metric struct {
	Name string
	Goal Goal
}

// Validate reports an empty name or an unknown goal.
func (m Metric) Validate() error {
	if m.Name == "" {
		return fmt.Errorf("%w: metric has no name", ErrInvalid)
	}
	if m.Goal != Maximize && m.Goal != Minimize {
		return fmt.Errorf("%w: unknown goal %d", ErrInvalid, m.Goal)
	}
	return nil
}

// Better reports whether a is strictly better than b.
func (m Metric) Better(a, b float64) bool {
	if m.Goal == Minimize {
		return a < b
	}
	return a > b
}

// Score returns the value as a quantity to maximize (negated for Minimize).
func (m Metric) Score(v float64) float64 {
	if m.Goal == Minimize {
		return -v
	}
	return v
}

// Value returns the metric's value in r, and whether it is present and
// finite.
func (m Metric) Value(r Result) (float64, bool) {
	v, ok := r.Metrics[m.Name]
	return v, ok && !math.IsNaN(v) && !math.IsInf(v, 0)
}

// Result is one evaluation of a trial after training to a cumulative
// budget. Trainables fill Metrics (and may fill Budget; the runner sets it to
// the requested budget when zero); the runner fills Trial and Elapsed.
type Result struct {
	Trial   TrialID
	Budget  int                // cumulative training iterations (epochs or steps)
	Elapsed time.Duration      // experiment time when the result was recorded
	Metrics map[string]float64 // must be finite, else the trial fails
}

// Status is the state of a trial.
type Status int

// Statuses. Completed, Stopped and Failed are terminal.
const (
	Pending   Status = iota // created, not yet started
	Running                 // a worker is training it
	Paused                  // checkpointed; a scheduler may resume it
	Completed               // ran to the scheduler's final budget
	Stopped                 // stopped early by the scheduler
	Failed                  // Train/Save/Restore/factory error or non-finite metric
)

var statusNames = [...]string{"pending", "running", "paused", "completed", "stopped", "failed"}

func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Terminal reports whether the trial can never run again.
func (s Status) Terminal() bool { return s >= Completed }

// Trial is the runner's record of one trial. Values handed out by View are
// snapshots that share Config and Results with the runner: read-only.
type Trial struct {
	ID     TrialID
	Config Config
	Group  int // set from the Start decision: a bracket, a population slot…
	Status Status
	// Budget is the cumulative budget the trial's state corresponds to: the
	// last reported budget, or a donor's checkpoint budget after an exploit.
	Budget int
	// Until is the budget of the current or last training job.
	Until   int
	Results []Result // in order; the last one is the latest
	// Checkpoint is the directory of the latest checkpoint (relative to the
	// experiment's checkpoint root) and CheckpointBudget its budget.
	Checkpoint       string
	CheckpointBudget int
	Err              string // why it failed
}

// Last returns the latest result, if any.
func (t Trial) Last() (Result, bool) {
	if len(t.Results) == 0 {
		return Result{}, false
	}
	return t.Results[len(t.Results)-1], true
}

// Point is one step of the best-so-far curve: at experiment time Elapsed the
// best metric value over every result recorded so far became Best, reported
// by Trial at Budget.
type Point struct {
	Elapsed time.Duration
	Best    float64
	Trial   TrialID
	Budget  int
}

// Trainable is one trial's model. The runner calls its methods from one
// worker goroutine at a time (never concurrently), but different
// trainables run concurrently.
type Trainable interface {
	// Train trains until the cumulative budget `until` (epochs or steps
	// since the trial began, including any training before a Restore) and
	// evaluates. It should return promptly with ctx.Err() when ctx is done.
	Train(ctx context.Context, until int) (Result, error)
	// Save writes the complete training state into dir, which exists and is
	// empty. The runner writes to a temporary directory and renames it.
	Save(dir string) error
	// Restore loads a state written by Save (possibly another trial's, for
	// an exploit) into a freshly built trainable.
	Restore(dir string) error
	// Close releases resources (device memory). The trainable is not used
	// afterwards.
	Close() error
}

// Reconfigurer is an optional Trainable capability: change hyperparameters
// in place (PBT's explore step) without building a new model. Without it,
// or when Reconfigure returns an error wrapping ErrRebuild (the change needs
// a new model, say another network width), the runner closes the trainable
// and builds a new one with the new config; any other error fails the
// trial. After an exploit the runner restores the donor's checkpoint into
// the reconfigured (or new) trainable: what the trainable does then with
// state its optimizer adapted (HGD's α and γ: keep the donor's or reset
// them) is the trainable's own policy.
type Reconfigurer interface {
	Reconfigure(cfg Config) error
}

// Factory builds the trainable of a trial. It is called from worker
// goroutines, concurrently, and also to rebuild a trial that resumes from a
// checkpoint. ctx is the workers' context, done when the run stops (its
// context is cancelled, its time budget runs out, or it ends): a factory
// that takes long (loading data, compiling a model) may return ctx.Err().
type Factory func(ctx context.Context, id TrialID, cfg Config) (Trainable, error)
