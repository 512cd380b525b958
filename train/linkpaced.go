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
// engine reads the pipeline pass of an overlapped-send schedule off its
// built order (linkPacedPass). Below it the links sit idle most of the
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

// linkPacedPass is the pipeline pass of an overlapped-send schedule
// (schedule.Kind.OverlapsP2P: DualPipeV, interleaved and latency-aware
// orders) whose links pace it: the makespan of the built order run with
// every op's own cost (pipelineCosts) and every message queued on its
// sender's link to that peer, first come first served at the link's
// uncontended rate, its latency paid after its bytes (the event
// engine's send queues, schedule.Transfer.Serialize). A pipeline whose
// links carry more than its stages compute is a max-plus system whose
// pace is its slowest dependency cycle (Baccelli et al., "Synchronization
// and Linearity", 1992, ch. 3): a micro-batch's round trip through the
// stages and their queues, which a stage's in-flight window must cover.
// In DualPipeV a fused pair waits for both its forward's activations
// and its backward's gradients, which share one link per direction, so
// its cycles run twice through every queue; an interleaved order's
// chunk transitions wait for the loop's messages. Neither is the link's
// busy time, which the closed form (overlappedSends) prices. ok is
// false where the links do not pace the pass (no boundary's message
// takes linkPacedShare of the smallest chunk's forward compute), where
// sends block (priced in each op), where the order cannot be built, or
// where a boundary crosses a shared uplink (a site link or an
// oversubscribed level, network.UplinkGbps) under a transport with
// end-to-end rate control (network.ControlAIMD: TCP, DCQCN). There the
// engines give a GPU different rates: the analytic engine its share of
// the unit's uplink less what the sawtooth leaves unused below a
// bandwidth-delay product of buffer (network.Links), the event engine a
// max-min fair share of the simulated trunk at its capacity (trunks),
// and a built pass would read the lower rate through every queue (Llama
// 3.1 70B over 800 km of TCP, TestSlowLinkNewUserCases: 0.97 against
// 1.45 GB/s a GPU, analytic 1.70 s against event 1.43 s). The caller
// then keeps the closed form.
func (e *evaluator) linkPacedPass(sp schedule.Params, vs []virtualStage) (float64, bool) {
	p := e.c.Parallel
	if e.blockingP2P() || p.PP < 2 || len(vs) == 0 {
		return 0, false
	}
	// The smallest chunk's forward compute, communication left out: a
	// faster link never turns the built pass on (which keeps the step
	// monotone in every link, since the built pass is a max-plus
	// system and the caller takes the larger of it and the closed form).
	minF := math.Inf(1)
	for i := range vs {
		minF = min(minF, vs[i].fwd)
	}
	bytes := e.p2pBytes()
	links := e.linksOf(topology.PP)
	// A message takes the same time over every boundary that crosses one
	// level: each level crossed is asked once.
	var cb [smallLevels]bool
	paced := false
	for l, crossed := range e.chunkBoundaryLevels(len(vs), cb[:0]) {
		if crossed && links[l].LatencyS+bytes/links[l].BytesPerSec >= linkPacedShare*minF {
			paced = true
			break
		}
	}
	if !paced {
		return 0, false
	}
	of := e.stageTable(len(vs))
	t := e.c.Topology
	for k := 0; k+1 < len(vs); k++ {
		a, b := of[k], of[k+1]
		if a == b {
			continue
		}
		l := e.boundaryLevel(a, b)
		if math.IsInf(network.UplinkGbps(t, l), 1) {
			continue
		}
		if tech, err := network.LookupTechnology(t.Levels[l].Transport, "transport"); err != nil || tech.Control == network.ControlAIMD {
			return 0, false
		}
	}
	s, err := e.builtOrder(sp)
	if err != nil || s.NumVirtual() != len(vs) {
		return 0, false
	}
	costs := e.pipelineCosts(s, vs, nil)
	costs.P2P = func(from, to int, _ schedule.Dir) schedule.Transfer {
		link := links[e.boundaryLevel(from, to)]
		return schedule.Transfer{Latency: link.LatencyS, Bytes: bytes, Bandwidth: link.BytesPerSec, Serialize: true}
	}
	r, err := schedule.Simulate(s, costs, nil)
	if err != nil {
		return 0, false
	}
	return r.Makespan, true
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
