package network

import (
	"math"
	"testing"

	"github.com/scaleacross/scaleacross/topology"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Abs(b) }

// Ring all-reduce of S bytes over n ranks: 2(n-1)*alpha + 2(n-1)/n*S/B
// (DESIGN.md section 4); all-gather and reduce-scatter half; all-to-all
// (n-1)/n*S/B plus one alpha; p2p alpha + S/B.
func TestFlatFormulas(t *testing.T) {
	links := []Link{{BytesPerSec: 100e9, LatencyS: 2e-6}}
	s := topology.Span{Factors: []int{8}}
	S := 1e9
	if got, want := Time(AllReduce, S, s, links), 2*7*2e-6+2*7.0/8*S/100e9; !near(got, want) {
		t.Errorf("all-reduce %v want %v", got, want)
	}
	if got, want := Time(AllGather, S, s, links), 7*2e-6+7.0/8*S/100e9; !near(got, want) {
		t.Errorf("all-gather %v want %v", got, want)
	}
	if got, want := Time(AllToAll, S, s, links), 2e-6+7.0/8*S/100e9; !near(got, want) {
		t.Errorf("all-to-all %v want %v", got, want)
	}
	if got, want := Time(P2P, S, s, links), 2e-6+S/100e9; !near(got, want) {
		t.Errorf("p2p %v want %v", got, want)
	}
	if got := Time(AllReduce, S, topology.Span{Factors: []int{1}}, links); got != 0 {
		t.Errorf("all-reduce over one rank costs %v", got)
	}
}

// Hierarchical all-reduce: the slow level only carries 1/n_local of the data.
func TestHierarchical(t *testing.T) {
	links := []Link{{BytesPerSec: 400e9}, {BytesPerSec: 50e9}}
	S := 8e9
	got := Time(AllReduce, S, topology.Span{Factors: []int{8, 4}}, links)
	want := 2*7.0/8*S/400e9 + 2*3.0/4*(S/8)/50e9
	if !near(got, want) {
		t.Errorf("hierarchical all-reduce %v want %v", got, want)
	}
	flat := 2 * 31.0 / 32 * S / 50e9
	if !(got < flat) {
		t.Errorf("hierarchical %v not faster than a flat ring on the slow link %v", got, flat)
	}
}

// The per-level split must add up to the total for every kind.
func TestPerLevelAddsUp(t *testing.T) {
	links := []Link{{BytesPerSec: 400e9, LatencyS: 1e-6}, {BytesPerSec: 50e9, LatencyS: 5e-6}, {BytesPerSec: 5e9, LatencyS: 1e-3}}
	s := topology.Span{Factors: []int{8, 4, 2}}
	for _, k := range []Kind{AllReduce, AllGather, ReduceScatter, AllToAll, P2P} {
		_, times := PerLevel(k, 1e9, s, links)
		var sum float64
		for _, v := range times {
			sum += v
		}
		if want := Time(k, 1e9, s, links); !near(sum, want) {
			t.Errorf("%s: per-level times sum to %v, Time gives %v", k, sum, want)
		}
	}
}

// The dispatcher's links slow only the scale-up level, to the measured
// all-to-all efficiency (lower for groups spanning more than 8 GPUs of a
// multi-node NVLink domain), and leave the links they copy unchanged.
func TestAllToAllLinks(t *testing.T) {
	links := []Link{{BytesPerSec: 0.95 * 450e9}, {BytesPerSec: 0.95 * 50e9}}
	got := AllToAllLinks(links, 0.95, 8)
	if !near(got[0].BytesPerSec, AllToAllScaleUpEfficiency*450e9) || got[1] != links[1] {
		t.Errorf("all-to-all links %+v from %+v", got, links)
	}
	if links[0].BytesPerSec != 0.95*450e9 {
		t.Error("AllToAllLinks changed its input")
	}
	if mnnvl := AllToAllLinks(links, 0.95, 32); !near(mnnvl[0].BytesPerSec, AllToAllMNNVLEfficiency*450e9) {
		t.Errorf("an ep32 group in an NVL72 domain reaches %.3g B/s", mnnvl[0].BytesPerSec)
	}
	if low := AllToAllLinks(links, 0.2, 8); low[0] != links[0] {
		t.Errorf("an efficiency below the dispatcher's should be kept: %+v", low[0])
	}
}
