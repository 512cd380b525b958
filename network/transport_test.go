package network

import (
	"math"
	"testing"

	"github.com/scaleacross/scaleacross/topology"
)

func tech(t *testing.T, name string) Technology {
	t.Helper()
	x, err := LookupTechnology(name, "transport")
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func within(got, want, rel float64) bool { return math.Abs(got-want) <= rel*math.Abs(want) }

// A TCP connection moves at most window/RTT: with Linux's default 6 MiB
// maximum window that is ~50 Gb/s at 1 ms and ~5 Gb/s at 10 ms RTT
// (reference/network.md: Linux ip-sysctl docs; DESIGN.md section 4).
// An NCCL channel keeps NCCL_BUFFSIZE = 4 MiB in flight: ~34 Gb/s at 1 ms
// and ~3.4 Gb/s at 10 ms (NCCL env docs).
func TestWindowAndChannelCeilings(t *testing.T) {
	one := tech(t, "tcp")
	one.Flows, one.Channels = 1, 0
	ch := tech(t, Native)
	ch.Channels = 1
	for _, tc := range []struct {
		name string
		x    Technology
		rtt  float64
		gbps float64
		lim  Limit
	}{
		{"tcp 1ms", one, 1e-3, 6 * (1 << 20) * 8 / 1e-3 / 1e9, LimitWindow},
		{"tcp 10ms", one, 10e-3, 6 * (1 << 20) * 8 / 10e-3 / 1e9, LimitWindow},
		{"nccl channel 1ms", ch, 1e-3, 4 * (1 << 20) * 8 / 1e-3 / 1e9, LimitChannel},
		{"nccl channel 10ms", ch, 10e-3, 4 * (1 << 20) * 8 / 10e-3 / 1e9, LimitChannel},
	} {
		got, lim := tc.x.Throughput(Path{ShareBytesPerSec: 400e9 / 8, RTTS: tc.rtt})
		if g := got * 8 / 1e9; !within(g, tc.gbps, 1e-9) || lim != tc.lim {
			t.Errorf("%s: %.2f Gb/s limited by %s, want %.2f by %s", tc.name, g, lim, tc.gbps, tc.lim)
		}
	}
	// The published rounded figures.
	got, _ := one.Throughput(Path{ShareBytesPerSec: 400e9 / 8, RTTS: 10e-3})
	if g := got * 8 / 1e9; g < 4.9 || g > 5.1 {
		t.Errorf("6 MiB window at 10 ms: %.2f Gb/s, want ~5", g)
	}
	got, _ = ch.Throughput(Path{ShareBytesPerSec: 400e9 / 8, RTTS: 1e-3})
	if g := got * 8 / 1e9; g < 33 || g > 35 {
		t.Errorf("4 MiB channel at 1 ms: %.2f Gb/s, want ~34", g)
	}
	// Many connections lift the ceiling until the line rate binds.
	many := tech(t, "tcp")
	many.Flows, many.Channels, many.BufferBytes = 1000, 0, 1e12 // isolate the window
	if got, lim := many.Throughput(Path{ShareBytesPerSec: 400e9 / 8, RTTS: 10e-3}); got != 400e9/8 || lim != LimitLine {
		t.Errorf("1000 connections: %v (%s), want the 400 Gb/s line rate", got*8/1e9, lim)
	}
	// Loss: Mathis et al. bound MSS/RTT*sqrt(3/2)/sqrt(p) per connection.
	got, lim := one.Throughput(Path{ShareBytesPerSec: 400e9 / 8, RTTS: 10e-3, Loss: 1e-4})
	if want := 1448 / 10e-3 * math.Sqrt(1.5) / math.Sqrt(1e-4); !within(got, want, 1e-9) || lim != LimitLoss {
		t.Errorf("tcp at 1e-4 loss: %v (%s), want %v", got, lim, want)
	}
}

// Lossless RoCE needs PFC headroom of about 2 x rate x one-way delay per
// port: ~5 MB at 10 km and ~50 MB at 100 km at 400 Gb/s (reference/
// network.md, from Cisco's PFC headroom notes). A shallow-buffer PFC
// fabric therefore loses throughput as distance grows; a deep-buffer one
// keeps line rate far longer.
func TestPFCHeadroomGrowsWithDistance(t *testing.T) {
	fiber := func(km float64) float64 { return km * topology.FiberUsPerKm * 1e-6 }
	if h := PFCHeadroomBytes(400, fiber(10)); h < 4.5e6 || h > 5.5e6 {
		t.Errorf("headroom at 10 km: %.2f MB, want ~5", h/1e6)
	}
	if h := PFCHeadroomBytes(400, fiber(100)); h < 45e6 || h > 55e6 {
		t.Errorf("headroom at 100 km: %.2f MB, want ~50", h/1e6)
	}
	shallow, deep := tech(t, "roce-pfc"), tech(t, "roce-pfc-deep")
	prevS, prevH := math.Inf(1), 0.0
	for _, km := range []float64{0.1, 1, 10, 100, 1000} {
		h := PFCHeadroomBytes(400, fiber(km))
		if h <= prevH {
			t.Errorf("headroom at %g km %.3g not above %.3g", km, h, prevH)
		}
		prevH = h
		p := Path{ShareBytesPerSec: 400e9 / 8, RTTS: 2 * fiber(km)}
		s, _ := shallow.Throughput(p)
		d, _ := deep.Throughput(p)
		if s > prevS {
			t.Errorf("shallow PFC faster at %g km than nearer", km)
		}
		prevS = s
		if d < s {
			t.Errorf("deep buffer slower than shallow at %g km", km)
		}
		// Full rate exactly while the buffer covers the headroom.
		if full := shallow.BufferBytes >= 400e9/8*p.RTTS; full != (s == p.ShareBytesPerSec) {
			t.Errorf("%g km: shallow PFC %.1f Gb/s, buffer covers BDP = %v", km, s*8/1e9, full)
		}
	}
}

// NVIDIA reports Spectrum-XGS's distance-aware congestion control reaching
// up to 1.9x the NCCL all-reduce bandwidth of off-the-shelf Ethernet at
// 10 km (Spectrum-XGS announcement, 2025). Generic RoCE (DCQCN, ECMP) must
// lose to it there, by no more than the published factor.
func TestDistanceAwareBeatsGenericRoCEAt10km(t *testing.T) {
	// An nccl-tests run between two 8-GPU nodes, one in each building,
	// 10 km apart, each GPU with its own 400 Gb/s NIC.
	topo := func(transport string, km float64) topology.Topology {
		return topology.Topology{Levels: []topology.Level{
			{Name: "node", Size: 8, BandwidthGbps: 3600, LatencyUs: 1},
			{Name: "building", Size: 2, BandwidthGbps: 400, LatencyUs: 10, DistanceKm: km, Transport: transport},
		}}
	}
	span := topology.Span{Factors: []int{8, 2}}
	ratio := func(a Algorithm, size, km float64) float64 {
		at := func(tr string) float64 {
			l := Links(topo(tr, km), nil, 1)
			l[1].Algorithm = a
			return Time(AllReduce, size, span, l)
		}
		return at("roce-dcqcn") / at("spectrum-xgs")
	}
	for _, a := range []Algorithm{Ring, Hierarchical} {
		for _, size := range []float64{64 << 20, 1 << 30, 4 << 30} {
			r := ratio(a, size, 10)
			t.Logf("%s all-reduce %4.0f MiB at 10 km: spectrum-xgs / roce-dcqcn bus bandwidth %.2fx", a, size/(1<<20), r)
			if !(r > 1 && r <= 1.9) {
				t.Errorf("%s %.0f MiB: distance-aware / generic bandwidth ratio %.2f outside (1, 1.9]", a, size/(1<<20), r)
			}
			// At 100 m the gap is smaller: distance is what separates them.
			if n := ratio(a, size, 0.1); !(n < r) {
				t.Errorf("%s %.0f MiB: gap at 100 m %.3f not below the gap at 10 km %.3f", a, size/(1<<20), n, r)
			}
		}
	}
}

func TestClosedForms(t *testing.T) {
	if got := AIMDUtilisation(0); !within(got, 0.75, 1e-12) {
		t.Errorf("AIMD with no buffer: %v, want 0.75", got)
	}
	if got := AIMDUtilisation(1); got != 1 {
		t.Errorf("AIMD with one BDP of buffer: %v, want 1", got)
	}
	prev := 0.0
	for b := 0.0; b <= 1; b += 0.05 {
		u := AIMDUtilisation(b)
		if u < prev {
			t.Errorf("AIMD utilisation falls at b=%v", b)
		}
		prev = u
	}
	if got := RecoveryGoodput(Selective, 0.01, 1000); !within(got, 1/1.01, 1e-12) {
		t.Errorf("selective repeat goodput %v", got)
	}
	if got := RecoveryGoodput(GoBackN, 0.01, 1000); !within(got, 1/11.0, 1e-12) {
		t.Errorf("go-back-N goodput %v", got)
	}
	if e := ECMPEfficiency(16, 8); !(e > 0 && e < 1) {
		t.Errorf("ECMP 16 flows on 8 paths: %v", e)
	}
	if a, b := ECMPEfficiency(1600, 8), ECMPEfficiency(16, 8); !(a > b) {
		t.Errorf("more flows per path should balance better: %v vs %v", a, b)
	}
}

func TestCatalog(t *testing.T) {
	seen := map[string]bool{}
	for _, x := range Technologies() {
		if x.Name == "" || seen[x.Name] || len(x.Sources) == 0 || x.PortGbps <= 0 || x.Flows <= 0 {
			t.Errorf("bad catalog entry %+v", x)
		}
		seen[x.Name] = true
	}
	if _, err := LookupTechnology("quic", "network.transport"); err == nil {
		t.Error("unknown transport accepted")
	}
	if x, err := LookupTechnology("", "f"); err != nil || x.Name != Native {
		t.Errorf("empty name: %v %v", x.Name, err)
	}
}

// Flat rings pay the slow level's latency at every step; across two
// distant sites the hierarchical algorithm wins, and a tree all-reduce
// beats the ring on small messages.
func TestAlgorithms(t *testing.T) {
	topo := topology.Topology{Levels: []topology.Level{
		{Name: "node", Size: 8, BandwidthGbps: 3600, LatencyUs: 1},
		{Name: "pod", Size: 16, BandwidthGbps: 400, LatencyUs: 5},
		{Name: "region", Size: 2, BandwidthGbps: 400, LatencyUs: 100, DistanceKm: 500, LinkCapacityGbps: 25600},
	}}
	span := topology.Span{Factors: []int{8, 16, 2}}
	with := func(a Algorithm) []Link {
		l := Links(topo, nil, 1)
		for i := range l {
			l[i].Algorithm = a
		}
		return l
	}
	for _, size := range []float64{1 << 10, 1 << 20, 1 << 30} {
		h := Time(AllReduce, size, span, with(Hierarchical))
		r := Time(AllReduce, size, span, with(Ring))
		tr := Time(AllReduce, size, span, with(Tree))
		if !(h < r) {
			t.Errorf("%g B: hierarchical %v not below flat ring %v across regions", size, h, r)
		}
		if size <= 1<<20 && !(tr < r) {
			t.Errorf("%g B: tree %v not below ring %v", size, tr, r)
		}
		for _, a := range Algorithms() {
			for _, k := range []Kind{AllReduce, AllGather, ReduceScatter} {
				sent, times := PerLevel(k, size, span, with(a))
				var st, ss float64
				for i := range times {
					st += times[i]
					ss += sent[i]
				}
				mult := 2.0
				if k != AllReduce {
					mult = 1
				}
				if want := Time(k, size, span, with(a)); !within(st, want, 1e-9) {
					t.Errorf("%s %s: per-level times %v, Time %v", a, k, st, want)
				}
				if a != Hierarchical {
					if want := mult * 255 / 256 * size; !within(ss, want, 1e-9) {
						t.Errorf("%s %s: bytes %v, want %v", a, k, ss, want)
					}
				}
			}
		}
	}
	if _, err := ParseAlgorithm("butterfly", "network.algorithm"); err == nil {
		t.Error("unknown algorithm accepted")
	}
}
