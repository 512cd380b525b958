package explore

import (
	"testing"

	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/train"
)

// enumerated is a candidate as the enumerator hands it on.
type enumerated struct {
	i  int
	c  Candidate
	sh *shape
}

// loadDefault resolves the default scenario and its spaces with every
// technology.
func loadDefault(t testing.TB) (*Base, []*Space) {
	t.Helper()
	j, err := DefaultScenario()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Resolve(j, model.Load, hardware.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := b.Spaces(network.TechnologyNames())
	if err != nil {
		t.Fatal(err)
	}
	return b, sp
}

// defaultCandidates returns the default scenario and the first n
// candidates of its explorer space that fit in memory, in enumeration
// order.
func defaultCandidates(b *testing.B, n int, keep func(Candidate) bool) (*Base, []enumerated) {
	base, sp := loadDefault(b)
	var es []enumerated
	sp[0].enumerate(base, func(i int, c Candidate, sh *shape) bool {
		if !keep(c) {
			return true
		}
		if _, ok := base.fitsMemory(base.Config(c)); ok {
			es = append(es, enumerated{i, c, sh})
		}
		return len(es) < n
	})
	return base, es
}

// BenchmarkAnalyticCandidate prices candidates of the default scenario
// (Behemoth on 98,304 H100) that fit, one per op, on one core, as the
// search does: preparing the candidate (its shape's shared parts and its
// memory check, both looked up when the previous candidate differs only
// in transport or collective algorithm), then the analytic step model.
func BenchmarkAnalyticCandidate(b *testing.B) {
	base, es := defaultCandidates(b, 4096, func(Candidate) bool { return true })
	p := newPricer(base)
	var cfg candidateCfg
	var ev train.Evaluator
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := es[i%len(es)]
		j, _ := p.job(e.i, e.c, e.sh)
		base.evaluatePrepared(&cfg, &ev, &j)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "candidates/s")
}

// TestPricingAllocatesNothing checks that pricing candidates on a
// worker's pricer and Evaluator allocates nothing once their caches are
// warm: a second pass over 2,048 candidates of the default scenario
// that fit (prepared parts of many shapes and technologies) allocates
// no byte. Allocating per candidate ran the collector during a search
// (a prepared struct per shape and technology, 21 B per candidate).
func TestPricingAllocatesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("enumerates the default scenario")
	}
	base, sp := loadDefault(t)
	var es []enumerated
	sp[0].enumerate(base, func(i int, c Candidate, sh *shape) bool {
		if _, ok := base.fitsMemory(base.Config(c)); ok {
			es = append(es, enumerated{i, c, sh})
		}
		return len(es) < 2048
	})
	p := newPricer(base)
	var cfg candidateCfg
	var ev train.Evaluator
	pass := func() {
		for _, e := range es {
			j, _ := p.job(e.i, e.c, e.sh)
			base.evaluatePrepared(&cfg, &ev, &j)
		}
	}
	pass()
	if n := testing.AllocsPerRun(1, pass); n != 0 {
		t.Errorf("%v allocations pricing %d candidates a second time, want none", n, len(es))
	}
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
