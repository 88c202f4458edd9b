package asha_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/hgdtune/hgdtune/hpo"
	"github.com/hgdtune/hgdtune/hpo/asha"
)

// simulate drives s through an experiment of n trials on a simulated pool of
// slots (no runner, no I/O), timing every scheduler call that produces a
// decision (Next and OnResult).
func simulate(s *asha.Scheduler, n, slots int, r *rand.Rand, lat []time.Duration) []time.Duration {
	v := &fakeView{canRun: true, metric: hpo.Metric{Name: "acc"}}
	type job struct {
		id    hpo.TrialID
		until int
	}
	quality := map[hpo.TrialID]float64{}
	var running []job
	next := 0
	for {
		for len(running) < slots {
			v.next, v.canRun = hpo.TrialID(next), next < n
			t0 := time.Now()
			d := s.Next(v)
			lat = append(lat, time.Since(t0))
			if d.Action == hpo.Start {
				s.Add(v, hpo.Trial{ID: d.Trial, Group: d.Group})
				quality[d.Trial] = r.Float64()
				next++
			} else if d.Action != hpo.Resume {
				break
			}
			running = append(running, job{d.Trial, d.Until})
		}
		if len(running) == 0 {
			return lat
		}
		i := r.IntN(len(running))
		j := running[i]
		running = slices.Delete(running, i, i+1)
		acc := quality[j.id] * (1 - 1/float64(j.until+1))
		t0 := time.Now()
		d := s.OnResult(v, res(j.id, j.until, acc))
		lat = append(lat, time.Since(t0))
		if d.Action == hpo.Continue {
			running = append(running, job{j.id, d.Until})
		}
	}
}

// BenchmarkDecision measures the latency of scheduler decisions during
// experiments of 1000 trials on 8 slots, and reports the median.
func BenchmarkDecision(b *testing.B) {
	for _, mode := range []asha.Mode{asha.Promotion, asha.Stopping} {
		b.Run(mode.String(), func(b *testing.B) {
			var lat []time.Duration
			r := rand.New(rand.NewPCG(1, 2))
			decisions := 0
			for b.Loop() {
				s, err := asha.NewAsyncHyperband(asha.Config{Mode: mode, MaxBudget: 81, Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				lat = simulate(s, 1000, 8, r, lat[:0])
				decisions += len(lat)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "µs/decision-median")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "µs/decision-p99")
			b.ReportMetric(float64(len(lat)), "decisions/experiment")
		})
	}
}
