// Package cnn defines the paper's two convolutional networks and their
// hyperparameter search spaces (Seifi & Niaki 2023, Table 2).
//
// # Case 1 (CIFAR-10)
//
// As in the paper: three 3×3 convolutions (widths Conv[0..2]), each followed
// by ReLU and 2×2 max pooling (32→16→8→4), then two fully connected layers
// (widths FC[0..1]) with ReLU, and a linear output layer of 10 classes.
// Convolutions use "same" zero padding, stride 1 and a bias. Every layer
// is initialized as PyTorch initializes it by default (weights and biases
// uniform in ±1/√fan_in), since the paper trained with PyTorch.
//
// # Case 2 (CIFAR-100)
//
// The paper only says that case 2 differs in "drop rate, kernel size, the
// presence of activation function types … and a fixed size convolutional
// layer". hgdtune's case-2 network is therefore this documented choice:
//
//  1. a fixed convolution, 5×5, 32 filters, activation (the fixed-size layer,
//     with the larger kernel);
//  2. three 3×3 convolutions of widths Conv[0..2], each followed by the
//     activation and 2×2 max pooling (32→16→8→4);
//  3. dropout (rate Dropout, default 0.25), then two fully connected layers
//     (widths FC[0..1]) with the activation, each followed by dropout;
//  4. a linear output layer of 100 classes.
//
// The activation is leaky ReLU (slope 0.01, PyTorch's default) unless set
// otherwise (ReLU, Swish and SELU are options); dropout is active only while
// training.
//
// # Implementations
//
// Convolution and pooling come from package nn: the im2col implementation on
// GoMLX's pure-Go backend (much faster there, and the only one with a
// pooling gradient), GoMLX's standard ops on XLA. Config.Impl chooses;
// left nn.Auto, trainer.New picks by its backend (nn.ForBackend).
//
// Inputs are normalized images [batch, 32, 32, 3] (NHWC) in float32; the
// model returns logits [batch, classes].
package cnn

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX's graph DSL
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/support/exceptions"

	"github.com/hgdtune/hgdtune/nn"
)

// Case selects one of the paper's two case studies.
type Case int

const (
	// Case1 is the CIFAR-10 network (3 conv + 2 fc).
	Case1 Case = 1
	// Case2 is the CIFAR-100 network (fixed conv + 3 conv + 2 fc, dropout).
	Case2 Case = 2
)

func (c Case) String() string { return fmt.Sprintf("case%d", int(c)) }

// ParseCase accepts "1", "2", "case1", "case2", "cifar10" and "cifar100".
func ParseCase(s string) (Case, error) {
	switch strings.ToLower(s) {
	case "1", "case1", "cifar10":
		return Case1, nil
	case "2", "case2", "cifar100":
		return Case2, nil
	}
	return 0, fmt.Errorf("cnn: unknown case %q (want case1 or case2)", s)
}

// Classes returns the number of output classes of the case's data set.
func (c Case) Classes() int {
	if c == Case2 {
		return 100
	}
	return 10
}

// Case-2 fixed layer and defaults.
const (
	FixedConvKernel  = 5    // kernel size of case 2's fixed convolution
	FixedConvFilters = 32   // filters of case 2's fixed convolution
	DefaultDropout   = 0.25 // case 2's default dropout rate
)

// ErrConfig is wrapped by every configuration error of this package.
var ErrConfig = errors.New("cnn: invalid configuration")

// Config is a network's architecture. The zero value is not valid: set Case
// and the widths (Default returns a complete one).
type Config struct {
	Case Case
	// Conv are the widths (filters) of the three searched convolutions.
	Conv [3]int
	// FC are the widths of the two hidden fully connected layers.
	FC [2]int
	// Dropout is case 2's dropout rate in [0, 1); 0 means DefaultDropout.
	// Use a negative value for no dropout. Ignored by case 1.
	Dropout float64
	// Activation is case 2's activation: "leaky_relu" (default), "relu",
	// "swish" or "selu". Case 1 always uses ReLU.
	Activation string
	// Impl chooses the convolution/pooling implementation. nn.Auto (the
	// zero value) lets trainer.New pick the one for its backend; the model
	// built directly treats it as nn.Im2Col.
	Impl nn.Impl
}

// Default returns the middle-of-the-domain network of a case: conv
// 32/64/128 and fc 256/128 (case 1), conv 32/128/256 and fc 512/256 (case 2).
func Default(c Case) Config {
	if c == Case2 {
		return Config{Case: Case2, Conv: [3]int{32, 128, 256}, FC: [2]int{512, 256}}
	}
	return Config{Case: Case1, Conv: [3]int{32, 64, 128}, FC: [2]int{256, 128}}
}

// Validate checks the case, widths (positive; the search spaces restrict
// them further), dropout and activation.
func (c Config) Validate() error {
	if c.Case != Case1 && c.Case != Case2 {
		return fmt.Errorf("%w: unknown case %d", ErrConfig, int(c.Case))
	}
	for i, w := range c.Conv {
		if w <= 0 {
			return fmt.Errorf("%w: conv%d width %d must be > 0", ErrConfig, i+1, w)
		}
	}
	for i, w := range c.FC {
		if w <= 0 {
			return fmt.Errorf("%w: fc%d width %d must be > 0", ErrConfig, i+1, w)
		}
	}
	for i, w := range append(append([]int{}, c.Conv[:]...), c.FC[:]...) {
		if w > MaxWidth {
			name := fmt.Sprintf("conv%d", i+1)
			if i >= len(c.Conv) {
				name = fmt.Sprintf("fc%d", i-len(c.Conv)+1)
			}
			return fmt.Errorf("%w: %s width %d is more than %d", ErrConfig, name, w, MaxWidth)
		}
	}
	if m := c.TrainingMemory(1); m > MemoryLimit {
		return fmt.Errorf("%w: the network has %d parameters and needs about %.1f GiB to train, more than the %d GiB limit", ErrConfig,
			c.Params(), m/(1<<30), MemoryLimit>>30)
	}
	if c.Dropout >= 1 {
		return fmt.Errorf("%w: dropout %v must be < 1", ErrConfig, c.Dropout)
	}
	if _, err := c.activation(); err != nil {
		return err
	}
	return nil
}

func (c Config) activation() (nn.Activation, error) {
	if c.Case == Case1 {
		return nn.ReLU, nil
	}
	if c.Activation == "" {
		return nn.LeakyReLU, nil
	}
	a, err := nn.ParseActivation(c.Activation)
	if err != nil || a == nn.None {
		return 0, fmt.Errorf("%w: unknown activation %q (want leaky_relu, relu, swish or selu)", ErrConfig, c.Activation)
	}
	return a, nil
}

func (c Config) dropout() float64 {
	switch {
	case c.Case != Case2 || c.Dropout < 0:
		return 0
	case c.Dropout == 0:
		return DefaultDropout
	}
	return c.Dropout
}

// String is a compact description, e.g. "case1 conv 32/64/128 fc 256/128".
func (c Config) String() string {
	s := fmt.Sprintf("%s conv %d/%d/%d fc %d/%d", c.Case, c.Conv[0], c.Conv[1], c.Conv[2], c.FC[0], c.FC[1])
	if c.Case == Case2 {
		act, _ := c.activation()
		s += fmt.Sprintf(" %s dropout %.2g", act, c.dropout())
	}
	return s
}

// Params returns the number of trainable parameters of the network.
func (c Config) Params() int {
	n := 0
	in := 3
	if c.Case == Case2 {
		n += FixedConvKernel*FixedConvKernel*in*FixedConvFilters + FixedConvFilters
		in = FixedConvFilters
	}
	for _, w := range c.Conv {
		n += 9*in*w + w
		in = w
	}
	in *= 16 // 4×4 after three poolings
	for _, w := range c.FC {
		n += in*w + w
		in = w
	}
	return n + in*c.Case.Classes() + c.Case.Classes()
}

// Activations returns the number of values one image's forward pass
// produces in the network's layers (the convolutions' outputs at their
// resolutions and the dense layers'), which a training step keeps for the
// backward pass.
func (c Config) Activations() int {
	n, res := 0, 32
	if c.Case == Case2 {
		n += res * res * FixedConvFilters
	}
	for _, w := range c.Conv {
		n += res * res * w
		res /= 2
	}
	for _, w := range c.FC {
		n += w
	}
	return n + c.Case.Classes()
}

// MaxWidth is the widest layer (channels or units) Validate accepts.
const MaxWidth = 1 << 16

// MemoryLimit is the most memory (bytes) that TrainingMemory may estimate
// for a network that Validate accepts: far beyond Table 2's networks (a few
// MiB), it stops a typo in a width from ending in an out-of-memory crash.
const MemoryLimit = 32 << 30

// TrainingMemory estimates the memory (bytes, float32) of training the
// network with batch images a step: its parameters four times (weights,
// gradients and two optimizer states) and, per image of the batch, its
// activations three times (forward values, their gradients and a
// workspace).
func (c Config) TrainingMemory(batch int) float64 {
	return 4 * (4*float64(c.Params()) + 3*float64(batch)*float64(c.Activations()))
}

// FLOPs returns the floating-point operations of one forward pass of one
// image (a multiply-add counts 2): the convolutions at their resolutions
// (32, then 16 and 8 after each pooling) and the dense layers; activations,
// pooling and the loss are left out (they are a few percent). A training
// step costs about three forward passes per image (forward, and a backward
// pass twice as expensive); the compute clock of package reproduce charges
// steps from it.
func (c Config) FLOPs() float64 {
	f := 0.0
	in, res := 3, 32
	if c.Case == Case2 {
		f += float64(res*res*FixedConvKernel*FixedConvKernel*in*FixedConvFilters) * 2
		in = FixedConvFilters
	}
	for _, w := range c.Conv {
		f += float64(res*res*9*in*w) * 2
		in, res = w, res/2
	}
	in *= res * res // 4×4 after three poolings
	for _, w := range c.FC {
		f += float64(in*w) * 2
		in = w
	}
	return f + float64(in*c.Case.Classes())*2
}

// pytorchInit returns PyTorch's default initialization of a layer with
// fanIn inputs — weights and biases uniform in ±1/√fanIn (kaiming_uniform
// with a = √5) — since the paper trained its networks with PyTorch.
func pytorchInit(scope *model.Scope, fanIn int) *model.Scope {
	b := 1 / math.Sqrt(float64(fanIn))
	return scope.WithInitializer(initializer.RandomUniformFn(scope, -b, b))
}

// block is a k×k convolution with bias, the activation and optionally 2×2
// max pooling, in its own scope (nn.ConvBlock).
func block(scope *model.Scope, x *Node, k, filters int, act nn.Activation, pool bool, impl nn.Impl) *Node {
	cin := x.Shape().Dimensions[3]
	g := x.Graph()
	scope = pytorchInit(scope, k*k*cin)
	kernel := scope.VariableWithShape("weights", shapes.Make(x.DType(), k, k, cin, filters)).NodeValue(g)
	bias := scope.VariableWithShape("biases", shapes.Make(x.DType(), filters)).NodeValue(g)
	return nn.ConvBlock(x, kernel, bias, act, pool, impl)
}

// dense is a fully connected layer with bias in its own scope.
func dense(scope *model.Scope, x *Node, out int) *Node {
	in := x.Shape().Dimensions[1]
	g := x.Graph()
	scope = pytorchInit(scope, in)
	w := scope.VariableWithShape("weights", shapes.Make(x.DType(), in, out)).NodeValue(g)
	b := scope.VariableWithShape("biases", shapes.Make(x.DType(), out)).NodeValue(g)
	return Add(MatMul(x, w), Reshape(b, 1, out))
}

// Model returns the model function of the configuration, for
// train.NewTrainer and model.NewExec: it maps normalized images
// [batch, 32, 32, 3] to logits [batch, classes]. It panics (GoMLX's graph
// building convention) when the configuration is invalid.
func (c Config) Model() func(scope *model.Scope, images *Node) *Node {
	if err := c.Validate(); err != nil {
		panic(err)
	}
	act, _ := c.activation()
	drop := c.dropout()
	impl := c.Impl
	return func(scope *model.Scope, x *Node) *Node {
		if d := x.Shape().Dimensions; x.Rank() != 4 || d[1] != 32 || d[2] != 32 || d[3] != 3 {
			exceptions.Panicf("cnn: images must be [batch, 32, 32, 3], got %s", x.Shape())
		}
		if c.Case == Case2 {
			x = block(scope.In("fixed_conv"), x, FixedConvKernel, FixedConvFilters, act, false, impl)
		}
		for i, w := range c.Conv {
			x = block(scope.In("conv%d", i+1), x, 3, w, act, true, impl)
		}
		batch := x.Shape().Dimensions[0]
		x = Reshape(x, batch, -1)
		x = layers.DropoutStatic(scope, x, drop)
		for i, w := range c.FC {
			x = act.Apply(dense(scope.In("fc%d", i+1), x, w))
			x = layers.DropoutStatic(scope, x, drop)
		}
		return dense(scope.In("output"), x, c.Case.Classes())
	}
}

// Widths lists Table 2's domains of the architecture hyperparameters.
type Widths struct {
	Conv  [3][]int
	FC    [2][]int
	Batch []int
}

// Table2 returns the paper's domains for a case (../shared/paper/NOTES.md).
func Table2(c Case) Widths {
	pow2 := func(lo, hi int) []int {
		var out []int
		for v := lo; v <= hi; v *= 2 {
			out = append(out, v)
		}
		return out
	}
	if c == Case2 {
		return Widths{
			Conv:  [3][]int{pow2(8, 128), pow2(32, 2048), pow2(64, 4096)},
			FC:    [2][]int{pow2(64, 4096), pow2(32, 2048)},
			Batch: pow2(32, 256),
		}
	}
	return Widths{
		Conv:  [3][]int{pow2(4, 512), pow2(4, 512), pow2(4, 512)},
		FC:    [2][]int{pow2(128, 2048), pow2(32, 256)},
		Batch: pow2(4, 64),
	}
}

// Contains reports whether a network and batch size lie in the domains.
func (w Widths) Contains(c Config, batch int) bool {
	for i := range c.Conv {
		if !slices.Contains(w.Conv[i], c.Conv[i]) {
			return false
		}
	}
	for i := range c.FC {
		if !slices.Contains(w.FC[i], c.FC[i]) {
			return false
		}
	}
	return slices.Contains(w.Batch, batch)
}
