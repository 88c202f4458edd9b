//go:build xla && cgo

package backend

import "github.com/gomlx/go-xla/compute/xla"

// disableAutoInstall stops go-xla from downloading plugins: hgdtune machines
// are often offline, and a download is never what the user asked for.
func disableAutoInstall() { xla.EnableAutoInstall(false) }
