package trainer

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/hgdtune/hgdtune/cifar"
)

// Files of a checkpoint directory.
const (
	stateFile = "trainer.json" // trainerState
	varsFile  = "variables.bin"
	// sumsFile holds the SHA-256 of stateFile and varsFile, in the format
	// of sha256sum(1) ("<hex>  <name>" lines; `sha256sum -c` checks it). It
	// is written last.
	sumsFile = "checksums.sha256"
)

// Checkpoint format versions: 1 had no sumsFile (still read, unchecked); 2
// requires it.
const (
	checkpointVersion = 2
	firstChecksummed  = 2
)

// savedVar describes one variable in variables.bin.
type savedVar struct {
	Path      string `json:"path"`
	DType     string `json:"dtype"`
	Dims      []int  `json:"dims"`
	Trainable bool   `json:"trainable"`
	Offset    int64  `json:"offset"`
	Bytes     int64  `json:"bytes"`
}

// trainerState is the JSON part of a checkpoint.
type trainerState struct {
	Version   int                `json:"version"`
	Net       string             `json:"net"`
	BatchSize int                `json:"batch_size"`
	Optimizer string             `json:"optimizer"`
	Steps     int                `json:"steps"`
	LossSum   float64            `json:"loss_sum"`
	LossN     int                `json:"loss_n"`
	Batcher   cifar.BatcherState `json:"batcher"`
	Variables []savedVar         `json:"variables"`
	// Seed is the writer's Config.Seed: a checkpoint whose seed differs
	// from the restoring trainer's was written by another trial (a PBT
	// donor). A checkpoint without it is taken as the trainer's own.
	Seed *uint64 `json:"seed,omitempty"`
}

// Save writes the complete training state into dir (created if missing):
// trainer.json, variables.bin and, last, checksums.sha256 holding the
// SHA-256 of the other two, which Restore verifies. Files are written in
// place: callers wanting atomicity write to a temporary directory and rename
// it (the hpo runner and "hgdtune train" do).
func (t *Trainer) Save(dir string) error {
	if t.closed {
		return ErrClosed
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("trainer: save: %w", err)
	}
	st := trainerState{
		Version: checkpointVersion, Net: t.cfg.Net.String(), BatchSize: t.cfg.BatchSize,
		Optimizer: t.cfg.Optimizer.Kind.String(), Steps: t.steps, LossSum: t.lossSum, LossN: t.lossN,
		Batcher: t.batcher.State(), Seed: &t.cfg.Seed,
	}
	f, err := os.Create(filepath.Join(dir, varsFile))
	if err != nil {
		return fmt.Errorf("trainer: save: %w", err)
	}
	varsSum := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, varsSum), 1<<20)
	var vars []savedVar
	var offset int64
	for v := range t.store.IterVariables() {
		if !v.HasValue() {
			continue // declared but never initialized: nothing to save
		}
		val, err := v.Value()
		if err != nil {
			f.Close()
			return fmt.Errorf("trainer: save %s: %w", v.Path(), err)
		}
		var werr error
		var n int
		if err := val.ConstBytes(func(b []byte) { n, werr = w.Write(b) }); err != nil {
			werr = err
		}
		if werr != nil {
			f.Close()
			return fmt.Errorf("trainer: save %s: %w", v.Path(), werr)
		}
		sh := val.Shape()
		vars = append(vars, savedVar{Path: v.Path(), DType: sh.DType.String(), Dims: slices.Clone(sh.Dimensions),
			Trainable: v.Trainable, Offset: offset, Bytes: int64(n)})
		offset += int64(n)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("trainer: save: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("trainer: save: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("trainer: save: %w", err)
	}
	slices.SortFunc(vars, func(a, b savedVar) int { return strings.Compare(a.Path, b.Path) })
	st.Variables = vars
	js, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("trainer: save: %w", err)
	}
	if err := writeFileSync(filepath.Join(dir, stateFile), js); err != nil {
		return err
	}
	stateSum := sha256.Sum256(js)
	return writeFileSync(filepath.Join(dir, sumsFile), formatSums(stateSum[:], varsSum.Sum(nil)))
}

// formatSums is the content of sumsFile.
func formatSums(state, vars []byte) []byte {
	return fmt.Appendf(nil, "%x  %s\n%x  %s\n", state, stateFile, vars, varsFile)
}

// readSums parses sumsFile strictly: exactly the two lines formatSums
// writes, nothing before, between or after them.
func readSums(path string) (state, vars []byte, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	bad := fmt.Errorf("%w: %s is damaged: want two lines \"<sha256>  %s\" and \"<sha256>  %s\"", ErrCheckpoint, path, stateFile, varsFile)
	if len(lines) != 3 || lines[2] != "" {
		return nil, nil, bad
	}
	var sums [2][]byte
	for i, name := range []string{stateFile, varsFile} {
		h, rest, ok := strings.Cut(lines[i], "  ")
		if !ok || rest != name+"\n" || len(h) != 2*sha256.Size || strings.ToLower(h) != h {
			return nil, nil, bad
		}
		if sums[i], err = hex.DecodeString(h); err != nil {
			return nil, nil, bad
		}
	}
	return sums[0], sums[1], nil
}

// checkSum compares the SHA-256 of the file at path with want.
func checkSum(path, sumsPath string, want []byte) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrCheckpoint, path, err)
	}
	if got := h.Sum(nil); !bytes.Equal(got, want) {
		return fmt.Errorf("%w: %s is damaged: its SHA-256 is %x, %s says %x", ErrCheckpoint, path, got, sumsPath, want)
	}
	return nil
}

func writeFileSync(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("trainer: save: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("trainer: save: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("trainer: save: %w", err)
	}
	return f.Close()
}

// Restore loads a checkpoint written by Save by a Trainer of the same
// network (its own, or another trial's for a PBT exploit). Every variable of
// the checkpoint replaces the trainer's; the batch position, step count and
// training-loss accumulator are restored too. The batch size may differ
// (population-based training may explore it): the position in the epoch's
// image order is kept and the step count is converted to this trainer's
// batch size (see rebatch: exactly at epoch boundaries).
//
// Afterwards the hyperparameters the optimizer does not adapt are this
// trainer's own (see applyFixedHyperparameters), and a checkpoint of
// another trial (its seed differs) is handled by Config.OnExploit: its
// adapted α and γ are kept (KeepAdapted) or reset to this trainer's Alpha0
// and Gamma0 (ResetAdapted).
func (t *Trainer) Restore(dir string) error {
	if t.closed {
		return ErrClosed
	}
	statePath, sumsPath := filepath.Join(dir, stateFile), filepath.Join(dir, sumsFile)
	js, err := os.ReadFile(statePath)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	// The checksums, when present, are checked before anything is parsed.
	stateSum, varsSum, err := readSums(sumsPath)
	checked := err == nil
	switch {
	case checked:
		if got := sha256.Sum256(js); !bytes.Equal(got[:], stateSum) {
			return fmt.Errorf("%w: %s is damaged: its SHA-256 is %x, %s says %x", ErrCheckpoint, statePath, got, sumsPath, stateSum)
		}
		if err := checkSum(filepath.Join(dir, varsFile), sumsPath, varsSum); err != nil {
			return err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	var st trainerState
	if err := json.Unmarshal(js, &st); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrCheckpoint, statePath, err)
	}
	if st.Version < 1 || st.Version > checkpointVersion {
		return fmt.Errorf("%w: %s: version %d, want 1 to %d", ErrCheckpoint, statePath, st.Version, checkpointVersion)
	}
	if !checked && st.Version >= firstChecksummed {
		return fmt.Errorf("%w: %s: %s is missing (a version-%d checkpoint is checksummed)", ErrCheckpoint, dir, sumsFile, st.Version)
	}
	if st.Net != t.cfg.Net.String() {
		return fmt.Errorf("%w: %s holds %q; this trainer is %q", ErrCheckpoint, dir, st.Net, t.cfg.Net.String())
	}
	if st.Optimizer != t.cfg.Optimizer.Kind.String() {
		return fmt.Errorf("%w: %s was trained with %s; this trainer uses %s", ErrCheckpoint, dir, st.Optimizer, t.cfg.Optimizer.Kind)
	}
	if st.BatchSize <= 0 || st.Batcher.BatchSize != st.BatchSize {
		return fmt.Errorf("%w: %s: batch size %d, batcher state for %d", ErrCheckpoint, dir, st.BatchSize, st.Batcher.BatchSize)
	}
	if st.BatchSize != t.cfg.BatchSize {
		st.Batcher, st.Steps = rebatch(st.Batcher, t.cfg.BatchSize, t.batcher.StepsPerEpoch())
	}
	values, err := readVars(filepath.Join(dir, varsFile), st.Variables)
	if err != nil {
		return err
	}
	// Check everything before changing anything: a failed restore leaves the
	// trainer as it was.
	inCheckpoint := make(map[string]bool, len(st.Variables))
	for i, sv := range st.Variables {
		inCheckpoint[sv.Path] = true
		if v := t.store.GetVariable(sv.Path); v != nil && !v.Shape().Equal(values[i].Shape()) {
			return fmt.Errorf("%w: %s: shape %s in the checkpoint, %s in the trainer",
				ErrCheckpoint, sv.Path, values[i].Shape(), v.Shape())
		}
	}
	for v := range t.store.IterVariables() {
		if v.HasValue() && !inCheckpoint[v.Path()] {
			return fmt.Errorf("%w: %s lacks variable %s of this trainer", ErrCheckpoint, dir, v.Path())
		}
	}
	if err := t.batcher.SetState(st.Batcher); err != nil { // validates before it changes anything
		return fmt.Errorf("%w: %s: %w", ErrCheckpoint, dir, err)
	}
	for i, sv := range st.Variables {
		v := t.store.GetVariable(sv.Path)
		if v == nil {
			if v, err = t.store.CreateVariable(sv.Path, values[i]); err != nil {
				return fmt.Errorf("%w: %s: %w", ErrCheckpoint, sv.Path, err)
			}
		} else if err := v.SetValue(values[i]); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrCheckpoint, sv.Path, err)
		}
		v.Trainable = sv.Trainable
	}
	t.steps, t.lossSum, t.lossN = st.Steps, st.LossSum, st.LossN
	// The hyperparameters this trainer's optimizer does not adapt are its
	// own configuration's, whatever the checkpoint held (a PBT donor's).
	if err := t.applyFixedHyperparameters(); err != nil {
		return err
	}
	if st.Seed != nil && *st.Seed != t.cfg.Seed && t.cfg.OnExploit == ResetAdapted {
		return t.ResetAdaptedHyperparameters()
	}
	return nil
}

func readVars(path string, vars []savedVar) ([]*tensors.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	out := make([]*tensors.Tensor, len(vars))
	for i, sv := range vars {
		dt, err := dtypes.DTypeString(sv.DType)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: variable %s: dtype %q", ErrCheckpoint, path, sv.Path, sv.DType)
		}
		for _, d := range sv.Dims {
			if d < 0 {
				return nil, fmt.Errorf("%w: %s: variable %s: dimension %d", ErrCheckpoint, path, sv.Path, d)
			}
		}
		sh := shapes.Make(dt, sv.Dims...)
		if int64(sh.Memory()) != sv.Bytes || sv.Offset < 0 || sv.Offset+sv.Bytes > info.Size() {
			return nil, fmt.Errorf("%w: %s: variable %s: %d bytes at %d do not fit shape %s in a %d-byte file",
				ErrCheckpoint, path, sv.Path, sv.Bytes, sv.Offset, sh, info.Size())
		}
		t := tensors.FromShape(sh)
		var rerr error
		if err := t.MutableBytes(func(b []byte) {
			var n int
			n, rerr = f.ReadAt(b, sv.Offset)
			if n == len(b) && errors.Is(rerr, io.EOF) {
				rerr = nil // a read ending exactly at the end of the file
			} else if rerr == nil && n < len(b) {
				rerr = io.ErrUnexpectedEOF
			}
		}); err != nil {
			rerr = err
		}
		if rerr != nil {
			return nil, fmt.Errorf("%w: %s: variable %s: %w", ErrCheckpoint, path, sv.Path, rerr)
		}
		out[i] = t
	}
	return out, nil
}

// rebatch converts a batcher position to batches of size bs (spe steps an
// epoch at that size) and returns it with the step count it stands for.
// A position at an epoch's end — fewer images left than a batch of the old
// size, which that size never trains — stays at the epoch's end: the rest
// of the epoch is skipped at the new size too, and the step count is a
// whole number of epochs, so the next epoch trains exactly spe steps (what
// the compute clock charges). Within an epoch the count is the images
// served so far in whole batches of the new size.
func rebatch(st cifar.BatcherState, bs, spe int) (cifar.BatcherState, int) {
	if st.N-st.Index < st.BatchSize {
		st.Index = st.N
		st.BatchSize = bs
		return st, (st.Epoch + 1) * spe
	}
	st.BatchSize = bs
	return st, st.Epoch*spe + st.Index/bs
}
