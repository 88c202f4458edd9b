package reproduce

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/hgdtune/hgdtune/hpo/asha"
)

// Values of Preset.AHBWeights and Preset.GeneticMutation.
const (
	AHBWeightsRay         = "ray"
	AHBWeightsHyperband   = "hyperband"
	GeneticMutationShared = "shared"
	GeneticMutationPerArm = "per-arm"
)

// recordedField is a preset field with two zero values: in memory its
// zero value means the default behaviour, while a preset read from JSON
// without the field means the behaviour recorded as its legacy value.
// Written to JSON, the legacy value is left out again, so that every
// folder and database keeps its exact settings.
type recordedField struct {
	name            string // the JSON name
	field           func(*Preset) *string
	current, legacy string
	// applies reports whether the field means anything for the preset
	// (nil: always).
	applies func(Preset) bool
}

// recordedFields are the fields that results folders record because they
// change results: the cost model, Async Hyperband's bracket weights and
// the genetic algorithm's mutation rate.
func recordedFields() []recordedField {
	return []recordedField{
		{"costs", func(p *Preset) *string { return &p.Costs }, CostsCurrent, CostsGoMLX0282, Preset.compute},
		{"ahb_weights", func(p *Preset) *string { return &p.AHBWeights }, AHBWeightsRay, AHBWeightsHyperband, nil},
		{"genetic_mutation", func(p *Preset) *string { return &p.GeneticMutation }, GeneticMutationShared, GeneticMutationPerArm, nil},
	}
}

// resolved returns p with every recorded field named: its current value
// for "" where the field applies (what Run records).
func (p Preset) resolved() Preset {
	for _, f := range recordedFields() {
		if v := f.field(&p); *v == "" && (f.applies == nil || f.applies(p)) {
			*v = f.current
		}
	}
	return p
}

// Resume returns p with the values of the recorded fields (the cost
// model, Async Hyperband's weights, the genetic mutation rate) that prev —
// the preset a results folder was made with (Recorded) — has, except the
// fields named in explicit (their JSON names: "costs", …), which the caller
// chose; and one line for each value taken that is not today's, saying so.
// A folder is thus resumed with what it was made with, never silently with
// newer behaviour.
func (p Preset) Resume(prev Preset, explicit ...string) (Preset, []string) {
	var notes []string
	for _, f := range recordedFields() {
		if slices.Contains(explicit, f.name) || (f.applies != nil && !(f.applies(p) && f.applies(prev))) {
			continue
		}
		have, want := f.field(&p), *f.field(&prev)
		if want == "" || want == cmp.Or(*have, f.current) {
			continue
		}
		*have = want
		if want != f.current {
			notes = append(notes, fmt.Sprintf("%s %s (new folders get %s)", f.name, want, f.current))
		}
	}
	return p, notes
}

// costModel is the preset's cost model (the compute clock's).
func (p Preset) costModel() (CostModel, error) { return CostModelNamed(p.Costs) }

// ahbWeights is Async Hyperband's bracket weighting.
func (p Preset) ahbWeights() asha.Weights {
	if p.AHBWeights == AHBWeightsHyperband {
		return asha.HyperbandWeights
	}
	return asha.RayWeights
}

// sharedMutation reports whether both arms' genetic algorithms mutate at
// the SGD arm's rate.
func (p Preset) sharedMutation() bool { return p.GeneticMutation != GeneticMutationPerArm }

// presetJSON is Preset without its JSON methods.
type presetJSON Preset

// MarshalJSON writes the preset with its recorded fields named, except the
// values that an absent field is read as (CostsGoMLX0282,
// AHBWeightsHyperband, GeneticMutationPerArm), which are left out (see
// recordedField).
func (p Preset) MarshalJSON() ([]byte, error) {
	q := p.resolved()
	for _, f := range recordedFields() {
		if v := f.field(&q); *v == f.legacy {
			*v = ""
		}
	}
	return json.Marshal(presetJSON(q))
}

// UnmarshalJSON reads a preset, refusing unknown fields; a recorded field
// that is absent is read as CostsGoMLX0282 (Costs, compute clock only),
// AHBWeightsHyperband or GeneticMutationPerArm (see recordedField).
func (p *Preset) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var q presetJSON
	if err := dec.Decode(&q); err != nil {
		return fmt.Errorf("preset: %w", err)
	}
	*p = Preset(q)
	for _, f := range recordedFields() {
		if v := f.field(p); *v == "" && (f.applies == nil || f.applies(*p)) {
			*v = f.legacy
		}
	}
	return nil
}
