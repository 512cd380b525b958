package explore

import (
	"testing"

	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/train"
)

// defaultCandidates returns the default scenario and the first n
// candidates of its explorer space that fit in memory.
func defaultCandidates(b *testing.B, n int, keep func(Candidate) bool) (*Base, []Candidate) {
	j, err := DefaultScenario()
	if err != nil {
		b.Fatal(err)
	}
	base, err := Resolve(j, model.Load, hardware.Lookup)
	if err != nil {
		b.Fatal(err)
	}
	sp, err := base.Spaces(network.TechnologyNames())
	if err != nil {
		b.Fatal(err)
	}
	var cs []Candidate
	sp[0].Enumerate(base, func(_ int, c Candidate) bool {
		if !keep(c) {
			return true
		}
		if _, ok := base.fitsMemory(base.Config(c)); ok {
			cs = append(cs, c)
		}
		return len(cs) < n
	})
	return base, cs
}

// BenchmarkAnalyticCandidate prices candidates of the default scenario
// (Behemoth on 98,304 H100) that fit, one per op, on one core: memory
// check, then the analytic step model.
func BenchmarkAnalyticCandidate(b *testing.B) {
	base, cs := defaultCandidates(b, 4096, func(Candidate) bool { return true })
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		base.evaluate(i, cs[i%len(cs)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "candidates/s")
}

// BenchmarkEventRerank re-ranks candidates of the default scenario with
// the event-level simulation, one per op: pipelined ones (pp >= 4), like
// those at the top of the ranking (interleaved, pp >= 4).
func BenchmarkEventRerank(b *testing.B) {
	base, cs := defaultCandidates(b, 64, func(c Candidate) bool { return c.PP >= 4 && c.VP >= 2 && c.Schedule == "interleaved-1f1b" })
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := train.Event(base.Config(cs[i%len(cs)])); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reranks/s")
}
