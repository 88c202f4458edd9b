package stattest

import (
	"math"
	"testing"
)

func TestSignTestP(t *testing.T) {
	for _, tc := range []struct {
		wins, n int
		want    float64
	}{
		{12, 12, 1.0 / 4096},
		{0, 5, 1},
		{4, 5, 6.0 / 32}, // C(5,4)+C(5,5) = 6
		{6, 10, 386.0 / 1024},
	} {
		if got := SignTestP(tc.wins, tc.n); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("SignTestP(%d, %d) = %v, want %v", tc.wins, tc.n, got, tc.want)
		}
	}
}
