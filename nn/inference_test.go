package nn

import (
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/hgdtune/hgdtune/backend/backendtest"
)

// A compiled graph that is not in training mode reads, at every call, the
// values its variables have then, also when they had values before it was
// compiled (the pure-Go backend would otherwise build them in as
// constants), and it is not in training mode.
func TestInferenceReadsCurrentValues(t *testing.T) {
	be := backendtest.Go(t)
	store := model.NewStore()
	w := store.RootScope().In("model").VariableWithValue("w", float32(2))
	training := true
	exec, err := model.NewExec(be, store, func(scope *model.Scope, x *Node) *Node {
		scope = scope.In("model")
		Inference(scope, x.Graph())
		training = scope.IsTraining(x.Graph())
		return Mul(x, w.ValueGraph(x.Graph()))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	for _, v := range []float32{2, 3, -1} {
		if err := w.SetValue(tensors.FromValue(v)); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Call1(float32(10))
		if err != nil {
			t.Fatal(err)
		}
		if got := out.Value().(float32); got != 10*v {
			t.Errorf("w = %v: got %v, want %v", v, got, 10*v)
		}
	}
	if training {
		t.Error("the graph is in training mode")
	}
}
