package train

import (
	"fmt"
	"math"
	"slices"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/parallel"
	"github.com/scaleacross/scaleacross/schedule"
	"github.com/scaleacross/scaleacross/sim"
	"github.com/scaleacross/scaleacross/topology"
)

// Engines that predict a step.
const (
	EngineAnalytic = "analytic"
	EngineEvent    = "event"
)

// Timeline is the event-level record of one step: the pipeline's spans
// plus the data-parallel communication and optimizer of every stage.
type Timeline struct {
	Schedule *schedule.Schedule
	Pipeline *schedule.Result
	// DP lists, per stage, the gradient reduce-scatter (and all-reduce)
	// intervals after each chunk's last backward.
	DP [][]Interval
	// Optimizer is, per stage, the optimizer step interval.
	Optimizer []Interval
	// Start is when the pipeline's first op may begin: the exposed part of
	// the parameter all-gather before the first forward.
	Start float64
	// BlockingSend is, for schedules whose sends hold the sender, the time
	// each stage's op spends sending its output: [stage][2*chunk] for a
	// forward's activations, [stage][2*chunk+1] for a backward's
	// gradients (zero when the peer is the same stage or none). The
	// pipeline's own send spans are empty then, and traces draw these.
	BlockingSend [][]float64
}

// Interval is a named span of time on a stage's data-parallel stream.
type Interval struct {
	Name       string
	Chunk      int
	Start, End float64
}

// Event predicts one step by simulating the pipeline schedule event by
// event: every forward, backward (and weight-gradient) op of every stage
// and chunk with its exposed TP/CP/EP communication, point-to-point
// transfers over the level each stage boundary crosses, data-parallel
// reduce-scatters started as each chunk's gradients become final and
// overlapped with the remaining backward work, and the optimizer. Data
// parallel replicas are symmetric, so one pipeline is simulated; link
// sharing comes from the number of concurrent groups crossing each link.
func Event(c *Config) (Result, error) {
	r, _, err := event(c, false)
	return r, err
}

// EventTimeline is Event that also returns the full timeline, for traces.
func EventTimeline(c *Config) (Result, *Timeline, error) {
	return event(c, true)
}

// EventShared is Event with the parts in s taken from s (its links, for
// a job whose links were measured rather than derived).
func EventShared(c *Config, s *Shared) (Result, error) {
	r, _, err := eventWith(c, false, trunkAll, s)
	return r, err
}

// Memory guards of the event engine. It holds about 2.7 KB per stage x
// micro-batch x chunk op while it simulates, and a timeline (for --trace
// and --gantt) several hundred bytes of JSON and SVG per op on top. The
// limits keep a step under about 3 GB and a trace under about 100 MB.
const (
	MaxEventOps = 1 << 20
	MaxTraceOps = 1 << 17
)

// CheckEventSize refuses a job too large for the event engine: more than
// MaxEventOps stage x micro-batch x chunk ops (MaxTraceOps when the
// timeline is kept). The error is bad input and names the way around.
func CheckEventSize(c *Config, keep bool) error {
	p := c.Parallel
	limit, what := MaxEventOps, "the event engine"
	if keep {
		limit, what = MaxTraceOps, "a timeline (--trace, --gantt)"
	}
	ops := 1
	for _, v := range []int{p.PP, max(p.VP, 1), max(p.MicroBatches(c.Batch), 1)} {
		if v > limit || ops > limit/v {
			ops = limit + 1
			break
		}
		ops *= v
	}
	if ops > limit {
		return fault.BadInput(fmt.Errorf("pp %d x vp %d x %d micro-batches is over the limit of %d ops for %s (memory grows with each); use the analytic engine (--engine analytic), or fewer micro-batches (a larger training.micro_batch or a smaller training.global_batch)",
			p.PP, max(p.VP, 1), p.MicroBatches(c.Batch), limit, what))
	}
	return nil
}

func event(c *Config, keep bool) (Result, *Timeline, error) {
	return eventWith(c, keep, trunkAll, nil)
}

// eventWith is event with only's dimensions on the shared uplinks.
func eventWith(c *Config, keep bool, only trunkTraffic, sh *Shared) (Result, *Timeline, error) {
	if err := CheckEventSize(c, keep); err != nil {
		return Result{}, nil, err
	}
	e, err := newEvaluatorShared(c, sh)
	if err != nil {
		return Result{}, nil, err
	}
	// The analytic result supplies memory, traffic and FLOP accounting;
	// the simulation replaces the step time and its breakdown.
	res := e.analytic()
	p := c.Parallel
	vs := e.virtualStages()
	kind := c.Schedule
	mb := p.MicroBatches(c.Batch)
	sp := e.scheduleParams(vs)
	s, err := schedule.Build(kind, sp)
	if err != nil {
		return Result{}, nil, err
	}
	if s.NumVirtual() != len(vs) {
		return Result{}, nil, fmt.Errorf("schedule %s has %d virtual stages but the model is split into %d", kind, s.NumVirtual(), len(vs))
	}
	// A blocking send holds the sender until the message is through; the
	// receiver then has it when the sender's op ends.
	blocking := e.blockingP2P()
	// Shared uplinks (site links, oversubscribed levels) are simulated:
	// pipeline sends and data-parallel collectives that cross one share
	// it max-min fairly (trunks), and a blocking send over it holds its
	// sender until it is through.
	tr := e.newTrunks()
	if tr != nil {
		tr.only = only
	}
	costs := e.pipelineCosts(s, vs, func(stage, chunk int, fwd bool) bool {
		if tr == nil {
			return false
		}
		to, ok := e.peer(s, stage, chunk, fwd)
		return ok && tr.sharesPP(e.boundaryLevel(stage, to))
	})
	costs.P2P = func(from, to int, _ schedule.Dir) schedule.Transfer {
		l := e.boundaryLevel(from, to)
		link := e.linksOf(topology.PP)[l]
		if tr.sharesPP(l) {
			return e.trunkSend(tr, from, to, l, blocking)
		}
		if blocking {
			return schedule.Transfer{}
		}
		// Overlapped sends queue on the stage's link to its peer: every
		// message of every chunk crossing that boundary in that
		// direction shares it first come first served, so a slow link
		// serializes them while compute goes on.
		return schedule.Transfer{Latency: link.LatencyS, Bytes: e.p2pBytes(), Bandwidth: link.BytesPerSec, Serialize: true}
	}
	opts := &schedule.Options{Trace: true}
	var dpRun *dpRunner
	if tr != nil {
		opts.Network = tr.net
		if c.GradSync == GradSyncBucketed {
			// A per-tensor sequence runs after the backward, priced below
			// on the data-parallel links (not over the shared uplinks).
			dpRun = e.newDPRunner(tr, s, vs)
			opts.OnStart = dpRun.onStart
		}
	}
	pr, err := schedule.Simulate(s, costs, opts)
	if err != nil {
		return Result{}, nil, err
	}
	// Memory from the same in-flight count as the analytic engine's: the
	// schedule's closed form, which equals this built schedule's peak
	// (schedule.TestPeakHeldClosedForm).
	e.setMemory(&res, s.Params)

	// Data parallelism: each chunk's gradients are final after its last
	// backward; reduce-scatter them in that order on the stage's DP stream.
	nc := s.NumChunks()
	ct := chunkTimesOf(pr.Spans, p.PP, nc)
	at := func(stage, chunk int) *virtualStage { return &vs[s.VirtualStage(stage, chunk)] }
	sendCost := func(stage, chunk int, fwd bool) float64 {
		return e.blockingSend(s, stage, chunk, fwd, blocking)
	}
	tl := &Timeline{Schedule: s, Pipeline: pr, DP: make([][]Interval, p.PP), Optimizer: make([]Interval, p.PP)}
	if blocking && keep {
		tl.BlockingSend = make([][]float64, p.PP)
		for st := range tl.BlockingSend {
			tl.BlockingSend[st] = make([]float64, 2*s.NumChunks())
			for ch := 0; ch < s.NumChunks(); ch++ {
				tl.BlockingSend[st][2*ch] = sendCost(st, ch, true)
				tl.BlockingSend[st][2*ch+1] = sendCost(st, ch, false)
			}
		}
	}
	// The ZeRO-1 and 2 gathers: chunk by chunk, each under its chunk's
	// first forward alone, in the orders without a V (stageGatherDelay);
	// launched at the start and due by each chunk's first forward in the
	// V orders (paramGatherDelay).
	worst := e.stages(vs)
	e.addDataParallelStalls(worst, vs)
	var startDelay float64
	if kind.DefaultChunks() > 1 {
		startDelay = e.paramGatherDelay(s, vs, ct.firstF)
	} else {
		startDelay = e.stageGatherDelay(worst)
	}
	tl.Start = startDelay
	var end, dpExposed float64
	for st := 0; st < p.PP; st++ {
		order := ct.finishOrder(st)
		var t, stageEnd float64
		if c.GradSync == GradSyncPerTensor {
			// The stage's tensors, in turn, once its last backward is
			// done: one sequence over all its chunks, as the analytic
			// engine prices it (one start-up, not one per chunk).
			layers, dense := 0, 0.0
			for _, ch := range order {
				stageEnd = math.Max(stageEnd, ct.lastB[st][ch])
				v := at(st, ch)
				layers += v.layers
				dense += v.denseParams
			}
			d := e.perTensorAllReduce(layers, dense)
			t = stageEnd + d
			if d > 0 {
				tl.DP[st] = append(tl.DP[st], Interval{Name: "grad-reduce", Chunk: order[len(order)-1], Start: stageEnd + startDelay, End: t + startDelay})
			}
			order = nil
		}
		if dpRun != nil {
			// Simulated beside the pipeline, over the shared uplinks.
			for _, ch := range order {
				stageEnd = math.Max(stageEnd, ct.lastB[st][ch])
			}
			t = dpRun.end[st]
			for _, iv := range dpRun.intervals[st] {
				iv.Start += startDelay
				iv.End += startDelay
				tl.DP[st] = append(tl.DP[st], iv)
			}
			order = nil
		}
		for _, ch := range order {
			var start float64
			d := e.chunkReduction(at(st, ch))
			start, t = ct.reduce(st, ch, t, d)
			if d > 0 {
				tl.DP[st] = append(tl.DP[st], Interval{Name: "grad-reduce", Chunk: ch, Start: start + startDelay, End: t + startDelay})
			}
			stageEnd = math.Max(stageEnd, ct.lastB[st][ch])
		}
		stageEnd = math.Max(stageEnd, t)
		opt := e.stageOptimizer(s, vs, st)
		tl.Optimizer[st] = Interval{Name: "optimizer", Start: stageEnd + startDelay, End: stageEnd + opt + startDelay}
		if stageEnd+opt > end {
			end = stageEnd + opt
			dpExposed = math.Max(0, t-pr.Makespan)
			res.Breakdown.OptimizerS = opt
		}
	}
	step := end + startDelay
	b := res.Breakdown
	var busy stageWork
	for _, w := range worst {
		if w.total() > busy.total() {
			busy = w
		}
	}
	fm := float64(mb)
	b.ComputeS = fm * (busy.fwd + busy.bwd)
	b.TPCommS = fm * busy.tp
	b.CPCommS = fm * busy.cp
	b.EPCommS = fm * busy.ep
	b.PPCommS = fm * busy.pp // blocking sends; overlapped ones show as bubble
	b.DPCommS = dpExposed + startDelay + fm*busy.dp
	b.BubbleS = math.Max(0, step-b.ComputeS-b.TPCommS-b.CPCommS-b.EPCommS-b.PPCommS-b.DPCommS-b.OptimizerS)
	if !blocking {
		// Overlapped sends cost a stage only where it sits idle while a
		// message to it is still on the wire. The stage that waits longest
		// so (often the one behind the slowest link, whose wait the others
		// inherit downstream) gives the exposed pipeline communication; the
		// rest of the idle time is the bubble.
		w := math.Min(b.BubbleS, slices.Max(exposedWaits(pr.Spans, p.PP)))
		b.PPCommS += w
		b.BubbleS -= w
	}
	res.Breakdown = b
	res.StepTimeS = b.Total()
	res.rescale(c)
	if !keep {
		return res, nil, nil
	}
	return res, tl, nil
}

// peer is the stage that receives the output of stage's op on chunk
// (its forward's activations when fwd, else its backward's gradients);
// ok is false when there is none.
func (e *evaluator) peer(s *schedule.Schedule, stage, chunk int, fwd bool) (to int, ok bool) {
	k := s.VirtualStage(stage, chunk)
	switch {
	case fwd && k < s.NumVirtual()-1:
		to, _ = s.Placement(k + 1)
	case !fwd && k > 0:
		to, _ = s.Placement(k - 1)
	default:
		return 0, false
	}
	return to, true
}

// blockingSend is the time a blocking send holds stage after its op on
// chunk (zero for overlapped sends, no peer or a peer on the same stage).
func (e *evaluator) blockingSend(s *schedule.Schedule, stage, chunk int, fwd, blocking bool) float64 {
	if !blocking {
		return 0
	}
	to, ok := e.peer(s, stage, chunk, fwd)
	if !ok || to == stage {
		return 0
	}
	return e.p2pTime(e.boundaryLevel(stage, to))
}

// dpRunner runs each stage's gradient reduction (zero 0 and 1) during
// the simulation, on the stage's data-parallel stream: a chunk's reduce
// starts with its last backward (overlap_grad_reduce), its phases over
// shared uplinks compete with the other flows there (trunks), and it
// holds the stream at least until that backward ends.
type dpRunner struct {
	e       *evaluator
	tr      *trunks
	s       *schedule.Schedule
	vs      []virtualStage
	left    [][]int // backward-type ops of each stage and chunk not yet started
	streams []*sim.Stream
	// end is when each stage's last reduction ended, intervals what ran.
	end       []float64
	intervals [][]Interval
}

func (e *evaluator) newDPRunner(tr *trunks, s *schedule.Schedule, vs []virtualStage) *dpRunner {
	p := e.c.Parallel
	d := &dpRunner{e: e, tr: tr, s: s, vs: vs, left: make([][]int, p.PP), streams: make([]*sim.Stream, p.PP),
		end: make([]float64, p.PP), intervals: make([][]Interval, p.PP)}
	for st := range d.left {
		d.left[st] = make([]int, s.NumChunks())
		for _, op := range s.Stages[st] {
			if op.Type != schedule.Forward {
				d.left[st][op.Chunk]++
			}
		}
		d.streams[st] = tr.net.Engine().NewStream("dp")
	}
	return d
}

// onStart starts chunk's reduction as its last backward starts.
func (d *dpRunner) onStart(sp schedule.Span) {
	if sp.Op.Type == schedule.Forward {
		return
	}
	st, ch := sp.Stage, sp.Op.Chunk
	d.left[st][ch]--
	if d.left[st][ch] > 0 {
		return
	}
	p := d.e.c.Parallel
	var k network.Kind
	switch p.Zero {
	case 0:
		k = network.AllReduce
	case 1:
		k = network.ReduceScatter
	default:
		d.end[st] = math.Max(d.end[st], sp.End)
		return // zero 2 and 3 reduce-scatter inside every backward
	}
	v := &d.vs[d.s.VirtualStage(st, ch)]
	dl := d.e.linksOf(topology.DP)
	gb := d.e.gradBytes()
	fixed, phases := d.tr.splitCollective(k, v.denseParams*gb, d.e.dpSpan(p.DP*p.CP), dl, nil)
	f2, phases := d.tr.splitCollective(k, v.experts*gb, d.e.dpSpan(p.EDP()), dl, phases)
	fixed += f2
	if fixed == 0 && len(phases) == 0 {
		d.end[st] = math.Max(d.end[st], sp.End)
		return
	}
	eng := d.tr.net.Engine()
	lastB := sp.End
	d.streams[st].Do(func(finish func()) {
		start := eng.Now()
		done := func() {
			t := math.Max(eng.Now(), lastB)
			d.end[st] = math.Max(d.end[st], t)
			d.intervals[st] = append(d.intervals[st], Interval{Name: "grad-reduce", Chunk: ch, Start: start, End: t})
			eng.Schedule(t, finish)
		}
		eng.After(fixed, func() { d.tr.runPhases(d.e, st, phases, done) })
	})
}

// rescale recomputes the throughput figures after the step time changed.
func (r *Result) rescale(c *Config) {
	tokens := float64(c.Batch.GlobalBatch) * float64(c.Batch.SeqLen)
	old := r.TokensPerS
	r.TokensPerS = tokens / r.StepTimeS
	r.TokensPerSPerGPU = r.TokensPerS / float64(c.GPUs)
	f := r.TokensPerS / old
	r.ModelTFLOPsPerGPU *= f
	r.HWTFLOPsPerGPU *= f
	r.MFU *= f
}

// boundaryLevel is the outermost topology level between pipeline stages a
// and b: the level whose units first hold both.
func (e *evaluator) boundaryLevel(a, b int) int {
	if b == a+1 && a < len(e.adjLevel) {
		return e.adjLevel[a]
	}
	if a == b+1 && b < len(e.adjLevel) {
		return e.adjLevel[b]
	}
	return e.levelBetween(a, b)
}

// levelBetween computes boundaryLevel from the ranks' positions.
func (e *evaluator) levelBetween(a, b int) int {
	ra, rb := a*e.ppStride, b*e.ppStride
	for i, c := range e.caps {
		if ra/c == rb/c {
			return i
		}
	}
	return len(e.caps) - 1
}

// latencyAware plans the latency-aware schedule: the boundaries that
// cross a slower level than the pipeline's fastest one, the extra warm-up
// micro-batch chunks that hide their round trip
// (schedule.ExtraWarmupFor, at least one), and with several chunks the
// number of consecutive micro-batches per chunk, widened by the extra
// warm-up (towards breadth-first) so that each chunk's pass over the slow
// link overlaps other micro-batches' work. Memory pays for it: the
// in-flight count grows accordingly.
func (e *evaluator) latencyAware(vs []virtualStage) (slow []int, extra, consecutive int) {
	p := e.c.Parallel
	if p.PP < 2 {
		return nil, 0, 0
	}
	inner := len(e.c.Topology.Levels)
	for b := 0; b+1 < p.PP; b++ {
		inner = min(inner, e.boundaryLevel(b, b+1))
	}
	// The round trip is weighed against the ops' compute, which no link
	// changes: with their exposed communication in it, a faster TP link
	// asked for more warm-up (4 extra chunks to 16), and a step that
	// warms up more than its slow link can use ran 1.98% slower
	// (latency-aware-1f1b pp 4 vp 2 m 12 over a 1 Gb/s boundary;
	// TestPropertyPipelineBoundsAndMonotone). Where the communication is
	// a large part of an op this warms up a little more than it needs.
	var f, bw float64
	for i := range vs {
		f += vs[i].fwd
		bw += vs[i].bwd
	}
	f /= float64(len(vs))
	bw /= float64(len(vs))
	if e.sc != nil {
		slow = e.sc.slow[:0] // read within the evaluation only
	}
	for b := 0; b+1 < p.PP; b++ {
		l := e.boundaryLevel(b, b+1)
		if l == inner {
			continue
		}
		link := e.linksOf(topology.PP)[l]
		oneWay := link.LatencyS + e.p2pBytes()/link.BytesPerSec
		slow = append(slow, b)
		extra = max(extra, schedule.ExtraWarmupFor(oneWay, f, bw, p.VP), 1)
	}
	if p.VP > 1 {
		mb := p.MicroBatches(e.c.Batch)
		consecutive = min(mb, p.PP*(1+extra))
		for mb%consecutive != 0 {
			consecutive++
		}
		// Stay within the memory limit: narrow back towards depth-first
		// while the in-flight activations would not fit.
		// A group is never narrower than pp, and its last group is whole
		// or at least pp (schedule.Kind.Check's deadlock bounds): where no
		// narrower group is valid the plan keeps the one it has.
		limit := e.maxInFlight()
		for consecutive > p.PP && schedule.LatencyAware.InFlight(schedule.Params{Stages: p.PP, MicroBatches: mb, Chunks: p.VP, Consecutive: consecutive, ExtraWarmup: extra, SlowBoundaries: slow}) > limit {
			next := consecutive - p.PP
			for next > p.PP && mb%next != 0 {
				next--
			}
			if r := mb % max(next, 1); next < p.PP || (r != 0 && r < p.PP) {
				break
			}
			consecutive = next
		}
	}
	if e.sc != nil {
		e.sc.slow = slow
	}
	return slow, extra, consecutive
}

// maxInFlight is how many micro-batches (whole-stage units) of
// activations fit on the first stage beside its weights, gradients,
// optimizer state and buffers.
func (e *evaluator) maxInFlight() float64 {
	c := e.c
	none := parallel.EstimateInFlight(c.Model, c.Parallel, c.Batch, c.Recompute, 0, false, c.UnfusedAttention)
	one := parallel.EstimateInFlight(c.Model, c.Parallel, c.Batch, c.Recompute, 1, false, c.UnfusedAttention)
	per := one.Total - none.Total
	if per <= 0 {
		return math.Inf(1)
	}
	return (c.GPU.UsableGiB()*(1<<30) - none.Total) / per
}

// exposedWaits is how long each of the pp stages sits idle while a
// transfer to it is in flight: the length of the union of its incoming
// transfers minus the part covered by its own compute.
func exposedWaits(spans []schedule.Span, pp int) []float64 {
	// A stage's compute spans and each stream of transfers to it (the
	// activations from the stage before, the gradients from the stage
	// after, each a first-come-first-served queue) arrive in time order,
	// so each list is checked sorted rather than sorted. One pass files
	// the spans into lists sized for an even spread over the stages.
	const lists = 3 // compute, activations in, gradients in
	ls := make([][]span2, lists*pp)
	backing := make([]span2, 0, len(spans)+lists*pp)
	per := len(spans)/len(ls) + 1
	for k := range ls {
		ls[k] = backing[len(backing) : len(backing) : len(backing)+per]
		backing = backing[:len(backing)+per]
	}
	for i := range spans {
		sp := &spans[i]
		var k int
		switch {
		case sp.Stream == schedule.Compute:
			if sp.Stage < 0 || sp.Stage >= pp {
				continue
			}
			k = lists * sp.Stage
		case sp.Peer < 0 || sp.Peer >= pp || !(sp.End > sp.Start):
			continue
		case sp.Stream == schedule.SendActivations:
			k = lists*sp.Peer + 1
		default:
			k = lists*sp.Peer + 2
		}
		ls[k] = append(ls[k], span2{sp.Start, sp.End})
	}
	out := make([]float64, pp)
	var merged []span2
	for st := range out {
		list := func(i int) []span2 { return unionOf(ls[lists*st+i]) }
		busy, act, grad := list(0), list(1), list(2)
		merged = unionOf(mergeByStart(merged[:0], act, grad))
		out[st] = uncovered(merged, busy)
	}
	return out
}

// mergeByStart appends to dst the intervals of a and b (each sorted by
// start) in order of start.
func mergeByStart(dst, a, b []span2) []span2 {
	for len(a) > 0 && len(b) > 0 {
		if b[0].start < a[0].start {
			dst, b = append(dst, b[0]), b[1:]
		} else {
			dst, a = append(dst, a[0]), a[1:]
		}
	}
	return append(append(dst, a...), b...)
}

// span2 is an interval of time.
type span2 struct{ start, end float64 }

// uncovered is the length of in (disjoint, sorted) not covered by busy
// (disjoint, sorted).
func uncovered(in, busy []span2) float64 {
	var total, covered float64
	for _, iv := range in {
		total += iv.end - iv.start
	}
	for i, j := 0, 0; i < len(in) && j < len(busy); {
		lo, hi := math.Max(in[i].start, busy[j].start), math.Min(in[i].end, busy[j].end)
		if hi > lo {
			covered += hi - lo
		}
		if in[i].end < busy[j].end {
			i++
		} else {
			j++
		}
	}
	return math.Max(0, total-covered)
}

// unionOf sorts intervals (in place; most arrive in time order already)
// and merges the overlapping ones.
func unionOf(v []span2) []span2 {
	byStart := func(a, b span2) int {
		switch {
		case a.start < b.start:
			return -1
		case a.start > b.start:
			return 1
		}
		return 0
	}
	if !slices.IsSortedFunc(v, byStart) {
		slices.SortFunc(v, byStart)
	}
	out := v[:0]
	for _, iv := range v {
		if n := len(out); n > 0 && iv.start <= out[n-1].end {
			out[n-1].end = math.Max(out[n-1].end, iv.end)
			continue
		}
		out = append(out, iv)
	}
	return out
}
