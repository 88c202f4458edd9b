// Package asha implements the Asynchronous Successive Halving Algorithm and
// asynchronous Hyperband, in promotion and stopping forms.
//
// ASHA (Li, Jamieson, Rostamizadeh, Gonina, Ben-Tzur, Hardt, Recht &
// Talwalkar, "A System for Massively Parallel Hyperparameter Tuning",
// MLSys 2020, Algorithm 2) keeps rungs k = 0, 1, … with budgets
// r_k = r·η^(s+k) (minimum budget r, reduction factor η, early-stopping
// rate s) up to the maximum budget R. Each time a worker is free it calls
// get_job:
//
//	for k = top−1, …, 1, 0:
//	    candidates = top_k(rung k, ⌊|rung k|/η⌋) − {configs already promoted from rung k}
//	    if candidates ≠ ∅: promote the best candidate to rung k+1 (train it to r_{k+1})
//	else: start a new configuration at rung 0 (train it to r_0)
//
// and when a job ends its result is recorded in its rung. Promotion mode
// (Mode Promotion) is this algorithm: a trial pauses at every rung below the
// top, checkpointed, and a promotion resumes it from its checkpoint; trials
// reaching R complete. Paused trials never promoted stay paused when the
// experiment ends (ASHA has no end of its own: it runs until the runner's
// trial or time budget).
//
// Stopping mode (Mode Stopping) is the variant of Ray Tune's ASHAScheduler:
// a trial trains without pausing; when it reaches rung k (below R) its
// metric is compared with the results already recorded at that rung, and it
// continues to r_{k+1} only if it is at least the (1 − 1/η) quantile of them
// (linear interpolation, as numpy.percentile; the first trial at a rung
// always continues), else it stops. New trials start whenever a slot is
// free.
//
// Rungs are r·η^k for r·η^k < R, plus R itself as the top rung (so the
// rungs are exactly r·η^k ≤ R when R is r times a power of η).
//
// Asynchronous Hyperband (Brackets > 1, or NewAsyncHyperband) runs several
// ASHA brackets side by side, bracket s = 0, 1, … with minimum budget
// r·η^s (s ≤ s_max = ⌊log_η(R/r)⌋) and rungs Rungs(s): bracket 0 has the
// most rungs, each next bracket one fewer. Each new trial is assigned a
// bracket with the probabilities of Ray Tune's AsyncHyperBandScheduler
// (ASHAScheduler is another name for it, with one bracket by default).
// Ray's bracket s has the rungs grace_period·η^(s+k) for
// k < n_s = int(log(max_t/grace_period)/log(η) − s + 1), and its
// on_trial_add draws the bracket of a new trial with numpy.random.choice
// from the probabilities e^(n_s − max n) / Σ_j e^(n_j − max n): a softmax
// of the rung counts. Here the rung counts are those of Rungs (one more
// than Ray's in every bracket when R is not r times a power of η, since R
// is then a rung of its own; Ray's otherwise), so the probabilities are
// Ray's: p_s = e^−s / Σ_j e^−j, 0.731 and 0.269 for two brackets, 0.665,
// 0.245 and 0.090 for three. Unlike Ray's draw from NumPy's global
// generator, the draw is seeded and independent of the order of events:
// trial id goes to the bracket in whose share of the cumulative
// probabilities u = hpo.Unit(Seed, id) falls. A trial's Group is its
// bracket. In promotion mode get_job looks for a promotion in every
// bracket (s = 0 first) before starting a new trial. Config.Weights
// HyperbandWeights weights the brackets instead by the number of
// configurations Hyperband's bracket of the same minimum budget starts
// (0.53, 0.29, 0.18 for three brackets of η = 3).
//
// Ties between equal metrics are broken by trial id (lower first), so the
// scheduler is deterministic.
package asha

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/hyperband"
)

// Mode selects promotion-based or stopping-based ASHA.
type Mode int

// Modes.
const (
	Promotion Mode = iota // the paper's algorithm: pause at rungs, promote later
	Stopping              // Ray Tune's ASHAScheduler: continue or stop at each rung
)

func (m Mode) String() string {
	if m == Stopping {
		return "stopping"
	}
	return "promotion"
}

// Config configures ASHA. MaxBudget is required; zero values of the other
// fields mean: MinBudget 1, Eta 3, one bracket, promotion mode.
type Config struct {
	Mode      Mode
	MinBudget int // r, the grace period; 0 means 1
	MaxBudget int // R
	Eta       int // η ≥ 2; 0 means 3
	// Brackets is the number of brackets: 0 or 1 is ASHA, k > 1 is
	// asynchronous Hyperband with brackets s = 0…k−1 (k ≤ s_max+1).
	Brackets int
	Seed     uint64 // bracket assignment
	// Weights is how brackets share new trials: RayWeights (the zero
	// value: Ray Tune's softmax of the rung counts) or HyperbandWeights
	// (proportional to the configurations Hyperband's bracket with the same
	// minimum budget starts, ⌈(s_max+1)·η^(s_max−s)/(s_max−s+1)⌉).
	Weights Weights
}

// Weights is how Async Hyperband assigns new trials to brackets
// (Config.Weights).
type Weights int

// Bracket weights.
const (
	RayWeights       Weights = iota // e^(rungs(s) − rungs(0)), normalized (Ray Tune)
	HyperbandWeights                // Hyperband's bracket sizes n_s
)

func (c Config) minBudget() int { return cmp.Or(c.MinBudget, 1) }

func (c Config) eta() int { return cmp.Or(c.Eta, 3) }

func (c Config) brackets() int { return max(c.Brackets, 1) }

// SMax returns ⌊log_η(R/r)⌋ for the configuration: Hyperband's s_max for
// the maximum budget R/r counted in units of r (r·η^k ≤ R exactly when
// η^k ≤ ⌊R/r⌋).
func (c Config) SMax() int { return hyperband.SMax(c.MaxBudget/c.minBudget(), c.eta()) }

// Validate reports budgets < 1, a minimum budget above the maximum, η < 2,
// an unknown mode, or more brackets than s_max+1.
func (c Config) Validate() error {
	switch {
	case c.Mode != Promotion && c.Mode != Stopping:
		return fmt.Errorf("%w: asha mode %d", hpo.ErrInvalid, c.Mode)
	case c.minBudget() < 1:
		return fmt.Errorf("%w: asha min budget (grace period) %d < 1", hpo.ErrInvalid, c.MinBudget)
	case c.MaxBudget < 1:
		return fmt.Errorf("%w: asha max budget %d < 1", hpo.ErrInvalid, c.MaxBudget)
	case c.minBudget() > c.MaxBudget:
		return fmt.Errorf("%w: asha grace period %d > max budget %d", hpo.ErrInvalid, c.minBudget(), c.MaxBudget)
	case c.eta() < 2:
		return fmt.Errorf("%w: asha η = %d < 2", hpo.ErrInvalid, c.Eta)
	case c.Brackets < 0:
		return fmt.Errorf("%w: asha brackets %d < 0", hpo.ErrInvalid, c.Brackets)
	case c.Weights != RayWeights && c.Weights != HyperbandWeights:
		return fmt.Errorf("%w: asha bracket weights %d", hpo.ErrInvalid, c.Weights)
	case c.brackets() > c.SMax()+1:
		return fmt.Errorf("%w: asha brackets %d > s_max+1 = %d", hpo.ErrInvalid, c.Brackets, c.SMax()+1)
	}
	return nil
}

// Rungs returns the rung budgets of bracket s: r·η^(s+k) below R, then R.
func (c Config) Rungs(s int) []int {
	var out []int
	b := c.minBudget()
	for range s {
		b *= c.eta()
	}
	for ; b < c.MaxBudget; b *= c.eta() {
		out = append(out, b)
	}
	return append(out, c.MaxBudget)
}

// rung holds the results recorded at one budget, best first.
type rung struct {
	budget   int
	ids      []hpo.TrialID
	scores   []float64 // metric as a score to maximize, parallel to ids
	promoted map[hpo.TrialID]bool
}

// insert records (id, score) in order: score descending, id ascending.
func (g *rung) insert(id hpo.TrialID, score float64) {
	i := sortIndex(g.scores, g.ids, score, id)
	g.ids = slices.Insert(g.ids, i, id)
	g.scores = slices.Insert(g.scores, i, score)
}

func sortIndex(scores []float64, ids []hpo.TrialID, score float64, id hpo.TrialID) int {
	lo, hi := 0, len(scores)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if scores[m] > score || (scores[m] == score && ids[m] < id) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// promotable returns the best trial of the top ⌊n/η⌋ of the rung that has
// not been promoted yet.
func (g *rung) promotable(eta int) (hpo.TrialID, bool) {
	k := len(g.ids) / eta
	for _, id := range g.ids[:k] {
		if !g.promoted[id] {
			return id, true
		}
	}
	return 0, false
}

// cutoff returns the (1−1/η) quantile of the recorded scores (numpy's
// linear interpolation), and false when nothing is recorded.
func (g *rung) cutoff(eta int) (float64, bool) {
	n := len(g.scores)
	if n == 0 {
		return 0, false
	}
	asc := func(j int) float64 { return g.scores[n-1-j] }
	pos := (1 - 1/float64(eta)) * float64(n-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, n-1)
	return asc(lo) + (asc(hi)-asc(lo))*(pos-float64(lo)), true
}

// Scheduler is ASHA or asynchronous Hyperband; it implements hpo.Scheduler.
type Scheduler struct {
	cfg      Config
	eta      int
	brackets [][]*rung
	cum      []float64 // cumulative bracket weights, normalized
	group    map[hpo.TrialID]int
}

// New validates c and returns the scheduler.
func New(c Config) (*Scheduler, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	s := &Scheduler{cfg: c, eta: c.eta(), group: map[hpo.TrialID]int{}}
	for b := range c.brackets() {
		var rs []*rung
		for _, budget := range c.Rungs(b) {
			rs = append(rs, &rung{budget: budget, promoted: map[hpo.TrialID]bool{}})
		}
		s.brackets = append(s.brackets, rs)
	}
	// Ray Tune's bracket weights: a softmax of the rung counts (bracket 0
	// has the most); or the sizes of Hyperband's brackets, which run from
	// s_max down, so that bracket b has the minimum budget of Hyperband's
	// b-th.
	hb := hyperband.Brackets(c.MaxBudget/c.minBudget(), c.eta())
	var total float64
	for b, rs := range s.brackets {
		if c.Weights == HyperbandWeights {
			total += float64(hb[b].Rounds[0].N)
		} else {
			total += math.Exp(float64(len(rs) - len(s.brackets[0])))
		}
		s.cum = append(s.cum, total)
	}
	for i := range s.cum {
		s.cum[i] /= total
	}
	return s, nil
}

// NewAsyncHyperband is New with every bracket s = 0…s_max when
// c.Brackets is 0.
func NewAsyncHyperband(c Config) (*Scheduler, error) {
	if c.Brackets == 0 && c.Validate() == nil {
		c.Brackets = c.SMax() + 1
	}
	return New(c)
}

// Validate implements hpo.Validator.
func (s *Scheduler) Validate() error { return s.cfg.Validate() }

// Mode returns the scheduler's form (promotion or stopping).
func (s *Scheduler) Mode() Mode { return s.cfg.Mode }

// Bracket returns the bracket a trial id is assigned to.
func (s *Scheduler) Bracket(id hpo.TrialID) int {
	if len(s.cum) == 1 {
		return 0
	}
	u := hpo.Unit(s.cfg.Seed, uint64(id))
	for b, c := range s.cum {
		if u < c {
			return b
		}
	}
	return len(s.cum) - 1
}

// Next implements hpo.Scheduler (ASHA's get_job).
func (s *Scheduler) Next(v hpo.View) hpo.Decision {
	if s.cfg.Mode == Promotion {
		for _, rs := range s.brackets {
			for k := len(rs) - 2; k >= 0; k-- {
				if id, ok := rs[k].promotable(s.eta); ok {
					rs[k].promoted[id] = true
					return hpo.ResumeTrial(id, rs[k+1].budget)
				}
			}
		}
	}
	if id, ok := v.NextTrial(); ok {
		b := s.Bracket(id)
		return hpo.StartTrial(id, s.brackets[b][0].budget, b)
	}
	return hpo.WaitDecision()
}

// Add implements hpo.Scheduler.
func (s *Scheduler) Add(_ hpo.View, t hpo.Trial) {
	s.group[t.ID] = min(max(t.Group, 0), len(s.brackets)-1)
}

// OnResult implements hpo.Scheduler.
func (s *Scheduler) OnResult(v hpo.View, r hpo.Result) hpo.Decision {
	rs := s.brackets[s.group[r.Trial]]
	k := 0
	for k+1 < len(rs) && rs[k+1].budget <= r.Budget {
		k++
	}
	m := v.Metric()
	val, _ := m.Value(r)
	score := m.Score(val)
	g := rs[k]
	top := k == len(rs)-1
	if s.cfg.Mode == Promotion {
		g.insert(r.Trial, score)
		if top {
			return hpo.CompleteTrial(r.Trial)
		}
		return hpo.PauseTrial()
	}
	cut, ok := g.cutoff(s.eta)
	g.insert(r.Trial, score)
	switch {
	case top:
		return hpo.CompleteTrial(r.Trial)
	case ok && score < cut:
		return hpo.StopTrial(r.Trial, fmt.Sprintf("below rung %d cutoff", g.budget))
	}
	return hpo.ContinueTo(rs[k+1].budget)
}

// OnEnd implements hpo.Scheduler: a failed trial is simply never recorded.
func (s *Scheduler) OnEnd(hpo.View, hpo.TrialID, hpo.Status) {}
