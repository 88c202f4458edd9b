package nn

import (
	"fmt"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/hgdtune/hgdtune/backend/backendtest"
)

// BenchmarkConv2D times forward + both gradients of one 3×3 convolution of
// the case-1 CNN's second layer (batch 32, 16×16, 32→64 channels) on the
// pure-Go backend. Run with GOEXPERIMENT=simd.
func BenchmarkConv2D(b *testing.B) {
	be := backendtest.Go(b)
	for _, impl := range []Impl{Im2Col, Standard} {
		b.Run(fmt.Sprint(impl), func(b *testing.B) {
			exec := MustNewExec(be, func(x, k *Node) []*Node {
				return Gradient(ReduceAllSum(Conv2D(x, k, impl)), x, k)
			})
			defer exec.Finalize()
			x := tensors.FromShape(shapes.Make(dtypes.Float32, 32, 16, 16, 32))
			k := tensors.FromShape(shapes.Make(dtypes.Float32, 3, 3, 32, 64))
			exec.MustCall(x, k)
			b.ResetTimer()
			for range b.N {
				exec.MustCall(x, k)
			}
			b.ReportMetric(float64(32*b.N)/b.Elapsed().Seconds(), "img/s")
		})
	}
}
