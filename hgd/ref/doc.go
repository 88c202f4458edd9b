// Package ref is the standard-library, float64 reference implementation of
// the optimizers of package hgd: plain SGD, SGD with heavy-ball momentum, the
// hypergradient descent of Seifi & Niaki (2023) that adapts both the
// learning rate α and the momentum γ ("HGD"), and Baydin et al. (2018)'s
// SGD-HD, SGDN-HD (Nesterov) and Adam-HD, plus Adam.
//
// It is written in the style of optax: [Init] creates a [State] from the
// parameters, [Update] is a pure function from (parameters, gradients,
// state) to (new parameters, new state); neither modifies its arguments.
// Parameters are a list of flat float64 slices (one per tensor); all dot
// products ("·") run over all of them flattened together, as in Baydin's
// global scalar learning rate.
//
// Like an optax chain of transforms, [Update] is a composition of small
// steps; [NextAlpha], [NextGamma], [SGDStep], [MomentumStep],
// [NesterovStep] and [AdamStep] are exported pure functions, which package
// hgd builds in its graph and tests one by one:
//
//	g ← ∇f + WeightDecay·θ → the skip-on-non-finite guard →
//	NextAlpha → NextGamma → the kind's direction step
//	(SGDStep, MomentumStep, NesterovStep or AdamStep)
//
// The files follow that split: config.go (Kind, Config, Defaults,
// Validate), update.go (State, Init, Update and the guard), steps.go (the
// steps).
//
// It is the test oracle of package hgd and what a script uses to run HGD
// without GoMLX.
//
// # The HGD update
//
// With g_t = ∇f(θ_t) (plus WeightDecay·θ_t when set) and Δ_t = θ_t − θ_{t−1},
// one call of Update at step t (t = 1, 2, …) does
//
//	h_α = g_{t−1} · g_{t−2}                  (= −∂f(θ_{t−1})/∂α_{t−1})
//	h_γ = g_{t−1} · Δ_{t−2}                  (=  ∂f(θ_{t−1})/∂γ_{t−1})
//	α_t = α_{t−1} + β·h_α                     projected into [AlphaMin, AlphaMax]
//	γ_t = γ_{t−1} − η·h_γ                     projected into [0, GammaMax]
//	Δ_t = γ_t·Δ_{t−1} − α_t·g_{t−1}
//	θ_t = θ_{t−1} + Δ_t
//
// This is the heavy-ball sign convention (a momentum of 0.9 keeps going the
// way the last step went). The paper writes the momentum term with a minus
// sign in eq. (2)/Algorithm 1 and a plus in eq. (9); under γ ↦ −γ that is the
// same algorithm, but with its signs a momentum of 0.9 would push back
// against the last step, so the heavy-ball form is used. Missing history is
// zero, so α first changes at step 2 and γ at step 3.
//
// With β = η = 0 HGD is exactly [Momentum]; with γ0 = 0 and η = 0 it is
// exactly [SGDHD].
//
// Baydin's variants use the same α rule with the direction d they step along
// (θ_t = θ_{t−1} − α_t·d_{t−1}): h_α = g_{t−1}·d_{t−2}; d = g for SGD-HD,
// d = g + μ·v (v ← μ·v + g) for SGDN-HD, and d = m̂/(√v̂ + ε) for Adam-HD.
//
// # Safeguards (on by default)
//
//   - α is projected into [AlphaMin, AlphaMax] (defaults 0 and 0.2, the
//     largest learning rate the paper searches; Adam kinds: 0 and 0.1) and γ into [0, GammaMax] (default 0.99). Set
//     Unbounded to turn the projection off (Baydin's code has none).
//   - A step whose gradient or hypergradients are not finite (NaN, ±Inf, or
//     an overflowing dot product) is skipped and counted in State.Skipped:
//     θ, α, γ, Adam's moments and State.Step stay as they were. The one-step
//     history is shifted as if a zero step had been taken (Δ_{t−1} and the
//     last direction become zero, Δ_{t−2} takes the old Δ_{t−1}), so momentum
//     restarts after a skipped step. Every kind has this check, so a
//     non-finite value never reaches α, γ or θ.
//   - Normalized selects the multiplicative rule
//     α_t = α_{t−1}·(1 + β·cos(g_{t−1}, d_{t−2})) and
//     γ_t = γ_{t−1}·(1 − η·cos(g_{t−1}, Δ_{t−2})), which is invariant to the
//     scale of the gradients (cos is 0 when either vector is 0). Note that a
//     γ that is 0 stays 0 under this rule.
//
// # Defaults
//
// [Defaults] returns a kind's complete configuration, every hyperparameter
// at its documented default; set the fields to change on that value. A
// [Config] is taken as it is: a zero field means zero (a zero β fixes α, a
// zero γ0 is no momentum), never "the default".
package ref
