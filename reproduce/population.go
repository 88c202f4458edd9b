package reproduce

import (
	"fmt"

	"github.com/hgdtune/hgdtune/hpo"
)

// populationScheduler builds PBT, PB2 and the genetic algorithm.
func populationScheduler(p Preset, alg string, space hpo.Space, seed uint64) (hpo.Scheduler, hpo.Searcher, error) {
	return nil, nil, fmt.Errorf("%w: algorithm %q is not available yet", ErrConfig, alg)
}
