package hpo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
)

// Domain is the set of values one hyperparameter may take.
//
// Every domain maps to and from the unit interval [0, 1]: FromUnit(u) for u
// uniform in [0, 1) has the same distribution as Sample, and
// FromUnit(ToUnit(v)) == v for every v in the domain. Searchers that work in
// a continuous box (the genetic algorithm, PB2's GP bandit) use this mapping.
type Domain interface {
	// Sample draws a value from the domain's prior using r only.
	Sample(r *rand.Rand) any
	// ToUnit maps a value of the domain into [0, 1]; it fails with
	// ErrInvalid for a value outside the domain.
	ToUnit(v any) (float64, error)
	// FromUnit maps u (clamped to [0, 1]) to a value of the domain.
	FromUnit(u float64) any
	// Normalize converts v — a Go value or what encoding/json decoded with
	// UseNumber (json.Number, string, bool) — to the domain's canonical Go
	// type (float64 for Float, int for Int, the choice itself for Choice);
	// it fails with ErrInvalid if v is not in the domain.
	Normalize(v any) (any, error)
}

// Validator is implemented by domains (and configurations) that can check
// themselves. Space.Validate calls it when a Domain implements it.
type Validator interface {
	Validate() error
}

// Float is the real interval [Low, High], uniform or (Log) log-uniform.
type Float struct {
	Low, High float64
	Log       bool
}

// Validate reports an empty interval, non-finite bounds or a log scale over
// non-positive bounds.
func (d Float) Validate() error {
	switch {
	case math.IsNaN(d.Low) || math.IsNaN(d.High) || math.IsInf(d.Low, 0) || math.IsInf(d.High, 0):
		return fmt.Errorf("%w: float bounds must be finite, got [%v, %v]", ErrInvalid, d.Low, d.High)
	case d.Low >= d.High:
		return fmt.Errorf("%w: float domain needs low < high, got [%v, %v]", ErrInvalid, d.Low, d.High)
	case d.Log && d.Low <= 0:
		return fmt.Errorf("%w: log float domain needs low > 0, got %v", ErrInvalid, d.Low)
	}
	return nil
}

// Sample implements Domain.
func (d Float) Sample(r *rand.Rand) any { return d.FromUnit(r.Float64()) }

// FromUnit implements Domain.
func (d Float) FromUnit(u float64) any {
	u = clamp01(u)
	var v float64
	if d.Log {
		v = math.Exp(math.Log(d.Low) + u*(math.Log(d.High)-math.Log(d.Low)))
	} else {
		v = d.Low + u*(d.High-d.Low)
	}
	return math.Min(math.Max(v, d.Low), d.High)
}

// ToUnit implements Domain.
func (d Float) ToUnit(v any) (float64, error) {
	x, err := d.Normalize(v)
	if err != nil {
		return 0, err
	}
	f := x.(float64)
	if d.Log {
		return clamp01((math.Log(f) - math.Log(d.Low)) / (math.Log(d.High) - math.Log(d.Low))), nil
	}
	return clamp01((f - d.Low) / (d.High - d.Low)), nil
}

// Normalize implements Domain: it accepts any Go number or json.Number.
func (d Float) Normalize(v any) (any, error) {
	f, ok := toFloat(v)
	if !ok || f < d.Low || f > d.High {
		return nil, fmt.Errorf("%w: %v (%T) is not in float domain [%v, %v]", ErrInvalid, v, v, d.Low, d.High)
	}
	return f, nil
}

// Int is the integer interval [Low, High] (both included), uniform or (Log)
// log-uniform. Under Log each integer k owns the interval
// [k−½, k+½] of the log-uniform distribution over [Low−½, High+½].
type Int struct {
	Low, High int
	Log       bool
}

// Validate reports an empty interval or a log scale over non-positive bounds.
func (d Int) Validate() error {
	switch {
	case d.Low >= d.High:
		return fmt.Errorf("%w: int domain needs low < high, got [%d, %d]", ErrInvalid, d.Low, d.High)
	case d.Log && d.Low <= 0:
		return fmt.Errorf("%w: log int domain needs low > 0, got %d", ErrInvalid, d.Low)
	}
	return nil
}

// Sample implements Domain.
func (d Int) Sample(r *rand.Rand) any { return d.FromUnit(r.Float64()) }

func (d Int) logBounds() (float64, float64) {
	return math.Log(float64(d.Low) - 0.5), math.Log(float64(d.High) + 0.5)
}

// FromUnit implements Domain.
func (d Int) FromUnit(u float64) any {
	u = clamp01(u)
	var k int
	if d.Log {
		lo, hi := d.logBounds()
		k = int(math.Round(math.Exp(lo + u*(hi-lo))))
	} else {
		k = d.Low + int(math.Floor(u*float64(d.High-d.Low+1)))
	}
	return min(max(k, d.Low), d.High)
}

// ToUnit implements Domain; it returns the centre of the value's cell.
func (d Int) ToUnit(v any) (float64, error) {
	x, err := d.Normalize(v)
	if err != nil {
		return 0, err
	}
	k := x.(int)
	if d.Log {
		lo, hi := d.logBounds()
		c := (math.Log(float64(k)-0.5) + math.Log(float64(k)+0.5)) / 2
		return clamp01((c - lo) / (hi - lo)), nil
	}
	return (float64(k-d.Low) + 0.5) / float64(d.High-d.Low+1), nil
}

// Normalize implements Domain: it accepts Go integers, integral floats and
// json.Number.
func (d Int) Normalize(v any) (any, error) {
	k, ok := toInt(v)
	if !ok || k < d.Low || k > d.High {
		return nil, fmt.Errorf("%w: %v (%T) is not in int domain [%d, %d]", ErrInvalid, v, v, d.Low, d.High)
	}
	return k, nil
}

// Choice is a categorical domain. Values may be of any JSON-encodable type
// (strings, ints, float64s, bools, mixed); each keeps its Go type through
// the journal. Ordered says the order of Values is meaningful (for example
// batch sizes 32 < 64 < 128): searchers that perturb values in the unit
// cube may then move to a neighbour; for unordered choices the unit
// coordinate is only a code and such searchers should resample instead.
type Choice struct {
	Values  []any
	Ordered bool
}

// Validate reports an empty choice, values that encoding/json cannot encode,
// and values with the same JSON encoding (they could not be told apart
// after a round trip through the journal).
func (d Choice) Validate() error {
	if len(d.Values) == 0 {
		return fmt.Errorf("%w: empty choice domain", ErrInvalid)
	}
	seen := make(map[string]bool, len(d.Values))
	for _, v := range d.Values {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("%w: choice value %v: %v", ErrInvalid, v, err)
		}
		if seen[string(b)] {
			return fmt.Errorf("%w: duplicate choice value %s", ErrInvalid, b)
		}
		seen[string(b)] = true
	}
	return nil
}

// Sample implements Domain.
func (d Choice) Sample(r *rand.Rand) any { return d.Values[r.IntN(len(d.Values))] }

// FromUnit implements Domain: value i owns [i/n, (i+1)/n).
func (d Choice) FromUnit(u float64) any {
	n := len(d.Values)
	return d.Values[min(int(clamp01(u)*float64(n)), n-1)]
}

// ToUnit implements Domain; it returns the centre of the value's cell.
func (d Choice) ToUnit(v any) (float64, error) {
	i, err := d.Index(v)
	if err != nil {
		return 0, err
	}
	return (float64(i) + 0.5) / float64(len(d.Values)), nil
}

// Index returns the position of v in Values: an equal value of the same
// type, else one with the same JSON encoding (so json.Number("3") or
// float64(3) from a journal finds the int 3).
func (d Choice) Index(v any) (int, error) {
	if v != nil && reflect.TypeOf(v).Comparable() {
		for i, c := range d.Values {
			if c == v { // same dynamic type and value; never panics on comparable v
				return i, nil
			}
		}
	}
	b, err := json.Marshal(v)
	if err == nil {
		for i, c := range d.Values {
			if cb, err := json.Marshal(c); err == nil && bytes.Equal(b, cb) {
				return i, nil
			}
		}
	}
	return -1, fmt.Errorf("%w: %v (%T) is not one of the choices %v", ErrInvalid, v, v, d.Values)
}

// Normalize implements Domain: it returns the matching element of Values.
func (d Choice) Normalize(v any) (any, error) {
	i, err := d.Index(v)
	if err != nil {
		return nil, err
	}
	return d.Values[i], nil
}

// Param is a named hyperparameter.
type Param struct {
	Name   string
	Domain Domain
}

// Space is an ordered list of hyperparameters. The order defines the axes of
// the unit cube and the config columns of CSV exports.
type Space []Param

// Validate reports an empty space, empty or duplicate names, nil domains and
// invalid domains.
func (s Space) Validate() error {
	if len(s) == 0 {
		return fmt.Errorf("%w: empty search space", ErrInvalid)
	}
	seen := make(map[string]bool, len(s))
	for _, p := range s {
		if p.Name == "" {
			return fmt.Errorf("%w: parameter with an empty name", ErrInvalid)
		}
		if seen[p.Name] {
			return fmt.Errorf("%w: duplicate parameter %q", ErrInvalid, p.Name)
		}
		seen[p.Name] = true
		if p.Domain == nil {
			return fmt.Errorf("%w: parameter %q has no domain", ErrInvalid, p.Name)
		}
		if v, ok := p.Domain.(Validator); ok {
			if err := v.Validate(); err != nil {
				return fmt.Errorf("parameter %q: %w", p.Name, err)
			}
		}
	}
	return nil
}

// Names returns the parameter names in order.
func (s Space) Names() []string {
	names := make([]string, len(s))
	for i, p := range s {
		names[i] = p.Name
	}
	return names
}

// Sample draws one configuration using r only.
func (s Space) Sample(r *rand.Rand) Config {
	c := make(Config, len(s))
	for _, p := range s {
		c[p.Name] = p.Domain.Sample(r)
	}
	return c
}

// ToUnit maps a configuration to a point of the unit cube, one coordinate
// per parameter in space order.
func (s Space) ToUnit(c Config) ([]float64, error) {
	u := make([]float64, len(s))
	for i, p := range s {
		v, ok := c[p.Name]
		if !ok {
			return nil, fmt.Errorf("%w: config lacks parameter %q", ErrInvalid, p.Name)
		}
		x, err := p.Domain.ToUnit(v)
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %w", p.Name, err)
		}
		u[i] = x
	}
	return u, nil
}

// FromUnit maps a point of the unit cube (one coordinate per parameter, in
// space order, clamped to [0, 1]) to a configuration.
func (s Space) FromUnit(u []float64) (Config, error) {
	if len(u) != len(s) {
		return nil, fmt.Errorf("%w: unit point has %d coordinates, space has %d parameters", ErrInvalid, len(u), len(s))
	}
	c := make(Config, len(s))
	for i, p := range s {
		c[p.Name] = p.Domain.FromUnit(u[i])
	}
	return c, nil
}

// Normalize returns a copy of c with every value converted to its domain's
// canonical Go type. It fails if a parameter is missing, unknown, or out of
// its domain.
func (s Space) Normalize(c Config) (Config, error) {
	if len(c) != len(s) {
		for k := range c {
			if s.index(k) < 0 {
				return nil, fmt.Errorf("%w: unknown parameter %q", ErrInvalid, k)
			}
		}
	}
	out := make(Config, len(s))
	for _, p := range s {
		v, ok := c[p.Name]
		if !ok {
			return nil, fmt.Errorf("%w: config lacks parameter %q", ErrInvalid, p.Name)
		}
		x, err := p.Domain.Normalize(v)
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %w", p.Name, err)
		}
		out[p.Name] = x
	}
	return out, nil
}

// DecodeConfig decodes a JSON object into a configuration of this space,
// with each value of its domain's Go type (an Int stays int even though JSON
// has only one number type).
func (s Space) DecodeConfig(data []byte) (Config, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: config: %v", ErrInvalid, err)
	}
	return s.Normalize(Config(raw))
}

func (s Space) index(name string) int {
	for i, p := range s {
		if p.Name == name {
			return i
		}
	}
	return -1
}

func clamp01(u float64) float64 {
	if !(u > 0) { // also NaN
		return 0
	}
	return math.Min(u, 1)
}

func toFloat(v any) (float64, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case int32:
		f = float64(x)
	case uint:
		f = float64(x)
	case uint64:
		f = float64(x)
	case json.Number:
		var err error
		if f, err = strconv.ParseFloat(string(x), 64); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	return f, !math.IsNaN(f) && !math.IsInf(f, 0)
}

func toInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case int32:
		return int(x), true
	case uint:
		return int(x), true
	case json.Number:
		if k, err := strconv.Atoi(string(x)); err == nil {
			return k, true
		}
	}
	f, ok := toFloat(v)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int(f), true
}
