package pb2

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// Kernel is PB2's time-varying squared-exponential kernel with observation
// noise:
//
//	k((x,t), (x′,t′)) = Var · exp(−‖x−x′‖²/Length) · (1−Eps)^(|t−t′|/2)
//
// plus Noise on the diagonal of the training covariance. Eps ∈ [0, 1) is
// the rate at which the objective forgets: observations |t−t′| apart are
// correlated by (1−Eps)^(|t−t′|/2) (Bogunovic, Scarlett & Cevher 2016,
// TV-GP-UCB).
type Kernel struct {
	Var, Length, Eps, Noise float64
}

// K returns k((x,t), (x2,t2)) without the noise term.
func (k Kernel) K(x []float64, t float64, x2 []float64, t2 float64) float64 {
	return k.Var * math.Exp(-sqDist(x, x2)/k.Length) * math.Pow(1-k.Eps, math.Abs(t-t2)/2)
}

func sqDist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}

// ErrGP reports a covariance matrix that is not positive definite, or
// inputs of inconsistent sizes.
var ErrGP = errors.New("pb2: gaussian process")

// GP is a Gaussian-process posterior with zero prior mean.
type GP struct {
	k     Kernel
	x     [][]float64
	t     []float64
	chol  mat.Cholesky
	alpha *mat.VecDense // K⁻¹y
	y     []float64
}

// NewGP conditions the prior with kernel k on observations y at (x[i],
// t[i]). A nil y means zeros (enough for posterior variances, which do not
// depend on y).
func NewGP(k Kernel, x [][]float64, t, y []float64) (*GP, error) {
	n := len(x)
	if len(t) != n || (y != nil && len(y) != n) {
		return nil, fmt.Errorf("%w: %d inputs, %d times, %d targets", ErrGP, n, len(t), len(y))
	}
	if y == nil {
		y = make([]float64, n)
	}
	g := &GP{k: k, x: x, t: t, y: y}
	if n == 0 {
		return g, nil
	}
	cov := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			v := k.K(x[i], t[i], x[j], t[j])
			if i == j {
				v += k.Noise
			}
			cov.SetSym(i, j, v)
		}
	}
	if !g.chol.Factorize(cov) {
		return nil, fmt.Errorf("%w: covariance not positive definite (kernel %+v)", ErrGP, k)
	}
	g.alpha = mat.NewVecDense(n, nil)
	if err := g.chol.SolveVecTo(g.alpha, mat.NewVecDense(n, append([]float64(nil), y...))); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrGP, err)
	}
	return g, nil
}

// Predict returns the posterior mean and variance of the latent function
// (without observation noise) at (x, t).
func (g *GP) Predict(x []float64, t float64) (mean, variance float64) {
	prior := g.k.Var
	n := len(g.x)
	if n == 0 {
		return 0, prior
	}
	ks := mat.NewVecDense(n, nil)
	for i := range n {
		ks.SetVec(i, g.k.K(x, t, g.x[i], g.t[i]))
	}
	mean = mat.Dot(ks, g.alpha)
	v := mat.NewVecDense(n, nil)
	if err := g.chol.SolveVecTo(v, ks); err != nil {
		return mean, prior
	}
	return mean, math.Max(prior-mat.Dot(ks, v), 0)
}

// LogLikelihood returns the log marginal likelihood of the observations,
// −½ yᵀK⁻¹y − ½ log|K| − (n/2) log 2π.
func (g *GP) LogLikelihood() float64 {
	n := len(g.x)
	if n == 0 {
		return 0
	}
	return -0.5*mat.Dot(mat.NewVecDense(n, g.y), g.alpha) - 0.5*g.chol.LogDet() - 0.5*float64(n)*math.Log(2*math.Pi)
}

// Bounds of the kernel parameters searched by FitKernel (y standardized,
// inputs in the unit cube, time in perturbation intervals).
var (
	varBounds    = [2]float64{1e-2, 1e2}
	lengthBounds = [2]float64{1e-2, 1e2}
	epsBounds    = [2]float64{1e-4, 0.5}
	noiseBounds  = [2]float64{1e-6, 1}
)

// bounded maps z ∈ ℝ to exp of a point of [ln lo, ln hi] (a sigmoid in log
// space), and returns d value / dz too.
func bounded(z float64, b [2]float64) (v, dv float64) {
	lo, hi := math.Log(b[0]), math.Log(b[1])
	s := 1 / (1 + math.Exp(-z))
	v = math.Exp(lo + (hi-lo)*s)
	return v, v * (hi - lo) * s * (1 - s)
}

func unbounded(v float64, b [2]float64) float64 {
	lo, hi := math.Log(b[0]), math.Log(b[1])
	s := (math.Log(math.Min(math.Max(v, b[0]), b[1])) - lo) / (hi - lo)
	s = math.Min(math.Max(s, 1e-6), 1-1e-6)
	return math.Log(s / (1 - s))
}

func kernelOf(z []float64) (Kernel, [4]float64) {
	var k Kernel
	var d [4]float64
	k.Var, d[0] = bounded(z[0], varBounds)
	k.Length, d[1] = bounded(z[1], lengthBounds)
	k.Eps, d[2] = bounded(z[2], epsBounds)
	k.Noise, d[3] = bounded(z[3], noiseBounds)
	return k, d
}

// pairs holds the squared distances and time gaps of a data set, which do
// not depend on the kernel parameters.
type pairs struct {
	n     int
	r, dt []float64 // n×n, row-major
}

func pairsOf(x [][]float64, t []float64) pairs {
	n := len(x)
	p := pairs{n: n, r: make([]float64, n*n), dt: make([]float64, n*n)}
	for i := range n {
		for j := range n {
			p.r[i*n+j] = sqDist(x[i], x[j])
			p.dt[i*n+j] = math.Abs(t[i] - t[j])
		}
	}
	return p
}

// negLogLik returns −log p(y | k) and its gradient with respect to the
// kernel parameters (Var, Length, Eps, Noise), from
// ∂ log p/∂θ = ½ tr((ααᵀ − K⁻¹) ∂K/∂θ).
func negLogLik(k Kernel, pr pairs, y []float64) (float64, [4]float64, error) {
	var grad [4]float64
	n := pr.n
	kf := make([]float64, n*n)
	cov := mat.NewSymDense(n, nil)
	le := math.Log(1 - k.Eps)
	for i := range n {
		for j := i; j < n; j++ {
			v := k.Var * math.Exp(-pr.r[i*n+j]/k.Length+le*pr.dt[i*n+j]/2)
			kf[i*n+j], kf[j*n+i] = v, v
			if i == j {
				v += k.Noise
			}
			cov.SetSym(i, j, v)
		}
	}
	var chol mat.Cholesky
	if !chol.Factorize(cov) {
		return math.Inf(1), grad, fmt.Errorf("%w: covariance not positive definite (kernel %+v)", ErrGP, k)
	}
	alpha := mat.NewVecDense(n, nil)
	yv := mat.NewVecDense(n, append([]float64(nil), y...))
	if err := chol.SolveVecTo(alpha, yv); err != nil {
		return math.Inf(1), grad, err
	}
	var inv mat.SymDense
	if err := chol.InverseTo(&inv); err != nil {
		return math.Inf(1), grad, err
	}
	for i := range n {
		for j := i; j < n; j++ {
			w := alpha.AtVec(i)*alpha.AtVec(j) - inv.At(i, j)
			if i == j {
				grad[3] += 0.5 * w
			} else {
				w *= 2 // (i, j) and (j, i)
			}
			f := kf[i*n+j]
			grad[0] += 0.5 * w * f / k.Var
			grad[1] += 0.5 * w * f * pr.r[i*n+j] / (k.Length * k.Length)
			grad[2] += 0.5 * w * f * (pr.dt[i*n+j] / 2) * (-1 / (1 - k.Eps))
		}
	}
	for i := range grad {
		grad[i] = -grad[i]
	}
	ll := -0.5*mat.Dot(yv, alpha) - 0.5*chol.LogDet() - 0.5*float64(n)*math.Log(2*math.Pi)
	return -ll, grad, nil
}

// FitKernel returns the kernel maximizing the log marginal likelihood of y
// at (x, t), found by L-BFGS (gonum/optimize) from each of the starting
// kernels, with every parameter kept inside fixed bounds (Var and Length
// in [0.01, 100], Eps in [1e-4, 0.5], Noise in [1e-6, 1]) by a sigmoid in
// log space. Starting kernels that fail are skipped; it fails only if all
// do.
func FitKernel(x [][]float64, t, y []float64, starts ...Kernel) (Kernel, error) {
	if len(starts) == 0 {
		starts = []Kernel{DefaultKernel}
	}
	best, bestF := Kernel{}, math.Inf(1)
	var lastErr error
	pr := pairsOf(x, t)
	for _, s := range starts {
		z0 := []float64{unbounded(s.Var, varBounds), unbounded(s.Length, lengthBounds),
			unbounded(s.Eps, epsBounds), unbounded(s.Noise, noiseBounds)}
		// Func and Grad are called at the same points: share the work.
		var lastZ []float64
		var lastF float64
		var lastG [4]float64
		var lastErr2 error
		eval := func(z []float64) {
			if lastZ != nil && slices.Equal(z, lastZ) {
				return
			}
			k, dk := kernelOf(z)
			lastZ = append(lastZ[:0], z...)
			lastF, lastG, lastErr2 = negLogLik(k, pr, y)
			for i := range lastG {
				lastG[i] *= dk[i]
			}
		}
		p := optimize.Problem{
			Func: func(z []float64) float64 {
				eval(z)
				if lastErr2 != nil {
					return math.Inf(1)
				}
				return lastF
			},
			Grad: func(grad, z []float64) {
				eval(z)
				for i := range grad {
					grad[i] = 0
					if lastErr2 == nil {
						grad[i] = lastG[i]
					}
				}
			},
		}
		res, err := optimize.Minimize(p, z0, &optimize.Settings{MajorIterations: 60, GradientThreshold: 1e-6}, &optimize.LBFGS{})
		z := z0
		if err == nil || (res != nil && res.X != nil) {
			z = res.X
		} else {
			lastErr = err
		}
		k, _ := kernelOf(z)
		f, _, ferr := negLogLik(k, pr, y)
		if ferr != nil {
			lastErr = ferr
			continue
		}
		if f < bestF {
			best, bestF = k, f
		}
	}
	if math.IsInf(bestF, 1) {
		return Kernel{}, fmt.Errorf("%w: kernel fit failed: %v", ErrGP, lastErr)
	}
	return best, nil
}

// DefaultKernel is FitKernel's default starting point.
var DefaultKernel = Kernel{Var: 1, Length: 1, Eps: 0.1, Noise: 0.1}
