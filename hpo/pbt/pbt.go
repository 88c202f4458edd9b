// Package pbt implements population-based training.
//
// PBT (Jaderberg, Dalibard, Osindero, Czarnecki, Donahue, Razavi, Vinyals,
// Green, Dunning, Simonyan, Fernando & Kavukcuoglu, "Population Based
// Training of Neural Networks", arXiv:1711.09846, 2017) trains a population
// of N models in parallel, each with its own hyperparameters h and weights
// θ. Each member repeatedly runs step (train θ with h), eval (measure its
// performance p), and, when ready (every perturbation interval),
//
//	if the member is in the bottom quantile of the population by p:
//	    exploit: copy θ (weights and optimizer state) and h of a member
//	             drawn uniformly from the top quantile ("truncation selection")
//	    explore: perturb the copied h (×0.8 or ×1.2, or resample)
//	continue training.
//
// Here a member is a trial; "ready" is every Interval training iterations
// of budget; members train to MaxBudget and then complete. The population
// is ranked by each member's latest score (the score of its current state:
// after an exploit, the donor's), ties by trial id; with n ranked members
// the bottom and top quantiles have ⌈Quantile·n⌉ members (at most ⌊n/2⌋).
// Donors are the top-quantile members whose latest checkpoint is below
// MaxBudget, at most one Interval behind the exploiting member's budget, and
// not one this member copied before: a member goes back in training time
// by at most one interval, and a fast member cannot loop by copying a slow
// donor's checkpoint again and again (each copy needs a new checkpoint).
// When no member of the top quantile qualifies the member just continues.
// The donor is drawn with hpo.Unit from (seed, member, budget, exploit
// count); the explore step (Perturber by default, see its documentation:
// values stay in their domains and log-scale parameters move in log space)
// draws from a source derived in the same way, so the scheduler is a
// deterministic function of its calls and replays from the journal. Every
// exploit is an hpo.Exploit decision, which the runner journals (target,
// donor, the new configuration; the old one is the trial's previous
// configuration in the journal) together with a "checkpoint" event naming
// the copy; the runner copies the donor's latest checkpoint synchronously
// when it carries out the decision, so a donor's checkpoint can never be
// deleted before it is copied and no reference counting is needed.
//
// The scheduler is asynchronous like PBT's workers: a member decides as
// soon as it reports. When fewer slots than members exist, a reporting
// member pauses while another member waits — an unstarted member or a
// paused member at a lower budget — and the paused member with the lowest
// budget resumes first (its exploit/explore decision is then taken when it
// resumes), so the population advances together; with at least N slots
// members never pause and keep their trainables in memory.
//
// A member that fails (a diverging configuration, a trainable error) is
// replaced so that the population keeps its size: Next starts a new trial
// in its slot (same Group) that exploits a top-quantile member with a
// checkpoint — it starts from the donor's latest checkpoint with a
// configuration from the explore step, exactly as an exploit would
// (hpo.InheritTrial, journaled as a start decision with a donor and a
// "checkpoint" copy). With no donor yet it waits for one; at most one
// replacement per member and interval is made over a run.
//
// HGD: when the optimizer adapts its learning rate and momentum
// (hypergradient descent), whether an exploit copies the donor's adapted α
// and γ with its optimizer state or resets them to the new configuration's
// initial values is the trainable's policy (cifar/trainer: Config.OnExploit),
// not the scheduler's: PBT only decides which checkpoint is copied.
//
// Package pb2 reuses this scheduler with a GP-bandit Explorer.
package pbt

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/hgdtune/hgdtune/hpo"
)

// Config configures PBT. Space, PopulationSize, Interval and MaxBudget are
// required; the zero values of the other fields mean the documented
// defaults.
type Config struct {
	// Space is the search space (the Explorer's default Perturber uses it).
	Space hpo.Space
	// PopulationSize is N ≥ 2, the number of trials.
	PopulationSize int
	// Interval is the perturbation interval in training iterations ≥ 1.
	Interval int
	// MaxBudget is the budget at which members complete (≥ Interval).
	MaxBudget int
	// Quantile is the fraction of the population in the bottom (exploiting)
	// and top (donor) quantiles, in (0, 0.5]; 0 means 0.25.
	Quantile float64
	// ResampleProb, Factors and Mutable configure the default Perturber
	// (0.25, {0.8, 1.2}, every parameter).
	ResampleProb float64
	Factors      [2]float64
	Mutable      []string
	// Initial optionally gives the configurations of the first members (at
	// most N); the others come from the experiment's searcher.
	Initial []hpo.Config
	// Seed seeds donor choices and the explore step.
	Seed uint64
	// Explorer replaces the explore step; nil means the Perturber above.
	Explorer Explorer
}

func (c Config) quantile() float64 { return cmp.Or(c.Quantile, 0.25) }

// Perturber returns the default explore step of c.
func (c Config) Perturber() Perturber {
	return Perturber{Space: c.Space, ResampleProb: c.ResampleProb, Factors: c.Factors, Mutable: c.Mutable}
}

// Validate reports missing or out-of-range settings, wrapping hpo.ErrInvalid.
func (c Config) Validate() error {
	switch {
	case c.PopulationSize < 2:
		return fmt.Errorf("%w: pbt population size %d < 2", hpo.ErrInvalid, c.PopulationSize)
	case c.Interval < 1:
		return fmt.Errorf("%w: pbt interval %d < 1", hpo.ErrInvalid, c.Interval)
	case c.MaxBudget < c.Interval:
		return fmt.Errorf("%w: pbt max budget %d < interval %d", hpo.ErrInvalid, c.MaxBudget, c.Interval)
	case !(c.quantile() > 0 && c.quantile() <= 0.5):
		return fmt.Errorf("%w: pbt quantile %v not in (0, 0.5]", hpo.ErrInvalid, c.Quantile)
	case len(c.Initial) > c.PopulationSize:
		return fmt.Errorf("%w: pbt has %d initial configs for a population of %d", hpo.ErrInvalid, len(c.Initial), c.PopulationSize)
	}
	if err := c.Perturber().Validate(); err != nil {
		return err
	}
	for i, cfg := range c.Initial {
		if _, err := c.Space.Normalize(cfg); err != nil {
			return fmt.Errorf("pbt initial config %d: %w", i, err)
		}
	}
	if v, ok := c.Explorer.(hpo.Validator); ok {
		return v.Validate()
	}
	return nil
}

// member is the scheduler's record of one trial.
type member struct {
	id       hpo.TrialID
	score    float64 // score of the current state
	scored   bool
	terminal bool
	due      bool // paused at a perturbation point, decision pending
	exploits int
	group    int  // the population slot (Trial.Group)
	replaced bool // failed, and a replacement was started for it
	// replacement: started by replace; reported: has had a result.
	replacement, reported bool
	seg                   Segment         // the segment being trained
	copied                map[string]bool // donor checkpoints already copied
}

// Scheduler is PBT; it implements hpo.Scheduler.
type Scheduler struct {
	cfg      Config
	explorer Explorer
	members  []*member
	byID     map[hpo.TrialID]*member
	// inherit is the replacement being started (set by Next, used by Add).
	inherit      *member
	replacements int
	// failStreak counts the replacements that failed before their first
	// result since a replacement last reported one.
	failStreak int
}

// cannotRecover reports whether a population's worth of replacements in a
// row failed before their first result: replacing goes no further.
func (s *Scheduler) cannotRecover() bool { return s.failStreak >= s.cfg.PopulationSize }

// maxReplacements bounds the replacements of failed members over a run (one
// per member and perturbation interval); cannotRecover stops them sooner,
// once a population's worth in a row failed before their first result, so
// that a population whose replacements keep failing ends, saying so.
func (s *Scheduler) maxReplacements() int {
	return s.cfg.PopulationSize * ((s.cfg.MaxBudget + s.cfg.Interval - 1) / s.cfg.Interval)
}

// New validates c and returns a fresh scheduler (use one per Run).
func New(c Config) (*Scheduler, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	s := &Scheduler{cfg: c, explorer: c.Explorer, byID: map[hpo.TrialID]*member{}}
	if s.explorer == nil {
		s.explorer = c.Perturber()
	}
	return s, nil
}

// Validate implements hpo.Validator.
func (s *Scheduler) Validate() error { return s.cfg.Validate() }

// Next implements hpo.Scheduler: start the population, replace failed
// members, resume paused members (lowest budget first), then finish when
// every member has ended.
func (s *Scheduler) Next(v hpo.View) hpo.Decision {
	if len(s.members) < s.cfg.PopulationSize {
		if id, ok := v.NextTrial(); ok {
			d := hpo.StartTrial(id, s.cfg.Interval, len(s.members))
			if i := len(s.members); i < len(s.cfg.Initial) {
				d.Config = s.cfg.Initial[i]
			}
			return d
		}
	}
	if d, ok := s.replace(v); ok {
		return d
	}
	var pick *member
	var pickBudget int
	for _, m := range s.members {
		if !m.due {
			continue
		}
		t, _ := v.Trial(m.id)
		if pick == nil || t.Budget < pickBudget {
			pick, pickBudget = m, t.Budget
		}
	}
	if pick != nil {
		pick.due = false
		return s.decide(v, pick, false)
	}
	for _, m := range s.members {
		if !m.terminal {
			return hpo.WaitDecision()
		}
	}
	if len(s.members) > 0 && s.cannotRecover() {
		return hpo.FinishDecision(fmt.Sprintf("pbt: population cannot recover: the last %d replacements of failed members failed before their first result", s.failStreak))
	}
	if len(s.members) > 0 {
		return hpo.FinishDecision("population done")
	}
	return hpo.WaitDecision()
}

// Add implements hpo.Scheduler.
func (s *Scheduler) Add(_ hpo.View, t hpo.Trial) {
	m := &member{id: t.ID, group: t.Group, seg: Segment{Trial: t.ID, Config: t.Config}, copied: map[string]bool{}}
	if r := s.inherit; r != nil && r.id == t.ID { // a replacement, started from a donor
		m.score, m.scored, m.seg, m.replacement = r.score, true, r.seg, true
		s.inherit = nil
	}
	s.members = append(s.members, m)
	s.byID[t.ID] = m
}

// replace starts a replacement for a failed member, so that the population
// keeps its size: a new trial in the failed member's slot (Group) that
// exploits a top-quantile member — it starts from the donor's latest
// checkpoint with a configuration from the explore step, as an exploit
// would (hpo.InheritTrial). Without a donor yet it waits; once no member
// is left running, there is nobody to copy and the slot stays empty.
func (s *Scheduler) replace(v hpo.View) (hpo.Decision, bool) {
	var failed *member
	for _, m := range s.members {
		if m.terminal && !m.scored && !m.replaced && m.seg.Failed {
			failed = m
			break
		}
	}
	if failed == nil || s.replacements >= s.maxReplacements() || s.cannotRecover() {
		return hpo.Decision{}, false
	}
	id, ok := v.NextTrial()
	if !ok {
		return hpo.Decision{}, false
	}
	rk := s.ranked()
	k := min(max(int(math.Ceil(s.cfg.quantile()*float64(len(rk)))), 1), len(rk))
	var donors []*member
	var dts []hpo.Trial
	for _, d := range rk[:k] {
		dt, _ := v.Trial(d.id)
		if dt.Checkpoint != "" && dt.CheckpointBudget < s.cfg.MaxBudget && dt.Status != hpo.Failed {
			donors = append(donors, d)
			dts = append(dts, dt)
		}
	}
	if len(donors) == 0 {
		return hpo.Decision{}, false
	}
	seed := []uint64{uint64(id), uint64(failed.id), 7}
	i := min(int(hpo.Unit(s.cfg.Seed, append(seed, 1)...)*float64(len(donors))), len(donors)-1)
	donor, dt := donors[i], dts[i]
	rng := rand.New(rand.NewPCG(hpo.Mix(s.cfg.Seed, append(seed, 2)...), hpo.Mix(s.cfg.Seed, append(seed, 3)...)))
	step := Step{Target: id, Donor: donor.id, Budget: dt.CheckpointBudget, Score: donor.score, Config: dt.Config, Rand: rng}
	cfg, err := s.explorer.Explore(v, step)
	reason := fmt.Sprintf("pbt: trial %d replaces failed trial %d, exploiting trial %d (score %.6g)", id, failed.id, donor.id, donor.score)
	if err != nil {
		cfg = dt.Config
		reason += "; explore failed: " + err.Error()
	}
	failed.replaced = true
	s.replacements++
	s.inherit = &member{id: id, score: donor.score,
		seg: Segment{Trial: id, Budget0: dt.CheckpointBudget, Before: donor.score, HasBefore: true, Config: cfg}}
	d := hpo.InheritTrial(id, donor.id, cfg, min(dt.CheckpointBudget+s.cfg.Interval, s.cfg.MaxBudget), failed.group)
	d.Reason = reason
	return d, true
}

// OnResult implements hpo.Scheduler.
func (s *Scheduler) OnResult(v hpo.View, r hpo.Result) hpo.Decision {
	m := s.byID[r.Trial]
	if m == nil { // not a member (should not happen)
		return hpo.StopTrial(r.Trial, "not a pbt member")
	}
	if m.replacement && !m.reported {
		s.failStreak = 0
	}
	m.reported = true
	val, _ := v.Metric().Value(r)
	m.score, m.scored = v.Metric().Score(val), true
	seg := m.seg
	seg.Budget1, seg.After = r.Budget, m.score
	if o, ok := s.explorer.(Observer); ok {
		o.ObserveSegment(v, seg)
	}
	if r.Budget >= s.cfg.MaxBudget {
		m.terminal = true
		return hpo.CompleteTrial(r.Trial)
	}
	if s.someoneWaits(v, m, r.Budget) {
		m.due = true
		return hpo.PauseTrial()
	}
	return s.decide(v, m, true)
}

// someoneWaits reports whether another member should run before m goes on:
// an unstarted member, or a paused one at a lower budget.
func (s *Scheduler) someoneWaits(v hpo.View, m *member, budget int) bool {
	if len(s.members) < s.cfg.PopulationSize {
		if _, ok := v.NextTrial(); ok {
			return true
		}
	}
	for _, o := range s.members {
		if o != m && o.due {
			if t, _ := v.Trial(o.id); t.Budget < budget {
				return true
			}
		}
	}
	return false
}

// OnEnd implements hpo.Scheduler: a failed member leaves the population,
// and Next replaces it (see replace).
func (s *Scheduler) OnEnd(v hpo.View, id hpo.TrialID, _ hpo.Status) {
	m := s.byID[id]
	if m == nil {
		return
	}
	if m.replacement && !m.reported && !m.terminal {
		s.failStreak++
	}
	m.terminal, m.due, m.scored = true, false, false
	m.seg.Failed = true
	seg := m.seg
	if o, ok := s.explorer.(Observer); ok {
		o.ObserveSegment(v, seg)
	}
}

// Ranked returns the members with a score, best first (ties by id).
func (s *Scheduler) ranked() []*member {
	var out []*member
	for _, m := range s.members {
		if m.scored {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b *member) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	return out
}

// decide takes the perturbation decision of member m at its current budget:
// exploit and explore if it is in the bottom quantile, else go on.
func (s *Scheduler) decide(v hpo.View, m *member, fromResult bool) hpo.Decision {
	t, _ := v.Trial(m.id)
	goOn := func() hpo.Decision {
		until := min(t.Budget+s.cfg.Interval, s.cfg.MaxBudget)
		m.seg = Segment{Trial: m.id, Budget0: t.Budget, Before: m.score, HasBefore: m.scored, Config: t.Config}
		if fromResult {
			return hpo.ContinueTo(until)
		}
		return hpo.ResumeTrial(m.id, until)
	}
	rk := s.ranked()
	n := len(rk)
	if n < 2 || !m.scored {
		return goOn()
	}
	k := min(max(int(math.Ceil(s.cfg.quantile()*float64(n))), 1), n/2)
	if !slices.Contains(rk[n-k:], m) {
		return goOn()
	}
	var donors []*member
	var dts []hpo.Trial
	for _, d := range rk[:k] {
		dt, _ := v.Trial(d.id)
		if d != m && dt.Checkpoint != "" && dt.CheckpointBudget >= t.Budget-s.cfg.Interval &&
			dt.CheckpointBudget < s.cfg.MaxBudget && dt.Status != hpo.Failed && !m.copied[dt.Checkpoint] {
			donors = append(donors, d)
			dts = append(dts, dt)
		}
	}
	if len(donors) == 0 {
		return goOn()
	}
	seed := []uint64{uint64(m.id), uint64(t.Budget), uint64(m.exploits)}
	i := min(int(hpo.Unit(s.cfg.Seed, append(seed, 1)...)*float64(len(donors))), len(donors)-1)
	donor, dt := donors[i], dts[i]
	rng := rand.New(rand.NewPCG(hpo.Mix(s.cfg.Seed, append(seed, 2)...), hpo.Mix(s.cfg.Seed, append(seed, 3)...)))
	m.exploits++
	m.copied[dt.Checkpoint] = true
	step := Step{Target: m.id, Donor: donor.id, Budget: dt.CheckpointBudget, Score: donor.score, Config: dt.Config, Rand: rng}
	cfg, err := s.explorer.Explore(v, step)
	reason := fmt.Sprintf("pbt: exploit trial %d (score %.6g) from trial %d (score %.6g)", m.id, m.score, donor.id, donor.score)
	if err != nil {
		cfg = dt.Config
		reason += "; explore failed: " + err.Error()
	}
	m.score = donor.score
	m.seg = Segment{Trial: m.id, Budget0: dt.CheckpointBudget, Before: donor.score, HasBefore: true, Config: cfg}
	d := hpo.ExploitTrial(m.id, donor.id, cfg, min(dt.CheckpointBudget+s.cfg.Interval, s.cfg.MaxBudget))
	d.Reason = reason
	return d
}
