package schedule

import (
	"math"
	"testing"
)

// ZB-V's closed-form bubble equals the built schedule's idle time, with
// equal stages, for pipelines of 2 to 8 stages, 1 to 40 micro-batches and
// pass times with B >= F >= W (zbvBubble's domain).
func TestZBVBubbleMatchesBuild(t *testing.T) {
	worst := 0.0
	for _, fbw := range [][3]float64{{1, 1, 1}, {1, 1.2, 0.8}, {1, 1, 0.5}, {1, 1, 0.25}, {1, 2, 1}, {1, 2.5, 0.6}, {0.8, 1.5, 0.8}} {
		F, B, W := fbw[0], fbw[1], fbw[2]
		for _, pp := range []int{2, 3, 4, 6, 8} {
			for m := 1; m <= 40; m++ {
				p, err := ZBV.Check(Params{Stages: pp, MicroBatches: m})
				if err != nil {
					continue
				}
				got, want, makespan := builtBubble(t, ZBV, p, F, B, W)
				d := math.Abs(got-want) / makespan
				worst = max(worst, d)
				if d > 0.03 {
					t.Errorf("F %g B %g W %g pp %d m %d: built bubble %.3f, closed form %.3f (%.1f%% of the step)", F, B, W, pp, m, got, want, 100*d)
				}
			}
		}
	}
	t.Logf("worst difference %.2f%% of the step", 100*worst)
}

// builtBubble runs k's built order for p with equal stages whose two
// chunks each take half of F, B and W, and returns its idle time (got),
// k's closed-form bubble (want) and the makespan.
func builtBubble(t *testing.T, k Kind, p Params, F, B, W float64) (got, want, makespan float64) {
	t.Helper()
	s, err := Build(k, p)
	if err != nil {
		t.Fatal(err)
	}
	c := Costs{Forward: func(int, int) float64 { return F / 2 }, Backward: func(int, int) float64 { return B / 2 }, Weight: func(int, int) float64 { return W / 2 }}
	r, err := Simulate(s, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r.Makespan - float64(p.MicroBatches)*(F+B+W), k.Bubble(p, F, B, W), r.Makespan
}

// DualPipeV's closed-form bubble equals the built schedule's idle time,
// with equal stages and unfused costs, for 2 to 8 stages, 2p to 4p+1
// micro-batches and pass times with W <= B.
func TestDualPipeVBubbleMatchesBuild(t *testing.T) {
	worst := 0.0
	for _, fbw := range [][3]float64{{1, 1, 1}, {1, 1, 0.5}, {1, 0.5, 0.25}, {1, 1.25, 1}, {1, 1.5, 0.5}, {1, 2, 1}, {1, 3, 0.25}, {0.8, 1.5, 0.8}} {
		F, B, W := fbw[0], fbw[1], fbw[2]
		for pp := 2; pp <= 8; pp++ {
			for m := 2 * pp; m <= 4*pp+1; m += pp + 1 {
				p, err := DualPipeV.Check(Params{Stages: pp, MicroBatches: m})
				if err != nil {
					t.Fatal(err)
				}
				got, want, makespan := builtBubble(t, DualPipeV, p, F, B, W)
				d := math.Abs(got-want) / makespan
				worst = max(worst, d)
				if d > 1e-9 {
					t.Errorf("F %g B %g W %g pp %d m %d: built bubble %.3f, closed form %.3f", F, B, W, pp, m, got, want)
				}
			}
		}
	}
	t.Logf("worst difference %.2g%% of the step", 100*worst)
}

// FusedShare counts the fused forwards of the built DualPipeV order.
func TestFusedShareMatchesBuild(t *testing.T) {
	for pp := 2; pp <= 8; pp++ {
		for m := 2 * pp; m <= 4*pp+1; m++ {
			p, err := DualPipeV.Check(Params{Stages: pp, MicroBatches: m})
			if err != nil {
				t.Fatal(err)
			}
			s, err := Build(DualPipeV, p)
			if err != nil {
				t.Fatal(err)
			}
			for st, ops := range s.Stages {
				fused, fwd := 0, 0
				for _, o := range ops {
					if o.Type == Forward {
						fwd++
						if o.Fused {
							fused++
						}
					}
				}
				if got, want := DualPipeV.FusedShare(p, st), float64(fused)/float64(fwd); math.Abs(got-want) > 1e-12 {
					t.Errorf("pp %d m %d stage %d: FusedShare %g, built %d of %d forwards fused", pp, m, st, got, fused, fwd)
				}
			}
		}
	}
}
