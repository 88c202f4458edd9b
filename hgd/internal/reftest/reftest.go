// Package reftest holds what the tests of hgd and hgd/ref share.
package reftest

import "github.com/hgdtune/hgdtune/hgd/ref"

// Def is the tests' shorthand for a configuration: c with every zero
// hyperparameter replaced by its ref.Defaults(c.Kind) value, so that a
// literal names only what differs from the defaults. (Production code has
// no such rule: zero means zero.)
func Def(c ref.Config) ref.Config {
	d := ref.Defaults(c.Kind)
	for _, f := range []struct{ dst, def *float64 }{
		{&c.Alpha0, &d.Alpha0}, {&c.Gamma0, &d.Gamma0}, {&c.Beta, &d.Beta}, {&c.Eta, &d.Eta},
		{&c.AlphaMin, &d.AlphaMin}, {&c.AlphaMax, &d.AlphaMax}, {&c.GammaMax, &d.GammaMax},
		{&c.AdamBeta1, &d.AdamBeta1}, {&c.AdamBeta2, &d.AdamBeta2}, {&c.AdamEps, &d.AdamEps},
	} {
		if *f.dst == 0 {
			*f.dst = *f.def
		}
	}
	return c
}
