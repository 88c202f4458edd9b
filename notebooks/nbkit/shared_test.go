package nbkit

import (
	"encoding/json"
	"testing"

	"github.com/hgdtune/hgdtune/hpo/pgstore"
	"github.com/hgdtune/hgdtune/reproduce"
)

// The runs of reproduction "a" are "a/<run>"; those of a reproduction
// "a/b" are not among them.
func TestSharedRunsOfOneReproduction(t *testing.T) {
	settings := func(alg string) json.RawMessage {
		b, _ := json.Marshal(reproduce.RunSettings{Preset: reproduce.Presets()["cpu-quick"], Algorithm: alg, Arm: "sgd"})
		return b
	}
	o := &pgstore.Overview{Experiments: []pgstore.ExperimentStatus{
		{Name: "a/asha-sgd-s0", Settings: settings("asha")},
		{Name: "a/b/pbt-sgd-s0", Settings: settings("pbt")},
		{Name: "ab/asha-sgd-s0", Settings: settings("asha")},
		{Name: "a/other", Settings: json.RawMessage(`{"x":1}`)},
	}}
	runs := sharedRuns(o, "a")
	if len(runs) != 1 || runs[0].Settings.Algorithm != "asha" {
		t.Errorf("runs of a: %+v, want a/asha-sgd-s0 alone", runs)
	}
	if runs := sharedRuns(o, "a/b"); len(runs) != 1 || runs[0].Settings.Algorithm != "pbt" {
		t.Errorf("runs of a/b: %+v, want a/b/pbt-sgd-s0 alone", runs)
	}
}
