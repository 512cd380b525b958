package schedule

import (
	"fmt"
	"math"
	"testing"
)

// factsGrid yields parameters for every kind over small pipelines, with
// and without the latency-aware extras, valid or not.
func factsGrid(fn func(k Kind, p Params)) {
	for _, k := range Kinds() {
		for pp := 1; pp <= 6; pp++ {
			for v := 0; v <= 3; v++ {
				for m := 1; m <= 14; m++ {
					for n := 0; n <= m; n += max(1, pp) {
						fn(k, Params{Stages: pp, MicroBatches: m, Chunks: v, Consecutive: n})
						if k == LatencyAware && pp > 1 {
							fn(k, Params{Stages: pp, MicroBatches: m, Chunks: v, Consecutive: n, ExtraWarmup: 2})
							fn(k, Params{Stages: pp, MicroBatches: m, Chunks: v, Consecutive: n, ExtraWarmup: 3, SlowBoundaries: []int{pp - 2}})
							fn(k, Params{Stages: pp, MicroBatches: m, Chunks: v, Consecutive: n, ExtraWarmup: 5, MaxInFlight: pp + 2})
						}
					}
				}
			}
		}
	}
}

// TestCheckAgreesWithBuild checks that Check refuses every parameter set
// Build refuses for its parameters and accepts every one Build builds, so
// the job resolver and the Explorer, which call Check, accept exactly what
// the event engine can run. The one difference allowed is a deadlock that
// only building finds; the grid must contain none.
func TestCheckAgreesWithBuild(t *testing.T) {
	n, stricter := 0, 0
	factsGrid(func(k Kind, p Params) {
		_, cerr := k.Check(p)
		_, berr := Build(k, p)
		switch {
		case cerr == nil && berr != nil:
			t.Errorf("%s %+v: Check accepts what Build refuses: %v", k, p, berr)
		case cerr != nil && berr == nil:
			// Check may refuse more than Build only for the short last
			// group of an interleaved order, which deadlocks in some
			// shapes and not others.
			if q := p.Consecutive; q == 0 || p.MicroBatches%q == 0 || p.MicroBatches%q >= p.Stages {
				t.Errorf("%s %+v: Check refuses what Build builds: %v", k, p, cerr)
			}
			stricter++
		}
		if cerr == nil {
			n++
		}
	})
	t.Logf("%d valid parameter sets; %d short-last-group sets refused that happen to run", n, stricter)
	if n < 500 {
		t.Fatalf("only %d valid parameter sets in the grid; the test checks too little", n)
	}
}

// TestPeakHeldClosedForm checks Kind.PeakHeld, which both step engines use
// for activation memory, against the built schedule's own count.
func TestPeakHeldClosedForm(t *testing.T) {
	factsGrid(func(k Kind, p Params) {
		q, err := k.Check(p)
		if err != nil {
			return
		}
		s, err := Build(k, p)
		if err != nil {
			t.Fatalf("%s %+v: %v", k, p, err)
		}
		built := 0
		for st := 0; st < q.Stages; st++ {
			built = max(built, s.PeakHeld(st))
		}
		if got := k.PeakHeld(q); got != built {
			t.Errorf("%s %+v: PeakHeld = %d, built schedule holds %d", k, q, got, built)
		}
	})
}

// TestStageOfMatchesPlacement checks the closed-form placement against
// the built schedule's.
func TestStageOfMatchesPlacement(t *testing.T) {
	for _, k := range Kinds() {
		for pp := 2; pp <= 5; pp++ {
			p, err := k.Check(Params{Stages: pp, MicroBatches: 4 * pp, Chunks: k.DefaultChunks() + map[bool]int{true: 1}[k == Interleaved]})
			if err != nil {
				t.Fatal(err)
			}
			s, err := Build(k, p)
			if err != nil {
				t.Fatal(err)
			}
			for v := 0; v < s.NumVirtual(); v++ {
				st, _ := s.Placement(v)
				if got := k.StageOf(pp, p.Chunks, v); got != st {
					t.Errorf("%s pp%d: StageOf(%d) = %d, Placement says %d", k, pp, v, got, st)
				}
			}
			if k.SplitsBackward() != s.SplitBackward() {
				t.Errorf("%s: SplitsBackward = %v, built schedule splits: %v", k, k.SplitsBackward(), s.SplitBackward())
			}
		}
	}
}

func ExampleKind_InFlight() {
	p, _ := Interleaved.Check(Params{Stages: 4, MicroBatches: 16, Chunks: 2})
	fmt.Println(Interleaved.PeakHeld(p), Interleaved.InFlight(p))
	// Output: 11 5.5
}

// TestSerializedSendsQueue checks Transfer.Serialize: a stage's messages to
// one peer queue on its link (GPipe, whose forwards run back to back), so m
// messages of x seconds each keep that
// link busy m*x, while unserialized messages only delay each by x. Compute
// is short, so the link sets the pace: with serialization the step is at
// least m*x; without, about x plus the compute.
func TestSerializedSendsQueue(t *testing.T) {
	const m, f, x = 8, 0.001, 0.010
	s := mustBuild(t, GPipe, Params{Stages: 2, MicroBatches: m})
	run := func(serialize bool, opt *Options) float64 {
		c := uniform(f, f, 0)
		c.P2P = func(int, int, Dir) Transfer {
			return Transfer{Latency: 0.002, Bytes: x * 1e9, Bandwidth: 1e9, Serialize: serialize}
		}
		return mustSim(t, s, c, opt).Makespan
	}
	free, queued := run(false, nil), run(true, nil)
	if !(queued >= m*x) || !(free < 3*x+2*m*f+0.01) {
		t.Errorf("makespan %.4f s serialized (want >= %.3f), %.4f s free", queued, m*x, free)
	}
	// The event mode (an OnOp hook) queues the same way.
	if ev := run(true, &Options{OnOp: func(Span) {}}); math.Abs(ev-queued) > 1e-12 {
		t.Errorf("event mode %.6f s, fast mode %.6f s", ev, queued)
	}
}

// TestVSendsShareTheirLink checks that a stage's activations and gradients
// to one peer queue on one link: in ZB-V with two stages, stage 0 sends
// its first chunk's activations and its second chunk's input gradients to
// stage 1, 2m messages of x seconds, so the step is at least 2m*x (two
// queues, one per kind of message, would let it end near m*x).
func TestVSendsShareTheirLink(t *testing.T) {
	const m, f, x = 8, 0.0001, 0.010
	s := mustBuild(t, ZBV, Params{Stages: 2, MicroBatches: m})
	c := uniform(f, f, f)
	c.P2P = func(int, int, Dir) Transfer {
		return Transfer{Bytes: x * 1e9, Bandwidth: 1e9, Serialize: true}
	}
	for _, opt := range []*Options{nil, {OnOp: func(Span) {}}} {
		if got := mustSim(t, s, c, opt).Makespan; !(got >= 2*m*x) {
			t.Errorf("makespan %.4f s, want at least %.3f s (2m messages on one link)", got, 2*m*x)
		}
	}
}
