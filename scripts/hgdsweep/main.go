// Command hgdsweep runs the small measured sweep behind the default
// hyperparameters of package hgd (β, η, α0, γ0) and prints it as Markdown
// tables.
//
// It trains softmax regression (3072→10) and, with -model=mlp, a one hidden
// layer ReLU network (3072→H→10) on CIFAR-10 pixels read straight from the
// official binary files (read and MD5-checked by package cifar), with the
// standard-library optimizers of hgd/ref, so it needs no GoMLX and runs in a
// few minutes on two cores:
//
//	HGDTUNE_DATA=../shared/data go run ./scripts/hgdsweep
//
// Inputs are scaled to [0,1] and standardized per channel (statistics of the
// training images). Training uses the first -train images of data_batch_1,
// validation the first -val images of data_batch_2. Every configuration is
// run for each batch size in -batches with the same seed; the tables give the
// validation accuracy and the mean training loss of the last 10% of steps.
// docs/results/hgd-defaults.md gives the flags and the tables of the sweep
// behind the defaults.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/hgd/ref"
)

const (
	imgSize    = 3072
	numClasses = 10
)

type dataset struct {
	x      [][]float64
	labels []int
}

// subset converts images [from, from+n) of the CIFAR-10 training set to
// float64 pixels in [0,1] (CHW, as in the files).
func subset(d *cifar.Dataset, from, n int) (dataset, error) {
	if from+n > d.N {
		return dataset{}, fmt.Errorf("want images %d..%d, the training set has %d", from, from+n, d.N)
	}
	var ds dataset
	for i := from; i < from+n; i++ {
		x := make([]float64, imgSize)
		for j, v := range d.Image(i) {
			x[j] = float64(v) / 255
		}
		ds.x = append(ds.x, x)
		ds.labels = append(ds.labels, int(d.Labels[i]))
	}
	return ds, nil
}

// standardize normalizes each channel with the mean/std of train.
func standardize(train, val *dataset) {
	const plane = imgSize / 3
	for c := range 3 {
		var s, s2, n float64
		for _, x := range train.x {
			for _, v := range x[c*plane : (c+1)*plane] {
				s += v
				s2 += v * v
				n++
			}
		}
		mean := s / n
		std := math.Sqrt(s2/n - mean*mean)
		for _, ds := range []*dataset{train, val} {
			for _, x := range ds.x {
				for i := c * plane; i < (c+1)*plane; i++ {
					x[i] = (x[i] - mean) / std
				}
			}
		}
	}
}

// model is softmax regression (hidden == 0) or a 1-hidden-layer ReLU MLP.
// Parameters: [W1 (in×h), b1 (h), W2 (h×10), b2 (10)] or [W (in×10), b (10)].
type model struct{ hidden int }

func (m model) init(rng *rand.Rand) [][]float64 {
	if m.hidden == 0 {
		return [][]float64{make([]float64, imgSize*numClasses), make([]float64, numClasses)}
	}
	w1 := make([]float64, imgSize*m.hidden)
	s1 := math.Sqrt(2.0 / imgSize)
	for i := range w1 {
		w1[i] = rng.NormFloat64() * s1
	}
	w2 := make([]float64, m.hidden*numClasses)
	s2 := math.Sqrt(1.0 / float64(m.hidden))
	for i := range w2 {
		w2[i] = rng.NormFloat64() * s2
	}
	return [][]float64{w1, make([]float64, m.hidden), w2, make([]float64, numClasses)}
}

// logits computes the output layer (and hidden activations) for one example.
func (m model) forward(p [][]float64, x []float64, h []float64, out []float64) {
	in, w, b := x, p[0], p[1]
	nIn := imgSize
	if m.hidden > 0 {
		for j := range m.hidden {
			h[j] = p[1][j]
		}
		for i, xi := range x {
			if xi == 0 {
				continue
			}
			row := p[0][i*m.hidden : (i+1)*m.hidden]
			for j, wij := range row {
				h[j] += xi * wij
			}
		}
		for j := range h {
			h[j] = math.Max(0, h[j])
		}
		in, w, b, nIn = h, p[2], p[3], m.hidden
	}
	_ = nIn
	copy(out, b)
	for i, xi := range in {
		if xi == 0 {
			continue
		}
		row := w[i*numClasses : (i+1)*numClasses]
		for j, wij := range row {
			out[j] += xi * wij
		}
	}
}

func softmaxLoss(logits []float64, label int, probs []float64) float64 {
	mx := logits[0]
	for _, v := range logits {
		mx = math.Max(mx, v)
	}
	var z float64
	for j, v := range logits {
		probs[j] = math.Exp(v - mx)
		z += probs[j]
	}
	for j := range probs {
		probs[j] /= z
	}
	return -math.Log(math.Max(probs[label], 1e-300))
}

// lossGrad returns the mean loss and its gradient over a batch.
func (m model) lossGrad(p [][]float64, ds dataset, idx []int) (float64, [][]float64) {
	grad := make([][]float64, len(p))
	for i := range p {
		grad[i] = make([]float64, len(p[i]))
	}
	h := make([]float64, m.hidden)
	dh := make([]float64, m.hidden)
	logits := make([]float64, numClasses)
	probs := make([]float64, numClasses)
	var loss float64
	inv := 1 / float64(len(idx))
	for _, k := range idx {
		x := ds.x[k]
		m.forward(p, x, h, logits)
		loss += softmaxLoss(logits, ds.labels[k], probs)
		probs[ds.labels[k]]--
		for j := range probs {
			probs[j] *= inv
		}
		in, gw, gb := x, grad[0], grad[1]
		if m.hidden > 0 {
			in, gw, gb = h, grad[2], grad[3]
		}
		for j, d := range probs {
			gb[j] += d
		}
		for i, xi := range in {
			if xi == 0 {
				continue
			}
			row := gw[i*numClasses : (i+1)*numClasses]
			for j, d := range probs {
				row[j] += xi * d
			}
		}
		if m.hidden > 0 {
			w2 := p[2]
			for i := range dh {
				if h[i] <= 0 {
					dh[i] = 0
					continue
				}
				var s float64
				row := w2[i*numClasses : (i+1)*numClasses]
				for j, d := range probs {
					s += row[j] * d
				}
				dh[i] = s
			}
			for j, d := range dh {
				grad[1][j] += d
			}
			for i, xi := range x {
				if xi == 0 {
					continue
				}
				row := grad[0][i*m.hidden : (i+1)*m.hidden]
				for j, d := range dh {
					row[j] += xi * d
				}
			}
		}
	}
	return loss * inv, grad
}

func (m model) accuracy(p [][]float64, ds dataset) float64 {
	h := make([]float64, m.hidden)
	logits := make([]float64, numClasses)
	correct := 0
	for k, x := range ds.x {
		m.forward(p, x, h, logits)
		best := 0
		for j, v := range logits {
			if v > logits[best] {
				best = j
			}
		}
		if best == ds.labels[k] {
			correct++
		}
	}
	return float64(correct) / float64(len(ds.x))
}

type result struct {
	cfg            ref.Config
	batch          int
	alpha, gamma   float64
	tailLoss, acc  float64
	skipped, steps int
}

func run(m model, cfg ref.Config, batch, steps int, seed uint64, train, val dataset) (result, error) {
	rng := rand.New(rand.NewPCG(seed, 1))
	p := m.init(rng)
	st, err := ref.Init(cfg, p)
	if err != nil {
		return result{}, err
	}
	idx := make([]int, batch)
	var tail float64
	nTail := max(1, steps/10)
	for s := range steps {
		for i := range idx {
			idx[i] = rng.IntN(len(train.x))
		}
		loss, g := m.lossGrad(p, train, idx)
		if s >= steps-nTail {
			tail += loss / float64(nTail)
		}
		p, st, err = ref.Update(cfg, st, p, g)
		if err != nil {
			return result{}, err
		}
	}
	acc := m.accuracy(p, val)
	if math.IsNaN(tail) || math.IsInf(tail, 0) {
		tail = math.Inf(1)
	}
	return result{cfg: cfg, batch: batch, alpha: st.Alpha, gamma: st.Gamma, tailLoss: tail, acc: acc,
		skipped: st.Skipped, steps: steps}, nil
}

func floats(s string) ([]float64, error) {
	var out []float64
	for f := range strings.SplitSeq(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func ints(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func main() {
	dataDir := flag.String("data", os.Getenv(cifar.EnvData), "folder holding cifar-10-batches-bin/ (default $HGDTUNE_DATA)")
	nTrain := flag.Int("train", 10000, "training images (from data_batch_1)")
	nVal := flag.Int("val", 2000, "validation images (from data_batch_2)")
	modelName := flag.String("model", "softmax", "softmax or mlp")
	hidden := flag.Int("hidden", 32, "hidden units of -model=mlp")
	alphas := flag.String("alpha0", "0.001,0.01,0.1", "α0 values")
	gammas := flag.String("gamma0", "0.5,0.9", "γ0 values")
	betas := flag.String("beta", "0,0.0001,0.001,0.01", "β values (0 with η=0 is the SGD+momentum baseline)")
	etas := flag.String("eta", "0,0.001,0.01", "η values")
	batchesF := flag.String("batches", "8,64", "batch sizes")
	images := flag.Int("images", 16000, "training images seen per run (steps = images/batch)")
	alphaMax := flag.Float64("alpha-max", 0, "upper bound of α (0: ref.DefaultAlphaMax)")
	workers := flag.Int("workers", 2, "parallel runs")
	seed := flag.Uint64("seed", 1, "seed")
	flag.Parse()

	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "hgdsweep:", err)
		os.Exit(1)
	}
	all, err := cifar.Load(context.Background(), cifar.Config{DataDir: *dataDir}, cifar.CIFAR10Train)
	if err != nil {
		fail(err)
	}
	if *nTrain > 10000 || *nVal > 10000 {
		fail(fmt.Errorf("-train %d and -val %d must be ≤ 10000: training images come from data_batch_1, validation images from data_batch_2", *nTrain, *nVal))
	}
	train, err := subset(all, 0, *nTrain) // from data_batch_1
	if err != nil {
		fail(err)
	}
	val, err := subset(all, 10000, *nVal) // from data_batch_2
	if err != nil {
		fail(err)
	}
	standardize(&train, &val)
	m := model{}
	if *modelName == "mlp" {
		m.hidden = *hidden
	} else if *modelName != "softmax" {
		fail(fmt.Errorf("unknown -model %q", *modelName))
	}
	var as, gs, bs, es []float64
	var batches []int
	for _, e := range []error{
		func() (err error) { as, err = floats(*alphas); return }(),
		func() (err error) { gs, err = floats(*gammas); return }(),
		func() (err error) { bs, err = floats(*betas); return }(),
		func() (err error) { es, err = floats(*etas); return }(),
		func() (err error) { batches, err = ints(*batchesF); return }(),
	} {
		if e != nil {
			fail(e)
		}
	}

	type job struct {
		cfg   ref.Config
		batch int
	}
	var jobs []job
	for _, b := range bs {
		for _, e := range es {
			for _, g := range gs {
				for _, a := range as {
					for _, bt := range batches {
						cfg := ref.Defaults(ref.HGD)
						cfg.Alpha0, cfg.Gamma0, cfg.Beta, cfg.Eta = a, g, b, e
						if *alphaMax != 0 {
							cfg.AlphaMax = *alphaMax
						}
						jobs = append(jobs, job{cfg, bt})
					}
				}
			}
		}
	}
	results := make([]result, len(jobs))
	var wg sync.WaitGroup
	ch := make(chan int)
	var mu sync.Mutex
	var firstErr error
	for range *workers {
		wg.Go(func() {
			for i := range ch {
				j := jobs[i]
				r, err := run(m, j.cfg, j.batch, *images/j.batch, *seed, train, val)
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
				results[i] = r
			}
		})
	}
	for i := range jobs {
		ch <- i
	}
	close(ch)
	wg.Wait()
	if firstErr != nil {
		fail(firstErr)
	}

	desc := "softmax regression 3072→10"
	if m.hidden > 0 {
		desc = fmt.Sprintf("MLP 3072→%d→10 (ReLU)", m.hidden)
	}
	fmt.Printf("### %s, CIFAR-10, %d train / %d val images, %d images per run, seed %d\n\n",
		desc, len(train.x), len(val.x), *images, *seed)
	fmt.Printf("α bounds [0, %g], γ bounds [0, %g].\n\n", jobs[0].cfg.AlphaMax, jobs[0].cfg.GammaMax)
	fmt.Println("Per run: validation accuracy (mean training loss of the last 10% of steps), final α / γ.")
	fmt.Println()
	fmt.Println("| β | η | γ0 | α0 | batch | val acc | train loss | final α | final γ | skipped |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		c := r.cfg
		fmt.Printf("| %g | %g | %g | %g | %d | %.4f | %.4f | %.4g | %.4g | %d |\n",
			c.Beta, c.Eta, c.Gamma0, c.Alpha0, r.batch, r.acc, r.tailLoss, r.alpha, r.gamma, r.skipped)
	}

	// Summary: per (β, η), mean and worst accuracy over α0, γ0 and batch —
	// what matters when α and γ are no longer searched.
	type key struct{ b, e float64 }
	agg := map[key][]float64{}
	for _, r := range results {
		c := r.cfg
		agg[key{c.Beta, c.Eta}] = append(agg[key{c.Beta, c.Eta}], r.acc)
	}
	keys := make([]key, 0, len(agg))
	for k := range agg {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].b != keys[j].b {
			return keys[i].b < keys[j].b
		}
		return keys[i].e < keys[j].e
	})
	fmt.Println()
	fmt.Println("Summary over α0 × γ0 × batch (β = η = 0 is SGD+momentum with fixed α0, γ0):")
	fmt.Println()
	fmt.Println("| β | η | mean val acc | worst val acc | runs |")
	fmt.Println("|---|---|---|---|---|")
	for _, k := range keys {
		v := agg[k]
		mean, worst := 0.0, math.Inf(1)
		for _, a := range v {
			mean += a / float64(len(v))
			worst = math.Min(worst, a)
		}
		fmt.Printf("| %g | %g | %.4f | %.4f | %d |\n", k.b, k.e, mean, worst, len(v))
	}
}
