package schedule

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/sim"
)

// uniform returns costs where every chunk of every stage takes f, b and w.
func uniform(f, b, w float64) Costs {
	return Costs{
		Forward:  func(int, int) float64 { return f },
		Backward: func(int, int) float64 { return b },
		Weight:   func(int, int) float64 { return w },
	}
}

func mustBuild(t testing.TB, k Kind, p Params) *Schedule {
	t.Helper()
	s, err := Build(k, p)
	if err != nil {
		t.Fatalf("Build(%s, %+v): %v", k, p, err)
	}
	return s
}

func mustSim(t testing.TB, s *Schedule, c Costs, opt *Options) *Result {
	t.Helper()
	r, err := Simulate(s, c, opt)
	if err != nil {
		t.Fatalf("Simulate(%s): %v", s.Kind, err)
	}
	return r
}

// within1pct checks got against want with a 1% relative tolerance.
func within1pct(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 0.01*math.Abs(want) {
		t.Errorf("%s = %.6f, want %.6f (within 1%%)", what, got, want)
	}
}

// idle is the idle time per stage: makespan minus the (equal) busy time.
func idle(r *Result) float64 { return r.Makespan - r.Busy[0] }

// TestBubbleGPipeAnd1F1B checks Narayanan et al. 2021 (section 2.2): with
// m micro-batches and p stages, GPipe and 1F1B idle a fraction
// (p-1)/(m+p-1) of the step, whatever the forward/backward ratio.
func TestBubbleGPipeAnd1F1B(t *testing.T) {
	for _, k := range []Kind{GPipe, OneFOneB} {
		for _, pm := range [][2]int{{2, 1}, {4, 8}, {4, 13}, {8, 32}, {16, 64}, {32, 256}} {
			p, m := pm[0], pm[1]
			t.Run(fmt.Sprintf("%s/p=%d/m=%d", k, p, m), func(t *testing.T) {
				s := mustBuild(t, k, Params{Stages: p, MicroBatches: m})
				r := mustSim(t, s, uniform(1, 1.3, 0.7), nil)
				within1pct(t, "bubble", r.Bubble, float64(p-1)/float64(m+p-1))
			})
		}
	}
}

// TestBubbleInterleaved checks Narayanan et al. 2021 (section 2.2.2):
// with v chunks per stage, each taking 1/v of the stage's time, the
// interleaved schedule idles (p-1)/(v*m+p-1).
func TestBubbleInterleaved(t *testing.T) {
	for _, c := range [][3]int{{4, 8, 2}, {4, 16, 3}, {8, 32, 4}, {16, 64, 2}, {32, 256, 4}} {
		p, m, v := c[0], c[1], c[2]
		t.Run(fmt.Sprintf("p=%d/m=%d/v=%d", p, m, v), func(t *testing.T) {
			s := mustBuild(t, Interleaved, Params{Stages: p, MicroBatches: m, Chunks: v})
			fv := float64(v)
			r := mustSim(t, s, uniform(1/fv, 1.2/fv, 0.8/fv), nil)
			within1pct(t, "bubble", r.Bubble, float64(p-1)/(fv*float64(m)+float64(p-1)))
		})
	}
}

// TestBubbleZBH1 checks Qi et al. 2023 (arXiv 2401.10241, section 3.1):
// ZB-H1 idles (p-1)(T_F+T_B-T_W) per stage against 1F1B's
// (p-1)(T_F+T_B+T_W), a third of it when T_F = T_B = T_W. The paper's
// figure assumes T_W <= T_B, as do the cases here.
func TestBubbleZBH1(t *testing.T) {
	for _, c := range []struct {
		p, m    int
		f, b, w float64
	}{
		{4, 8, 1, 1, 1}, {8, 32, 1, 1, 1}, {16, 64, 1, 1, 1}, {6, 24, 1, 1.5, 0.5}, {6, 24, 1, 1.2, 0.8},
	} {
		t.Run(fmt.Sprintf("p=%d/m=%d/F=%g/B=%g/W=%g", c.p, c.m, c.f, c.b, c.w), func(t *testing.T) {
			costs := uniform(c.f, c.b, c.w)
			zb := mustSim(t, mustBuild(t, ZBH1, Params{Stages: c.p, MicroBatches: c.m}), costs, nil)
			one := mustSim(t, mustBuild(t, OneFOneB, Params{Stages: c.p, MicroBatches: c.m}), costs, nil)
			within1pct(t, "ZB-H1 idle", idle(zb), float64(c.p-1)*(c.f+c.b-c.w))
			within1pct(t, "1F1B idle", idle(one), float64(c.p-1)*(c.f+c.b+c.w))
			if c.f == c.b && c.b == c.w {
				within1pct(t, "ZB-H1 idle / 1F1B idle", idle(zb)/idle(one), 1.0/3)
			}
		})
	}
}

// TestBubbleZBV checks that ZB-V (Qi et al. 2023, section 6) is
// "near zero" bubble when T_F = T_B = T_W: its idle time per stage is
// (p-1)*T_F of one chunk, the floor set by the last stage, which cannot
// start before the first micro-batch's forward has crossed p-1 chunks;
// so the bubble fraction falls as 1/m and is half ZB-H1's at equal m.
func TestBubbleZBV(t *testing.T) {
	for _, pm := range [][2]int{{4, 8}, {8, 32}, {16, 64}, {4, 5}} {
		p, m := pm[0], pm[1]
		t.Run(fmt.Sprintf("p=%d/m=%d", p, m), func(t *testing.T) {
			r := mustSim(t, mustBuild(t, ZBV, Params{Stages: p, MicroBatches: m}), uniform(0.5, 0.5, 0.5), nil)
			if m >= 2*p-1 {
				within1pct(t, "ZB-V idle", idle(r), float64(p-1)*0.5)
			}
			zb := mustSim(t, mustBuild(t, ZBH1, Params{Stages: p, MicroBatches: m}), uniform(1, 1, 1), nil)
			if r.Bubble >= zb.Bubble {
				t.Errorf("ZB-V bubble %.4f not below ZB-H1's %.4f", r.Bubble, zb.Bubble)
			}
		})
	}
}

// TestBubbleDualPipeV checks DeepSeek-V3 (arXiv 2412.19437, Table 2, and
// the DualPipe repository's table, where DualPipeV on PP/2 devices has the
// same bubble): (PP/2-1)(F&B + B - 3W) per device, with PP = 2p chunks,
// B the full backward and F&B a fused forward-backward pair. When
// F = B = W per chunk the simulated idle time equals it; otherwise the
// list schedule can only start work earlier than the figure it comes
// from, so the formula is an upper bound.
func TestBubbleDualPipeV(t *testing.T) {
	for _, c := range []struct {
		p, m    int
		f, b, w float64
		fb      float64 // fused F&B time; 0 means F + B + W
		exact   bool
	}{
		{4, 8, 1, 1, 1, 0, true},
		{8, 32, 1, 1, 1, 0, true},
		{8, 32, 1, 1, 1, 2.5, true},
		{16, 64, 1, 1, 1, 0, true},
		{6, 24, 1, 1.5, 0.5, 0, false},
		{6, 24, 1, 1.2, 0.8, 2.8, false},
	} {
		t.Run(fmt.Sprintf("p=%d/m=%d/F=%g/B=%g/W=%g/FB=%g", c.p, c.m, c.f, c.b, c.w, c.fb), func(t *testing.T) {
			costs := uniform(c.f, c.b, c.w)
			fb := c.f + c.b + c.w
			if c.fb > 0 {
				fb = c.fb
				costs.ForwardBackward = func(int, int, int) float64 { return c.fb }
			}
			s := mustBuild(t, DualPipeV, Params{Stages: c.p, MicroBatches: c.m})
			r := mustSim(t, s, costs, nil)
			// Busy time differs per stage when F&B is cheaper than its
			// parts; the bubble is the worst stage's idle time.
			worst := 0.0
			for _, b := range r.Busy {
				worst = max(worst, r.Makespan-b)
			}
			want := float64(c.p-1) * (fb + (c.b + c.w) - 3*c.w)
			if c.exact {
				within1pct(t, "DualPipeV idle", worst, want)
			} else if worst > want*1.01 {
				t.Errorf("DualPipeV idle %.4f above the formula's %.4f", worst, want)
			}
		})
	}
}

// TestPeakInFlight checks the activations each stage holds.
func TestPeakInFlight(t *testing.T) {
	p, m := 8, 32
	check := func(t *testing.T, s *Schedule, want func(st int) int, held func(st int) int) {
		t.Helper()
		var got, wantv, gotHeld, wantHeld []int
		for st := 0; st < p; st++ {
			got = append(got, s.PeakInFlight(st))
			wantv = append(wantv, want(st))
			gotHeld = append(gotHeld, s.PeakHeld(st))
			wantHeld = append(wantHeld, held(st))
		}
		if diff := cmp.Diff(wantv, got); diff != "" {
			t.Errorf("PeakInFlight (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(wantHeld, gotHeld); diff != "" {
			t.Errorf("PeakHeld (-want +got):\n%s", diff)
		}
	}
	t.Run("gpipe holds all m", func(t *testing.T) {
		same := func(int) int { return m }
		check(t, mustBuild(t, GPipe, Params{Stages: p, MicroBatches: m}), same, same)
	})
	t.Run("1f1b stage s holds p-s", func(t *testing.T) {
		// Narayanan et al. 2021: 1F1B caps in-flight micro-batches at p.
		f := func(st int) int { return p - st }
		check(t, mustBuild(t, OneFOneB, Params{Stages: p, MicroBatches: m}), f, f)
	})
	t.Run("1f1b with m < p", func(t *testing.T) {
		s := mustBuild(t, OneFOneB, Params{Stages: p, MicroBatches: 3})
		if got := s.PeakInFlight(0); got != 3 {
			t.Errorf("PeakInFlight(0) = %d, want m = 3", got)
		}
	})
	t.Run("zb-h1 holds p everywhere until W", func(t *testing.T) {
		// Qi et al. 2023: ZB-H1 keeps 1F1B's in-flight count (p-s before
		// B) and peak memory (p until W) on every stage.
		check(t, mustBuild(t, ZBH1, Params{Stages: p, MicroBatches: m}),
			func(st int) int { return p - st }, func(int) int { return p })
	})
	t.Run("interleaved", func(t *testing.T) {
		// Megatron-LM: stage s warms up with 2(p-s-1)+(v-1)N forwards and
		// runs one more before its first backward. In units of a stage's
		// layers, stage 0 then holds p(1+(p-1)/(pv)) (Narayanan et al.
		// 2021, section 2.2.2: the interleaved schedule's extra memory).
		for _, c := range [][2]int{{2, 8}, {4, 8}, {4, 12}} {
			v, n := c[0], c[1]
			s := mustBuild(t, Interleaved, Params{Stages: p, MicroBatches: m, Chunks: v, Consecutive: n})
			f := func(st int) int { return 2*(p-st-1) + (v-1)*n + 1 }
			check(t, s, f, f)
			if n == p {
				units := float64(s.PeakInFlight(0)) / float64(v)
				within1pct(t, "stage 0 peak in stage units", units, float64(p)*(1+float64(p-1)/float64(p*v)))
			}
		}
	})
	t.Run("zb-v holds 2p chunks, 1F1B's memory", func(t *testing.T) {
		two := func(int) int { return 2 * p }
		check(t, mustBuild(t, ZBV, Params{Stages: p, MicroBatches: m}), two, two)
	})
	t.Run("dualpipev holds PP+1 chunks", func(t *testing.T) {
		// DualPipe repository table: activation per device PP+1, with
		// PP = 2p chunks for DualPipeV.
		f := func(int) int { return 2*p + 1 }
		check(t, mustBuild(t, DualPipeV, Params{Stages: p, MicroBatches: m}), f, f)
	})
	t.Run("latency-aware adds its extra warm-up, capped", func(t *testing.T) {
		s := mustBuild(t, LatencyAware, Params{Stages: p, MicroBatches: m, ExtraWarmup: 3, SlowBoundaries: []int{3}, MaxInFlight: 9})
		f := func(st int) int {
			if st <= 3 {
				return min(p-st+3, 9)
			}
			return p - st
		}
		check(t, s, f, f)
	})
}

// TestLatencyAwareHidesSlowBoundary puts a cross-building boundary with a
// one-way latency of twice a micro-batch's forward+backward in the middle
// of the pipeline. Plain 1F1B pays the round trip in every steady-state
// cycle of the stages upstream (each holds too few micro-batches to cover
// it); the latency-aware warm-up hides it, leaving only the fill and drain
// to cross it once each way. With vp=2 each micro-batch crosses the
// boundary twice each way and the interleaved order also waits on it
// between chunks, so the deeper warm-up helps but cannot hide it all
// (raising Consecutive helps further; the explorer searches both).
func TestLatencyAwareHidesSlowBoundary(t *testing.T) {
	const f, b = 1.0, 2.0
	const oneWay = 2 * (f + b)
	for _, v := range []int{1, 2} {
		t.Run(fmt.Sprintf("vp=%d", v), func(t *testing.T) {
			p, m := 8, 32
			costs := uniform(f/float64(v), b/float64(v), 0)
			costs.P2P = func(from, to int, d Dir) Transfer {
				if min(from, to) == 3 && max(from, to) == 4 {
					return Transfer{Latency: oneWay}
				}
				return Transfer{}
			}
			plainKind := OneFOneB
			if v > 1 {
				plainKind = Interleaved
			}
			plain := mustSim(t, mustBuild(t, plainKind, Params{Stages: p, MicroBatches: m, Chunks: v}), costs, nil)
			extra := ExtraWarmupFor(oneWay, f/float64(v), b/float64(v), v)
			aware := mustSim(t, mustBuild(t, LatencyAware, Params{Stages: p, MicroBatches: m, Chunks: v, ExtraWarmup: extra, SlowBoundaries: []int{3}}), costs, nil)
			if aware.Makespan >= 0.9*plain.Makespan {
				t.Errorf("latency-aware makespan %.2f not 10%% below plain %.2f", aware.Makespan, plain.Makespan)
			}
			if v == 1 {
				// The free-communication makespan plus one crossing on
				// the way in and one on the way out.
				ideal := float64(m+p-1)*(f+b) + 2*oneWay
				within1pct(t, "latency-aware makespan", aware.Makespan, ideal)
			}
			t.Logf("plain %.1f, latency-aware (extra %d) %.1f", plain.Makespan, extra, aware.Makespan)
		})
	}
}

func TestExtraWarmupFor(t *testing.T) {
	tests := []struct {
		oneWay, f, b float64
		chunks       int
		want         int
	}{
		{0, 1, 2, 1, 0}, {3, 1, 2, 1, 2}, {3.1, 1, 2, 1, 3}, {1, 1, 2, 1, 1}, {1, 0, 0, 1, 0},
		{3, 0.5, 1, 2, 8}, {3, 0.5, 1, 0, 4},
	}
	for _, tc := range tests {
		if got := ExtraWarmupFor(tc.oneWay, tc.f, tc.b, tc.chunks); got != tc.want {
			t.Errorf("ExtraWarmupFor(%g, %g, %g, %d) = %d, want %d", tc.oneWay, tc.f, tc.b, tc.chunks, got, tc.want)
		}
	}
}

// allKinds builds every kind with parameters it accepts.
func allKinds(t testing.TB, p, m int) []*Schedule {
	var out []*Schedule
	for _, k := range Kinds() {
		prm := Params{Stages: p, MicroBatches: m}
		if k == ZBV && p < 2 {
			continue // a V needs two stages
		}
		switch k {
		case DualPipeV:
			prm.MicroBatches = max(m, 2*p)
		case Interleaved:
			prm.Chunks = 2
		case LatencyAware:
			prm.Chunks, prm.ExtraWarmup = 2, 2
		}
		out = append(out, mustBuild(t, k, prm))
	}
	return out
}

// TestEveryOpExactlyOnce checks that each stage runs each of its
// (micro-batch, chunk) forwards and backwards once, and W once exactly
// when the backward is split.
func TestEveryOpExactlyOnce(t *testing.T) {
	for _, pm := range [][2]int{{1, 1}, {2, 4}, {4, 8}, {5, 15}, {8, 16}} {
		p, m := pm[0], pm[1]
		for _, s := range allKinds(t, p, m) {
			t.Run(fmt.Sprintf("%s/p=%d/m=%d", s.Kind, p, m), func(t *testing.T) {
				for st, ops := range s.Stages {
					seen := map[Op]int{}
					for _, op := range ops {
						op.Fused = false
						seen[op]++
					}
					for c := 0; c < s.NumChunks(); c++ {
						for j := 0; j < m; j++ {
							if n := seen[Op{Type: Forward, MicroBatch: j, Chunk: c}]; n != 1 {
								t.Errorf("stage %d runs F%d.%d %d times", st, j, c, n)
							}
							full := seen[Op{Type: FullBackward, MicroBatch: j, Chunk: c}]
							in := seen[Op{Type: InputBackward, MicroBatch: j, Chunk: c}]
							w := seen[Op{Type: WeightBackward, MicroBatch: j, Chunk: c}]
							if full+in != 1 || w != in {
								t.Errorf("stage %d: micro-batch %d chunk %d has BW x%d, B x%d, W x%d", st, j, c, full, in, w)
							}
						}
					}
				}
			})
		}
	}
}

func TestPlacementAndDeps(t *testing.T) {
	il := mustBuild(t, Interleaved, Params{Stages: 4, MicroBatches: 8, Chunks: 2})
	if got := il.VirtualStage(1, 1); got != 5 {
		t.Errorf("interleaved VirtualStage(1, 1) = %d, want 1*4+1 = 5", got)
	}
	v := mustBuild(t, ZBV, Params{Stages: 4, MicroBatches: 8})
	if got := v.VirtualStage(1, 1); got != 6 {
		t.Errorf("zb-v VirtualStage(1, 1) = %d, want 2*4-1-1 = 6", got)
	}
	if st, c := v.Placement(7); st != 0 || c != 1 {
		t.Errorf("zb-v Placement(7) = (%d, %d), want the V's end on stage 0 chunk 1", st, c)
	}
	tests := []struct {
		s     *Schedule
		stage int
		op    Op
		want  []Dep
	}{
		{il, 0, Op{Type: Forward, MicroBatch: 3, Chunk: 1}, []Dep{{3, Op{Type: Forward, MicroBatch: 3, Chunk: 0}}}},
		{il, 0, Op{Type: Forward, MicroBatch: 3, Chunk: 0}, nil},
		{il, 3, Op{Type: FullBackward, MicroBatch: 2, Chunk: 0}, []Dep{
			{3, Op{Type: Forward, MicroBatch: 2, Chunk: 0}},
			{0, Op{Type: FullBackward, MicroBatch: 2, Chunk: 1}},
		}},
		{il, 3, Op{Type: FullBackward, MicroBatch: 2, Chunk: 1}, []Dep{{3, Op{Type: Forward, MicroBatch: 2, Chunk: 1}}}},
		{v, 3, Op{Type: Forward, MicroBatch: 0, Chunk: 1}, []Dep{{3, Op{Type: Forward, MicroBatch: 0, Chunk: 0}}}},
		{v, 2, Op{Type: InputBackward, MicroBatch: 5, Chunk: 1}, []Dep{
			{2, Op{Type: Forward, MicroBatch: 5, Chunk: 1}},
			{1, Op{Type: InputBackward, MicroBatch: 5, Chunk: 1}},
		}},
		{v, 2, Op{Type: WeightBackward, MicroBatch: 5, Chunk: 0}, []Dep{{2, Op{Type: InputBackward, MicroBatch: 5, Chunk: 0}}}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, tc.s.Deps(tc.stage, tc.op)); diff != "" {
			t.Errorf("%s Deps(%d, %v) (-want +got):\n%s", tc.s.Kind, tc.stage, tc.op, diff)
		}
	}
}

func TestWorkListsTransfers(t *testing.T) {
	p, m, v := 4, 8, 2
	s := mustBuild(t, Interleaved, Params{Stages: p, MicroBatches: m, Chunks: v})
	for st := 0; st < p; st++ {
		count := map[OpType]int{}
		for _, w := range s.Work(st) {
			count[w.Kind]++
			if (w.Kind == Send || w.Kind == Recv) && (w.Peer < 0 || w.Peer == st) {
				t.Errorf("stage %d: %v with peer %d", st, w.Kind, w.Peer)
			}
		}
		// Every forward and backward sends to a neighbour except at the
		// ends of the model: virtual 0 (stage 0) sends no gradient and the
		// last virtual stage (stage p-1) no activations.
		want := 2 * v * m
		if st == 0 || st == p-1 {
			want -= m
		}
		if count[Send] != want || count[Recv] != want {
			t.Errorf("stage %d: %d sends and %d recvs, want %d each", st, count[Send], count[Recv], want)
		}
	}
	// In a V, the turn at the last stage stays local.
	vs := mustBuild(t, ZBV, Params{Stages: p, MicroBatches: m})
	for _, w := range vs.Work(p - 1) {
		if w.Kind == Send && w.Op.Type == Forward && w.Op.Chunk == 0 {
			t.Fatalf("zb-v last stage sends its chunk-0 activations to stage %d; the V turns locally", w.Peer)
		}
	}
}

// TestEventModeMatchesFastMode runs every kind both ways with fixed
// transfer times: the event engine must reproduce the direct computation.
func TestEventModeMatchesFastMode(t *testing.T) {
	costs := uniform(1, 2, 0.5)
	costs.P2P = func(from, to int, d Dir) Transfer {
		return Transfer{Latency: 0.1 * float64(from+1), Bytes: 1e6, Bandwidth: 1e7}
	}
	for _, s := range allKinds(t, 6, 18) {
		t.Run(string(s.Kind), func(t *testing.T) {
			fast := mustSim(t, s, costs, &Options{Trace: true})
			var ends []float64
			ev := mustSim(t, s, costs, &Options{Trace: true, OnOp: func(sp Span) { ends = append(ends, sp.End) }})
			if math.Abs(fast.Makespan-ev.Makespan) > 1e-9*fast.Makespan {
				t.Errorf("makespan fast %.9g, event %.9g", fast.Makespan, ev.Makespan)
			}
			if len(fast.Spans) != len(ev.Spans) {
				t.Errorf("span count fast %d, event %d", len(fast.Spans), len(ev.Spans))
			}
			for i := 1; i < len(ends); i++ {
				if ends[i] < ends[i-1] {
					t.Fatalf("OnOp called out of time order: %g after %g", ends[i], ends[i-1])
				}
			}
		})
	}
}

// TestSharedLinkSlowsTransfers routes the gradients and activations of
// two stage boundaries over one shared link: with ample capacity the
// result equals fixed-time transfers; with a narrow link the step slows.
func TestSharedLinkSlowsTransfers(t *testing.T) {
	p, m := 4, 16
	s := mustBuild(t, OneFOneB, Params{Stages: p, MicroBatches: m})
	run := func(capacity float64, shared bool) float64 {
		net := sim.NewNetwork(sim.New())
		wan := net.NewLink("wan", capacity)
		costs := uniform(1, 2, 0)
		costs.P2P = func(from, to int, d Dir) Transfer {
			x := Transfer{Latency: 0.05, Bytes: 1000, Bandwidth: capacity}
			if shared {
				x.Links = []*sim.Link{wan}
			}
			return x
		}
		opt := &Options{}
		if shared {
			opt.Network = net
		}
		return mustSim(t, s, costs, opt).Makespan
	}
	wide := run(1e9, false)
	if got := run(1e9, true); math.Abs(got-wide) > 1e-9 {
		t.Errorf("uncontended shared link: makespan %.9g, want %.9g as with fixed times", got, wide)
	}
	// 1000 B at 500 B/s is 2 s alone: transfers are now on the critical
	// path, and sharing the link makes them slower still.
	alone := run(500, false)
	shared := run(500, true)
	if !(alone > wide) || !(shared > alone) {
		t.Errorf("makespans: wide link %.3f, narrow link alone %.3f, narrow shared %.3f; want strictly increasing", wide, alone, shared)
	}
}

func TestDeterministic(t *testing.T) {
	costs := uniform(1, 2, 0.7)
	costs.P2P = func(from, to int, d Dir) Transfer { return Transfer{Latency: 0.3, Bytes: 10, Bandwidth: 100} }
	for _, s := range allKinds(t, 5, 15) {
		a := mustSim(t, s, costs, &Options{Trace: true})
		b := mustSim(t, s, costs, &Options{Trace: true})
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("%s: two runs differ (-first +second):\n%s", s.Kind, diff)
		}
		s2 := mustBuild(t, s.Kind, s.Params)
		if diff := cmp.Diff(s.Stages, s2.Stages); diff != "" {
			t.Errorf("%s: two builds differ:\n%s", s.Kind, diff)
		}
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		kind  Kind
		p     Params
		field string
		say   string
	}{
		{"pipedream", Params{Stages: 4, MicroBatches: 8}, "schedule", "unknown schedule"},
		{GPipe, Params{Stages: 4, MicroBatches: 8, Chunks: 2}, "parallel.vp", "vp=2"},
		{OneFOneB, Params{Stages: 4, MicroBatches: 8, Chunks: 4}, "parallel.vp", "interleaved-1f1b"},
		{ZBH1, Params{Stages: 4, MicroBatches: 8, Chunks: 2}, "parallel.vp", "one model chunk"},
		{Interleaved, Params{Stages: 4, MicroBatches: 8, Chunks: 1}, "parallel.vp", "vp >= 2"},
		{Interleaved, Params{Stages: 8, MicroBatches: 4, Chunks: 2}, "training.global_batch", "at least pp=8"},
		{Interleaved, Params{Stages: 4, MicroBatches: 8, Chunks: 2, Consecutive: 2}, "schedule", "deadlocks"},
		{Interleaved, Params{Stages: 4, MicroBatches: 8, Chunks: 2, Consecutive: 9}, "schedule", "at most 8"},
		{ZBV, Params{Stages: 4, MicroBatches: 8, Chunks: 3}, "parallel.vp", "exactly 2"},
		{DualPipeV, Params{Stages: 4, MicroBatches: 7}, "training.global_batch", "at least 8"},
		{OneFOneB, Params{Stages: 0, MicroBatches: 8}, "parallel.pp", "at least 1"},
		{OneFOneB, Params{Stages: 4, MicroBatches: 0}, "training.global_batch", "at least 1"},
		{LatencyAware, Params{Stages: 4, MicroBatches: 8, SlowBoundaries: []int{3}}, "schedule", "boundaries are 0..2"},
		{LatencyAware, Params{Stages: 4, MicroBatches: 8, ExtraWarmup: -1}, "schedule", "negative"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%+v", tc.kind, tc.p), func(t *testing.T) {
			_, err := Build(tc.kind, tc.p)
			if err == nil {
				t.Fatal("Build succeeded, want an error")
			}
			if !errors.Is(err, fault.ErrBadInput) {
				t.Errorf("error %q does not carry exit code 2", err)
			}
			if !strings.HasPrefix(err.Error(), tc.field+":") || !strings.Contains(err.Error(), tc.say) {
				t.Errorf("error %q, want field %q and %q in it", err, tc.field, tc.say)
			}
		})
	}
}

func TestParseKindAliases(t *testing.T) {
	for in, want := range map[string]Kind{
		"GPipe": GPipe, " 1f1b ": OneFOneB, "interleaved-1f1b": Interleaved, "zb-h1": ZBH1,
		"zb-v": ZBV, "dualpipev": DualPipeV, "dualpipe": DualPipeV, "latency-aware": LatencyAware,
	} {
		got, err := ParseKind(in)
		if err != nil || got != want {
			t.Errorf("ParseKind(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := ParseKind("zb-h2")
	if err == nil || !strings.Contains(err.Error(), "zb-h1") {
		t.Errorf("ParseKind(zb-h2) error %v, want a suggestion of zb-h1", err)
	}
}

func TestDeadlockIsReported(t *testing.T) {
	s := mustBuild(t, OneFOneB, Params{Stages: 2, MicroBatches: 2})
	// Stage 1 wants micro-batch 1 before micro-batch 0, and stage 0 sends
	// micro-batch 1 only after micro-batch 0's backward returns.
	s.Stages[0] = []Op{{Type: Forward, MicroBatch: 0}, {Type: FullBackward, MicroBatch: 0}, {Type: Forward, MicroBatch: 1}, {Type: FullBackward, MicroBatch: 1}}
	s.Stages[1] = []Op{{Type: Forward, MicroBatch: 1}, {Type: FullBackward, MicroBatch: 1}, {Type: Forward, MicroBatch: 0}, {Type: FullBackward, MicroBatch: 0}}
	for _, opt := range []*Options{nil, {OnOp: func(Span) {}}} {
		_, err := Simulate(s, uniform(1, 1, 0), opt)
		var dl *DeadlockError
		if !errors.As(err, &dl) || len(dl.Stuck) != 2 {
			t.Errorf("Simulate error %v, want a DeadlockError naming both stages", err)
		}
	}
}

func TestBadCosts(t *testing.T) {
	s := mustBuild(t, OneFOneB, Params{Stages: 2, MicroBatches: 2})
	for _, c := range []Costs{
		uniform(-1, 1, 0), uniform(1, math.NaN(), 0), {Forward: uniform(1, 1, 1).Forward},
		{Forward: uniform(1, 1, 1).Forward, Backward: uniform(1, 1, 1).Backward,
			P2P: func(int, int, Dir) Transfer { return Transfer{Latency: -1} }},
	} {
		if _, err := Simulate(s, c, nil); err == nil {
			t.Errorf("Simulate with bad costs succeeded")
		}
	}
}

// Costs.Lag delays the arrival of the messages it names, where they
// pass an egress (Transfer.EgressRate), and holds no queue: two stages,
// two micro-batches, GPipe, 1 s ops, 0.5 s messages. Without it stage 0
// runs F0 0-1, F1 1-2; the activations arrive at 1.5 and 2.5; stage 1
// runs its forwards 1.5-3.5 and its backwards 3.5-5.5; the gradients
// arrive at 5 and 6, and stage 0's backwards end at 7. With F0's
// activations a second late (2.5) every op of stage 1 and the step move
// one second, while F1's activations still arrive at 2.5.
func TestLagDelaysItsMessages(t *testing.T) {
	s, err := Build(GPipe, Params{Stages: 2, MicroBatches: 2, Chunks: 1})
	if err != nil {
		t.Fatal(err)
	}
	one := func(int, int) float64 { return 1 }
	lag := func(from int, op Op) float64 {
		if op.Type == Forward && op.MicroBatch == 0 {
			return 1
		}
		return 0
	}
	x := Transfer{Bytes: 2, Bandwidth: 4, Serialize: true}
	type result struct{ Makespan, F0, F1 float64 }
	tests := []struct {
		name   string
		egress float64
		lag    func(int, Op) float64
		want   result
	}{
		{"none", 4, nil, result{7, 1.5, 2.5}},
		{"first forward a second late", 4, lag, result{8, 2.5, 2.5}},
		{"no egress, no lag", 0, lag, result{7, 1.5, 2.5}},
	}
	for _, tt := range tests {
		x.EgressRate = tt.egress
		c := Costs{Forward: one, Backward: one, P2P: func(int, int, Dir) Transfer { return x }, Lag: tt.lag}
		r, err := Simulate(s, c, &Options{Trace: true})
		if err != nil {
			t.Fatal(err)
		}
		got := result{Makespan: r.Makespan}
		for _, sp := range r.Spans {
			if sp.Stream == SendActivations && sp.Op.MicroBatch == 0 {
				got.F0 = sp.End
			} else if sp.Stream == SendActivations {
				got.F1 = sp.End
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: makespan and activations' arrivals (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestCostsOpTime checks the op times Costs gives, as Simulate runs them:
// F, B and W of their chunk, BW as B+W, no W where Weight is nil, and a
// fused pair at ForwardBackward or the sum of its ops.
func TestCostsOpTime(t *testing.T) {
	c := Costs{
		Forward:  func(st, ch int) float64 { return 1 + float64(10*st+ch) },
		Backward: func(st, ch int) float64 { return 100 + float64(10*st+ch) },
		Weight:   func(st, ch int) float64 { return 1000 + float64(10*st+ch) },
	}
	noW := c
	noW.Weight = nil
	fused := c
	fused.ForwardBackward = func(st, fc, bc int) float64 { return 5000 + float64(100*st+10*fc+bc) }
	f, b := Op{Type: Forward, Chunk: 1}, Op{Type: FullBackward, Chunk: 0}
	got := []float64{
		c.OpTime(2, f), c.OpTime(2, Op{Type: InputBackward, Chunk: 1}), c.OpTime(2, Op{Type: WeightBackward, Chunk: 1}), c.OpTime(2, b),
		noW.OpTime(2, b), noW.OpTime(2, Op{Type: WeightBackward}),
		c.FusedTime(2, f, b), fused.FusedTime(2, f, b),
	}
	want := []float64{22, 121, 1021, 100 + 20 + 1000 + 20, 120, 0, 22 + 1140, 5210}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("op times (-want +got):\n%s", diff)
	}
}
