package ref

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Kind names one of the optimizers.
type Kind int

// The optimizers.
const (
	// HGD adapts α and γ by hypergradient descent (Seifi & Niaki 2023). It is
	// the zero value, so a zero Config is HGD with default hyperparameters.
	HGD Kind = iota
	// SGD is plain stochastic gradient descent, θ_t = θ_{t−1} − α·g_{t−1}.
	SGD
	// Momentum is SGD with heavy-ball momentum in Δ form:
	// Δ' = γ·Δ − α·g, θ_t = θ_{t−1} + Δ' (the paper's "SGD" arm).
	Momentum
	// SGDHD is Baydin et al.'s SGD with hypergradient-adapted α.
	SGDHD
	// SGDNHD is Baydin et al.'s SGD with Nesterov momentum μ = γ0 (fixed) and
	// hypergradient-adapted α.
	SGDNHD
	// AdamHD is Baydin et al.'s Adam with hypergradient-adapted α.
	AdamHD
	// Adam is Kingma & Ba's Adam (L2 weight decay added to the gradient).
	Adam
	numKinds
)

var kindNames = [...]string{"hgd", "sgd", "momentum", "sgd-hd", "sgdn-hd", "adam-hd", "adam"}

// String returns the kind's name: "hgd", "sgd", "momentum", "sgd-hd",
// "sgdn-hd", "adam-hd" or "adam".
func (k Kind) String() string {
	if k < 0 || k >= numKinds {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

// ParseKind is the inverse of Kind.String (case-insensitive).
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if strings.EqualFold(s, n) {
			return Kind(i), nil
		}
	}
	return 0, fmt.Errorf("ref: unknown optimizer kind %q (want one of %s)", s, strings.Join(kindNames[:], ", "))
}

// Kinds lists all kinds.
func Kinds() []Kind {
	out := make([]Kind, numKinds)
	for i := range out {
		out[i] = Kind(i)
	}
	return out
}

// HasAlphaHypergradient reports whether the kind adapts α.
func (k Kind) HasAlphaHypergradient() bool {
	return k == HGD || k == SGDHD || k == SGDNHD || k == AdamHD
}

// HasGamma reports whether the kind uses a momentum γ (adapted or not).
func (k Kind) HasGamma() bool { return k == HGD || k == Momentum || k == SGDNHD }

// IsAdam reports whether the kind is Adam or Adam-HD.
func (k Kind) IsAdam() bool { return k == Adam || k == AdamHD }

// Default hyperparameters. The SGD-family values were chosen by the sweep
// of scripts/hgdsweep (docs/results/hgd-defaults.md; see package hgd); the
// Adam ones are Baydin et al.'s.
const (
	DefaultAlpha0     = 0.01  // α0 for SGD, Momentum, HGD, SGD-HD, SGDN-HD
	DefaultGamma0     = 0.9   // γ0 (μ for SGDN-HD)
	DefaultBeta       = 1e-4  // β for HGD, SGD-HD, SGDN-HD
	DefaultEta        = 1e-2  // η for HGD
	DefaultAlphaMax   = 0.2   // upper bound of α (SGD family): the paper's largest searched learning rate
	DefaultGammaMax   = 0.99  // upper bound of γ
	DefaultAdamAlpha0 = 1e-3  // α0 for Adam and Adam-HD
	DefaultAdamBeta   = 1e-7  // β for Adam-HD (Baydin et al.)
	DefaultAdamMax    = 0.1   // upper bound of α for Adam kinds
	DefaultAdamBeta1  = 0.9   // Adam's first-moment decay
	DefaultAdamBeta2  = 0.999 // Adam's second-moment decay
	DefaultAdamEps    = 1e-8  // Adam's ε
)

// Config holds an optimizer's hyperparameters. Every field is used as it is
// (zero means zero): start from [Defaults] and change what differs. A
// zero Config is HGD with every hyperparameter 0, which never moves θ.
type Config struct {
	Kind Kind

	// Alpha0 is the initial learning rate α0 (default DefaultAlpha0, or
	// DefaultAdamAlpha0 for Adam kinds).
	Alpha0 float64
	// Gamma0 is the initial momentum γ0 (μ of SGDN-HD); default
	// DefaultGamma0, 0 for kinds without momentum, which ignore it.
	Gamma0 float64
	// Beta is the hypergradient step size for α (default DefaultBeta, or
	// DefaultAdamBeta for Adam-HD; 0 for kinds that do not adapt α, which
	// ignore it).
	Beta float64
	// Eta is the hypergradient step size for γ (HGD only; default
	// DefaultEta, 0 for the other kinds, which ignore it).
	Eta float64

	// AlphaMin and AlphaMax bound α (defaults 0 and DefaultAlphaMax, or
	// DefaultAdamMax for Adam kinds). GammaMax bounds γ from above (default
	// DefaultGammaMax; must be < 1); γ's lower bound is 0. The bounds apply
	// to the kinds that adapt α and γ.
	AlphaMin, AlphaMax, GammaMax float64
	// Unbounded turns the projection of α and γ off (default false).
	Unbounded bool
	// Normalized selects the multiplicative (cosine) hypergradient rule
	// (default false).
	Normalized bool
	// HyperEMA, ρ in [0, 1), averages the hypergradients before they move α
	// and γ: m ← ρ·m + (1−ρ)·h, and the step uses m/(1 − ρⁿ) (bias-corrected,
	// n the applied steps including this one; see SmoothHypergradient)
	// instead of h. With the normalized rule the averaged h is divided by
	// the current norms. 0 (the default) is the paper's one-step rule.
	HyperEMA float64
	// HyperDecay, τ ≥ 0 in steps, decays the hypergradient step sizes:
	// step n (counting applied steps from 1) uses β·τ/(τ + n − 1) and
	// η·τ/(τ + n − 1) (DecayedRate). 0 (the default) keeps them constant.
	HyperDecay float64

	// WeightDecay is an L2 coefficient added to the gradient: g += wd·θ
	// (default 0).
	WeightDecay float64

	// AdamBeta1, AdamBeta2 and AdamEps configure the Adam kinds (defaults
	// DefaultAdamBeta1, DefaultAdamBeta2, DefaultAdamEps, for every kind).
	AdamBeta1, AdamBeta2, AdamEps float64
}

// Defaults returns kind's configuration with every hyperparameter at its
// default: the values of the Default* constants that the kind uses, and 0
// for Gamma0, Beta and Eta where the kind has no momentum, does not adapt α
// or does not adapt γ.
func Defaults(kind Kind) Config {
	c := Config{Kind: kind, Alpha0: DefaultAlpha0, Gamma0: DefaultGamma0, Beta: DefaultBeta, Eta: DefaultEta,
		AlphaMax: DefaultAlphaMax, GammaMax: DefaultGammaMax,
		AdamBeta1: DefaultAdamBeta1, AdamBeta2: DefaultAdamBeta2, AdamEps: DefaultAdamEps}
	if kind.IsAdam() {
		c.Alpha0, c.AlphaMax, c.Beta = DefaultAdamAlpha0, DefaultAdamMax, DefaultAdamBeta
	}
	if !kind.HasAlphaHypergradient() {
		c.Beta = 0
	}
	if kind != HGD {
		c.Eta = 0
	}
	if !kind.HasGamma() {
		c.Gamma0 = 0
	}
	return c
}

// Validate checks the configuration: a known kind, finite and non-negative
// values, AlphaMin ≤ AlphaMax, GammaMax < 1, γ0 ≤ GammaMax (unless
// Unbounded) and Adam's decays < 1.
func (c Config) Validate() error {
	var errs []error
	if c.Kind < 0 || c.Kind >= numKinds {
		errs = append(errs, fmt.Errorf("ref: unknown kind %d", int(c.Kind)))
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"Alpha0", c.Alpha0}, {"Gamma0", c.Gamma0}, {"Beta", c.Beta}, {"Eta", c.Eta},
		{"AlphaMin", c.AlphaMin}, {"AlphaMax", c.AlphaMax}, {"GammaMax", c.GammaMax},
		{"WeightDecay", c.WeightDecay}, {"AdamBeta1", c.AdamBeta1}, {"AdamBeta2", c.AdamBeta2}, {"AdamEps", c.AdamEps},
		{"HyperEMA", c.HyperEMA}, {"HyperDecay", c.HyperDecay}} {
		switch {
		case math.IsNaN(f.v) || math.IsInf(f.v, 0):
			errs = append(errs, fmt.Errorf("ref: %s = %v is not finite", f.name, f.v))
		case f.v < 0:
			errs = append(errs, fmt.Errorf("ref: %s = %v < 0", f.name, f.v))
		}
	}
	if c.AlphaMin > c.AlphaMax {
		errs = append(errs, fmt.Errorf("ref: AlphaMin = %v > AlphaMax = %v", c.AlphaMin, c.AlphaMax))
	}
	if c.GammaMax >= 1 {
		errs = append(errs, fmt.Errorf("ref: GammaMax = %v must be < 1", c.GammaMax))
	}
	if !c.Unbounded && c.Kind.HasGamma() && c.Gamma0 > c.GammaMax {
		errs = append(errs, fmt.Errorf("ref: Gamma0 = %v > GammaMax = %v", c.Gamma0, c.GammaMax))
	}
	if c.HyperEMA >= 1 {
		errs = append(errs, fmt.Errorf("ref: HyperEMA = %v must be < 1", c.HyperEMA))
	}
	if c.AdamBeta1 >= 1 || c.AdamBeta2 >= 1 {
		errs = append(errs, fmt.Errorf("ref: Adam betas (%v, %v) must be < 1", c.AdamBeta1, c.AdamBeta2))
	}
	return errors.Join(errs...)
}
