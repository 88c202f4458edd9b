// Package hpo tunes hyperparameters: search spaces, trials, a concurrent
// runner with a crash-safe journal, random search, and the interfaces that
// the multi-fidelity and population-based algorithms (packages hyperband,
// asha, pbt, pb2 and genetic) implement. It never imports GoMLX: models
// enter through the Trainable interface. Package synthetic provides a cheap
// deterministic Trainable with known optima for tests and notebooks.
//
// # Spaces and configurations
//
// A Space is an ordered list of named Params, each with a Domain: Float
// (linear or log), Int (linear or log, bounds included) or Choice (ordered
// or not, values of any JSON type). Space.Validate rejects empty spaces,
// empty domains, low ≥ high, log scales over non-positive bounds and
// duplicate names; Run calls it before anything starts. Domains sample from
// an injected *rand.Rand (TrialRand(seed, id) gives each trial its own
// stream) and map to and from the unit cube (Space.ToUnit / FromUnit) for
// searchers that work in a box. A Config maps names to values of the
// domains' canonical Go types (float64, int, the choice value itself);
// Space.DecodeConfig restores those types from JSON, so an int stays an int
// through the journal, and Config.Float/Int/String read values.
//
// # Architecture
//
//	Searcher ──Suggest──► ┌──────────── runner goroutine ────────────┐ ──jobs──► worker 1..Slots
//	Scheduler ◄─calls───► │ state: trials, results, best-so-far curve │             Factory, Restore,
//	     returns Decision │ carries out decisions, journals events    │ ◄─outcomes─ Train, Save
//	                      └──────────────► journal.jsonl ─────────────┘
//
// One goroutine owns all state. It asks the Scheduler what to do whenever a
// slot is free (Next) and whenever a trial reports (OnResult); schedulers
// only return Decisions — Start, Continue, Pause, Resume, Stop, Complete,
// Exploit, Wait, Finish — and never touch trials. The runner validates each
// decision (ErrDecision for impossible ones), carries it out, and sends
// training jobs to Slots worker goroutines (Workers on compute time), which
// build trainables with the Factory, Restore checkpoints, Train to a
// cumulative budget, Save a checkpoint and send the outcome back. Only the runner goroutine calls the
// scheduler and the searcher, so they need no locks.
//
// The resource is training iterations (epochs or steps): Train(ctx, until)
// trains to the cumulative budget until. Each result records the experiment
// time at which it arrived; Report.Curve is the best metric found so far
// over experiment time (the paper's "best validation accuracy so far at each
// moment"), over all results at any budget.
//
// Trials that fail — an error from the Factory, Restore, Train or Save, a
// panic, or a missing or non-finite metric — are marked Failed (the error
// is in Trial.Err and in a Record), the scheduler is told through OnEnd,
// and the experiment goes on. Cancelling the context stops the workers,
// closes the trainables and returns the partial Report with ctx.Err(); the
// experiment resumes on the next Run. The experiment ends when the
// scheduler says Finish, when nothing runs and nothing can start, or when
// Experiment.TimeBudget (experiment time, counted across resumed runs) runs
// out; MaxTrials caps the number of trials.
//
// The runner is one type whose files are its parts: runner.go the loop
// (ask the scheduler, take the next input, handle it), apply.go the one
// path of every decision, replay.go the journal (fed back while a run
// resumes, appended to afterwards), live.go the worker goroutines, wall.go
// and virtual.go the two clocks that order the inputs, job.go the path of
// every training job and remote.go the jobs trained elsewhere. They are
// methods of one runner and call one another both ways — the loop calls
// the clocks, the clocks call back into the journal and the jobs, and the
// replay goes live when the journal runs out — so these files stand on no
// single layer of their own; the rest of the package (spaces, decisions,
// the journal's format, storage) lies below them.
//
// # Checkpoints
//
// After every successful Train the worker saves a checkpoint, named
// t<trial>/b<budget> in the experiment's storage (in a folder,
// Dir/checkpoints/t<trial>/b<budget>, written into a ".tmp" directory, then
// renamed), before the result is reported, so a journaled result always has
// its checkpoint. A paused trial's trainable is closed (freeing device
// memory) and rebuilt with Factory + Restore when it resumes; a trial told
// to Continue keeps its trainable in memory. Only each trial's latest
// checkpoint is kept unless KeepCheckpoints is set; the previous one is
// deleted only after the newer one is journaled.
//
// Exploit (for PBT and friends): ExploitTrial(target, from, cfg, until)
// copies the donor's latest checkpoint into the target's directory at the
// moment of the decision (so the donor may move on or delete its own
// checkpoint), journals a "checkpoint" event, sets the target's Budget to
// the donor's checkpoint budget and its configuration to cfg, and trains it
// to until. A trainable implementing Reconfigurer is reconfigured and
// restored in place; otherwise it is closed and rebuilt with the new
// configuration. Exploit may come from OnResult (on the reporting trial) or
// from Next (on a paused trial); from == target only changes the
// configuration. Because the copy is taken synchronously by the runner's
// goroutine, which is also the only one that deletes checkpoints, an
// exploit can never see a deleted checkpoint, and the copy belongs to the
// target: no checkpoint needs reference counting. The decision is journaled
// before the copy and the "checkpoint" event after it; a donor checkpoint
// that cannot be read fails the target trial (journaled as its failure, so
// a resume replays it), and a copy that cannot be written stops the
// experiment (below). What a trainable does with the state its optimizer
// adapted (HGD's α and γ) when it restores another trial's checkpoint —
// keep the donor's or reset it to its own configuration's — is its own
// policy (cifar/trainer: Config.OnExploit); hpo only copies checkpoints.
//
// # Storage errors
//
// Errors writing the experiment's own files — saving a checkpoint, copying
// one for an exploit, appending to the journal — are no trial's fault: Run
// stops with an error wrapping ErrStorage (a full disk: "no space left on
// device"), journals nothing for the work in progress, and running the
// experiment again once the cause is fixed resumes it (the interrupted
// intervals are trained again from their last checkpoints). A checkpoint
// that the storage cannot hand over (a lost database connection) stops the
// run the same way; a checkpoint that Restore cannot read fails its trial.
// Run holds the storage's lock (for a folder, an flock through package
// internal/dirlock), so that a second runner cannot interleave its journal
// events; the journal file is opened in append mode.
//
// # Storage
//
// An experiment lives in a Storage: its journal, its checkpoints, and the
// lock that makes one runner at a time its owner (Experiment.Storage).
// DirStorage(dir) is a local folder (journal.jsonl, checkpoints/, .lock);
// package hpo/pgstore keeps
// experiments in a PostgreSQL database, where they outlive the machine
// that runs them and can be read from another one while they run
// (LoadReportFrom). Run reaches an experiment through the interface alone:
// Lock, OpenJournal (the events so far, and a JournalWriter that numbers
// and appends new ones), SaveCheckpoint and LoadCheckpoint (a folder that
// Trainable.Save fills, all or nothing, or that Restore reads),
// CopyCheckpoint (exploits) and RemoveCheckpoint. Checkpoint names are the
// relative paths the journal records (t000003/b000009), so a journal is the
// same in any storage. Package hpo/internal/storagetest is the conformance
// test that every implementation passes.
//
// The interface also has ReadJournal, a
// read-only read for LoadReportFrom (OpenJournal truncates a torn last
// line, which a reader must not do while the holder writes), and a
// contract on errors that lets Run tell whose fault a failure is: an error
// wrapping ErrStorage is the storage's own (Run stops, resumable), any
// other error comes from the callback (Save's, which stops the run too;
// Restore's, which fails the trial unless the checkpoint is missing or its
// data cannot be read back — fs.ErrNotExist, ErrCheckpointData —, which
// stops the run too) or, from CopyCheckpoint, from reading the source
// (which stops the run, naming the checkpoint). Another holder of the lock is
// ErrLocked, naming it. The runner goroutine's calls (journal, copies,
// removals) get a context that the run's cancellation does not interrupt;
// the workers' saves and loads are cancelled with the run, which leaves
// nothing half written since each is all or nothing. One runner owns an
// experiment at a time.
//
// # Trials trained elsewhere
//
// With Experiment.Remote the runner keeps the scheduling and the journal
// and hands each training job to the Remote as a Task: the trial, its
// configuration (JSON, as journaled), the checkpoint to start from and the
// budget. A worker, anywhere, does with it what RunTask does: builds the
// trainable with its own Factory, restores the checkpoint from the shared
// Storage, trains, checks the result, saves the checkpoint under
// CheckpointKey and reports. Trainables do not stay in memory between
// jobs, so every job but a trial's first restores a checkpoint: for a
// trainable that resumes exactly, the journal and the report are those of
// local workers, bit for bit (TestRemoteSameAsLocal; through PostgreSQL,
// hpo/pgstore's TestWorkersSameAsLocal and TestKillWorkers). Package
// hpo/pgstore's Store.Remote and Worker hand tasks out through a database.
//
// # Journal, resume and determinism
//
// With a Storage, every event is appended to the experiment's journal (in
// a folder, dir/journal.jsonl, one JSON object
// (Event) per line, written with a single write; in a database, a row per
// event): the header ("experiment": seed, slots, metric, parameter names),
// then "trial" (created, with its config), "decision", "status",
// "checkpoint", "result" (with its checkpoint), "fail", "timeout", "end",
// and "resume" notes. Each event carries a sequence number, the wall-clock
// time and the experiment time (elapsed_ns).
//
// Resuming is replay. Results, failures and timeouts are the inputs of the
// runner — the only things that depend on timing; everything else is a
// deterministic function of them. Run on an existing journal creates the
// runner afresh and runs its ordinary loop, but takes its inputs from the
// journal instead of the workers, and checks that every output it produces
// (trial, decision, status, checkpoint, end) equals the journaled one
// (ErrReplay otherwise). Scheduler and searcher state is therefore rebuilt
// by calling them exactly as the first run did, with no state-saving code in
// any algorithm. When the journal runs out the runner goes live: jobs the
// journal left running are relaunched from their trials' latest
// checkpoints, the experiment clock continues from the last journaled time
// (so the time budget counts time already spent), and new events are
// appended. A torn last line (a kill during a write) is ignored and
// truncated; a corrupt line elsewhere is ErrJournal, as is a header that
// does not match the experiment. Every line ends with a checksum (Sum,
// SealEvent) of itself and of the line before it, so that a line changed,
// removed or inserted is ErrJournal too, naming its line (JournalChain).
// Lines without a checksum are accepted only at the start of a journal,
// before its first sealed line. Killing the process at any moment and
// running the same command again therefore loses no journaled result and
// duplicates none; work in flight at the kill is redone from the last
// checkpoint.
//
// This requires that schedulers and searchers be deterministic functions
// of the calls they receive (seed any randomness; derive per-trial streams
// from (seed, trial id) with TrialRand, Mix or Unit; never read the wall
// clock — use View.Now, which replays identically), and that each Run get a
// fresh scheduler and searcher, as a new process would. With one slot and a
// deterministic trainable the whole journal, modulo wall-clock times, is a
// function of the seed.
//
// # Time
//
// The runner reads time from Experiment.Clock (SystemClock by default).
// ManualClock moves only when advanced — the synthetic trainable advances it
// by its simulated training cost — so algorithm tests take milliseconds.
// With several slots the simulated time is the sum of all trials' costs
// (each worker advances the same clock), not a parallel schedule. On either
// clock results are processed in their real completion order and the time
// budget is real time: on a busy machine budgets shrink, and with several
// slots the order of results, hence the scheduler's decisions, depends on
// timing. Compute time (below) removes both.
//
// # Compute time
//
// Setting Experiment.Cost (a CostModel: the simulated compute time of
// training a trial with configuration cfg from cumulative budget from to
// until, and evaluating it) runs the experiment on virtual time, and its
// results then do not depend on real timing at all. Each of the Slots
// slots is a virtual machine with its own time: a job dispatched when the
// runner handles an input at virtual time t0 (a slot freed then, or was
// idle) ends at t0 + Cost(cfg, budget, until), where budget is the trial's
// budget when the job starts (a donor's checkpoint budget after an
// exploit); a job failed before it starts (a donor checkpoint that cannot
// be read) costs nothing, and a job that fails costs its full Cost. The
// runner handles job ends in the order of their virtual end times (ties
// go to the lower trial id): it waits for the real outcome of exactly the
// job that ends first, while the others keep training on the other
// workers, and keeps outcomes that arrive before their turn. Experiment
// time — View.Now, Event.Elapsed, Result.Elapsed, Report.Elapsed and the
// Curve — is that virtual time; Clock is not read. The time budget ends the
// experiment as soon as the next job end would pass it: a "timeout" is
// journaled at exactly TimeBudget and the jobs in flight, all of which
// would end after it, are cancelled and report nothing (their trials keep
// their last journaled checkpoint, as on the wall clock; a checkpoint
// such a job wrote anyway is deleted). A job ending exactly at the budget
// still reports.
//
// Slots is part of the simulation; Experiment.Workers (default Slots) is
// how many jobs really train at once, so 8 virtual slots can run on 1 GPU:
// fewer workers only take longer. Journals of the same experiment with any
// Workers and any real delays are identical apart from the wall-clock
// "time" field. The header records the mode ("clock": "compute"), and a
// journal resumes only in its own mode; replay also checks that each
// journaled input is the job end (or timeout) that compute time expects at
// that time (ErrReplay otherwise, say after changing the cost model). A
// resumed run continues the virtual time: jobs the journal left running
// keep the virtual end times they were given when dispatched (replay
// dispatches them again) and are relaunched from their checkpoints, so a
// killed and resumed experiment journals exactly what an uninterrupted one
// does, and may be resumed with another number of workers.
// synthetic.Problem.Cost is the cost model of the synthetic trainable.
//
// # Results
//
// Run returns a Report: trials, every result and failure as Records (with
// the status after the scheduler's decision and the configuration at that
// time), the best-so-far Curve, and why it ended. Report.WriteCSV writes one
// row per record (trial, group, budget, elapsed_s, metrics, status, error,
// parameters) for spreadsheets and pandas. LoadReport rebuilds the same
// Report from an experiment folder's journal alone (read-only, no
// scheduler: the journal holds every input and output), while or after it
// runs, and LoadReportFrom from any Storage's; ReadJournal reads the raw
// events of a journal file.
//
// # Schedulers and searchers
//
// Schedulers and searchers see the experiment through a View (Trial,
// NextTrial, Metric, Now), never the runner itself; searchers that learn
// from history (the genetic algorithm, PB2) read trials through it. A
// Start decision names the new trial's id (View.NextTrial), so a scheduler
// can assign a seeded bracket before the trial exists; the scheduler learns
// that the trial was created in Add (a Start creates no trial when the
// searcher has none to suggest). Stop, Complete, Resume and Exploit from
// Next act on paused trials, which lets synchronous algorithms end the
// trials they do not promote. Domain.Normalize brings values decoded from
// JSON back to the domain's type (numbers to ints, choice values to their
// own type); a domain that can check itself implements the optional
// Validator interface, which Space.Validate calls.
//
// Algorithms: Random (searcher) with FIFO (scheduler) is random search;
// package hyperband is synchronous Hyperband; package asha is ASHA
// (promotion and stopping forms) and asynchronous Hyperband; package pbt is
// population-based training, package pb2 population-based bandits (PBT
// with a time-varying GP-UCB explore step), and package genetic a genetic
// algorithm (generational or steady-state searcher).
package hpo
