package cnn

import (
	"errors"
	"slices"
	"testing"
)

func TestParseWidths(t *testing.T) {
	if w, err := ParseWidths("32, 64,128", 3); err != nil || !slices.Equal(w, []int{32, 64, 128}) {
		t.Errorf("ParseWidths = %v, %v", w, err)
	}
	for _, bad := range []string{"32,64", "32,64,0", "32,x,128", "32,64,128,1"} {
		if _, err := ParseWidths(bad, 3); !errors.Is(err, ErrConfig) {
			t.Errorf("%q: %v, want ErrConfig", bad, err)
		}
	}
}
