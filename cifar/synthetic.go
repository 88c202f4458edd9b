package cifar

import (
	"fmt"
	"math/rand/v2"
)

// Synthetic returns a small, easily learnable stand-in for CIFAR in the
// same layout: n images of `classes` classes (labels i mod classes), each
// noise in [0, 96) with a bright 6×6 square whose position and colour
// channel depend on the class. Tests, examples and quick demos use it when
// the real data is not at hand; a small CNN separates the classes in a few
// epochs. The result depends only on the arguments.
func Synthetic(n, classes int, seed uint64) *Dataset {
	r := rand.New(rand.NewPCG(seed, 0x5e7))
	d := &Dataset{Name: "synthetic", N: n, Pixels: make([]uint8, n*ImageSize), Labels: make([]uint8, n)}
	for k := range classes {
		d.Classes = append(d.Classes, fmt.Sprintf("class%d", k))
	}
	for i := range n {
		k := i % classes
		d.Labels[i] = uint8(k)
		img := d.Image(i)
		for j := range img {
			img[j] = uint8(r.IntN(96))
		}
		y0, x0, ch := 4*(k%7), 4*((k/7)%7), k%3
		for y := y0; y < y0+6; y++ {
			for x := x0; x < x0+6; x++ {
				img[ch*planeSize+y*ImageWidth+x] = 255
			}
		}
	}
	return d
}
