package train

import (
	"github.com/scaleacross/scaleacross/schedule"
)

// pipelineCosts are the op durations of built schedule s over the virtual
// stages vs, shared by both engines: each op's compute and exposed
// TP/CP/EP communication, its blocking send (unless shared says the send
// goes over a simulated shared link, which then holds the sender), and
// its ZeRO-2/3 stalls. Zero-3 gathers each chunk's parameters before its
// every forward and backward and reduce-scatters its gradients after
// every backward, prefetched under that chunk's compute; zero-2
// reduce-scatters them after every backward (they are sharded, so they
// cannot accumulate locally), also under compute. Each chunk moves its
// own parameters (the last holds the output head), as the analytic
// engine's stages do (addDataParallelStalls). fairscale's flat root unit
// (ZeRO3FlatRoot) gathers once before the forward, keeps the parameters
// for the backward and reduce-scatters after it, nothing overlapped. P2P
// is left nil (free transfers): the caller prices the sends.
func (e *evaluator) pipelineCosts(s *schedule.Schedule, vs []virtualStage, shared func(stage, chunk int, fwd bool) bool) schedule.Costs {
	p := e.c.Parallel
	at := func(stage, chunk int) *virtualStage { return &vs[s.VirtualStage(stage, chunk)] }
	flatRoot := p.Zero == 3 && e.c.ZeRO3Gather == ZeRO3FlatRoot
	var agMB, rsMB []float64
	if p.Zero >= 2 {
		if sc := e.sc; sc != nil {
			agMB, rsMB = growClear(&sc.agMB, len(vs)), growClear(&sc.rsMB, len(vs))
		} else {
			agMB, rsMB = make([]float64, len(vs)), make([]float64, len(vs))
		}
		var lastD, lastE, rs, ag float64
		for k := range vs {
			if x := &vs[k]; k == 0 || x.denseParams != lastD || x.experts != lastE {
				// Consecutive chunks mostly hold the same parameters
				// (addDataParallelStalls): asked once for them.
				lastD, lastE = x.denseParams, x.experts
				rs, ag = e.dpTimes(lastD, lastE)
			}
			rsMB[k] = rs
			if p.Zero == 3 {
				agMB[k] = ag
			}
		}
	}
	dpOf := func(k int) (ag, rs float64) {
		if agMB == nil {
			return 0, 0
		}
		return agMB[k], rsMB[k]
	}
	blocking := e.blockingP2P()
	opSend := func(stage, chunk int, fwd bool) float64 {
		if !blocking || (shared != nil && shared(stage, chunk, fwd)) {
			return 0 // none, or a Blocking transfer over the shared links
		}
		return e.blockingSend(s, stage, chunk, fwd, blocking)
	}
	return schedule.Costs{
		Forward: func(stage, chunk int) float64 {
			v := at(stage, chunk)
			ag, _ := dpOf(s.VirtualStage(stage, chunk))
			if flatRoot {
				return v.forward() + opSend(stage, chunk, true) + ag
			}
			return v.forward() + opSend(stage, chunk, true) + max(0, ag-v.fwd)
		},
		Backward: func(stage, chunk int) float64 {
			v := at(stage, chunk)
			ag, rs := dpOf(s.VirtualStage(stage, chunk))
			dp := max(0, ag+rs-v.bwd)
			if flatRoot {
				dp = rs // the gathered parameters are kept
			}
			b := v.backward() + opSend(stage, chunk, false) + dp
			if s.SplitBackward() {
				b -= v.wgrad
			}
			return b
		},
		ForwardBackward: func(stage, fChunk, bChunk int) float64 {
			// DualPipe's fused pair: each pass's all-to-all and pipeline
			// sends hide under the other pass's compute.
			// Each pass still waits for its own ZeRO-2/3 gathers and
			// reduce-scatters, as it does unfused.
			f, b := at(stage, fChunk), at(stage, bChunk)
			comp := f.fwd + b.bwd
			agf, _ := dpOf(s.VirtualStage(stage, fChunk))
			agb, rsb := dpOf(s.VirtualStage(stage, bChunk))
			dp := max(0, agf-f.fwd) + max(0, agb+rsb-b.bwd)
			return comp + f.tpF + b.tpB + f.cpF + b.cpB + max(0, f.epF+b.epB-comp) + dp
		},
		Weight: func(stage, chunk int) float64 {
			if !s.SplitBackward() {
				return 0
			}
			return at(stage, chunk).wgrad
		},
	}
}

// builtBubble is the pipeline pass read off the order schedule.Build
// gives it rather than a closed form: the makespan of the built schedule
// run with each stage's own op costs (pipelineCosts, blocking sends
// included) and free overlapped sends; less the busiest stage's work it
// is the bubble. It holds for unequal stages and for any micro-batch
// count, where the closed forms (schedule.Kind.Bubble) assume equal
// stages and, for the zero-bubble and V schedules, the steady state. The
// overlapped sends are priced on top (overlappedSends). ok is false when
// the schedule cannot be built.
func (e *evaluator) builtBubble(sp schedule.Params, vs []virtualStage) (float64, bool) {
	_, r, ok := e.builtRun(sp, vs, false)
	if !ok {
		return 0, false
	}
	return r.Makespan, true
}

// The analytic engine's simulated passes, each with its own buffers
// (simOptions): the built order's run (builtRun), which the step may
// keep for its data-parallel tail while the other runs; and the paced
// pass (linkPacedRun).
const (
	simBuilt = iota
	simPaced
	numSims
)

// simOptions are the options for a pass of kind sim: a trace where
// asked and, where the evaluator has scratch, that kind's buffers, so
// that the Result is valid until the next pass of the kind.
func (e *evaluator) simOptions(sim int, trace bool) *schedule.Options {
	if e.sc == nil {
		if trace {
			return &schedule.Options{Trace: true}
		}
		return nil
	}
	o := &e.sc.simOpts[sim]
	*o = schedule.Options{Trace: trace, Scratch: &e.sc.sims[sim]}
	return o
}

// builtRun is the run builtBubble reads its pass off: sp's built order
// and its simulation with each stage's own op costs, the spans kept with
// trace (builtTail reads the data-parallel tail off the same run). ok is
// false when the schedule cannot be built.
func (e *evaluator) builtRun(sp schedule.Params, vs []virtualStage, trace bool) (*schedule.Schedule, *schedule.Result, bool) {
	s, err := e.builtOrder(sp)
	if err != nil || s.NumVirtual() != len(vs) {
		return nil, nil, false
	}
	r, err := schedule.Simulate(s, e.pipelineCosts(s, vs, nil), e.simOptions(simBuilt, trace))
	if err != nil {
		return nil, nil, false
	}
	return s, r, true
}

// oneFOneBPass is the pipeline pass of 1F1B's order with each stage's
// own op costs, its blocking sends in them: the makespan of the order
// Megatron-Core runs (forward_backward_pipelining_without_interleaving:
// stage i runs min(p-i-1, m) warm-up forwards, then a forward and a
// backward in turn, then the remaining backwards), each op starting when
// its stage is free and its input (the forward of the stage before, the
// backward of the stage after) has been sent. With split it is ZB-H1's
// order as schedule.Build lays it out (Qi et al. 2023, section 3.1):
// each backward a B, stage i running the W of its k-th backward after
// its (k+i)-th B and the W passes left over last. It is the max-plus
// system builtBubble simulates for these orders, without building the
// order: a simulation of the built order made the 100K-GPU campus's
// analytic evaluation three times slower. With m at most p the closed
// form's steady cycle, the busiest stage's F+B, is never reached: the
// first stage sends no gradient and the last no activation, and the last
// micro-batch's gradient comes back one hop of a stage's backward and
// send behind the one before it (pipelineGen: 1F1B m=2 over 1 Gb/s pp
// links, the closed form 10-13% above the event engine).
func oneFOneBPass(st []stageWork, m int, split bool) float64 {
	p := len(st)
	var stageBuf [64]passStage
	var endBuf [512]float64
	sg, ends := stageBuf[:], endBuf[:]
	if p > len(stageBuf) || 2*p*m > len(endBuf) {
		sg, ends = make([]passStage, p), make([]float64, 2*p*m)
	}
	return oneFOneBPassOn(sg[:p], ends[:2*p*m], st, m, split)
}

// oneFOneBPass is the package's oneFOneBPass in the scratch's buffers
// where the evaluation has a scratch.
func (e *evaluator) oneFOneBPass(st []stageWork, m int, split bool) float64 {
	if sc := e.sc; sc != nil {
		return oneFOneBPassOn(grow(&sc.passStages, len(st)), grow(&sc.passEnds, 2*len(st)*m), st, m, split)
	}
	return oneFOneBPass(st, m, split)
}

// oneFOneBPassOn is oneFOneBPass in sg (len(st) stages) and ends (2*len(st)*m
// ends), whose contents it does not read: it sets each stage and writes
// every end before it reads it.
func oneFOneBPassOn(sg []passStage, ends []float64, st []stageWork, m int, split bool) float64 {
	p := len(st)
	// Each stage's op costs and the time it is free, and the end of
	// every forward and backward, micro-batch j's on stage i at j*p+i.
	careful := false // some op costs less than nothing
	for i := range st {
		w, s := &st[i], &sg[i]
		f := w.fwd + w.tpF + w.cpF + w.epF + w.ppF + w.dpF
		var wg float64
		if split {
			wg = w.wgrad
		}
		*s = passStage{f: f, b: w.total() - f - wg, w: wg}
		careful = careful || s.f < 0 || s.b < 0 || s.w < 0
	}
	if careful {
		// Only then can an op end before 0 (an input that has not run
		// reads -1): such an input is waited for for ever, and stops
		// the stage (halt).
		for k := range ends {
			ends[k] = -1
		}
	}
	fEnd, bEnd := ends[:p*m], ends[p*m:]
	// fwd and bwd run stage i's forward and backward of micro-batch j
	// (op: once the input, which ended at dep, and the stage are done,
	// it ends at *end; an input that has not run or ended before 0 stops
	// the stage); a backward is followed by its W passes: the one of
	// backward j-i, and after the last the i left over.
	op := func(s *passStage, dep, cost float64, end *float64) bool {
		if careful && (s.halt || dep < 0) {
			s.halt = true
			return false
		}
		if s.free > dep {
			dep = s.free
		}
		t := dep + cost
		*end, s.free = t, t
		return true
	}
	weights := func(s *passStage, i, j int) {
		n := 0
		if j >= i {
			n = 1
		}
		if j == m-1 {
			n += min(i, m)
		}
		for range n {
			var d float64
			if s.free > d {
				d = s.free
			}
			s.free = d + s.w
		}
	}
	fwd := func(i, j int) {
		at := j*p + i
		var dep float64
		if i > 0 {
			dep = fEnd[at-1]
		}
		s := &sg[i]
		op(s, dep, s.f, &fEnd[at])
	}
	bwd := func(i, j int) {
		at := j*p + i
		dep := fEnd[at] // the last stage's own forward
		if i+1 < p {
			dep = bEnd[at+1]
		}
		if s := &sg[i]; op(s, dep, s.b, &bEnd[at]) && split {
			weights(s, i, j)
		}
	}
	// Stage i's order, its W passes aside: w = min(p-i-1, m) warm-up
	// forwards, then a forward and a backward in turn, then the
	// remaining backwards, 2m ops. An op's input comes from an op at no
	// later place in its stage's order (a forward's from the stage
	// before, a backward's from the stage after), so running the k-th
	// ops of all stages, the forwards down the stages and then the
	// backwards up, before any (k+1)-th runs every op after its inputs.
	// At place k the stages below s0 run a warm-up forward (k < m) or
	// one of the remaining backwards (k >= m), micro-batch k or k-m;
	// from s0 on, where w = p-1-i, they alternate: stage i runs forward
	// w+(k-w)/2 where k-w is even and backward (k-w-1)/2 where it is odd.
	for k := range 2 * m {
		s0 := max(p-1-k, 0)
		if k >= m {
			s0 = max(k-2*m+p, 0)
		} else if careful {
			for i := range s0 {
				fwd(i, k)
			}
		} else {
			// Forward k down stages 0 to s0-1, each one's input the
			// one just run (op's steps, without its checks: no op costs
			// less than nothing, so none ends before 0).
			var dep float64
			row, sgs := fEnd[k*p:k*p+s0], sg[:s0]
			for i := range row {
				s := &sgs[i]
				if s.free > dep {
					dep = s.free
				}
				dep += s.f
				row[i], s.free = dep, dep
			}
		}
		i := s0
		if (k+i+1-p)&1 != 0 {
			i++
		}
		if careful {
			for ; i < p; i += 2 {
				w := p - 1 - i
				fwd(i, w+(k-w)/2)
			}
		} else if i < p {
			// Forward j = w+(k-w)/2 = (k+w)/2 (k-w even, not negative)
			// at j*p+i: two stages on, one micro-batch back, p-2 ends
			// before (op's steps, without its checks).
			w := p - 1 - i
			for at := (w+(k-w)/2)*p + i; i < p; i, at = i+2, at-p+2 {
				var dep float64
				if i > 0 {
					dep = fEnd[at-1]
				}
				s := &sg[i]
				if s.free > dep {
					dep = s.free
				}
				dep += s.f
				fEnd[at], s.free = dep, dep
			}
		}
		i = p - 1
		if (k+i+1-p)&1 == 0 {
			i--
		}
		if careful {
			for ; i >= s0; i -= 2 {
				w := p - 1 - i
				bwd(i, (k-w-1)/2)
			}
		} else if i >= s0 {
			// Backward j = (k-w-1)/2 (k-w odd, positive) at j*p+i: two
			// stages back, one micro-batch back, p+2 ends before.
			w := p - 1 - i
			j := (k - w - 1) / 2
			for at := j*p + i; i >= s0; i, j, at = i-2, j-1, at-p-2 {
				dep := fEnd[at] // the last stage's own forward
				if i+1 < p {
					dep = bEnd[at+1]
				}
				s := &sg[i]
				if s.free > dep {
					dep = s.free
				}
				dep += s.b
				bEnd[at], s.free = dep, dep
				if split {
					weights(s, i, j)
				}
			}
		}
		if k >= m && careful {
			for i := s0 - 1; i >= 0; i-- {
				bwd(i, k-m)
			}
		} else if k >= m && s0 > 0 {
			// Backward k-m up stages s0-1 to 0, the first one's input
			// stage s0's (s0 < p), each next one's the one just run.
			j := k - m
			row, sgs := bEnd[j*p:j*p+s0+1], sg[:s0]
			dep := row[s0]
			for i := s0 - 1; i >= 0; i-- {
				s := &sgs[i]
				if s.free > dep {
					dep = s.free
				}
				dep += s.b
				row[i], s.free = dep, dep
				if split {
					weights(s, i, j)
				}
			}
		}
	}
	var span float64
	for i := range sg {
		span = max(span, sg[i].free)
	}
	return span
}

// passStage is one stage of oneFOneBPass: its forward, backward (B) and
// weight-gradient (W) costs, when it is next free, and whether it stopped.
type passStage struct {
	f, b, w, free float64
	halt          bool
}
