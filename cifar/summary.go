package cifar

import (
	"fmt"
	"strings"
)

// Summary describes the dataset for people: image and class counts, and
// each file with its origin and how its content was checked.
func (d *Dataset) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d images, %d classes", d.Name, d.N, len(d.Classes))
	if len(d.CoarseClasses) > 0 {
		fmt.Fprintf(&b, " (%d coarse)", len(d.CoarseClasses))
	}
	b.WriteString("\n")
	writeCounts(&b, d.Classes, d.ClassCounts())
	b.WriteString("files:\n")
	for _, f := range d.Files {
		check := f.Note
		if f.Verified {
			check = "MD5 " + f.MD5 + " ok"
			if f.Note != "" {
				check += " (" + f.Note + ")"
			}
		}
		if f.Records > 0 {
			fmt.Fprintf(&b, "  %s: %d records, %s [%s]\n", f.Name, f.Records, check, f.Path)
		} else {
			fmt.Fprintf(&b, "  %s: %s [%s]\n", f.Name, check, f.Path)
		}
	}
	return b.String()
}

// Summary describes the subset: its size and images per class.
func (s *Subset) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d images of %s\n", s.Len(), s.Data.N, s.Data.Name)
	writeCounts(&b, s.Data.Classes, s.ClassCounts())
	return b.String()
}

func writeCounts(b *strings.Builder, names []string, counts []int) {
	b.WriteString("per class:")
	for i, c := range counts {
		sep := " "
		if i > 0 {
			sep = ", "
		}
		if i > 0 && i%10 == 0 {
			sep = ",\n  "
		}
		fmt.Fprintf(b, "%s%s %d", sep, names[i], c)
	}
	b.WriteString("\n")
}
