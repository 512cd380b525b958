package train

import (
	"github.com/scaleacross/scaleacross/schedule"
	"github.com/scaleacross/scaleacross/topology"
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
		agMB = make([]float64, len(vs))
		rsMB = make([]float64, len(vs))
		for k := range vs {
			rs, ag := e.stageDPTimesOn(stageWork{denseParams: vs[k].denseParams, experts: vs[k].experts}, e.linksOf(topology.DP))
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
	s, err := e.builtOrder(sp)
	if err != nil || s.NumVirtual() != len(vs) {
		return 0, false
	}
	r, err := schedule.Simulate(s, e.pipelineCosts(s, vs, nil), nil)
	if err != nil {
		return 0, false
	}
	return r.Makespan, true
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
	const (
		opF = iota
		opB
		opW
	)
	per := 2 * m // ops a stage runs
	if split {
		per = 3 * m
	}
	var endBuf [512]float64
	var opBuf [768]int32
	var curBuf [64]int
	var freeBuf, fBuf, bBuf, wBuf [64]float64
	ends, ops, cur, free := endBuf[:0], opBuf[:0], curBuf[:0], freeBuf[:0]
	fc, bc, wc := fBuf[:0], bBuf[:0], wBuf[:0]
	if 2*p*m > len(endBuf) || p*per > len(opBuf) || p > len(curBuf) {
		ends, ops, cur, free = make([]float64, 0, 2*p*m), make([]int32, 0, p*per), make([]int, 0, p), make([]float64, 0, p)
		fc, bc, wc = make([]float64, 0, p), make([]float64, 0, p), make([]float64, 0, p)
	}
	for range 2 * p * m {
		ends = append(ends, -1)
	}
	cur, free = cur[:p], free[:p]
	for i := range st {
		w := &st[i]
		f := w.fwd + w.tpF + w.cpF + w.epF + w.ppF + w.dpF
		var wg float64
		if split {
			wg = w.wgrad
		}
		fc, bc, wc = append(fc, f), append(bc, w.total()-f-wg), append(wc, wg)
		// Stage i's order, each op as 3j + its kind.
		warm := min(p-i-1, m)
		nb, nw := 0, 0
		back := func() {
			ops = append(ops, int32(3*nb+opB))
			nb++
			if split && nb-1-i >= 0 {
				ops = append(ops, int32(3*nw+opW))
				nw++
			}
		}
		for j := range m {
			if j >= warm {
				ops = append(ops, int32(3*j+opF))
				back()
			} else {
				ops = append(ops, int32(3*j+opF))
			}
		}
		for nb < m {
			back()
		}
		for split && nw < m {
			ops = append(ops, int32(3*nw+opW))
			nw++
		}
	}
	fEnd, bEnd := ends[:p*m], ends[p*m:] // stage i, micro-batch j at i*m+j
	// Forwards go down the stages and backwards up: sweeping the stages
	// down and up in turn carries each chain in one sweep.
	for progress, down := true, true; progress; down = !down {
		progress = false
		for n := range p {
			i := n
			if !down {
				i = p - 1 - n
			}
			for cur[i] < per {
				op := ops[i*per+cur[i]]
				j, kind := int(op/3), op%3
				var dep, cost float64
				switch kind {
				case opF:
					if i > 0 {
						dep = fEnd[(i-1)*m+j]
					}
					cost = fc[i]
				case opB:
					dep = fEnd[i*m+j] // the last stage's own forward
					if i+1 < p {
						dep = bEnd[(i+1)*m+j]
					}
					cost = bc[i]
				default:
					cost = wc[i] // after its own B, earlier in the order
				}
				if dep < 0 {
					break
				}
				if free[i] > dep {
					dep = free[i]
				}
				end := dep + cost
				switch kind {
				case opF:
					fEnd[i*m+j] = end
				case opB:
					bEnd[i*m+j] = end
				}
				free[i], progress = end, true
				cur[i]++
			}
		}
	}
	var span float64
	for _, t := range free {
		span = max(span, t)
	}
	return span
}
