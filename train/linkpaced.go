package train

import (
	"cmp"
	"math"
	"slices"

	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/schedule"
	"github.com/scaleacross/scaleacross/topology"
)

// linkPacedShare is the share of its smallest chunk's forward compute a
// pipeline message must take, on some boundary, before the analytic
// engine reads the pipeline pass off its built order (linkPacedPass). Below it the links sit idle most of the
// time and the closed forms (schedule.Kind.Bubble, overlappedSends)
// hold; above it the step is set by the dependency cycles of the built
// order through queueing links, which no closed form of the steady
// state sees. A message as long as the forward that produced it can no
// longer hide under the next op. Over 3,000 pipelineGen draws
// (pipelineGen(...).Example(seed)) shares of 0.1, 0.5 and 1 gave the
// same percentiles for every schedule (DualPipeV 90th 9.1%, interleaved
// 3.9-4.0%, latency-aware 0.8-0.9%, before DualPipeV's built bubble);
// 2 let DualPipeV's 90th rise to 10.3% and latency-aware's 99th from
// 7.8% to 12.4%.
const linkPacedShare = 1

// linkPacedPass is the pipeline pass of a schedule whose links pace it:
// the makespan of the built order run with every op's own cost
// (pipelineCosts) and its messages as the event engine sends them. An
// overlapped send (schedule.Kind.OverlapsP2P: DualPipeV, interleaved
// and latency-aware orders) queues on its sender's link to that peer,
// first come first served at the link's uncontended rate, its latency
// paid after its bytes (the event engine's send queues,
// schedule.Transfer.Serialize). A pipeline whose links carry more than
// its stages compute is a max-plus system whose pace is its slowest
// dependency cycle (Baccelli et al., "Synchronization and Linearity",
// 1992, ch. 3): a micro-batch's round trip through the stages and their
// queues, which a stage's in-flight window must cover. In DualPipeV a
// fused pair waits for both its forward's activations and its
// backward's gradients, which share one link per direction, so its
// cycles run twice through every queue; an interleaved order's chunk
// transitions wait for the loop's messages. Neither is the link's busy
// time, which the closed form (overlappedSends) prices. A blocking send
// (1F1B, GPipe, the zero-bubble orders) is priced in its op, and the
// closed forms hold, except over a shared uplink (a site link or an
// oversubscribed level that binds, sharedUplink): there the event
// engine shares the uplink max-min fairly between the flows that cross
// it, a blocking sender waits for its share, and the pass reads it with
// each message at its share of the uplink (uplinkShares). ok is false
// where the links do not pace the pass (no boundary's message takes
// linkPacedShare of the smallest chunk's forward compute; for blocking
// sends, none over a shared uplink) or where the order cannot be built;
// the caller then keeps the closed form. Over a shared uplink both
// engines read one rate (network.UplinkBytesPerSec: the uplink less
// what its transport loses, the AIMD sawtooth of TCP or DCQCN below a
// bandwidth-delay product of buffer included), so the pass runs over
// TCP too: Llama 3.1 70B over 800 km of TCP (TestSlowLinkNewUserCases)
// was left to the closed form while the event engine ran the trunk at
// its line rate (0.97 against 1.45 GB/s a GPU), and now reads 1.70 s
// against the event engine's 1.60 s (1.38 s closed form). DualPipeV's
// messages over a shared egress also wait for its processor sharing
// (egressLags) and take no shares of the uplink (uplinkShares).
func (e *evaluator) linkPacedPass(sp schedule.Params, vs []virtualStage) (float64, bool) {
	_, r, ok := e.linkPacedRun(sp, vs, false)
	if !ok {
		return 0, false
	}
	return r.Makespan, true
}

// linkPacedRun is linkPacedPass's order and run, its spans kept with
// trace (DualPipeV's reductions start where they read, builtArrivals).
func (e *evaluator) linkPacedRun(sp schedule.Params, vs []virtualStage, trace bool) (*schedule.Schedule, *schedule.Result, bool) {
	p := e.c.Parallel
	if p.PP < 2 || len(vs) == 0 {
		return nil, nil, false
	}
	blocking := e.blockingP2P()
	// The smallest chunk's forward compute, communication left out: a
	// faster link never turns the built pass on (which keeps the step
	// monotone in every link, since the built pass is a max-plus
	// system and the caller takes the larger of it and the closed form).
	minF := e.minForward(vs)
	if e.dualPipeVPaced() {
		minF = 0 // the built pass with its sends, always
	}
	bytes := e.p2pBytes()
	links := e.linksOf(topology.PP)
	// A message takes the same time over every boundary that crosses one
	// level: each level crossed is asked once.
	var cb [smallLevels]bool
	paced := false
	for l, crossed := range e.chunkBoundaryLevels(len(vs), cb[:0]) {
		if !crossed || links[l].LatencyS+bytes/links[l].BytesPerSec < linkPacedShare*minF {
			continue
		}
		// Blocking sends are priced in each op, and read off the
		// built order only where they cross a shared uplink.
		if _, shared := e.sharedUplink(l); !blocking || shared {
			paced = true
			break
		}
	}
	if !paced {
		return nil, nil, false
	}
	of := e.stageTable(len(vs))
	s, err := e.builtOrder(sp)
	if err != nil || s.NumVirtual() != len(vs) {
		return nil, nil, false
	}
	var upBuf [smallLevels]sharedPP
	ups := upBuf[:0]
	anyShared := false
	for k := 0; k+1 < len(vs); k++ {
		if a, b := of[k], of[k+1]; a != b {
			_, shared := e.sharedPPLevel(&ups, e.boundaryLevel(a, b))
			anyShared = anyShared || shared
		}
	}
	onUplink := func(from, to int) (sharedPP, bool) {
		return e.sharedPPLevel(&ups, e.boundaryLevel(from, to))
	}
	egress := func(from, to int) float64 { return 0 }
	if !blocking {
		egress = e.egressRates(of)
	}
	costs := e.pipelineCosts(s, vs, func(stage, chunk int, fwd bool) bool {
		to, ok := e.peer(s, stage, chunk, fwd)
		_, shared := onUplink(stage, to)
		return ok && shared
	})
	costs.P2P = func(from, to int, _ schedule.Dir) schedule.Transfer {
		link := links[e.boundaryLevel(from, to)]
		if _, shared := onUplink(from, to); blocking && !shared {
			return schedule.Transfer{} // in the op's cost
		}
		return schedule.Transfer{Latency: link.LatencyS, Bytes: bytes, Bandwidth: link.BytesPerSec, Serialize: !blocking, Blocking: blocking,
			EgressRate: egress(from, to)}
	}
	if e.dualPipeVPaced() {
		costs.Lag = e.egressLags(s, costs, egress)
	} else if anyShared {
		costs.Share = e.uplinkShares(s, vs, costs, &ups)
	}
	r, err := schedule.Simulate(s, costs, e.simOptions(simPaced, trace))
	if err != nil {
		return nil, nil, false
	}
	return s, r, true
}

// egressRates is the rate of a stage's egress over a level with a
// shared uplink (schedule.Transfer.EgressRate), for its messages to a
// peer across it, in every order with overlapped sends: a middle stage
// sends activations down and gradients up (DualPipeV's fused pairs to
// both its peers in turn), and the event engine runs both flows through
// the one egress of the stage's unit, max-min fairly (trunks.p2p), so
// together they never move more than c, the uplink's rate
// (network.UplinkBytesPerSec) over the unit's GPUs that hold the stage
// (which send at once). Held for DualPipeV alone, the interleaved and
// latency-aware orders left a stage's two flows side by side, each at
// the whole uplink, and came out up to 13.5% below the event engine
// (latency-aware-1f1b tp1 pp4 m 4, one GPU a unit, behind a 1.07 Gb/s
// uplink: 1.81 against 2.09 s; now 1.93 s, TestOverlappedEgress); over
// 3 x 5,000 pipelineGen draws the 99th percentile of those orders behind
// shared uplinks fell from 13.5% to 9.6% (latency-aware) and 10.5% to
// 8.5% (interleaved). A stage's egress
// queue at c makes its two flows cross one after the other where one
// message fills the uplink, as processor sharing is work-conserving.
// With a queue per peer alone each flow took the whole uplink, and
// uplinkShares reads off the compute-only run that they seldom meet,
// while behind a backlogged uplink both queues are busy: DualPipeV came
// out up to 21.0% below the event engine (tp8 pp4 m 12 behind a 1 Gb/s
// uplink, 8.20 against 10.38 s; TestDualPipeVEgress). The queue holds
// wherever the level has an uplink, binding or not: c changes with no
// link but the uplink (and an oversubscribed level's own rate), and
// rises with it, so the pass stays a max-plus system, monotone in every
// link. Held only where the uplink binds (sharedUplink), or at min(c, k
// alone) for k peers, the queue appeared as a faster level turned the
// uplink's binding on and made the step up to 5.7% slower (tp1 pp4 m 16
// behind a 2 Gb/s uplink, the level swept past 1 Gb/s). Where the uplink
// leaves room for both flows the queue costs the second message of a
// pair a wait of its bytes at c, which processor sharing does not;
// where one message fills it, the queue ends a stage's first messages
// early, which processor sharing ends with the rest, and DualPipeV's
// pass adds what they wait (egressLags). 0 where the boundary crosses no uplink, or
// only one of the stage's peers lies across it.
func (e *evaluator) egressRates(of []int) func(from, to int) float64 {
	t := e.c.Topology
	// across holds, per stage and level, its first peer across the
	// level and how many distinct peers it has there, counted up to 2
	// (the rate needs only whether it has two).
	type across struct{ first, n int }
	nl := len(e.caps) + 1
	peers := make([]across, e.c.Parallel.PP*nl)
	at := func(st, l int) *across {
		if st < 0 || l < 0 || l >= nl || st*nl+l >= len(peers) {
			return nil
		}
		return &peers[st*nl+l]
	}
	for k := 0; k+1 < len(of); k++ {
		a, b := of[k], of[k+1]
		if a == b {
			continue
		}
		l := e.boundaryLevel(a, b)
		for _, pr := range [2][2]int{{a, b}, {b, a}} {
			c := at(pr[0], l)
			switch {
			case c == nil:
			case c.n == 0:
				c.first, c.n = pr[1], 1
			case c.n == 1 && c.first != pr[1]:
				c.n = 2
			}
		}
	}
	return func(from, to int) float64 {
		l := e.boundaryLevel(from, to)
		if l <= 0 || l >= len(t.Levels) {
			return 0
		}
		if c := at(from, l); c == nil || c.n < 2 || math.IsInf(network.UplinkGbps(t, l), 1) {
			return 0
		}
		return e.stageUplinkRate(l)
	}
}

// stageUplinkRate is the rate, per GPU of one stage, at which level l's
// shared uplink carries a unit's pipeline messages all together: the
// uplink's rate (network.UplinkBytesPerSec) over the unit's GPUs that
// hold one stage (which send at once), inner stages to a unit. The event
// engine's trunks share it max-min fairly between the flows that cross
// it, each of weight unit/inner, so their rates per GPU add up to at
// most this.
func (e *evaluator) stageUplinkRate(l int) float64 {
	inner := 1 // stages inside one unit of level l-1
	for i, f := range e.span(topology.PP).Factors {
		if i < l {
			inner *= max(f, 1)
		}
	}
	return e.freeLink(l).capacity * float64(inner) / float64(e.c.Topology.Capacity(l-1))
}

// dualPipeVPaced reports whether the pipeline pass is DualPipeV's with
// overlapped sends, which the analytic engine always reads off its built
// order with its sends (linkPacedPass) and prices with no closed form
// (overlappedSends): each fused pair sends its forward's activations and
// its backward's gradients to one peer at once, over one link that
// serializes them (schedule.Transfer.Serialize), and waits for both of
// the messages its inputs come in, so the second message of every pair
// waits behind the first on the V's dependency cycles even where the
// link is mostly idle. The closed form prices the fill and drain as a
// path of free crossings beside the links' busy time and neither sees
// that; with a message just under linkPacedShare of a forward (pp 2 m 5
// over a 10.5 Gb/s boundary, pipelineGen's draws) it put the analytic
// engine 11.5% below the event engine, and over a shared uplink that
// binds it added the fill's crossings to busy time that holds them
// already: 30% above (pp 4 m 8, one stage a unit, 1.13 Gb/s behind a
// 2.1 Gb/s uplink, TestDualPipeVReadsItsBuiltPass). The built pass is
// the event engine's own run of the order where no uplink is shared.
func (e *evaluator) dualPipeVPaced() bool {
	return e.c.Schedule == schedule.DualPipeV && !e.blockingP2P()
}

// uplinkShares is the share of its rate alone each pipeline message
// over a shared uplink gets in the built pass (schedule.Costs.Share):
// the event engine shares the uplink max-min fairly (trunks), so a
// message that crosses a unit's egress or ingress while another stage's
// message does gets part of it, and a blocking sender waits the longer.
// Each unit's egress and ingress carries its messages in the order they
// are sent there, and a message meets the messages just before and
// after it there that other stages send. With k stages' messages at
// once a message gets s = min(alone, uplink/(k weight)), what max-min
// sharing gives flows that run together.
//
// Blocking sends (1F1B, GPipe, the zero-bubble orders) meet where their
// time windows overlap in the pass run with costs, every op's cost and
// each message at its rate alone (no shares), and a message whose
// window another overlaps for a part f of it gets 1/(1 - f + f/s): the
// part at the shared rate, the rest alone. Two equal messages of x
// seconds alone that start d apart so end at 2x - d and 2x, as processor
// sharing ends them. Read off the order run with the ops' compute alone
// (computeCosts), where a 1F1B stage's neighbours send to it a forward
// apart, those messages all met at half the uplink; in the event engine
// the stage below sends its gradients as the stage sends its
// activations, one op and one message after the stage above sent it
// its own, so where the ops (TP communication included) outlast a
// message the two cross the ingress in turn. It put 1F1B tp2 pp4 m 15
// behind a 1 Gb/s uplink 17.0% above the event engine (11.71 against
// 10.00 s, now 1.3% above; TestOneFOneBNeighboursSendInTurn); over
// TestPropertyPipelineBoundsAndMonotone's draws (seeds 1-3 of 5,000,
// seed 5 of 20,000) the worst 1F1B draw behind shared uplinks fell from
// 14.8%, 8.6%, 14.7% and 17.0% to 2.3%, 6.5%, 5.0% and 5.7%, ZB-H1's
// from 7.6%, 8.7%, 2.3% and 11.7% to 3.5%, 3.0%, 2.3% and 4.9%, ZB-V's
// from 6.7%, 9.8%, 7.5% to 4.5%, 4.7%, 2.3% (seed 5's 16.1%, ZeRO-1
// with one micro-batch, unchanged). The windows move with every link,
// where the compute-only run moved with none: a faster link shortens
// the ops and the messages, and the overlap (and so the share) moves
// with them continuously; with the windows priced all or nothing (a
// message that overlapped at all at s) a 2.9x faster TP link made ZB-V
// tp8 pp4 m 2 7.3% slower, and with the parts no draw of the runs above
// got slower by more than 4.4e-14, as before.
//
// Overlapped sends (interleaved and latency-aware orders) meet where
// they are sent less than half a chunk's forward and backward compute
// apart in the compute-only run, which no link changes. Their windows
// in the pass without shares, whose queues run the messages later once
// they share, put latency-aware tp1 pp4 m 8 behind a 1 Gb/s uplink
// 13.7% below the event engine (3.39 against 3.92 s; 2.8% below so),
// though they brought tp2 pp4 m 15's 17.4% above to 2.3% below. A stage's own messages to its two peers (overlapped sends)
// are left side by side: counting them as two flows put latency-aware
// orders over shared uplinks up to 27% above the event engine (18%
// without), over pipelineGen(...).Example(0..5999). DualPipeV's pass
// takes no shares: its stage's messages wait for the processor sharing
// of its egress instead (egressLags). Told apart on the ingress, where
// two stages' messages meet, they had brought its worst draw behind a
// binding uplink from 21.0% to 15.3% below the event engine (3 x 5,000
// checks of TestPropertyPipelineBoundsAndMonotone, seed 1); with the
// lags on top they put it up to 24% above.
func (e *evaluator) uplinkShares(s *schedule.Schedule, vs []virtualStage, costs schedule.Costs, ups *[]sharedPP) func(int, schedule.Op) float64 {
	blocking := e.blockingP2P()
	if !blocking {
		costs = e.computeCosts(s, vs)
	}
	ref, err := schedule.Simulate(s, costs, e.simOptions(simShares, true))
	if err != nil {
		return nil
	}
	// Overlapped sends meet when they are sent less than half a
	// micro-batch's compute on a stage apart (near).
	var near float64
	for i := range vs {
		near += vs[i].fwd + vs[i].bwd
	}
	near /= 2 * float64(len(vs))
	// Each message joins two queues, its sender's unit's egress and its
	// receiver's unit's ingress, in the order the run sent them.
	var qs []queuedMsg
	if e.sc != nil {
		qs = e.sc.shareQueue[:0]
	}
	for _, sp := range ref.Spans {
		if sp.Stream == schedule.Compute || sp.Peer < 0 || sp.Peer == sp.Stage {
			continue
		}
		u, shared := e.sharedPPLevel(ups, e.boundaryLevel(sp.Stage, sp.Peer))
		if !shared {
			continue
		}
		m := shareMsg{sp.Start, sp.End, sp.Stage, sp.Peer, sp.Op}
		for _, q := range [2]shareQueueKey{{u.level, sp.Stage * e.ppStride / u.unit, 0}, {u.level, sp.Peer * e.ppStride / u.unit, 1}} {
			qs = append(qs, queuedMsg{q, len(qs), m})
		}
	}
	if e.sc != nil {
		e.sc.shareQueue = qs
	}
	// Each queue's messages by start, in sending order where they tie.
	slices.SortFunc(qs, func(a, b queuedMsg) int {
		if c := cmp.Compare(a.key.level, b.key.level); c != 0 {
			return c
		}
		if c := cmp.Compare(a.key.unit, b.key.unit); c != 0 {
			return c
		}
		if c := cmp.Compare(a.key.dir, b.key.dir); c != 0 {
			return c
		}
		if c := cmp.Compare(a.m.at, b.m.at); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	// flows holds, per op that sends (flowIndex), the most senders its
	// message meets and the part of its time they overlap it.
	p, v, mb := s.Params.Stages, s.Params.Chunks, s.Params.MicroBatches
	var flows []shareMeeting
	if e.sc != nil {
		flows = growClear(&e.sc.shareFlows, p*v*mb*numOpTypes)
	} else {
		flows = make([]shareMeeting, p*v*mb*numOpTypes)
	}
	flowIndex := func(from int, op schedule.Op) int {
		if from < 0 || from >= p || op.MicroBatch < 0 || op.MicroBatch >= mb || op.Chunk < 0 || op.Chunk >= v || int(op.Type) >= numOpTypes {
			return -1
		}
		return ((from*mb+op.MicroBatch)*v+op.Chunk)*numOpTypes + int(op.Type)
	}
	for lo := 0; lo < len(qs); {
		hi := lo + 1
		for hi < len(qs) && qs[hi].key == qs[lo].key {
			hi++
		}
		q := qs[lo:hi]
		for i := range q {
			m := &q[i].m
			var seen [3]int
			n := 0
			var part float64
			for j := max(i-1, 0); j <= min(i+1, len(q)-1); j++ {
				o2 := &q[j].m
				f := o2.from
				// The part of the message's time the other overlaps.
				o := 0.0
				if blocking && m.end > m.at {
					o = min(1, max(0, min(m.end, o2.end)-max(m.at, o2.at))/(m.end-m.at))
				} else if math.Abs(o2.at-m.at) < near {
					o = 1
				}
				if o <= 0 || slices.Contains(seen[:n], f) {
					continue
				}
				seen[n] = f
				n++
				if f != m.from {
					part = max(part, o)
				}
			}
			if k := flowIndex(m.from, m.op); k >= 0 {
				if w := flows[k]; n > w.n || (n == w.n && part > w.part) {
					flows[k] = shareMeeting{n, part}
				}
			}
		}
		lo = hi
	}
	links := e.linksOf(topology.PP)
	return func(from int, op schedule.Op) float64 {
		k := flowIndex(from, op)
		if k < 0 {
			return 1
		}
		w := flows[k]
		if w.n <= 1 || w.part <= 0 {
			return 1
		}
		to, ok := e.peer(s, from, op.Chunk, op.Type == schedule.Forward)
		if !ok {
			return 1
		}
		l := e.boundaryLevel(from, to)
		u, _ := e.sharedPPLevel(ups, l)
		share := math.Min(1, math.Min(u.alone, u.capacity/(u.weight*float64(w.n)))/links[l].BytesPerSec)
		// The overlapped part at the shared rate, the rest alone.
		return 1 / (1 - w.part + w.part/share)
	}
}

// sharedPP is a level's shared uplink as pipeline sends over it use it,
// where it binds (sharedUplink): its capacity each way, the GPUs of one
// unit below it, the weight of one message (the unit's GPUs that hold
// one stage, which send at once) and what one GPU's message gets there
// without the uplink: the event engine's trunks.
type sharedPP struct {
	level                   int
	bind                    bool
	capacity, weight, alone float64
	unit                    int
}

// sharedPPLevel is level l's sharedPP and whether it binds, remembered
// in ups.
func (e *evaluator) sharedPPLevel(ups *[]sharedPP, l int) (sharedPP, bool) {
	for _, u := range *ups {
		if u.level == l {
			return u, u.bind
		}
	}
	u := sharedPP{level: l}
	if up, ok := e.sharedUplink(l); ok {
		t := e.c.Topology
		pp := e.span(topology.PP)
		inner := 1 // stages inside one unit of level l-1
		for i, f := range pp.Factors {
			if i < l {
				inner *= max(f, 1)
			}
		}
		alone := network.Links(withoutUplink(t, l), ppSenders(t, pp, e.c.Parallel.PP), e.c.Calib.NetworkEfficiency)[l].BytesPerSec
		u = sharedPP{level: l, bind: true, capacity: up.capacity, unit: up.unit, weight: float64(up.unit) / float64(inner), alone: alone}
	}
	*ups = append(*ups, u)
	return u, u.bind
}

// shareMsg is a pipeline message of uplinkShares' reference run: when
// it starts and ends, its stages and the op whose output it carries.
type shareMsg struct {
	at, end  float64
	from, to int
	op       schedule.Op
}

// shareQueueKey names one unit's egress (dir 0) or ingress (dir 1) at a
// level with a shared uplink.
type shareQueueKey struct{ level, unit, dir int }

// queuedMsg is a message in one of its queues; seq is its place in the
// run's sending order.
type queuedMsg struct {
	key shareQueueKey
	seq int
	m   shareMsg
}

// shareMeeting is what an op's message meets on its queues: n senders
// whose messages overlap it (its own included) and the part of its time
// alone they overlap.
type shareMeeting struct {
	n    int
	part float64
}

// numOpTypes counts the compute op types (Forward through
// WeightBackward, schedule.OpType's first values), for indexing by op
// type.
const numOpTypes = int(schedule.WeightBackward) + 1

// computeCosts are s's op durations of compute alone, which no link
// changes (uplinkShares).
func (e *evaluator) computeCosts(s *schedule.Schedule, vs []virtualStage) schedule.Costs {
	at := func(stage, chunk int) *virtualStage { return &vs[s.VirtualStage(stage, chunk)] }
	split := s.SplitBackward()
	return schedule.Costs{
		Forward: func(stage, chunk int) float64 { return at(stage, chunk).fwd },
		Backward: func(stage, chunk int) float64 {
			v := at(stage, chunk)
			if split {
				return v.bwd - v.wgrad
			}
			return v.bwd
		},
		Weight: func(stage, chunk int) float64 {
			if !split {
				return 0
			}
			return at(stage, chunk).wgrad
		},
	}
}

// orderMemo is the pipeline order schedule.Build last gave an
// evaluator with scratch, and the kind and parameters it was asked for.
type orderMemo struct {
	kind  schedule.Kind
	in    schedule.Params
	order *schedule.Schedule
}

// builtOrder is schedule.Build of the evaluator's schedule with sp. An
// evaluator with scratch keeps the last order for the next evaluation
// with the same kind and parameters (a search's consecutive candidates
// that differ in transport or collective algorithm alone): building it
// costs more than simulating it, and schedule.Simulate only reads it.
func (e *evaluator) builtOrder(sp schedule.Params) (*schedule.Schedule, error) {
	k := e.c.Schedule
	sc := e.sc
	if sc != nil && sc.order.order != nil && sc.order.kind == k && sameParams(sc.order.in, sp) {
		return sc.order.order, nil
	}
	s, err := schedule.Build(k, sp)
	if err == nil && sc != nil {
		in := sp
		in.SlowBoundaries = slices.Clone(sp.SlowBoundaries)
		sc.order = orderMemo{kind: k, in: in, order: s}
	}
	return s, err
}

// sameParams reports whether a and b ask schedule.Build for one order.
func sameParams(a, b schedule.Params) bool {
	return a.Stages == b.Stages && a.MicroBatches == b.MicroBatches && a.Chunks == b.Chunks &&
		a.Consecutive == b.Consecutive && a.ExtraWarmup == b.ExtraWarmup && a.MaxInFlight == b.MaxInFlight &&
		slices.Equal(a.SlowBoundaries, b.SlowBoundaries)
}

// egressLags is the lag (schedule.Costs.Lag) of each message of
// DualPipeV's pass that leaves through an egress its stage's messages to
// its two peers share (egressRates): the time it waits, over its bytes
// alone, while the egress also carries the stage's next messages to its
// other peer. The event engine shares the egress between the stage's
// peer queues max-min fairly (trunks.p2p), as the NIC's arbitration
// between queue pairs and TCP or DCQCN's congestion control between
// flows do (each converges to an equal share of the bottleneck:
// Zhu et al., "Congestion Control for Large-Scale RDMA Deployments",
// SIGCOMM 2015), so the first messages of a pair end late where the
// egress queue (first come, first served) ends them at once. In the
// steady state a middle stage runs its fused pairs back to back, each
// sending both its messages to one peer, the next pair to the other
// (F1&B0 down the V, F0&B1 up it), and under processor sharing the
// first pair's messages end with the second's: measured over the event
// engine's run of pipelineGen's worst draw of seed 3 (tp1 pp4 m 9
// behind a 1 Gb/s uplink, 0.141 s a message, 0.020 s a pair) a stage's
// four messages ended 0.262, 0.545, 0.283 and 0.565 s after the first
// pair's end, against 0.141, 0.283, 0.424 and 0.565 s in the queue.
//
// A message of b bytes whose egress carries, from o seconds after it
// starts, B bytes of the next pair to another peer, each at most a (the
// message's link rate, at most c, the egress's) alone and min(a, c/2)
// together, ends (max(0, min(b - a*o, B))) * (1/min(a, c/2) - 1/a)
// seconds late: the bytes it moves while they share, at the shared rate
// less the lone one; b counts the messages of its pair before it on its
// queue, which also share. o is the compute of the stage's ops from the
// message's pair to the end of the next pair that sends, as the pass
// prices them (pipelineCosts), assuming the next pair starts at once,
// which it does where the links pace the pass (its inputs wait for it),
// the case where the lag matters. The lag falls as a or c rises, and
// with the message's bytes alone it is a processor-sharing end, which
// falls with every rate, so the pass stays monotone in every link's
// bandwidth. It grows as o falls (a faster TP link shortens the ops), by
// at most a/min(a, c/2) - 1 <= 1 times what the ops lost, which the
// stage's earlier ops lose too; over 3 x 5,000 and 3 x 20,000 checks
// of TestPropertyPipelineBoundsAndMonotone (seeds 1-6) no step got
// slower by more than 4.4e-14, as before. Priced
// with the ops' compute alone (o smaller, and lags larger, where TP
// communication fills the ops) it put tp2 pp4 m 10 behind a 1.13 Gb/s
// uplink, whose 0.159 s forwards are mostly TP communication, 16.2%
// above the event engine; with its shares too (uplinkShares) it was
// 24.3% above. The same lags on the interleaved and latency-aware
// orders, whose next op to the other peer seldom follows at once, put
// them up to 23% above.
func (e *evaluator) egressLags(s *schedule.Schedule, costs schedule.Costs, egress func(from, to int) float64) func(int, schedule.Op) float64 {
	p, v, m := s.Params.Stages, s.Params.Chunks, s.Params.MicroBatches
	lags := make([]float64, p*m*v*2)
	index := func(st int, op schedule.Op) int {
		d := 0
		if op.Type != schedule.Forward {
			d = 1
		}
		return ((st*m+op.MicroBatch)*v+op.Chunk)*2 + d
	}
	bytes := e.p2pBytes()
	links := e.linksOf(topology.PP)
	// unit is the end of the pass unit (one op, or a fused pair) that
	// starts at ops[i], and its compute.
	unit := func(st int, ops []schedule.Op, i int) (int, float64) {
		if ops[i].Fused && ops[i].Type == schedule.Forward && i+1 < len(ops) {
			return i + 2, costs.FusedTime(st, ops[i], ops[i+1])
		}
		return i + 1, costs.OpTime(st, ops[i])
	}
	// outs holds, for each op of the stage at hand, the peer across an
	// egress that its output goes to, or -1; read once per op, as the
	// scan below visits ops many times.
	var outs []int
	for st, ops := range s.Stages {
		outs = outs[:0]
		sending := false
		for _, op := range ops {
			to := -1
			if op.Type != schedule.WeightBackward {
				if t, ok := e.peer(s, st, op.Chunk, op.Type == schedule.Forward); ok && t != st && egress(st, t) > 0 {
					to = t
				}
			}
			outs = append(outs, to)
			sending = sending || to >= 0
		}
		if !sending {
			continue
		}
		for i := 0; i < len(ops); {
			j, _ := unit(st, ops, i)
			sends := false
			for q := i; q < j; q++ {
				sends = sends || outs[q] >= 0
			}
			if !sends { // no lag to write
				i = j
				continue
			}
			// The next unit that sends over the egress, its bytes to
			// each peer and the compute up to its end.
			var o float64
			var next [2]struct {
				to    int
				bytes float64
			}
			nn := 0
			for k := j; k < len(ops) && nn == 0; {
				kk, d := unit(st, ops, k)
				o += d
				for q := k; q < kk; q++ {
					to := outs[q]
					if to < 0 {
						continue
					}
					if nn > 0 && next[0].to == to {
						next[0].bytes += bytes
					} else if nn < 2 {
						next[nn].to, next[nn].bytes = to, bytes
						nn++
					}
				}
				k = kk
			}
			for q := i; q < j; q++ {
				to := outs[q]
				if to < 0 {
					continue
				}
				// The bytes of the unit's messages to the same peer up
				// to this one, which cross before it.
				var b float64
				for r := i; r <= q; r++ {
					if outs[r] == to {
						b += bytes
					}
				}
				c := egress(st, to)
				a := min(links[e.boundaryLevel(st, to)].BytesPerSec, c)
				k := max(0, 1/min(a, c/2)-1/a)
				var lag float64
				// The unit's own messages to another peer start with it.
				var same float64
				for r := i; r < j; r++ {
					if t := outs[r]; t >= 0 && t != to {
						same += bytes
					}
				}
				lag += min(b, same) * k
				for n := 0; n < nn; n++ {
					if next[n].to != to {
						lag += max(0, min(b-a*o, next[n].bytes)) * k
					}
				}
				lags[index(st, ops[q])] = lag
			}
			i = j
		}
	}
	return func(from int, op schedule.Op) float64 {
		if op.Type == schedule.WeightBackward || from < 0 || from >= p || op.MicroBatch >= m || op.Chunk >= v {
			return 0
		}
		return lags[index(from, op)]
	}
}
