// Package pb2 implements population-based bandits.
//
// PB2 (Parker-Holder, Nguyen & Roberts, "Provably Efficient Online
// Hyperparameter Optimization with Population-Based Bandits", NeurIPS 2020)
// is PBT (package pbt: same population, ranking, quantiles, exploit step
// and checkpoint handling) whose explore step, instead of perturbing the
// donor's hyperparameters at random, chooses them with a time-varying
// Gaussian-process bandit, TV-GP-UCB (Bogunovic, Scarlett & Cevher 2016):
//
//   - every finished training interval of a member is a data point: input
//     (t, y_before, h) — the time t (the interval's starting budget in
//     perturbation intervals), the reward y_before of the state it started
//     from, and its modelled hyperparameters h in the unit cube (see below) — and
//     target the reward change per unit time, (y_after − y_before) /
//     (budget_after − budget_before)·Interval;
//   - the GP has the time-varying kernel
//     k = σ²·exp(−‖x−x′‖²/ℓ)·(1−ε)^(|t−t′|/2) over x = (y_before, h), whose
//     σ², ℓ, ε and noise are fitted by maximizing the log marginal
//     likelihood with L-BFGS (gonum/optimize; Cholesky solves with
//     gonum/mat). Targets are standardized, y_before is min-max scaled to
//     [0, 1] over the data and the query, h stays in the unit cube (so log-
//     scale parameters are modelled in log space);
//   - the exploiting member's new h maximizes the upper confidence bound
//     μ(x) + √β_t·σ(x) at the current time and with y_before the donor's
//     reward, over h ∈ [0,1]^d: Candidates random points (and the donor's
//     h) are scored, and L-BFGS (finite-difference gradients) is restarted
//     from the best Restarts of them;
//   - parallel selection: configurations chosen for members whose interval
//     has not finished yet are pending. Following the batch rule PB2 takes
//     from GP-BUCB (Desautels, Krause & Burdick 2014), the posterior mean
//     uses the finished data only while the variance is conditioned on the
//     finished and the pending inputs (hallucinated observations: a GP's
//     variance does not depend on the observed values), so members choosing
//     in the same round are pushed apart where the model is uncertain.
//     With an asynchronous population the batch is "every choice still in
//     flight", which is what the paper's asynchronous experiments do.
//
// β_t = 0.2·d·ln(2t) (the practical schedule of Kandasamy, Schneider &
// Póczos 2015, d the GP's input dimension, t the number of data points + 1)
// unless Beta sets a constant. The data are the MaxData most recent
// intervals (default 100), which bounds the cost of a fit.
//
// The GP models Float, Int and ordered Choice parameters (a batch size, the
// only parameter of the HGD arm) through their unit coordinates: a discrete
// value enters the data as the centre of its cell, and the acquisition's
// maximizer, found over the continuous cube, is rounded to the value whose
// cell holds it (Domain.FromUnit) — the usual relaxation of an ordinal
// parameter. Unordered Choice parameters (and every parameter while fewer
// than two intervals have finished) are explored as in PBT
// (pbt.Perturber): their unit coordinate is only a code, and the paper's
// extension to categorical ones (PB2-Mix, Parker-Holder et al. 2021) is not
// implemented.
package pb2

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/pbt"
	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/optimize"
)

// Config configures PB2. PBT holds the population settings (its Explorer
// must be nil: PB2 supplies it); the zero values of the other fields mean
// the documented defaults.
type Config struct {
	PBT pbt.Config
	// Beta > 0 fixes the UCB exploration weight β; 0 means the schedule
	// β_t = 0.2·d·ln(2t).
	Beta float64
	// MaxData is the number of most recent intervals the GP is fitted to;
	// 0 means 100.
	MaxData int
	// Candidates is the number of random points scored before the local
	// searches; 0 means 256. Restarts is the number of local searches; 0
	// means 4.
	Candidates, Restarts int
}

func (c Config) maxData() int    { return cmp.Or(c.MaxData, 100) }
func (c Config) candidates() int { return cmp.Or(c.Candidates, 256) }
func (c Config) restarts() int   { return cmp.Or(c.Restarts, 4) }

// Validate reports invalid settings, wrapping hpo.ErrInvalid.
func (c Config) Validate() error {
	switch {
	case c.PBT.Explorer != nil:
		return fmt.Errorf("%w: pb2 supplies its own explorer", hpo.ErrInvalid)
	case c.Beta < 0 || math.IsNaN(c.Beta) || math.IsInf(c.Beta, 0):
		return fmt.Errorf("%w: pb2 beta %v", hpo.ErrInvalid, c.Beta)
	case c.MaxData < 0 || c.MaxData == 1:
		return fmt.Errorf("%w: pb2 MaxData %d (want 0 or ≥ 2)", hpo.ErrInvalid, c.MaxData)
	case c.Candidates < 0 || c.Restarts < 0:
		return fmt.Errorf("%w: pb2 candidates %d, restarts %d", hpo.ErrInvalid, c.Candidates, c.Restarts)
	}
	return c.PBT.Validate()
}

// New validates c and returns PBT with the PB2 explore step (a fresh
// scheduler: use one per Run).
func New(c Config) (*pbt.Scheduler, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	pc := c.PBT
	pc.Explorer = NewExplorer(c)
	return pbt.New(pc)
}

// point is one finished (or pending) interval.
type point struct {
	t, before float64
	h         []float64 // modelled hyperparameters in the unit cube
	dy        float64   // reward change per interval
}

// Explorer is PB2's explore step; it implements pbt.Explorer and
// pbt.Observer. Build it with NewExplorer, one per Run.
type Explorer struct {
	cfg     Config
	cont    []int // indices in the space of the GP's (mutable, modelled) parameters
	other   pbt.Perturber
	all     pbt.Perturber
	data    []point
	pending map[hpo.TrialID]point
}

// NewExplorer returns the explore step of c (c is not validated).
func NewExplorer(c Config) *Explorer {
	e := &Explorer{cfg: c, all: c.PBT.Perturber(), pending: map[hpo.TrialID]point{}}
	e.other = e.all
	e.other.Mutable = []string{}
	for i, p := range c.PBT.Space {
		if modelled(p.Domain) && e.all.IsMutable(p.Name) {
			e.cont = append(e.cont, i)
		} else if e.all.IsMutable(p.Name) {
			e.other.Mutable = append(e.other.Mutable, p.Name)
		}
	}
	return e
}

// modelled tells whether the GP models a domain: Float, Int and ordered
// Choice parameters, through their unit coordinate (the centre of a
// discrete value's cell); the chosen coordinate is rounded to the value
// whose cell holds it (Domain.FromUnit).
func modelled(d hpo.Domain) bool {
	switch d := d.(type) {
	case hpo.Float, hpo.Int:
		return true
	case hpo.Choice:
		return d.Ordered
	}
	return false
}

func (e *Explorer) unit(cfg hpo.Config) ([]float64, bool) {
	h := make([]float64, len(e.cont))
	for j, i := range e.cont {
		p := e.cfg.PBT.Space[i]
		u, err := p.Domain.ToUnit(cfg[p.Name])
		if err != nil {
			return nil, false
		}
		h[j] = u
	}
	return h, true
}

func (e *Explorer) interval() float64 { return float64(e.cfg.PBT.Interval) }

// ObserveSegment implements pbt.Observer: a finished interval with a known
// starting reward becomes a data point; the member's pending choice ends.
func (e *Explorer) ObserveSegment(_ hpo.View, s pbt.Segment) {
	delete(e.pending, s.Trial)
	if s.Failed || !s.HasBefore || s.Budget1 <= s.Budget0 || len(e.cont) == 0 {
		return
	}
	h, ok := e.unit(s.Config)
	if !ok {
		return
	}
	e.data = append(e.data, point{
		t: float64(s.Budget0) / e.interval(), before: s.Before, h: h,
		dy: (s.After - s.Before) / float64(s.Budget1-s.Budget0) * e.interval(),
	})
	if n := e.cfg.maxData(); len(e.data) > n {
		e.data = slices.Delete(e.data, 0, len(e.data)-n)
	}
}

// Explore implements pbt.Explorer.
func (e *Explorer) Explore(_ hpo.View, s pbt.Step) (hpo.Config, error) {
	// Non-continuous parameters first, as in PBT (this fixes the order in
	// which the random stream is used).
	perturb := e.other
	if len(e.cont) == 0 || len(e.data) < 2 {
		perturb = e.all
	}
	cfg, err := perturb.Perturb(s.Config, s.Rand)
	if err != nil || len(e.cont) == 0 || len(e.data) < 2 {
		if err == nil {
			e.addPending(s, cfg)
		}
		return cfg, err
	}
	h0, ok := e.unit(s.Config)
	if !ok {
		return nil, fmt.Errorf("%w: donor config %v", hpo.ErrInvalid, s.Config)
	}
	tNow := float64(s.Budget) / e.interval()
	h, err := e.choose(tNow, s.Score, h0, s.Rand)
	if err != nil {
		return nil, err
	}
	for j, i := range e.cont {
		p := e.cfg.PBT.Space[i]
		cfg[p.Name] = p.Domain.FromUnit(h[j])
	}
	e.addPending(s, cfg)
	return cfg, nil
}

func (e *Explorer) addPending(s pbt.Step, cfg hpo.Config) {
	if h, ok := e.unit(cfg); ok {
		e.pending[s.Target] = point{t: float64(s.Budget) / e.interval(), before: s.Score, h: h}
	}
}

// model is the fitted GP of one explore step.
type model struct {
	mean, vari *GP
	lo, span   float64 // y_before scaling
	ym, ys     float64 // target standardization
	beta       float64
}

func (m *model) features(before float64, h []float64) []float64 {
	return append([]float64{(before - m.lo) / m.span}, h...)
}

// ucb is the acquisition μ(x) + √β·σ(x) of the standardized target.
func (m *model) ucb(t, before float64, h []float64) float64 {
	x := m.features(before, h)
	mu, v := m.mean.Predict(x, t)
	if m.vari != m.mean { // pending points condition the variance only
		_, v = m.vari.Predict(x, t)
	}
	return mu + math.Sqrt(m.beta*v)
}

// fit builds the model of the current data (and pending points) for a
// query with reward before.
func (e *Explorer) fit(before float64) (*model, error) {
	m := &model{lo: before, span: 0}
	hi := before
	for _, p := range e.data {
		m.lo, hi = math.Min(m.lo, p.before), math.Max(hi, p.before)
	}
	for _, p := range e.pending {
		m.lo, hi = math.Min(m.lo, p.before), math.Max(hi, p.before)
	}
	m.span = hi - m.lo
	if m.span == 0 {
		m.span = 1
	}
	n := len(e.data)
	x := make([][]float64, n)
	t := make([]float64, n)
	y := make([]float64, n)
	for _, p := range e.data {
		m.ym += p.dy / float64(n)
	}
	for _, p := range e.data {
		m.ys += (p.dy - m.ym) * (p.dy - m.ym) / float64(n)
	}
	m.ys = math.Sqrt(m.ys)
	if m.ys == 0 {
		m.ys = 1
	}
	for i, p := range e.data {
		x[i], t[i], y[i] = m.features(p.before, p.h), p.t, (p.dy-m.ym)/m.ys
	}
	k, err := FitKernel(x, t, y, DefaultKernel, Kernel{Var: 1, Length: 0.1, Eps: 0.01, Noise: 0.01})
	if err != nil {
		return nil, err
	}
	if m.mean, err = NewGP(k, x, t, y); err != nil {
		return nil, err
	}
	m.vari = m.mean
	if len(e.pending) > 0 {
		ids := make([]hpo.TrialID, 0, len(e.pending))
		for id := range e.pending {
			ids = append(ids, id)
		}
		slices.Sort(ids) // map order must not matter
		for _, id := range ids {
			p := e.pending[id]
			x = append(x, m.features(p.before, p.h))
			t = append(t, p.t)
		}
		if m.vari, err = NewGP(k, x, t, nil); err != nil {
			return nil, err
		}
	}
	m.beta = e.cfg.Beta
	if m.beta == 0 {
		d := float64(1 + len(e.cont))
		m.beta = 0.2 * d * math.Log(2*float64(n+1))
	}
	return m, nil
}

// choose maximizes the UCB over h ∈ [0,1]^d at time t for a state with
// reward before; h0 (the donor's) is one of the candidates.
func (e *Explorer) choose(t, before float64, h0 []float64, r *rand.Rand) ([]float64, error) {
	m, err := e.fit(before)
	if err != nil {
		return nil, err
	}
	return maximizeUCB(func(h []float64) float64 { return m.ucb(t, before, h) }, len(h0), h0,
		e.cfg.candidates(), e.cfg.restarts(), r), nil
}

// maximizeUCB maximizes f over [0,1]^d: it scores h0 and n random points,
// then runs L-BFGS from the best `restarts` of them on the unconstrained
// coordinates z with h = (1 + sin z)/2, and returns the best point found.
func maximizeUCB(f func([]float64) float64, d int, h0 []float64, n, restarts int, r *rand.Rand) []float64 {
	type cand struct {
		h []float64
		v float64
	}
	cands := []cand{{slices.Clone(h0), f(h0)}}
	for range n {
		h := make([]float64, d)
		for j := range h {
			h[j] = r.Float64()
		}
		cands = append(cands, cand{h, f(h)})
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return cmp.Compare(b.v, a.v) })
	best := cands[0]
	toH := func(z []float64) []float64 {
		h := make([]float64, d)
		for j := range z {
			h[j] = (1 + math.Sin(z[j])) / 2
		}
		return h
	}
	obj := func(z []float64) float64 { return -f(toH(z)) }
	for _, c := range cands[:min(restarts, len(cands))] {
		z0 := make([]float64, d)
		for j, u := range c.h {
			z0[j] = math.Asin(2*math.Min(math.Max(u, 0), 1) - 1)
		}
		p := optimize.Problem{
			Func: obj,
			Grad: func(grad, z []float64) { fd.Gradient(grad, obj, z, &fd.Settings{Formula: fd.Central}) },
		}
		// A failed local search (its error) just leaves the candidate as scored.
		res, _ := optimize.Minimize(p, z0, &optimize.Settings{MajorIterations: 50, GradientThreshold: 1e-8}, &optimize.LBFGS{})
		if res == nil || res.X == nil {
			continue
		}
		if h := toH(res.X); -res.F > best.v {
			best = cand{h, -res.F}
		}
	}
	return best.h
}
