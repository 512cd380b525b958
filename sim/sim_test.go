package sim

import (
	"fmt"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestEngineOrdersByTimeThenSchedulingOrder(t *testing.T) {
	e := New()
	var got []string
	rec := func(s string) func() { return func() { got = append(got, fmt.Sprintf("%s@%g", s, e.Now())) } }
	e.Schedule(2, rec("c"))
	e.Schedule(1, rec("a"))
	e.Schedule(1, rec("b")) // same time as a: runs after it
	e.Schedule(1, func() {
		rec("d")()
		e.After(0, rec("e"))     // same time, scheduled later: after b
		e.Schedule(-5, rec("f")) // the past is clamped to now
	})
	e.Run()
	want := []string{"a@1", "b@1", "d@1", "e@1", "f@1", "c@2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event order (-want +got):\n%s", diff)
	}
	if e.Steps() != 6 {
		t.Errorf("Steps = %d, want 6", e.Steps())
	}
}

type counter struct{ args []int }

func (c *counter) Handle(arg int) { c.args = append(c.args, arg) }

func TestEngineHandlerAndRunUntil(t *testing.T) {
	e := New()
	c := &counter{}
	for i := 5; i > 0; i-- {
		e.ScheduleHandler(float64(i), c, i)
	}
	e.RunUntil(3)
	if diff := cmp.Diff([]int{1, 2, 3}, c.args); diff != "" {
		t.Errorf("RunUntil(3) ran (-want +got):\n%s", diff)
	}
	if e.Now() != 3 || e.Pending() != 2 {
		t.Errorf("after RunUntil(3): Now=%g Pending=%d, want 3 and 2", e.Now(), e.Pending())
	}
	e.Run()
	if diff := cmp.Diff([]int{1, 2, 3, 4, 5}, c.args); diff != "" {
		t.Errorf("Run ran (-want +got):\n%s", diff)
	}
}

func TestStreamIsSerialFIFO(t *testing.T) {
	e := New()
	s := e.NewStream("compute")
	var got []string
	at := func(name string) func() { return func() { got = append(got, fmt.Sprintf("%s@%g", name, e.Now())) } }
	s.Submit(3, at("x"))
	s.Submit(2, at("y"))
	e.Schedule(1, func() { s.Submit(1, at("z")) }) // queued behind x and y
	e.Schedule(10, func() {
		s.Do(func(finish func()) { e.After(4, func() { at("dyn")(); finish() }) })
		s.Submit(1, at("after-dyn"))
	})
	e.Run()
	want := []string{"x@3", "y@5", "z@6", "dyn@14", "after-dyn@15"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stream completions (-want +got):\n%s", diff)
	}
	if s.BusyTime() != 3+2+1+4+1 {
		t.Errorf("BusyTime = %g, want 11", s.BusyTime())
	}
	if !s.Idle() {
		t.Error("stream not idle after Run")
	}
}

func TestMaxMinRates(t *testing.T) {
	tests := []struct {
		name  string
		caps  []float64
		paths [][]int
		want  []float64
	}{
		{
			// Two flows on one link share it equally.
			name: "two flows one link", caps: []float64{10},
			paths: [][]int{{0}, {0}}, want: []float64{5, 5},
		},
		{
			// A flow over two links is limited by the narrower one.
			name: "narrowest link", caps: []float64{10, 4},
			paths: [][]int{{0, 1}}, want: []float64{4},
		},
		{
			// The classic example (Bertsekas & Gallager, Data Networks,
			// sec. 6.5.2): a long flow crossing two unit links, each
			// shared with one short flow, gets 1/2 and so do the short
			// ones.
			name: "classic three flows", caps: []float64{1, 1},
			paths: [][]int{{0, 1}, {0}, {1}}, want: []float64{0.5, 0.5, 0.5},
		},
		{
			// Flow b is bottlenecked on the 4-unit link it shares with c;
			// a takes what b leaves on the 10-unit link.
			name: "bottleneck frees capacity", caps: []float64{10, 4},
			paths: [][]int{{0}, {0, 1}, {1}}, want: []float64{8, 2, 2},
		},
		{
			// Three links in a chain: link 1 (cap 3) is shared by the
			// long flow and two local ones; link 0 (cap 10) by the long
			// flow and one local flow.
			name: "chain", caps: []float64{10, 3},
			paths: [][]int{{0, 1}, {1}, {1}, {0}}, want: []float64{1, 1, 1, 9},
		},
		{
			name: "no links", caps: []float64{5},
			paths: [][]int{{}, {0}}, want: []float64{math.Inf(1), 5},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := MaxMinRates(tc.caps, tc.paths)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
				t.Errorf("rates (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNetworkRecomputesRatesOnStartAndFinish(t *testing.T) {
	e := New()
	n := NewNetwork(e)
	l := n.NewLink("wan", 10) // 10 B/s
	var got []string
	done := func(s string) func() { return func() { got = append(got, fmt.Sprintf("%s@%.6g", s, e.Now())) } }
	// A alone for 5 s at 10 B/s moves 50 B; then A and B share: each 5 B/s.
	// A has 50 B left, B 50 B: both end at 5 + 10 = 15.
	n.Start(100, []*Link{l}, done("A"))
	e.Schedule(5, func() { n.Start(50, []*Link{l}, done("B")) })
	// C starts at 15 alone with 30 B on l: ends at 18.
	e.Schedule(15, func() { n.Start(30, []*Link{l}, done("C")) })
	e.Run()
	want := []string{"A@15", "B@15", "C@18"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("completions (-want +got):\n%s", diff)
	}
	if math.Abs(l.Carried()-180) > 1e-9 {
		t.Errorf("link carried %g bytes, want 180", l.Carried())
	}
}

func TestNetworkMultiLinkPaths(t *testing.T) {
	e := New()
	n := NewNetwork(e)
	a, b := n.NewLink("a", 10), n.NewLink("b", 4)
	var got []string
	done := func(s string) func() { return func() { got = append(got, fmt.Sprintf("%s@%.6g", s, e.Now())) } }
	// Rates 8 (x on a), 2 (y on a,b), 2 (z on b).
	n.Start(80, []*Link{a}, done("x"))    // ends at 10
	n.Start(30, []*Link{a, b}, done("y")) // 20 B by t=10; then shares b with z
	n.Start(20, []*Link{b}, done("z"))    // 20 B by t=10: ends at 10
	// After t=10, y is alone: 10 B at min(10, 4) = 4 B/s: ends at 12.5.
	unlimited := n.NewLink("nvlink", 0)
	n.Start(1e9, []*Link{unlimited}, done("free"))
	e.Run()
	want := []string{"free@0", "x@10", "z@10", "y@12.5"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("completions (-want +got):\n%s", diff)
	}
}

func TestNetworkDeterministic(t *testing.T) {
	run := func() []float64 {
		e := New()
		n := NewNetwork(e)
		links := []*Link{n.NewLink("0", 7), n.NewLink("1", 3), n.NewLink("2", 11)}
		var ends []float64
		for i := 0; i < 40; i++ {
			path := []*Link{links[i%3], links[(i*7+1)%3]}
			at := float64(i%9) * 0.37
			size := float64(10 + (i*13)%17)
			e.Schedule(at, func() { n.Start(size, path, func() { ends = append(ends, e.Now()) }) })
		}
		e.Run()
		return ends
	}
	a, b := run(), run()
	if len(a) != 40 {
		t.Fatalf("%d transfers completed, want 40", len(a))
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two identical runs differ (-first +second):\n%s", diff)
	}
}

type nop struct{ e *Engine }

func (n nop) Handle(arg int) {
	if arg > 0 {
		n.e.ScheduleHandler(n.e.Now()+float64(arg%7), n, arg-1)
	}
}

// BenchmarkEngine runs 64 interleaved chains of 2,000 events each, with a
// queue of about 64 pending events, as a pipeline step has.
func BenchmarkEngine(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		e := New()
		h := nop{e}
		for i := 0; i < 64; i++ {
			e.ScheduleHandler(float64(i), h, 2000)
		}
		e.Run()
	}
}

func TestWeightedMaxMinRates(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name           string
		caps           []float64
		paths          [][]int
		weights, fcaps []float64
		want           []float64
	}{
		{
			// 3 flows of one kind and 1 of another on a 12-unit trunk:
			// every flow gets 12/4 = 3.
			name: "weights share per flow", caps: []float64{12},
			paths: [][]int{{0}, {0}}, weights: []float64{3, 1}, fcaps: []float64{inf, inf},
			want: []float64{3, 3},
		},
		{
			// A capped flow leaves the rest to the other: 10 - 2 = 8.
			name: "cap frees capacity", caps: []float64{10},
			paths: [][]int{{0}, {0}}, weights: []float64{1, 1}, fcaps: []float64{2, inf},
			want: []float64{2, 8},
		},
		{
			// Weight 4 capped at 1 per flow takes 4 of 10; the other
			// 2 flows share 6: 3 each.
			name: "weighted cap", caps: []float64{10},
			paths: [][]int{{0}, {0}}, weights: []float64{4, 2}, fcaps: []float64{1, inf},
			want: []float64{1, 3},
		},
		{
			name: "no link takes its cap", caps: []float64{5},
			paths: [][]int{{}, {0}}, weights: []float64{1, 1}, fcaps: []float64{7, inf},
			want: []float64{7, 5},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := WeightedMaxMinRates(tc.caps, tc.paths, tc.weights, tc.fcaps)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
				t.Errorf("rates (-want +got):\n%s", diff)
			}
		})
	}
}

// Two flows sharing a trunk each get the max-min share, in closed form: a
// pipeline send of P bytes standing for wp flows capped at c per flow and
// a data-parallel reduce of D bytes standing for wd flows share a trunk
// of capacity C. While both run each flow gets r = C/(wp+wd) when that is
// under c; the one with less time left ends first at t1 = min(P, D)/r,
// and the other then runs alone at min(c, C/w).
func TestTrunkSharedByTwoFlowsClosedForm(t *testing.T) {
	const (
		C      = 100.0 // trunk, bytes/s
		c      = 40.0  // per-flow cap
		wp, wd = 1.0, 3.0
		P, D   = 50.0, 100.0
	)
	e := New()
	n := NewNetwork(e)
	trunk := n.NewLink("trunk", C)
	var pEnd, dEnd float64
	n.StartFlow(P, []*Link{trunk}, Flow{Weight: wp, MaxRate: c}, func() { pEnd = e.Now() })
	n.StartFlow(D, []*Link{trunk}, Flow{Weight: wd, MaxRate: c}, func() { dEnd = e.Now() })
	e.Run()
	r := C / (wp + wd) // 25 < c
	t1 := P / r        // pipeline flow done at 2 s
	left := D - r*t1   // 50 bytes left per reduce flow
	t2 := t1 + left/math.Min(c, C/wd)
	if math.Abs(pEnd-t1) > 1e-9 || math.Abs(dEnd-t2) > 1e-9 {
		t.Errorf("ends: pipeline %g s (want %g), reduce %g s (want %g)", pEnd, t1, dEnd, t2)
	}
	if want := wp*P + wd*D; math.Abs(trunk.Carried()-want) > 1e-6 {
		t.Errorf("trunk carried %g bytes, want %g", trunk.Carried(), want)
	}
	// Alone, each would have ended earlier: sharing slows both.
	if alone := P / math.Min(c, C/wp); !(pEnd > alone) {
		t.Errorf("pipeline flow shared ends at %g s, not after its %g s alone", pEnd, alone)
	}
}
