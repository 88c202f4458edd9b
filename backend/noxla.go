//go:build !xla || !cgo

package backend

// disableAutoInstall is a no-op: XLA is not compiled in.
func disableAutoInstall() {}
