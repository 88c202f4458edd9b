package cnn

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseWidths reads n comma-separated positive layer widths, such as the
// "32,64,128" of a -conv flag.
func ParseWidths(s string, n int) ([]int, error) {
	parts := strings.Split(s, ",")
	if len(parts) != n {
		return nil, fmt.Errorf("%w: %q: want %d comma-separated widths", ErrConfig, s, n)
	}
	out := make([]int, n)
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%w: %q: %q is not a positive integer", ErrConfig, s, p)
		}
		out[i] = v
	}
	return out, nil
}
