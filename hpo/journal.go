package hpo

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Event kinds of the journal. "Inputs" are facts the runner observed
// (results, failures, a budget timer); "outputs" are what it decided from
// them. Replay feeds the inputs back and checks that the outputs come out the
// same.
const (
	EvExperiment = "experiment" // header: seed, slots, metric, parameters, clock
	EvTrial      = "trial"      // output: trial created with config and group
	EvDecision   = "decision"   // output: a scheduler decision (action, until, from, config)
	EvStatus     = "status"     // output: a trial's status changed
	EvCheckpoint = "checkpoint" // output: checkpoint copied for an exploit (error: the copy failed, and so does the job)
	EvResult     = "result"     // input: a trial reported (with its checkpoint)
	EvFail       = "fail"       // input: a trial failed
	EvTimeout    = "timeout"    // input: the time budget ran out between results
	EvEnd        = "end"        // output: the experiment is over (reason)
	EvResume     = "resume"     // note: a run resumed from here (not replayed)
)

// Event is one line of the JSONL journal.
type Event struct {
	Seq     int64     `json:"seq"`
	Kind    string    `json:"ev"`
	Time    time.Time `json:"time"`       // wall clock, informational
	Elapsed int64     `json:"elapsed_ns"` // experiment time (wall or compute), continues across resumes
	Trial   TrialID   `json:"trial"`      // -1 when not about a trial

	Action     string             `json:"action,omitempty"`
	Status     string             `json:"status,omitempty"`
	Budget     int                `json:"budget,omitempty"`
	Until      int                `json:"until,omitempty"`
	Group      int                `json:"group,omitempty"`
	From       *TrialID           `json:"from,omitempty"`
	Config     json.RawMessage    `json:"config,omitempty"`
	Metrics    map[string]float64 `json:"metrics,omitempty"`
	Checkpoint string             `json:"checkpoint,omitempty"`
	Error      string             `json:"error,omitempty"`
	Reason     string             `json:"reason,omitempty"`
	// (A "reset" field on an exploit decision, which some recorded
	// journals hold, is ignored: what an exploit does with adapted
	// hyperparameters is the trainable's policy.)

	// Header fields (EvExperiment).
	Seed   uint64   `json:"seed,omitempty"`
	Slots  int      `json:"slots,omitempty"`
	Metric string   `json:"metric,omitempty"`
	Goal   string   `json:"goal,omitempty"`
	Params []string `json:"params,omitempty"`
	// Clock is "compute" for an experiment on compute time
	// (Experiment.Cost), "" for wall-clock time.
	Clock string `json:"clock,omitempty"`

	// Sum chains the event to the journal's line before it (SealEvent): a
	// changed line, or one after a removed or inserted line, does not
	// match. It is the last field, so that it ends the line. A journal's
	// lines may lack it only at its start, before its first sealed line
	// (JournalChain).
	Sum string `json:"sum,omitempty"`
}

// sumDigits is the length of Event.Sum in hex digits.
const sumDigits = 16

// SealEvent sets e.Sum, the checksum that chains e to the line before it
// in its journal (prev: that line's Sum, "" for the first line): the first
// 16 hex digits of the SHA-256 of prev, a newline and e's JSON without its
// Sum. Every JournalWriter seals the events it appends, once it has
// numbered them.
func SealEvent(e *Event, prev string) error {
	e.Sum = ""
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("%w: encode: %v", ErrJournal, err)
	}
	e.Sum = chainSum(prev, b)
	return nil
}

func chainSum(prev string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write([]byte{'\n'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))[:sumDigits]
}

// JournalChain checks the checksums of a journal's lines as they are read
// in order (the file journal and package pgstore use it). The zero value
// is ready.
type JournalChain struct {
	last string // the Sum of the last line checked ("": none sealed yet)
}

// Check verifies event e, decoded from raw (its exact JSON text, without
// the newline). A line without a Sum is accepted only while no line before
// it had one.
func (c *JournalChain) Check(raw []byte, e *Event) error {
	if e.Sum == "" {
		if c.last != "" {
			return errors.New("the line has no checksum, but the lines before it have")
		}
		return nil
	}
	suffix := []byte(`,"sum":"` + e.Sum + `"}`)
	if len(e.Sum) != sumDigits || !bytes.HasSuffix(raw, suffix) {
		return errors.New("the line's checksum is not where hpo writes it")
	}
	body := append(append([]byte{}, raw[:len(raw)-len(suffix)]...), '}')
	if chainSum(c.last, body) != e.Sum {
		return errors.New("the line's checksum does not match: the line, or a line before it, was changed, removed or inserted")
	}
	c.last = e.Sum
	return nil
}

func (e *Event) isInput() bool {
	return e.Kind == EvResult || e.Kind == EvFail || e.Kind == EvTimeout
}

// ReadJournal reads a journal file. A torn last line (a kill during a write)
// is ignored; its byte offset is returned as good (the length of the valid
// prefix) so a writer can truncate it. A malformed line elsewhere is an
// error wrapping ErrJournal.
func ReadJournal(path string) (events []Event, good int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	return readJournal(f)
}

func readJournal(r io.Reader) ([]Event, int64, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var events []Event
	var good int64
	var chain JournalChain
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(b) > 0 && b[len(b)-1] == '\n' {
			var e Event
			raw := bytes.TrimSpace(b)
			if jerr := json.Unmarshal(raw, &e); jerr != nil {
				// A complete but corrupt line: torn only if it is the last.
				if _, perr := br.Peek(1); perr == io.EOF {
					return events, good, nil
				}
				return nil, 0, fmt.Errorf("%w: line %d: %v", ErrJournal, line, jerr)
			}
			if cerr := chain.Check(raw, &e); cerr != nil {
				return nil, 0, fmt.Errorf("%w: line %d: %v", ErrJournal, line, cerr)
			}
			events = append(events, e)
			good += int64(len(b))
		}
		if errors.Is(err, io.EOF) {
			return events, good, nil // an unterminated last line is torn
		}
		if err != nil {
			return nil, 0, err
		}
	}
}

// journal is DirStorage's JournalWriter: it appends events, one write per
// line so that a killed process leaves at most one torn line.
type journal struct {
	f    *os.File
	seq  int64
	last string // the last line's Sum
	buf  bytes.Buffer
	err  error // the first write error: the journal takes no more lines
}

func openJournal(path string) (*journal, []Event, error) {
	events, good, err := ReadJournal(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	// Append mode: every line goes to the end of the file, whatever else
	// has the file open.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	if err := f.Truncate(good); err != nil { // drop a torn last line
		f.Close()
		return nil, nil, fmt.Errorf("%w: truncating the journal's torn last line: %w", ErrStorage, err)
	}
	j := &journal{f: f}
	if n := len(events); n > 0 {
		j.seq, j.last = events[n-1].Seq+1, events[n-1].Sum
	}
	return j, events, nil
}

// Append implements JournalWriter.
func (j *journal) Append(e *Event) error {
	e.Seq = j.seq
	j.seq++
	if err := SealEvent(e, j.last); err != nil {
		return err
	}
	j.buf.Reset()
	enc := json.NewEncoder(&j.buf)
	if err := enc.Encode(e); err != nil {
		return fmt.Errorf("%w: encode: %v", ErrJournal, err)
	}
	if j.err != nil {
		return j.err
	}
	j.last = e.Sum
	if _, err := j.f.Write(j.buf.Bytes()); err != nil {
		// A short write leaves a torn line, which only the next open may
		// drop: no line may follow it.
		j.err = fmt.Errorf("%w: writing the journal %s: %w", ErrStorage, j.f.Name(), err)
		return j.err
	}
	return nil
}

// Close implements JournalWriter.
func (j *journal) Close() error {
	return j.f.Close()
}

// WriteJournal writes events as a journal file holds them, one JSON event a
// line: ReadJournal and LoadReport read the copy as the original, say a
// journal kept in a database copied into a results folder.
func WriteJournal(w io.Writer, events []Event) error {
	enc := json.NewEncoder(w)
	for i := range events {
		if err := enc.Encode(&events[i]); err != nil {
			return fmt.Errorf("%w: encode: %v", ErrJournal, err)
		}
	}
	return nil
}
