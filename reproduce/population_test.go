package reproduce

import (
	"testing"

	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/hpo/genetic"
)

// The genetic algorithm mutates the genes the arms share (the widths and
// the batch size) with the same probability in both arms: one over the
// size of the SGD arm's space (Table 2's full space), although the HGD
// arm's space lacks the learning rate and momentum.
func TestGeneticArmsMutateAlike(t *testing.T) {
	for name, p := range Presets() {
		sgd, err := p.Space(cnn.ArmSGD)
		if err != nil {
			t.Fatal(err)
		}
		want := 1 / float64(len(sgd))
		for _, arm := range []cnn.Arm{cnn.ArmSGD, cnn.ArmHGD} {
			space, err := p.Space(arm)
			if err != nil {
				t.Fatal(err)
			}
			_, s, err := scheduler(p, Genetic, space, 1)
			if err != nil {
				t.Fatal(err)
			}
			g := s.(*pairedInitial).Searcher.(*genetic.Searcher)
			if got := g.MutationProb(); got != want {
				t.Errorf("%s, %s arm (%d parameters): shared genes mutate with probability %.4f, want %.4f (1/%d)",
					name, arm, len(space), got, want, len(sgd))
			}
		}
	}
}
