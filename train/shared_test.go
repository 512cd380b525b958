package train

import (
	"math/rand/v2"
	"testing"

	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/topology"
)

// The Evaluator's memos compare only the links of the levels a group
// crosses (usedLevels): network.Time must read no other. Changing every
// link above a group's outermost level, for every collective, algorithm
// and group shape, leaves its time as it was.
func TestTimeReadsOnlyCrossedLevels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	kinds := []network.Kind{network.AllReduce, network.AllGather, network.ReduceScatter, network.AllToAll, network.P2P}
	algs := []network.Algorithm{"", network.Hierarchical, network.Ring, network.Tree}
	link := func(a network.Algorithm) network.Link {
		return network.Link{BytesPerSec: 1e9 * (1 + 100*rng.Float64()), LatencyS: 1e-6 * (1 + 100*rng.Float64()), Algorithm: a}
	}
	for trial := 0; trial < 2000; trial++ {
		n := 1 + rng.IntN(5)
		f := make([]int, n)
		for i := range f {
			f[i] = 1 + rng.IntN(3)*rng.IntN(3)
		}
		s := topology.Span{Factors: f}
		links := make([]network.Link, n)
		for i := range links {
			links[i] = link(algs[rng.IntN(len(algs))])
		}
		other := append([]network.Link(nil), links...)
		for i := usedLevels(s); i < n; i++ {
			other[i] = link(algs[rng.IntN(len(algs))])
		}
		for _, k := range kinds {
			bytes := 1e6 * rng.Float64()
			if a, b := network.Time(k, bytes, s, links), network.Time(k, bytes, s, other); a != b {
				t.Fatalf("%v over %v: %g with the links above level %d changed, %g before", k, f, b, usedLevels(s)-1, a)
			}
		}
	}
}
