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

// An all-gather costs what a reduce-scatter of the same bytes does, bit
// for bit, on every algorithm but NCCL's choice (GatherIsScatter), over
// spans of one to three levels and sizes from a few bytes to gigabytes.
func TestGatherIsScatter(t *testing.T) {
	spans := []topology.Span{{Factors: []int{8}}, {Factors: []int{8, 4}}, {Factors: []int{1, 16}}, {Factors: []int{8, 4, 3}}, {Factors: []int{1, 1, 2}}, {Factors: []int{1}}}
	n := 0
	for _, a := range []Algorithm{"", Hierarchical, Ring, Tree, NCCL} {
		links := []Link{{BytesPerSec: 400e9, LatencyS: 1e-6}, {BytesPerSec: 50e9, LatencyS: 5e-6, RingBytesPerSec: 30e9}, {BytesPerSec: 5e9, LatencyS: 1e-3, Algorithm: a, NICBytesPerSec: 6e9}}
		if got, want := GatherIsScatter(links), a != NCCL; got != want {
			t.Fatalf("%q: GatherIsScatter %v, want %v", a, got, want)
		}
		if a == NCCL {
			continue
		}
		for _, s := range spans {
			for _, b := range []float64{3, 1536, 4.7e6, 1e9, 8.1e10} {
				ag, rs := Time(AllGather, b, s, links), Time(ReduceScatter, b, s, links)
				if math.Float64bits(ag) != math.Float64bits(rs) {
					t.Errorf("%q %v %g B: all-gather %v, reduce-scatter %v", a, s.Factors, b, ag, rs)
				}
				if ag > 0 {
					n++
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no positive time compared")
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

// Where a level's shared uplink binds, Links gives each GPU the least of
// what it achieves without the uplink and UplinkBytesPerSec over the
// senders, for every transport, loss rate and distance: the one rate of
// the uplink that the training engines share between flows (train's
// trunks) and divide among GPUs (Links). Over 800 km of TCP, the case
// where the engines once disagreed (1.45 against 0.97 GB/s a GPU), the
// uplink carries its capacity less the AIMD sawtooth and ECMP
// collisions.
func TestLinksShareUplinkBytesPerSec(t *testing.T) {
	transports := append(TechnologyNames(), HostTechnologyNames()...)
	checked := 0
	for _, tr := range transports {
		for _, km := range []float64{0, 3, 800} {
			for _, loss := range []float64{0, 1e-4} {
				for _, up := range []float64{100, 25000} {
					for _, senders := range [][]float64{nil, {0, 0, 512}} {
						top := topology.Topology{Levels: []topology.Level{
							{Name: "node", Size: 8, BandwidthGbps: 3600, LatencyUs: 1},
							{Name: "zone", Size: 256, BandwidthGbps: 400, LatencyUs: 5},
							{Name: "region", Size: 2, BandwidthGbps: 400, LatencyUs: 100, DistanceKm: km, LinkCapacityGbps: up, Transport: tr, LossRate: loss},
						}}
						free := top
						free.Levels = append([]topology.Level(nil), top.Levels...)
						free.Levels[2].LinkCapacityGbps = 0
						n := 2048.0
						if senders != nil {
							n = senders[2]
						}
						alone := Links(free, senders, 0.95)[2].BytesPerSec
						shared := UplinkBytesPerSec(top, 2, senders, 0.95)
						if !(n*alone > shared) {
							continue // the uplink does not bind
						}
						checked++
						got := Links(top, senders, 0.95)[2].BytesPerSec
						if want := math.Min(alone, shared/n); math.Abs(got-want) > 1e-9*want {
							t.Errorf("%s %g km loss %g uplink %g Gb/s, %g senders: Links %.6g B/s a GPU, uplink %.6g B/s over %g and %.6g alone give %.6g",
								tr, km, loss, up, n, got, shared, n, alone, want)
						}
					}
				}
			}
		}
	}
	if checked < len(transports)*12 {
		t.Errorf("the uplink binds in %d cases only", checked)
	}
	top := topology.Topology{Levels: []topology.Level{
		{Name: "node", Size: 8, BandwidthGbps: 3600, LatencyUs: 1},
		{Name: "zone", Size: 256, BandwidthGbps: 400, LatencyUs: 5},
		{Name: "region", Size: 2, BandwidthGbps: 400, LatencyUs: 100, DistanceKm: 800, LinkCapacityGbps: 25000, Transport: "tcp"},
	}}
	if got := UplinkBytesPerSec(top, 2, nil, 0.95) / 2048; math.Abs(got-0.97e9) > 0.01e9 {
		t.Errorf("800 km of TCP: %.3g B/s a GPU from the uplink, want 0.97e9", got)
	}
	if got := UplinkBytesPerSec(top, 1, nil, 0.95); !math.IsInf(got, 1) {
		t.Errorf("a level without an uplink carries %g B/s, want +Inf", got)
	}
}
