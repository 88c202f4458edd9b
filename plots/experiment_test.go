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
		{"ok", Experiment{Budget: 10, Runs: []Run{{"ASHA", SGD, 0, ok}, {"ASHA", SGD, 1, ok}}}, nil},
		{"no runs", Experiment{}, ErrNoData},
		{"duplicate", Experiment{Runs: []Run{{"ASHA", SGD, 0, ok}, {"ASHA", SGD, 0, ok}}}, ErrBadConfig},
		{"no arm", Experiment{Runs: []Run{{"ASHA", "", 0, ok}}}, ErrBadConfig},
		{"bad curve", Experiment{Runs: []Run{{"ASHA", SGD, 0, Curve{{2, 0}, {1, 0}}}}}, ErrBadCurve},
		{"negative budget", Experiment{Budget: -1, Runs: []Run{{"ASHA", SGD, 0, ok}}}, ErrBadConfig},
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
		{"Random", "HGD-mult", 0, c}, {"PB2", SGD, 3, Curve{{1, 0.3}}}, {"PB2", SGD, 1, Curve{{1, 0.1}}},
		{"hyperband", HGD, 0, c}, {"ASHA", SGD, 0, c},
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
