package plots

import (
	"errors"
	"math"
	"slices"
	"testing"
)

func near(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= tol
}

func TestTQuantile(t *testing.T) {
	// Reference values from standard t tables.
	tests := []struct{ p, df, want float64 }{
		{0.975, 1, 12.706205},
		{0.975, 2, 4.302653},
		{0.975, 4, 2.776445},
		{0.975, 9, 2.262157},
		{0.95, 2, 2.919986},
		{0.995, 4, 4.604095},
		{0.5, 3, 0},
	}
	for _, tc := range tests {
		if got := TQuantile(tc.p, tc.df); !near(got, tc.want, 1e-5) {
			t.Errorf("TQuantile(%v, %v) = %v, want %v", tc.p, tc.df, got, tc.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name    string
		xs      []float64
		level   float64
		want    Stat
		wantErr bool
	}{
		// sd = √2.5, half width = t(0.975, 4)·sd/√5.
		{"five", []float64{1, 2, 3, 4, 5}, 0, Stat{Mean: 3, HalfWidth: 2.776445 * math.Sqrt(2.5) / math.Sqrt(5), N: 5, Total: 5}, false},
		{"90%", []float64{1, 2, 3, 4, 5}, 0.9, Stat{Mean: 3, HalfWidth: 2.131847 * math.Sqrt(2.5) / math.Sqrt(5), N: 5, Total: 5}, false},
		// NaN = not started: excluded. sd = 0.1/√2·√2... = |0.5−0.7|/√2.
		{"missing", []float64{nan, 0.5, 0.7}, 0, Stat{Mean: 0.6, HalfWidth: 12.706205 * (0.2 / math.Sqrt2) / math.Sqrt2, N: 2, Total: 3}, false},
		{"one", []float64{0.4, nan}, 0, Stat{Mean: 0.4, HalfWidth: nan, N: 1, Total: 2}, false},
		{"none", []float64{nan, nan}, 0, Stat{Mean: nan, HalfWidth: nan, N: 0, Total: 2}, false},
		{"empty", nil, 0, Stat{Mean: nan, HalfWidth: nan}, false},
		{"constant", []float64{0.3, 0.3, 0.3}, 0, Stat{Mean: 0.3, HalfWidth: 0, N: 3, Total: 3}, false},
		{"bad level", []float64{1}, 1.5, Stat{}, true},
		{"level 1", []float64{1}, 1, Stat{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Summarize(tc.xs, tc.level)
			if tc.wantErr {
				if !errors.Is(err, ErrBadConfig) {
					t.Fatalf("err = %v, want ErrBadConfig", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !near(got.Mean, tc.want.Mean, 1e-12) || !near(got.HalfWidth, tc.want.HalfWidth, 1e-5) || got.N != tc.want.N || got.Total != tc.want.Total {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestCurveAt(t *testing.T) {
	c := Curve{{10, 0.2}, {20, 0.5}, {20, 0.6}, {35, 0.7}}
	tests := []struct {
		t      float64
		want   float64
		wantOK bool
	}{
		{0, math.NaN(), false},
		{9.999, math.NaN(), false},
		{10, 0.2, true},
		{15, 0.2, true},
		{20, 0.6, true}, // last of equal times counts
		{34.9, 0.6, true},
		{35, 0.7, true},
		{1e9, 0.7, true},
	}
	for _, tc := range tests {
		got, ok := c.At(tc.t)
		if ok != tc.wantOK || !near(got, tc.want, 0) {
			t.Errorf("At(%v) = %v, %v; want %v, %v", tc.t, got, ok, tc.want, tc.wantOK)
		}
	}
	if _, ok := Curve(nil).At(5); ok {
		t.Error("empty curve has a value")
	}
	if !math.IsNaN(Curve(nil).Start()) || c.Start() != 10 || c.End() != 35 {
		t.Error("Start/End")
	}
}

func TestCurveValidate(t *testing.T) {
	tests := []struct {
		name string
		c    Curve
		ok   bool
	}{
		{"empty", nil, true},
		{"sorted", Curve{{0, 1}, {1, 2}, {1, 3}}, true},
		{"unsorted", Curve{{2, 1}, {1, 2}}, false},
		{"nan value", Curve{{1, math.NaN()}}, false},
		{"inf time", Curve{{math.Inf(1), 1}}, false},
	}
	for _, tc := range tests {
		err := tc.c.Validate()
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrBadCurve)) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
}

func TestBestSoFar(t *testing.T) {
	got, err := BestSoFar([]float64{30, 10, 20, 40, 40, 50}, []float64{0.5, 0.3, 0.2, 0.6, 0.65, 0.1})
	if err != nil {
		t.Fatal(err)
	}
	want := Curve{{10, 0.3}, {30, 0.5}, {40, 0.65}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, err := BestSoFar([]float64{1}, nil); !errors.Is(err, ErrBadCurve) {
		t.Errorf("length mismatch: err = %v", err)
	}
	if _, err := BestSoFar([]float64{1}, []float64{math.NaN()}); !errors.Is(err, ErrBadCurve) {
		t.Errorf("NaN: err = %v", err)
	}
}

func TestGrids(t *testing.T) {
	cs := []Curve{{{5, 1}, {12, 2}, {40, 3}}, {{0, 1}, {12, 2}}}
	if got, want := Breakpoints(cs, 0, 30), []float64{0, 5, 12, 30}; !slices.Equal(got, want) {
		t.Errorf("Breakpoints = %v, want %v", got, want)
	}
	if got, want := Linspace(0, 3000, 4), []float64{0, 1000, 2000, 3000}; !slices.Equal(got, want) {
		t.Errorf("Linspace = %v, want %v", got, want)
	}
	if got := Linspace(1, 2, 1); !slices.Equal(got, []float64{1}) {
		t.Errorf("Linspace n=1 = %v", got)
	}
	if got, want := Checkpoints(3000, 6), []float64{500, 1000, 1500, 2000, 2500}; !slices.Equal(got, want) {
		t.Errorf("Checkpoints = %v, want %v", got, want)
	}
	r := Resample(cs, []float64{0, 5, 20})
	nan := math.NaN()
	want := [][]float64{{nan, 1, 2}, {1, 1, 2}}
	for k := range want {
		for i := range want[k] {
			if !near(r[k][i], want[k][i], 0) {
				t.Errorf("Resample[%d][%d] = %v, want %v", k, i, r[k][i], want[k][i])
			}
		}
	}
}

func TestAggregate(t *testing.T) {
	a := Curve{{0, 0.1}, {10, 0.5}}
	b := Curve{{5, 0.2}, {20, 0.6}}
	grid := Breakpoints([]Curve{a, b}, 0, 30) // 0 5 10 20 30
	nan := math.NaN()
	hw := func(x, y float64) float64 { return 12.706205 * math.Abs(x-y) / math.Sqrt2 / math.Sqrt2 }
	tests := []struct {
		minSeeds   int
		mean, half []float64
	}{
		{0, []float64{0.1, 0.15, 0.35, 0.55, 0.55}, []float64{nan, hw(0.1, 0.2), hw(0.5, 0.2), hw(0.5, 0.6), hw(0.5, 0.6)}},
		{2, []float64{nan, 0.15, 0.35, 0.55, 0.55}, []float64{nan, hw(0.1, 0.2), hw(0.5, 0.2), hw(0.5, 0.6), hw(0.5, 0.6)}},
	}
	for _, tc := range tests {
		band, err := Aggregate([]Curve{a, b}, grid, 0, tc.minSeeds)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(band.N, []int{1, 2, 2, 2, 2}) || band.Seeds != 2 {
			t.Errorf("N = %v, seeds %d", band.N, band.Seeds)
		}
		for i := range grid {
			s := band.Stat(i)
			if !near(s.Mean, tc.mean[i], 1e-12) || !near(s.HalfWidth, tc.half[i], 1e-5) ||
				!near(band.Lo[i], tc.mean[i]-tc.half[i], 1e-5) || !near(band.Hi[i], tc.mean[i]+tc.half[i], 1e-5) {
				t.Errorf("minSeeds %d, t=%v: %+v, want mean %v ± %v", tc.minSeeds, grid[i], s, tc.mean[i], tc.half[i])
			}
		}
	}
	if _, err := Aggregate(nil, grid, 0, 0); !errors.Is(err, ErrNoData) {
		t.Errorf("no curves: err = %v", err)
	}
}
