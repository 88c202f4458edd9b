// Package hyperband implements synchronous Hyperband.
//
// Hyperband (Li, Jamieson, DeSalvo, Rostamizadeh & Talwalkar, "Hyperband: A
// Novel Bandit-Based Approach to Hyperparameter Optimization", JMLR 18(185),
// 2017) runs successive halving over several brackets that trade the number
// of configurations against the budget each gets. With maximum budget R
// (per configuration, in units of the minimum budget) and reduction
// factor η:
//
//	s_max = ⌊log_η R⌋,  B = (s_max+1)·R
//	for s = s_max, s_max−1, …, 0:                      (one bracket each)
//	    n = ⌈B/R · η^s/(s+1)⌉,  r = R·η^(−s)
//	    T = n configurations from the searcher
//	    for i = 0, …, s:                               (successive halving)
//	        n_i = ⌊n·η^(−i)⌋,  r_i = r·η^i
//	        train every configuration of T to budget r_i, observe the losses
//	        T = the top ⌊n_i/η⌋ configurations of T
//
// For R = 81, η = 3 the brackets are (n_i, r_i) = (81,1)(27,3)(9,9)(3,27)(1,81);
// (34,3)(11,9)(3,27)(1,81); (15,9)(5,27)(1,81); (8,27)(2,81); (5,81).
//
// This implementation is synchronous, as in the paper: the brackets run one
// after the other, and a round of successive halving is promoted only when
// all of its trials have reported (slots may idle while the last trials of a
// round finish). Trials pause after each round; promoted trials resume from
// their checkpoints (the runner restores them) and train to the next,
// larger cumulative budget; the others are stopped. Trials that fail count
// in n_i but are never promoted. Budgets are integers: r_i = ⌊R·η^(i−s)⌋,
// exact when R is a power of η. When the searcher or the trial budget runs
// out in the middle of a bracket's first round, that round continues with
// the trials it has. A trial's Group is its bracket s.
package hyperband

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/hgdtune/hgdtune/hpo"
)

// Config configures Hyperband. MaxBudget is required.
type Config struct {
	MaxBudget int // R, in training iterations; ≥ 1
	Eta       int // η ≥ 2; 0 means 3
	// Loops is the number of complete Hyperband iterations (all brackets);
	// 0 means 1, a negative value repeats until the runner's budgets end.
	Loops int
}

func (c Config) eta() int { return cmp.Or(c.Eta, 3) }

// Validate reports R < 1 or η < 2.
func (c Config) Validate() error {
	if c.MaxBudget < 1 {
		return fmt.Errorf("%w: hyperband max budget %d < 1", hpo.ErrInvalid, c.MaxBudget)
	}
	if c.eta() < 2 {
		return fmt.Errorf("%w: hyperband η = %d < 2", hpo.ErrInvalid, c.Eta)
	}
	return nil
}

// Round is one round of successive halving: N trials trained to Budget.
type Round struct{ N, Budget int }

// Bracket is one bracket s of Hyperband and its rounds.
type Bracket struct {
	S      int
	Rounds []Round
}

// SMax returns ⌊log_η R⌋, computed exactly in integers.
func SMax(R, eta int) int {
	s := 0
	for p := eta; p <= R; p *= eta {
		s++
	}
	return s
}

func pow(b, e int) int {
	p := 1
	for range e {
		p *= b
	}
	return p
}

// Brackets returns Hyperband's brackets for maximum budget R and η, in the
// order they run (s = s_max, …, 0), with the paper's arithmetic.
func Brackets(R, eta int) []Bracket {
	smax := SMax(R, eta)
	out := make([]Bracket, 0, smax+1)
	for s := smax; s >= 0; s-- {
		es := pow(eta, s)
		n := ((smax+1)*es + s) / (s + 1) // ⌈(s_max+1)·η^s/(s+1)⌉ = ⌈B/R·η^s/(s+1)⌉
		b := Bracket{S: s}
		for i := 0; i <= s; i++ {
			ei := pow(eta, i)
			b.Rounds = append(b.Rounds, Round{N: n / ei, Budget: max(1, R*ei/es)})
		}
		out = append(out, b)
	}
	return out
}

// Scheduler is synchronous Hyperband; it implements hpo.Scheduler.
type Scheduler struct {
	cfg      Config
	eta      int
	brackets []Bracket

	loop, b, round int
	started        int  // trials added to round 0 of the current bracket
	closed         bool // round 0 gets no more trials
	done           bool
	members        []hpo.TrialID
	pending        map[hpo.TrialID]bool
	scores         map[hpo.TrialID]float64
	queue          []hpo.Decision
}

// New validates c and returns a Hyperband scheduler.
func New(c Config) (*Scheduler, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	s := &Scheduler{cfg: c, eta: c.eta(), brackets: Brackets(c.MaxBudget, c.eta())}
	s.resetRound()
	return s, nil
}

// Validate implements hpo.Validator.
func (s *Scheduler) Validate() error { return s.cfg.Validate() }

func (s *Scheduler) resetRound() {
	s.members = nil
	s.pending = map[hpo.TrialID]bool{}
	s.scores = map[hpo.TrialID]float64{}
}

func (s *Scheduler) bracket() Bracket { return s.brackets[s.b] }

// Next implements hpo.Scheduler.
func (s *Scheduler) Next(v hpo.View) hpo.Decision {
	for {
		if len(s.queue) > 0 {
			d := s.queue[0]
			s.queue = s.queue[1:]
			return d
		}
		if s.done {
			return hpo.FinishDecision("hyperband done")
		}
		br := s.bracket()
		if s.round != 0 || s.closed || s.started >= br.Rounds[0].N {
			return hpo.WaitDecision()
		}
		if id, ok := v.NextTrial(); ok {
			return hpo.StartTrial(id, br.Rounds[0].Budget, br.S)
		}
		if len(s.pending) > 0 {
			return hpo.WaitDecision()
		}
		// No more trials can start and none is running: close the round.
		if s.started == 0 {
			s.done = true
			continue
		}
		s.closed = true
		s.advance()
	}
}

// Add implements hpo.Scheduler.
func (s *Scheduler) Add(_ hpo.View, t hpo.Trial) {
	s.members = append(s.members, t.ID)
	s.pending[t.ID] = true
	s.started++
}

// OnResult implements hpo.Scheduler.
func (s *Scheduler) OnResult(v hpo.View, r hpo.Result) hpo.Decision {
	if !s.pending[r.Trial] {
		return hpo.StopTrial(r.Trial, "not in the current round")
	}
	delete(s.pending, r.Trial)
	m := v.Metric()
	val, _ := m.Value(r)
	s.scores[r.Trial] = m.Score(val)
	d := hpo.PauseTrial()
	if s.round == s.bracket().S {
		d = hpo.CompleteTrial(r.Trial)
	}
	s.maybeAdvance()
	return d
}

// OnEnd implements hpo.Scheduler.
func (s *Scheduler) OnEnd(_ hpo.View, id hpo.TrialID, _ hpo.Status) {
	if s.pending[id] {
		delete(s.pending, id)
		s.maybeAdvance()
	}
}

func (s *Scheduler) maybeAdvance() {
	if len(s.pending) > 0 {
		return
	}
	if s.round == 0 && !s.closed && s.started < s.bracket().Rounds[0].N {
		return
	}
	s.advance()
}

// advance ends the current round: it promotes the top ⌊n_i/η⌋ trials to
// the next round and stops the rest, or moves to the next bracket.
func (s *Scheduler) advance() {
	br := s.bracket()
	ranked := make([]hpo.TrialID, 0, len(s.scores))
	for _, id := range s.members {
		if _, ok := s.scores[id]; ok {
			ranked = append(ranked, id)
		}
	}
	slices.SortFunc(ranked, func(a, b hpo.TrialID) int {
		if c := cmp.Compare(s.scores[b], s.scores[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	k := 0
	if s.round < br.S {
		k = min(len(s.members)/s.eta, len(ranked))
	}
	for _, id := range ranked[k:] {
		if s.round < br.S { // last-round trials are already complete
			s.queue = append(s.queue, hpo.StopTrial(id, fmt.Sprintf("hyperband bracket %d round %d", br.S, s.round)))
		}
	}
	if k == 0 {
		s.nextBracket()
		return
	}
	s.round++
	s.resetRound()
	for _, id := range ranked[:k] {
		s.members = append(s.members, id)
		s.pending[id] = true
		s.queue = append(s.queue, hpo.ResumeTrial(id, br.Rounds[s.round].Budget))
	}
}

func (s *Scheduler) nextBracket() {
	s.b++
	if s.b == len(s.brackets) {
		s.b = 0
		s.loop++
		loops := s.cfg.Loops
		if loops == 0 {
			loops = 1
		}
		if loops > 0 && s.loop >= loops {
			s.done = true
		}
	}
	s.round, s.started, s.closed = 0, 0, false
	s.resetRound()
}
