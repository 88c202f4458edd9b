// Package hgd provides the optimizers of package ref — HGD (hypergradient
// descent on both the learning rate α and the momentum γ, Seifi & Niaki
// 2023), SGD, SGD+momentum, Baydin et al.'s SGD-HD, SGDN-HD and Adam-HD, and
// Adam — as GoMLX optimizers (optimizer.Interface of gomlx
// ml/train/optimizer, v0.28.16) for train.Trainer.
//
// The update rules, sign conventions, safeguards and defaults are those of
// package ref, which is the test oracle: the GoMLX graph computes exactly
// ref.Update, in the dtype of the loss.
//
// # Update rule
//
// With g_t the gradient at θ_t (plus WeightDecay·θ_t when set), one HGD
// step moves α and γ along their one-step hypergradients, projects them
// into their bounds, and takes a heavy-ball step Δ_t:
//
//	α_t = α_{t−1} + β·(g_{t−1}·g_{t−2})       projected into [AlphaMin, AlphaMax]
//	γ_t = γ_{t−1} − η·(g_{t−1}·Δ_{t−2})       projected into [0, GammaMax]
//	Δ_t = γ_t·Δ_{t−1} − α_t·g_{t−1}
//	θ_t = θ_{t−1} + Δ_t
//
// The dot products run over all parameters flattened together, missing
// history is zero, and Config.Unbounded turns the projection off. The signs
// are the heavy-ball convention, with the paper's typos corrected: the
// paper writes the momentum term with a minus sign in eq. (2) and
// Algorithm 1 and with a plus in eq. (9), and with the minus sign a
// momentum of 0.9 would push back against the last step instead of keeping
// its direction (the same algorithm under γ ↦ −γ).
// Config.Normalized selects the multiplicative rule, which moves α and γ by
// cosines instead of dot products and is invariant to the scale of the
// gradients. Package ref gives every kind's rule (Baydin et al.'s included)
// and its exact semantics.
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
// # Defaults
//
// The paper gives no β, η, α0 or γ0. The defaults are ref.DefaultAlpha0 =
// 0.01 and ref.DefaultGamma0 = 0.9 (the middle of the paper's search
// ranges), ref.DefaultBeta = 1e-4 and ref.DefaultEta = 1e-2, with
// α ∈ [0, 0.2] (the largest learning rate the paper searches) and
// γ ∈ [0, 0.99]. β and η were chosen by a sweep on CIFAR-10 with softmax
// regression and a small MLP (scripts/hgdsweep), for the best worst-case
// validation accuracy over a grid of α0, γ0 and batch sizes, since HGD is
// meant to take α and γ out of the search; docs/results/hgd-defaults.md has
// the tables, and docs/results/hgd-horizon.md checks the defaults over 20
// epochs of the paper's case-1 CNN. Adam-HD keeps Baydin et al.'s
// α0 = 1e-3, β = 1e-7.
//
// β is not scale-free: g_{t−1}·g_{t−2} grows with the squared gradient
// norm, so a β that suits one model can drive α to its bound on another
// (which is what the bound on α is for). The normalized rule
// (Config.Normalized) is scale-free and the safer choice when the gradient
// scale is unknown; with β = η = 0.01 it is also the safer choice when α0
// or γ0 may be far off (docs/results/hgd-horizon.md).
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
// floors α. All three are off by default: docs/results/hgd-horizon.md
// (scripts/horizon) compares them, the normalized rule and Baydin et al.'s
// kinds with the paper's rule and SGD+momentum from good and bad starts.
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
// trips. BenchmarkStepRatio measures HGD's step time over SGD+momentum's
// (hgd.Momentum, the same code path without hypergradients) on an MLP
// 3072→320→128→10 (1,025,898 parameters, batch 128, float32): 1.005 and
// 1.023 in two sessions on 2 shared AMD EPYC cores. On the paper's case-1
// CNN the difference is within the spread of repeated measurements
// (scripts/throughput, docs/results/throughput-cpu.md).
package hgd
