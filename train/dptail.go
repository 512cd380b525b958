package train

import (
	"math"

	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/schedule"
	"github.com/scaleacross/scaleacross/topology"
)

// tailPace is the least time dataParallelTail puts between a stage's
// last backward ops of its nc chunks (a chunk's last backward comes n
// such ops before the next chunk's): the longest time a link between
// neighbouring stages takes to carry one message's bytes (its latency
// overlaps the messages behind), which spaces the gradients that the
// cool-down's ops wait for. Zero for one chunk, where the spacing is not
// used. Without that floor a faster TP link shortened the ops and moved
// the earlier chunks' reductions later by up to c*max(consecutive, pp)
// times the saving where a slow link, not the ops, sets the pipeline's
// time (its busy time or round trip holds the step), and a step got up
// to 0.075% slower (TestPropertyPipelineBoundsAndMonotone over 3 x
// 20,000 draws: interleaved pp 2 m 4 over a 1.5 Gb/s, 24 ms boundary).
// On links that keep up with the ops it changes nothing
// (TestEngineAgreementSpread's jobs and validate's rows are unchanged).
func (e *evaluator) tailPace(nc int) float64 {
	if nc < 2 {
		return 0
	}
	// Adjacent stages s and s+1 meet at level adjLevel[s]; runs of
	// boundaries at one level (the stages of one unit) take one look.
	bytes := e.p2pBytes()
	links := e.linksOf(topology.PP)
	var most float64
	last := -1
	for _, l := range e.adjLevel[:max(e.c.Parallel.PP-1, 0)] {
		if l != last {
			most = max(most, bytes/links[l].BytesPerSec)
			last = l
		}
	}
	return most
}

// chunkTimes are read off a simulated pipeline, per stage and chunk:
// when its first forward starts, and when the backward-type op (a
// backward, an input or a weight gradient) that ends last starts and
// ends, after which the chunk's gradients are final.
type chunkTimes struct {
	firstF, lastB, lastBStart [][]float64
}

// chunkTimesOf reads chunkTimes off spans, the timeline of pp stages of
// nc chunks each.
func chunkTimesOf(spans []schedule.Span, pp, nc int) chunkTimes {
	ct := chunkTimes{make([][]float64, pp), make([][]float64, pp), make([][]float64, pp)}
	for st := range pp {
		ct.firstF[st] = make([]float64, nc)
		ct.lastB[st] = make([]float64, nc)
		ct.lastBStart[st] = make([]float64, nc)
		for ch := range nc {
			ct.firstF[st][ch] = math.Inf(1)
		}
	}
	for _, sp := range spans {
		if sp.Stream != schedule.Compute {
			continue
		}
		switch sp.Op.Type {
		case schedule.Forward:
			ct.firstF[sp.Stage][sp.Op.Chunk] = math.Min(ct.firstF[sp.Stage][sp.Op.Chunk], sp.Start)
		default:
			if sp.End > ct.lastB[sp.Stage][sp.Op.Chunk] {
				ct.lastB[sp.Stage][sp.Op.Chunk] = sp.End
				ct.lastBStart[sp.Stage][sp.Op.Chunk] = sp.Start
			}
		}
	}
	return ct
}

// finishOrder is stage st's chunks in the order their gradients become
// final (chunks finish backward in reverse pipeline order).
func (ct *chunkTimes) finishOrder(st int) []int {
	last := ct.lastB[st]
	order := make([]int, len(last))
	for i := range order {
		order[i] = i
	}
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && last[order[j]] < last[order[j-1]]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	return order
}

// reduce runs stage st's chunk's reduction of d seconds on the stage's
// data-parallel stream, free from t: buckets are reduced as the last
// backward-type op produces them (overlap_grad_reduce), so it may start
// with that op, and it holds the stream at least until the op ends. It
// returns when it starts and when the stream is free again.
func (ct *chunkTimes) reduce(st, ch int, t, d float64) (start, free float64) {
	start = math.Max(t, ct.lastBStart[st][ch])
	return start, math.Max(start+d, ct.lastB[st][ch])
}

// chunkCollective is collective k of chunk v's parameters over the
// data-parallel links: dense ones over dp*cp, experts over the
// expert-data-parallel group.
func (e *evaluator) chunkCollective(k network.Kind, v *virtualStage) float64 {
	p := e.c.Parallel
	dl := e.linksOf(topology.DP)
	gb := e.gradBytes()
	return network.Time(k, v.denseParams*gb, e.dpSpan(p.DP*p.CP), dl) + network.Time(k, v.experts*gb, e.dpSpan(p.EDP()), dl)
}

// chunkReduction is chunk v's gradient reduction after its last backward:
// an all-reduce under ZeRO-0, a reduce-scatter under ZeRO-1; none under
// ZeRO-2 and 3, which reduce-scatter inside every backward.
func (e *evaluator) chunkReduction(v *virtualStage) float64 {
	switch e.c.Parallel.Zero {
	case 0:
		return e.chunkCollective(network.AllReduce, v)
	case 1:
		return e.chunkCollective(network.ReduceScatter, v)
	}
	return 0
}

// paramGatherDelay is how long a step waits at its start for the ZeRO-1
// and 2 parameter all-gathers (zero otherwise): each stage gathers its
// chunks' parameters for the next step bucket by bucket ahead of each
// chunk's first forward (firstF), which it overlaps (as Megatron-LM's
// overlap_param_gather); the part that cannot hide delays the whole step.
func (e *evaluator) paramGatherDelay(s *schedule.Schedule, vs []virtualStage, firstF [][]float64) float64 {
	p := e.c.Parallel
	if p.Zero != 1 && p.Zero != 2 {
		return 0
	}
	var delay float64
	for st := 0; st < p.PP; st++ {
		var t float64
		for ch := 0; ch < s.NumChunks(); ch++ {
			v := &vs[s.VirtualStage(st, ch)]
			t += e.chunkCollective(network.AllGather, v)
			delay = math.Max(delay, t-firstF[st][ch]-v.fwd)
		}
	}
	return delay
}

// stageGatherDelay is how long a step of an order without a V (GPipe,
// 1F1B, ZB-H1, interleaved, latency-aware) waits for its ZeRO-1 and 2
// parameter all-gathers (zero otherwise), stages st, as Megatron-Core
// runs them by default (overlap_param_gather without align_param_gather,
// the flags launch emits): nothing launches a gather at the step's
// start; the forward pre-hook of a chunk's first forward launches its
// first bucket's gather and waits for it, and each bucket's wait
// launches the next (DistributedDataParallel's forward pre-hook,
// ParamAndGradBucketGroup.finish_param_sync and its
// next_param_gather_bucket_group), so a chunk's gather hides under that
// forward alone, bucket by bucket, and nothing of it under the wait for
// micro-batch 0 before that forward. What it cannot hide stalls the
// chunk's first forward and so the rest of its stage's work: a stage's
// stalls add up to its whole gather (its parameters as one stream of
// buckets) less its chunks' forwards, and the step waits for the stage
// stalled longest. Both engines hold a stall to its own stage: neither
// passes it on to the next stage along micro-batch 0's way, which a
// stage that launches its gather only once that micro-batch has reached
// it would do; and a chunk whose forward outlasts its gather hides some
// of the next chunk's here, which the pre-hooks' chain does not (summing
// each chunk's own stall instead moved validate's MAPE from 5.593% to
// 5.591% and the 405B example's analytic step 2 ms later).
//
// This was the analytic engine's rule (zero1Gather; dpTail for ZeRO-2,
// over the most loaded stage and those that hold more). The event
// engine launched every gather at the step's start, each due by its
// chunk's first forward (paramGatherDelay, which the V orders keep), and
// so hid a stage's second chunk's gather under micro-batch 0's way round
// the stages, most of it over slow pipeline links: its ZeRO-1
// interleaved and latency-aware draws with few micro-batches came out
// 10-24% below the analytic engine
// (TestInterleavedGatherStallsEachChunksFirstForward). Megatron-Core's
// align_param_gather launches (the interleaved schedule's first two
// chunks' at the step's start, chunk c's in stage s's forward (c-1)g - s,
// g micro-batches a chunk in a row; NeMo's comm-overlap callback sets it
// for pp > 1 and vp > 1) hide more: priced so in the analytic engine
// they moved validate's MAPE from 5.59% to 5.91%, its measured
// interleaved ZeRO-1 rows predicted faster than they ran. The delay
// reads the data-parallel links alone, so no faster link lengthens it.
func (e *evaluator) stageGatherDelay(st []stageWork) float64 {
	if z := e.c.Parallel.Zero; z != 1 && z != 2 {
		return 0
	}
	var lastD, lastE, lastAG, delay float64 = -1, -1, 0, 0
	for s := range st {
		w := &st[s]
		if w.denseParams != lastD || w.experts != lastE {
			// Stages that hold the same parameters (most) gather as long.
			lastD, lastE = w.denseParams, w.experts
			lastAG = e.collectiveOn(network.AllGather, lastD, lastE, e.linksOf(topology.DP))
		}
		delay = max(delay, lastAG-w.fwd)
	}
	return delay
}

// stageOptimizer is stage st's optimizer step: Adam reads the fp32
// master weights, both moments and the gradient and writes them back and
// the 16-bit weights, 30 bytes per parameter the stage owns (its chunks'
// parameters, sharded over the data-parallel group under ZeRO).
func (e *evaluator) stageOptimizer(s *schedule.Schedule, vs []virtualStage, st int) float64 {
	p := e.c.Parallel
	var owned float64
	for ch := 0; ch < s.NumChunks(); ch++ {
		v := &vs[s.VirtualStage(st, ch)]
		if p.Zero >= 1 {
			owned += v.denseParams/float64(p.DP*p.CP) + v.experts/float64(p.EDP())
		} else {
			owned += v.denseParams + v.experts
		}
	}
	return e.dev.MemoryBound(owned*30, 8)
}

// builtTail is the step's data-parallel time after its pipeline pass of
// sp's built order (ZeRO-0/1 reductions, the ZeRO-1/2 parameter
// all-gather ahead of the first forwards and the optimizer beyond opt,
// the most loaded stage's), read off that order run with each stage's
// own op costs (pipelineCosts), as the event engine runs it: each
// chunk's reduction starts with the backward-type op that makes its
// gradients final and runs on the stage's data-parallel stream after
// the stage's earlier chunks' (chunkTimes.reduce), and each chunk's
// gather needs to end only by its first forward (paramGatherDelay). It
// serves orders whose pass the analytic engine reads off the same run
// (builtBubble) with blocking sends over links of their own: ZB-V, whose
// cool-down defers the weight gradients of its chunks to the end of a
// stage's order (the second chunk's last W a few ops before the stage's
// last op, not the V's way back earlier, where dataParallelTail's closed
// form puts its last backward), so that both chunks' reductions come
// after the pass. s and r are builtRun's order and traced run
// (builtBubble's pass); zbvTail says where the tail is read off
// them.
func (e *evaluator) builtTail(s *schedule.Schedule, r *schedule.Result, vs []virtualStage, opt float64) float64 {
	pp := e.c.Parallel.PP
	ct := chunkTimesOf(r.Spans, pp, s.NumChunks())
	var end float64
	for st := range pp {
		var t, stageEnd float64
		for _, ch := range ct.finishOrder(st) {
			_, t = ct.reduce(st, ch, t, e.chunkReduction(&vs[s.VirtualStage(st, ch)]))
			stageEnd = max(stageEnd, t)
		}
		end = max(end, stageEnd+e.stageOptimizer(s, vs, st))
	}
	return max(0, end+e.paramGatherDelay(s, vs, ct.firstF)-r.Makespan-opt)
}

// chainGatherDelay is paramGatherDelay over s's order with each chunk's
// first forward at its earliest: after micro-batch 0's forward ops (the
// compute and its TP, CP and EP communication) on every virtual stage
// before it and its messages between them, each at least its link's
// latency and bytes (p2pTime; the event engine's first forwards wait
// for them too, and for busy stages and queues besides, which keeps this
// at or above its delay). It is ZB-V's behind a shared uplink
// (zbvTail) and DualPipeV's, the V orders, where a stage's second chunk
// runs its first forward after the first micro-batch's way down the
// stages and back. Counting the forward ops' communication took seed
// 5's worst draw from 20.4% (compute alone) to 11.3%. DualPipeV had the
// stage's whole gather due by its first forward (zero1Gather, dpTail):
// its ZeRO-1 draws were 10-20% above the event engine over 1-1.6 Gb/s
// levels (TestVGatherByEachChunksFirstForward); the messages took ZB-V's
// draws behind shared uplinks from 16.1% and 20.2% to 0.0% and 0.9% (a
// 1 Gb/s and a 72.6 ms level between the stages). Read off the built
// run, with the waits, a faster pipeline link moved the first forwards
// earlier, and so the step later, by more than it shortened the pass
// (pipelineGen: up to 0.2% slower, where dataParallelTail's reductions,
// spaced by ops that hold the blocking sends, move later too); the chain
// of ops and messages alone left the step never slower after a faster
// link over 24 x 20,000 draws. The orders without a V stall each chunk's
// first forward by its own gather instead, in both engines
// (stageGatherDelay), which validate's measured interleaved ZeRO-1 rows
// hold to (launched at the start and hidden under the fill, chunk by
// chunk, the agree6 branch moved MAPE from 5.59% to 5.90%); validate's
// one DualPipeV row (DeepSeek-V3) moves from 19.283 to 19.287 s
// (measured 19.907 s), and with its reductions'
// arrivals read off the paced run (builtArrivals): 19.305 s.
func (e *evaluator) chainGatherDelay(s *schedule.Schedule, vs []virtualStage) float64 {
	pp, nc := e.c.Parallel.PP, s.NumChunks()
	at := make([]float64, len(vs)) // virtual stage k's earliest first forward
	from, _ := s.Placement(0)
	for k := 1; k < len(vs); k++ {
		v := &vs[k-1]
		at[k] = at[k-1] + v.fwd + v.tpF + v.cpF + v.epF
		if to, _ := s.Placement(k); to != from {
			// The activations' message to the next stage: at least its
			// link's latency and bytes (blocking or overlapped).
			at[k] += e.p2pTime(e.boundaryLevel(from, to))
			from = to
		}
	}
	firstF := make([][]float64, pp)
	for st := range pp {
		firstF[st] = make([]float64, nc)
		for ch := range nc {
			firstF[st][ch] = at[s.VirtualStage(st, ch)]
		}
	}
	return e.paramGatherDelay(s, vs, firstF)
}

// zbvTail says where ZB-V's data-parallel tail is read off its built
// run (builtRun), whose cool-down defers the weight gradients, so that
// both chunks' reductions come after the pass (the second chunk's last W
// a few ops before the stage's last op, not under the V's way back
// earlier, where dataParallelTail's closed form puts it). Both need
// blocking sends and bucketed reductions; other orders, overlapped sends
// and per-tensor reductions keep the closed forms.
//
// Over links of their own (built) builtTail reads the whole tail off the
// run. Behind a shared uplink (shared), whose reductions the event
// engine's trunks share, dataParallelTail shares them on the uplink as
// before, but each starts when the run's last backward-type op of its
// chunk does (builtArrivals; ZeRO-0 and 1): over jobGen's first 40,000
// draws (2,283 ZB-V jobs) its closed form's arrivals put the analytic
// engine up to 12.0% from the event engine (ZeRO-0 99th percentile
// 9.8%, ZeRO-1 5.2%), the run's 7.7% (3.0%, 1.2%;
// TestZBVReductionsAfterPassBehindUplink). And there the ZeRO-1 and 2
// parameter gather is chainGatherDelay's, each chunk's due by its own
// first forward as the event engine runs it (paramGatherDelay), not the
// stage's whole gather by the stage's first forward (zero1Gather). The
// whole-stage rule put the analytic engine 21.3% and 19.6% above the
// event engine on pipelineGen's worst ZeRO-1 draws of seeds 5 and 6 and
// 13.4% on seed 2's ZeRO-2 one (TestZero1GatherPerChunk). ZB-V alone: no
// public row of validate runs it, while its interleaved ZeRO-1 rows,
// fitted with the stage's gather exposed, moved MAPE from 5.59% to 5.90%
// under a per-chunk rule (the agree6 branch).
func (e *evaluator) zbvTail() (built, shared bool) {
	c := e.c
	if c.Schedule != schedule.ZBV || !e.blockingP2P() || c.GradSync == GradSyncPerTensor {
		return false, false
	}
	shared = e.newTrunks() != nil
	return !shared, shared
}

// builtArrivals is, per virtual stage of s, when its chunk's last
// backward-type op starts in the traced run r (its reduction's buckets
// start with it, overlap_grad_reduce), after r's end: dataParallelTail's
// arrivals, for ZB-V behind a shared uplink (zbvTail) and for DualPipeV,
// whose cool-down the V's closed form (a stage's second chunk 2(p-s)-1
// ops before its first) does not run: it put the reductions early and
// the analytic engine up to 5.7% below the event engine on jobGen's jobs
// (Mixtral 8x7B tp4 pp2 m 7, ZeRO-0), 0.1% read off the run
// (TestDualPipeVReductionsReadOffBuiltRun). With overlapped sends the run
// is the one DualPipeV's pass is read off (linkPacedRun, its sends in
// it), so the arrivals and the pass come from one max-plus system: read
// off the compute-only built run (builtRun) a cool-down stretched by
// 1 Gb/s links put them late and the step 13.4% above the event
// engine's.
func (e *evaluator) builtArrivals(s *schedule.Schedule, r *schedule.Result, vs []virtualStage) []float64 {
	pp, nc := e.c.Parallel.PP, s.NumChunks()
	ct := chunkTimesOf(r.Spans, pp, nc)
	at := make([]float64, len(vs))
	for st := range pp {
		for ch := range nc {
			at[s.VirtualStage(st, ch)] = ct.lastBStart[st][ch] - r.Makespan
		}
	}
	return at
}

// chunkLaps is how far apart a stage's last backward-type ops of its
// chunks start at least in an order without a V (interleaved and
// latency-aware: chunk c of stage s is virtual stage c*pp+s): the last
// micro-batch's gradient goes from chunk c on stage s once round the
// stages to chunk c-1 on stage s, through the backward op of every
// virtual stage between (its own included) and pp messages, one over
// every boundary between neighbouring stages and one from the first
// stage back to the last, each at least its link's latency and bytes
// (p2pTime; blocking sends hold the sender and are in the op's cost
// instead, which the lap leaves out). The closed form's spacing, group
// ops of the stage (dataParallelTail), holds where the ops fill the
// cool-down; where a message's latency is as long as several ops the
// lap sets it: interleaved pp 2 m 2 over a 100 ms boundary put a
// stage's chunks 2 ops apart where the event engine runs them 0.36 s
// (13 ops) apart, and the analytic engine's ZeRO-0 reductions ended
// 0.25 s late (12.3% above the event engine; TestChunkLapsSpaceReductions).
type chunkLaps struct {
	buf [80]float64
	// sum[k] is the backward ops of virtual stages 0 to k-1; nil for
	// one chunk a stage, where no lap is read.
	sum   []float64
	sends float64 // a lap's messages
}

// chunkLapsOf sets l for the virtual stages vs, nc chunks a stage.
func (e *evaluator) chunkLapsOf(l *chunkLaps, vs []virtualStage, nc int) {
	pp := e.c.Parallel.PP
	if nc < 2 || pp < 2 || len(vs) != nc*pp {
		l.sum = nil
		return
	}
	if len(vs) < len(l.buf) {
		l.sum = l.buf[:len(vs)+1]
	} else {
		l.sum = make([]float64, len(vs)+1)
	}
	l.sum[0] = 0
	for k := range vs {
		l.sum[k+1] = l.sum[k] + vs[k].backward()
	}
	l.sends = 0
	if e.blockingP2P() {
		return
	}
	// Runs of boundaries at one level (the stages of one unit) take one
	// look at the link.
	bytes, links := e.p2pBytes(), e.linksOf(topology.PP)
	last, t := -1, 0.0
	for _, lv := range e.adjLevel[:pp-1] {
		if lv != last {
			last, t = lv, links[lv].LatencyS+bytes/links[lv].BytesPerSec
		}
		l.sends += t
	}
	wrap := links[e.boundaryLevel(0, pp-1)]
	l.sends += wrap.LatencyS + bytes/wrap.BytesPerSec
}

// earlier is how long before the start of stage s's last backward-type
// op of chunk 0 that of chunk c starts at least: c laps (chunkLaps), the
// ops of virtual stages s+1 to c*pp+s and c laps' messages.
func (l *chunkLaps) earlier(pp, s, c int) float64 {
	if l.sum == nil || c == 0 {
		return 0
	}
	return l.sum[c*pp+s+1] - l.sum[s+1] + float64(c)*l.sends
}
