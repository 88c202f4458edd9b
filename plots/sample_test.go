package plots

import (
	"math"
	"os"
	"testing"
)

func TestWriteSamples(t *testing.T) {
	dir := os.Getenv("PLOTS_SAMPLES")
	if dir == "" {
		t.Skip("set PLOTS_SAMPLES=dir to write sample figures")
	}
	e := synthetic(5)
	cf, err := Curves(e, CurvesConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cf.Save(dir + "/curves.png"); err != nil {
		t.Fatal(err)
	}
	bf, err := Bars(e, BarsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := bf.Save(dir + "/bars.png"); err != nil {
		t.Fatal(err)
	}
}

func TestWriteMoreSamples(t *testing.T) {
	dir := os.Getenv("PLOTS_SAMPLES")
	if dir == "" {
		t.Skip("set PLOTS_SAMPLES=dir to write sample figures")
	}
	var ts []Trajectory
	for i := range 12 {
		tj := Trajectory{Label: "trial " + string(rune('0'+i%10))}
		a, g := 1e-3*float64(1+i%4), 0.8+0.01*float64(i)
		for s := 0; s <= 2000; s += 10 {
			tj.X = append(tj.X, float64(s))
			a *= 1 + 0.01*math.Sin(float64(s+37*i)/150)
			g += 0.0008 * math.Cos(float64(s+11*i)/200)
			tj.Alpha, tj.Gamma = append(tj.Alpha, a), append(tj.Gamma, g)
		}
		ts = append(ts, tj)
	}
	f, err := Trajectories(ts, TrajectoriesConfig{LogAlpha: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Save(dir + "/trajectories.png"); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(dir + "/trajectories.svg"); err != nil {
		t.Fatal(err)
	}
	tab, err := NewTable(synthetic(5), TableConfig{Reference: PaperTable3().Table()})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/table.md", []byte(tab.Markdown()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/table.tex", []byte(tab.LaTeX()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/paper_table4.md", []byte(PaperTable4().Table().Markdown()), 0o644); err != nil {
		t.Fatal(err)
	}
}
