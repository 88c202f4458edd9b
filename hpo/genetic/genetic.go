// Package genetic implements a genetic algorithm over mixed search spaces,
// as an hpo.Searcher.
//
// A genetic algorithm (Holland 1975; Goldberg, "Genetic Algorithms in
// Search, Optimization and Machine Learning", 1989) evolves a population of
// P configurations. Each generation is produced from the previous one by
//
//   - elitism: the E best individuals survive unchanged (they are not
//     trained again: they stay in the parent pool of the next generation);
//   - tournament selection: each parent is the best of k individuals drawn
//     uniformly, with replacement, from the parent pool;
//   - uniform crossover: with probability CrossoverProb each gene
//     (parameter) of the child comes from either parent with probability ½,
//     otherwise the child copies the first parent;
//   - mutation: each gene mutates with probability MutationProb
//     (Config.Mutation, by default 1/len(Space): one gene per child on
//     average) — Float, Int and ordered Choice genes by adding Gaussian
//     noise N(0, σ²) to their unit-cube coordinate (clamped to [0, 1]),
//     unordered Choice genes by resampling from the prior;
//
// and every child is trained (the scheduler, typically hpo.FIFO, gives every
// trial the same fixed budget); fitness is the trial's latest metric
// value. Generation 0 is drawn from the prior. Failed trials have no
// fitness and are never selected.
//
// Generational mode (the default): trial id belongs to generation id / P.
// Suggest returns hpo.ErrNotReady until every trial of the previous
// generation has ended (the runner then waits for running trials), and the
// parent pool of generation g is generation g−1 plus the E best of the pool
// of generation g−1 (the elites). Generations > 0 caps the number of
// generations (hpo.ErrExhausted afterwards).
//
// Steady-state mode (SteadyState): an asynchronous variant that fills every
// free slot. The first P trials are drawn from the prior; afterwards each
// new trial is bred from the population formed by the P best individuals
// that have finished so far (so a new child replaces the worst when it is
// better: the best E — indeed all P — survive), and ErrNotReady is returned
// only while fewer than two individuals have finished.
//
// Everything random about trial id is drawn from hpo.TrialRand(Seed, id),
// and the searcher reads the population through the View, keeping no state
// of its own; it is therefore deterministic and replays from the journal.
// Ties in fitness are broken by trial id.
//
// The default mutation probability depends on the size of the space: to
// compare searches over spaces that share genes (the same model with and
// without some hyperparameters, say), set Mutation to one value in all of
// them so that the shared genes mutate alike.
package genetic

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/hgdtune/hgdtune/hpo"
)

// Config configures the genetic algorithm. Space and PopulationSize are
// required; zero values mean the documented defaults.
type Config struct {
	Space          hpo.Space
	PopulationSize int // P ≥ 2
	// Generations caps the number of generations (generational mode) or
	// of trials in units of P (steady-state); 0 means no cap.
	Generations int
	Elite       int     // E, survivors per generation; 0 means 1; negative means none
	Tournament  int     // k; 0 means 3
	Crossover   float64 // CrossoverProb; 0 means 0.9; negative means never
	Mutation    float64 // MutationProb per gene, ≤ 1; 0 means 1/len(Space); negative means never
	Sigma       float64 // σ of the unit-cube Gaussian mutation; 0 means 0.1
	SteadyState bool
	Seed        uint64
}

func (c Config) elite() int {
	switch {
	case c.Elite == 0:
		return 1
	case c.Elite < 0:
		return 0
	}
	return c.Elite
}

func (c Config) tournament() int { return cmp.Or(c.Tournament, 3) }

func prob(p, def float64) float64 {
	switch {
	case p == 0:
		return def
	case p < 0:
		return 0
	}
	return p
}

func (c Config) crossover() float64 { return prob(c.Crossover, 0.9) }
func (c Config) mutation() float64 {
	return prob(c.Mutation, 1/float64(max(len(c.Space), 1)))
}
func (c Config) sigma() float64 { return cmp.Or(c.Sigma, 0.1) }

// Validate reports invalid settings, wrapping hpo.ErrInvalid.
func (c Config) Validate() error {
	switch {
	case c.PopulationSize < 2:
		return fmt.Errorf("%w: genetic population size %d < 2", hpo.ErrInvalid, c.PopulationSize)
	case c.Generations < 0:
		return fmt.Errorf("%w: genetic generations %d < 0", hpo.ErrInvalid, c.Generations)
	case c.elite() >= c.PopulationSize:
		return fmt.Errorf("%w: genetic elite %d ≥ population %d", hpo.ErrInvalid, c.Elite, c.PopulationSize)
	case c.Tournament < 0:
		return fmt.Errorf("%w: genetic tournament size %d < 0", hpo.ErrInvalid, c.Tournament)
	case c.crossover() > 1 || c.mutation() > 1 || math.IsNaN(c.Crossover) || math.IsNaN(c.Mutation):
		return fmt.Errorf("%w: genetic probabilities %v, %v", hpo.ErrInvalid, c.Crossover, c.Mutation)
	case c.Sigma < 0 || math.IsNaN(c.Sigma) || math.IsInf(c.Sigma, 0):
		return fmt.Errorf("%w: genetic sigma %v", hpo.ErrInvalid, c.Sigma)
	}
	return c.Space.Validate()
}

// Searcher is the genetic algorithm; it implements hpo.Searcher.
type Searcher struct{ cfg Config }

// New validates c and returns the searcher.
func New(c Config) (*Searcher, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &Searcher{cfg: c}, nil
}

// Validate implements hpo.Validator.
func (s *Searcher) Validate() error { return s.cfg.Validate() }

// MutationProb returns the probability with which each gene of a child
// mutates: Config.Mutation with its default applied (0 when negative).
func (s *Searcher) MutationProb() float64 { return s.cfg.mutation() }

// Observe implements hpo.Searcher; the searcher reads results from the View.
func (s *Searcher) Observe(hpo.View, hpo.Result, hpo.Status) {}

// individual is an evaluated trial.
type individual struct {
	id    hpo.TrialID
	cfg   hpo.Config
	score float64
}

func better(a, b individual) int {
	if c := cmp.Compare(b.score, a.score); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// evaluate returns trial id as an individual: ended is false while it may
// still train, ok is false if it has no fitness.
func evaluate(v hpo.View, id hpo.TrialID) (ind individual, ended, ok bool) {
	t, exists := v.Trial(id)
	if !exists || !t.Status.Terminal() && t.Status != hpo.Paused {
		return individual{}, false, false
	}
	r, has := t.Last()
	val, finite := v.Metric().Value(r)
	if t.Status == hpo.Failed || !has || !finite {
		return individual{}, true, false
	}
	return individual{id: id, cfg: t.Config, score: v.Metric().Score(val)}, true, true
}

// Suggest implements hpo.Searcher.
func (s *Searcher) Suggest(v hpo.View, id hpo.TrialID) (hpo.Config, error) {
	P := s.cfg.PopulationSize
	if s.cfg.Generations > 0 && int(id) >= s.cfg.Generations*P {
		return nil, hpo.ErrExhausted
	}
	r := hpo.TrialRand(s.cfg.Seed, id)
	if int(id) < P {
		return s.cfg.Space.Sample(r), nil
	}
	var pool []individual
	if s.cfg.SteadyState {
		for j := range id {
			if ind, _, ok := evaluate(v, j); ok {
				pool = append(pool, ind)
			}
		}
		slices.SortFunc(pool, better)
		pool = pool[:min(P, len(pool))]
		if len(pool) < 2 {
			return nil, hpo.ErrNotReady
		}
	} else {
		g := int(id) / P
		var err error
		if pool, err = s.pool(v, g); err != nil {
			return nil, err
		}
		if len(pool) == 0 { // the whole previous generation failed
			return s.cfg.Space.Sample(r), nil
		}
	}
	return s.breed(pool, r)
}

// pool returns the parent pool of generation g ≥ 1, best first: generation
// g−1 and the elites of the pool of g−1.
func (s *Searcher) pool(v hpo.View, g int) ([]individual, error) {
	P := s.cfg.PopulationSize
	var pool []individual
	for gen := 0; gen < g; gen++ {
		var next []individual
		for j := gen * P; j < (gen+1)*P; j++ {
			ind, ended, ok := evaluate(v, hpo.TrialID(j))
			if !ended {
				return nil, hpo.ErrNotReady
			}
			if ok {
				next = append(next, ind)
			}
		}
		next = append(next, pool[:min(s.cfg.elite(), len(pool))]...)
		slices.SortFunc(next, better)
		pool = next
	}
	return pool, nil
}

// breed makes one child from the pool: two tournaments, uniform crossover,
// mutation. It draws a fixed number of values from r per gene.
func (s *Searcher) breed(pool []individual, r *rand.Rand) (hpo.Config, error) {
	tour := func() individual {
		best := pool[r.IntN(len(pool))]
		for range s.cfg.tournament() - 1 {
			if c := pool[r.IntN(len(pool))]; better(c, best) < 0 {
				best = c
			}
		}
		return best
	}
	a, b := tour(), tour()
	cross := r.Float64() < s.cfg.crossover()
	child := make(hpo.Config, len(s.cfg.Space))
	for _, p := range s.cfg.Space {
		fromB := r.Float64() < 0.5
		mutate := r.Float64() < s.cfg.mutation()
		noise := r.NormFloat64() * s.cfg.sigma()
		resample := r.Float64()
		v := a.cfg[p.Name]
		if cross && fromB {
			v = b.cfg[p.Name]
		}
		if mutate {
			if c, ok := p.Domain.(hpo.Choice); ok && !c.Ordered {
				v = p.Domain.FromUnit(resample)
			} else {
				u, err := p.Domain.ToUnit(v)
				if err != nil {
					return nil, fmt.Errorf("parameter %q: %w", p.Name, err)
				}
				v = p.Domain.FromUnit(u + noise)
			}
		}
		child[p.Name] = v
	}
	return child, nil
}
