package hpo_test

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/hgdtune/hgdtune/hpo"
)

func TestSpaceValidate(t *testing.T) {
	tests := []struct {
		name  string
		space hpo.Space
		ok    bool
	}{
		{"ok", hpo.Space{{"a", hpo.Float{Low: 0, High: 1}}, {"b", hpo.Int{Low: 1, High: 4, Log: true}}, {"c", hpo.Choice{Values: []any{"x", 3, 2.5, true}}}}, true},
		{"empty space", hpo.Space{}, false},
		{"float low == high", hpo.Space{{"a", hpo.Float{Low: 1, High: 1}}}, false},
		{"float low > high", hpo.Space{{"a", hpo.Float{Low: 2, High: 1}}}, false},
		{"float NaN", hpo.Space{{"a", hpo.Float{Low: math.NaN(), High: 1}}}, false},
		{"float log of zero", hpo.Space{{"a", hpo.Float{Low: 0, High: 1, Log: true}}}, false},
		{"float log of negative", hpo.Space{{"a", hpo.Float{Low: -1, High: 1, Log: true}}}, false},
		{"int low == high", hpo.Space{{"a", hpo.Int{Low: 3, High: 3}}}, false},
		{"int log of zero", hpo.Space{{"a", hpo.Int{Low: 0, High: 8, Log: true}}}, false},
		{"empty choice", hpo.Space{{"a", hpo.Choice{}}}, false},
		{"duplicate choice", hpo.Space{{"a", hpo.Choice{Values: []any{"x", "x"}}}}, false},
		{"choice int and float alike", hpo.Space{{"a", hpo.Choice{Values: []any{3, 3.0}}}}, false},
		{"duplicate names", hpo.Space{{"a", hpo.Float{Low: 0, High: 1}}, {"a", hpo.Int{Low: 0, High: 1}}}, false},
		{"empty name", hpo.Space{{"", hpo.Float{Low: 0, High: 1}}}, false},
		{"nil domain", hpo.Space{{"a", nil}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.space.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, hpo.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func testSpace() hpo.Space {
	return hpo.Space{
		{"lr", hpo.Float{Low: 1e-5, High: 1, Log: true}},
		{"drop", hpo.Float{Low: 0, High: 0.5}},
		{"width", hpo.Int{Low: 16, High: 512, Log: true}},
		{"depth", hpo.Int{Low: 1, High: 6}},
		{"opt", hpo.Choice{Values: []any{"sgd", "adam"}}},
		{"batch", hpo.Choice{Values: []any{32, 64, 128}, Ordered: true}},
		{"mix", hpo.Choice{Values: []any{0.5, 2, "auto", false}}},
	}
}

func TestSampleDeterministicAndInDomain(t *testing.T) {
	s := testSpace()
	for id := range 200 {
		a := s.Sample(hpo.TrialRand(9, hpo.TrialID(id)))
		b := s.Sample(hpo.TrialRand(9, hpo.TrialID(id)))
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("trial %d: samples differ: %v vs %v", id, a, b)
		}
		if _, err := s.Normalize(a); err != nil {
			t.Fatalf("sample %v out of domain: %v", a, err)
		}
		if _, ok := a["width"].(int); !ok {
			t.Fatalf("int sampled as %T", a["width"])
		}
	}
}

func TestUnitCubeRoundTrip(t *testing.T) {
	s := testSpace()
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		c := s.Sample(r)
		u, err := s.ToUnit(c)
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range u {
			if x < 0 || x > 1 {
				t.Fatalf("coordinate %d = %v outside [0,1]", i, x)
			}
		}
		back, err := s.FromUnit(u)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range s {
			a, b := c[p.Name], back[p.Name]
			if fa, ok := a.(float64); ok {
				if math.Abs(fa-b.(float64)) > 1e-9*math.Max(1, math.Abs(fa)) {
					t.Fatalf("%s: %v -> %v", p.Name, a, b)
				}
				continue
			}
			if a != b {
				t.Fatalf("%s: %v (%T) -> %v (%T)", p.Name, a, a, b, b)
			}
		}
	}
	// FromUnit of uniform points follows the domains' bounds.
	for _, u := range []float64{-1, 0, 0.25, 0.999999, 1, 2, math.NaN()} {
		c, err := s.FromUnit([]float64{u, u, u, u, u, u, u})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Normalize(c); err != nil {
			t.Fatalf("FromUnit(%v) = %v out of domain: %v", u, c, err)
		}
	}
	if _, err := s.FromUnit([]float64{0.5}); !errors.Is(err, hpo.ErrInvalid) {
		t.Fatalf("short unit point: %v", err)
	}
}

func TestConfigJSONRoundTrip(t *testing.T) {
	s := testSpace()
	r := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		c := s.Sample(r)
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.DecodeConfig(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c, got) {
			t.Fatalf("round trip %s: %#v != %#v", b, got, c)
		}
	}
	tests := []struct {
		json string
		ok   bool
	}{
		{`{"lr":0.001,"drop":0,"width":64,"depth":2,"opt":"adam","batch":64,"mix":2}`, true},
		{`{"lr":0.001,"drop":0,"width":64.5,"depth":2,"opt":"adam","batch":64,"mix":2}`, false},
		{`{"lr":0.001,"drop":0,"width":64,"depth":2,"opt":"rmsprop","batch":64,"mix":2}`, false},
		{`{"lr":0.001,"drop":0,"width":64,"depth":2,"opt":"adam","batch":"64","mix":2}`, false},
		{`{"lr":0.001,"drop":0,"width":64,"depth":2,"opt":"adam","batch":64}`, false},
		{`{"lr":0.001,"drop":0,"width":64,"depth":2,"opt":"adam","batch":64,"mix":2,"x":1}`, false},
		{`{"lr":2,"drop":0,"width":64,"depth":2,"opt":"adam","batch":64,"mix":2}`, false},
	}
	for _, tt := range tests {
		c, err := s.DecodeConfig([]byte(tt.json))
		if (err == nil) != tt.ok {
			t.Errorf("DecodeConfig(%s) = %v, %v; want ok=%v", tt.json, c, err, tt.ok)
		}
		if err == nil {
			if _, ok := c["width"].(int); !ok {
				t.Errorf("width decoded as %T", c["width"])
			}
			if _, ok := c["mix"].(int); !ok {
				t.Errorf("mix decoded as %T", c["mix"])
			}
			if _, ok := c["drop"].(float64); !ok {
				t.Errorf("drop decoded as %T", c["drop"])
			}
		}
	}
}

func TestConfigAccessors(t *testing.T) {
	c := hpo.Config{"lr": 0.5, "n": 3, "opt": "adam", "b": true}
	if c.Float("lr") != 0.5 || c.Float("n") != 3 || c.Int("n") != 3 || c.String("opt") != "adam" || c.String("b") != "true" {
		t.Fatalf("accessors: %v %v %v %v %v", c.Float("lr"), c.Float("n"), c.Int("n"), c.String("opt"), c.String("b"))
	}
	if c.Int("lr") != 0 || c.Float("missing") != 0 {
		t.Fatal("non-integral or missing values should read as 0")
	}
}
