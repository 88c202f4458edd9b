package trainer

// The folder of a Run with a checkpoint (RunConfig.Checkpoint; "hgdtune
// train -checkpoint") and the consistency of its JSONL log with it.
//
// A checkpoint folder holds
//
//	.lock          dirlock's lock: one run at a time per folder
//	run.json       the run's identity, which its log lines carry
//	current/       the checkpoint: Trainer.Save's files and session.json
//	next/          a checkpoint being written (incomplete until renamed to current)
//	previous/      the checkpoint being replaced (only during a swap)
//
// A save writes next/, renames current/ to previous/, renames next/ to
// current/ and removes previous/. Every rename is atomic, so after a crash at
// any point current/ or previous/ is a complete checkpoint: before the first
// rename current/ is untouched; between the two renames previous/ is the old
// checkpoint; after the second current/ is the new one. A save that finds no
// current/ (a crash between the renames) keeps previous/ until the new
// current/ is in place. Loading takes current/, else previous/.
//
// A checkpoint whose files lie directly in the folder (LegacyCheckpointFiles,
// no current/) is restored too; the first save moves it to current/.

import (
	"bufio"
	"crypto/rand"
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

	"github.com/hgdtune/hgdtune/internal/atomicfile"
)

// Entries of a -checkpoint folder.
const (
	CheckpointCurrent = "current"
	ckNext            = "next"
	ckPrevious        = "previous"
	ckRunFile         = "run.json"
	// SessionFile, inside a checkpoint, holds what "train" adds to the
	// trainer's state.
	SessionFile = "session.json"
)

// LegacyCheckpointFiles are the files of a checkpoint that lies directly in
// the -checkpoint folder instead of in current/, a layout that is restored
// and moved to current/ by the first save.
func LegacyCheckpointFiles() []string {
	return []string{"trainer.json", "variables.bin", "checksums.sha256"}
}

// errSession wraps every error reading session.json.
var errSession = errors.New("bad checkpoint session file")

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// findCheckpoint returns the checkpoint to restore from in the -checkpoint
// folder dir: current/, else previous/, else dir itself when it holds a
// checkpoint of the layout without current/; "" when there is none.
func findCheckpoint(dir string) string {
	for _, p := range []string{filepath.Join(dir, CheckpointCurrent), filepath.Join(dir, ckPrevious)} {
		if exists(p) {
			return p
		}
	}
	if exists(filepath.Join(dir, LegacyCheckpointFiles()[0])) {
		return dir
	}
	return ""
}

// saveCheckpoint writes a new checkpoint into the -checkpoint folder dir
// with write (which fills the folder it is given) and swaps it in for the
// current one, crash-safely (see the top of this file).
func saveCheckpoint(dir string, write func(folder string) error) error {
	for _, step := range checkpointSwap(dir, write) {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// checkpointSwap returns the steps of saveCheckpoint, in order. A crash
// can come between any two of them; the test of the swap runs the first n
// steps alone, for every n, to play a kill after the n-th (so no test hook
// lives in the save itself). Each step decides what to do when it runs,
// from the folder as the steps before it left it.
func checkpointSwap(dir string, write func(folder string) error) []func() error {
	cur, next, prev := filepath.Join(dir, CheckpointCurrent), filepath.Join(dir, ckNext), filepath.Join(dir, ckPrevious)
	fail := func(err error) error {
		if err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		return nil
	}
	return []func() error{
		func() error { return fail(os.RemoveAll(next)) }, // left by an interrupted save
		func() error { return fail(os.Mkdir(next, 0o755)) },
		func() error {
			if err := write(next); err != nil {
				os.RemoveAll(next)
				return err
			}
			return nil
		},
		func() error { return fail(atomicfile.SyncDir(next)) },
		func() error {
			// current/ is complete, so previous/ (left by an interrupted
			// save) is not needed.
			if !exists(cur) {
				return nil
			}
			return fail(os.RemoveAll(prev))
		},
		func() error {
			if !exists(cur) {
				return nil
			}
			return fail(os.Rename(cur, prev))
		},
		func() error { return fail(os.Rename(next, cur)) },
		func() error { return fail(atomicfile.SyncDir(dir)) },
		func() error { return fail(os.RemoveAll(prev)) },
		func() error { // a checkpoint in the legacy layout (files directly in the folder), replaced
			for _, name := range LegacyCheckpointFiles() {
				if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
					return fail(err)
				}
			}
			return nil
		},
	}
}

// SavedEval is an evaluation kept in session.json.
type SavedEval struct {
	Step     int     `json:"step"`
	Accuracy float64 `json:"accuracy"`
	Loss     float64 `json:"loss"`
	N        int     `json:"n"`
}

// Session is what a checkpoint of "train" holds besides the trainer's
// state.
type Session struct {
	// Steps is the step count at the save, as the log numbers steps.
	Steps int `json:"steps"`
	// TrainSeconds is the training time of all sessions so far (what -time
	// limits).
	TrainSeconds float64 `json:"train_seconds"`
	// Eval is the last evaluation, if any.
	Eval *SavedEval `json:"eval,omitempty"`
	// SHA256 is the SHA-256 of the JSON encoding of the session with SHA256
	// empty.
	SHA256 string `json:"sha256"`
}

func (s Session) sum() (string, error) {
	s.SHA256 = ""
	b, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}

// WriteSession writes session.json into a checkpoint folder (atomically, so
// the final evaluation can be added to a checkpoint in place).
func WriteSession(folder string, s Session) error {
	var err error
	if s.SHA256, err = s.sum(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(folder, SessionFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// ReadSession reads a checkpoint's session.json.
func ReadSession(folder string) (s Session, err error) {
	path := filepath.Join(folder, SessionFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("%w: %w", errSession, err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return Session{}, fmt.Errorf("%w: %s: %w", errSession, path, err)
	}
	want, err := s.sum()
	if err != nil || want != s.SHA256 {
		return Session{}, fmt.Errorf("%w: %s is damaged (its checksum does not match)", errSession, path)
	}
	return s, nil
}

// runFile is run.json: the run's identity, which its log lines carry (in
// "start" events, so that trimLog touches no other run), and the settings
// its checkpoints were trained with.
type runFile struct {
	Run      string            `json:"run"`
	Settings map[string]string `json:"settings,omitempty"`
}

// runID returns the identity of the run in -checkpoint folder dir, creating
// it on the first run, and checks settings against those recorded: a
// folder holding a checkpoint (hasCheckpoint) is resumed only with the
// settings it was trained with, and only with its run.json. Without a
// checkpoint, or when run.json records none, settings are recorded.
func runID(dir string, settings map[string]string, hasCheckpoint bool) (string, error) {
	path := filepath.Join(dir, ckRunFile)
	var r runFile
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && hasCheckpoint:
		return "", fmt.Errorf("%w: %s holds a checkpoint but no %s, which identifies its run in the log and records its settings; restore the file or use another folder",
			ErrSettings, dir, ckRunFile)
	case err == nil:
		if json.Unmarshal(b, &r) != nil || r.Run == "" {
			return "", fmt.Errorf("%w: %s is damaged; restore it or use another folder", ErrSettings, path)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	if hasCheckpoint && r.Settings != nil {
		if diff := settingsDiff(r.Settings, settings); diff != "" {
			return "", fmt.Errorf("%w: %s was trained with other settings (%s); resume it with its settings or use another folder",
				ErrSettings, dir, diff)
		}
	}
	if r.Run != "" && (hasCheckpoint && r.Settings != nil || len(settings) == 0) {
		return r.Run, nil
	}
	if r.Run == "" {
		r.Run = newRunID()
	}
	r.Settings = settings
	out, _ := json.Marshal(r)
	if err := atomicfile.WriteFile(path, append(out, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	return r.Run, nil
}

// settingsDiff lists the settings that differ, "-name old → new", sorted.
func settingsDiff(was, now map[string]string) string {
	var out []string
	for k, v := range was {
		if w, ok := now[k]; ok && w != v {
			out = append(out, fmt.Sprintf("-%s %s → %s", k, v, w))
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

func newRunID() string { return rand.Text() }

// logLine is what trimLog reads of a log line.
type logLine struct {
	Event     string `json:"event"`
	Step      *int   `json:"step"`
	Run       string `json:"run"`
	ResumedAt int    `json:"resumed_at"`
}

// trimLog makes the JSONL log at path consistent with a checkpoint of run
// `run` restored at step `step`: it drops the run's lines beyond that step
// (step and evaluation events, and the start events of sessions that began
// beyond it), its evaluations at that step unless evalKept (the checkpoint
// holds that evaluation, so the resumed run will not evaluate again), or
// every line of the run when fresh (no checkpoint was restored: nothing of
// the earlier sessions survives), and a partial last line (a write cut short
// by a kill). Lines of other runs stay. A missing log is no error. It
// returns the number of lines dropped.
//
// When the dropped lines end the file (the usual case) the file is
// truncated in place; otherwise the kept lines are written to a temporary
// file renamed over the log.
func trimLog(path, run string, step int, evalKept, fresh bool) (int, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	type span struct{ from, to int64 }
	var drop []span // merged, in order
	r := bufio.NewReaderSize(f, 1<<16)
	var off int64
	lines := 0
	ours := false
	for {
		line, err := r.ReadBytes('\n')
		if len(line) == 0 && err != nil {
			if err != io.EOF {
				return 0, err
			}
			break
		}
		from := off
		off += int64(len(line))
		dropped := false
		var ev logLine
		switch {
		case line[len(line)-1] != '\n':
			dropped = true // a partial last line
		case json.Unmarshal(line, &ev) != nil:
			// not a line of ours: keep it
		case ev.Event == "start":
			ours = ev.Run == run
			dropped = ours && (fresh || ev.ResumedAt > step)
		case ev.Step != nil:
			beyond := *ev.Step > step || *ev.Step == step && ev.Event == "eval" && !evalKept
			dropped = ours && (fresh || beyond)
		default:
			dropped = ours && fresh
		}
		if dropped {
			lines++
			if n := len(drop); n > 0 && drop[n-1].to == from {
				drop[n-1].to = off
			} else {
				drop = append(drop, span{from, off})
			}
		}
	}
	if len(drop) == 0 {
		return 0, nil
	}
	if len(drop) == 1 && drop[0].to == off {
		// The usual case: the dropped lines end the file.
		if err := f.Truncate(drop[0].from); err != nil {
			return 0, err
		}
		return lines, f.Sync()
	}
	mode := fs.FileMode(0o644)
	if info, serr := f.Stat(); serr == nil {
		mode = info.Mode().Perm()
	}
	err = atomicfile.Write(path, mode, func(w io.Writer) error {
		var pos int64
		for _, d := range append(drop, span{off, off}) {
			if _, err := io.Copy(w, io.NewSectionReader(f, pos, d.from-pos)); err != nil {
				return err
			}
			pos = d.to
		}
		return nil
	})
	return lines, err
}
