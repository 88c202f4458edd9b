package hpo

import "math/rand/v2"

// Mix returns a well-mixed 64-bit hash of seed and the values (SplitMix64
// steps). Schedulers use it for seeded, order-independent choices such as a
// trial's bracket.
func Mix(seed uint64, values ...uint64) uint64 {
	h := splitmix(seed ^ 0x6a09e667f3bcc909)
	for _, v := range values {
		h = splitmix(h ^ splitmix(v+0x9e3779b97f4a7c15))
	}
	return h
}

// Unit returns Mix(seed, values...) as a float64 uniform in [0, 1).
func Unit(seed uint64, values ...uint64) float64 {
	return float64(Mix(seed, values...)>>11) / (1 << 53)
}

// TrialRand returns the random source of trial id under seed: the same
// (seed, id) always gives the same stream, whatever the order in which
// trials are created or the number of slots.
func TrialRand(seed uint64, id TrialID) *rand.Rand {
	return rand.New(rand.NewPCG(Mix(seed, uint64(id)), Mix(seed^0xdeadbeef, uint64(id))))
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
