package network

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scaleacross/scaleacross/topology"
)

// NCCL's tuner, one GPU per host at a 10 Gb/s NIC: small tensors run a
// ring at 4 hosts (ring LL 3.6 + 6 x 2.7 us beats tree LL 4.4 + 2 x 2 x
// 5 us) and a tree at 16 (84.6 against 44.4 us); megabyte tensors run a
// ring (Simple) at both; the other collectives have no tree.
func TestNCCLChoice(t *testing.T) {
	type pick struct {
		A Algorithm
		P Protocol
	}
	cases := []struct {
		k           Kind
		bytes       float64
		ranks, host int
		want        pick
	}{
		{AllReduce, 1536, 4, 4, pick{Ring, ProtoLL}},
		{AllReduce, 6144, 4, 4, pick{Ring, ProtoLL}},
		{AllReduce, 1536, 16, 16, pick{Tree, ProtoLL}},
		{AllReduce, 6144, 16, 16, pick{Tree, ProtoLL}},
		{AllReduce, 1.18e6, 4, 4, pick{Ring, ProtoSimple}},
		{AllReduce, 1.18e6, 16, 16, pick{Ring, ProtoSimple}},
		{AllReduce, 77e6, 16, 16, pick{Ring, ProtoSimple}},
		{AllGather, 1536, 16, 16, pick{Ring, ProtoLL}},
		{ReduceScatter, 77e6, 16, 16, pick{Ring, ProtoSimple}},
	}
	for _, c := range cases {
		a, p, us := NCCLTuned(c.k, c.bytes, c.ranks, c.host, 1.25)
		if d := cmp.Diff(c.want, pick{a, p}); d != "" {
			t.Errorf("%s of %g B over %d hosts (%.1f us): %s", c.k, c.bytes, c.ranks, us, d)
		}
	}
	// The closed form of the small all-reduce at 16 hosts: tree LL.
	if _, _, us := NCCLTuned(AllReduce, 64, 16, 16, 1.25); us < 44.4 || us > 45 {
		t.Errorf("64 B tree LL over 16 hosts: %.2f us, want 44.4 plus the bytes", us)
	}
}

// The DS3Lab rows' tensors get the same pick whether the tuner counts one
// channel or two (which of the two NCCL built is not in the logs).
func TestNCCLChoiceStableInChannels(t *testing.T) {
	for _, n := range []int{4, 16} {
		for _, b := range []float64{1536, 6144, 1.18e6, 3.1e6, 4.7e6, 44.5e6} {
			a1, p1, _ := NCCLTuned(AllReduce, b, n, n, 1.25)
			a2, p2, _ := NCCLTuned(AllReduce, b, n, n, 2.5)
			if a1 != a2 || p1 != p2 {
				t.Errorf("%g B over %d hosts: %s/%s on one channel, %s/%s on two", b, n, a1, p1, a2, p2)
			}
		}
	}
}

// A level that runs NCCL prices each call as the algorithm NCCL picks:
// a small all-reduce over 16 hosts at a tree's 2 log2(16) hops, a large
// one at a ring's 2 x 15 steps.
func TestNCCLAlgorithmPrices(t *testing.T) {
	with := func(a Algorithm) []Link {
		return []Link{{BytesPerSec: 1e12}, {BytesPerSec: 125e6, LatencyS: 0.01, Algorithm: a, NICBytesPerSec: 1.25e9}}
	}
	s := topology.Span{Factors: []int{1, 16}}
	for _, c := range []struct {
		bytes float64
		as    Algorithm
	}{{1536, Tree}, {4.7e6, Ring}} {
		if got, want := Time(AllReduce, c.bytes, s, with(NCCL)), Time(AllReduce, c.bytes, s, with(c.as)); !near(got, want) {
			t.Errorf("%g B under nccl: %v, want %s's %v", c.bytes, got, c.as, want)
		}
	}
	if got, want := Time(AllReduce, 1536, s, with(Tree)), 8*0.01+2*15.0/16*1536/125e6; !near(got, want) {
		t.Errorf("tree all-reduce %v, want 8 hops %v", got, want)
	}
	if _, err := ParseAlgorithm("nccl", "f"); err != nil {
		t.Error(err)
	}
}

// LinksInto gives a host transport's level its NIC speed and its idle
// start-up; a cluster fabric has none.
func TestLinksCarryTunerAndStartup(t *testing.T) {
	topo := topology.Topology{Levels: []topology.Level{
		{Name: "node", Size: 1, BandwidthGbps: 10},
		{Name: "region", Size: 4, BandwidthGbps: 1, LatencyUs: 10e3, Transport: "nccl-socket"},
	}}
	l := Links(topo, nil, 1)
	sock, _ := LookupTechnology("nccl-socket", "")
	if !near(l[1].NICBytesPerSec, sock.PortGbps*1e9/8) || !near(l[1].StartupS, sock.StartupRTTs*0.02) {
		t.Errorf("region link %+v", l[1])
	}
	if l[0].StartupS != 0 || !near(l[0].NICBytesPerSec, 10e9/8) {
		t.Errorf("node link %+v", l[0])
	}
}
