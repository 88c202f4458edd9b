package nn

import (
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
)

func shapeOf(x *Node, dims ...int) shapes.Shape { return shapes.Make(x.DType(), dims...) }
