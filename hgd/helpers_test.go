package hgd_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/hgdtune/hgdtune/hgd/internal/reftest"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"

	"github.com/hgdtune/hgdtune/hgd"
	"github.com/hgdtune/hgdtune/hgd/ref"
)

// problem is a deterministic loss with a float64 reference gradient and a
// GoMLX graph of the same loss. Parameters live in variables "/model/p<i>".
type problem struct {
	name  string
	dims  [][]int     // shape of each parameter tensor
	init  [][]float64 // initial values
	loss  func(p [][]float64) float64
	grad  func(p [][]float64) [][]float64
	graph func(g *Graph, p []*Node) *Node // the loss from the parameters' nodes
}

func size(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// quadratic is f(θ) = ½ Σ λ_i θ_i², λ log-spaced in [0.01, 10] (condition
// number 1000), over two tensors (a vector and a matrix).
func quadratic() problem {
	dims := [][]int{{3}, {2, 3}}
	var lambda [][]float64
	n := 9
	k := 0
	init := make([][]float64, len(dims))
	for i, d := range dims {
		l := make([]float64, size(d))
		init[i] = make([]float64, size(d))
		for j := range l {
			l[j] = 0.01 * math.Pow(1000, float64(k)/float64(n-1))
			init[i][j] = 1 + 0.1*float64(k)
			k++
		}
		lambda = append(lambda, l)
	}
	return problem{
		name: "quadratic",
		dims: dims,
		init: init,
		loss: func(p [][]float64) float64 {
			var s float64
			for i := range p {
				for j, x := range p[i] {
					s += 0.5 * lambda[i][j] * x * x
				}
			}
			return s
		},
		grad: func(p [][]float64) [][]float64 {
			out := make([][]float64, len(p))
			for i := range p {
				out[i] = make([]float64, len(p[i]))
				for j, x := range p[i] {
					out[i][j] = lambda[i][j] * x
				}
			}
			return out
		},
		graph: func(g *Graph, p []*Node) *Node {
			var s *Node
			for i := range p {
				l := ConvertDType(Const(g, tensors.FromFlatDataAndDimensions(lambda[i], dims[i]...)), p[i].DType())
				term := ReduceAllSum(Mul(l, Square(p[i])))
				if s == nil {
					s = term
				} else {
					s = Add(s, term)
				}
			}
			return MulScalar(s, 0.5)
		},
	}
}

// softmaxRegression is the mean cross-entropy of a linear classifier
// (W [d,k], b [k]) on n fixed generated examples.
func softmaxRegression() problem {
	const n, d, k = 32, 5, 3
	rng := rand.New(rand.NewPCG(7, 7))
	x := make([]float64, n*d)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	wTrue := make([]float64, d*k)
	for i := range wTrue {
		wTrue[i] = rng.NormFloat64()
	}
	labels := make([]int, n)
	onehot := make([]float64, n*k)
	for i := range n {
		best, bestV := 0, math.Inf(-1)
		for c := range k {
			var s float64
			for j := range d {
				s += x[i*d+j] * wTrue[j*k+c]
			}
			s += 0.5 * rng.NormFloat64() // label noise
			if s > bestV {
				best, bestV = c, s
			}
		}
		labels[i] = best
		onehot[i*k+best] = 1
	}
	init := [][]float64{make([]float64, d*k), make([]float64, k)}
	for i := range init[0] {
		init[0][i] = 0.1 * rng.NormFloat64()
	}
	forward := func(p [][]float64, i int) []float64 {
		z := make([]float64, k)
		for c := range k {
			z[c] = p[1][c]
			for j := range d {
				z[c] += x[i*d+j] * p[0][j*k+c]
			}
		}
		return z
	}
	lse := func(z []float64) float64 {
		var s float64
		for _, v := range z {
			s += math.Exp(v)
		}
		return math.Log(s)
	}
	return problem{
		name: "softmax",
		dims: [][]int{{d, k}, {k}},
		init: init,
		loss: func(p [][]float64) float64 {
			var s float64
			for i := range n {
				z := forward(p, i)
				s += lse(z) - z[labels[i]]
			}
			return s / n
		},
		grad: func(p [][]float64) [][]float64 {
			gw, gb := make([]float64, d*k), make([]float64, k)
			for i := range n {
				z := forward(p, i)
				l := lse(z)
				for c := range k {
					pr := math.Exp(z[c] - l)
					if c == labels[i] {
						pr--
					}
					pr /= n
					gb[c] += pr
					for j := range d {
						gw[j*k+c] += x[i*d+j] * pr
					}
				}
			}
			return [][]float64{gw, gb}
		},
		graph: func(g *Graph, p []*Node) *Node {
			dt := p[0].DType()
			xs := ConvertDType(Const(g, tensors.FromFlatDataAndDimensions(x, n, d)), dt)
			oh := ConvertDType(Const(g, tensors.FromFlatDataAndDimensions(onehot, n, k)), dt)
			z := Add(Dot(xs, p[0]).Product(), Reshape(p[1], 1, k))
			lseN := Log(ReduceSum(Exp(z), -1))
			return ReduceAllMean(Sub(lseN, ReduceSum(Mul(oh, z), -1)))
		},
	}
}

// runRef runs steps of ref.Update and returns the trajectory: parameters
// and state after each step.
func runRef(t testing.TB, pr problem, cfg ref.Config, steps int) ([][][]float64, []ref.State) {
	t.Helper()
	p := pr.init
	st, err := ref.Init(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	var ps [][][]float64
	var sts []ref.State
	for range steps {
		p, st, err = ref.Update(cfg, st, p, pr.grad(p))
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
		sts = append(sts, st)
	}
	return ps, sts
}

// def: see reftest.Def.
var def = reftest.Def

// gomlxRun holds a train.Trainer over a problem.
type gomlxRun struct {
	pr      problem
	store   *model.Store
	trainer *train.Trainer
	opt     *hgd.Optimizer
	dtype   dtypes.DType
}

func newGoMLXRun(t testing.TB, b compute.Backend, pr problem, cfg ref.Config, dtype dtypes.DType) *gomlxRun {
	t.Helper()
	store := model.NewStore()
	r := &gomlxRun{pr: pr, store: store, opt: hgd.New(cfg), dtype: dtype}
	modelFn := func(scope *model.Scope, x *Node) *Node {
		g := x.Graph()
		nodes := make([]*Node, len(pr.dims))
		ms := scope.In("model")
		for i, d := range pr.dims {
			var init *tensors.Tensor
			if dtype == dtypes.Float64 {
				init = tensors.FromFlatDataAndDimensions(pr.init[i], d...)
			} else {
				f := make([]float32, len(pr.init[i]))
				for j, v := range pr.init[i] {
					f[j] = float32(v)
				}
				init = tensors.FromFlatDataAndDimensions(f, d...)
			}
			nodes[i] = ms.VariableWithValue(fmt.Sprintf("p%d", i), init).NodeValue(g)
		}
		// The input x scales the loss: 1 normally, NaN or Inf to inject a
		// non-finite gradient.
		return Mul(pr.graph(g, nodes), x)
	}
	lossFn := func(_, predictions []*Node) *Node { return predictions[0] }
	r.trainer = train.NewTrainer(b, store, modelFn, lossFn, r.opt, nil, nil)
	return r
}

func (r *gomlxRun) step(t testing.TB) { r.stepScaled(t, 1) }

// stepScaled runs one training step on the loss multiplied by scale.
func (r *gomlxRun) stepScaled(t testing.TB, scale float64) {
	t.Helper()
	var x *tensors.Tensor
	if r.dtype == dtypes.Float64 {
		x = tensors.FromScalar(scale)
	} else {
		x = tensors.FromScalar(float32(scale))
	}
	if _, err := r.trainer.TrainStep(train.Batch{Inputs: []*tensors.Tensor{x}}); err != nil {
		t.Fatal(err)
	}
}

func (r *gomlxRun) params(t testing.TB) [][]float64 {
	t.Helper()
	out := make([][]float64, len(r.pr.dims))
	for i := range out {
		v := r.store.GetVariable(fmt.Sprintf("/model/p%d", i))
		if v == nil {
			t.Fatalf("no variable p%d", i)
		}
		val := v.MustValue()
		if r.dtype == dtypes.Float64 {
			out[i] = tensors.MustCopyFlatData[float64](val)
		} else {
			for _, f := range tensors.MustCopyFlatData[float32](val) {
				out[i] = append(out[i], float64(f))
			}
		}
	}
	return out
}

func (r *gomlxRun) scalar(t testing.TB, name string) float64 {
	t.Helper()
	v, err := r.opt.Read(r.store, name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// relErr is ‖a−b‖/max(‖b‖, tiny) over all tensors.
func relErr(a, b [][]float64) float64 {
	var num, den float64
	for i := range a {
		for j := range a[i] {
			d := a[i][j] - b[i][j]
			num += d * d
			den += b[i][j] * b[i][j]
		}
	}
	return math.Sqrt(num) / math.Max(math.Sqrt(den), 1e-300)
}

func relScalar(a, b float64) float64 {
	if a == b {
		return 0
	}
	return math.Abs(a-b) / math.Max(math.Abs(b), 1e-300)
}

// storeVariables lists the optimizer's variables: path → trainable.
func storeVariables(store *model.Store, prefix string) map[string]bool {
	out := map[string]bool{}
	for v := range store.IterVariables() {
		if len(v.Path()) >= len(prefix) && v.Path()[:len(prefix)] == prefix {
			out[v.Path()] = v.Trainable
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// explicit returns c changed by set (for the zeros that def would fill).
func explicit(c ref.Config, set func(*ref.Config)) ref.Config {
	set(&c)
	return c
}
