package schedule

import (
	"fmt"
	"math"
	"strings"

	"github.com/scaleacross/scaleacross/sim"
)

// Dir is the direction of a point-to-point transfer between stages.
type Dir uint8

const (
	// Activations flow from virtual stage k to k+1 after a forward.
	Activations Dir = iota
	// Gradients flow from virtual stage k+1 to k after a backward.
	Gradients
)

func (d Dir) String() string {
	if d == Activations {
		return "activations"
	}
	return "gradients"
}

// Transfer is the cost of one point-to-point message between stages.
type Transfer struct {
	// Latency is the one-way latency in seconds, paid once per message.
	Latency float64
	// Bytes is the message size.
	Bytes float64
	// Bandwidth is the uncontended rate in bytes per second; zero or
	// +Inf means the bytes take no time.
	Bandwidth float64
	// Links, when not empty, carry the bytes: the message shares each
	// link max-min fairly with every other transfer on it
	// (Options.Network must own the links), at most Bandwidth (when
	// positive and finite) per flow.
	Links []*sim.Link
	// Weight is the number of identical flows one message stands for on
	// Links (the symmetric copies of the simulated pipeline that send at
	// once: its data-parallel replicas and tensor-parallel ranks); zero
	// means one.
	Weight float64
	// Serialize queues the bytes of the messages that one stage sends to
	// one peer behind each other at Bandwidth, first come first served,
	// activations and gradients on one queue (a V's way back sends its
	// gradients down the link its activations came up): the sender's link to that peer is busy while a
	// message is on it, so a slow link delays later messages too, while
	// compute goes on. The latency is paid per message after its bytes.
	// With Links the queue holds each message until the one before it
	// has crossed the shared links.
	Serialize bool
	// EgressRate, when positive (with Serialize, without Links), is the
	// rate of the sending stage's egress, one queue that its messages to
	// every peer also pass, first come first served in the order the
	// stage sends them (its ops' order): a message starts when both its
	// peer's queue and the egress are free, holds the egress
	// Bytes/EgressRate and its peer's queue as long as without it. Where
	// one message alone fills the egress (a unit's uplink holding one
	// stage) a stage's messages to its two peers cross one after the
	// other, at its rate together, not twice it; where two fit side by
	// side the second waits for the first's bytes at EgressRate only.
	EgressRate float64
	// Blocking holds the sending stage until the message has arrived
	// (a blocking send): its next op waits for it.
	Blocking bool
}

// Time is the uncontended time of the transfer: Latency + Bytes/Bandwidth.
func (t Transfer) Time() float64 {
	d := t.Latency
	if t.Bandwidth > 0 && !math.IsInf(t.Bandwidth, 1) {
		d += t.Bytes / t.Bandwidth
	}
	return d
}

// Costs gives the durations the simulator needs, in seconds.
type Costs struct {
	// Forward, Backward and Weight give the time of F, B and W of chunk
	// chunk on stage stage. A FullBackward op (BW) takes Backward+Weight.
	// Weight may be nil (zero).
	Forward, Backward, Weight func(stage, chunk int) float64
	// ForwardBackward, when not nil, gives the time of a forward of chunk
	// fChunk fused with a backward of chunk bChunk (DualPipe's "F&B",
	// where one pass's communication hides under the other's compute).
	// Nil means the sum of the two.
	ForwardBackward func(stage, fChunk, bChunk int) float64
	// P2P gives the message from stage from to stage to in direction d.
	// Nil means transfers are free. It is asked once per stage boundary
	// and direction, not per message.
	P2P func(from, to int, d Dir) Transfer
	// Lag, when not nil, is how many seconds the output of op on stage
	// from arrives after its bytes would have crossed alone, for
	// transfers with an EgressRate: the time its sender's egress spends
	// on the stage's messages to other peers while it is on the wire
	// (processor sharing, which a first-come-first-served egress leaves
	// out). Only the message's own arrival moves; its peer's queue and
	// the egress are held as without it, since processor sharing ends
	// the stage's messages together when its egress queue says. Nil
	// means none.
	Lag func(from int, op Op) float64
}

// OpTime is the time op takes on stage st at c: F, B or W of its chunk,
// and a FullBackward's B+W, as Simulate runs it.
func (c Costs) OpTime(st int, op Op) float64 {
	w := 0.0
	if c.Weight != nil && (op.Type == FullBackward || op.Type == WeightBackward) {
		w = c.Weight(st, op.Chunk)
	}
	switch op.Type {
	case Forward:
		return c.Forward(st, op.Chunk)
	case FullBackward:
		return c.Backward(st, op.Chunk) + w
	case InputBackward:
		return c.Backward(st, op.Chunk)
	case WeightBackward:
		return w
	}
	return 0
}

// FusedTime is the time of forward f fused with backward b on stage st
// at c (ForwardBackward, or the two ops' times where it is nil), as
// Simulate runs a fused pair.
func (c Costs) FusedTime(st int, f, b Op) float64 {
	if c.ForwardBackward != nil {
		return c.ForwardBackward(st, f.Chunk, b.Chunk)
	}
	return c.OpTime(st, f) + c.OpTime(st, b)
}

// Options tune Simulate.
type Options struct {
	// Trace records every compute op and transfer as a Span.
	Trace bool
	// Network, when set, runs the simulation as events on its engine (the
	// caller may have scheduled its own events and transfers there, which
	// then compete with the pipeline's on shared links). Simulate runs
	// the engine until it is empty.
	Network *sim.Network
	// OnOp, when set, is called at the virtual end time of every compute
	// op, in time order (it implies event mode, with a private engine if
	// Network is nil). It may schedule more events on the engine.
	OnOp func(Span)
	// OnStart, when set, is called as each compute op starts (event mode
	// only; the op's End is when it will end).
	OnStart func(Span)
	// Scratch, when set, lends its buffers to the run, which keeps them
	// for the next run with it: a caller that simulates many orders one
	// after another allocates almost nothing per run. The Result of a
	// run with a Scratch (its Busy, PeakInFlight and Spans too) is the
	// Scratch's and valid until its next run.
	Scratch *Scratch
}

// Scratch holds Simulate's buffers between runs (Options.Scratch). Its
// zero value is ready to use; one Scratch serves one run at a time.
type Scratch struct {
	ints       []int
	floats     []float64
	bools      []bool
	xfers      []Transfer
	slots      []slot
	fb         []float64
	spans      []Span
	linkFree   []float64
	egressFree []float64
	work       []int
	peak       []int
	cache      map[p2pKey]Transfer
	linkOf     map[p2pKey]int
	res        Result
}

// p2pKey is one direction of a stage boundary.
type p2pKey struct {
	from, to int
	d        Dir
}

// keep makes x, a slice a run grew from *buf or in its place, the
// buffer for the next run, where it holds more.
func keep[T any](buf *[]T, x []T) {
	if cap(x) > cap(*buf) {
		*buf = x[:0]
	}
}

// take returns n zeroed elements of *buf, growing it where it is too
// short; with buf nil it allocates them.
func take[T any](buf *[]T, n int) []T {
	if buf == nil {
		return make([]T, n)
	}
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	x := (*buf)[:n]
	clear(x)
	return x
}

// Stream says where a span ran.
type Stream uint8

// Streams of a stage.
const (
	Compute Stream = iota
	SendActivations
	SendGradients
)

func (s Stream) String() string {
	switch s {
	case Compute:
		return "compute"
	case SendActivations:
		return "send-activations"
	}
	return "send-gradients"
}

// Span is one interval of a timeline: a compute op on Stage, or a
// transfer of Op's output from Stage to Peer.
type Span struct {
	Stage  int
	Stream Stream
	Op     Op
	// Peer is the receiving stage of a transfer, -1 for compute.
	Peer       int
	Start, End float64
}

// Result is the outcome of simulating one step.
type Result struct {
	// Makespan is the time from the first op's start to the last op's end.
	Makespan float64
	// Busy is each stage's total compute time.
	Busy []float64
	// Bubble is the idle fraction of the pipeline: 1 - sum(Busy) /
	// (stages * Makespan), as in Narayanan et al. 2021.
	Bubble float64
	// PeakInFlight is Schedule.PeakInFlight of every stage.
	PeakInFlight []int
	// Spans is the timeline, when Options.Trace is set: in fast mode in
	// dependency order, in event mode in time order.
	Spans []Span
}

// DeadlockError says that a schedule's orders cannot all run: some stage
// waits for work that waits for it.
type DeadlockError struct {
	// Stuck describes, per blocked stage, the op it waits at.
	Stuck []string
}

func (e *DeadlockError) Error() string {
	return "pipeline deadlock: " + strings.Join(e.Stuck, "; ")
}

// Simulate runs s once with the given costs. Each stage runs its ops
// strictly in list order on its compute stream; an op starts when the
// stage is free and its dependencies (Schedule.Deps) have finished and
// their outputs have arrived. Transfers overlap with compute (they use the
// stage's send streams, which are never the bottleneck unless links are
// shared).
//
// Without Options.Network or Options.OnOp, Simulate computes the timeline
// directly (start = max(stage free, inputs arrived)), which is exact when
// transfer times do not depend on each other. Otherwise it runs on the
// event engine, where transfers over shared links slow each other down.
// Both modes share the ordering logic.
func Simulate(s *Schedule, c Costs, opt *Options) (*Result, error) {
	if opt == nil {
		opt = &Options{}
	}
	r, err := newRunner(s, c, opt)
	if err != nil {
		return nil, err
	}
	if opt.Network != nil || opt.OnOp != nil || opt.OnStart != nil {
		r.eventMode()
	} else {
		r.fastMode()
	}
	if sc := opt.Scratch; sc != nil {
		// Keep what the run grew for the next one.
		keep(&sc.spans, r.spans)
		keep(&sc.linkFree, r.linkFree)
		keep(&sc.egressFree, r.egressFree)
		keep(&sc.work, r.work)
	}
	return r.result()
}

// checkRuns reports a DeadlockError if s cannot run to completion. Whether
// it can does not depend on durations, so unit costs decide it.
func checkRuns(s *Schedule) error {
	one := func(int, int) float64 { return 1 }
	_, err := Simulate(s, Costs{Forward: one, Backward: one, Weight: one}, nil)
	return err
}

const unknown = -1.0

// runner holds the state of one simulation; slices are indexed by stage,
// by stage*chunks+chunk, or by microbatch*virtualStages+virtual (so a
// micro-batch's neighbouring virtual stages share cache lines).
type runner struct {
	s       *Schedule
	opt     *Options
	p, v, m int
	nv      int

	stageOf []int // virtual stage -> stage
	durF    []float64
	durB    []float64 // InputBackward
	durBW   []float64 // FullBackward
	durW    []float64
	fwdXfer []Transfer // [k]: activations from k-1 to k (k >= 1)
	bwdXfer []Transfer // [k]: gradients from k+1 to k (k <= nv-2)
	fwdTime []float64
	bwdTime []float64
	lag     func(from int, op Op) float64
	// fwdLink and bwdLink number the serializing link each transfer uses
	// (one per stage boundary and direction); linkFree is when each is
	// next free.
	fwdLink, bwdLink []int
	linkFree         []float64
	// egressFree is when each stage's egress is free
	// (Transfer.EgressRate).
	egressFree []float64
	// linkQueue serializes a link's messages over shared links (event
	// mode), created on first use.
	linkQueue []*sim.Stream

	// slots[microbatch*nv+virtual] holds when that forward and backward
	// finished and when their inputs arrived.
	slots []slot

	pos     []int
	free    []float64
	busy    []float64
	running []bool
	holding []int     // blocking sends of each stage not yet arrived (event mode)
	started []float64 // start of the op running on each stage
	fb      []float64 // fused F&B times, [(stage*v+fchunk)*v+bchunk], or nil
	done    int
	total   int
	end     float64

	work   []int
	queued []bool
	spans  []Span

	e   *sim.Engine
	net *sim.Network

	sc   *Scratch // the run's buffers' owner, or nil
	peak []int    // the Result's PeakInFlight
}

// scratchBufs points at a Scratch's buffers (all nil without one).
type scratchBufs struct {
	ints   *[]int
	floats *[]float64
	bools  *[]bool
	xfers  *[]Transfer
	slots  *[]slot
	fb     *[]float64
	peak   *[]int
}

func newRunner(s *Schedule, c Costs, opt *Options) (*runner, error) {
	p, v, m := s.Params.Stages, s.Params.Chunks, s.Params.MicroBatches
	if p < 1 || v < 1 || m < 1 || len(s.Stages) != p || len(s.virtual) != p*v {
		return nil, fmt.Errorf("simulating %s: schedule is not built (use Build)", s.Kind)
	}
	if c.Forward == nil || c.Backward == nil {
		return nil, fmt.Errorf("simulating %s: Costs.Forward and Costs.Backward are required", s.Kind)
	}
	nv := p * v
	r := &runner{s: s, opt: opt, p: p, v: v, m: m, nv: nv, lag: c.Lag}
	// Without a Scratch every buffer below is nil and take allocates.
	var b scratchBufs
	if sc := opt.Scratch; sc != nil {
		r.sc = sc
		b = scratchBufs{&sc.ints, &sc.floats, &sc.bools, &sc.xfers, &sc.slots, &sc.fb, &sc.peak}
		r.linkFree, r.spans, r.work = sc.linkFree[:0], sc.spans[:0], sc.work[:0]
	}
	// The per-stage and per-virtual-stage slices are cut from one block
	// of each type (fewer allocations); each has its own capacity, so
	// none grows into the next.
	ints := take(b.ints, 3*nv+2*p)
	floats := take(b.floats, 6*nv+3*p)
	bools := take(b.bools, 2*p)
	r.stageOf, r.fwdLink, r.bwdLink = ints[:nv:nv], ints[nv:2*nv:2*nv], ints[2*nv:3*nv:3*nv]
	r.pos, r.holding = ints[3*nv:3*nv+p:3*nv+p], ints[3*nv+p:]
	r.durF, r.durB, r.durW, r.durBW = floats[:nv:nv], floats[nv:2*nv:2*nv], floats[2*nv:3*nv:3*nv], floats[3*nv:4*nv:4*nv]
	r.fwdTime, r.bwdTime = floats[4*nv:5*nv:5*nv], floats[5*nv:6*nv:6*nv]
	r.free, r.busy, r.started = floats[6*nv:6*nv+p:6*nv+p], floats[6*nv+p:6*nv+2*p:6*nv+2*p], floats[6*nv+2*p:]
	r.running, r.queued = bools[:p:p], bools[p:]
	for k := 0; k < nv; k++ {
		r.stageOf[k], _ = s.Placement(k)
	}
	for st := 0; st < p; st++ {
		for ch := 0; ch < v; ch++ {
			i := st*v + ch
			f, b := c.Forward(st, ch), c.Backward(st, ch)
			w := 0.0
			if c.Weight != nil {
				w = c.Weight(st, ch)
			}
			for _, x := range [3]float64{f, b, w} {
				if !(x >= 0) || math.IsInf(x, 1) {
					return nil, fmt.Errorf("simulating %s: stage %d chunk %d has op times F=%g B=%g W=%g; they must be finite and >= 0", s.Kind, st, ch, f, b, w)
				}
			}
			r.durF[i], r.durB[i], r.durW[i], r.durBW[i] = f, b, w, b+w
		}
	}
	xfers := take(b.xfers, 2*nv)
	r.fwdXfer, r.bwdXfer = xfers[:nv:nv], xfers[nv:]
	if c.P2P != nil {
		type key = p2pKey
		var cache map[key]Transfer // one call per boundary and direction
		var linkOf map[key]int
		if sc := r.sc; sc != nil {
			if sc.cache == nil {
				sc.cache, sc.linkOf = map[key]Transfer{}, map[key]int{}
			}
			clear(sc.cache)
			clear(sc.linkOf)
			cache, linkOf = sc.cache, sc.linkOf
		} else {
			cache, linkOf = map[key]Transfer{}, map[key]int{}
		}
		// One queue per ordered pair of stages: a physical link from one
		// stage to another carries every message between them in that
		// direction, activations and gradients alike (a V's way back
		// sends its gradients down the links its activations came up).
		link := func(from, to int) int {
			kk := key{from, to, Activations}
			id, ok := linkOf[kk]
			if !ok {
				id = len(r.linkFree)
				linkOf[kk] = id
				r.linkFree = append(r.linkFree, 0)
			}
			return id
		}
		get := func(from, to int, d Dir) (Transfer, error) {
			kk := key{from, to, d}
			if t, ok := cache[kk]; ok {
				return t, nil
			}
			t := c.P2P(from, to, d)
			if !(t.Latency >= 0) || !(t.Bytes >= 0) || !(t.Bandwidth >= 0) || math.IsInf(t.Latency, 1) {
				return t, fmt.Errorf("simulating %s: transfer of %v from stage %d to %d has latency %g s, %g bytes, bandwidth %g B/s; they must be finite and >= 0", s.Kind, d, from, to, t.Latency, t.Bytes, t.Bandwidth)
			}
			if len(t.Links) > 0 && opt.Network == nil {
				return t, fmt.Errorf("simulating %s: transfer from stage %d to %d names shared links but Options.Network is nil", s.Kind, from, to)
			}
			cache[kk] = t
			return t, nil
		}
		for k := 1; k < nv; k++ {
			a, b := r.stageOf[k-1], r.stageOf[k]
			if a == b {
				continue
			}
			t, err := get(a, b, Activations)
			if err != nil {
				return nil, err
			}
			r.fwdXfer[k], r.fwdTime[k], r.fwdLink[k] = t, t.Time(), link(a, b)
			t, err = get(b, a, Gradients)
			if err != nil {
				return nil, err
			}
			r.bwdXfer[k-1], r.bwdTime[k-1], r.bwdLink[k-1] = t, t.Time(), link(b, a)
		}
	}
	n := nv * m
	r.slots = take(b.slots, n)
	for i := range r.slots {
		r.slots[i] = slot{unknown, unknown, unknown, unknown}
	}
	if c.ForwardBackward != nil {
		r.fb = take(b.fb, p*v*v)
		for st := 0; st < p; st++ {
			for fc := 0; fc < v; fc++ {
				for bc := 0; bc < v; bc++ {
					x := c.ForwardBackward(st, fc, bc)
					if !(x >= 0) || math.IsInf(x, 1) {
						return nil, fmt.Errorf("simulating %s: fused F&B time %g on stage %d (chunks %d, %d) must be finite and >= 0", s.Kind, x, st, fc, bc)
					}
					r.fb[(st*v+fc)*v+bc] = x
				}
			}
		}
	}
	for _, ops := range s.Stages {
		r.total += len(ops)
	}
	if opt.Trace && cap(r.spans) < 2*r.total {
		r.spans = make([]Span, 0, 2*r.total)
	}
	r.peak = take(b.peak, p)
	return r, nil
}

// slot is the state of one micro-batch on one virtual stage; times are
// unknown (negative) until set.
type slot struct {
	fDone, bDone float64 // forward and backward (B or BW) end
	fArr, bArr   float64 // activations and gradient arrival
}

// tryRun starts stage st's next ops for as long as their inputs are in.
// In fast mode it runs them all back to back; in event mode it starts one
// (or one fused pair) and returns, the end event continuing.
func (r *runner) tryRun(st int) {
	ops := r.s.Stages[st]
	for r.pos[st] < len(ops) && !r.running[st] && r.holding[st] == 0 {
		i := r.pos[st]
		op := ops[i]
		ready, d, ok := r.readyAt(st, op, r.free[st])
		if !ok {
			return
		}
		n := 1
		if op.Fused && op.Type == Forward && i+1 < len(ops) {
			// A forward fused with the backward after it: one F&B unit
			// that starts when both have their inputs.
			b := ops[i+1]
			rb, db, ok := r.readyAt(st, b, ready)
			if !ok {
				return
			}
			ready, n = rb, 2
			d = r.fusedTime(st, op, b, d, db)
		}
		if r.e != nil {
			ready = max(ready, r.e.Now())
		}
		end := ready + d
		r.pos[st] += n
		r.busy[st] += d
		r.free[st] = end
		r.started[st] = ready
		if r.e != nil {
			r.running[st] = true
			if r.opt.OnStart != nil {
				r.onStart(st, i, n, ready, end)
			}
			r.e.ScheduleHandler(end, opEnd{r}, st)
			return
		}
		r.finish(st, i, n, ready, end)
	}
}

// readyAt returns when op could start on st if the stage were free at
// free, and how long it runs; ok is false while an input is missing.
func (r *runner) readyAt(st int, op Op, free float64) (ready, d float64, ok bool) {
	ci := st*r.v + op.Chunk
	k := r.s.virtual[ci]
	idx := op.MicroBatch*r.nv + k
	ready = free
	switch op.Type {
	case Forward:
		if k > 0 {
			a := r.slots[idx].fArr
			if a < 0 {
				return 0, 0, false
			}
			ready = max(ready, a)
		}
		d = r.durF[ci]
	case FullBackward, InputBackward:
		f := r.slots[idx].fDone
		if f < 0 {
			return 0, 0, false
		}
		ready = max(ready, f)
		if k < r.nv-1 {
			a := r.slots[idx].bArr
			if a < 0 {
				return 0, 0, false
			}
			ready = max(ready, a)
		}
		if op.Type == FullBackward {
			d = r.durBW[ci]
		} else {
			d = r.durB[ci]
		}
	case WeightBackward:
		b := r.slots[idx].bDone
		if b < 0 {
			return 0, 0, false
		}
		ready = max(ready, b)
		d = r.durW[ci]
	default:
		return 0, 0, false
	}
	return ready, d, true
}

// onStart reports the n ops of stage st from list index i that start now.
func (r *runner) onStart(st, i, n int, start, end float64) {
	for j := i; j < i+n; j++ {
		r.opt.OnStart(Span{Stage: st, Stream: Compute, Op: r.s.Stages[st][j], Peer: -1, Start: start, End: end})
	}
}

// fusedTime is the time of a fused forward f and backward b whose times
// apart are df and db.
func (r *runner) fusedTime(st int, f, b Op, df, db float64) float64 {
	if r.fb == nil {
		return df + db
	}
	return r.fb[(st*r.v+f.Chunk)*r.v+b.Chunk]
}

// finish completes the n ops of stage st from list index i, which ran
// from start to end.
func (r *runner) finish(st, i, n int, start, end float64) {
	for j := i; j < i+n; j++ {
		op := r.s.Stages[st][j]
		k := r.s.virtual[st*r.v+op.Chunk]
		r.complete(st, op, k, op.MicroBatch*r.nv+k, start, end)
	}
}

// complete records op's end and hands its output on.
func (r *runner) complete(st int, op Op, k, idx int, start, end float64) {
	r.done++
	r.end = max(r.end, end)
	if r.opt.Trace || r.opt.OnOp != nil {
		sp := Span{Stage: st, Stream: Compute, Op: op, Peer: -1, Start: start, End: end}
		if r.opt.Trace {
			r.spans = append(r.spans, sp)
		}
		if r.opt.OnOp != nil {
			r.opt.OnOp(sp)
		}
	}
	switch op.Type {
	case Forward:
		r.slots[idx].fDone = end
		if k < r.nv-1 {
			r.send(st, op, idx+1, Activations, r.stageOf[k+1], end)
		}
	case FullBackward, InputBackward:
		r.slots[idx].bDone = end
		if k > 0 {
			r.send(st, op, idx-1, Gradients, r.stageOf[k-1], end)
		}
	}
}

// send delivers op's output to target index tidx on stage to.
func (r *runner) send(from int, op Op, tidx int, d Dir, to int, at float64) {
	if from == to {
		r.arrive(tidx, d, at)
		return
	}
	k := tidx % r.nv
	var x Transfer
	var t float64
	var link int
	stream := SendActivations
	if d == Activations {
		x, t, link = r.fwdXfer[k], r.fwdTime[k], r.fwdLink[k]
	} else {
		x, t, link = r.bwdXfer[k], r.bwdTime[k], r.bwdLink[k]
		stream = SendGradients
	}
	wire := 0.0
	if x.Bandwidth > 0 && !math.IsInf(x.Bandwidth, 1) {
		wire = x.Bytes / x.Bandwidth
	}
	if x.Serialize && len(x.Links) == 0 && wire > 0 {
		// A stage finishes its ops in list order, so its sends on one
		// link arrive here in time order in both modes: first come,
		// first served.
		start := max(at, r.linkFree[link])
		if x.EgressRate > 0 {
			if len(r.egressFree) == 0 {
				var buf *[]float64
				if r.sc != nil {
					buf = &r.sc.egressFree
				}
				r.egressFree = take(buf, len(r.free))
			}
			start = max(start, r.egressFree[from])
			r.egressFree[from] = start + x.Bytes/x.EgressRate
		}
		r.linkFree[link] = start + wire
		t = r.linkFree[link] + x.Latency - at
		if x.EgressRate > 0 && r.lag != nil {
			t += max(0, r.lag(from, op))
		}
	}
	if r.e == nil || len(x.Links) == 0 {
		if r.opt.Trace {
			r.spans = append(r.spans, Span{Stage: from, Stream: stream, Op: op, Peer: to, Start: at, End: at + t})
		}
		if r.e == nil {
			r.arrive(tidx, d, at+t)
			if x.Blocking {
				r.free[from] = max(r.free[from], at+t)
			}
			r.push(to)
			return
		}
		if x.Blocking {
			r.holding[from]++
			r.e.Schedule(at+t, func() { r.release(from) })
		}
		r.e.ScheduleHandler(at+t, arrival{r}, 2*tidx+int(d))
		return
	}
	if x.Blocking {
		r.holding[from]++
	}
	// Shared links: the bytes compete for capacity, then the latency
	// elapses.
	flow := sim.Flow{Weight: x.Weight, MaxRate: x.Bandwidth}
	deliver := func(finish func()) {
		r.net.StartFlow(x.Bytes, x.Links, flow, func() {
			if finish != nil {
				finish()
			}
			r.e.After(x.Latency, func() {
				if r.opt.Trace {
					r.spans = append(r.spans, Span{Stage: from, Stream: stream, Op: op, Peer: to, Start: at, End: r.e.Now()})
				}
				r.arrive(tidx, d, r.e.Now())
				if x.Blocking {
					r.release(from)
				}
				r.tryRun(to)
			})
		})
	}
	if !x.Serialize {
		deliver(nil)
		return
	}
	for len(r.linkQueue) <= link {
		r.linkQueue = append(r.linkQueue, nil)
	}
	if r.linkQueue[link] == nil {
		r.linkQueue[link] = r.e.NewStream("link")
	}
	r.linkQueue[link].Do(deliver)
}

// release ends one of stage st's blocking sends and lets it go on when
// none is left.
func (r *runner) release(st int) {
	r.holding[st]--
	if r.holding[st] == 0 {
		r.free[st] = max(r.free[st], r.e.Now())
		r.tryRun(st)
	}
}

func (r *runner) arrive(tidx int, d Dir, at float64) {
	if d == Activations {
		r.slots[tidx].fArr = at
	} else {
		r.slots[tidx].bArr = at
	}
}

func (r *runner) push(st int) {
	if !r.queued[st] {
		r.queued[st] = true
		r.work = append(r.work, st)
	}
}

func (r *runner) fastMode() {
	for st := r.p - 1; st >= 0; st-- {
		r.push(st)
	}
	for len(r.work) > 0 {
		st := r.work[len(r.work)-1]
		r.work = r.work[:len(r.work)-1]
		r.queued[st] = false
		r.tryRun(st)
	}
}

// opEnd and arrival are event handlers that need no allocation.
type opEnd struct{ r *runner }

func (h opEnd) Handle(st int) {
	r := h.r
	r.running[st] = false
	i, n := r.pos[st]-1, 1
	ops := r.s.Stages[st]
	if i > 0 && ops[i-1].Fused && ops[i-1].Type == Forward && ops[i].Type != Forward {
		i, n = i-1, 2
	}
	r.finish(st, i, n, r.started[st], r.e.Now())
	r.tryRun(st)
}

type arrival struct{ r *runner }

func (h arrival) Handle(arg int) {
	r := h.r
	tidx, d := arg/2, Dir(arg%2)
	r.arrive(tidx, d, r.e.Now())
	r.tryRun(r.stageOf[tidx%r.nv])
}

func (r *runner) eventMode() {
	r.net = r.opt.Network
	if r.net == nil {
		r.net = sim.NewNetwork(sim.New())
	}
	r.e = r.net.Engine()
	for st := 0; st < r.p; st++ {
		r.free[st] = r.e.Now()
	}
	start := r.e.Now()
	for st := 0; st < r.p; st++ {
		r.tryRun(st)
	}
	r.e.Run()
	// Report times relative to the start of the step.
	if start != 0 {
		r.end -= start
	}
}

func (r *runner) result() (*Result, error) {
	if r.done != r.total {
		var stuck []string
		for st, ops := range r.s.Stages {
			if r.pos[st] < len(ops) {
				op := ops[r.pos[st]]
				var waits []string
				for _, d := range r.s.Deps(st, op) {
					waits = append(waits, fmt.Sprintf("%v on stage %d", d.Op, d.Stage))
				}
				stuck = append(stuck, fmt.Sprintf("stage %d at op %d/%d %v (waits for %s)", st, r.pos[st]+1, len(ops), op, strings.Join(waits, ", ")))
			}
		}
		return nil, &DeadlockError{Stuck: stuck}
	}
	var res *Result
	if r.sc != nil {
		res = &r.sc.res
	} else {
		res = new(Result)
	}
	*res = Result{Makespan: r.end, Busy: r.busy, PeakInFlight: r.peak, Spans: r.spans}
	sum := 0.0
	for st := 0; st < r.p; st++ {
		sum += r.busy[st]
		res.PeakInFlight[st] = r.s.PeakInFlight(st)
	}
	if r.end > 0 {
		res.Bubble = 1 - sum/(float64(r.p)*r.end)
	}
	return res, nil
}
