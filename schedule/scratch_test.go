package schedule

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// scratchCases are runs that use every buffer a Scratch lends: every
// kind at two sizes (so that the buffers grow and shrink between runs),
// with and without transfers, an egress, shares, lags and a trace.
func scratchCases(t testing.TB) []struct {
	s   *Schedule
	c   Costs
	opt Options
} {
	var out []struct {
		s   *Schedule
		c   Costs
		opt Options
	}
	for _, size := range [][2]int{{4, 12}, {2, 4}, {6, 18}} {
		for _, s := range allKinds(t, size[0], size[1]) {
			for variant := 0; variant < 3; variant++ {
				c := uniform(1, 2, 0.5)
				if s.Kind == DualPipeV {
					c.ForwardBackward = func(st, f, b int) float64 { return 2.5 + 0.1*float64(st+f+b) }
				}
				if variant > 0 {
					c.P2P = func(from, to int, d Dir) Transfer {
						x := Transfer{Latency: 0.01 * float64(from+1), Bytes: 1e6, Bandwidth: 2e6 + 1e5*float64(to), Serialize: true}
						if variant == 2 {
							x.EgressRate = 1.5e6
						}
						return x
					}
				}
				if variant == 2 {
					c.Lag = func(from int, op Op) float64 { return 0.05 * float64(op.Chunk) }
				}
				out = append(out, struct {
					s   *Schedule
					c   Costs
					opt Options
				}{s, c, Options{Trace: variant != 1}})
			}
		}
	}
	return out
}

// One Scratch reused for run after run gives every run the Result a
// fresh run gives (makespan, busy times, peaks, the whole trace), and
// once its buffers have grown a run with it allocates at most four times
// (the runner and its transfer lookups), where a fresh run allocates 17
// times.
func TestScratchRunsAsFresh(t *testing.T) {
	var sc Scratch
	for i, x := range scratchCases(t) {
		want := mustSim(t, x.s, x.c, &x.opt)
		opt := x.opt
		opt.Scratch = &sc
		got := mustSim(t, x.s, x.c, &opt)
		if len(want.Spans) == 0 && len(got.Spans) == 0 {
			got.Spans = want.Spans // nil and empty alike
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("run %d (%s, %d stages, %d micro-batches): with a scratch (-fresh +scratch):\n%s", i, x.s.Kind, x.s.Params.Stages, x.s.Params.MicroBatches, diff)
		}
	}
	x := scratchCases(t)[5] // transfers, egress, lags, trace
	opt := x.opt
	opt.Scratch = &sc
	fresh := testing.AllocsPerRun(20, func() { mustSim(t, x.s, x.c, &x.opt) })
	reused := testing.AllocsPerRun(20, func() { mustSim(t, x.s, x.c, &opt) })
	if reused > 4 || reused >= fresh {
		t.Errorf("%v allocations per run with a warm scratch (%v fresh), want at most 4", reused, fresh)
	}
	t.Logf("allocations per run: fresh %v, with a scratch %v", fresh, reused)
}
