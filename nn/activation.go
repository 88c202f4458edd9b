package nn

import (
	"fmt"
	"strings"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX's graph DSL
	"github.com/gomlx/gomlx/ml/layers/activation"
)

// Activation is an activation function of the paper's networks.
type Activation int

// The activations. ReLU and LeakyReLU are written as x·mask with the mask
// held constant for differentiation: the same function and gradient as
// GoMLX's Max(x, 0) form (except exactly at 0, where the gradient is 0, as
// in PyTorch), but the backward pass is one multiplication instead of the
// several sign computations GoMLX's generic Max gradient needs — a large
// part of a training step on the pure-Go backend.
const (
	None      Activation = iota // identity
	ReLU                        // max(x, 0)
	LeakyReLU                   // x if x > 0, else 0.01·x (PyTorch's default slope)
	Swish                       // x·sigmoid(x)
	SELU                        // scaled exponential linear unit
)

// LeakySlope is LeakyReLU's slope for negative inputs (PyTorch's default).
const LeakySlope = 0.01

var activationNames = [...]string{"none", "relu", "leaky_relu", "swish", "selu"}

func (a Activation) String() string {
	if a < 0 || int(a) >= len(activationNames) {
		return fmt.Sprintf("Activation(%d)", int(a))
	}
	return activationNames[a]
}

// ParseActivation accepts the names of String ("silu" for swish too).
func ParseActivation(s string) (Activation, error) {
	s = strings.ToLower(s)
	if s == "silu" {
		return Swish, nil
	}
	for i, n := range activationNames {
		if n == s {
			return Activation(i), nil
		}
	}
	return 0, fmt.Errorf("nn: unknown activation %q (want relu, leaky_relu, swish, selu or none)", s)
}

// NonDecreasing reports whether the activation commutes with max pooling
// (act(max(a, b)) = max(act(a), act(b))), so that it may be applied after
// pooling, on four times fewer values.
func (a Activation) NonDecreasing() bool { return a != Swish }

// Apply applies the activation to x.
func (a Activation) Apply(x *Node) *Node {
	g := x.Graph()
	switch a {
	case None:
		return x
	case ReLU:
		mask := ConvertDType(GreaterThan(x, ScalarZero(g, x.DType())), x.DType())
		return Mul(x, StopGradient(mask))
	case LeakyReLU:
		slope := Where(GreaterThan(x, ScalarZero(g, x.DType())), ScalarOne(g, x.DType()), Scalar(g, x.DType(), LeakySlope))
		return Mul(x, StopGradient(slope))
	case Swish:
		return activation.Swish(x)
	case SELU:
		return activation.Selu(x)
	}
	panic(fmt.Sprintf("nn: unknown activation %d", int(a)))
}
