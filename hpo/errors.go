package hpo

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these with %w,
// so callers test them with errors.Is.
var (
	// ErrInvalid reports an invalid space, domain, value, experiment or
	// scheduler configuration. It is returned before any trial starts.
	ErrInvalid = errors.New("hpo: invalid configuration")
	// ErrExhausted is returned by a Searcher that has no more configurations.
	ErrExhausted = errors.New("hpo: searcher exhausted")
	// ErrNotReady is returned by a Searcher that cannot suggest a
	// configuration until more results are observed.
	ErrNotReady = errors.New("hpo: searcher not ready")
	// ErrDecision reports a scheduler decision the runner cannot carry out
	// (resume a trial that is not paused, continue to a smaller budget, ...).
	ErrDecision = errors.New("hpo: invalid decision")
	// ErrJournal reports an unreadable journal, or one that does not belong
	// to the experiment being resumed.
	ErrJournal = errors.New("hpo: journal")
	// ErrReplay reports that replaying a journal produced a different
	// decision than the one recorded: the scheduler, searcher or experiment
	// settings changed between runs, or one of them is not deterministic.
	ErrReplay = errors.New("hpo: replay diverged from journal")
	// ErrTrial wraps the error of a failed trial (Train, Reconfigure,
	// factory, or a non-finite metric). Failed trials do not stop the
	// experiment; the error is recorded in Trial.Err.
	ErrTrial = errors.New("hpo: trial failed")
	// ErrCheckpointData is what Trainable.Restore wraps when the data of a
	// checkpoint cannot be read back (a checksum that does not match, a
	// file that is missing or cut short). Like a missing checkpoint, or a
	// donor's that cannot be copied, it stops the experiment with an error
	// wrapping ErrStorage that names the checkpoint: data that cannot be
	// read back is never a trial's failure, which would change the
	// results.
	ErrCheckpointData = errors.New("hpo: checkpoint data cannot be read")
	// ErrRebuild is returned (wrapped) by Reconfigurer.Reconfigure when the
	// new configuration needs a new trainable: the runner then builds one
	// with the factory instead of failing the trial.
	ErrRebuild = errors.New("hpo: reconfiguration needs a new trainable")
	// ErrStorage reports that the experiment's storage failed (a
	// checkpoint, a copy of one, the journal): a full disk, an I/O error,
	// a lost database connection or lease.
	// It stops the experiment — it is no trial's fault — with nothing
	// journaled for the work in progress; once the cause is fixed, running
	// the experiment again resumes it.
	ErrStorage = errors.New("hpo: storage error (fix the storage: free disk space, repair the folder or restore the database connection; then rerun to resume)")
)
