// Command throughput measures the training throughput (images per second
// and per CPU-second) of hgdtune's case-1 CNN on GoMLX's pure-Go backend
// against the same network in PyTorch-CPU, in the same run, and prints the
// ratios and the Go process's peak memory.
//
//	GOEXPERIMENT=simd go run ./scripts/throughput            # batch 32 and 128, 2 threads
//	GOEXPERIMENT=simd go run ./scripts/throughput -batch 64 -seconds 30
//	GOMAXPROCS=1 GOEXPERIMENT=simd go run ./scripts/throughput -threads 1   # one core each
//	go run ./scripts/throughput -baseline /tmp/throughput-old -repeats 3   # against another build
//
// Each measurement runs in its own process (the Go one re-executes this
// program with -child) so that peak memory (max RSS) is per configuration.
// -baseline names another build of this program (say, of an earlier
// commit, on other GoMLX versions): its -child measurements are taken in
// the same run, interleaved with this build's, and the tables give the
// paired ratio. With -repeats N every configuration is measured N times in
// turn (this build, the baseline, HGD, PyTorch) and each cell is the median
// [min–max] of the N values, each ratio the median [min–max] of the N
// paired ratios; so a machine that slows down for a while slows both
// sides of a pair.
//
// PyTorch is Debian's python3-torch, run with /usr/bin/python3 and
// torch.set_num_threads(-threads), on -torch-device (cpu, or cuda on a GPU
// machine, where the Go side runs on XLA when GOMLX_BACKEND selects it).
// Images per CPU-second divide by the process's CPU time: the comparison
// that holds on a busy machine; wall-clock images per second need a quiet
// one. Run with GOMAXPROCS=1 and -threads 1 for one core each.
// Both train with SGD+momentum on random data (throughput does not depend
// on the pixel values); the Go side also measures HGD, and the tables give
// HGD's step time over SGD's. THROUGHPUT_CPUPROFILE=file writes a CPU
// profile of each Go child (of this build) to file.<batch>.<optimizer>.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/cifar/cnn"
	"github.com/hgdtune/hgdtune/cifar/trainer"
	"github.com/hgdtune/hgdtune/hgd"
	"github.com/hgdtune/hgdtune/nn"
)

type measurement struct {
	ImgPerS   float64 `json:"img_per_s"`
	ImgPerCPU float64 `json:"img_per_cpu_s"` // images per second of process CPU time
	Batch     int     `json:"batch"`
	Steps     int     `json:"steps"`
	MaxRSSMiB float64 `json:"max_rss_mib"`
	Backend   string  `json:"backend,omitempty"`
	Torch     string  `json:"torch,omitempty"`
}

func main() {
	batches := flag.String("batch", "32,128", "batch sizes")
	seconds := flag.Float64("seconds", 10, "measuring time per configuration (after warm-up)")
	threads := flag.Int("threads", 2, "PyTorch threads")
	conv := flag.String("conv", "32,64,128", "conv widths")
	fc := flag.String("fc", "256,128", "fc widths")
	python := flag.String("python", "/usr/bin/python3", "Python with PyTorch")
	torchDevice := flag.String("torch-device", "cpu", "PyTorch device: cpu or cuda")
	child := flag.Bool("child", false, "internal: measure one Go configuration and print JSON")
	opt := flag.String("optimizer", "sgd", "internal: sgd or hgd")
	impl := flag.String("impl", "", "convolution implementation: im2col or standard (default: by backend)")
	baseline := flag.String("baseline", "", "another build of this program, measured in the same run (Go SGD) for a side-by-side ratio")
	repeats := flag.Int("repeats", 1, "measure every configuration this many times, in turn; cells are median [min–max]")
	flag.Parse()
	if *child {
		if path := os.Getenv("THROUGHPUT_CPUPROFILE"); path != "" {
			f, err := os.Create(fmt.Sprintf("%s.%s.%s", path, *batches, *opt))
			if err != nil {
				fail(err)
			}
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
		b, _ := strconv.Atoi(*batches)
		m, err := measureGo(b, *seconds, *conv, *fc, *opt, *impl)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		json.NewEncoder(os.Stdout).Encode(m)
		pprof.StopCPUProfile()
		return
	}
	self, err := os.Executable()
	if err != nil {
		fail(err)
	}
	fmt.Printf("case-1 CNN conv %s fc %s; %d CPUs, GOMAXPROCS=%d, PyTorch threads %d; %d repeats of %g s; %s\n\n",
		*conv, *fc, runtime.NumCPU(), runtime.GOMAXPROCS(0), *threads, *repeats, *seconds, time.Now().UTC().Format(time.RFC3339))
	var rows []row
	for _, bs := range strings.Split(*batches, ",") {
		args := []string{"-child", "-batch", bs, "-seconds", fmt.Sprint(*seconds), "-conv", *conv, "-fc", *fc, "-impl", *impl}
		r := row{batch: bs}
		for range *repeats {
			var sgd, base, hg, pt measurement
			if err := runJSON(&sgd, self, append(args, "-optimizer", "sgd")...); err != nil {
				fail(err)
			}
			if *baseline != "" {
				if err := runJSON(&base, *baseline, append(args, "-optimizer", "sgd")...); err != nil {
					fail(fmt.Errorf("baseline: %w", err))
				}
			}
			if err := runJSON(&hg, self, append(args, "-optimizer", "hgd")...); err != nil {
				fail(err)
			}
			script := filepath.Join("scripts", "throughput", "torch_cnn.py") // run from the module root
			if err := runJSON(&pt, *python, script, "--batch", bs, "--threads", fmt.Sprint(*threads),
				"--seconds", fmt.Sprint(*seconds), "--conv", *conv, "--fc", *fc, "--device", *torchDevice); err != nil {
				fmt.Fprintf(os.Stderr, "PyTorch peer failed (install Debian's python3-torch): %v\n", err)
			}
			r.sgd, r.base, r.hgd, r.torch = append(r.sgd, sgd), append(r.base, base), append(r.hgd, hg), append(r.torch, pt)
			if pt.Torch != "" {
				r.torchVersion = pt.Torch
			}
			r.backend, r.baseBackend = sgd.Backend, base.Backend
		}
		rows = append(rows, r)
	}
	printTables(os.Stdout, rows, *baseline != "")
	fmt.Printf("\nGo: %s (%s); PyTorch %s (%d threads)", rows[0].backend, runtime.Version(), rows[0].torchVersion, *threads)
	if *baseline != "" {
		fmt.Printf("; baseline %s: %s", *baseline, rows[0].baseBackend)
	}
	fmt.Println()
}

// row holds every repeat of one batch size.
type row struct {
	batch                              string
	sgd, base, hgd, torch              []measurement
	backend, baseBackend, torchVersion string
}

// stat formats the median [min–max] of xs (values ≤ 0 are missing).
func stat(xs []float64, format string) string {
	var ys []float64
	for _, x := range xs {
		if x > 0 && !math.IsInf(x, 0) && !math.IsNaN(x) {
			ys = append(ys, x)
		}
	}
	if len(ys) == 0 {
		return "n/a"
	}
	sort.Float64s(ys)
	med := ys[len(ys)/2]
	if len(ys)%2 == 0 {
		med = (ys[len(ys)/2-1] + ys[len(ys)/2]) / 2
	}
	if len(ys) == 1 {
		return fmt.Sprintf(format, med)
	}
	return fmt.Sprintf(format+" ["+format+"–"+format+"]", med, ys[0], ys[len(ys)-1])
}

// column applies f to every repeat.
func column(n int, f func(i int) float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func ratio(a, b float64) float64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	return a / b
}

func printTables(w io.Writer, rows []row, baseline bool) {
	for _, m := range []struct {
		title string
		get   func(measurement) float64
	}{
		{"Images per CPU-second (process CPU time)", func(m measurement) float64 { return m.ImgPerCPU }},
		{"Images per second (wall clock)", func(m measurement) float64 { return m.ImgPerS }},
	} {
		fmt.Fprintf(w, "%s, SGD+momentum:\n\n", m.title)
		if baseline {
			fmt.Fprintln(w, "| batch | Go | Go baseline | Go / baseline | PyTorch | Go / PyTorch | baseline / PyTorch |")
			fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
		} else {
			fmt.Fprintln(w, "| batch | Go | PyTorch | Go / PyTorch |")
			fmt.Fprintln(w, "|---|---|---|---|")
		}
		for _, r := range rows {
			n := len(r.sgd)
			goV := column(n, func(i int) float64 { return m.get(r.sgd[i]) })
			baseV := column(n, func(i int) float64 { return m.get(r.base[i]) })
			ptV := column(n, func(i int) float64 { return m.get(r.torch[i]) })
			goPT := column(n, func(i int) float64 { return ratio(goV[i], ptV[i]) })
			if baseline {
				fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", r.batch, stat(goV, "%.0f"), stat(baseV, "%.0f"),
					stat(column(n, func(i int) float64 { return ratio(goV[i], baseV[i]) }), "%.2f"), stat(ptV, "%.0f"),
					stat(goPT, "%.2f"), stat(column(n, func(i int) float64 { return ratio(baseV[i], ptV[i]) }), "%.2f"))
			} else {
				fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.batch, stat(goV, "%.0f"), stat(ptV, "%.0f"), stat(goPT, "%.2f"))
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "HGD against SGD+momentum (this build), and peak memory:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| batch | SGD img/CPU-s | HGD img/CPU-s | HGD step time / SGD's (CPU) | Go peak RSS MiB | PyTorch peak RSS MiB |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range rows {
		n := len(r.sgd)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.batch,
			stat(column(n, func(i int) float64 { return r.sgd[i].ImgPerCPU }), "%.0f"),
			stat(column(n, func(i int) float64 { return r.hgd[i].ImgPerCPU }), "%.0f"),
			stat(column(n, func(i int) float64 { return ratio(r.sgd[i].ImgPerCPU, r.hgd[i].ImgPerCPU) }), "%.3f"),
			stat(column(n, func(i int) float64 { return max(r.sgd[i].MaxRSSMiB, r.hgd[i].MaxRSSMiB) }), "%.0f"),
			stat(column(n, func(i int) float64 { return r.torch[i].MaxRSSMiB }), "%.0f"))
	}
}

func runJSON(out any, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %v: %w\n%s", name, args, err, stderr.String())
	}
	return json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "throughput:", err)
	os.Exit(1)
}

// randomData is a synthetic CIFAR-sized data set (throughput does not
// depend on pixel values).
func randomData(n int) *cifar.Dataset {
	r := rand.New(rand.NewPCG(1, 2))
	d := &cifar.Dataset{Name: "random", N: n, Pixels: make([]uint8, n*cifar.ImageSize), Labels: make([]uint8, n)}
	for i := range d.Pixels {
		d.Pixels[i] = uint8(r.IntN(256))
	}
	for i := range d.Labels {
		d.Labels[i] = uint8(i % 10)
	}
	d.Classes = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	return d
}

func measureGo(batch int, seconds float64, conv, fc, opt, implName string) (measurement, error) {
	var net cnn.Config
	net.Case = cnn.Case1
	if _, err := fmt.Sscanf(conv, "%d,%d,%d", &net.Conv[0], &net.Conv[1], &net.Conv[2]); err != nil {
		return measurement{}, err
	}
	if _, err := fmt.Sscanf(fc, "%d,%d", &net.FC[0], &net.FC[1]); err != nil {
		return measurement{}, err
	}
	env, err := trainer.Setup{Load: func(context.Context) (*cifar.Dataset, error) { return randomData(20 * batch), nil }}.Open(context.Background())
	if err != nil {
		return measurement{}, err
	}
	defer env.Close()
	switch implName {
	case "": // nn.Auto: trainer.New picks by backend
	case "standard":
		net.Impl = nn.Standard
	default:
		net.Impl = nn.Im2Col
	}
	kind := hgd.Momentum
	if opt == "hgd" {
		kind = hgd.HGD
	}
	t, err := env.New(trainer.Config{Net: net, BatchSize: batch, Optimizer: hgd.Defaults(kind)})
	if err != nil {
		return measurement{}, err
	}
	defer t.Close()
	for range 3 { // compile and warm up
		if _, err := t.Step(); err != nil {
			return measurement{}, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds*float64(time.Second)))
	defer cancel()
	cpu0 := cpuSeconds()
	start, n := time.Now(), 0
	for ctx.Err() == nil {
		if _, err := t.Step(); err != nil {
			return measurement{}, err
		}
		n++
	}
	el, cpu := time.Since(start).Seconds(), cpuSeconds()-cpu0
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return measurement{ImgPerS: float64(n*batch) / el, ImgPerCPU: float64(n*batch) / cpu, Batch: batch, Steps: n,
		MaxRSSMiB: float64(ru.Maxrss) / 1024, Backend: env.Describe()}, nil
}

// cpuSeconds is the process's CPU time so far (user + system).
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
