package docker

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// instruction is one parsed Dockerfile instruction: its command (lower case),
// its arguments and flags, and the stage it belongs to (0 = first FROM).
type instruction struct {
	cmd   string
	args  []string
	flags []string
	stage int
	line  int
}

func parse(t *testing.T) []instruction {
	t.Helper()
	f, err := os.Open("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("Dockerfile does not parse: %v", err)
	}
	for _, w := range res.Warnings {
		t.Errorf("parser warning: %s", w.Short)
	}
	var out []instruction
	stage := -1
	for _, n := range res.AST.Children {
		in := instruction{cmd: strings.ToLower(n.Value), flags: n.Flags, line: n.StartLine}
		for a := n.Next; a != nil; a = a.Next {
			in.args = append(in.args, a.Value)
		}
		if in.cmd == "from" {
			stage++
		}
		in.stage = stage
		out = append(out, in)
	}
	return out
}

// pairs returns the key=value pairs of the ENV or LABEL instructions of a
// stage. BuildKit's parser gives each pair as three nodes: key, value, "=".
func pairs(ins []instruction, cmd string, stage int) map[string]string {
	m := map[string]string{}
	for _, in := range ins {
		if in.stage == stage && in.cmd == cmd {
			for i := 0; i+1 < len(in.args); i += 3 {
				m[in.args[i]] = strings.Trim(in.args[i+1], `"`)
			}
		}
	}
	return m
}

func TestDockerfile(t *testing.T) {
	ins := parse(t)
	args := map[string]string{} // global ARGs before the first FROM
	var froms []instruction
	for _, in := range ins {
		if in.cmd == "arg" && in.stage == -1 {
			k, v, _ := strings.Cut(in.args[0], "=")
			args[k] = v
		}
		if in.cmd == "from" {
			froms = append(froms, in)
		}
	}
	if len(froms) < 2 {
		t.Fatalf("want a build stage and a runtime stage, got %d FROMs", len(froms))
	}
	last := len(froms) - 1
	expand := func(s string) string {
		for k, v := range args {
			s = strings.ReplaceAll(s, "${"+k+"}", v)
		}
		return s
	}

	t.Run("build stage is Go "+args["GO_VERSION"], func(t *testing.T) {
		want := "golang:" + strings.TrimPrefix(toolchain(t), "go") + "-"
		if img := expand(froms[0].args[0]); !strings.HasPrefix(img, want) {
			t.Errorf("build stage FROM %s, want %s… (go.mod's toolchain)", img, want)
		}
	})
	t.Run("runtime is a CUDA runtime image", func(t *testing.T) {
		img := expand(froms[last].args[0])
		if !strings.HasPrefix(img, "nvidia/cuda:") || !strings.Contains(img, "runtime") {
			t.Errorf("runtime stage FROM %s, want nvidia/cuda:…runtime…", img)
		}
	})

	var runs []string
	for _, in := range ins {
		if in.cmd == "run" {
			runs = append(runs, strings.Join(in.args, " "))
		}
	}
	all := strings.Join(runs, "\n")
	t.Run("hgdtune built with -tags xla and cgo", func(t *testing.T) {
		if !strings.Contains(all, "go build -tags xla") || !strings.Contains(all, "./cmd/hgdtune") || !strings.Contains(all, "CGO_ENABLED=1") {
			t.Errorf("no `CGO_ENABLED=1 … go build -tags xla … ./cmd/hgdtune` in the RUN instructions:\n%s", all)
		}
	})
	t.Run("GoNB, goimports, gopls and Jupyter", func(t *testing.T) {
		for _, want := range []string{"cd scripts/nbtools && GOBIN=/out/gobin go install tool", "gonb --install", "notebook", "nbconvert"} {
			if !strings.Contains(all, want) {
				t.Errorf("RUN instructions lack %q", want)
			}
		}
	})
	t.Run("JAX's CUDA PJRT plugin", func(t *testing.T) {
		if !strings.Contains(all, `"jax[cuda13]==${JAX_VERSION}"`) || !strings.Contains(all, "test -f /opt/site/jax_plugins/xla_cuda13/xla_cuda_plugin.so") {
			t.Errorf("the plugin is not pip-installed and checked:\n%s", all)
		}
	})

	e := pairs(ins, "env", last)
	const plugin = "/opt/site/jax_plugins/xla_cuda13/xla_cuda_plugin.so"
	t.Run("PJRT environment", func(t *testing.T) {
		want := map[string]string{
			"HGDTUNE_PJRT_PLUGIN":   plugin,
			"GOMLX_BACKEND":         "xla:" + plugin,
			"GOMLX_NO_AUTO_INSTALL": "1",
			"XLA_FLAGS":             "--xla_gpu_cuda_data_dir=/opt/site/nvidia/cu13",
			"GOFLAGS":               "-tags=xla",
			"CGO_ENABLED":           "1",
			"HGDTUNE_DATA":          "/data",
		}
		for k, v := range want {
			if e[k] != v {
				t.Errorf("ENV %s = %q, want %q", k, e[k], v)
			}
		}
		if !strings.Contains(e["LD_LIBRARY_PATH"], "/opt/site/nvidia/") {
			t.Errorf("LD_LIBRARY_PATH = %q, want the NVIDIA wheels' lib folders", e["LD_LIBRARY_PATH"])
		}
		if !strings.Contains(e["PATH"], "/usr/local/go/bin") || !strings.Contains(e["PATH"], "/opt/venv/bin") {
			t.Errorf("PATH = %q lacks Go or the venv", e["PATH"])
		}
	})

	find := func(cmd string) []instruction {
		var out []instruction
		for _, in := range ins {
			if in.cmd == cmd && in.stage == last {
				out = append(out, in)
			}
		}
		return out
	}
	t.Run("EXPOSE 8888", func(t *testing.T) {
		ex := find("expose")
		if len(ex) != 1 || !slices.Contains(ex[0].args, "8888") {
			t.Errorf("EXPOSE: %+v", ex)
		}
	})
	t.Run("CMD starts Jupyter on the notebooks", func(t *testing.T) {
		c := find("cmd")
		if len(c) != 1 {
			t.Fatalf("%d CMD instructions", len(c))
		}
		got := strings.Join(c[0].args, " ")
		for _, want := range []string{"jupyter notebook", "--ip=0.0.0.0", "--port=8888", "--notebook-dir=/workspace/hgdtune/notebooks"} {
			if !strings.Contains(got, want) {
				t.Errorf("CMD %q lacks %q", got, want)
			}
		}
	})
	t.Run("HEALTHCHECK and LABELs", func(t *testing.T) {
		h := find("healthcheck")
		if len(h) != 1 || !strings.Contains(strings.Join(h[0].args, " "), "localhost:8888") {
			t.Errorf("HEALTHCHECK: %+v", h)
		}
		labels := pairs(ins, "label", last)
		for _, k := range []string{"org.opencontainers.image.title", "org.opencontainers.image.source", "org.opencontainers.image.licenses"} {
			if labels[k] == "" {
				t.Errorf("no LABEL %s", k)
			}
		}
	})
	t.Run("the notebooks' paths exist", func(t *testing.T) {
		if _, err := os.Stat("../notebooks/00-quickstart.ipynb"); err != nil {
			t.Error(err)
		}
	})
}
