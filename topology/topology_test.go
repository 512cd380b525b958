package topology

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func metaLike() Topology {
	// 8 GPUs per node, 384 nodes per pod (3,072 GPUs), 2 pods.
	return Topology{Levels: []Level{
		{Name: "node", Size: 8, BandwidthGbps: 3600, LatencyUs: 1},
		{Name: "pod", Size: 384, BandwidthGbps: 400, LatencyUs: 5},
		{Name: "cluster", Size: 2, BandwidthGbps: 400, LatencyUs: 10, Oversubscription: 7},
	}}
}

func TestPlaceSpans(t *testing.T) {
	topo := metaLike()
	l, err := Place(topo, []Dim{TP, CP, PP, DP}, map[Dim]int{TP: 8, CP: 1, PP: 16, DP: 48, EP: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := map[Dim][]int{
		TP: {8, 1, 1},
		CP: {1, 1, 1},
		PP: {1, 16, 1},
		DP: {1, 24, 2}, // 24 replicas per pod, across both pods
		EP: {1, 1, 1},
	}
	for d, f := range want {
		if diff := cmp.Diff(f, l.Spans[d].Factors); diff != "" {
			t.Errorf("%s span (-want +got):\n%s", d, diff)
		}
	}
	if got := l.Spans[DP].Outermost(); got != 2 {
		t.Errorf("dp outermost level %d, want 2", got)
	}
}

func TestPlaceErrors(t *testing.T) {
	topo := metaLike()
	deg := map[Dim]int{TP: 8, CP: 1, PP: 16, DP: 48}
	for name, p := range map[string][]Dim{
		"unknown":  {TP, "xp"},
		"repeated": {TP, TP},
		"ep twice": {TP, EP, EP},
	} {
		if _, err := Place(topo, p, deg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// tp=3 cannot tile an 8-GPU node.
	if _, err := Place(Topology{Levels: []Level{{Name: "node", Size: 8, BandwidthGbps: 1}, {Name: "c", Size: 3, BandwidthGbps: 1}}}, nil, map[Dim]int{TP: 3, PP: 8, CP: 1, DP: 1}); err == nil {
		t.Errorf("uneven tp: no error")
	}
}

func TestOneWayLatency(t *testing.T) {
	topo := metaLike()
	topo.Levels[2].DistanceKm = 100
	// 100 km of fiber at 4.9 us/km along a route DefaultRouteStretch longer.
	if got, want := topo.OneWayLatencyS(2), (10+100*DefaultRouteStretch*4.9)*1e-6; got < want*0.999 || got > want*1.001 {
		t.Errorf("latency %v, want %v", got, want)
	}
}

// Naming ep in the placement positions the expert-parallel share of dp:
// [tp, cp, ep, dp, pp] keeps ep groups inside the pod and dp spans both.
func TestPlaceEP(t *testing.T) {
	topo := metaLike()
	deg := map[Dim]int{TP: 8, CP: 1, PP: 16, DP: 48, EP: 8}
	l, err := Place(topo, []Dim{TP, CP, EP, PP, DP}, deg)
	if err != nil {
		t.Fatal(err)
	}
	want := map[Dim][]int{
		EP: {1, 8, 1},  // 8 consecutive nodes of one pod
		PP: {1, 16, 1}, // stride 64 inside the pod
		DP: {1, 24, 2}, // the ep share (8) and the rest (6) of dp
	}
	for d, f := range want {
		if diff := cmp.Diff(f, l.Spans[d].Factors); diff != "" {
			t.Errorf("%s span (-want +got):\n%s", d, diff)
		}
	}
	// Without ep in the placement it sits just inside dp: same groups.
	l2, err := Place(topo, []Dim{TP, CP, PP, DP}, deg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(l2.Spans[DP], l.Spans[DP]); diff != "" {
		t.Errorf("dp span differs (-default +named):\n%s", diff)
	}
	if _, err := Place(topo, nil, map[Dim]int{TP: 8, CP: 2, PP: 16, DP: 24, EP: 3}); err == nil {
		t.Error("ep=3 with cp=2 accepted")
	}
}

func TestSitesAndCrossSite(t *testing.T) {
	topo := metaLike()
	if got := topo.Sites(); got != 1 {
		t.Errorf("one building: %d sites", got)
	}
	topo.Levels[2].DistanceKm = 5
	if got, want := topo.SiteLevels(), []int{2}; !cmp.Equal(got, want) {
		t.Errorf("site levels %v, want %v", got, want)
	}
	if got := topo.Sites(); got != 2 {
		t.Errorf("%d sites, want 2", got)
	}
	deg := map[Dim]int{TP: 8, CP: 1, PP: 16, DP: 48, EP: 1}
	pl := PutOutermost(nil, PP)
	if diff := cmp.Diff([]Dim{TP, CP, DP, PP}, pl); diff != "" {
		t.Errorf("PutOutermost (-want +got):\n%s", diff)
	}
	l, err := Place(topo, pl, deg)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckCrossSite(topo, l, PP, 16); err != nil {
		t.Errorf("pp outermost does not alone span the sites: %v", err)
	}
	if err := CheckCrossSite(topo, l, DP, 48); err == nil {
		t.Error("dp reported across sites while pp is outermost")
	}
	x := topo.WithSiteTransport("tcp", "ring", false)
	if x.Levels[2].Transport != "tcp" || x.Levels[2].Algorithm != "ring" || x.Levels[1].Transport != "" || topo.Levels[2].Transport != "" {
		t.Errorf("WithSiteTransport: %+v", x.Levels)
	}
}

// TestCapacitiesInto checks that the one-pass capacities are Capacity's,
// level by level, appended after what dst holds.
func TestCapacitiesInto(t *testing.T) {
	top := Topology{Levels: []Level{{Size: 8}, {Size: 32}, {Size: 1}, {Size: 4}}}
	var want []int
	for i := range top.Levels {
		want = append(want, top.Capacity(i))
	}
	got := top.CapacitiesInto([]int{7})
	if diff := cmp.Diff(append([]int{7}, want...), got); diff != "" {
		t.Errorf("CapacitiesInto (-want +got):\n%s", diff)
	}
}
