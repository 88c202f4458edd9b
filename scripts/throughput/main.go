// Command throughput measures the training throughput (images per second)
// of hgdtune's case-1 CNN on GoMLX's pure-Go backend against the same
// network in PyTorch-CPU, in the same run, and prints the ratio and the Go
// process's peak memory.
//
//	GOEXPERIMENT=simd go run ./scripts/throughput            # batch 32 and 128, 2 threads
//	GOEXPERIMENT=simd go run ./scripts/throughput -batch 64 -seconds 30
//
// Each measurement runs in its own process (the Go one re-executes this
// program with -child) so that peak memory (max RSS) is per configuration.
// PyTorch is Debian's python3-torch, run with /usr/bin/python3 and
// torch.set_num_threads(-threads), on -torch-device (cpu, or cuda on a GPU
// machine, where the Go side runs on XLA when GOMLX_BACKEND selects it).
// Both also report images per CPU-second (process CPU time): run with
// GOMAXPROCS=1 and -threads 1 for the single-core comparison.
// Both train with SGD+momentum on random
// data (throughput does not depend on the pixel values); the Go side also
// measures HGD. THROUGHPUT_CPUPROFILE=file writes a CPU profile of the Go
// child. The goal of issue 4 is Go/PyTorch ≥ 0.5 and peak memory at
// batch 128 ≤ 1 GiB.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
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
	flag.Parse()
	if *child {
		if path := os.Getenv("THROUGHPUT_CPUPROFILE"); path != "" {
			f, err := os.Create(path)
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
	fmt.Printf("case-1 CNN conv %s fc %s; %d CPUs; %s\n\n", *conv, *fc, runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339))
	versions := ""
	fmt.Println("| batch | Go SGD img/s | Go HGD img/s | PyTorch img/s | Go/PyTorch (SGD) | Go SGD img/CPU-s | PyTorch img/CPU-s | Go/PyTorch per CPU-s | Go peak RSS MiB | PyTorch peak RSS MiB |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, bs := range strings.Split(*batches, ",") {
		args := []string{"-child", "-batch", bs, "-seconds", fmt.Sprint(*seconds), "-conv", *conv, "-fc", *fc, "-impl", *impl}
		var sgd, hg, pt measurement
		if err := runJSON(&sgd, self, append(args, "-optimizer", "sgd")...); err != nil {
			fail(err)
		}
		if err := runJSON(&hg, self, append(args, "-optimizer", "hgd")...); err != nil {
			fail(err)
		}
		script := filepath.Join("scripts", "throughput", "torch_cnn.py") // run from the module root
		if err := runJSON(&pt, *python, script, "--batch", bs, "--threads", fmt.Sprint(*threads),
			"--seconds", fmt.Sprint(*seconds), "--conv", *conv, "--fc", *fc, "--device", *torchDevice); err != nil {
			fmt.Fprintf(os.Stderr, "PyTorch peer failed (install Debian's python3-torch): %v\n", err)
		}
		ratio, ratioCPU := "n/a", "n/a"
		if pt.ImgPerS > 0 {
			ratio = fmt.Sprintf("%.3f", sgd.ImgPerS/pt.ImgPerS)
		}
		if pt.ImgPerCPU > 0 {
			ratioCPU = fmt.Sprintf("%.3f", sgd.ImgPerCPU/pt.ImgPerCPU)
		}
		fmt.Printf("| %s | %.1f | %.1f | %.1f | %s | %.1f | %.1f | %s | %.0f | %.0f |\n", bs, sgd.ImgPerS, hg.ImgPerS, pt.ImgPerS, ratio,
			sgd.ImgPerCPU, pt.ImgPerCPU, ratioCPU, max(sgd.MaxRSSMiB, hg.MaxRSSMiB), pt.MaxRSSMiB)
		versions = fmt.Sprintf("PyTorch %s (%d threads); Go backend %s", pt.Torch, *threads, sgd.Backend)
	}
	fmt.Println(versions)
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
