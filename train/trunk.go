package train

import (
	"math"

	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/schedule"
	"github.com/scaleacross/scaleacross/sim"
	"github.com/scaleacross/scaleacross/topology"
)

// trunks are the shared links of the event engine: each level whose units
// share an uplink (a site's link capacity, or an oversubscribed level)
// becomes, for every unit the simulated pipeline touches, an egress and an
// ingress sim.Link of the uplink's capacity, which every flow crossing
// the level from or to that unit shares max-min fairly (sim.Network). The
// engine simulates one pipeline; each of its flows stands for the
// symmetric copies that send at once (sim.Flow.Weight): the GPUs of the
// unit that hold the same stage, C/k for a unit of C GPUs holding k
// stages. Alone on the trunk a flow of weight w gets min(cap, T/w), T the
// uplink and cap what one GPU achieves without the trunk; the analytic
// engine's per-GPU links (network.Links) give the same share when the
// whole unit sends, so the engines part only where flows of different
// dimensions or stages overlap in time, or one sends while others do not.
type trunks struct {
	net    *sim.Network
	levels []trunkLevel
	// only, when not trunkAll, leaves one dimension's traffic off the
	// uplinks (at its uncontended share, as the analytic engine prices
	// it): for tests that compare a trunk shared by both with either alone.
	only trunkTraffic
}

// trunkTraffic says which dimensions' flows share the uplinks.
type trunkTraffic uint8

const (
	trunkAll trunkTraffic = iota
	trunkPPOnly
	trunkDPOnly
)

// sharesPP reports whether pipeline sends over level l use its uplinks.
func (tr *trunks) sharesPP(l int) bool { return tr.shared(l) && tr.only != trunkDPOnly }

// trunkLevel is one level's shared uplinks.
type trunkLevel struct {
	shared bool
	// capacity is the uplink's bytes per second in each direction,
	// scaled by the collective efficiency as the per-GPU links are.
	capacity float64
	// unitGPUs is the GPU count of one unit of the level below, weight
	// the GPUs of it that hold one stage.
	unitGPUs int
	weight   float64
	// ppCap and dpCap are what one GPU achieves across the level without
	// the shared uplink, for pipeline and data-parallel traffic.
	ppCap, dpCap    float64
	egress, ingress map[int]*sim.Link
}

// uplink is one level's shared uplink as both engines price it.
type uplink struct {
	// capacity is the uplink's bytes per second in each direction as
	// the level's transport delivers it to the whole unit's flows
	// (network.UplinkBytesPerSec, which network.Links divides among the
	// GPUs), scaled as the per-GPU links are.
	capacity float64
	// unit is the GPU count of one unit of the level below.
	unit int
	// free is the level's link for one GPU without the uplink, when the
	// whole unit sends (data-parallel traffic).
	free network.Link
}

// sharedUplink is the one place both engines ask whether level i's
// shared uplink (network.UplinkGbps: a site link capacity or an
// oversubscribed level) binds: whether the GPUs of one unit of level i-1,
// all sending across level i at the rate each would get without it,
// would exceed it. The analytic engine then divides it among them
// (network.Links) or, where stages reduce unequal amounts, shares it
// between them (dpTrunkFree); the event engine shares it max-min fairly
// between the flows that cross it (newTrunks).
func (e *evaluator) sharedUplink(i int) (uplink, bool) {
	t := e.c.Topology
	if i <= 0 || i >= len(t.Levels) {
		return uplink{}, false
	}
	if math.IsInf(network.UplinkGbps(t, i), 1) {
		return uplink{}, false
	}
	unit := t.Capacity(i - 1)
	f := e.freeLink(i)
	u := uplink{capacity: f.capacity, unit: unit, free: f.free}
	if !(float64(unit)*e.uplinkFlows(i)*u.free.BytesPerSec > u.capacity) {
		return uplink{}, false // the uplink cannot bind even when the whole unit sends
	}
	return u, true
}

// uplinkFlows is how many flows one GPU of a unit below level i can send
// across it at once: two where the unit holds GPUs of one pipeline stage
// whose neighbours both lie across level i (its activations go down and
// its gradients up through the same egress, ppSenders's two directions),
// else one. Counting one, a faster level behind the same uplink turned
// the uplink's contention on (two flows of a stage then sharing its
// egress) and made a step up to 8% slower in either engine
// (TestPropertyPipelineBoundsAndMonotone, 1F1B pp 4 over four units of
// one stage). DualPipeV counts two as well: its fused pairs send to
// both peers in turn. It counted one while the analytic engine added a
// closed form to its built pass (overlappedSends), which with two put
// it up to 30% above the event engine; with one, a faster level behind
// the same uplink made its step up to 36% slower. Its pass is now the
// built order's alone (dualPipeVPaced), and neither happens (3 x 5,000
// and 2 x 20,000 draws). Where data parallelism crosses level i as well
// as the pipeline, a GPU's reductions run beside its sends, one flow
// more (ppUplinkFlows counts the sends): counting the sends alone, a
// faster level below an uplink that its bandwidth just reached turned
// the sharing on, and the sends and reductions, each at the uplink's
// rate before, had to share it (ZB-V tp1 pp2 vp2 dp2 ZeRO-1 behind a 1
// Gb/s site link: 76.376 -> 76.657 s analytic, 76.376 -> 76.517 s event,
// when the level went from 1.00 to 1.51 Gb/s; TestUplinkCountsDPFlows).
func (e *evaluator) uplinkFlows(i int) float64 {
	n := e.ppUplinkFlows(i)
	if crosses(e.dpSpan(e.c.Parallel.DP*e.c.Parallel.CP).Factors, i) && crosses(e.span(topology.PP).Factors, i) {
		n++
	}
	return n
}

// crosses reports whether a dimension with the given factors per level
// sends across level i.
func crosses(f []int, i int) bool { return i < len(f) && f[i] > 1 }

// ppUplinkFlows is how many pipeline sends one GPU of a unit below level
// i can have across it at once (uplinkFlows).
func (e *evaluator) ppUplinkFlows(i int) float64 {
	pp := e.span(topology.PP).Factors
	if i >= len(pp) || pp[i] < 3 {
		return 1
	}
	for _, f := range pp[:i] {
		if f > 1 {
			return 1 // a unit holds more than one stage
		}
	}
	return 2
}

// freeLinkKey is what a freeLink answer depends on: the level, the GPU
// count of the unit below it and the collective efficiency alone
// (TestFreeLinkKeyIsComplete).
type freeLinkKey struct {
	level topology.Level
	unit  int
	eff   float64
}

// freeUplink is a shared uplink's two facts that sharedUplink asks for:
// what one GPU achieves across the level without the uplink (freeLinkOf)
// and the uplink's rate (network.UplinkBytesPerSec).
type freeUplink struct {
	free     network.Link
	capacity float64
}

// freeLink is freeLinkOf and network.UplinkBytesPerSec for level i of
// e's topology, remembered in e's scratch (which a pool's evaluations
// share). The Explorer's candidates cycle through every transport and
// collective algorithm on each shared level, dozens of keys, so the
// answers are kept in a map: a ring of the last four evicted each one
// before it was asked again.
func (e *evaluator) freeLink(i int) freeUplink {
	t := e.c.Topology
	key := freeLinkKey{level: t.Levels[i], unit: t.Capacity(i - 1), eff: e.c.Calib.NetworkEfficiency}
	of := func() freeUplink {
		return freeUplink{free: freeLinkOf(t, i, key.eff), capacity: network.UplinkBytesPerSec(t, i, nil, key.eff)}
	}
	sc := e.sc
	if sc == nil {
		return of()
	}
	if l, ok := sc.freeLinks[key]; ok {
		return l
	}
	l := of()
	if sc.freeLinks == nil || len(sc.freeLinks) >= freeLinkMax {
		sc.freeLinks = map[freeLinkKey]freeUplink{}
	}
	sc.freeLinks[key] = l
	return l
}

// freeLinkMax bounds the answers a scratch keeps (a few kilobytes); past
// it the map starts again.
const freeLinkMax = 1024

// freeLinkOf is what one GPU achieves across level i of t, all the unit's
// GPUs sending, where the level's shared uplink does not bind: its
// capacity raised to the unit's ports (every GPU's link at once), no
// oversubscription. The uplink's equal-cost paths stay, so a transport
// that hashes flows onto them (ECMP) still pays their collisions, as
// network.Links charges them for any uplink at least that wide. Taking
// the uplink away instead took the collisions with it: the free rate
// was above what a GPU gets behind an uplink that does not bind, and a
// job whose uplink stopped binding when it grew got slower in both
// engines (405B over two buildings, data parallelism across them over
// RoCE with PFC: 14.1334 -> 14.1390 s analytic, 14.0660 -> 14.0716 s
// event, when the site link went from 3.3 to 3.35 Pb/s;
// TestPropertyBetterNetworkNeverSlower, TestFreeLinkKeepsECMP).
func freeLinkOf(t topology.Topology, i int, eff float64) network.Link {
	var lv [8]topology.Level
	var lk [8]network.Link
	if len(t.Levels) > len(lv) {
		return network.Links(withoutUplink(t, i), nil, eff)[i]
	}
	// Level i's link depends on the levels up to it alone.
	n := copy(lv[:], t.Levels[:i+1])
	freeUplinkAt(topology.Topology{Levels: lv[:n]}, i)
	return network.LinksInto(lk[:n], topology.Topology{Levels: lv[:n]}, nil, eff)[i]
}

// withoutUplink is a copy of t whose level i's shared uplink cannot bind
// (freeUplinkAt).
func withoutUplink(t topology.Topology, i int) topology.Topology {
	free := topology.Topology{Levels: append([]topology.Level(nil), t.Levels...)}
	freeUplinkAt(free, i)
	return free
}

// freeUplinkAt widens level i's shared uplink of t, in place, to the
// ports of one unit of the level below (its GPU count times the level's
// per-GPU bandwidth), without oversubscription: as wide as the unit's
// GPUs can fill, so it never binds, with the paths a real uplink of that
// width hashes flows onto.
func freeUplinkAt(t topology.Topology, i int) {
	l := &t.Levels[i]
	l.LinkCapacityGbps = float64(t.Capacity(i-1)) * l.BandwidthGbps
	l.Oversubscription = 0
}

// newTrunks finds the levels whose shared uplink can bind the traffic of
// pipeline sends or data-parallel collectives that cross it
// (sharedUplink); nil when there is none, and the engine then needs no
// shared links.
func (e *evaluator) newTrunks() *trunks {
	t := e.c.Topology
	any := false
	for i, l := range t.Levels {
		any = any || (i > 0 && (l.LinkCapacityGbps > 0 || l.Oversubscription > 1))
	}
	if !any {
		return nil
	}
	eff := e.c.Calib.NetworkEfficiency
	pp := e.span(topology.PP).Factors
	dp := e.dpSpan(e.c.Parallel.DP * e.c.Parallel.CP).Factors
	var out *trunks
	inner := 1 // stages inside one unit of level i-1
	for i := range t.Levels {
		if i > 0 && i-1 < len(pp) {
			inner *= max(pp[i-1], 1)
		}
		if i == 0 || !(crosses(pp, i) || crosses(dp, i)) {
			continue
		}
		u, ok := e.sharedUplink(i)
		if !ok {
			continue
		}
		if out == nil {
			out = &trunks{net: sim.NewNetwork(sim.New()), levels: make([]trunkLevel, len(t.Levels))}
		}
		out.levels[i] = trunkLevel{
			shared: true, capacity: u.capacity, unitGPUs: u.unit,
			weight: float64(u.unit) / float64(inner),
			ppCap:  network.Links(withoutUplink(t, i), ppSenders(t, e.span(topology.PP), e.c.Parallel.PP), eff)[i].BytesPerSec,
			dpCap:  u.free.BytesPerSec,
			egress: map[int]*sim.Link{}, ingress: map[int]*sim.Link{},
		}
	}
	return out
}

// unitOf is the unit of level i-1 that holds pipeline stage st of the
// simulated pipeline.
func (tr *trunks) unitOf(e *evaluator, i, st int) int {
	return st * e.ppStride / tr.levels[i].unitGPUs
}

// link returns unit u's uplink at level i in one direction.
func (tr *trunks) link(i, u int, out bool) *sim.Link {
	l := &tr.levels[i]
	m, name := l.ingress, "ingress"
	if out {
		m, name = l.egress, "egress"
	}
	if x, ok := m[u]; ok {
		return x
	}
	x := tr.net.NewLink(name, l.capacity)
	m[u] = x
	return x
}

// shared reports whether level i is a shared uplink.
func (tr *trunks) shared(i int) bool {
	return tr != nil && i < len(tr.levels) && tr.levels[i].shared
}

// p2p is the pipeline message from stage from to stage to over shared
// level l: it leaves from's unit and enters to's.
func (tr *trunks) p2p(e *evaluator, from, to, l int) []*sim.Link {
	return []*sim.Link{tr.link(l, tr.unitOf(e, l, from), true), tr.link(l, tr.unitOf(e, l, to), false)}
}

// trunkSend is the pipeline message from stage from to stage to over
// shared level l in both engines' passes (the event engine's and the
// analytic engine's built pass, linkPacedRun): it competes max-min
// fairly with every other flow crossing the level's uplinks (p2p), at
// most what one GPU achieves there alone, its latency paid after its
// bytes; a blocking send holds its sender until it is through, an
// overlapped one queues behind the sender's earlier messages to the
// same peer.
func (e *evaluator) trunkSend(tr *trunks, from, to, l int, blocking bool) schedule.Transfer {
	return schedule.Transfer{Latency: e.linksOf(topology.PP)[l].LatencyS, Bytes: e.p2pBytes(), Bandwidth: tr.levels[l].ppCap,
		Links: tr.p2p(e, from, to, l), Weight: tr.levels[l].weight, Serialize: !blocking, Blocking: blocking}
}

// dpPhase is the part of a data-parallel collective that crosses one
// shared level: bytes per GPU over the level's uplinks.
type dpPhase struct {
	level int
	bytes float64
}

// splitCollective prices collective k of bytes over span s on links as
// the engine runs it: a fixed time (latencies and the levels that are not
// shared) and, per shared level, the bytes each GPU moves over the
// uplink, which the simulation shares. Alone on the uplink the phases
// take what network.Time charges for them.
func (tr *trunks) splitCollective(k network.Kind, bytes float64, s topology.Span, links []network.Link, phases []dpPhase) (fixed float64, _ []dpPhase) {
	n := len(links)
	sent := make([]float64, n)
	times := make([]float64, n)
	lat := make([]float64, n)
	network.AddPerLevel(k, bytes, 1, s, links, sent, times)
	free := append([]network.Link(nil), links...)
	for i := range free {
		if tr.shared(i) {
			free[i].BytesPerSec = math.Inf(1)
		}
	}
	network.AddPerLevel(k, bytes, 1, s, free, sent, lat)
	for i := range times {
		fixed += times[i]
		if !tr.shared(i) {
			continue
		}
		if d := times[i] - lat[i]; d > 0 {
			fixed -= d
			phases = append(phases, dpPhase{level: i, bytes: d * links[i].BytesPerSec})
		}
	}
	return max(fixed, 0), phases
}

// runPhases moves stage st's collective phases over its unit's uplinks
// one after another and calls done when the last has crossed.
func (tr *trunks) runPhases(e *evaluator, st int, phases []dpPhase, done func()) {
	if len(phases) == 0 {
		done()
		return
	}
	ph := phases[0]
	l := &tr.levels[ph.level]
	u := tr.unitOf(e, ph.level, st)
	path := []*sim.Link{tr.link(ph.level, u, true), tr.link(ph.level, u, false)}
	flow := sim.Flow{Weight: l.weight, MaxRate: l.dpCap}
	if tr.only == trunkPPOnly {
		path, flow.MaxRate = nil, e.linksOf(topology.DP)[ph.level].BytesPerSec
	}
	tr.net.StartFlow(ph.bytes, path, flow, func() {
		tr.runPhases(e, st, phases[1:], done)
	})
}
