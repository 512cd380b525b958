// Package network prices collectives over a group's span of a topology
// with the alpha-beta model: a message costs a latency (alpha) plus its
// size over the bandwidth (beta).
package network

import (
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/topology"
)

// Link is what one GPU sees at one level of the hierarchy.
type Link struct {
	// BytesPerSec is the achieved per-GPU, per-direction bandwidth.
	BytesPerSec float64
	// LatencyS is the one-way per-message latency.
	LatencyS float64
	// Algorithm is how a collective whose outermost level is this one
	// runs; the zero value is Hierarchical.
	Algorithm Algorithm
	// Limit names what bounds BytesPerSec (line rate, a window or buffer
	// over the RTT, loss).
	Limit Limit
	// NICBytesPerSec is the rate NCCL's tuner assumes for the level (the
	// NIC's nominal speed across hosts, the line rate inside one): it
	// reads the device, not what shaping or sharing leaves, so the NCCL
	// algorithm's choice uses it rather than BytesPerSec. Zero means
	// BytesPerSec.
	NICBytesPerSec float64
	// StartupS is what a transfer loses before it flows at rate on
	// connections that have sat idle longer than the retransmission
	// timeout: the transport's start-up round trips (Technology.StartupRTTs)
	// times the level's RTT. Linux restarts the congestion window after
	// such an idle period (net.ipv4.tcp_slow_start_after_idle, on by
	// default; RFC 2861), so only host transports over TCP have one.
	StartupS float64
	// RingBytesPerSec is the per-GPU rate of a collective's ring over the
	// level where its transport runs rings on other channels than sends
	// (Technology.RingChannels); zero means BytesPerSec.
	RingBytesPerSec float64
	// RingLimit names what bounds RingBytesPerSec (empty when it is zero).
	RingLimit Limit
}

// ringRate is the rate a collective's ring gets on l.
func (l Link) ringRate() float64 {
	if l.RingBytesPerSec > 0 {
		return l.RingBytesPerSec
	}
	return l.BytesPerSec
}

// Algorithm is a collective algorithm.
type Algorithm string

// Collective algorithms.
const (
	// Hierarchical runs a ring at each level on what the levels below left:
	// reduce-scatter inside the fast level, the slow level on 1/n_local of
	// the data, all-gather back (the zero value).
	Hierarchical Algorithm = "hierarchical"
	// Ring is one flat ring over all ranks (NCCL's default ring): every step
	// waits for the slowest hop, and the data crossing a level is not
	// reduced first.
	Ring Algorithm = "ring"
	// Tree is a (double) binary tree for all-reduce: log-depth latency,
	// ring-like bandwidth (NCCL tree); other collectives run as Ring.
	Tree Algorithm = "tree"
)

// Algorithms lists the collective algorithms.
func Algorithms() []Algorithm { return []Algorithm{Hierarchical, Ring, Tree} }

// ParseAlgorithm checks an algorithm name; field names the spec field.
func ParseAlgorithm(s, field string) (Algorithm, error) {
	switch a := Algorithm(s); a {
	case "", Hierarchical:
		return Hierarchical, nil
	case Ring, Tree, NCCL:
		return a, nil
	}
	return "", fault.Field(field, "unknown collective algorithm %q; use hierarchical, ring, tree or nccl (NCCL's own choice by message size)", s)
}

// Kind is a collective operation.
type Kind string

// Collectives (DESIGN.md section 4).
const (
	AllReduce     Kind = "all-reduce"
	AllGather     Kind = "all-gather"
	ReduceScatter Kind = "reduce-scatter"
	AllToAll      Kind = "all-to-all"
	P2P           Kind = "p2p"
)

// Time is the duration of collective k over bytes (the full buffer of one
// rank: the reduced vector for all-reduce, the gathered output for
// all-gather and the input for reduce-scatter, the send buffer for
// all-to-all, the message for p2p) over a group with span s.
//
// The algorithm is that of the outermost level the group crosses
// (links[i].Algorithm). Hierarchical all-reduce, all-gather and
// reduce-scatter go level by level from the innermost, each level running
// a ring over its factor on the data left after the levels below: ring
// all-reduce of S bytes over n ranks costs 2(n-1)*alpha + 2(n-1)/n*S/B,
// all-gather and reduce-scatter half. A flat ring pays the slowest level's
// latency at each of its steps and carries the whole (n-1)/n*S across
// every level, each level's share of it over the group's members inside
// one unit of that level; the slowest level sets the pace. A tree
// all-reduce has log-depth latency at each level and ring-like bandwidth.
// All-to-all sends the (f-1)/n share of its buffer that goes to peers at
// each level over that level's link.
func Time(k Kind, bytes float64, s topology.Span, links []Link) float64 {
	// The per-level split carries the pricing (perLevel); Time is its
	// sum, added up as the levels are priced: the per-level times in
	// level order, each of them once (count 1), so the same sum as
	// adding up AddPerLevel's times.
	return perLevel(k, bytes, 1, s, links, nil, nil, true)
}

// GatherIsScatter reports whether Time prices an all-gather over links
// as it prices a reduce-scatter of the same bytes over the same span,
// bit for bit: unless a level runs NCCL's own choice (whose tuner is
// asked per collective), both are the one-way ring (mult 1) of the same
// algorithm at every level, the same terms in the same order.
func GatherIsScatter(links []Link) bool {
	for i := range links {
		if links[i].Algorithm == NCCL {
			return false
		}
	}
	return true
}

// algorithmOf is the algorithm of the outermost level s crosses.
func algorithmOf(s topology.Span, links []Link) Algorithm {
	i := s.Outermost()
	if i < 0 || i >= len(links) || links[i].Algorithm == "" {
		return Hierarchical
	}
	return links[i].Algorithm
}

// flat prices a flat ring (or a tree all-reduce) and returns its latency
// and bandwidth terms, the level whose bandwidth sets the pace, and the
// outermost level (which carries the latency).
func flat(alg Algorithm, k Kind, mult, bytes float64, s topology.Span, links []Link) (lat, bw float64, slow, outer int) {
	n := float64(s.Size())
	outer = s.Outermost()
	members := 1.0 // group members inside one unit of level i-1
	var worst float64
	for i, f := range s.Factors {
		if f > 1 {
			// The group's traffic leaving one unit of level i-1 is carried
			// by its members' share of the level's links.
			if t := mult * (n - 1) / n * bytes / (members * links[i].ringRate()); t > worst {
				worst, slow = t, i
			}
		}
		members *= float64(max(f, 1))
	}
	if alg == Tree && k == AllReduce {
		// Up and down a binary tree: ceil(log2 f) hops at each level.
		for i, f := range s.Factors {
			if f > 1 {
				lat += 2 * math.Ceil(math.Log2(float64(f))) * links[i].LatencyS
			}
		}
	} else {
		// Every ring step waits for the slowest (outermost) hop.
		lat = mult * (n - 1) * links[outer].LatencyS
	}
	return lat, worst, slow, outer
}

// Links returns what one GPU achieves at each level of t when senders[i]
// GPUs of one unit of level i-1 send across level i at once (0 or a value
// above the unit's size means all of them). The per-GPU share of the
// network is the least of: the GPU's own link; its share of the unit's
// uplink, which the oversubscription divides among all GPUs of the unit;
// and its share of the site link capacity. The level's transport
// (Level.Transport, Native when empty; see Technologies) then delivers
// what its windows, buffers, congestion control and loss recovery allow
// over the level's round-trip time, and eff, the fraction of line rate a
// collective reaches, scales the result. Each link carries the level's
// collective algorithm. Unknown transport or algorithm names count as
// Native and Hierarchical; CheckTopology reports them.
func Links(t topology.Topology, senders []float64, eff float64) []Link {
	return LinksInto(make([]Link, len(t.Levels)), t, senders, eff)
}

// UplinkGbps is the capacity, in Gb/s each way, that the GPUs of one unit
// of level i-1 share across level i of t: the least of the level's site
// link capacity and the unit's ports over its oversubscription; +Inf when
// the level has neither. Links divides it among the senders, and the
// training engines share it between the flows that cross it.
func UplinkGbps(t topology.Topology, i int) float64 {
	l := &t.Levels[i] // not copied: a Level is large
	up := math.Inf(1)
	if l.Oversubscription > 1 {
		unit := 1.0
		if i > 0 {
			unit = float64(t.Capacity(i - 1))
		}
		up = unit * l.BandwidthGbps / l.Oversubscription
	}
	if l.LinkCapacityGbps > 0 && i > 0 {
		up = min(up, l.LinkCapacityGbps)
	}
	return up
}

// levelPath is the path one GPU's traffic across level i of t runs on
// when senders[i] GPUs of one unit of level i-1 send at once (as Links
// reads senders), the level's transport, and n, those senders.
func levelPath(t topology.Topology, i int, senders []float64) (tech Technology, path Path, n float64) {
	l := t.Levels[i]
	bw := l.BandwidthGbps * 1e9 / 8
	unit := 1.0
	if i > 0 {
		unit = float64(t.Capacity(i - 1))
	}
	n = unit
	if i < len(senders) && senders[i] > 0 && senders[i] < unit {
		n = senders[i]
	}
	// Capacity the unit's senders can occupy on the level's uplinks
	// (Gb/s): ECMP spreads their flows over it.
	pathsGbps := 0.0
	if up := UplinkGbps(t, i); !math.IsInf(up, 1) {
		bw = min(bw, up*1e9/8/n)
		pathsGbps = up
	}
	pathsGbps = min(pathsGbps, n*l.BandwidthGbps)
	tech = technology(l.Transport)
	path = Path{
		ShareBytesPerSec: bw, RTTS: 2 * t.OneWayLatencyS(i), Loss: l.LossRate,
		Flows: n * float64(max(tech.Flows, 1)), PathsGbps: pathsGbps,
	}
	return tech, path, n
}

// scale is what multiplies t's throughput into an achieved rate, given
// eff, the fraction of line rate a cluster fabric's collectives reach: a
// host transport's line is the bottleneck and its frames' payload
// (Technology.FrameGoodput, applied by Throughput) is what a stream
// carries, so the collective efficiency does not apply on top.
func (t Technology) scale(eff float64) float64 {
	if t.FrameGoodput > 0 {
		return 1
	}
	return eff
}

// UplinkBytesPerSec is what level i's shared uplink (UplinkGbps: a site
// link or an oversubscribed level) carries, in bytes per second each
// way, for the GPUs of one unit of level i-1 when senders[i] of them
// send across it at once (as Links reads senders; nil: all): its capacity
// as the level's transport delivers it to their flows together, less the
// frame overhead, the sawtooth or pause below a bandwidth-delay product
// of buffer, ECMP collisions and loss recovery that Links charges each
// GPU's share (Technology.Throughput), scaled as Links scales; +Inf when
// the level has no shared uplink. It leaves out the ceilings of one flow
// (a TCP window or NCCL's buffers over the RTT), which do not grow with
// the uplink: where the uplink binds, Links' rate for one GPU is the
// least of this over the senders and what the GPU achieves without the
// uplink (TestLinksShareUplinkBytesPerSec), so an engine that shares the
// uplink between flows (train's trunks) gives a GPU alone on it, or all
// of them at once, what Links gives.
func UplinkBytesPerSec(t topology.Topology, i int, senders []float64, eff float64) float64 {
	if i <= 0 || i >= len(t.Levels) {
		return math.Inf(1)
	}
	up := UplinkGbps(t, i)
	if math.IsInf(up, 1) {
		return up
	}
	tech, path, n := levelPath(t, i, senders)
	// The whole uplink as one share: the same RTT, flows and paths.
	path.ShareBytesPerSec = up * 1e9 / 8
	bw, _, _ := tech.onShare(path)
	if path.Loss > 0 && tech.WindowBytes == 0 {
		// Loss recovery (window-less transports) as for one GPU's share:
		// each flow keeps the same bytes in flight.
		rtt := math.Max(path.RTTS, 1e-9)
		bdp := tech.PortGbps * 1e9 / 8 * rtt
		bw *= RecoveryGoodput(tech.Recovery, path.Loss, math.Min(bdp, bw/n*rtt)/math.Max(tech.MTUBytes, 1)/float64(max(tech.Flows, 1)))
	}
	return bw * tech.scale(eff)
}

// LinksInto is Links written into links, which holds one entry per level
// of t, for callers that keep a buffer; it returns links.
func LinksInto(links []Link, t topology.Topology, senders []float64, eff float64) []Link {
	links = links[:len(t.Levels)]
	for i, l := range t.Levels {
		tech, path, _ := levelPath(t, i, senders)
		oneWay := t.OneWayLatencyS(i)
		got, limit := tech.Throughput(path)
		scale := tech.scale(eff)
		ring, ringLimit := 0.0, Limit("")
		if (tech.RingChannels > 0 && tech.RingChannels != tech.Channels) || tech.RingSliceBytes > 0 {
			r, lim := tech.Ring().Throughput(path)
			ring, ringLimit = r*scale, lim
		}
		alg, _ := ParseAlgorithm(l.Algorithm, "")
		// NCCL's tuner sees the GPU's own link inside the node and the
		// transport's port (the NIC) beyond it.
		nic := l.BandwidthGbps * 1e9 / 8
		if i > 0 && tech.PortGbps > 0 {
			nic = tech.PortGbps * 1e9 / 8
		}
		links[i] = Link{BytesPerSec: got * scale, LatencyS: oneWay, Algorithm: alg, Limit: limit, NICBytesPerSec: nic, StartupS: tech.StartupRTTs * 2 * oneWay, RingBytesPerSec: ring, RingLimit: ringLimit}
	}
	return links
}

// linkTechnologies holds the catalog's entries, built once: Links reads a
// level's entry in every evaluation, and building one allocates its
// Sources. The entries are only read (never handed out), so sharing them
// across goroutines is safe.
var linkTechnologies = sync.OnceValue(func() []Technology {
	names := append(TechnologyNames(), HostTechnologyNames()...)
	out := make([]Technology, 0, len(names))
	for _, n := range names {
		if t, ok := catalog(n); ok {
			out = append(out, t)
		}
	}
	return out
})

// technology looks a transport up, falling back to Native, as
// LookupTechnology would; the result is for reading only.
func technology(name string) Technology {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		n = Native
	}
	for _, t := range linkTechnologies() {
		if t.Name == n {
			return t
		}
	}
	if t, ok := catalog(n); ok {
		return t
	}
	t, _ := catalog(Native)
	return t
}

// CheckTopology reports unknown transport or algorithm names on t's
// levels, naming the spec field.
func CheckTopology(t topology.Topology) error {
	for i, l := range t.Levels {
		f := fmt.Sprintf("system.topology.levels[%d]", i)
		if _, err := LookupTechnology(l.Transport, f+".transport"); err != nil {
			return err
		}
		if _, err := ParseAlgorithm(l.Algorithm, f+".algorithm"); err != nil {
			return err
		}
	}
	return nil
}

// PerLevel splits collective k the way Time prices it: the bytes one GPU
// sends and the time spent at each level of the hierarchy. The times add
// up to Time(k, bytes, s, links).
func PerLevel(k Kind, bytes float64, s topology.Span, links []Link) (sent, times []float64) {
	sent = make([]float64, len(s.Factors))
	times = make([]float64, len(s.Factors))
	AddPerLevel(k, bytes, 1, s, links, sent, times)
	return sent, times
}

// AddPerLevel adds count times collective k's per-level bytes and times
// (as PerLevel splits them) into sent and times, which must have one entry
// per level. It does not allocate.
func AddPerLevel(k Kind, bytes, count float64, s topology.Span, links []Link, sent, times []float64) {
	perLevel(k, bytes, count, s, links, sent, times, false)
}

// perLevel is AddPerLevel, or with sum the sum of the times it would
// add with count 1 (every level's time is added once, so the sum is
// Time's, in level order), which it returns; sent and times are then
// not read.
func perLevel(k Kind, bytes, count float64, s topology.Span, links []Link, sent, times []float64, sum bool) float64 {
	n := s.Size()
	if bytes <= 0 || count == 0 || (n <= 1 && k != P2P) {
		return 0
	}
	var t float64
	switch k {
	case AllReduce, AllGather, ReduceScatter:
		mult := 2.0
		if k != AllReduce {
			mult = 1
		}
		if alg := algorithmOf(s, links); alg != Hierarchical {
			if alg == NCCL {
				alg = ncclAlgorithm(k, bytes, s, links)
			}
			// Each GPU sends mult*(n-1)/n*S in all; the ring (or tree) edges
			// that cross level i but no level above carry the share
			// (u[i-1]-u[i])/n of it, u[i] being the group's units of level i.
			lat, bw, slow, outer := flat(alg, k, mult, bytes, s, links)
			if sum {
				return t + lat + bw
			}
			total := mult * float64(n-1) / float64(n) * bytes
			units := float64(n) // units of level i-1 (GPUs first)
			for i, f := range s.Factors {
				next := units / float64(max(f, 1))
				sent[i] += count * (units - next) / float64(n-1) * total
				units = next
			}
			times[outer] += count * lat
			times[slow] += count * bw
			return 0
		}
		rem := bytes
		for i, f := range s.Factors {
			if f <= 1 {
				continue
			}
			ff := float64(f)
			b := mult * (ff - 1) / ff * rem
			x := mult*(ff-1)*links[i].LatencyS + b/links[i].ringRate()
			if sum {
				t += x
			} else {
				sent[i] += count * b
				times[i] += count * x
			}
			rem /= ff
		}
	case AllToAll:
		below := 1
		for i, f := range s.Factors {
			if f <= 1 {
				below *= max(f, 1)
				continue
			}
			b := float64((f-1)*below) / float64(n) * bytes
			x := links[i].LatencyS + b/links[i].BytesPerSec
			if sum {
				t += x
			} else {
				sent[i] += count * b
				times[i] += count * x
			}
			below *= f
		}
	case P2P:
		i := max(s.Outermost(), 0)
		x := links[i].LatencyS + bytes/links[i].BytesPerSec
		if sum {
			return t + x
		}
		sent[i] += count * bytes
		times[i] += count * x
	}
	return t
}

// AllToAllScaleUpEfficiency is the fraction of the scale-up (NVLink)
// line rate that an MoE dispatcher's all-to-all reaches inside the NVLink
// domain, measured with DeepEP's normal kernels (reference/moe.md
// section 4): 153-158 GB/s intranode EP8 on H800, whose NVLink DeepSeek-V3
// puts at 160 GB/s achieved of 200 GB/s per direction (0.77-0.79), and
// 726-740 GB/s of 900 GB/s on SM100 EP8 with 64 SMs (0.81-0.82). Across
// the scale-out network the same kernels reach the RDMA line rate (43-58
// GB/s against 50 GB/s at EP16-EP64), which the collective efficiency
// already covers. It is a measured figure, not fitted.
const AllToAllScaleUpEfficiency = 0.8

// AllToAllMNNVLEfficiency is the fraction of the scale-up line rate an MoE
// dispatcher's all-to-all reaches when its group spans more GPUs of a
// multi-node NVLink domain (GB200 NVL72) than the single-node
// measurements above cover (more than 8): the GB200 DeepSeek-V3 write-up
// (NVIDIA/Megatron-LM@eb0783b6d3, reference/moe.md section 4) measured
// DeepEP at EP32 over MNNVL at about 400 GB/s dispatch and 190 GB/s
// combine of 900 GB/s per direction, 0.44 and 0.21; a dispatch and a
// combine of equal bytes then take as long as two transfers at
// 2/(1/0.44+1/0.21) = 0.285 of line rate. HybridEP does better there (the
// same write-up credits it with +113.6 TFLOPS/GPU) but publishes no
// bandwidth, so the DeepEP figure stands. Measured, not fitted.
const AllToAllMNNVLEfficiency = 0.285

// AllToAllLinks is links as an MoE dispatcher's all-to-all achieves them
// for a group whose innermost-level factor is inner: the innermost
// (scale-up) level at AllToAllScaleUpEfficiency of line rate, or at
// AllToAllMNNVLEfficiency where inner exceeds 8 GPUs, wherever that is
// below eff, the collective efficiency links already carry; the other
// levels as they are.
func AllToAllLinks(links []Link, eff float64, inner int) []Link {
	out := append([]Link(nil), links...)
	a2a := AllToAllScaleUpEfficiency
	if inner > 8 {
		a2a = AllToAllMNNVLEfficiency
	}
	if len(out) > 0 && eff > a2a {
		out[0].BytesPerSec *= a2a / eff
	}
	return out
}
