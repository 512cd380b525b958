package train

import (
	"math"
	"math/bits"
	"slices"

	"github.com/scaleacross/scaleacross/cost"
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/internal/fill"
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/parallel"
	"github.com/scaleacross/scaleacross/schedule"
	"github.com/scaleacross/scaleacross/topology"
)

// Breakdown splits a step into exposed time per cause, in seconds. The
// parts add up to the step time.
type Breakdown struct {
	ComputeS   float64 `json:"compute_s"`
	TPCommS    float64 `json:"tp_comm_s"`
	CPCommS    float64 `json:"cp_comm_s"`
	EPCommS    float64 `json:"ep_comm_s"`
	PPCommS    float64 `json:"pp_comm_s"`
	DPCommS    float64 `json:"dp_comm_s"`
	BubbleS    float64 `json:"bubble_s"`
	OptimizerS float64 `json:"optimizer_s"`
}

// Total adds the parts.
func (b Breakdown) Total() float64 {
	return b.ComputeS + b.TPCommS + b.CPCommS + b.EPCommS + b.PPCommS + b.DPCommS + b.BubbleS + b.OptimizerS
}

// MemoryGiB is the per-GPU memory breakdown in GiB.
type MemoryGiB struct {
	Weights     float64 `json:"weights"`
	Gradients   float64 `json:"gradients"`
	Optimizer   float64 `json:"optimizer"`
	Activations float64 `json:"activations"`
	Buffers     float64 `json:"buffers"`
	Total       float64 `json:"total"`
	Capacity    float64 `json:"capacity"`
	InFlight    float64 `json:"in_flight_micro_batches"`
}

// Result is the prediction for one training step.
type Result struct {
	StepTimeS         float64   `json:"step_time_s"`
	TokensPerS        float64   `json:"tokens_per_s"`
	TokensPerSPerGPU  float64   `json:"tokens_per_s_per_gpu"`
	ModelTFLOPsPerGPU float64   `json:"model_tflops_per_gpu"`
	HWTFLOPsPerGPU    float64   `json:"hardware_tflops_per_gpu"`
	MFU               float64   `json:"mfu"`
	MemoryGiBPerGPU   float64   `json:"memory_gib_per_gpu"`
	Feasible          bool      `json:"feasible"`
	MicroBatches      int       `json:"micro_batches"`
	Breakdown         Breakdown `json:"breakdown"`
	Memory            MemoryGiB `json:"memory"`
	// Levels reports the bytes and time each parallel dimension puts on
	// each level of the topology per step, per GPU.
	Levels []LevelTraffic `json:"levels"`
}

// LevelTraffic is the traffic one dimension sends over one level per step.
type LevelTraffic struct {
	Dim    string  `json:"dim"`
	Level  string  `json:"level"`
	Bytes  float64 `json:"bytes_per_gpu"`
	TimeS  float64 `json:"time_s"`
	Groups int     `json:"concurrent_groups"`
	// CrossesSite is true when the level joins buildings or regions.
	CrossesSite bool `json:"crosses_site"`
}

// stageWork is one pipeline stage's time for one micro-batch, split by cause.
type stageWork struct {
	fwd, bwd             float64 // compute (GEMM, attention, element-wise)
	wgrad                float64 // weight-gradient part of bwd
	tp, cp, ep, pp       float64 // exposed communication
	tpF, cpF, epF, ppF   float64 // the forward pass's share of it
	dp, dpF              float64 // exposed per-micro-batch ZeRO-2/3 traffic, and its forward share
	denseParams, experts float64 // parameters held (per GPU)
	layers, moeLayers    int     // layers held, and how many are MoE
	sends                int     // p2p messages per micro-batch (forward and backward)
	// sendsRow is 1 + the row of the evaluator's sendCounts that counts
	// these sends over each topology level (evaluator.sendsAt), 0 for
	// none: an index, so that a stageWork holds no pointer and copies and
	// clears without write barriers.
	sendsRow int
}

func (w *stageWork) total() float64 { return w.fwd + w.bwd + w.tp + w.cp + w.ep + w.pp + w.dp }

// addScaled adds f times the times of o (not its counts) to w.
func (w *stageWork) addScaled(o *stageWork, f float64) {
	w.fwd += f * o.fwd
	w.bwd += f * o.bwd
	w.wgrad += f * o.wgrad
	w.tp += f * o.tp
	w.cp += f * o.cp
	w.ep += f * o.ep
	w.pp += f * o.pp
	w.tpF += f * o.tpF
	w.cpF += f * o.cpF
	w.epF += f * o.epF
	w.ppF += f * o.ppF
	w.dp += f * o.dp
	w.dpF += f * o.dpF
}

// model is the per-evaluation state shared by the cost helpers.
type evaluator struct {
	c   *Config
	dev *cost.Device
	// spans and linkTab cache the layout's spans and the per-level links
	// by dimension (see dimIndex); caps holds each level's GPU capacity.
	spans    [numDims]topology.Span
	linkTab  [numDims][]network.Link
	ppStride int
	// ofKeyed is true once stageTable has checked (or set) the scratch's
	// table's key, this evaluation's schedule, pp and vp, which no other
	// evaluation changes while this one runs (an Evaluator's scratch is
	// its own): then only its length is checked.
	ofKeyed  bool
	caps     []int
	adjLevel []int // boundaryLevel(s, s+1) for each stage s
	// wrapLevel is boundaryLevel(pp-1, 0), the interleaved orders' wrap
	// from the last stage back to the first.
	wrapLevel int
	// ringLevel is the level of the link from stage s to stage
	// (s+1) mod pp, for each of the pp stages (at least one): adjLevel
	// followed by wrapLevel, in one array.
	ringLevel []int
	// dense and expert hold StageParams once virtualStages has run.
	dense, expert []float64
	prec          hardware.Precision
	// etpSpan is the expert tensor-parallel group on the expert grid.
	etpSpan topology.Span
	// split is c.Parallel.Split(c.Model.Layers) with its error, once
	// virtualStages has run (splitSet).
	split    parallel.LayerSplit
	splitErr error
	splitSet bool
	// gradB and p2pB are gradBytes and p2pBytes (wireBytes), blocking
	// blockingP2P (blockingOf).
	gradB, p2pB float64
	blocking    bool
	// sendCounts holds, by stage and level, the pipeline sends stages
	// counted (stageWork.sendsRow).
	sendCounts []int
	// shared holds what a search's candidates share.
	shared Shared
	// sc, when set, holds reusable buffers and memos (an Evaluator's).
	sc *scratch
}

func newEvaluator(c *Config) (*evaluator, error) { return newEvaluatorShared(c, nil) }

// newEvaluatorShared is newEvaluator with the parts sh holds (if sh is
// not nil) taken from it.
func newEvaluatorShared(c *Config, sh *Shared) (*evaluator, error) {
	e := &evaluator{}
	if err := e.init(c, sh, nil); err != nil {
		return nil, err
	}
	return e, nil
}

// init sets e up to evaluate c with the parts sh holds taken from it,
// keeping its slices in sc's buffers when sc is not nil. e is the zero
// evaluator but for its scratch (as newEvaluatorShared, Evaluator and the
// pool leave it): init sets its fields without clearing the others.
func (e *evaluator) init(c *Config, sh *Shared, sc *scratch) error {
	// The shared parts are copied once, into e (zero when sh is nil).
	if sh != nil {
		e.shared = *sh
	}
	s := &e.shared
	// Without a Shared layout, a configuration whose expert groups take
	// the attention grid's tp is laid out as a Grid (no maps): the
	// evaluation reads its spans and pipeline stride alone.
	if sc != nil {
		sc.noteLevels(c.Topology.Levels)
	}
	var l topology.Layout
	var g topology.Grid
	grid := false
	if s.Layout != nil {
		l = *s.Layout
	} else if c.Parallel.ExpertTP() == c.Parallel.TP {
		var err error
		if sc != nil {
			g, err = sc.gridOf(c)
		} else {
			g, err = c.grid()
		}
		if err != nil {
			return err
		}
		grid = true
	} else {
		var err error
		if l, err = c.Layout(); err != nil {
			return err
		}
	}
	dev := s.Device
	if dev == nil && sc != nil {
		// The device lives in the scratch: MakeDevice's value, not kept
		// for the next evaluation (memos key on a Shared's device only).
		sc.dev = cost.MakeDevice(c.GPU, c.Calib)
		dev = &sc.dev
	} else if dev == nil {
		dev = cost.NewDevice(c.GPU, c.Calib)
	}
	if c.GradSync != GradSyncBucketed {
		if err := checkGradSync(c); err != nil {
			return err
		}
	}
	if c.ZeRO3Gather != ZeRO3Prefetched {
		if err := checkZeRO3Gather(c); err != nil {
			return err
		}
	}
	e.c, e.dev, e.prec, e.sc = c, dev, c.Precision, sc
	e.wireBytes()
	e.blocking = blockingOf(c)
	// Every GPU of a unit sends across a level at once for tp, cp, ep and
	// dp; links say what each then achieves.
	all := s.Links
	if all == nil {
		if sc != nil {
			all = sc.linksOf(c)
		} else {
			all = network.Links(c.Topology, nil, c.Calib.NetworkEfficiency)
		}
	}
	for i := range e.linkTab {
		e.linkTab[i] = all
	}
	if sc != nil && sc.keep && s.Layout != nil && sc.layout == s.Layout {
		// The layout's maps were read for the previous configuration.
		e.spans, e.ppStride = sc.spans, sc.ppStride
	} else if grid {
		e.spans, e.ppStride = g.Spans, g.Stride[topology.DimIndex(topology.PP)]
	} else {
		for i, d := range allDims() {
			e.spans[i] = l.Spans[d]
		}
		e.ppStride = l.Stride[topology.PP]
		if sc != nil {
			sc.layout, sc.spans, sc.ppStride = s.Layout, e.spans, e.ppStride
		}
	}
	if e.linkTab[dimIndex(topology.EP)] = s.EPLinks; s.EPLinks == nil {
		e.linkTab[dimIndex(topology.EP)] = epLinks(c, e.span(topology.EP), all)
	}
	if e.linkTab[dimIndex(topology.PP)] = s.PPLinks; s.PPLinks == nil {
		if sc != nil {
			e.linkTab[dimIndex(topology.PP)] = sc.ppLinksOf(c, e.span(topology.PP))
		} else {
			e.linkTab[dimIndex(topology.PP)] = ppLinks(c, e.span(topology.PP))
		}
	}
	if c.Parallel.ExpertTP() == c.Parallel.TP {
		e.etpSpan = e.span(topology.TP) // c.expertTPSpan(l) without the map
	} else if s.ExpertTPSpan != nil {
		e.etpSpan = *s.ExpertTPSpan
	} else {
		var err error
		if e.etpSpan, err = c.expertTPSpan(l); err != nil {
			return err
		}
	}
	nl, na := len(c.Topology.Levels), max(c.Parallel.PP-1, 0)
	if sc != nil {
		e.caps = sc.levelCaps // read only
		sc.begin(e, sh)
		return nil
	}
	e.caps, e.ringLevel = make([]int, nl), make([]int, na+1)
	e.adjLevel = e.ringLevel[:na]
	for i := range e.caps {
		e.caps[i] = c.Topology.Capacity(i)
	}
	for s := range e.adjLevel {
		e.adjLevel[s] = e.levelBetween(s, s+1)
	}
	e.wrapLevel = e.levelBetween(max(c.Parallel.PP-1, 0), 0)
	e.ringLevel[na] = e.wrapLevel
	return nil
}

// chunkLevel is boundaryLevel(a, b) for a boundary between consecutive
// chunks: adjacent stages (adjLevel) or the wrap between the last stage
// and the first (wrapLevel), read without computing them again.
func (e *evaluator) chunkLevel(a, b int) int {
	if a+b == len(e.adjLevel) && (a == 0 || b == 0) {
		return e.wrapLevel
	}
	return e.boundaryLevel(a, b)
}

// numDims is the number of parallel dimensions.
const numDims = 5

// allDims lists the parallel dimensions in report order.
func allDims() [numDims]topology.Dim {
	return [numDims]topology.Dim{topology.TP, topology.CP, topology.EP, topology.PP, topology.DP}
}

// dimIndex is d's position in dims.
func dimIndex(d topology.Dim) int {
	switch d {
	case topology.TP:
		return 0
	case topology.CP:
		return 1
	case topology.EP:
		return 2
	case topology.PP:
		return 3
	}
	return 4
}

// span is the layout's span of dimension d.
func (e *evaluator) span(d topology.Dim) topology.Span { return e.spans[dimIndex(d)] }

// linksOf is what one GPU achieves at each level for dimension d's traffic.
func (e *evaluator) linksOf(d topology.Dim) []network.Link { return e.linkTab[dimIndex(d)] }

// ppSenders counts, per level, the GPUs of one unit that send pipeline
// activations across that level at once: only the last stage held in the
// unit sends forward (and the first sends gradients back), so a unit of
// C GPUs holding k stages has C/k senders in each direction.
func ppSenders(t topology.Topology, s topology.Span, pp int) []float64 {
	return ppSendersInto(make([]float64, len(t.Levels)), t, s, pp)
}

// ppSendersInto is ppSenders written into out, one entry per level of t.
func ppSendersInto(out []float64, t topology.Topology, s topology.Span, pp int) []float64 {
	clear(out)
	inner := 1 // stages within one unit of level i-1
	for i := range t.Levels {
		if i > 0 {
			out[i] = float64(t.Capacity(i-1)) / float64(max(inner, 1))
		}
		if i < len(s.Factors) {
			inner *= s.Factors[i]
		}
	}
	return out
}

func (e *evaluator) coll(k network.Kind, bytes float64, d topology.Dim) float64 {
	return network.Time(k, bytes, e.span(d), e.linksOf(d))
}

// opCost is the time of one micro-batch through some layers, split by
// cause and by pass. Communication fields are the exposed part.
type opCost struct {
	fwd, bwd float64 // compute; bwd includes the weight gradients
	wgrad    float64 // the weight-gradient GEMMs inside bwd (zero-bubble W)
	tpF, tpB float64
	cpF, cpB float64
	epF, epB float64
}

// addScaled adds f times b to a.
func (a *opCost) addScaled(b opCost, f float64) {
	a.fwd += f * b.fwd
	a.bwd += f * b.bwd
	a.wgrad += f * b.wgrad
	a.tpF += f * b.tpF
	a.tpB += f * b.tpB
	a.cpF += f * b.cpF
	a.cpB += f * b.cpB
	a.epF += f * b.epF
	a.epB += f * b.epB
}

// forward is the time of the forward pass including exposed communication.
func (a *opCost) forward() float64 { return a.fwd + a.tpF + a.cpF + a.epF }

// backward is the time of the whole backward pass including exposed communication.
func (a *opCost) backward() float64 { return a.bwd + a.tpB + a.cpB + a.epB }

// layerWork prices one transformer layer for one micro-batch: the
// operator list of cost.BuildLayer on the calibrated device, its
// communication on the layout's links.
func (e *evaluator) layerWork(i int) opCost {
	if sc := e.sc; sc != nil {
		// The scratch's list, kept grown: a stack array is zeroed on
		// every call.
		oc, ops := e.layerWorkOn(sc.layerOps[:0], i)
		sc.layerOps = ops[:0]
		return oc
	}
	var buf [16]cost.Op // the list stays on the stack
	oc, _ := e.layerWorkOn(buf[:0], i)
	return oc
}

// layerWorkOn is layerWork building the operator list in ops' storage,
// which it returns.
func (e *evaluator) layerWorkOn(ops []cost.Op, i int) (opCost, []cost.Op) {
	c := e.c
	p := &c.Parallel
	dev := e.dev
	l := cost.BuildLayer(ops, cost.LayerInput{
		Model: c.Model, Layer: i, Seqs: c.Batch.MicroBatch, SeqLen: c.Batch.SeqLen,
		TP: p.TP, CP: p.CP, EP: p.EP, ETP: p.ExpertTP(), SP: p.SP,
		Prec: e.prec, Unfused: c.UnfusedAttention, Dispatcher: c.Dispatcher,
	})
	var fwd, bwd, cpF, cpB, epF, epB float64
	// GEMMs: forward once, backward twice (input and weight gradients),
	// summed block by block; the expert GEMMs stretch by the routing
	// imbalance of the busiest GPU (routingLoad).
	var imb, pad, skew float64 = 1, 1, 1
	if l.MoE {
		imb, pad, skew = e.routingLoad(l.Comm.EPSlots*float64(p.ExpertTP()), p.EP)
	}
	var g, g0, blk, sharedG float64
	var scores, scores0 float64 // unfused attention: score and value GEMMs, the score GEMM
	var soft *cost.Op           // unfused attention: the softmax in HBM
	var attn *cost.Op           // fused attention
	var moeBytes float64
	var moeKernels int
	cur := cost.Block(255)
	flush := func() {
		switch cur {
		case cost.Experts:
			g0 = g
			g += imb * blk
		case cost.Shared:
			sharedG = blk
			g += blk
		default: // any other block's GEMMs (zero where it has none)
			g += blk
		}
		blk = 0
	}
	for k := range l.Ops {
		o := &l.Ops[k]
		if o.Block != cur {
			flush()
			cur = o.Block
		}
		switch {
		case o.Block == cost.AttnCore && o.Kind == cost.GEMMOp:
			t := dev.GEMM(o.M, o.N, o.K, o.Prec)
			if scores == 0 {
				scores0 = t
			}
			scores += t
		case o.Block == cost.AttnCore && o.Kind == cost.MemoryOp:
			soft = o
		case o.Kind == cost.AttentionOp:
			attn = o
		case o.Kind == cost.GEMMOp:
			blk += dev.GEMM(o.M, o.N, o.K, o.Prec)
		case o.Kind == cost.GroupedOp:
			blk += dev.GroupedGEMM(o.M*pad, o.N, o.K, o.Groups, o.Prec, true)
		case o.Block == cost.Permute:
			moeBytes, moeKernels = o.Bytes, o.Kernels
		}
	}
	flush()
	moeG := g - g0 // the MoE block's GEMM time, forward
	fwd += g
	bwd += 2 * g
	wgrad := g
	if soft != nil {
		sf := dev.MemoryBound(soft.Bytes, soft.Kernels)
		fwd += scores + sf
		bwd += 2*scores + dev.MemoryBound(soft.BackwardBytes, soft.Kernels)
		if c.Recompute == parallel.RecomputeSelective {
			bwd += scores0 + sf
		}
	}
	if attn != nil {
		fwd += dev.Attention(attn.FLOPs)
		bwd += dev.Attention(attn.BackwardFLOPs())
	}
	for k := range l.Ops {
		if o := &l.Ops[k]; o.Block == cost.Elementwise {
			fwd += dev.MemoryBound(o.Bytes, o.Kernels)
			bwd += dev.MemoryBound(o.BackwardBytes, 2*o.Kernels)
		}
	}
	if moeBytes > 0 {
		fwd += e.permuteTime(moeBytes, moeKernels)
		bwd += e.permuteTime(moeBytes, moeKernels)
	}
	if l.MoE {
		// Dispatch and combine all-to-all forward, their gradients
		// backward, 16-bit; with FP8Dispatch under 8-bit training the
		// forward dispatch moves 8-bit activations (DeepSeek-V3 report,
		// section 3.3).
		h := l.Comm.Hidden
		dispatch := e.dispatchBytes()
		sent := l.Comm.EPSlots * pad * skew                        // what the busiest receiver waits for
		combine := e.coll(network.AllToAll, sent*h*2, topology.EP) // 16-bit, both ways backward
		dispatched := combine                                      // the same bytes with a 16-bit dispatch
		if dispatch != 2 {
			dispatched = e.coll(network.AllToAll, sent*h*dispatch, topology.EP)
		}
		epF = dispatched + combine
		epB = 2 * combine
		if gathered := l.Comm.ETPElems; gathered > 0 {
			// Megatron-Core's all-to-all dispatcher gathers the dispatched
			// tokens over the etp group after the all-to-all and
			// reduce-scatters the expert output before the combine;
			// backward mirrors them.
			tl := e.linksOf(topology.TP)
			ag := network.Time(network.AllGather, gathered*2, e.etpSpan, tl)
			rs := ag // the same, bit for bit (network.GatherIsScatter)
			if !network.GatherIsScatter(tl) {
				rs = network.Time(network.ReduceScatter, gathered*2, e.etpSpan, tl)
			}
			agD := ag // the same bytes with a 16-bit dispatch
			if dispatch != 2 {
				agD = network.Time(network.AllGather, gathered*dispatch, e.etpSpan, tl)
			}
			etpF := agD + rs
			epF += etpF
			epB += 2 * ag
		}
	}

	// Tensor parallelism: each collective an all-gather + reduce-scatter
	// under SP, an all-reduce without, 16-bit. Backward mirrors.
	var tpc float64
	if n := l.Comm.TPCollectives; n > 0 {
		full := l.Comm.TPElems * 2
		var one float64
		if p.SP {
			ag := e.coll(network.AllGather, full, topology.TP)
			rs := ag // the same, bit for bit (network.GatherIsScatter)
			if !network.GatherIsScatter(e.linksOf(topology.TP)) {
				rs = e.coll(network.ReduceScatter, full, topology.TP)
			}
			one = ag + rs
		} else {
			one = e.coll(network.AllReduce, full, topology.TP)
		}
		tpc = float64(n) * one * 2
	}
	// Context parallelism: ring exchange of K and V (cp-1 steps forward,
	// K, V and their gradients backward), hidden behind attention compute.
	if l.Comm.CPSteps > 0 {
		kv := l.Comm.CPElems * 2
		ring := float64(l.Comm.CPSteps) * e.coll(network.P2P, kv, topology.CP)
		cpF = max(0, ring-dev.Attention(l.AttentionFLOPs))
		cpB = max(0, 2*ring-dev.Attention(cost.AttentionBackward*l.AttentionFLOPs))
	}
	if c.SharedExpertOverlap && sharedG > 0 {
		// The shared experts run on their own stream while the tokens
		// are dispatched and combined (forward), and their backward
		// (twice the GEMMs) while the gradients are (MCore MoE README,
		// --moe-shared-expert-overlap).
		epF = max(0, epF-sharedG)
		epB = max(0, epB-2*sharedG)
	}
	if c.A2AOverlap && epF+epB > 0 {
		// Megatron-Core's 1F1B all-to-all overlap runs one micro-batch's
		// forward with another's backward and hides each one's expert
		// all-to-all under the other's compute: only what the layer's
		// compute cannot cover shows, shared in proportion.
		ep := epF + epB
		hidden := max(0, ep-fwd-bwd)
		epF, epB = hidden*epF/ep, hidden*epB/ep
	}
	oc := opCost{fwd: fwd, bwd: bwd, wgrad: wgrad, tpF: tpc / 2, tpB: tpc / 2, cpF: cpF, cpB: cpB, epF: epF, epB: epB}
	if c.Recompute == parallel.RecomputeMoE && l.MoE {
		// The backward first re-runs the MoE block's forward: its GEMMs,
		// router and permutation passes and the dispatch and combine.
		oc.bwd += moeG + e.permuteTime(moeBytes, moeKernels)
		oc.epB += epF
	}
	if c.Recompute == parallel.RecomputeFull {
		// The backward first re-runs the forward, communication included.
		oc.bwd += fwd
		oc.tpB += tpc / 2
		oc.epB += epF
	}
	e.addHostTime(&oc, &l, moeG+e.permuteTime(moeBytes, moeKernels)+epF)
	return oc, l.Ops
}

// addHostTime adds to oc, the layer l's cost for one micro-batch, the
// host time its GPU work does not hide (cost.ExposedHost): the host
// issues the layer's operations (cost.Layer.HostOps) at
// cost.Device.HostTime each, and the GPU cannot run ahead of it. An MoE
// layer's forward drains the GPU's queue at the dispatcher's
// device-to-host synchronisation, after which the host issues the
// permutations, the dispatch, the routed experts and the combine (post,
// their GPU time) and then the next layer's attention and router up to
// its synchronisation (the rest of the forward); a pass without a
// synchronisation is priced as a whole. Recomputation re-issues what it
// re-runs. The exposed time is compute: the GPU idles waiting for work.
func (e *evaluator) addHostTime(oc *opCost, l *cost.Layer, post float64) {
	c := e.c
	if c.Calib.HostOpUs <= 0 {
		return
	}
	ops := l.HostOps(cost.HostInput{
		Dispatcher: c.Dispatcher, Graphs: c.CUDAGraphs,
		UnfusedQuantAlloc: c.UnfusedQuantAlloc, RouterFusion: c.RouterFusion, GroupedKernel: c.GroupedKernel,
	})
	bwdOps := ops.Backward
	switch {
	case c.Recompute == parallel.RecomputeFull:
		bwdOps += ops.Pre + ops.Post
	case c.Recompute == parallel.RecomputeMoE && l.MoE:
		bwdOps += ops.Post
	}
	dev := e.dev
	gF, gB := oc.forward(), oc.backward()
	var hostF float64
	if l.MoE {
		post = min(post, gF)
		hostF = cost.ExposedHost(dev.HostTime(ops.Post), post, dev.HostTime(ops.Pre), gF-post)
	} else {
		hostF = cost.ExposedHost(0, 0, dev.HostTime(ops.Pre+ops.Post), gF)
	}
	oc.fwd += hostF
	oc.bwd += cost.ExposedHost(0, 0, dev.HostTime(bwdOps), gB)
}

// permuteTime is the time of an MoE layer's router passes and token
// permutations (the Permute block): fused streaming kernels, or gathers
// and atomic scatter-adds at the permutation efficiency where they run
// unfused (Config.UnfusedPermute, cost.Device.PermuteBound).
func (e *evaluator) permuteTime(bytes float64, kernels int) float64 {
	if e.c.UnfusedPermute {
		return e.dev.PermuteBound(bytes, kernels)
	}
	return e.dev.MemoryBound(bytes, kernels)
}

// dispatchBytes is the bytes per element of the forward token dispatch
// (and the etp gather after it): 16-bit, or the GEMM precision's 8 bits
// where the framework dispatches FP8 (Config.FP8Dispatch). The combine
// and every backward transfer stay 16-bit.
func (e *evaluator) dispatchBytes() float64 {
	if e.c.FP8Dispatch && e.prec.BytesPerElement() <= 1.1 {
		return e.prec.BytesPerElement()
	}
	return 2
}

// moeImbalance is the factor by which the busiest GPU of an ep group
// exceeds the mean expert load. The public MoE rows run force-balanced
// routing (reference/moe.md section 4: MB 26.x, ModelZoo and torchtitan
// rows use --moe-router-force-load-balancing), which routes tokens
// uniformly at random: a GPU's load among its ep peers is then binomial
// with mean n (slots) and standard deviation about sqrt(n), and the
// expected largest of ep such loads is about n + sqrt(2 n ln ep) (the
// Gaussian extreme-value bound). Every GPU waits for the busiest at the
// combine all-to-all. The measured extra imbalance of learned dropless
// routing (8-20%, ModelZoo, moe.md) is applied on top by routingLoad
// (Calib.RoutingImbalance).
func moeImbalance(n float64, ep int) float64 {
	if ep <= 1 || n <= 0 {
		return 1
	}
	return 1 + math.Sqrt(2*math.Log(float64(ep))/n)
}

// routingLoad is the MoE load of the busiest GPU of an ep group
// receiving n token slots on average: the factor on its expert GEMMs
// (imb), the factor on the tokens each expert's GEMM and the all-to-all
// carry (pad) and the factor on the all-to-all's busiest receiver
// (skew). With a capacity factor every expert's input is padded to
// capacity (cf times the mean) and none takes more: imb 1, pad cf.
// Dropless force-balanced routing has the sampling spread of
// moeImbalance; dropless learned routing that times the measured
// imbalance (cost.Params.RoutingImbalance), which also holds up the
// all-to-all at its busiest receiver.
func (e *evaluator) routingLoad(n float64, ep int) (imb, pad, skew float64) {
	c := e.c
	if c.CapacityFactor > 0 {
		return 1, c.CapacityFactor, 1
	}
	imb, skew = moeImbalance(n, ep), 1
	if c.Routing != RoutingForceBalanced && ep > 1 {
		skew = max(c.Calib.RoutingImbalance, 1)
	}
	return imb * skew, 1, skew
}

// virtualStage is one model chunk's cost for one micro-batch.
type virtualStage struct {
	opCost
	layers, moeLayers    int
	denseParams, experts float64 // parameters held per GPU
}

// virtualStages prices every virtual stage (model chunk) in pipeline
// order for one micro-batch; the last one carries the output head and loss.
func (e *evaluator) virtualStages() []virtualStage {
	c := e.c
	p := &c.Parallel
	m := c.Model
	split, err := p.Split(m.Layers)
	e.split, e.splitErr, e.splitSet = split, err, true
	nv := p.PP * p.VP
	sc := e.sc
	if sc != nil && sc.vsValid(e) {
		e.dense, e.expert = sc.dense[:nv], sc.expert[:nv]
		return sc.vs[:nv]
	}
	// Without MoE and local attention every layer is of kind 0; with an
	// even split every chunk holds PerChunk layers, or one fewer at the
	// edges (EdgeFewer).
	uniform := m.MoE == nil && m.AttentionChunk <= 0
	even := uniform && split.Explicit == nil && split.Layers(0, nv) > 0 && split.Layers(nv/2, nv) > 0
	var out []virtualStage
	var dv, ev []float64
	var cls []int // see scratch.cls
	if sc != nil {
		// An even split writes every chunk whole (below); others sum into
		// zeroed chunks.
		if out = grow(&sc.vs, nv); !even {
			clear(out)
		}
		dv, ev = growClear(&sc.dense, nv), growClear(&sc.expert, nv)
		cls = grow(&sc.cls, nv)
		sc.clsOwn, sc.clsEven = sc.clsOwn[:0], even
	} else {
		out, dv, ev = make([]virtualStage, nv), make([]float64, nv), make([]float64, nv)
	}
	// Layers of one kind (dense or MoE, local or global attention) cost
	// the same: price each kind once.
	var memo [4]opCost
	var priced [4]bool
	var lw lwLookup // memoLayerWork's reading of e, once
	fewDiffer := parallel.StageParamsInto(m, *p, split, dv, ev)
	e.dense, e.expert = dv, ev
	// Chunks with the same layers of each kind cost the same: seen holds
	// the first chunk of each count seen so far (a few), to copy.
	type seenChunk struct {
		count [4]int
		v     int
	}
	var seen [4]seenChunk
	nSeen := 0
	layer := 0
	general := nv // the chunks the loop below prices
	if even {
		// The loop below would price layer 0, sum it afresh for the first
		// chunk of each count and copy that sum for the others. The same,
		// without its per-chunk bookkeeping: both sums are made on zero
		// chunks, every chunk is filled with the first and the edges that
		// hold one fewer get the second.
		one := e.memoLayerWork(0, &lw)
		var sums [2]virtualStage // PerChunk layers, and one fewer
		for k := range sums {
			n := split.PerChunk - k
			sums[k].addScaled(one, float64(n))
			sums[k].layers = n
		}
		// The chunks that hold PerChunk layers and the parameters of chunk
		// r are r's class (all equal); the others are classes of their own.
		r := 0 // the second chunk where there are three or more (the first holds the embedding)
		if nv >= 3 {
			r = 1
		}
		tmpl := sums[0]
		tmpl.denseParams, tmpl.experts = dv[r], ev[r]
		fillChunks(out, &tmpl)
		fill.Slice(cls, r)
		// own gives chunk v its layers, its parameters and a class of its
		// own (twice the same).
		own := func(v int) {
			if split.Layers(v, nv) != split.PerChunk {
				out[v] = sums[1]
			}
			out[v].denseParams, out[v].experts = dv[v], ev[v]
			if cls != nil {
				cls[v] = v
				sc.clsOwn = append(sc.clsOwn, v)
			}
		}
		dR, eR := dv[r], ev[r]
		ev := ev[:len(dv)]
		if mtp := parallel.MTPStage(m, *p); fewDiffer && r == 1 && mtp != r {
			// Only the first chunk, the MTP stage's and the last can
			// differ from r's (StageParamsInto): the loop below over
			// those, in the same order.
			for i, v := range [3]int{0, mtp, nv - 1} {
				if i == 1 && (v <= 0 || v >= nv-1) {
					continue // no MTP stage, or the first's or the last's
				}
				if dv[v] != dR || ev[v] != eR {
					own(v)
				}
			}
		} else {
			for v, d := range dv {
				if d != dR || ev[v] != eR {
					own(v)
				}
			}
		}
		if split.EdgeFewer {
			own(0)
			own(nv - 1)
		}
		general = 0
	}
	for v := 0; v < general; v++ {
		w := &out[v]
		n := split.Layers(v, nv)
		var count [4]int
		if uniform && n > 0 {
			if !priced[0] {
				memo[0] = e.memoLayerWork(layer, &lw)
				priced[0] = true
			}
			count[0] = n
		}
		for i := layer; i < layer+n && !uniform; i++ {
			k := 0
			if m.IsMoELayer(i) {
				k = 1
			}
			if m.IsLocalAttentionLayer(i) {
				k += 2
			}
			if !priced[k] {
				memo[k] = e.memoLayerWork(i, &lw)
				priced[k] = true
			}
			count[k]++
		}
		copied, vsFrom := false, 0
		for i := range seen[:nSeen] {
			// Element by element, without copying the entry: a whole-array
			// compare loads the counts just stored in wide words and
			// stalls on store forwarding.
			x := &seen[i]
			if x.count[0] == count[0] && x.count[1] == count[1] && x.count[2] == count[2] && x.count[3] == count[3] {
				*w = out[x.v] // the same sums of the same costs
				copied, vsFrom = true, x.v
				break
			}
		}
		if !copied {
			for k, c := range count {
				if c > 0 {
					w.addScaled(memo[k], float64(c))
				}
			}
			if nSeen < len(seen) {
				seen[nSeen] = seenChunk{count, v}
				nSeen++
			}
		}
		w.layers = n
		w.moeLayers = count[1] + count[3]
		layer += n
		w.denseParams = dv[v]
		w.experts = ev[v]
		if cls != nil {
			cls[v] = v
			if copied {
				// Equal to the chunk it was copied from, unless it holds
				// other parameters or layer counts.
				if x := &out[vsFrom]; x.layers == w.layers && x.moeLayers == w.moeLayers && x.denseParams == w.denseParams && x.experts == w.experts {
					cls[v] = cls[vsFrom]
				}
			}
		}
	}
	// Output head and loss on the last virtual stage; embedding is a lookup.
	T := float64(c.Batch.MicroBatch) * float64(c.Batch.SeqLen) / float64(p.CP)
	h := float64(m.Hidden)
	V := float64(m.Vocab) / float64(p.TP)
	hT := T
	if c.HeadClasses > 0 { // a classifier on one pooled token per sequence
		hT, V = float64(c.Batch.MicroBatch), float64(c.HeadClasses)
	}
	head := e.dev.GEMM(hT, V, h, hardware.BF16)
	ce := e.dev.MemoryBound(hT*V*4*3, 3)
	last := &out[nv-1]
	last.fwd += head + ce
	last.bwd += 2*head + ce
	last.wgrad += head
	if v := parallel.MTPStage(m, *p); v >= 0 {
		e.addMTP(&out[v], head, ce, T, h)
		if cls != nil {
			cls[v] = nv + v // changed after the chunks copied from it
			sc.clsOwn = append(sc.clsOwn, v)
		}
	}
	if cls != nil {
		cls[nv-1] = 2 * nv // the head's: like no other
		sc.clsOwn = append(sc.clsOwn, nv-1)
		sc.clsOf = &out[0]
	}
	if sc != nil {
		sc.vsPriced(e)
	}
	return out
}

// fillChunks sets every element of out to x, copying the filled prefix
// onto the rest (a few block copies rather than one per chunk).
func fillChunks(out []virtualStage, x *virtualStage) {
	if len(out) == 0 {
		return
	}
	out[0] = *x
	for n := 1; n < len(out); n *= 2 {
		copy(out[n:], out[:n])
	}
}

// addMTP prices the model's MTP layers on virtual stage w: per module,
// the operators of cost.MTPOps (norms and the 2h x h projection), one
// decoder layer of the last layer's kind and a second pass through the
// shared output head and cross-entropy (head and ce, the main head's times
// for one micro-batch).
func (e *evaluator) addMTP(w *virtualStage, head, ce, T, h float64) {
	m := e.c.Model
	var buf [2]cost.Op
	ops := cost.MTPOps(buf[:0], T, h, e.c.Parallel.TP, e.prec)
	proj := e.dev.GEMM(ops[0].M, ops[0].N, ops[0].K, ops[0].Prec)
	norms := e.dev.MemoryBound(ops[1].Bytes, ops[1].Kernels)
	one := e.layerWork(m.Layers - 1)
	one.fwd += proj + norms + head + ce
	one.bwd += 2*proj + 2*norms + 2*head + ce
	one.wgrad += proj + head
	w.addScaled(one, float64(m.MTPLayers))
}

// p2pBytes is the activation (or gradient) message between pipeline
// stages for one micro-batch. Megatron-LM sends 1/tp of it across the
// stage boundary and all-gathers the rest inside the node (the
// scatter/gather optimisation, Narayanan et al. 2021, section 4.1), which
// with sequence parallelism is the natural shard. init sets it once
// (wireBytes): every send priced reads it.
func (e *evaluator) p2pBytes() float64 { return e.p2pB }

// gradBytes is the bytes of one activation or gradient element on the
// wire: 4 in fp32 training, else 2 (16-bit, also under FP8 GEMMs). init
// sets it once (wireBytes): the precision is a string.
func (e *evaluator) gradBytes() float64 { return e.gradB }

// wireBytes sets gradBytes' and p2pBytes' values for e's configuration
// and precision.
func (e *evaluator) wireBytes() {
	c := e.c
	e.gradB = 2
	if e.prec == hardware.FP32 {
		e.gradB = 4
	}
	T := float64(c.Batch.MicroBatch) * float64(c.Batch.SeqLen) / float64(c.Parallel.CP)
	e.p2pB = T * float64(c.Model.Hidden) * e.gradB / float64(c.Parallel.TP)
}

// blockingP2P reports whether pipeline sends block the sending stage (the
// schedule's own fact, schedule.Kind.OverlapsP2P). Overlapped sends delay
// only their receiver (in the event engine) and count in the analytic
// model through the bubble.
func (e *evaluator) blockingP2P() bool { return e.blocking }

// blockingOf is blockingP2P's answer for c, which init keeps (P2P and
// the schedule are strings, compared once).
func blockingOf(c *Config) bool {
	switch c.P2P {
	case P2POverlapped:
		return false
	case P2PBlocking:
		return true
	}
	return !c.Schedule.OverlapsP2P()
}

// stages prices every physical pipeline stage for one micro-batch: the
// sum of its chunks, and the pipeline sends it makes.
func (e *evaluator) stages(vs []virtualStage) []stageWork {
	p := &e.c.Parallel
	blocking := e.blockingP2P()
	nl := len(e.c.Topology.Levels)
	sc := e.sc
	if sc != nil && sc.stValid(e) {
		out := sc.st[:p.PP]
		for i := range out {
			out[i].dp, out[i].dpF = 0, 0
		}
		e.sendCounts = sc.sends[:p.PP*nl]
		return out
	}
	var out []stageWork
	var sendCounts []int
	if sc != nil {
		out, sendCounts = growClear(&sc.st, p.PP), growClear(&sc.sends, p.PP*nl)
	} else {
		out, sendCounts = make([]stageWork, p.PP), make([]int, p.PP*nl)
	}
	e.sendCounts = sendCounts
	of := e.stageTable(len(vs))
	if sc != nil {
		sc.stRunOK = false // until sumStagesByClass sets it
	}
	if e.c.Schedule == schedule.DualPipeV {
		// The share of each stage's passes its order fuses differs by
		// stage (schedule.Kind.FusedShare), so equal chunks need not sum
		// alike: every stage is summed on its own.
		sp, _ := e.c.Schedule.Check(e.c.ScheduleParams())
		for v := range vs {
			out[of[v]].addChunk(&vs[v], e.c.Schedule.FusedShare(sp, of[v]))
		}
	} else if !e.sumStagesByClass(vs, of, out) {
		for v := range vs {
			out[of[v]].addChunk(&vs[v], 0)
		}
	}
	// Activations forward to the next virtual stage and gradients back to
	// the previous one, each priced at the level that boundary crosses;
	// blocking sends hold the stage's compute stream.
	maxLevel := -1 // the outermost level a priced send crosses
	var tb [smallLevels]float64
	var times []float64 // p2pTime of each level, for blocking sends
	if blocking && nl <= len(tb) {
		times = tb[:nl]
	} else if blocking {
		times = make([]float64, nl)
	}
	for l := range times {
		times[l] = e.p2pTime(l)
	}
	rr := e.roundRobinTable(len(vs))
	var perStage, lastStage int // round robin: the chunks of each stage, and the stage of the last
	if rr {
		perStage, lastStage = (len(vs)-1)/p.PP, (len(vs)-1)%p.PP // one fewer up to lastStage, for now
	}
	ring := e.ringLevel
	prev := e.wrapLevel // the link from stage st back to st-1 (the first's to the last)
	if rr && !blocking {
		// Chunk v of stage st sends to stage st+1 (the last wraps to the
		// first) unless it is the last chunk, and to stage st-1 unless it
		// is the first, without blocking: only counted, each stage's
		// row of sendCounts read once.
		pp := len(out)
		ring := ring[:pp]
		row := 0 // stage st's row of sendCounts
		for st, next := range ring {
			chunks := perStage // v = st, st+pp, ... below len(vs): (len(vs)-1-st)/pp + 1
			if st <= lastStage {
				chunks++
			}
			toNext, toPrev := chunks, chunks
			if st == lastStage {
				toNext-- // the last chunk
			}
			if st == 0 {
				toPrev-- // the first
			}
			sendCounts[row+next] += toNext
			sendCounts[row+prev] += toPrev
			row += nl
			if n := toNext + toPrev; n != 0 {
				w := &out[st]
				w.sends += n
				if w.sends > 0 {
					w.sendsRow = st + 1 // as the loop at the end sets it
				}
			}
			prev = next
		}
		if sc != nil {
			sc.stPriced(e, maxLevel)
		}
		return out
	}
	for st := 0; rr && st < p.PP; st, prev = st+1, ring[st] {
		// Chunk v of stage st sends to stage st+1 (the last wraps to the
		// first) unless it is the last chunk, and to stage st-1 unless it
		// is the first: the loop below, the neighbours' levels read once.
		// (Blocking sends only: the others are counted above.)
		w := &out[st]
		next := ring[st]
		for v := st; v < len(vs); v += p.PP {
			if v+1 < len(vs) {
				sendCounts[st*nl+next]++
				w.sends++
				maxLevel = max(maxLevel, next)
				t := times[next]
				w.pp += t
				w.ppF += t
			}
			if v >= 1 {
				sendCounts[st*nl+prev]++
				w.sends++
				maxLevel = max(maxLevel, prev)
				w.pp += times[prev]
			}
		}
	}
	for v := 0; v < len(vs) && !rr; v++ {
		st := of[v]
		w := &out[st]
		for d := 0; d < 2; d++ { // to the next virtual stage, then the previous
			nb := v + 1 - 2*d
			if nb < 0 || nb >= len(vs) || of[nb] == st {
				continue
			}
			l := e.chunkLevel(st, of[nb])
			sendCounts[st*nl+l]++
			w.sends++
			if blocking {
				maxLevel = max(maxLevel, l)
				t := times[l]
				w.pp += t
				if d == 0 {
					w.ppF += t
				}
			}
		}
	}
	for st := range out {
		if out[st].sends > 0 {
			out[st].sendsRow = st + 1
		}
	}
	if sc != nil {
		sc.stPriced(e, maxLevel)
	}
	return out
}

// sendsAt is the count of w's pipeline sends over each topology level, nil
// when it makes none.
func (e *evaluator) sendsAt(w *stageWork) []int {
	if w.sendsRow == 0 {
		return nil
	}
	nl := len(e.c.Topology.Levels)
	return e.sendCounts[(w.sendsRow-1)*nl : w.sendsRow*nl]
}

// addChunk adds virtual stage x's compute and communication to the stage
// w that holds it; fused is the share of its passes DualPipeV runs fused
// (schedule.Kind.FusedShare), 0 under every other schedule.
func (w *stageWork) addChunk(x *virtualStage, fused float64) {
	w.fwd += x.fwd
	w.bwd += x.bwd
	w.wgrad += x.wgrad
	w.tpF += x.tpF
	w.cpF += x.cpF
	w.epF += x.epF
	w.tp += x.tpF + x.tpB
	w.cp += x.cpF + x.cpB
	w.ep += x.epF + x.epB
	if fused > 0 {
		// DualPipe overlaps one micro-batch's all-to-all with another's
		// compute in each fused forward-and-backward pair (DeepSeek-V3
		// report, section 3.2.1): only what compute cannot cover shows,
		// in the share fused of the stage's passes its order fuses.
		shown := max(0, x.epF+x.epB-x.fwd-x.bwd)
		w.ep -= fused * (x.epF + x.epB - shown)
		w.epF -= fused * (x.epF - shown/2)
	}
	w.layers += x.layers
	w.moeLayers += x.moeLayers
	w.denseParams += x.denseParams
	w.experts += x.experts
}

// maxStageChunks is the most chunks per stage sumStagesByClass compares.
const maxStageChunks = 8

// sumStagesByClass sums the chunks of every stage into out (of gives each
// chunk's stage) as addChunk does, chunk by chunk in order, but only once
// per distinct run of chunk classes (scratch.cls): stages whose chunks
// are equal, in order, get equal sums, so the later ones copy the first
// one's. It reports false, having done nothing, when vs carries no
// classes or a stage holds more than maxStageChunks chunks.
func (e *evaluator) sumStagesByClass(vs []virtualStage, of []int, out []stageWork) bool {
	sc := e.sc
	if sc == nil || len(vs) == 0 || sc.clsOf != &vs[0] || len(sc.cls) < len(vs) {
		return false
	}
	cls := sc.cls[:len(vs)]
	if e.roundRobinTable(len(vs)) {
		// Chunk j of stage st is st + j*pp: the same, without the lists.
		// The stage of each run is kept (scratch.stRun).
		pp := len(out)
		run := grow(&sc.stRun, pp)
		if sc.clsEven {
			e.sumEvenStages(vs, out, run)
			sc.stRunOK = true
			return true
		}
		var runs [4]int
		nRuns := 0
		for st := range out {
			run[st] = -1
			// The previous stage's run first (consecutive stages are often
			// equal), then the others in order.
			prev := -1
			if st > 0 {
				prev = run[st-1]
			}
			for k := -1; k < nRuns; k++ {
				i := k
				if k < 0 {
					i = prev
				} else if k == prev {
					continue
				}
				if i < 0 {
					continue
				}
				r := runs[i]
				v := st
				for ; v < len(vs) && cls[v] == cls[v-st+r]; v += pp {
				}
				if v >= len(vs) {
					out[st], run[st] = out[r], i
					break
				}
			}
			if run[st] >= 0 {
				continue
			}
			for v := st; v < len(vs); v += pp {
				out[st].addChunk(&vs[v], 0)
			}
			if nRuns < len(runs) {
				runs[nRuns], run[st] = st, nRuns
				nRuns++
			}
		}
		sc.stRunOK = true
		return true
	}
	// n[st] counts stage st's chunks; chunks[st*maxStageChunks:] lists
	// them in order.
	n := growClear(&sc.stChunkN, len(out))
	chunks := grow(&sc.stChunks, len(out)*maxStageChunks)
	for v, st := range of {
		if n[st] == maxStageChunks {
			return false
		}
		chunks[st*maxStageChunks+n[st]] = v
		n[st]++
	}
	// Up to a few distinct runs of classes, each with the first stage
	// that has it.
	var runs [4]int
	nRuns := 0
	sameRun := func(a, b int) bool {
		if n[a] != n[b] {
			return false
		}
		ca, cb := chunks[a*maxStageChunks:a*maxStageChunks+n[a]], chunks[b*maxStageChunks:b*maxStageChunks+n[b]]
		for i := range ca {
			if cls[ca[i]] != cls[cb[i]] {
				return false
			}
		}
		return true
	}
	for st := range out {
		found := false
		for _, r := range runs[:nRuns] {
			if sameRun(st, r) {
				out[st] = out[r]
				found = true
				break
			}
		}
		if found {
			continue
		}
		for _, v := range chunks[st*maxStageChunks : st*maxStageChunks+n[st]] {
			out[st].addChunk(&vs[v], 0)
		}
		if nRuns < len(runs) {
			runs[nRuns] = st
			nRuns++
		}
	}
	return true
}

// sumEvenStages is sumStagesByClass's round robin for classes that are
// one class except the chunks of scratch.clsOwn, each of a class of its
// own: a stage that holds none of those holds what every such stage
// holds, in order, and copies the first one's sum; the others are summed
// each (none equals another). run gets each stage's run, as
// sumStagesByClass's (up to four, -1 past them).
func (e *evaluator) sumEvenStages(vs []virtualStage, out []stageWork, run []int) {
	pp := len(out)
	// The stages holding a chunk of a class of its own: a bit each below
	// 64, listed above.
	var lowOwn uint64
	var eb [8]int
	exc := eb[:0]
	for _, v := range e.sc.clsOwn {
		if s := v % pp; s < 64 {
			lowOwn |= 1 << s
		} else {
			exc = append(exc, s)
		}
	}
	first, nRuns := -1, 0
	for st := range out {
		own := lowOwn>>st&1 != 0
		if st >= 64 {
			own = slices.Contains(exc, st)
		}
		if !own && first >= 0 {
			out[st] = out[first] // one copy (a paired assignment copies twice)
			run[st] = run[first]
			continue
		}
		for v := st; v < len(vs); v += pp {
			out[st].addChunk(&vs[v], 0)
		}
		run[st] = -1
		if nRuns < 4 {
			run[st] = nRuns
			nRuns++
		}
		if !own {
			first = st
		}
	}
}

// stageTable is stageOf(v) for every virtual stage v < nv; an evaluator
// with scratch keeps it for the next evaluation of the same schedule, pp
// and vp.
func (e *evaluator) stageTable(nv int) []int {
	if sc := e.sc; sc != nil && e.ofKeyed && len(sc.of) == nv {
		return sc.of
	}
	k, pp, vp := e.c.Schedule, e.c.Parallel.PP, e.c.Parallel.VP
	if sc := e.sc; sc != nil {
		e.ofKeyed = true // sc.of is of k, pp and vp below
		if sc.ofOK && sc.ofKind == k && sc.ofPP == pp && sc.ofVP == vp && len(sc.of) == nv {
			return sc.of
		}
		sc.of = sc.of[:0]
		for v := 0; v < nv; v++ {
			sc.of = append(sc.of, k.StageOf(pp, vp, v))
		}
		sc.ofOK, sc.ofKind, sc.ofPP, sc.ofVP = true, k, pp, vp
		sc.ofRR = roundRobin(sc.of, pp)
		return sc.of
	}
	of := make([]int, nv)
	for v := range of {
		of[v] = k.StageOf(pp, vp, v)
	}
	return of
}

// roundRobinTable reports whether stageTable(nv) places chunk v on stage
// v mod pp (every schedule but the V-shaped ones), with pp > 2: each
// boundary between chunks then joins a stage to the next one, the last
// stage wrapping to the first, and no two of those pairs are one pair
// reversed.
func (e *evaluator) roundRobinTable(nv int) bool {
	pp := e.c.Parallel.PP
	if pp <= 2 {
		return false
	}
	if sc := e.sc; sc != nil {
		e.stageTable(nv) // sets ofRR
		return sc.ofRR
	}
	// Without a scratch the table would be built afresh: StageOf is
	// v mod pp for v < nv exactly where it is for each v, checked
	// without keeping the table.
	k, vp := e.c.Schedule, e.c.Parallel.VP
	for v, s := 0, 0; v < nv; v++ {
		if k.StageOf(pp, vp, v) != s {
			return false
		}
		if s++; s == pp {
			s = 0
		}
	}
	return true
}

// chunkBoundaryLevels reports, in buf's storage (grown to one entry per
// topology level), which levels the boundaries between consecutive
// virtual stages of an nv-chunk order cross (chunkLevel, for the chunks
// on different stages).
func (e *evaluator) chunkBoundaryLevels(nv int, buf []bool) []bool {
	nl := len(e.c.Topology.Levels)
	crossed := buf[:0]
	if cap(buf) >= nl {
		crossed = buf[:nl]
		clear(crossed)
	} else {
		crossed = make([]bool, nl)
	}
	pp := e.c.Parallel.PP
	if e.roundRobinTable(nv) {
		// Boundary k joins stage k mod pp to the next, the last stage
		// wrapping to the first: every adjacent pair below nv, and the
		// wrap once there is a chunk after the first round.
		for _, l := range e.adjLevel[:max(min(pp-1, nv-1), 0)] {
			crossed[l] = true
		}
		if nv > pp {
			crossed[e.wrapLevel] = true
		}
		return crossed
	}
	of := e.stageTable(nv)
	for k := 0; k+1 < nv; k++ {
		if a, b := of[k], of[k+1]; a != b {
			crossed[e.chunkLevel(a, b)] = true
		}
	}
	return crossed
}

// roundRobin reports whether of[v] is v mod pp for every v.
func roundRobin(of []int, pp int) bool {
	s := 0
	for _, x := range of {
		if x != s {
			return false
		}
		if s++; s == pp {
			s = 0
		}
	}
	return true
}

// overlappedSends is the step time that pipeline sends add when they
// overlap compute (schedule.Kind.OverlapsP2P), for nv virtual stages, mb
// micro-batches and a most loaded stage busy for work seconds per step.
// Two effects show, as in the event engine, where each stage's messages
// to one peer queue on its link while compute goes on:
//
//   - the fill and drain: a micro-batch's activations cross the stage
//     boundaries on the way down and its gradients on the way back, each
//     crossing adding its bytes' time and its latency to the critical
//     path, as a chunk's compute adds to the bubble: once per boundary
//     for one chunk's descent (interleaved schedules fill the later
//     chunks' crossings with other micro-batches), every crossing of the
//     V for zb-v and dualpipev;
//   - the loop: with several chunks per stage a micro-batch that loops
//     back to stage 0 for its next chunk later than the rest of its group
//     keeps the stage busy makes it wait at every chunk transition.
//
// A link that carries more bytes per step than its sender computes for
// sets the pace instead; that is the built pass's (linkPacedPass), which
// runs the links' queues and, over a shared uplink, their processor
// sharing, and which the step takes wherever a message takes
// linkPacedShare of a forward: below that a stage's messages keep its
// links busy for less than its compute. The queue was priced here too,
// as the busiest link's time beyond the stage's work added to the fill's
// path. Where a middle stage's unit sends its activations and its
// gradients through one egress that counted the fill's messages twice
// (the activations go out in the fill, the gradients in the drain, each
// trailing the last by one message): latency-aware-1f1b tp8 pp4 m 2
// behind a 1 Gb/s uplink came out 1.160 s against the event engine's
// 1.028 s, which the built pass gives (TestOverlappedQueueIsTheBuiltPass).
//
// With blocking sends (priced inside each stage's work) it is zero.
func (e *evaluator) overlappedSends(sp schedule.Params, nv int, work float64) float64 {
	mb := sp.MicroBatches
	pp := e.c.Parallel.PP
	if e.blockingP2P() || pp < 2 || e.dualPipeVPaced() {
		return 0
	}
	bytes := e.p2pBytes()
	descent := pp - 1 // crossings on the fill's critical path
	if e.c.Schedule.DefaultChunks() > 1 {
		descent = nv - 1
	}
	// A message's time on each level's link (its bytes' and its
	// latency's), the same for every boundary that crosses the level.
	lks := e.linksOf(topology.PP)
	var xb, hb [smallLevels]float64
	xs, hops := xb[:0], hb[:0]
	if len(lks) <= smallLevels {
		xs, hops = xb[:len(lks)], hb[:len(lks)]
	} else {
		xs, hops = make([]float64, len(lks)), make([]float64, len(lks))
	}
	for l, ln := range lks {
		x := 0.0
		if ln.BytesPerSec > 0 && !math.IsInf(ln.BytesPerSec, 1) {
			x = bytes / ln.BytesPerSec
		}
		xs[l], hops[l] = x, 2*(x+ln.LatencyS)
	}
	var path, stall float64
	fast := e.roundRobinTable(nv)
	if fast {
		// Boundary k joins stage s = k mod pp to the next (the last wraps
		// to the first): the loop below, its levels read off the ring.
		ring := e.ringLevel[:pp]
		for k, n := 0, min(nv-1, descent); k < n; k += pp {
			for _, l := range ring[:min(pp, n-k)] { // boundary k+s leaves stage s
				path += hops[l]
			}
		}
	}
	var of []int
	if !fast {
		of = e.stageTable(nv)
	}
	for k := 0; !fast && k < min(nv-1, descent); k++ {
		if a, b := of[k], of[k+1]; a != b {
			path += hops[e.chunkLevel(a, b)]
		}
	}
	if v := e.c.Parallel.VP; v > 1 && !e.c.Schedule.SplitsBackward() {
		// An interleaved micro-batch returns to stage 0 for its next chunk
		// after one loop through every stage (p crossings, the wrap
		// included); stage 0 meanwhile runs the rest of its group of n
		// consecutive micro-batches. When the loop's communication exceeds
		// that slack the stage waits at each chunk transition of its
		// warm-up, v-1 times a step, one direction's wait hiding the
		// other's. In the steady state backward ops run between a
		// micro-batch's chunks on the stage, which cover the loop where
		// the links do not pace the pass (and where they do, the built
		// pass prices it, linkPacedPass). Priced at every chunk
		// transition, (m/n)(v-1) times, the stall put interleaved-1f1b
		// tp2 pp2 m 8 behind a 1 Gb/s uplink at 6.490 s against the event
		// engine's 5.925 s, which the built pass gives; over seeds 1-60 of
		// TestPropertyPipelineBoundsAndMonotone the interleaved orders'
		// worst draw fell from 9.5% to 5.4%.
		n := max(1, min(sp.Consecutive, mb)) // the schedule's chunk group (Kind.Check defaults it to pp)
		var loop float64
		if fast {
			// Round robin: boundary k joins stage k to k+1, the last to the
			// first (the loop below, its levels read off the ring).
			for _, l := range e.ringLevel[:min(pp, nv-1)] {
				loop += lks[l].LatencyS
				loop += xs[l]
			}
		}
		for k := 0; !fast && k < pp && k+1 < nv; k++ {
			l := e.chunkLevel(of[k], of[k+1])
			loop += lks[l].LatencyS
			loop += xs[l] // zero where the link's rate is not finite and positive: no change
		}
		chunk := work / float64(mb) / float64(v)
		slack := float64(n-pp) * chunk
		stall = float64(v-1) * max(0, loop-slack)
	}
	return path + stall
}

// windowBound is the shortest pipeline pass the stages' in-flight
// windows allow, for schedules in the 1F1B frame with one chunk
// (schedule.Kind.HeldAt): stage s holds at most W_s micro-batches between
// a forward and its backward, and each comes back only after a round
// trip R_s through the stages after it, their work (less the weight
// gradients a split backward defers) and both directions of every
// boundary crossing (latency and bytes; blocking sends are in
// the stages' work already), so by Little's law the stage finishes its m
// micro-batches no sooner than m R_s / W_s after the first arrives, and
// the step is at least that plus the stages before it going and coming
// back. Zero for other schedules.
func (e *evaluator) windowBound(st []stageWork, sp schedule.Params) float64 {
	k := e.c.Schedule
	pp := len(st)
	// With blocking sends the round trip is the stages' own work, sends
	// included, which the most loaded stage's work and the bubble cover.
	if pp < 2 || k.HoldsAll() || e.blockingP2P() || k.HeldAt(sp, 0) == 0 {
		return 0
	}
	fm := float64(sp.MicroBatches)
	var rtt, most float64 // round trip from stage s down and back, s from the last
	split := k.SplitsBackward()
	for s := pp - 1; s >= 0; s-- {
		rtt += st[s].total()
		if split {
			rtt -= st[s].wgrad // deferred weight gradients fill the wait
		}
		if s+1 < pp {
			rtt += 2 * e.p2pTime(e.boundaryLevel(s, s+1))
		}
		if w := k.HeldAt(sp, s); w > 0 {
			most = max(most, fm*rtt/float64(w)-rtt)
		}
	}
	return rtt + most
}

// stageOf is the pipeline stage that holds virtual stage v, as the
// schedule places it (schedule.Kind.StageOf).
func (e *evaluator) stageOf(v int) int {
	return e.c.Schedule.StageOf(e.c.Parallel.PP, e.c.Parallel.VP, v)
}

// p2pTime is one pipeline message over level l.
func (e *evaluator) p2pTime(l int) float64 {
	link := e.linksOf(topology.PP)[l]
	return link.LatencyS + e.p2pBytes()/link.BytesPerSec
}

// firstStageBubble is 1F1B's idle time on its busiest stage when that is
// the first (the embedding's ZeRO-3 gathers, say), for m micro-batches:
// the stage runs its first min(m, p) forwards (its warm-up and the first
// steady one) while the first micro-batch goes down the pipeline and
// back (its own forward, then every other stage's forward and backward),
// then the rest of its work; and it ends no sooner than the last
// gradient, which comes back m-1 cycles of the slowest other stage after
// the first, has been through its backward. With equal stages this is
// the closed form, (p-1)(F+B); with a heavier first stage the closed
// form, (p-1) of the other stages' F+B, charges the forwards the stage
// runs meanwhile as idle, and ZeRO-3 1F1B jobs came out up to 22% above
// the event engine (TestEnginesAgree). ZB-H1 and latency-aware orders
// of one chunk run in 1F1B's frame and never slower than it (their
// weight gradients and extra warm-up fill its idle time), so the
// analytic engine takes the least of this and their own closed forms.
func firstStageBubble(st []stageWork, m int) float64 {
	fwd := func(w *stageWork) float64 { return w.fwd + w.tpF + w.cpF + w.epF + w.ppF + w.dpF }
	f0 := fwd(&st[0])
	b0 := st[0].total() - f0
	chain, cycle := f0, 0.0
	for i := 1; i < len(st); i++ {
		chain += st[i].total()
		cycle = math.Max(cycle, st[i].total())
	}
	fm, k := float64(m), float64(min(m, len(st)))
	pass := math.Max(math.Max(k*f0, chain)+(fm-k)*f0+fm*b0, chain+float64(m-1)*cycle+b0)
	return math.Max(0, pass-fm*(f0+b0))
}

// othersStep is the largest of the closed form's steps (m micro-batches
// of work and the bubble of the others' average) for the stages but wi,
// the most loaded. Each stage's own step is a floor of the pipeline's,
// and the floors keep the step continuous where another stage becomes
// the most loaded: firstStageBubble's tighter bubble for the first stage
// holds only down to the next stage's step, and ZB-H1's closed form
// reads the weight gradients apart from the rest, so two stages of equal
// work give different steps. Without it a faster link that left the
// last stage (the head's) the most loaded in place of a middle one
// (ZB-H1 tp2 pp4 m 5 over three levels, the outer at 5.15 ms) made the
// step 0.02% slower: 13.7125 s at 42.5 Gb/s, 13.7153 s at 45.
func othersStep(k schedule.Kind, sp schedule.Params, st []stageWork, wi, m int) float64 {
	fwd := func(w *stageWork) float64 { return w.fwd + w.tpF + w.cpF + w.epF + w.ppF + w.dpF }
	var sumF, sumW, sumT float64
	for i := range st {
		sumF += fwd(&st[i])
		sumW += st[i].wgrad
		sumT += st[i].total()
	}
	share := 1 / float64(len(st)-1)
	var most float64
	for j := range st {
		if j == wi {
			continue
		}
		w := &st[j]
		// The others' average: the sums less stage j's part.
		F, W, T := (sumF-fwd(w))*share, (sumW-w.wgrad)*share, (sumT-w.total())*share
		most = max(most, float64(m)*w.total()+k.Bubble(sp, F, T-F-W, W))
	}
	return most
}

// bubble is the pipeline's idle time per step given the average stage's
// per-micro-batch work w (all its chunks): the schedule's closed form
// (schedule.Kind.Bubble) with F the forward, B the input-gradient backward
// and W the weight-gradient backward, communication included.
func bubble(k schedule.Kind, sp schedule.Params, w stageWork) float64 {
	F := w.fwd + w.tpF + w.cpF + w.epF + w.ppF + w.dpF
	W := w.wgrad
	B := w.total() - F - W
	return k.Bubble(sp, F, B, W)
}

// lapExcess is what an interleaved order (chunk c of stage s on virtual
// stage c*pp+s, several chunks) idles the most loaded stage wi beyond
// the closed form's bubble of equal stages where one chunk's op is
// heavier on another stage (the embedding's or the head's chunk, whose
// ZeRO-2/3 gathers and reduce-scatters stall it, or an uneven layout):
// while the pipeline warms up each group of n micro-batches
// (sp.Consecutive, at least pp, or all of them) passes through each
// chunk in turn, forwards and then (as it cools down) backwards, a lap
// of the ring of stages that runs at its slowest op, n of them in a row
// on the stage that holds it; stage wi waits out what that op takes
// beyond its own op of the chunk, n times for the forward and n for the
// backward. With m = pp = 8 and vp = 4 under ZeRO-3 (llama3.1-8b tp 1
// dp 2) the embedding's and the head's ops take 3.4 times a layer's and
// the closed form put the analytic engine 23.8% below the event engine
// (0.827 against 1.085 s; the stage that holds the embedding waits on
// the head's).
func (e *evaluator) lapExcess(vs []virtualStage, wi int, sp schedule.Params) float64 {
	c := e.c
	pp := c.Parallel.PP
	if c.Schedule.DefaultChunks() != 1 || len(vs) <= pp || len(vs)%pp != 0 || pp < 2 {
		return 0
	}
	// With an even split (scratch.clsEven) every chunk is of one class
	// but those of scratch.clsOwn: only their laps (a bit each) can
	// differ, and in those only their own chunks and one chunk of the
	// common class (all equal) need be read: the largest of the lap's ops
	// is the largest of those (max is the same whatever the order).
	laps := ^uint64(0)
	var own []int
	if sc := e.sc; sc != nil && sc.clsOf == &vs[0] && len(sc.cls) >= len(vs) && sc.clsEven && len(vs)/pp <= 64 {
		laps = 0
		for _, v := range sc.clsOwn {
			laps |= 1 << (v / pp)
		}
		if pp <= 64 {
			own = sc.clsOwn
		}
	}
	var excess float64
	if c.Parallel.Zero < 2 {
		// The ops are the chunks' own: read in place.
		for v0 := 0; v0 < len(vs); v0 += pp {
			if laps>>(v0/pp)&1 == 0 {
				continue
			}
			w := &vs[v0+wi]
			fw, bw := w.forward(), w.backward()
			maxF, maxB := fw, bw
			if own != nil {
				mask, rest := lapOwn(own, v0, pp)
				for ; mask != 0; mask &= mask - 1 {
					x := &vs[v0+bits.TrailingZeros64(mask)]
					maxF, maxB = max(maxF, x.forward()), max(maxB, x.backward())
				}
				if rest >= 0 {
					x := &vs[rest]
					maxF, maxB = max(maxF, x.forward()), max(maxB, x.backward())
				}
				excess += maxF - fw + maxB - bw
				continue
			}
			for i := range vs[v0 : v0+pp] {
				x := &vs[v0+i]
				maxF = max(maxF, x.forward())
				maxB = max(maxB, x.backward())
			}
			excess += maxF - fw + maxB - bw
		}
	} else {
		for v0 := 0; v0 < len(vs); v0 += pp {
			if laps>>(v0/pp)&1 == 0 {
				continue
			}
			fw, bw := e.stalledOp(&vs[v0+wi])
			maxF, maxB := fw, bw
			if own != nil {
				mask, rest := lapOwn(own, v0, pp)
				for ; mask != 0; mask &= mask - 1 {
					f, b := e.stalledOp(&vs[v0+bits.TrailingZeros64(mask)])
					maxF, maxB = max(maxF, f), max(maxB, b)
				}
				if rest >= 0 {
					f, b := e.stalledOp(&vs[rest])
					maxF, maxB = max(maxF, f), max(maxB, b)
				}
				excess += maxF - fw + maxB - bw
				continue
			}
			for i := range pp {
				f, b := e.stalledOp(&vs[v0+i])
				maxF, maxB = max(maxF, f), max(maxB, b)
			}
			excess += maxF - fw + maxB - bw
		}
	}
	n := min(max(sp.Consecutive, pp), max(sp.MicroBatches, 1))
	return float64(n) * excess
}

// evenClasses returns, where vs are the scratch's virtual stages of an
// even split (scratch.clsEven), the chunks of a class of their own
// (scratch.clsOwn) and the first chunk of the common class, which every
// other chunk equals in every field (-1 where there is none); ok is false
// where vs carries no such classes.
func (e *evaluator) evenClasses(vs []virtualStage) (own []int, common int, ok bool) {
	sc := e.sc
	if sc == nil || len(vs) == 0 || sc.clsOf != &vs[0] || len(sc.cls) < len(vs) || !sc.clsEven {
		return nil, -1, false
	}
	common = -1
	for v := range vs {
		if !slices.Contains(sc.clsOwn, v) {
			common = v
			break
		}
	}
	return sc.clsOwn, common, true
}

// minForward is the least forward compute of the chunks vs. Of an even
// split's chunks it reads those of a class of their own and one of the
// common class (evenClasses): the least of the same values, in any order.
func (e *evaluator) minForward(vs []virtualStage) float64 {
	minF := math.Inf(1)
	if own, common, ok := e.evenClasses(vs); ok {
		if common >= 0 {
			minF = min(minF, vs[common].fwd)
		}
		for _, v := range own {
			minF = min(minF, vs[v].fwd)
		}
		return minF
	}
	for i := range vs {
		minF = min(minF, vs[i].fwd)
	}
	return minF
}

// lapOwn returns which chunks of the lap of pp <= 64 chunks from v0 are
// among own (scratch.clsOwn), a bit each from v0, and the first chunk of
// the lap that is not (-1 where every one is).
func lapOwn(own []int, v0, pp int) (mask uint64, rest int) {
	for _, v := range own {
		if i := v - v0; i >= 0 && i < pp {
			mask |= 1 << i
		}
	}
	rest = -1
	if free := ^mask & (1<<pp - 1); free != 0 {
		rest = v0 + bits.TrailingZeros64(free)
	}
	return mask, rest
}

// stalledOp is virtual stage x's forward and backward op with the
// ZeRO-2/3 stalls addDataParallelStalls adds (as pipelineCosts prices
// them for the event engine).
func (e *evaluator) stalledOp(x *virtualStage) (f, b float64) {
	f, b = x.forward(), x.backward()
	z := e.c.Parallel.Zero
	if z < 2 {
		return f, b
	}
	rs, ag := e.dpTimes(x.denseParams, x.experts)
	switch {
	case z == 3 && e.c.ZeRO3Gather == ZeRO3FlatRoot:
		return f + ag, b + rs
	case z == 3:
		return f + max(0, ag-x.fwd), b + max(0, ag+rs-x.bwd)
	}
	return f, b + max(0, rs-x.bwd)
}

// Analytic predicts one step with closed forms.
func Analytic(c *Config) (Result, error) {
	return analyticPooled(c, nil)
}

func (e *evaluator) analytic() Result {
	var r Result
	e.analyticInto(&r)
	return r
}

// analyticInto is analytic writing its result to *r, which is the zero
// Result (no copies of it on the way out).
func (e *evaluator) analyticInto(r *Result) {
	c := e.c
	p := &c.Parallel
	m := c.Model
	mb := p.MicroBatches(c.Batch)
	vs := e.virtualStages()
	st := e.stages(vs)
	e.addDataParallelStalls(st, vs)
	var worst, avg stageWork
	wi, most, found := 0, worst.total(), false
	for i := range st {
		if t := st[i].total(); t > most { // not copied: a stageWork is large
			wi, most, found = i, t, true
		}
	}
	if found {
		worst = st[wi]
	}
	// The most loaded stage idles while the others fill and drain the
	// pipeline: the bubble is of the other stages' average work.
	share := 1 / float64(max(len(st)-1, 1))
	for i := range st {
		if i != wi || len(st) == 1 {
			avg.addScaled(&st[i], share)
		}
	}
	var b Breakdown
	fm := float64(mb)
	b.ComputeS = fm * (worst.fwd + worst.bwd)
	b.TPCommS = fm * worst.tp
	b.CPCommS = fm * worst.cp
	b.EPCommS = fm * worst.ep
	sp := e.scheduleParams(vs)
	b.PPCommS = fm*worst.pp + e.overlappedSends(sp, len(vs), fm*worst.total())
	b.BubbleS = bubble(c.Schedule, sp, avg) + e.lapExcess(vs, wi, sp)
	// An interleaved order's most loaded stage idles less than the closed
	// form's equal stages where it is fed (heavyStageBubble): with more
	// micro-batches than one group of consecutive ones, or where it holds
	// the most layers.
	if k := c.Schedule; k == schedule.Interleaved || (k == schedule.LatencyAware && p.VP > 1) {
		if mb > max(sp.Consecutive, 1) || e.soleHeavyStage(st) == wi {
			b.BubbleS = e.heavyStageBubble(st, vs, wi, sp)
		} else if mb > p.PP || p.Zero == 3 {
			// One group of consecutive micro-batches (latency-aware's
			// warm-up plan can make all of them one) that outnumbers the
			// stages, or whose ops wait for ZeRO-3 gathers: the first
			// stage, the embedding's, is the busiest, each stage runs
			// its forwards in one wave and idles once until its first
			// backward comes back, and neither the closed form nor the
			// fed stage's bound holds, so the pass is read off the built
			// order (builtBubble). Which orders take it depends on m, p,
			// ZeRO and the warm-up plan (latencyAware, which reads the
			// links' latencies; TestPropertyPipelineBoundsAndMonotone
			// holds the step monotone across it). gpt3-xl tp1 pp8 vp2 dp4
			// ZeRO-3 m 8, its data parallelism across a 182 Gb/s site
			// link, latency-aware: the closed form's 639 ms of bubble put
			// the analytic engine 13.6% above the event engine (3.120
			// against 2.747 s), the fed stage's bound gives 123 ms; the
			// built order idles the first stage 266 ms, as the event
			// engine does (TestStalledGroupReadOffBuiltOrder). gpt3-xl tp4
			// pp4 vp2 dp4 ZeRO-3 latency-aware, one group of 8 or 12: the
			// fed bound 6.7 and 10.0 ms, the built order 19.9 and 23.2
			// (11.8% below the event engine at m 8); tp4 pp8 vp2 dp8 m 8,
			// one group of 8: the closed form 10.7% above. The default
			// plan's output and CPU time were unchanged by it (three
			// runs each).
			if span, ok := e.builtBubble(sp, vs); ok {
				b.BubbleS = max(0, span-fm*worst.total())
			}
		}
	}
	if k := c.Schedule; (k == schedule.OneFOneB || k == schedule.ZBH1 || (k == schedule.LatencyAware && p.VP <= 1)) && len(st) > 1 {
		if wi == 0 {
			b.BubbleS = math.Min(b.BubbleS, firstStageBubble(st, mb))
		}
		if wi == 0 || k == schedule.ZBH1 {
			b.BubbleS = math.Max(b.BubbleS, othersStep(k, sp, st, wi, mb)-fm*worst.total())
		}
	}
	// With no more micro-batches than stages 1F1B never reaches the
	// closed form's steady state, and its pass is read off its order with
	// each stage's own costs (oneFOneBPass), which the event engine runs.
	// ZB-H1's order likewise, its weight gradients in the order
	// schedule.Build gives them. Up to onePassPerStage micro-batches a
	// stage the fill and drain of unequal stages still weigh: where one
	// stage's forward holds a blocking send down a slow boundary and
	// another's backward the gradient back up, the closed forms' bubble
	// of the average stage missed the round trips between them. Which
	// form applies depends on m and p alone, so no link switches it.
	if k := c.Schedule; (k == schedule.OneFOneB || k == schedule.ZBH1) && mb <= onePassPerStage*p.PP {
		b.BubbleS = math.Max(0, e.oneFOneBPass(st, mb, k == schedule.ZBH1)-fm*worst.total())
	}
	if c.Schedule.HoldsAll() {
		// GPipe runs every forward before any backward: two flow shops of
		// m identical jobs one after the other, each of which takes the
		// sum of its stages' times plus m-1 times its slowest stage's
		// (Johnson-type permutation flow shop of identical jobs). With
		// equal stages that is the closed form, (m+p-1)(F+B); when the
		// stage with the slowest forward (a blocking send down a slow
		// boundary) is not the one with the slowest backward (the
		// gradient send back up), the step pays both.
		var maxF, maxB, sum float64
		for i := range st {
			w := &st[i] // not copied: a stageWork is large
			f := w.fwd + w.tpF + w.cpF + w.epF + w.ppF + w.dpF
			maxF, maxB = max(maxF, f), max(maxB, w.total()-f)
			sum += w.total()
		}
		b.BubbleS = max(0, sum+(fm-1)*(maxF+maxB)-fm*worst.total())
	}
	// The closed forms hold for equal stages in the steady state. ZB-V's
	// depends on how each stage's input and weight gradients fill the
	// drain of its V, with few micro-batches too: there the
	// bubble is read off the built order with each stage's own costs
	// (builtBubble), which costs a simulation of the pipeline, so it is
	// not done where a closed form holds. ZB-H1 keeps its closed form
	// (reading it off the built order moved the seeded spread by 0.2
	// points and made the default plan, which searches zb-h1, 36%
	// slower). DualPipeV's too is read off the built order: its closed
	// form (schedule.Kind.Bubble) holds for ops of compute alone and
	// overprices the drain where ZeRO-2/3 stalls or TP communication
	// fill its ops (pipelineGen's draws: analytic 10-15% high; built,
	// the 90th percentile went from 9.1% to 2.7%, worst 15.0% to 10.6%;
	// with linkPacedPass the seeded spread's 90th went from 2.9% to
	// 1.9%). The interleaved
	// orders run at least pp micro-batches (Kind.Check).
	// ZB-V's data-parallel tail is read off the same run (zbvTail):
	// the whole of it over links of their own, behind a shared uplink the
	// reductions' arrivals (ZeRO-0 and 1) and, chunk by chunk, the
	// gather (ZeRO-1 and 2), which are DualPipeV's too (builtArrivals,
	// chainGatherDelay).
	builtZBV, sharedZBV := e.zbvTail()
	// DualPipeV's reductions' arrivals are read off its run, behind a
	// shared uplink too (dpTrunkFree), where they share it as processor
	// sharing (sharedTail). They were read off the run only where no
	// uplink is shared, the closed form's (the V's way back) behind one:
	// while sharedTail shared whole reductions on the uplink the run's
	// arrivals put a cross-site ZeRO-0 job (jobGen: tp8 pp8 dp8 over
	// 2,852 km) 12.1% above the event engine (the closed form's 8.6%).
	// With the uplink's bytes alone shared (dpReductions.priced) the
	// closed form's arrivals came out below it (Mixtral 8x7B tp2 pp4 dp8
	// m 8 behind a 1.46 Tb/s link: 7.2% and 6.8% under ZeRO-0 and 1) and
	// the run's agree to 0.2% there and 0.3% on tp8 pp8 dp8 over 2,852 km
	// (TestSharedTailSharesTheUplinkAlone). The arrivals no longer switch
	// as the uplink starts to bind, where the closed form's jumped.
	arrivals := p.Zero < 2 && (sharedZBV || c.Schedule == schedule.DualPipeV)
	chainGather := (sharedZBV || c.Schedule == schedule.DualPipeV) && (p.Zero == 1 || p.Zero == 2)
	var tailOrder *schedule.Schedule
	var tailRun *schedule.Result
	var arrive []float64 // dataParallelTail's, read off the built run
	// DualPipeV's overlapped sends pace its pass (dualPipeVPaced), whose
	// run its reductions' arrivals are read off (below).
	pacedArrivals := arrivals && e.dualPipeVPaced()
	if c.Schedule == schedule.ZBV || c.Schedule == schedule.DualPipeV {
		if s, r, ok := e.builtRun(sp, vs, builtZBV || (arrivals && !pacedArrivals)); ok {
			b.BubbleS = max(0, r.Makespan-fm*worst.total())
			tailOrder = s
			if builtZBV {
				tailRun = r
			} else if arrivals && !pacedArrivals {
				arrive = e.builtArrivals(s, r, vs)
			}
		}
	}
	if w := e.windowBound(st, sp); w > 0 {
		// The stages cannot keep more micro-batches out than they hold:
		// where the round trip sets the pace, what it adds is exposed
		// pipeline communication.
		b.PPCommS += max(0, w-fm*worst.total()-b.PPCommS-b.BubbleS)
	}
	// Where the links pace the pass, ZeRO-0 and 1 reductions start where
	// its run has each chunk's last backward (builtArrivals), in every
	// order: a stage that waits for its gradients over a slow link
	// finishes well after the next, which the closed forms' spacing (a
	// few ops a stage) does not see. Over a shared uplink they then
	// overlap less, as in the event engine: latency-aware-1f1b tp1 pp4
	// dp2 m 2 over 1 Gb/s pipeline links, its reductions behind a 379
	// Gb/s uplink, came out 13.0% above it (1.445 against 1.279 s, 1.279
	// s so; TestReductionsStartWherePacedRunHasThem).
	var span float64
	var paced bool
	if pacedArrivals || (arrive == nil && p.Zero < 2 && c.GradSync != GradSyncPerTensor) {
		var s *schedule.Schedule
		var r *schedule.Result
		if s, r, paced = e.linkPacedRun(sp, vs, true); paced {
			span, arrive = r.Makespan, e.builtArrivals(s, r, vs)
		}
	} else {
		span, paced = e.linkPacedPass(sp, vs)
	}
	if paced {
		// Where the links pace the pipeline, its pass is the built
		// order's (linkPacedPass): what it adds is exposed pipeline
		// communication (blocking sends are in the stage's work already).
		b.PPCommS += max(0, span-fm*worst.total()-(b.PPCommS-fm*worst.pp)-b.BubbleS)
	}

	// The data-parallel tail and the optimizer are the most loaded stage's,
	// which need not be the stage with the most pipeline work: a first or
	// last stage holding the embedding or the head reduces more.
	// dpTail is the data-parallel time stage w leaves exposed after (or
	// before) its pipeline work under ZeRO-2. ZeRO-2 and 3 stall inside
	// every micro-batch (w.dp, in the stage's work and so in the most
	// loaded stage's: fm*worst.dp below), which is not a tail: a lighter
	// stage's stalls run while the most loaded stage works.
	dpTail := func(w stageWork) float64 {
		if c.GradSync == GradSyncPerTensor {
			// After the stage's whole backward, nothing overlapped.
			return e.perTensorAllReduce(w.layers, w.denseParams)
		}
		if p.Zero != 2 {
			return 0
		}
		// The parameter all-gather for the next step under its first
		// forward.
		_, ag := e.stageDPTimes(w)
		return max(0, ag-w.fwd)
	}
	// Adam: read fp32 master, moments and gradient, write them back and
	// the 16-bit weights: 30 bytes per locally owned parameter.
	ownedBy := func(w *stageWork) float64 {
		if p.Zero >= 1 {
			return w.denseParams/float64(p.DP*p.CP) + w.experts/float64(p.EDP())
		}
		return w.denseParams + w.experts
	}
	// Zero 0 and 1 reduce after the pipeline, as the stages finish
	// (dataParallelTail); zero 2 gathers for the next step.
	// DS3Lab's per-tensor all-reduces (GradSyncPerTensor) run after each
	// stage's whole backward, the most loaded stage's last.
	perTensor := c.GradSync == GradSyncPerTensor
	var tail float64
	if p.Zero < 2 && !perTensor {
		reduce, gather := e.dataParallelTail(st, vs, sp, arrive)
		if tailOrder != nil && chainGather {
			gather = e.chainGatherDelay(tailOrder, vs)
		}
		tail = reduce + gather
	} else {
		tail = dpTail(worst)
	}
	owned := ownedBy(&worst)
	held, tails := worst.denseParams+worst.experts, p.Zero >= 2 || perTensor
	for i := range st {
		if w := &st[i]; w.denseParams+w.experts > held {
			if tails {
				tail = max(tail, dpTail(*w))
			}
			owned = max(owned, ownedBy(w))
		}
	}
	b.OptimizerS = e.dev.MemoryBound(owned*30, 8)
	if tailRun != nil {
		tail = e.builtTail(tailOrder, tailRun, vs, b.OptimizerS)
	} else if p.Zero == 2 && tailOrder != nil && chainGather {
		// ZeRO-2's tail is its gather alone (dpTail), every stage's.
		tail = e.chainGatherDelay(tailOrder, vs)
	}
	b.DPCommS = fm*worst.dp + tail

	r.Breakdown, r.MicroBatches = b, mb
	if !e.shared.NoTraffic {
		r.Levels = e.traffic(worst, mb)
	}
	r.StepTimeS = b.Total()
	tokens := float64(c.Batch.GlobalBatch) * float64(c.Batch.SeqLen)
	r.TokensPerS = tokens / r.StepTimeS
	r.TokensPerSPerGPU = r.TokensPerS / float64(c.GPUs)
	fpt := e.shared.FLOPsPerToken
	if fpt == 0 {
		fpt = m.FLOPsPerToken(c.Batch.SeqLen)
	}
	modelFLOPs := 3 * fpt * tokens
	r.ModelTFLOPsPerGPU = modelFLOPs / r.StepTimeS / float64(c.GPUs) / 1e12
	hw := modelFLOPs
	if c.Recompute == parallel.RecomputeFull {
		hw *= 4.0 / 3
	}
	r.HWTFLOPsPerGPU = hw / r.StepTimeS / float64(c.GPUs) / 1e12
	peak, _ := e.dev.GEMMPeak(c.Precision)
	r.MFU = r.ModelTFLOPsPerGPU * 1e12 / peak

	e.setStageMemory(r, sp, st)
}

// soleHeavyStage is the stage of an interleaved order (the interleaved
// orders and the latency-aware ones with several chunks) that holds more
// layers than any other, or -1 where there is none (even layouts, where
// several stages share the most layers, and the other orders). It reads
// layer counts alone, so no link moves it.
func (e *evaluator) soleHeavyStage(st []stageWork) int {
	c := e.c
	if k := c.Schedule; k != schedule.Interleaved && !(k == schedule.LatencyAware && c.Parallel.VP > 1) {
		return -1
	}
	most, ties, h := -1, 0, -1
	for i := range st {
		switch n := st[i].layers; {
		case n > most:
			most, ties, h = n, 1, i
		case n == most:
			ties++
		}
	}
	if ties != 1 {
		return -1
	}
	return h
}

// heavyStageBubble is the bubble of an interleaved order whose most
// loaded stage wi is fed: it holds more layers than any other
// (soleHeavyStage), or the order runs more micro-batches than one group
// of consecutive ones (schedule.Params.Consecutive). The closed form
// prices the bubble of equal stages, the other stages' average work
// (p-1)/v times, as the idle of the most loaded stage; but where that
// stage is the heaviest in every lap of the ring the others, lighter,
// keep it fed, and it idles only while the virtual stages before
// it on its first chunk fill the pipeline (micro-batch 0's forwards) and
// drain it (the last one's backwards): m times its work plus those ops,
// plus what lapExcess adds where some lap's op is heavier on another
// stage. That is a lower bound on the pass; so is, where the stages are
// nearly equal, each other stage's m times its work plus the closed
// form's bubble of the rest, which takes over continuously as the most
// loaded stage's lead shrinks. The pass is the larger. gpt3-xl's 24
// layers over pp 8 vp 2 leave stage 1 two layers in each chunk where
// the others hold three in all; the closed form's 8.9 ms bubble (m 16)
// put the analytic engine 14.7-16.0% above the event engine, whose run
// idles stage 1 0.85 ms, stage 0's first chunk's forward and backward,
// as this bound does. Reading the pass off the built order (builtRun)
// instead agrees as well on these draws, but it simulates 13% of the
// default plan's analytic evaluations (133,124 of 1,031,592), whose
// user CPU it raised to 1.2-1.7 times (runs under load). The same holds
// for a stage made the most loaded by its ZeRO-3 gathers (the first
// stage, with the embedding's) once the second group of micro-batches
// starts: the lighter stages catch up while it works. gpt3-xl tp2 pp4
// vp2 dp8 ZeRO-3, stage 0 at 23.9 ms a micro-batch and the others at
// 17.9: the built order idles it 27.9 ms with 4 micro-batches (one
// group, the closed form's 28.0 ms) and 4.8-4.9 ms with 8 to 64, where
// the closed form put the analytic engine 11.8% above the event engine
// at m 8 (220.1 against 196.9 ms, now 193.1 ms;
// TestFedStageIdlesPastItsFirstGroup). Within one group the bound does
// not hold: latency-aware gpt3-xl tp4 pp4 vp2 dp4 ZeRO-3, one group of 8
// or 12, gets 6.7 and 10.0 ms from it where the built order idles 19.9
// and 23.2 ms, and 16 micro-batches in groups of 8 get 6.7 against 5.9;
// the caller reads such groups off the built order, or keeps the closed
// form for one group of at most pp without ZeRO-3 (gpt3-xl tp2 pp8 vp2
// dp2 ZeRO-3 m 8 with this bound: 84.6 against 97.5 ms, 13.2% below).
func (e *evaluator) heavyStageBubble(st []stageWork, vs []virtualStage, wi int, sp schedule.Params) float64 {
	fm := float64(max(sp.MicroBatches, 1))
	var fill float64
	for v := range wi {
		f, b := e.stalledOp(&vs[v])
		fill += f + b
	}
	pass := fm*st[wi].total() + fill + e.lapExcess(vs, wi, sp)
	share := 1 / float64(max(len(st)-1, 1))
	for s := range st {
		if s == wi {
			continue
		}
		var rest stageWork
		for i := range st {
			if i != s {
				rest.addScaled(&st[i], share)
			}
		}
		pass = max(pass, fm*st[s].total()+bubble(e.c.Schedule, sp, rest))
	}
	return max(0, pass-fm*st[wi].total())
}

// QuickMemoryGiB is the per-GPU memory of c under its schedule's in-flight
// count, without pricing the step, and whether it fits; for a search's
// pruning. It equals both engines' figure except for the latency-aware
// schedule, whose extra warm-up (planned from stage times) it leaves out:
// a lower bound.
func QuickMemoryGiB(c *Config) (float64, bool) {
	sp, err := c.Schedule.Check(c.ScheduleParams())
	if err != nil {
		sp.Chunks = max(sp.Chunks, 1)
	}
	mem := parallel.EstimateInFlight(c.Model, c.Parallel, c.Batch, c.Recompute, c.Schedule.InFlight(sp), c.Schedule.HoldsAll(), c.UnfusedAttention)
	total := mem.Total / (1 << 30)
	return total, total <= c.GPU.UsableGiB()
}

// ScheduleParams are the parameters both engines run c's schedule with,
// the latency-aware warm-up plan included: what a launcher must set to
// run the schedule that was priced.
func ScheduleParams(c *Config) (schedule.Params, error) {
	e, err := newEvaluator(c)
	if err != nil {
		return schedule.Params{}, err
	}
	return e.scheduleParams(e.virtualStages()), nil
}

// scheduleParams are the parameters both engines run c's schedule with:
// the resolver's, with the kind's defaults, and for latency-aware-1f1b
// the warm-up plan that hides its slow boundaries (latencyAware). Memory
// comes from the same parameters (setMemory), so both engines hold the
// same micro-batches in flight.
func (e *evaluator) scheduleParams(vs []virtualStage) schedule.Params {
	sp := e.c.ScheduleParams()
	if e.c.Schedule == schedule.LatencyAware {
		sp.SlowBoundaries, sp.ExtraWarmup, sp.Consecutive = e.latencyAware(vs)
	}
	if q, err := e.c.Schedule.Check(sp); err == nil {
		return q
	}
	sp.Chunks = max(sp.Chunks, 1)
	return sp
}

// stageDPTimes is the data-parallel reduce-scatter and all-gather time of the
// parameters stage w holds: dense ones over dp*cp, experts over the
// expert-data-parallel group, in 16-bit.
func (e *evaluator) stageDPTimes(w stageWork) (rs, ag float64) {
	return e.dpTimes(w.denseParams, w.experts)
}

// dpTimes is stageDPTimes of a stage holding dense and experts
// parameters, without a stageWork to build and pass (a search asks it
// for every chunk of a ZeRO-2/3 candidate).
func (e *evaluator) dpTimes(dense, experts float64) (rs, ag float64) {
	// Stages that hold the same parameters (all but the first and last,
	// mostly) take the same time: an Evaluator remembers the last one.
	sc := e.sc
	key := [2]float64{dense, experts}
	if sc != nil {
		if t, ok := sc.dpTimesOf(key); ok {
			return t[0], t[1]
		}
	}
	rs, ag = e.stageDPTimesOn(stageWork{denseParams: dense, experts: experts}, e.linksOf(topology.DP))
	if sc != nil {
		sc.dpTimesAre(key, [2]float64{rs, ag})
	}
	return rs, ag
}

// stageDPTimesOn is stageDPTimes over links dl, remembering nothing.
func (e *evaluator) stageDPTimesOn(w stageWork, dl []network.Link) (rs, ag float64) {
	return e.collectiveOn(network.ReduceScatter, w.denseParams, w.experts, dl), e.collectiveOn(network.AllGather, w.denseParams, w.experts, dl)
}

// collectiveOn is collective k of the parameters a stage holds over
// links dl: dense ones over dp*cp, experts over the expert-data-parallel
// group, in 16-bit.
func (e *evaluator) collectiveOn(k network.Kind, dense, experts float64, dl []network.Link) float64 {
	p := &e.c.Parallel
	bytes := e.gradBytes()
	t := network.Time(k, dense*bytes, e.dpSpan(p.DP*p.CP), dl)
	if experts > 0 {
		t += network.Time(k, experts*bytes, e.dpSpan(p.EDP()), dl)
	}
	return t
}

// dpTrunkFree reports whether the data-parallel group's outermost level
// is held to its share of a shared uplink that binds (sharedUplink, the
// rule the event engine's trunks follow), and if so returns the
// data-parallel links with that level at what one GPU achieves there
// without the uplink, appended to buf, with the level and the GPU count
// of one unit below it.
func (e *evaluator) dpTrunkFree(buf []network.Link) (free []network.Link, level, unit int, ok bool) {
	f := e.dpSpan(e.c.Parallel.DP * e.c.Parallel.CP).Factors
	o := -1
	for i, x := range f {
		if x > 1 {
			o = i
		}
	}
	u, ok := e.sharedUplink(o)
	if !ok {
		return nil, 0, 0, false
	}
	out := append(buf, e.linksOf(topology.DP)...)
	out[o] = u.free
	return out, o, u.unit, true
}

// dataParallelTail is the data-parallel time left after the pipeline
// for zero 0 and 1, as the framework overlaps it (overlap_grad_reduce):
// each chunk's gradient reduction starts with its last backward op; the
// stages finish their last backward one after another, the last stage
// first, each a backward op after the one behind it, and a stage's other
// chunks finish earlier (an interleaved group of n micro-batches per
// chunk, n ops apart; the V's way back, 2(p-s)-1 ops before); a stage
// reduces its chunks one after another on its data-parallel stream. Where
// the group crosses a shared uplink that binds (dpTrunkFree) the
// reductions of the stages of one unit share it (processor sharing, the
// event engine's max-min fair trunks): alone a reduction runs at what its
// GPUs achieve without the uplink, with all the unit's stages at once at
// the per-GPU share of the links, which is what each gets on links of its
// own. The zero-1 parameter all-gather before the next step's first
// forward is what it cannot hide under that forward, all stages at once.
// It returns the reductions' time after the pass and that gather's apart
// (zbvTail's chainGatherDelay prices the gather otherwise).
//
// Where at is not nil it holds when each virtual stage's reduction
// may start, after the pass's end (zbvTail, builtArrivals), in place of the
// closed form's.
func (e *evaluator) dataParallelTail(st []stageWork, vs []virtualStage, sp schedule.Params, at []float64) (reduce, gather float64) {
	var buf []network.Link
	if sc := e.sc; sc != nil {
		buf = sc.dpLinks[:0]
	} else {
		var b [8]network.Link
		buf = b[:0]
	}
	free, level, unit, shared := e.dpTrunkFree(buf)
	if sc := e.sc; sc != nil && shared {
		sc.dpLinks = free // grown, kept
	}
	type job = psJob
	pp := len(st)
	nc := max(len(vs)/pp, 1)
	red := dpReductions{e: e, dl: e.linksOf(topology.DP), free: free, shared: shared, level: level, nc: nc}
	// ZB-H1's reductions wait for its weight-gradient ops (splitW below),
	// which roundRobinTail does not read.
	if !shared && e.c.Schedule.DefaultChunks() == 1 && !(e.c.Schedule.SplitsBackward() && nc == 1) {
		return e.roundRobinTail(st, vs, sp, &red)
	}
	// The jobs (only where stages share an uplink); the units the stages
	// sit in, numbered in order of appearance, and how many stages each
	// holds; when each stage's last backward op starts, before stage 0's
	// ends, and how long its ops take; when each stage's stream is free.
	// In the scratch's buffers, or allocated.
	var jobs []job
	var ids, inner, unitOf []int
	var last, op, freeAt []float64
	if sc := e.sc; sc != nil {
		if shared {
			jobs = grow(&sc.dpJobs, len(vs))
		}
		ids, inner, unitOf = grow(&sc.dpInts[0], pp)[:0], grow(&sc.dpInts[1], pp)[:0], grow(&sc.dpInts[2], pp)
		last, op, freeAt = grow(&sc.dpFloats[0], pp), grow(&sc.dpFloats[1], pp), grow(&sc.dpFloats[2], pp)
	} else if pp <= 32 {
		// On the stack, as many stages as a job has.
		var ib [3][32]int
		var fb [3][32]float64
		if shared {
			jobs = make([]job, len(vs))
		}
		ids, inner, unitOf = ib[0][:0], ib[1][:0], ib[2][:pp]
		last, op, freeAt = fb[0][:pp], fb[1][:pp], fb[2][:pp]
	} else {
		if shared {
			jobs = make([]job, len(vs))
		}
		ids, inner, unitOf = make([]int, 0, pp), make([]int, 0, pp), make([]int, pp)
		last, op, freeAt = make([]float64, pp), make([]float64, pp), make([]float64, pp)
	}
	unitOf, last, op = unitOf[:len(st)], last[:len(st)], op[:len(st)]
	var before float64
	pace := e.tailPace(nc)
	// With the backward split and one chunk (ZB-H1) a stage's gradients
	// are final in its last weight-gradient op W, which its input
	// gradients' chain reaches: stage s runs its last B once stage s-1
	// has started its own, and then the min(s, m-1) W ops it deferred
	// (schedule.Build's ZB-H1 order), stage 0 last with one W. The
	// reduction overlaps that W alone, as in the event engine (the last
	// backward-type op's start).
	splitW := e.c.Schedule.SplitsBackward() && nc == 1
	w0 := st[0].wgrad
	// Stage s's unit is s*ppStride/unit, which does not decrease with s
	// (a stride and a unit's GPU count are positive): a stage is in the
	// last unit seen or in a new one, which begins where s*ppStride
	// reaches next, the last unit's end.
	acc, next := 0, 0
	for s := range st {
		w := &st[s]
		// The backward op: the stage's work less its forward passes.
		b := (w.bwd + w.tp - w.tpF + w.cp - w.cpF + w.ep - w.epF + w.pp - w.ppF + w.dp - w.dpF) / float64(nc)
		at := -before - b
		if splitW {
			at = -(w0 + before) + float64(min(s, sp.MicroBatches-1))*w.wgrad
			before += b - w.wgrad
			b = w.wgrad
		} else {
			before += b
			// A chunk's later ops apart: at least the links' pace (tailPace).
			b = max(b, pace)
		}
		u := s // without a shared uplink each stage is on its own
		if shared {
			if acc >= next {
				id := acc / unit
				ids, inner = append(ids, id), append(inner, 0)
				next = (id + 1) * unit
			}
			acc += e.ppStride
			u = len(ids) - 1
			inner[u]++
		}
		unitOf[s], last[s], op[s] = u, at, b
	}
	for s := range freeAt {
		freeAt[s] = math.Inf(-1)
	}
	end, ag := math.Inf(-1), 0.0
	// The jobs' longest time alone and fastest speed (for the check
	// with one chunk below).
	var longest, fastest float64
	k := e.c.Schedule
	// Last virtual stage first: each stage's chunks then come in the order
	// they finish, and the jobs in the order of their chunks, the last
	// first.
	of := e.stageTable(len(vs))
	var laps chunkLaps
	if k.DefaultChunks() == 1 {
		e.chunkLapsOf(&laps, vs, nc)
	}
	for v := len(vs) - 1; v >= 0; v-- {
		s, c := of[v], v/pp // c is the chunk's place in the stage's order
		var earlier float64
		switch {
		case c == 0:
		case k.DefaultChunks() > 1: // the V: chunk 1 on the way back
			earlier = float64(2*(pp-s)-1) * op[s]
		default: // c laps round the stages at least (chunkLaps)
			earlier = max(float64(c*max(sp.Consecutive, pp))*op[s], laps.earlier(pp, s, c))
		}
		fixed, size, speed, a := red.priced(vs[v].denseParams, vs[v].experts)
		if nc == 1 {
			ag = max(ag, a-st[s].fwd) // the stage's parameters are its chunk's
		}
		// Each job at its speed alone, after its stage's previous one
		// (they come in order of arrival, a stage's later chunks first);
		// that is the schedule unless some unit's jobs then meet more of
		// each other than the uplink lets run at that speed.
		arrive := last[s] - earlier
		if at != nil {
			arrive = at[v]
		}
		start := max(arrive, freeAt[s])
		took := fixed + size/speed
		freeAt[s] = start + took
		end = max(end, freeAt[s])
		if shared {
			jb := &jobs[len(vs)-1-v]
			jb.arrive, jb.fixed, jb.left, jb.rate, jb.unit, jb.stage, jb.start = arrive, fixed, size, speed, unitOf[s], s, start
			longest, fastest = max(longest, took), max(fastest, speed)
		}
	}
	ag = e.zero1Gather(st, nc, ag)
	alone := true
	if shared && nc == 1 {
		// One job per stage, in order of start: a job meets at most the
		// jobs that started less than the longest one's time before it
		// (a window two pointers keep), which is often few enough.
		few := math.MaxInt
		for _, n := range inner {
			few = min(few, n)
		}
		for i, j := 0, 0; j < len(jobs) && alone; j++ {
			for sj := jobs[j].start; jobs[i].start+longest <= sj; {
				i++
			}
			alone = float64(j-i+1)*fastest <= float64(few)
		}
		if alone {
			return max(0, end), ag
		}
		alone = true // the exact check below decides
	}
	// On the uplink a job runs after its time off it (psJob.fixed).
	for j := 0; shared && j < len(jobs) && alone; j++ {
		n, at := 0, jobs[j].start+jobs[j].fixed
		for i := range jobs {
			if on := jobs[i].start + jobs[i].fixed; jobs[i].unit == jobs[j].unit && on <= at && on+jobs[i].left/jobs[i].rate > at {
				n++
			}
		}
		alone = float64(n)*jobs[j].rate <= float64(inner[jobs[j].unit])
	}
	if !alone {
		end = sharedTail(jobs, inner, pp)
	}
	return max(0, end), ag
}

// dpReductions prices the data-parallel reductions of dataParallelTail's
// chunks: a chunk's reduction at the per-GPU share of the links dl, and,
// where the group shares an uplink at level (over free, the links with
// that level at what one GPU gets there without it), the part of it that
// crosses the uplink apart from the rest, with its speed-up alone there;
// with one chunk per stage under ZeRO-1, its stage's all-gather. Chunks
// that hold the same parameters (most of them) are priced once.
type dpReductions struct {
	e        *evaluator
	dl, free []network.Link
	shared   bool
	level    int
	nc       int
	memos    [4]dpReduction
	n        int
}

// dpReduction is one priced parameter count of dpReductions.
type dpReduction struct{ dense, experts, fixed, size, speed, ag float64 }

// priced is a chunk's reduction of dense and experts parameters: fixed
// is the time it spends off the shared uplink (the other levels and every
// level's latency; all of it where no uplink is shared), size the rest,
// its bytes over the uplink in seconds at the per-GPU share of the
// links, at speed times that rate alone there (1 where none is shared);
// ag is the stage's ZeRO-1 all-gather with one chunk per stage.
//
// The uplink carries the bytes that cross its level alone, as the event
// engine's trunks run them (trunks.splitCollective: a fixed time, then
// the phases over the uplinks): sharedTail shares size alone between the
// unit's stages. It shared the whole reduction, the other levels'
// bytes too, which the stages move over links of their own, and so ran
// the unit's reductions as if the uplink carried them all: ZB-V tp2 pp4
// vp2 dp8 ZeRO-0 over a shared 1.46 Tb/s trunk (4 stages a unit, the
// 0.45 s reductions 0.18 s off the uplink) had its reductions end 0.67 s
// after the pass where the event engine's end 0.46 s after, the step
// 16.6% above it (TestSharedTailSharesTheUplinkAlone).
func (r *dpReductions) priced(dense, experts float64) (fixed, size, speed, ag float64) {
	for i := range r.memos[:r.n] {
		if m := &r.memos[i]; m.dense == dense && m.experts == experts {
			return m.fixed, m.size, m.speed, m.ag
		}
	}
	e, zero := r.e, r.e.c.Parallel.Zero
	// An all-gather is priced as the reduce-scatter where no level runs
	// NCCL's choice (network.GatherIsScatter): priced once then.
	gather := func(rs float64, dl []network.Link) float64 {
		if network.GatherIsScatter(dl) {
			return rs
		}
		return e.collectiveOn(network.AllGather, dense, experts, dl)
	}
	reduction := func(dl []network.Link) float64 {
		t := e.collectiveOn(network.ReduceScatter, dense, experts, dl)
		if zero == 0 {
			t += gather(t, dl)
		}
		return t
	}
	size = e.collectiveOn(network.ReduceScatter, dense, experts, r.dl)
	switch {
	case zero == 0:
		size += gather(size, r.dl)
	case r.nc == 1: // the stage's zero-1 all-gather (zero1Gather for several chunks)
		ag = gather(size, r.dl)
	}
	speed = 1.0
	if r.shared && size > 0 {
		// The uplink's level at infinite bandwidth leaves the time off
		// it (its latency stays, as splitCollective's fixed time).
		var buf [8]network.Link
		off := append(buf[:0], r.dl...)
		off[r.level].BytesPerSec = math.Inf(1)
		fixed = min(reduction(off), size)
		alone := reduction(r.free) - fixed
		if size-fixed > 0 && alone > 0 {
			size -= fixed
			speed = size / alone
		} else {
			fixed = 0
		}
	}
	if r.n < len(r.memos) {
		r.memos[r.n] = dpReduction{dense, experts, fixed, size, speed, ag}
		r.n++
	}
	return fixed, size, speed, ag
}

// zero1Gather is ag, or more where under ZeRO-1 with nc > 1 chunks per
// stage a stage's all-gather of its parameters does not hide under its
// chunks' first forwards (stageGatherDelay).
func (e *evaluator) zero1Gather(st []stageWork, nc int, ag float64) float64 {
	if e.c.Parallel.Zero != 1 || nc <= 1 {
		return ag
	}
	return max(ag, e.stageGatherDelay(st))
}

// roundRobinTail is dataParallelTail where no uplink is shared and chunk
// c of stage s is virtual stage c*pp+s (the schedules without a V): the
// stages' chains do not meet, so each stage runs its chunks' reductions,
// the last first, on its own stream, in one pass over the stages with
// nothing kept per stage. end and ag are maxima and red's answers pure,
// so the order the stages are visited in changes nothing. A middle stage
// that holds what stage 1 holds and runs its ops as long ends no later
// than stage 1 (it starts its cool-down sooner): it is skipped.
func (e *evaluator) roundRobinTail(st []stageWork, vs []virtualStage, sp schedule.Params, red *dpReductions) (reduce, gather float64) {
	pp, nc := len(st), red.nc
	pace := e.tailPace(nc)
	// Stages of one run hold equal chunks in order (scratch.stRun).
	var run []int
	if sc := e.sc; sc != nil && sc.stRunOK && len(sc.stRun) == pp {
		run = sc.stRun
	}
	group := max(sp.Consecutive, pp) // ops between a stage's chunks' last backward ops
	var laps chunkLaps               // a stage's chunks' last backward ops apart
	e.chunkLapsOf(&laps, vs, nc)
	same := func(s int, op, op1 float64) bool {
		if s < 2 || s >= pp-1 || op != op1 {
			return false
		}
		// Its chunks' last backward ops no closer than stage 1's (to
		// rounding): the laps pass other chunks of the stages between.
		for c := 1; c < nc && laps.sum != nil; c++ {
			g := float64(c*group) * op
			if max(g, laps.earlier(pp, s, c)) < max(g, laps.earlier(pp, 1, c))*(1-1e-12) {
				return false
			}
		}
		if run != nil && run[s] >= 0 && run[s] == run[1] {
			return true
		}
		for c := 0; c < nc; c++ {
			if vs[c*pp+s].denseParams != vs[c*pp+1].denseParams || vs[c*pp+s].experts != vs[c*pp+1].experts {
				return false
			}
		}
		return true
	}
	var before, op1 float64
	end, ag := math.Inf(-1), 0.0
	for s := range st {
		w := &st[s]
		// The backward op: the stage's work less its forward passes.
		op := (w.bwd + w.tp - w.tpF + w.cp - w.cpF + w.ep - w.epF + w.pp - w.ppF + w.dp - w.dpF) / float64(nc)
		before += op
		// A chunk's later ops apart: at least the links' pace (tailPace).
		op = max(op, pace)
		if s == 1 {
			op1 = op
		}
		if same(s, op, op1) {
			continue
		}
		// The stage's last backward op starts before stage 0's ends by
		// the ops of the stages up to it; its other chunks' come earlier.
		last, free := -before, math.Inf(-1)
		for c := nc - 1; c >= 0; c-- {
			var earlier float64
			if c > 0 { // c laps round the stages at least (chunkLaps)
				earlier = max(float64(c*group)*op, laps.earlier(pp, s, c))
			}
			v := c*pp + s
			fixed, size, speed, a := red.priced(vs[v].denseParams, vs[v].experts)
			if nc == 1 {
				ag = max(ag, a-w.fwd) // the stage's parameters are its chunk's
			}
			start := max(last-earlier, free)
			free = start + fixed + size/speed
			end = max(end, free)
		}
	}
	ag = e.zero1Gather(st, nc, ag)
	return max(0, end), ag
}

// psJob is one chunk's gradient reduction: when it may start, its time
// off the shared uplink (fixed, which it runs first, as the event
// engine's reductions do), its work left on the uplink (in seconds at the
// all-at-once share), its speed-up alone there, its unit and stage, and
// when it starts if it runs alone.
type psJob struct {
	arrive, fixed, left, rate float64
	unit, stage               int
	start                     float64
}

// sharedTail runs jobs (each stage's in order of arrival) as processor
// sharing on their units' uplinks, a stage's jobs one after another: a
// job first runs its time off the uplink (fixed), alone, then its work
// on it, where each of a unit's n jobs then on the uplink gets inner/n of
// the all-at-once rate, at most its speed alone (rate). It returns when
// the last ends.
func sharedTail(jobs []psJob, inner []int, pp int) float64 {
	active := make([]int, len(inner))
	busy := make([]bool, pp)
	running := make([]bool, len(jobs))
	onUplink := make([]bool, len(jobs))
	rates := make([]float64, len(jobs))
	t := math.Inf(1)
	for _, j := range jobs {
		t = min(t, j.arrive)
	}
	end := t
	for {
		// Start every job that has arrived and whose stage is free.
		for i := range jobs {
			if j := &jobs[i]; j.left > 0 && !running[i] && j.arrive <= t && !busy[j.stage] {
				running[i], busy[j.stage] = true, true
			}
		}
		// A job whose time off the uplink is over joins it.
		for i := range jobs {
			if j := &jobs[i]; running[i] && !onUplink[i] && j.fixed <= 0 {
				onUplink[i] = true
				active[j.unit]++
			}
		}
		next, any := math.Inf(1), false
		for i := range jobs {
			if jobs[i].left > 0 {
				any = true
				if !running[i] && jobs[i].arrive > t {
					next = min(next, jobs[i].arrive)
				}
			}
		}
		if !any {
			return end
		}
		step := next - t
		for i := range jobs {
			if j := &jobs[i]; running[i] {
				if !onUplink[i] {
					step = min(step, j.fixed)
					continue
				}
				rates[i] = min(j.rate, float64(inner[j.unit])/float64(active[j.unit]))
				step = min(step, j.left/rates[i])
			}
		}
		if math.IsInf(step, 1) {
			return end
		}
		for i := range jobs {
			if j := &jobs[i]; running[i] {
				if !onUplink[i] {
					if j.fixed -= step; j.fixed <= 1e-12*step {
						j.fixed = 0
					}
					continue
				}
				if j.left -= step * rates[i]; j.left <= 1e-12*step {
					j.left, running[i], onUplink[i], busy[j.stage] = 0, false, false, false
					active[j.unit]--
				}
			}
		}
		t += step
		end = t
	}
}

// addDataParallelStalls adds to each stage the per-micro-batch data
// parallel time compute cannot hide: ZeRO-2 reduce-scatters inside every
// backward and ZeRO-3 also gathers before every forward and backward. It
// lengthens each micro-batch's work, and so the bubble too. Each chunk of
// vs moves its own parameters under its own compute, as the event
// engine's ops do (pipelineCosts): a stage's stalls are its chunks'.
func (e *evaluator) addDataParallelStalls(st []stageWork, vs []virtualStage) {
	z := e.c.Parallel.Zero
	if z < 2 {
		return
	}
	of := e.stageTable(len(vs))
	var lastD, lastE, rs, ag float64                       // the last chunk's parameters and times
	flatRoot := z == 3 && e.c.ZeRO3Gather == ZeRO3FlatRoot // a string, compared once
	for v := range vs {
		x, w := &vs[v], &st[of[v]]
		if v == 0 || x.denseParams != lastD || x.experts != lastE {
			// Consecutive chunks mostly hold the same parameters: asked
			// once for them (dpTimes' memo compares them as ==).
			lastD, lastE = x.denseParams, x.experts
			rs, ag = e.dpTimes(lastD, lastE)
		}
		if flatRoot {
			// Gathered before the forward and kept, reduce-scattered after
			// the backward: both exposed.
			w.dpF += ag
			w.dp += ag + rs
		} else if z == 3 {
			f := max(0, ag-x.fwd)
			w.dpF += f
			w.dp += f + max(0, ag+rs-x.bwd)
		} else {
			w.dp += max(0, rs-x.bwd)
		}
	}
}

// setMemory fills r's memory figures for c's schedule run with sp: the
// most loaded stage holds the schedule's in-flight micro-batches
// (schedule.Kind.InFlight), later stages proportionally fewer unless the
// schedule holds them all (GPipe).
func (e *evaluator) setMemory(r *Result, sp schedule.Params) { e.setStageMemory(r, sp, nil) }

// setStageMemory is setMemory given the pipeline stages st (nil for
// none): where each stage's parameters and layers are its chunks' in the
// order the memory model adds them, it reads those sums rather than
// summing the chunks again (parallel.EstimateDenseStages).
func (e *evaluator) setStageMemory(r *Result, sp schedule.Params, st []stageWork) {
	inflight, flat := e.c.Schedule.InFlight(sp), e.c.Schedule.HoldsAll()
	c := e.c
	var mem parallel.Memory
	var lb []int
	var db, xb []float64
	if sc := e.sc; sc != nil {
		lb, db, xb = sc.memLayers[:0], sc.memDense[:0], sc.memExpert[:0]
	}
	if sc := e.sc; sc != nil && sc.memValid(e, inflight, flat) {
		mem = sc.mem
	} else if split, err := e.layerSplit(); err == nil && len(e.dense) > 0 {
		if layers, dense, expert, ok := e.denseStageSums(st, lb, db, xb); ok {
			if sc != nil {
				sc.memLayers, sc.memDense, sc.memExpert = layers, dense, expert // grown, kept
			}
			mem = parallel.EstimateDenseStages(c.Model, c.Parallel, c.Batch, c.Recompute, inflight, flat, c.UnfusedAttention, split, layers, dense, expert)
		} else {
			mem = parallel.EstimateWithParams(c.Model, c.Parallel, c.Batch, c.Recompute, inflight, flat, c.UnfusedAttention, split, e.dense, e.expert)
		}
		if sc != nil {
			sc.memPriced(e, inflight, flat, mem)
		}
	} else {
		mem = parallel.EstimateInFlight(c.Model, c.Parallel, c.Batch, c.Recompute, inflight, flat, c.UnfusedAttention)
	}
	const gib = 1 << 30
	r.Memory = MemoryGiB{
		Weights: mem.Weights / gib, Gradients: mem.Gradients / gib, Optimizer: mem.Optimizer / gib,
		Activations: mem.Activations / gib, Buffers: mem.Buffers / gib, Total: mem.Total / gib,
		Capacity: c.GPU.UsableGiB(), InFlight: mem.InFlight,
	}
	r.MemoryGiBPerGPU = r.Memory.Total
	r.Feasible = r.Memory.Total <= r.Memory.Capacity
}

// layerSplit is c.Parallel.Split(c.Model.Layers), as virtualStages read it.
func (e *evaluator) layerSplit() (parallel.LayerSplit, error) {
	if e.splitSet {
		return e.split, e.splitErr
	}
	return e.c.Parallel.Split(e.c.Model.Layers)
}

// denseStageSums returns, appended to the buffers, the layers and the
// dense and expert parameters each stage of st holds, when they are what
// parallel.EstimateDenseStages reads: a model without MoE layers, every
// chunk v on stage v mod pp (each stage's sums then add its chunks in
// pipeline order from zero, as addChunk does) and no more layers than
// the model has.
func (e *evaluator) denseStageSums(st []stageWork, layers []int, dense, expert []float64) ([]int, []float64, []float64, bool) {
	c := e.c
	if c.Model.MoE != nil || len(st) != c.Parallel.PP || len(e.dense) != c.Parallel.PP*c.Parallel.VP || !e.roundRobinTable(len(e.dense)) {
		return nil, nil, nil, false
	}
	total := 0
	layers, dense, expert = slices.Grow(layers, len(st))[:len(st)], slices.Grow(dense, len(st))[:len(st)], slices.Grow(expert, len(st))[:len(st)]
	for s := range st {
		w := &st[s]
		total += w.layers
		layers[s], dense[s], expert[s] = w.layers, w.denseParams, w.experts
	}
	return layers, dense, expert, total <= c.Model.Layers
}

// dpSpan is the span of a data-parallel group of n ranks: the dp span
// widened by cp (and narrowed for expert groups) — approximated by the dp
// dimension's span scaled at its innermost crossed level.
func (e *evaluator) dpSpan(n int) topology.Span {
	if sc := e.sc; sc != nil {
		return sc.dpSpan(e, n)
	}
	return e.newDPSpan(n, nil)
}

// newDPSpan computes dpSpan(n), its factors appended to buf[:0].
func (e *evaluator) newDPSpan(n int, buf []int) topology.Span {
	base := e.span(topology.DP)
	size := base.Size()
	if n == size || size == 0 {
		return base
	}
	f := append(buf[:0], base.Factors...)
	if n > size {
		// cp (and tp for expert groups) members sit inside the innermost level dp reaches.
		extra := n / size
		cpSpan := e.span(topology.CP)
		for i := range f {
			if i < len(cpSpan.Factors) {
				f[i] *= cpSpan.Factors[i]
			}
		}
		extra /= e.span(topology.CP).Size()
		if extra > 1 {
			f[0] *= extra
		}
		return topology.Span{Factors: f}
	}
	// Fewer members (expert-data-parallel with ep > 1): drop the inner factors.
	div := size / n
	for i := range f {
		g := gcd(f[i], div)
		f[i] /= g
		div /= g
	}
	return topology.Span{Factors: f}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// onePassPerStage is how many micro-batches a stage 1F1B and ZB-H1 may
// run for the analytic engine to read their pass off the order
// (oneFOneBPass, which costs 2pm ops) rather than the closed form. At 1
// (m <= p alone) 1F1B tp8 pp4 m 5 over 6.6 and 3.5 Gb/s levels (a 69 ms
// one between stages 1 and 2) came out 10.1% below the event engine
// (532 against 592 ms) and TestEnginesAgree's worst draws of seeds 14
// and 16 (ZB-H1 tp8 pp8 m 9 and 1F1B tp4 pp8 m 10, the pipeline across
// sites) 15.0% and 14.3% below; at 2, over seeds 1-60 of
// TestPropertyPipelineBoundsAndMonotone, 1F1B's worst draw was 7.3% and
// ZB-H1's 6.4% (m 9 and 10 over pp 4), at 4 2.5% and 3.1%. The default plan's
// best and speed-ups are the same at 1, 2 and 4.
const onePassPerStage = 4
