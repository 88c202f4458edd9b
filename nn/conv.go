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
// ForBackend picks the implementation from a backend name. Parity tests
// check both paths give the same outputs and gradients within float32
// tolerance.
package nn

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Impl selects a layer implementation.
type Impl int

const (
	// Auto is resolved by the caller with ForBackend; layers treat it as Im2Col.
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
// (as returned by compute.Backend.Name(), or a spec such as "go" or "xla:cuda").
func ForBackend(name string) Impl {
	switch name {
	case "go", "Go Backend", "Go":
		return Im2Col
	}
	if len(name) >= 3 && (name[:3] == "xla" || name[:3] == "XLA") {
		return Standard
	}
	return Im2Col
}

// Conv2D convolves x [batch, H, W, Cin] (channels last) with kernel
// [k, k, Cin, Cout], stride 1 and "same" zero padding (k odd), and returns
// [batch, H, W, Cout]. No bias.
func Conv2D(x, kernel *Node, impl Impl) *Node {
	if x.Rank() != 4 || kernel.Rank() != 4 {
		exceptions.Panicf("nn.Conv2D: x must be [B,H,W,C] and kernel [k,k,Cin,Cout]; got %s and %s", x.Shape(), kernel.Shape())
	}
	k := kernel.Shape().Dimensions[0]
	if k != kernel.Shape().Dimensions[1] || k%2 == 0 {
		exceptions.Panicf("nn.Conv2D: kernel must be square with an odd size, got %s", kernel.Shape())
	}
	if cin := x.Shape().Dimensions[3]; kernel.Shape().Dimensions[2] != cin {
		exceptions.Panicf("nn.Conv2D: kernel input channels %d != x channels %d", kernel.Shape().Dimensions[2], cin)
	}
	if impl == Standard {
		return Convolve(x, kernel).PadSame().Done()
	}
	return conv2DIm2Col(x, kernel)
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
	p := k / 2
	xp := zeroPadHW(x, p)
	var cols *Node
	if k == 1 {
		cols = x
	} else {
		parts := make([]*Node, 0, k*k)
		for dy := 0; dy < k; dy++ {
			for dx := 0; dx < k; dx++ {
				parts = append(parts, Slice(xp, AxisRange(), AxisRange(dy, dy+h), AxisRange(dx, dx+w), AxisRange()))
			}
		}
		cols = Concatenate(parts, 3) // [B,H,W,k*k*C], (dy,dx,c) order
	}
	cols = Reshape(cols, b*h*w, k*k*c)
	out := MatMul(cols, Reshape(kernel, k*k*c, cout))
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
