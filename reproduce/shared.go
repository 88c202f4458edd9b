package reproduce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/gomlx/compute"

	"github.com/hgdtune/hgdtune/cifar"
	"github.com/hgdtune/hgdtune/cifar/trainer"
	"github.com/hgdtune/hgdtune/hpo"
)

// SharedRun is one run's experiment in a storage that several machines
// share; *pgstore.Store is one.
type SharedRun interface {
	hpo.Storage
	// Remote hands the run's trials to the storage's workers.
	Remote() hpo.Remote
	Close() error
}

// Shared opens the experiment called name in a shared storage, creating it
// with settings if it is new, and refusing a name created with other
// settings with an error wrapping ErrSharedSettings (pgstore.Open, its
// pgstore.ErrSettingsMismatch wrapped).
type Shared func(ctx context.Context, name string, settings []byte) (SharedRun, error)

// ErrSharedSettings is what a Shared's error wraps when the name exists
// with other settings.
var ErrSharedSettings = errors.New("reproduce: the shared run exists with other settings")

// Waiter is an optional Observer capability: Run calls Waiting with the
// runs that other processes hold, before it waits to look at them again.
type Waiter interface {
	Waiting(runs []RunStatus)
}

// RunSettings identify a run in a shared storage: the experiment's
// settings, from which a worker builds the run (Lookup).
type RunSettings struct {
	Preset    Preset `json:"preset"`
	Algorithm string `json:"algorithm"`
	Arm       string `json:"arm"`
	Seed      int    `json:"seed"`
}

func (o Options) name() string {
	if o.Name != "" {
		return o.Name
	}
	return filepath.Base(filepath.Clean(o.Dir))
}

func (o Options) wait() time.Duration {
	if o.Wait > 0 {
		return o.Wait
	}
	return 5 * time.Second
}

// openShared opens every run's experiment in o.Shared (nil without one).
func openShared(ctx context.Context, o Options, runs []RunStatus) (map[RunID]SharedRun, error) {
	if o.Shared == nil {
		return nil, nil
	}
	m := map[RunID]SharedRun{}
	for _, st := range runs {
		sr, err := openSharedRun(ctx, o, st.ID)
		if err != nil {
			closeShared(m)
			return nil, fmt.Errorf("reproduce: run %s: %w", st.ID, err)
		}
		m[st.ID] = sr
	}
	return m, nil
}

// openSharedRun opens run id in o.Shared. Its settings leave Workers out
// (it changes the wall time, never the results, and each process and
// worker chooses its own); a run created with the workers in its settings
// is opened with them.
func openSharedRun(ctx context.Context, o Options, id RunID) (SharedRun, error) {
	rs := RunSettings{Preset: o.Preset, Algorithm: id.Algorithm, Arm: id.Arm, Seed: id.Seed}
	rs.Preset.Workers = 0
	settings, err := json.Marshal(rs)
	if err != nil {
		return nil, err
	}
	sr, err := o.Shared(ctx, o.name()+"/"+id.String(), settings)
	if errors.Is(err, ErrSharedSettings) && o.Preset.Workers != 0 {
		rs.Preset.Workers = o.Preset.Workers
		if legacy, lerr := json.Marshal(rs); lerr == nil {
			if sr2, err2 := o.Shared(ctx, o.name()+"/"+id.String(), legacy); err2 == nil {
				return sr2, nil
			}
		}
	}
	return sr, err
}

func closeShared(m map[RunID]SharedRun) {
	for _, sr := range m {
		sr.Close()
	}
}

// copyJournal copies the journal of a run kept in sr into its folder dir
// (journal.jsonl), atomically.
func copyJournal(ctx context.Context, sr SharedRun, dir string) error {
	events, err := sr.ReadJournal(ctx)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := hpo.WriteJournal(&buf, events); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, "journal.jsonl"), buf.Bytes())
}

// LookupOptions say how a worker builds the runs of reproductions.
type LookupOptions struct {
	// Backend runs the models; BackendSpec is its specification.
	Backend     compute.Backend
	BackendSpec string
	// Load returns the full training set of a data set ("cifar10",
	// "cifar100"); Lookup calls it once per data set.
	Load func(ctx context.Context, dataset string) (*cifar.Dataset, error)
}

// Lookup returns a pgstore.Worker's Lookup for the runs that Run keeps in a
// shared storage: it builds run's experiment from its RunSettings, as Run
// does, so that a worker trains its trials (and, owning it, schedules it)
// as the process that started it would. Other experiments are an error.
func Lookup(lo LookupOptions) func(ctx context.Context, name string, settings []byte) (hpo.Experiment, error) {
	var mu sync.Mutex
	loaded := map[string]*cifar.Dataset{}
	split := map[string]trainer.Data{}
	return func(ctx context.Context, name string, settings []byte) (hpo.Experiment, error) {
		var rs RunSettings
		dec := json.NewDecoder(bytes.NewReader(settings))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rs); err != nil || rs.Algorithm == "" {
			return hpo.Experiment{}, fmt.Errorf("reproduce: %q is not a run of hgdtune reproduce (settings %.80s)", name, settings)
		}
		p := rs.Preset
		if err := p.Validate(); err != nil {
			return hpo.Experiment{}, err
		}
		if p.Replay != "" {
			return hpo.Experiment{}, fmt.Errorf("%w: %q is a replay of a curve pool, which workers do not run", ErrConfig, name)
		}
		mu.Lock()
		defer mu.Unlock()
		d := loaded[p.Dataset]
		if d == nil {
			var err error
			if d, err = lo.Load(ctx, p.Dataset); err != nil {
				return hpo.Experiment{}, err
			}
			loaded[p.Dataset] = d
		}
		if want := p.Case().Classes(); len(d.Classes) != want {
			return hpo.Experiment{}, fmt.Errorf("%w: %s has %d classes, the %s network %d", ErrConfig, d.Name, len(d.Classes), p.Case(), want)
		}
		key := fmt.Sprintf("%s/%d", p.Dataset, p.TrainImages)
		data, ok := split[key]
		if !ok {
			var err error
			if data, err = splitData(d, p); err != nil {
				return hpo.Experiment{}, err
			}
			split[key] = data
		}
		o := Options{Preset: p, Data: d, Backend: lo.Backend, BackendSpec: lo.BackendSpec}
		return experiment(o, data, RunID{rs.Algorithm, rs.Arm, rs.Seed}, nil)
	}
}
