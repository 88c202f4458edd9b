package pbt

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/hgdtune/hgdtune/hpo"
)

// Step describes one explore step: member Target copies the checkpoint of
// member Donor (at the donor's checkpoint Budget, whose metric score — the
// metric as a quantity to maximize — is Score) and needs a new
// configuration near the donor's Config. Rand is a random source derived
// from (seed, target, budget, exploit count): use it and nothing else.
type Step struct {
	Target, Donor hpo.TrialID
	Budget        int
	Score         float64
	Config        hpo.Config
	Rand          *rand.Rand
}

// Explorer chooses the configuration of an exploiting member (PBT's explore
// step). Like schedulers, explorers are called from the runner's goroutine
// only and must be deterministic functions of their calls. An error makes
// the member copy the donor's configuration unchanged (the error is
// journaled as the decision's reason).
type Explorer interface {
	Explore(v hpo.View, s Step) (hpo.Config, error)
}

// Segment is one training interval of a member, from Budget0 (at which its
// state had score Before, or no score for a member's first interval) to
// Budget1 (score After) under Config. Failed segments have no After.
type Segment struct {
	Trial            hpo.TrialID
	Budget0, Budget1 int
	Before, After    float64 // metric scores (to maximize)
	HasBefore        bool    // false for the first interval of a member
	Failed           bool
	Config           hpo.Config
}

// Observer is an optional Explorer capability: it is told of every
// completed (or failed) segment before the scheduler decides what the
// member does next. PB2 builds its GP data from segments.
type Observer interface {
	ObserveSegment(v hpo.View, s Segment)
}

// Perturber is PBT's explore step (Jaderberg et al. 2017, "perturb" with
// Ray Tune-style resampling), kept inside the domains:
//
//   - every mutable parameter is resampled from its prior with probability
//     ResampleProb (default 0.25); otherwise
//   - a linear Float is multiplied by 0.8 or 1.2 (Factors), each with
//     probability ½; a value of exactly 0, which no factor moves, is
//     resampled instead;
//   - a log-scale Float moves in log space: ln v ± ½·ln(F₁/F₀), that is
//     ×1.2247 or ÷1.2247 for the default factors — a symmetric random walk
//     in log space with the same spread as {0.8, 1.2}, without the drift of
//     ×0.8·×1.2 = 0.96;
//   - an Int moves one step, +1 or −1;
//   - an ordered Choice moves to a neighbouring value;
//   - an unordered Choice has no neighbours: it keeps the donor's value
//     (it is only resampled, with probability ResampleProb);
//   - results are clamped into the domain; a step that would leave an Int or
//     ordered Choice domain goes the other way (reflection).
//
// Parameters not in Mutable (nil means all) keep the donor's values:
// architecture parameters that a restored checkpoint fixes belong outside
// Mutable.
type Perturber struct {
	Space        hpo.Space
	ResampleProb float64    // 0 means 0.25; negative means never resample
	Factors      [2]float64 // 0 means {0.8, 1.2}; 0 < F₀ < 1 < F₁
	Mutable      []string   // nil means every parameter
}

func (p Perturber) resampleProb() float64 {
	switch {
	case p.ResampleProb == 0:
		return 0.25
	case p.ResampleProb < 0:
		return 0
	}
	return p.ResampleProb
}

func (p Perturber) factors() [2]float64 {
	if p.Factors == [2]float64{} {
		return [2]float64{0.8, 1.2}
	}
	return p.Factors
}

// Validate checks the space, the probability, the factors and that every
// Mutable name is a parameter.
func (p Perturber) Validate() error {
	if err := p.Space.Validate(); err != nil {
		return err
	}
	if p.ResampleProb > 1 || math.IsNaN(p.ResampleProb) {
		return fmt.Errorf("%w: pbt resample probability %v > 1", hpo.ErrInvalid, p.ResampleProb)
	}
	f := p.factors()
	if !(f[0] > 0 && f[0] < 1 && f[1] > 1) || math.IsInf(f[1], 0) {
		return fmt.Errorf("%w: pbt factors %v: want 0 < F0 < 1 < F1", hpo.ErrInvalid, p.Factors)
	}
	names := p.Space.Names()
	for _, m := range p.Mutable {
		if !slices.Contains(names, m) {
			return fmt.Errorf("%w: pbt mutable parameter %q is not in the space", hpo.ErrInvalid, m)
		}
	}
	return nil
}

// IsMutable reports whether the named parameter may be explored.
func (p Perturber) IsMutable(name string) bool {
	return p.Mutable == nil || slices.Contains(p.Mutable, name)
}

// Explore implements Explorer.
func (p Perturber) Explore(_ hpo.View, s Step) (hpo.Config, error) {
	return p.Perturb(s.Config, s.Rand)
}

// Perturb returns a perturbed copy of cfg (see Perturber), drawing only
// from r, parameters in space order.
func (p Perturber) Perturb(cfg hpo.Config, r *rand.Rand) (hpo.Config, error) {
	out := cfg.Clone()
	for _, par := range p.Space {
		if !p.IsMutable(par.Name) {
			continue
		}
		v, ok := cfg[par.Name]
		if !ok {
			return nil, fmt.Errorf("%w: config lacks parameter %q", hpo.ErrInvalid, par.Name)
		}
		nv, err := p.PerturbValue(par.Domain, v, r)
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %w", par.Name, err)
		}
		out[par.Name] = nv
	}
	return out, nil
}

// PerturbValue perturbs one value of domain d (see Perturber). It draws two
// numbers from r whatever the branch — and a third only to resample a
// linear float that multiplying cannot move (0) — so the perturbation of one
// parameter shifts the random stream of the next only in that case.
func (p Perturber) PerturbValue(d hpo.Domain, v any, r *rand.Rand) (any, error) {
	resample := r.Float64() < p.resampleProb()
	u := r.Float64() // the direction, or the resampled value's unit coordinate
	up := u < 0.5
	if resample {
		return d.FromUnit(u), nil
	}
	v, err := d.Normalize(v)
	if err != nil {
		return nil, err
	}
	f := p.factors()
	switch d := d.(type) {
	case hpo.Float:
		x := v.(float64)
		var y float64
		if d.Log {
			h := 0.5 * math.Log(f[1]/f[0])
			if !up {
				h = -h
			}
			y = math.Exp(math.Log(x) + h)
		} else {
			k := f[0]
			if up {
				k = f[1]
			}
			y = x * k
			if y == x { // 0 does not move
				return d.FromUnit(r.Float64()), nil
			}
		}
		return math.Min(math.Max(y, d.Low), d.High), nil
	case hpo.Int:
		k := v.(int)
		step := -1
		if up {
			step = 1
		}
		if k+step < d.Low || k+step > d.High {
			step = -step
		}
		return k + step, nil
	case hpo.Choice:
		if !d.Ordered {
			return v, nil
		}
		i, err := d.Index(v)
		if err != nil {
			return nil, err
		}
		n := len(d.Values)
		if n == 1 {
			return v, nil
		}
		step := -1
		if up {
			step = 1
		}
		if i+step < 0 || i+step >= n {
			step = -step
		}
		return d.Values[i+step], nil
	default:
		// An unknown domain: perturb its unit coordinate by ±0.1.
		x, err := d.ToUnit(v)
		if err != nil {
			return nil, err
		}
		if up {
			return d.FromUnit(x + 0.1), nil
		}
		return d.FromUnit(x - 0.1), nil
	}
}
