package nn_test

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/hgdtune/hgdtune/backend"
	"github.com/hgdtune/hgdtune/nn"
)

// An evaluation compiled once reads the weights as they are at each call.
func ExampleInference() {
	be, err := backend.New("go")
	if err != nil {
		panic(err)
	}
	defer be.Finalize()
	store := model.NewStore()
	w := store.RootScope().In("model").VariableWithValue("w", float32(2))
	predict, err := model.NewExec(be, store, func(scope *model.Scope, x *Node) *Node {
		scope = scope.In("model")
		nn.Inference(scope, x.Graph()) // first: no training mode, variables as parameters
		return Mul(x, w.ValueGraph(x.Graph()))
	})
	if err != nil {
		panic(err)
	}
	defer predict.Finalize()
	for _, v := range []float32{2, 3} {
		if err := w.SetValue(tensors.FromValue(v)); err != nil { // as a training step would
			panic(err)
		}
		y, err := predict.Call1(float32(10))
		if err != nil {
			panic(err)
		}
		fmt.Println(y.Value())
	}
	// Output:
	// 20
	// 30
}
