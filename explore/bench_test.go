package explore

import (
	"testing"

	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/train"
)

// defaultCandidates returns the default scenario and the first n
// candidates of its explorer space that fit in memory, prepared for
// pricing as the search prepares them.
func defaultCandidates(b *testing.B, n int, keep func(Candidate) bool) (*Base, []job) {
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
	p := newPricer(base)
	var js []job
	sp[0].enumerate(base, func(i int, c Candidate, sh *shape) bool {
		if !keep(c) {
			return true
		}
		if _, ok := base.fitsMemory(base.Config(c)); ok {
			js = append(js, job{i, c, p.prepare(c, sh)})
		}
		return len(js) < n
	})
	return base, js
}

// BenchmarkAnalyticCandidate prices candidates of the default scenario
// (Behemoth on 98,304 H100) that fit, one per op, on one core, as the
// search does: memory check, then the analytic step model.
func BenchmarkAnalyticCandidate(b *testing.B) {
	base, js := defaultCandidates(b, 4096, func(Candidate) bool { return true })
	var cfg train.Config
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := js[i%len(js)]
		base.evaluatePrepared(&cfg, j.i, j.c, j.pr)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "candidates/s")
}

// BenchmarkEventRerank re-ranks candidates of the default scenario with
// the event-level simulation, one per op: pipelined ones (pp >= 4), like
// those at the top of the ranking (interleaved, pp >= 4).
func BenchmarkEventRerank(b *testing.B) {
	base, js := defaultCandidates(b, 64, func(c Candidate) bool { return c.PP >= 4 && c.VP >= 2 && c.Schedule == "interleaved-1f1b" })
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := train.Event(base.Config(js[i%len(js)].c)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reranks/s")
}
