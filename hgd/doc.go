// Package hgd provides the optimizers of package ref — HGD (hypergradient
// descent on both the learning rate α and the momentum γ, Seifi & Niaki
// 2023), SGD, SGD+momentum, Baydin et al.'s SGD-HD, SGDN-HD and Adam-HD, and
// Adam — as GoMLX optimizers (optimizer.Interface of gomlx
// ml/train/optimizer, v0.28.16) for train.Trainer.
//
// The update rules, sign conventions (heavy ball: θ_t = θ_{t−1} − α_t·g_{t−1}
// + γ_t·Δ_{t−1}, the paper's typos corrected), safeguards and defaults are
// those of package ref, which is the test oracle: the GoMLX graph computes
// exactly ref.Update, in the dtype of the loss.
//
// # Structure
//
// One step is built, like an optax chain of transforms, from small steps
// that mirror ref's pure functions one for one:
//
//	weight decay (addWeightDecay) → skip-on-non-finite guard (checkFinite) →
//	α step (nextAlpha ~ ref.NextAlpha) → γ step (nextGamma ~ ref.NextGamma) →
//	direction step: sgdStep ~ ref.SGDStep, momentumStep ~ ref.MomentumStep,
//	nesterovStep ~ ref.NesterovStep or adamStep ~ ref.AdamStep → apply
//
// The files follow the chain: update.go (the chain, weight decay, apply),
// steps.go (the shared state, the guard, the α and γ steps), directions.go
// (the direction steps and the wiring of each kind's buffers), hgd.go
// (Config, Optimizer, the state variables). Each step has a parity test
// against its ref function (TestStepParity, TestDirectionStepParity) and
// TestParity runs whole trajectories of every kind against ref.Update.
//
// # Use
//
//	cfg := hgd.Defaults(hgd.HGD) // every hyperparameter at its default
//	cfg.Alpha0 = 0.05            // zero means zero: set what differs
//	trainer := train.NewTrainer(backend, store, modelFn, lossFn, hgd.New(cfg), nil, nil)
//	…
//	alpha, _ := hgd.Alpha(store) // current α and γ, for logging
//	gamma, _ := hgd.Gamma(store)
//	_ = hgd.New(cfg).Set(store, hgd.VarAlpha, 0.05) // PBT: no recompilation
//
// On GoMLX's pure-Go backend, a compiled graph that is not in training mode
// builds the variables that have values into itself as constants, so an
// evaluation compiled once keeps the weights of its first call: prepare
// every evaluation graph with Inference of hgdtune's package nn (as
// cifar/trainer does), or compile it anew after training.
//
// # State
//
// Everything lives in non-trainable variables under the optimizer's scope
// (DefaultScope "/hgd"), so checkpoints carry it: α (VarAlpha), γ
// (VarGamma), β (VarBeta), η (VarEta), the applied-step and skipped-step
// counters, the last hypergradients (VarHAlpha, VarHGamma) and the
// per-parameter buffers g_{t−2} ("<param>_dir"), Δ_{t−1}, Δ_{t−2}
// ("_delta1", "_delta2"), SGDN-HD's velocity ("_v") and Adam's moments
// ("_m1", "_m2"), in sub-scopes mirroring the parameters' scopes. α, γ, β and
// η are read by the compiled graph from variables, so population-based
// training changes them with Optimizer.Set without recompiling; Config's
// Alpha0, Gamma0, Beta and Eta only give their initial values. Bounds, weight decay, the
// normalized flag and Adam's constants are compiled in. The global step
// (optimizer.GlobalStepVariableName) is incremented too.
//
// # Non-finite steps
//
// A step whose gradient or hypergradients are not finite is skipped inside
// the graph: its gradient is replaced by zeros and the scalars by values that
// make the update a no-op, so θ, α, γ and moments stay as they were and
// VarSkipped counts it (see package ref for the exact semantics). The check
// costs nothing extra for the HD kinds — a sum of products is finite only if
// all its terms are, so the finiteness of the hypergradient h_α = g·g_{t−2}
// is the finiteness of g — and one dot product for the others.
//
// # Defaults and the sweep behind them
//
// The paper gives no β, η, α0 or γ0. The defaults (ref.DefaultAlpha0 = 0.01,
// ref.DefaultGamma0 = 0.9, ref.DefaultBeta = 1e-4, ref.DefaultEta = 1e-2,
// α ∈ [0, 0.2], γ ∈ [0, 0.99]) come from the sweep of scripts/hgdsweep
// (hgd/ref on CIFAR-10 pixels, standardized per channel; 10,000 training
// images of data_batch_1, 2,000 validation images of data_batch_2; 16,000
// images seen per run; batch 8 and 64; seed 1). Since HGD's purpose is to
// take α and γ out of the search, the criterion is the mean and the worst
// validation accuracy over the α0 × γ0 × batch grid:
//
//	go run ./scripts/hgdsweep                                    # softmax, α0 ∈ {1e-4,1e-3,1e-2,1e-1}, γ0 ∈ {0.5,0.9}
//	go run ./scripts/hgdsweep -model mlp -hidden 32 -gamma0 0.9  # MLP, α0 ∈ {1e-3,1e-2,1e-1}
//
// Softmax regression 3072→10 (16 runs per row; β = η = 0 is SGD+momentum
// with the fixed α0, γ0; upper bound of α was 1 in this run):
//
//	| β     | η      | mean val acc | worst val acc |
//	|-------|--------|--------------|---------------|
//	| 0     | 0      | 0.3176       | 0.2660        |
//	| 0     | 0.01   | 0.3273       | 0.2645        |
//	| 1e-05 | 0.01   | 0.3396       | 0.2865        |
//	| 1e-04 | 0      | 0.2871       | 0.2470        |
//	| 1e-04 | 0.001  | 0.3107       | 0.2655        |
//	| 1e-04 | 0.01   | 0.3243       | 0.2875        |
//	| 1e-03 | 0.01   | 0.3000       | 0.2505        |
//	| 1e-02 | 0.01   | 0.2834       | 0.2275        |
//
// MLP 3072→32→10, ReLU (6 runs per row, γ0 = 0.9):
//
//	| β     | η      | mean val acc | worst val acc | note                           |
//	|-------|--------|--------------|---------------|--------------------------------|
//	| 0     | 0      | 0.2528       | 0.0955        | SGD+momentum: α0 = 0.1 diverges |
//	| 0     | 0.01   | 0.3257       | 0.0800        |                                |
//	| 1e-05 | 0.01   | 0.3661       | 0.2945        |                                |
//	| 1e-04 | 0      | 0.1138       | 0.0685        | α runs to its bound, diverges  |
//	| 1e-04 | 0.001  | 0.1949       | 0.0750        |                                |
//	| 1e-04 | 0.01   | 0.3523       | 0.3310        | chosen                          |
//	| 1e-03 | 0.01   | 0.2556       | 0.0955        | batch 8 diverges               |
//	| 1e-02 | 0.01   | 0.1037       | 0.0670        |                                |
//
// (The MLP rows with β = 1e-5 come from a run with α ≤ 0.2; the β = 1e-4,
// η = 1e-2 and β = η = 0 rows were identical in both runs: α stayed below
// 0.2.) The best fixed SGD+momentum runs reach 0.3920 (MLP, α0 = 0.01,
// batch 64) and 0.3700 (softmax). With the chosen defaults HGD's worst run
// over all α0 is 6 (MLP) and 8 (softmax) points below those, fixed
// SGD+momentum's worst is 30 and 10 points below.
// β = 1e-4, η = 1e-2 has the best worst case on both models; β = 1e-5 has a
// slightly better mean. β is not scale-free: g_{t−1}·g_{t−2} grows with the
// squared gradient norm, and a β ≥ 1e-3 drives α to its bound and diverges
// on these pixel-input models (that is what the α bound of 0.2 — the
// largest learning rate the paper searches — is for; without it the
// divergence is faster). Models with smaller gradient norms (a CNN with
// normalization) tolerate a larger β; re-run the sweep on the target CNN when
// it exists. The normalized rule (Config.Normalized) is scale-free and is the
// safer choice when the gradient scale is unknown; its β, η are not swept
// here. α0 and γ0 matter little once adapted (γ drops well below 0.9 at
// batch 8, where consecutive gradients are noisy); α0 = 0.01 and γ0 = 0.9 are
// the middle of the paper's search ranges.
//
// On the paper's case-1 CNN (scripts/cnnsweep, docs/results/cnnsweep-cifar10.md)
// the defaults lead SGD+momentum early (0.555 vs 0.528 validation accuracy
// after 1,000 steps) and then drive α towards 0 (0.005 after 1,500 steps,
// 0.0004 after 5 minutes, where SGD+momentum is ahead); β = 1e-5, η = 1e-3
// adapt more slowly and were best after 1,500 steps. Adapting α without γ
// (η = 0) at γ = 0.9 loses accuracy. A longer sweep on the CNN should decide
// whether the defaults change.
//
// Adam-HD keeps Baydin et al.'s α0 = 1e-3, β = 1e-7.
//
// # Longer horizons
//
// The one-step hypergradient is greedy: near a minimum of the noisy loss
// consecutive mini-batch gradients turn anti-correlated and α is pushed
// down for good (the short-horizon bias of Wu et al. 2018, "Understanding
// short-horizon bias in stochastic meta-optimization"). Three options act
// on it, each in ref and here, compiled into the graph and covered by
// TestParity: Config.HyperEMA averages the hypergradients (bias-corrected
// exponential moving average, ref.SmoothHypergradient) before they move α
// and γ, so that one step's anti-correlation weighs less; Config.HyperDecay
// decays β and η as τ/(τ + n − 1) (ref.DecayedRate), so that the
// adaptation settles; and Config.AlphaMin, set to a fraction of Alpha0,
// floors α.
//
// docs/results/hgd-horizon.md measures them (scripts/horizon reruns it):
// the paper's plain rule, smaller β and η, the normalized rule, these three
// options and Baydin et al.'s SGD-HD, SGDN-HD and Adam-HD against
// SGD+momentum, over 20 epochs of the case-1 CNN (reduced widths, 3,500
// training images), 3 paired seeds, from the default start (α0 0.01, γ0 0.9)
// and from bad ones (α0 1e-4 or 0.2, γ0 0.5 or 0.99). The defaults stay the
// paper's plain rule, because of what it does from the default start, where
// every reproduction's HGD arm begins:
//   - It is ahead of SGD+momentum at 5 epochs (+1.4 ± 1.0 points, p 0.03).
//   - It is level at 20 (+0.7 ± 2.0): α still collapses (0.01 → 0.0019),
//     but that costs nothing measurable at this horizon.
//
// No candidate also beats SGD+momentum from every bad start:
//   - The plain rule rescues γ0 0.99 (+37.6 points) but cannot move a tiny
//     α0 (its step is proportional to the gradients) and loses 8 points
//     from γ0 0.5.
//   - No additive rule with momentum survives α0 0.2.
//
// HyperEMA 0.99 is the only setting ahead at 20 epochs from the default
// start (+2.6 ± 0.7, p 0.003), but it also loses from γ0 0.5. When α0 or γ0
// may be far off, use the normalized rule (Normalized: true, Beta: 0.01,
// Eta: 0.01):
//   - It is never significantly behind SGD+momentum at 20 epochs from any
//     start.
//   - It rescues α0 1e-4 (+20.3) and γ0 0.99 (+37.7), and two of three seeds
//     from α0 0.2.
//   - It costs −2.7 ± 5.3 points from the default start.
//
// # Tolerances of the tests
//
// Parity tests run GoMLX in float64 against ref (float64): parameters, α and
// γ agree to 1e-5 relative (measured: ≤ 1.2e-15) over 60 steps on an
// ill-conditioned quadratic (condition number 1000) and softmax regression,
// 20 steps for the other kinds. GoMLX in float32 against the float64 ref
// also stays within 1e-5 (measured ≤ 4.5e-7 over 60 steps); float32 rounding
// (6e-8 per operation) accumulates and is fed back through α and γ, so longer
// float32 runs drift further apart.
//
// # Cost
//
// The hypergradients are dot products (DotGeneral of the flattened tensors)
// in the same graph as the update: one execution per step, no host round
// trips. One training step of an MLP 3072→320→128→10 (1,025,898 parameters,
// batch 128, float32, Go backend with GOEXPERIMENT=simd, 2 shared AMD EPYC
// cores) with HGD vs SGD+momentum (hgd.Momentum, the same code path without
// hypergradients): BenchmarkStepRatio, the median ratio over 30 interleaved
// rounds of 10 steps, gave 1.005 and 1.023 in two sessions;
// BenchmarkStepHGD/BenchmarkStepSGD, 3×100 steps: 13.07 ms vs 12.75 ms
// (ratio 1.025). On the paper's case-1 CNN (conv 32/64/128, fc 256/128;
// scripts/throughput -repeats 5, GoMLX v0.28.16, quiet machine) HGD's step
// takes 1.001 (batch 32) and 0.984 (batch 128) times SGD+momentum's CPU
// time on one core, 1.012 and 1.014 on two: medians of 5 paired repeats
// whose ranges span ±7–16%, so no overhead is measurable.
package hgd
