package train

import (
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
// 7.8% to 12.4%. At 1 the closed form took latency-aware-1f1b tp1 pp2
// m 7 over a 5.5 Gb/s level, whose message takes 0.82 of a forward, and
// came out 11.6% below the event engine (0.869 against 0.983 s; the
// built pass gives 0.983 s), the worst draw of most seeds of
// TestPropertyPipelineBoundsAndMonotone once the queue left the closed
// form (overlappedSends). At 0.5 the default plan is byte-identical and
// takes as long; at 0.25 it took 18 s instead of 2.4 s.
const linkPacedShare = 0.5

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
// oversubscribed level that binds, sharedUplink): there the pass runs
// the event engine's trunks (newTrunks, trunkSend), so that its messages
// share the uplink max-min fairly and a blocking sender waits for its
// share, as in the event engine; the data-parallel flows the event
// engine runs beside them are the analytic tail's (sharedTail). The
// pass so carries processor sharing's scheduling anomaly (a faster link
// can reorder two messages and delay a third; trunkSlack). It read the
// shares off a reference run before (which messages met, and each at
// its share of the uplink for the part they overlapped): overlapped
// sends met where they left less than half a micro-batch's compute
// apart in a run of compute alone, which no link changes, and over
// TestPropertyPipelineBoundsAndMonotone's seeds 1-60 (20,000 checks
// each) the interleaved and latency-aware orders behind shared uplinks
// came out up to 20.1% and 20.8% above the event engine (latency-aware
// tp8 pp4 m 16 behind a 1 Gb/s uplink: 14.41 against 11.93 s; TP
// communication spaces the real sends some 70 times wider). ok is false
// where the links do not pace the pass (no boundary's message takes
// linkPacedShare of the smallest chunk's forward compute; for blocking
// sends, none over a shared uplink) or where the order cannot be built;
// the caller then keeps the closed form. Over a shared uplink both
// engines read one rate (network.UplinkBytesPerSec: the uplink less
// what its transport loses, the AIMD sawtooth of TCP or DCQCN below a
// bandwidth-delay product of buffer included), so the pass runs over
// TCP too: Llama 3.1 70B over 800 km of TCP (TestSlowLinkNewUserCases)
// was left to the closed form while the event engine ran the trunk at
// its line rate (0.97 against 1.45 GB/s a GPU). Where a level has an
// uplink that does not bind, DualPipeV's messages over its egress wait
// for the processor sharing of their egress instead (egressLags).
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
	crossedLevels := e.chunkBoundaryLevels(len(vs), cb[:0])
	paced := false
	for l, crossed := range crossedLevels {
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
	// Over a shared uplink the pass runs the event engine's trunks, with
	// the pipeline's flows alone on them (sharedTail shares the
	// data-parallel ones).
	var tr *trunks
	for l, crossed := range crossedLevels {
		if _, shared := e.sharedUplink(l); crossed && shared {
			if tr = e.newTrunks(); tr != nil {
				tr.only = trunkPPOnly
			}
			break
		}
	}
	egress := func(from, to int) float64 { return 0 }
	if !blocking {
		egress = e.egressRates(of)
	}
	costs := e.pipelineCosts(s, vs, func(stage, chunk int, fwd bool) bool {
		to, ok := e.peer(s, stage, chunk, fwd)
		return ok && tr.sharesPP(e.boundaryLevel(stage, to))
	})
	costs.P2P = func(from, to int, _ schedule.Dir) schedule.Transfer {
		l := e.boundaryLevel(from, to)
		if tr.sharesPP(l) {
			return e.trunkSend(tr, from, to, l, blocking)
		}
		if blocking {
			return schedule.Transfer{} // in the op's cost
		}
		link := links[l]
		return schedule.Transfer{Latency: link.LatencyS, Bytes: bytes, Bandwidth: link.BytesPerSec, Serialize: true, EgressRate: egress(from, to)}
	}
	opts := e.simOptions(simPaced, trace)
	if tr != nil {
		if opts == nil {
			opts = &schedule.Options{}
		}
		opts.Network = tr.net
	} else if e.dualPipeVPaced() {
		costs.Lag = e.egressLags(s, costs, egress)
	}
	r, err := schedule.Simulate(s, costs, opts)
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
// With a queue per peer alone each flow took the whole uplink, and the
// shares then read off the compute-only run (uplinkShares, since
// replaced by the trunks) said that they seldom meet,
// while behind a backlogged uplink both queues are busy: DualPipeV came
// out up to 21.0% below the event engine (tp8 pp4 m 12 behind a 1 Gb/s
// uplink, 8.20 against 10.38 s; TestDualPipeVEgress). The queue holds
// wherever the level has an uplink that does not bind (where it binds
// the trunks run instead): c changes with no link but the uplink (and an oversubscribed level's own rate), and
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
// only one of the stage's peers lies across it. Where the uplink binds
// the pass runs the trunks instead (trunkSend), which do not read it.
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
// above the event engine; with the compute-only run's shares too
// (uplinkShares, since replaced by the trunks) it was 24.3% above. The same lags on the interleaved and latency-aware
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
