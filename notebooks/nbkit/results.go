package nbkit

import "github.com/hgdtune/hgdtune/reproduce"

// Results is a results folder of `hgdtune reproduce`, read back from its
// files (reproduce.Results).
type Results = reproduce.Results

// LoadResults reads a results folder (reproduce.Load).
func LoadResults(dir string) (*Results, error) { return reproduce.Load(dir) }
