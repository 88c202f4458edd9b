package nn

import (
	"strings"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX's graph DSL
	"github.com/gomlx/gomlx/ml/model"
)

// Inference prepares g, a graph being built, as an inference graph of the
// variables under scope: g is not in training mode (dropout is off), and
// every variable under scope that already has a value is read from the
// store at each execution of the compiled graph. Call it first in the
// function of every compiled graph that reads variables outside training
// (evaluation, prediction).
//
// Without it, GoMLX's pure-Go backend, which prefers variables as graph
// constants (compute.Capabilities.PreferConstantsForVariables), gets every
// variable that has a value built into a non-training graph as a constant,
// so that a compiled evaluation keeps the weights of its first call. GoMLX
// makes a variable a parameter of a graph in training mode; Inference
// binds the scope's variables to g while g is in training mode, then takes
// g out of it before any layer is built. Variables created later, while
// the graph is built, have no value yet and are parameters anyway.
func Inference(scope *model.Scope, g *Graph) {
	store := scope.Store()
	prefix := strings.TrimSuffix(scope.Scope(), model.ScopeSeparator) + model.ScopeSeparator
	store.SetTraining(g, true)
	for v := range store.IterVariables() {
		if strings.HasPrefix(v.Path(), prefix) && v.HasValue() {
			v.ValueGraph(g)
		}
	}
	store.SetTraining(g, false)
}
