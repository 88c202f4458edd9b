package plots

import (
	"errors"
	"slices"
	"testing"
)

func TestExperimentValidate(t *testing.T) {
	ok := Curve{{1, 0.5}}
	tests := []struct {
		name string
		e    Experiment
		want error
	}{
		{"ok", Experiment{Budget: 10, Runs: []Run{{Algorithm: "ASHA", Arm: SGD, Seed: 0, Curve: ok}, {Algorithm: "ASHA", Arm: SGD, Seed: 1, Curve: ok}}}, nil},
		{"no runs", Experiment{}, ErrNoData},
		{"duplicate", Experiment{Runs: []Run{{Algorithm: "ASHA", Arm: SGD, Seed: 0, Curve: ok}, {Algorithm: "ASHA", Arm: SGD, Seed: 0, Curve: ok}}}, ErrBadConfig},
		{"no arm", Experiment{Runs: []Run{{Algorithm: "ASHA", Arm: "", Seed: 0, Curve: ok}}}, ErrBadConfig},
		{"bad curve", Experiment{Runs: []Run{{Algorithm: "ASHA", Arm: SGD, Seed: 0, Curve: Curve{{2, 0}, {1, 0}}}}}, ErrBadCurve},
		{"negative budget", Experiment{Budget: -1, Runs: []Run{{Algorithm: "ASHA", Arm: SGD, Seed: 0, Curve: ok}}}, ErrBadConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.e.Validate()
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestExperimentOrder(t *testing.T) {
	c := Curve{{1, 0.5}}
	e := Experiment{Runs: []Run{
		{Algorithm: "Random", Arm: "HGD-mult", Seed: 0, Curve: c}, {Algorithm: "PB2", Arm: SGD, Seed: 3, Curve: Curve{{1, 0.3}}}, {Algorithm: "PB2", Arm: SGD, Seed: 1, Curve: Curve{{1, 0.1}}},
		{Algorithm: "hyperband", Arm: HGD, Seed: 0, Curve: c}, {Algorithm: "ASHA", Arm: SGD, Seed: 0, Curve: c},
	}}
	if got, want := e.Algorithms(), []string{"ASHA", "hyperband", "PB2", "Random"}; !slices.Equal(got, want) {
		t.Errorf("Algorithms = %v, want %v", got, want)
	}
	if got, want := e.Arms(), []Arm{HGD, SGD, "HGD-mult"}; !slices.Equal(got, want) {
		t.Errorf("Arms = %v, want %v", got, want)
	}
	cs := e.Curves("PB2", SGD) // sorted by seed
	if len(cs) != 2 || cs[0][0].V != 0.1 || cs[1][0].V != 0.3 {
		t.Errorf("Curves = %v", cs)
	}
	s, err := e.At("PB2", SGD, 5, 0)
	if err != nil || !near(s.Mean, 0.2, 1e-12) || s.N != 2 {
		t.Errorf("At = %+v, %v", s, err)
	}
}
