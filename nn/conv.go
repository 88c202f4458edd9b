// Package nn holds the convolution and pooling layers of hgdtune's CNNs, in
// two implementations that compute the same function:
//
//   - Standard: GoMLX's own Convolve and MaxPool ops. Use it on XLA, where
//     they map to cuDNN/Eigen kernels.
//   - Im2Col: a convolution written as one matrix multiplication over
//     image patches, and 2×2 pooling as Reshape + ReduceMax. GoMLX's pure-Go
//     backend runs Convolve as a naive loop (about 12 images/s for the
//     paper's case-1 CNN on 2 cores) and has no gradient for MaxPool
//     (SelectAndScatterMax is missing), while its matmul is fast with
//     GOEXPERIMENT=simd; Im2Col moves all the work into that matmul.
//
// Im2Col builds patches from k×k shifted Slices of the input (zero padding
// by Concatenate, since Pad has no gradient on the Go backend), concatenates
// them on the channel axis — the same (dy, dx, channel) order as a
// [k, k, Cin, Cout] kernel flattened — and multiplies by the flattened kernel.
// Its gradient is the transpose of each step (Slice's gradient is a Pad,
// which the Go backend executes forward).
//
// ForBackend picks the implementation from a backend name (trainer.New
// calls it for a network whose Impl is Auto). Parity tests
// check both paths give the same outputs and gradients within float32
// tolerance.
//
// # Speed on the pure-Go backend
//
// scripts/throughput trains the paper's case-1 CNN (conv 32/64/128, fc
// 256/128) with SGD+momentum and compares it with the same network in
// PyTorch-CPU (Debian's 1.13) in the same run. On the 2-core AMD EPYC
// development machine, GOEXPERIMENT=simd, GoMLX v0.28.16, medians of 5
// paired repeats of 10 s (docs/results/throughput-cpu.md):
//
//	| threads | batch | Go img/CPU-s | PyTorch img/CPU-s | Go/PyTorch | Go peak RSS |
//	|---------|-------|--------------|-------------------|------------|-------------|
//	|       2 |    32 |     337      |        364        |    0.92    |   243 MiB   |
//	|       2 |   128 |     336      |        462        |    0.72    |   571 MiB   |
//	|       1 |    32 |     351      |        496        |    0.71    |   200 MiB   |
//	|       1 |   128 |     337      |        518        |    0.65    |   428 MiB   |
//
// That is 1.51–1.57 times the images per CPU-second of GoMLX v0.28.2 in
// the same runs. GoMLX's own Convolve is 24 times slower than Im2Col there
// (BenchmarkConv2D: 45 vs 1096 img/s for one layer). What remains (pprof
// of a batch-128 step): the element-by-element Slice copies that build the
// patch matrices (31%), the matrix products (29%), element-wise iteration
// (13%), ReduceMax's pooling (7.5%), memmove and Transpose (5% each).
package nn

import (
	"fmt"

	"github.com/hgdtune/hgdtune/backend"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Impl selects a layer implementation.
type Impl int

const (
	// Auto is resolved from the backend by trainer.New (ForBackend of the
	// backend's name); layers given it treat it as Im2Col.
	Auto Impl = iota
	// Standard uses GoMLX's Convolve and MaxPool ops.
	Standard
	// Im2Col uses patch matrices and one matmul, and Reshape + ReduceMax pooling.
	Im2Col
)

func (i Impl) String() string {
	switch i {
	case Auto:
		return "auto"
	case Standard:
		return "standard"
	case Im2Col:
		return "im2col"
	}
	return fmt.Sprintf("Impl(%d)", int(i))
}

// ForBackend returns the faster implementation for a compute backend name
// or specification ("go", "xla:cuda", "stablehlo", …): Standard on XLA,
// Im2Col elsewhere.
func ForBackend(name string) Impl {
	if backend.IsXLA(name) {
		return Standard
	}
	return Im2Col
}

// Conv2D convolves x [batch, H, W, Cin] (channels last) with kernel
// [k, k, Cin, Cout], stride 1 and "same" zero padding (k odd), and returns
// [batch, H, W, Cout]. No bias.
func Conv2D(x, kernel *Node, impl Impl) *Node {
	checkConv("nn.Conv2D", x, kernel)
	if impl == Standard {
		return Convolve(x, kernel).PadSame().Done()
	}
	return conv2DIm2Col(x, kernel)
}

// checkConv panics (graph building) unless x is [B,H,W,C] and kernel a
// square, odd-sized [k,k,C,Cout].
func checkConv(op string, x, kernel *Node) {
	if x.Rank() != 4 || kernel.Rank() != 4 {
		exceptions.Panicf("%s: x must be [B,H,W,C] and kernel [k,k,Cin,Cout]; got %s and %s", op, x.Shape(), kernel.Shape())
	}
	kd := kernel.Shape().Dimensions
	if kd[0] != kd[1] || kd[0]%2 == 0 || kd[2] != x.Shape().Dimensions[3] {
		exceptions.Panicf("%s: kernel %s does not fit x %s (square, odd size, Cin = %d)", op, kernel.Shape(), x.Shape(), x.Shape().Dimensions[3])
	}
}

// zeroPadHW pads x [B,H,W,C] with p zeros on each side of H and W, using
// Concatenate (differentiable on every backend).
func zeroPadHW(x *Node, p int) *Node {
	if p == 0 {
		return x
	}
	g := x.Graph()
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1], d[2], d[3]
	zh := Zeros(g, shapeOf(x, b, p, w, c))
	x = Concatenate([]*Node{zh, x, zh}, 1)
	zw := Zeros(g, shapeOf(x, b, h+2*p, p, c))
	return Concatenate([]*Node{zw, x, zw}, 2)
}

func conv2DIm2Col(x, kernel *Node) *Node {
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1], d[2], d[3]
	k := kernel.Shape().Dimensions[0]
	cout := kernel.Shape().Dimensions[3]
	out := MatMul(im2col(x, k), Reshape(kernel, k*k*c, cout))
	return Reshape(out, b, h, w, cout)
}

// MaxPool2 is 2×2 max pooling with stride 2 over x [B,H,W,C] (H and W even).
func MaxPool2(x *Node, impl Impl) *Node {
	if x.Rank() != 4 {
		exceptions.Panicf("nn.MaxPool2: x must be [B,H,W,C], got %s", x.Shape())
	}
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1], d[2], d[3]
	if h%2 != 0 || w%2 != 0 {
		exceptions.Panicf("nn.MaxPool2: H and W must be even, got %s", x.Shape())
	}
	if impl == Standard {
		return MaxPool(x).Window(2).Strides(2).Done()
	}
	return ReduceMax(Reshape(x, b, h/2, 2, w/2, 2, c), 2, 4)
}

// ConvBlock is one convolutional block of the paper's CNNs: a k×k "same"
// convolution of x [B,H,W,Cin] with kernel [k,k,Cin,Cout] plus bias [Cout],
// the activation, and, if pool, 2×2 max pooling. It returns [B,H',W',Cout]
// (channels last).
//
// With Im2Col it computes the product in the transposed orientation,
// yᵀ[Cout, BHW] = Kᵀ[Cout, k²Cin] · colsᵀ, applies bias, pooling and
// activation in that [Cout, B, H, W] layout, and transposes back to
// channels last only after pooling. On the pure-Go backend this matters:
// its DotGeneral transposes any operand whose contracting axis is not where
// its kernels want it, and the kernel gradient of a plain
// cols[BHW, k²Cin]·K product would transpose the whole patch matrix every
// step; in this orientation it needs no transpose, and the only large
// transposes left are of the pooled output. A non-decreasing activation is
// applied after pooling (the same function, on four times fewer values).
func ConvBlock(x, kernel, bias *Node, act Activation, pool bool, impl Impl) *Node {
	checkConv("nn.ConvBlock", x, kernel)
	if pool && (x.Shape().Dimensions[1]%2 != 0 || x.Shape().Dimensions[2]%2 != 0) {
		exceptions.Panicf("nn.ConvBlock: pooling needs even H and W, got %s", x.Shape())
	}
	if impl == Standard {
		y := Conv2D(x, kernel, Standard)
		cout := kernel.Shape().Dimensions[3]
		y = act.Apply(Add(y, Reshape(bias, 1, 1, 1, cout)))
		if pool {
			y = MaxPool2(y, Standard)
		}
		return y
	}
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1], d[2], d[3]
	k, cout := kernel.Shape().Dimensions[0], kernel.Shape().Dimensions[3]
	cols := im2col(x, k)                                     // [BHW, k²C]
	kt := Transpose(Reshape(kernel, k*k*c, cout), 0, 1)      // [Cout, k²C], small
	yt := DotGeneral(kt, []int{1}, nil, cols, []int{1}, nil) // [Cout, BHW]
	yt = Add(yt, Reshape(bias, cout, 1))
	actAfter := pool && act.NonDecreasing()
	if !actAfter {
		yt = act.Apply(yt)
	}
	if pool {
		yt = ReduceMax(Reshape(yt, cout, b, h/2, 2, w/2, 2), 3, 5) // [Cout, B, H/2, W/2]
		h, w = h/2, w/2
	}
	if actAfter {
		yt = act.Apply(yt)
	}
	yt = Reshape(yt, cout, b*h*w)
	return Reshape(Transpose(yt, 0, 1), b, h, w, cout)
}

// im2col returns the patch matrix [B·H·W, k²·C] of x [B,H,W,C] for a k×k
// "same" convolution, columns in (dy, dx, c) order.
func im2col(x *Node, k int) *Node {
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1], d[2], d[3]
	if k == 1 {
		return Reshape(x, b*h*w, c)
	}
	xp := zeroPadHW(x, k/2)
	parts := make([]*Node, 0, k*k)
	for dy := 0; dy < k; dy++ {
		for dx := 0; dx < k; dx++ {
			parts = append(parts, Slice(xp, AxisRange(), AxisRange(dy, dy+h), AxisRange(dx, dx+w), AxisRange()))
		}
	}
	return Reshape(Concatenate(parts, 3), b*h*w, k*k*c)
}
