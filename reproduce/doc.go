// Package reproduce runs the paper's experiment (Seifi & Niaki 2023,
// section 5): for one data set, each HPO algorithm in two arms — SGD
// (learning rate and momentum searched in Table 2's domains, trained with
// SGD+momentum) and HGD (both removed from the space and adapted by package
// hgd) — for K seeds, each run under a budget T (wall-clock time, or
// compute time on the CPU presets) on the 70/30 split, recording the best validation accuracy found so far over time; then
// it writes Tables 3/4 and Figures 2–5 (package plots).
//
// # Presets
//
// A Preset fixes every knob (Presets lists them):
//
//   - "paper": the paper's protocol for a GPU: T = 3000 s, 5 seeds, all
//     50,000 training images, Table 2's full domains, 27 epochs at most per
//     trial (η = 3), populations of 8 perturbed every 3 epochs.
//   - "cpu-quick": a few minutes in all on 2 CPU cores with the pure-Go
//     backend. Every scaling is explicit in the preset: T = 15 s per run, 2
//     seeds, 2,000 training images (1,400 train / 600 validation), conv
//     widths ≤ 16, fc1 ≤ 256, fc2 ≤ 64, batch sizes 16–64 (Table 2's 4 and 8
//     cost too much per image on a CPU), 9 epochs at most per trial,
//     populations of 4.
//   - "cpu-study": cpu-quick's domains for a study: T = 16 s of compute
//     time on 2 slots, 10 seeds, 5,000 training images (500 of the
//     validation images evaluated).
//
// Scalings only shrink domains and budgets; the protocol (split, metric,
// arms, algorithms) is the paper's.
//
// # Compute clock
//
// The CPU presets measure T in compute time (Clock "compute"): every
// training step and evaluation is charged a price from the network's FLOPs
// by a CostModel (cost.go), so that a run gives the same results on any
// machine and under any load. Cost models are named and never change; a
// faster backend gets a new one (CostsCurrent). The model is part of the
// preset (Costs) and of config.json, so a folder is resumed, replayed and
// summarized with the model it was made with, and a folder of another model
// is refused like any other difference of preset. A folder on the compute
// clock whose config.json names no cost model is read with gomlx-v0.28.2
// (CostsGoMLX0282).
//
// # Algorithms
//
// Hyperband (synchronous, R = MaxEpochs, η = Eta, repeated until T); ASHA
// and Async Hyperband (ASHA brackets s = 0…s_max, each new trial's bracket
// drawn with the probabilities of Ray Tune's AsyncHyperBandScheduler), both
// in the form ASHAMode names: by default the stopping form of Ray Tune's
// ASHAScheduler, or Li et al.'s promotion form; PBT and PB2 (population
// Population, perturbation interval PerturbEvery epochs, members train
// until T; only the non-structural hyperparameters — learning rate,
// momentum, batch size — are explored, the widths are inherited); and the
// steady-state genetic algorithm (each individual trained PerturbEvery
// epochs; each gene mutates with probability one over the size of the SGD
// arm's space in both arms, so that the genes the arms share mutate
// alike). Random search and the multi-fidelity algorithms sample new
// configurations from the space's prior. Run seed k is the searcher's seed
// for every algorithm (common random numbers): the algorithms start from the
// same first configurations, so their differences come from the algorithms.
// Trial t of a run initializes its weights and batch order from (k, t), the
// same in both arms.
// The random draws are paired across arms (pairing.go): each parameter of
// trial t is drawn from a stream of (k, t, parameter name) only, so trial t
// of seed k has the same widths and batch size in the SGD and HGD arms —
// the initial populations of PBT, PB2 and the genetic algorithm, and the
// start configurations of the other algorithms.
//
// # Curve pools and replays
//
// Record trains a curve pool (the algorithm Recording: each configuration
// of PoolSGD/PoolHGD trained to MaxEpochs, one result per epoch; pool.go,
// record.go) and writes curves.json. A preset with Replay set runs its
// runs on that pool (Options.Curves; replay.go): the real schedulers and
// runner on the compute clock, with trials served from the recorded
// curves, exactly what real training with the same draws gives. Targets
// compares the arms' times to target accuracies with a bootstrap over the
// pool's members (targets.go).
//
// # Results folder
//
// Run writes one folder per experiment:
//
//	.lock                         the lock file (names the process running the experiment)
//	config.json                   the preset, backend, machine and Go version
//	runs/<alg>-<arm>-s<seed>/     each run's hpo journal (journal.jsonl), checkpoints
//	                              and results.csv (one row per result)
//	summary.md                    Tables 3/4 with the paper's numbers beside ours
//	table.tex                     the same table in LaTeX
//	curves.png/.svg               Figures 2/3
//	bars.png/.svg                 Figures 4/5
//	trajectories.png/.svg         α and γ of HGD trials
//
// Running the same command again resumes: finished runs are replayed from
// their journals, an interrupted run continues from its journal and
// checkpoints (package hpo), and the summary is rewritten. A results folder
// made with another preset is refused (the error names the fields that
// differ). One process at a time owns a results folder: Run (or Lock, for
// a caller that prepares data first) takes an exclusive lock on its .lock
// file (internal/dirlock), and a second experiment on the folder fails at
// once with an error wrapping ErrLocked that names the holder. Every file
// is written atomically with permissions 0644 (internal/atomicfile); a
// failed write is an error naming the file.
package reproduce
