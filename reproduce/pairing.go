package reproduce

import (
	"hash/fnv"

	"github.com/hgdtune/hgdtune/hpo"
)

// Paired draws. The two arms search different spaces (the HGD arm's lacks
// the learning rate and momentum), so hpo.Random, which draws a trial's
// whole configuration from one stream, would give trial t of seed k
// different architectures in the two arms. pairedSearcher instead draws
// each parameter from its own stream, a function of (seed, trial,
// parameter name) only: u = hpo.Unit(seed, trial, FNV-1a(name)), the value
// Domain.FromUnit(u), which has the domain's prior distribution. Trial t of
// seed k therefore has the same conv/fc widths and batch size in both arms
// (given the same caps), and the comparison of the arms is paired: seed k
// of SGD and seed k of HGD differ only in the optimizer.

// paramStream is the stream index of a parameter: its FNV-1a hash.
func paramStream(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// pairedDraw returns trial id's configuration of space under seed, each
// parameter drawn from the stream of (seed, id, name).
func pairedDraw(space hpo.Space, seed uint64, id hpo.TrialID) hpo.Config {
	cfg := make(hpo.Config, len(space))
	for _, p := range space {
		cfg[p.Name] = p.Domain.FromUnit(hpo.Unit(seed, uint64(id), paramStream(p.Name)))
	}
	return cfg
}

// pairedRandom is random search with paired draws (see pairedDraw): every
// configuration is drawn independently from the space's prior, the same
// for every parameter the arms share.
type pairedRandom struct {
	Space hpo.Space
	Seed  uint64
}

// pairedSearcher returns the random searcher of a run with paired draws:
// the start configurations of random search, ASHA, Async Hyperband and
// Hyperband (scheduler) and the initial populations of PBT, PB2 and the
// genetic algorithm (populationScheduler).
func pairedSearcher(space hpo.Space, seed uint64) hpo.Searcher {
	return &pairedRandom{Space: space, Seed: seed}
}

// Validate checks the space.
func (s *pairedRandom) Validate() error { return s.Space.Validate() }

// Suggest implements hpo.Searcher.
func (s *pairedRandom) Suggest(_ hpo.View, id hpo.TrialID) (hpo.Config, error) {
	return pairedDraw(s.Space, s.Seed, id), nil
}

// Observe implements hpo.Searcher; random search ignores results.
func (s *pairedRandom) Observe(hpo.View, hpo.Result, hpo.Status) {}

// pairedInitial is a searcher whose first N trials (an initial
// population) are paired draws; later trials come from the wrapped
// searcher, which reads the population's configurations through the View
// and so breeds from the paired ones.
type pairedInitial struct {
	hpo.Searcher
	Space hpo.Space
	Seed  uint64
	N     int
}

// Validate checks the wrapped searcher, if it can.
func (s *pairedInitial) Validate() error {
	if v, ok := s.Searcher.(hpo.Validator); ok {
		return v.Validate()
	}
	return s.Space.Validate()
}

// Suggest implements hpo.Searcher.
func (s *pairedInitial) Suggest(v hpo.View, id hpo.TrialID) (hpo.Config, error) {
	if int(id) < s.N {
		return pairedDraw(s.Space, s.Seed, id), nil
	}
	return s.Searcher.Suggest(v, id)
}
