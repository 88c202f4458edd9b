package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/cifar/trainer"
	"github.com/hgdtune/hgdtune/hgd"
	"github.com/hgdtune/hgdtune/internal/dirlock"
)

// tinyArgs is a network and batch small enough for a step to take
// milliseconds on the pure-Go backend.
var tinyArgs = []string{"-backend", "go", "-conv", "4,4,4", "-fc", "8,8", "-batch", "8", "-seed", "1"}

// syntheticLoader stands in for the CIFAR-10 files: 200 synthetic images
// (140 training, 60 validation: 17 steps of 8 per epoch).
func syntheticLoader(context.Context, *dataFlags, io.Writer) (*cifar.Dataset, error) {
	return cifar.Synthetic(200, 10, 1), nil
}

// noLoader fails the test if the command gets as far as loading data.
func noLoader(t *testing.T) trainLoader {
	return func(context.Context, *dataFlags, io.Writer) (*cifar.Dataset, error) {
		t.Error("the data was loaded before the error was found")
		return nil, errors.New("no data in this test")
	}
}

// trainOnce runs "hgdtune train" in process on synthetic data.
func trainOnce(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = trainWith(context.Background(), append(append([]string{}, tinyArgs...), args...), &o, &e, syntheticLoader)
	return o.String(), e.String(), err
}

// mustTrain is trainOnce that fails the test on an error, and returns the
// JSON summary printed on stdout.
func mustTrain(t *testing.T, args ...string) (summary map[string]any, stderr string) {
	t.Helper()
	out, errOut, err := trainOnce(t, args...)
	if err != nil {
		t.Fatalf("train %v: %v\n%s", args, err, errOut)
	}
	if err := json.Unmarshal([]byte(out), &summary); err != nil {
		t.Fatalf("summary %q: %v", out, err)
	}
	return summary, errOut
}

// logEvents reads a JSONL training log: every line must parse.
func logEvents(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var evs []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		evs = append(evs, ev)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Errorf("the log ends in a partial line")
	}
	return evs
}

// checkLogSteps checks that the log holds step events 1..n, each once and in
// order, and no two evaluations of the same step.
func checkLogSteps(t *testing.T, path string, n int) {
	t.Helper()
	var steps []int
	evals := map[int]int{}
	for _, ev := range logEvents(t, path) {
		s, _ := ev["step"].(float64)
		switch ev["event"] {
		case "step":
			steps = append(steps, int(s))
		case "eval":
			evals[int(s)]++
		}
	}
	if len(steps) != n {
		t.Errorf("the log holds %d step events, want %d: %v", len(steps), n, steps)
	}
	for i, s := range steps {
		if s != i+1 {
			t.Errorf("step event %d is step %d, want %d (steps %v)", i, s, i+1, steps)
			break
		}
	}
	for s, k := range evals {
		if k > 1 {
			t.Errorf("step %d evaluated %d times in the log", s, k)
		}
	}
}

// Out-of-range and ignored flags are errors that name the flag, found before
// any data is read.
func TestTrainFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-batch", "0"}, "-batch 0"},
		{[]string{"-batch", "-4"}, "-batch -4"},
		{[]string{"-train-fraction", "0"}, "-train-fraction 0"},
		{[]string{"-train-fraction", "1"}, "-train-fraction 1"},
		{[]string{"-momentum", "-1"}, "-momentum -1"},
		{[]string{"-momentum", "1"}, "-momentum 1"},
		{[]string{"-beta", "-1"}, "-beta -1"},
		{[]string{"-eta", "-0.5"}, "-eta -0.5"},
		{[]string{"-lr", "-1"}, "-lr -1"},
		{[]string{"-lr", "0"}, "-lr 0"},
		{[]string{"-lr", "0.5"}, "-lr 0.5"}, // above HGD's bound on α
		{[]string{"-weight-decay", "-1"}, "-weight-decay -1"},
		{[]string{"-eval-limit", "-1"}, "-eval-limit -1"},
		{[]string{"-activation", "swish"}, "-activation"},                // case 1 always uses ReLU
		{[]string{"-dropout", "0.5"}, "-dropout"},                        // case 1 has no dropout
		{[]string{"-optimizer", "sgd", "-beta", "1e-3"}, "-beta"},        // SGD adapts nothing
		{[]string{"-optimizer", "sgd", "-momentum", "0.9"}, "-momentum"}, // plain SGD has no momentum
		{[]string{"-optimizer", "nesterov"}, "unknown -optimizer"},
		{[]string{"-optimizer", "momentum", "-eta", "1e-3"}, "-eta"},
		{[]string{"-optimizer", "adam", "-momentum", "0.5"}, "-momentum"},
		{[]string{"-dataset", "cifar100", "-dropout", "1"}, "-dropout 1"},
		{[]string{"-dataset", "cifar100", "-activation", "tanh"}, "-activation"},
		{[]string{"-checkpoint-every", "-1m"}, "-checkpoint-every"},
		{[]string{"-time", "-1m"}, "-time"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var o, e bytes.Buffer
			args := append(append([]string{}, tinyArgs...), tc.args...)
			err := trainWith(context.Background(), args, &o, &e, noLoader(t))
			if err == nil {
				t.Fatalf("accepted; stderr:\n%s", e.String())
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %q", err, tc.want)
			}
			if !errors.Is(err, errUsage) || !strings.Contains(e.String(), tc.want) {
				t.Errorf("not a usage error (exit code 2) printed on stderr: %v\n%s", err, e.String())
			}
		})
	}
}

// An explicit -momentum 0 is a momentum of zero, not the default 0.9.
func TestTrainExplicitZeroMomentum(t *testing.T) {
	summary, _ := mustTrain(t, "-optimizer", "momentum", "-momentum", "0", "-steps", "2")
	if g := summary["gamma"]; g != 0.0 {
		t.Errorf("γ = %v with -momentum 0, want 0", g)
	}
}

// The optimizer's flags: one not given keeps hgd.Defaults, one given is
// used as it is (an explicit 0 is 0).
func TestTrainFlagsOptimizerConfig(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want func() hgd.Config
	}{
		{nil, func() hgd.Config { return hgd.Defaults(hgd.HGD) }},
		{[]string{"-optimizer", "sgd"}, func() hgd.Config { return hgd.Defaults(hgd.SGD) }}, // plain SGD, no momentum
		{[]string{"-optimizer", "momentum"}, func() hgd.Config { return hgd.Defaults(hgd.Momentum) }},
		{[]string{"-optimizer", "sgd-hd"}, func() hgd.Config { return hgd.Defaults(hgd.SGDHD) }},
		{[]string{"-optimizer", "sgdn-hd"}, func() hgd.Config { return hgd.Defaults(hgd.SGDNHD) }},
		{[]string{"-optimizer", "adam"}, func() hgd.Config { return hgd.Defaults(hgd.Adam) }},
		{[]string{"-optimizer", "adam-hd"}, func() hgd.Config { return hgd.Defaults(hgd.AdamHD) }},
		{[]string{"-lr", "0.05", "-momentum", "0", "-beta", "0", "-eta", "1e-3", "-weight-decay", "1e-4"}, func() hgd.Config {
			c := hgd.Defaults(hgd.HGD)
			c.Alpha0, c.Gamma0, c.Beta, c.Eta, c.WeightDecay = 0.05, 0, 0, 1e-3, 1e-4
			return c
		}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var f trainFlags
			fs := flag.NewFlagSet("train", flag.ContinueOnError)
			f.register(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			set := map[string]bool{}
			fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
			cfg, err := f.config(set)
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.want(); cfg.Optimizer != want {
				t.Errorf("optimizer %+v, want %+v", cfg.Optimizer, want)
			}
		})
	}
}

// A second train on a checkpoint folder in use fails at once and names the
// holder.
func TestTrainLockedCheckpoint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ck")
	l, err := dirlock.Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	var o, e bytes.Buffer
	args := append(append([]string{}, tinyArgs...), "-steps", "2", "-checkpoint", dir)
	err = trainWith(context.Background(), args, &o, &e, noLoader(t))
	if !errors.Is(err, dirlock.ErrLocked) {
		t.Fatalf("train on a locked checkpoint folder: %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "pid ") || !strings.Contains(err.Error(), dir) {
		t.Errorf("the error does not name the holder and the folder: %v", err)
	}
}

// The progress bar shows no accuracy before the first evaluation, and the
// final evaluation says it is running.
func TestTrainProgressBar(t *testing.T) {
	_, errOut := mustTrain(t, "-steps", "3", "-eval-every", "100")
	if strings.Contains(errOut, "val acc 0.0000") {
		t.Errorf("the bar shows an accuracy before any evaluation:\n%s", errOut)
	}
	if !strings.Contains(errOut, "val acc —") {
		t.Errorf("the bar lacks the placeholder \"val acc —\":\n%s", errOut)
	}
	if !strings.Contains(errOut, "evaluating on 60 validation images") {
		t.Errorf("no feedback during the final evaluation:\n%s", errOut)
	}
}

// copyTree copies a folder (a snapshot of a checkpoint folder).
func copyTree(t *testing.T, dst, src string) {
	t.Helper()
	if err := os.RemoveAll(dst); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
}

// A process killed after its last checkpoint left log lines beyond it: the
// resumed run drops them, so every step appears once.
func TestTrainResumeKeepsLogConsistent(t *testing.T) {
	dir := t.TempDir()
	ck, log, snap := filepath.Join(dir, "ck"), filepath.Join(dir, "run.jsonl"), filepath.Join(dir, "snap")
	mustTrain(t, "-steps", "6", "-eval-every", "4", "-checkpoint", ck, "-log", log)
	copyTree(t, snap, ck)
	mustTrain(t, "-steps", "12", "-eval-every", "4", "-checkpoint", ck, "-log", log)
	checkLogSteps(t, log, 12)
	// As if killed at step 12 with the last checkpoint at step 6.
	copyTree(t, ck, snap)
	summary, errOut := mustTrain(t, "-steps", "12", "-eval-every", "4", "-checkpoint", ck, "-log", log)
	if !strings.Contains(errOut, "at step 6") {
		t.Errorf("did not resume at step 6:\n%s", errOut)
	}
	if summary["steps"] != 12.0 {
		t.Errorf("summary steps %v, want 12", summary["steps"])
	}
	checkLogSteps(t, log, 12)
}

// childEnv passes the arguments of a train run to TestTrainChild.
const childEnv = "HGDTUNE_TRAIN_CHILD_ARGS"

// TestTrainChild is the process that TestTrainKill9 kills: it runs "train"
// with the arguments in $HGDTUNE_TRAIN_CHILD_ARGS.
func TestTrainChild(t *testing.T) {
	js := os.Getenv(childEnv)
	if js == "" {
		t.Skip("only run as the child of TestTrainKill9")
	}
	var args []string
	if err := json.Unmarshal([]byte(js), &args); err != nil {
		t.Fatal(err)
	}
	if err := trainWith(context.Background(), append(append([]string{}, tinyArgs...), args...), os.Stdout, os.Stderr, syntheticLoader); err != nil {
		t.Fatal(err)
	}
}

// Killed with SIGKILL after it has checkpointed, a run resumes from its last
// periodic checkpoint and its log holds every step once.
func TestTrainKill9(t *testing.T) {
	dir := t.TempDir()
	ck, log := filepath.Join(dir, "ck"), filepath.Join(dir, "run.jsonl")
	args, _ := json.Marshal([]string{"-steps", "1000000", "-eval-every", "3", "-checkpoint-every", "1ns", "-checkpoint", ck, "-log", log})
	cmd := exec.Command(os.Args[0], "-test.run=^TestTrainChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+string(args))
	var childOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &childOut, &childOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// Kill once a checkpoint past step 2 is on disk and the log has gone
	// beyond it (or, failing to see that, once the checkpoint is at step
	// 30): placed by progress, not by time; the deadline only bounds a broken
	// run.
	deadline := time.After(3 * time.Minute)
	for {
		s, ok := checkpointSteps(t, ck)
		if ok && s > 2 && (maxLoggedStep(log) > s || s >= 30) {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("the child exited before checkpointing: %v\n%s", err, childOut.String())
		case <-deadline:
			cmd.Process.Kill()
			<-exited
			t.Fatalf("no checkpoint after 3 minutes\n%s", childOut.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	restored, ok := checkpointSteps(t, ck)
	if !ok {
		t.Fatal("no checkpoint after the kill")
	}
	t.Logf("the log reached step %d", maxLoggedStep(log))
	target := restored + 4
	summary, errOut := mustTrain(t, "-steps", strconv.Itoa(target), "-eval-every", "3", "-checkpoint", ck, "-log", log)
	t.Logf("killed with a checkpoint at step %d; the resume said:\n%s", restored, errOut)
	if !strings.Contains(errOut, "at step "+strconv.Itoa(restored)) {
		t.Errorf("did not resume at step %d:\n%s", restored, errOut)
	}
	if summary["steps"] != float64(target) {
		t.Errorf("summary steps %v, want %d", summary["steps"], target)
	}
	checkLogSteps(t, log, target)
}

// checkpointSteps reads the step count of the checkpoint a resume would
// restore from folder ck (false: none, or caught mid-swap).
func checkpointSteps(t *testing.T, ck string) (int, bool) {
	t.Helper()
	for _, sub := range []string{"current", "previous", "."} {
		b, err := os.ReadFile(filepath.Join(ck, sub, "trainer.json"))
		if err != nil {
			continue
		}
		var st struct {
			Steps int `json:"steps"`
		}
		if json.Unmarshal(b, &st) != nil {
			return 0, false
		}
		return st.Steps, true
	}
	return 0, false
}

// maxLoggedStep is the largest step of a step event in a log being written
// (a partial last line is skipped).
func maxLoggedStep(path string) int {
	b, _ := os.ReadFile(path)
	m := 0
	for line := range bytes.Lines(b) {
		var ev struct {
			Event string `json:"event"`
			Step  int    `json:"step"`
		}
		if json.Unmarshal(line, &ev) == nil && ev.Event == "step" {
			m = max(m, ev.Step)
		}
	}
	return m
}

// -time counts the training time of every session of a checkpoint, as -steps
// counts their steps; a resume that has nothing left to train reuses the
// checkpoint's last evaluation instead of evaluating (and logging) again.
func TestTrainTimeIsTotal(t *testing.T) {
	dir := t.TempDir()
	ck, log := filepath.Join(dir, "ck"), filepath.Join(dir, "run.jsonl")
	mustTrain(t, "-steps", "3", "-checkpoint", ck, "-log", log)
	cur := filepath.Join(ck, trainer.CheckpointCurrent)
	s, err := trainer.ReadSession(cur)
	if err != nil {
		t.Fatal(err)
	}
	if s.TrainSeconds <= 0 || s.Steps != 3 || s.Eval == nil || s.Eval.Step != 3 {
		t.Fatalf("session after 3 steps: %+v", s)
	}
	s.TrainSeconds = 3600 // as if the first session had trained an hour
	if err := trainer.WriteSession(cur, s); err != nil {
		t.Fatal(err)
	}
	summary, errOut := mustTrain(t, "-steps", "6", "-time", "1h", "-checkpoint", ck, "-log", log)
	if summary["steps"] != 3.0 {
		t.Errorf("an hour's -time with an hour trained: %v steps in all, want 3", summary["steps"])
	}
	if strings.Contains(errOut, "evaluating") {
		t.Errorf("evaluated again with nothing trained:\n%s", errOut)
	}
	summary, _ = mustTrain(t, "-steps", "6", "-time", "2h", "-checkpoint", ck, "-log", log)
	if summary["steps"] != 6.0 || summary["train_seconds"].(float64) < 3600 {
		t.Errorf("-time 2h after an hour: %v", summary)
	}
	checkLogSteps(t, log, 6)
}

// A checkpoint written by an earlier hgdtune (its files directly in the
// folder, no session.json) resumes, and the first save moves it to current/.
func TestTrainLegacyCheckpoint(t *testing.T) {
	dir := t.TempDir()
	ck, legacy := filepath.Join(dir, "ck"), filepath.Join(dir, "legacy")
	mustTrain(t, "-steps", "3", "-checkpoint", ck)
	if err := os.Mkdir(legacy, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range trainer.LegacyCheckpointFiles() {
		if err := os.Rename(filepath.Join(ck, trainer.CheckpointCurrent, name), filepath.Join(legacy, name)); err != nil {
			t.Fatal(err)
		}
	}
	summary, errOut := mustTrain(t, "-steps", "5", "-checkpoint", legacy)
	if !strings.Contains(errOut, "at step 3") || summary["steps"] != 5.0 {
		t.Errorf("legacy resume: %v\n%s", summary, errOut)
	}
	if exists(filepath.Join(legacy, "trainer.json")) || !exists(filepath.Join(legacy, trainer.CheckpointCurrent, "trainer.json")) {
		t.Error("the legacy checkpoint was not moved to current/")
	}
	if s, ok := checkpointSteps(t, legacy); !ok || s != 5 {
		t.Errorf("checkpoint at step %d (%v), want 5", s, ok)
	}
}

// A damaged checkpoint stops train with an error naming the damaged file.
func TestTrainDamagedCheckpoint(t *testing.T) {
	for _, name := range []string{trainer.SessionFile, "variables.bin"} {
		t.Run(name, func(t *testing.T) {
			ck := filepath.Join(t.TempDir(), "ck")
			mustTrain(t, "-steps", "2", "-checkpoint", ck)
			path := filepath.Join(ck, trainer.CheckpointCurrent, name)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 4
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			_, errOut, err := trainOnce(t, "-steps", "4", "-checkpoint", ck)
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Errorf("damaged %s: error %v\n%s", name, err, errOut)
			}
		})
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// A checkpoint is resumed only with the settings it was trained with: a
// new -seed (another 70/30 split: validation images trained on) or -batch
// (steps the log already holds) is refused, naming the flag, before any
// data is read; a folder whose run.json is gone is refused too. Budgets
// may change.
func TestTrainResumeRefusesOtherSettings(t *testing.T) {
	dir := t.TempDir()
	ck, log := filepath.Join(dir, "ck"), filepath.Join(dir, "run.jsonl")
	mustTrain(t, "-steps", "6", "-checkpoint", ck, "-log", log)
	for _, c := range []struct{ flag, value string }{{"seed", "7"}, {"batch", "16"}, {"lr", "0.05"}} {
		var o, e bytes.Buffer
		args := append(append([]string{}, tinyArgs...), "-steps", "12", "-checkpoint", ck, "-log", log, "-"+c.flag, c.value)
		err := trainWith(context.Background(), args, &o, &e, noLoader(t))
		if err == nil || !strings.Contains(err.Error(), "-"+c.flag) || !strings.Contains(err.Error(), "→ "+c.value) {
			t.Errorf("resume with -%s %s: %v, want the flag named", c.flag, c.value, err)
		}
	}
	mustTrain(t, "-steps", "12", "-checkpoint", ck, "-log", log)
	checkLogSteps(t, log, 12)
	if err := os.Remove(filepath.Join(ck, "run.json")); err != nil {
		t.Fatal(err)
	}
	var o, e bytes.Buffer
	err := trainWith(context.Background(), append(append([]string{}, tinyArgs...), "-steps", "18", "-checkpoint", ck, "-log", log), &o, &e, noLoader(t))
	if err == nil || !strings.Contains(err.Error(), "run.json") {
		t.Errorf("resume without run.json: %v, want it named", err)
	}
}
