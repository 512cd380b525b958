// Package network prices collectives over a group's span of a topology
// with the alpha-beta model: a message costs a latency (alpha) plus its
// size over the bandwidth (beta).
package network

import "github.com/scaleacross/scaleacross/topology"

// Link is what one GPU sees at one level of the hierarchy.
type Link struct {
	// BytesPerSec is the achieved per-GPU, per-direction bandwidth.
	BytesPerSec float64
	// LatencyS is the one-way per-message latency.
	LatencyS float64
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
// All-reduce, all-gather and reduce-scatter are hierarchical: level by
// level from the innermost, each level runs a ring over its factor on the
// data left after the levels below: ring all-reduce of S bytes over n ranks
// costs 2(n-1)*alpha + 2(n-1)/n*S/B, all-gather and reduce-scatter half.
// All-to-all sends the (f-1)/n share of its buffer that goes to peers at
// each level over that level's link.
func Time(k Kind, bytes float64, s topology.Span, links []Link) float64 {
	if bytes <= 0 {
		return 0
	}
	n := s.Size()
	if n <= 1 && k != P2P {
		return 0
	}
	var t float64
	switch k {
	case AllReduce, AllGather, ReduceScatter:
		mult := 2.0
		if k != AllReduce {
			mult = 1
		}
		rem := bytes
		for i, f := range s.Factors {
			if f <= 1 {
				continue
			}
			ff := float64(f)
			t += mult * ((ff-1)*links[i].LatencyS + (ff-1)/ff*rem/links[i].BytesPerSec)
			rem /= ff
		}
	case AllToAll:
		below := 1
		for i, f := range s.Factors {
			if f <= 1 {
				below *= max(f, 1)
				continue
			}
			peers := float64((f - 1) * below)
			// Sends to all peers are posted at once: one latency per level.
			t += links[i].LatencyS + peers/float64(n)*bytes/links[i].BytesPerSec
			below *= f
		}
	case P2P:
		i := s.Outermost()
		if i < 0 {
			i = 0
		}
		t = links[i].LatencyS + bytes/links[i].BytesPerSec
	}
	return t
}

// Links returns what one GPU achieves at each level of t when senders[i]
// GPUs of one unit of level i-1 send across level i at once (0 or a value
// above the unit's size means all of them). The per-GPU bandwidth is the
// least of: the GPU's own link; its share of the unit's uplink, which the
// oversubscription divides among all GPUs of the unit; and its share of the
// site link capacity. eff is the fraction of line rate a collective reaches.
func Links(t topology.Topology, senders []float64, eff float64) []Link {
	links := make([]Link, len(t.Levels))
	for i, l := range t.Levels {
		bw := l.BandwidthGbps * 1e9 / 8
		unit := 1.0
		if i > 0 {
			unit = float64(t.Capacity(i - 1))
		}
		n := unit
		if i < len(senders) && senders[i] > 0 && senders[i] < unit {
			n = senders[i]
		}
		if l.Oversubscription > 1 {
			bw = min(bw, unit*bw/l.Oversubscription/n)
		}
		if l.LinkCapacityGbps > 0 && i > 0 {
			bw = min(bw, l.LinkCapacityGbps*1e9/8/n)
		}
		links[i] = Link{BytesPerSec: bw * eff, LatencyS: t.OneWayLatencyS(i)}
	}
	return links
}

// PerLevel splits collective k the way Time prices it: the bytes one GPU
// sends and the time spent at each level of the hierarchy. The times add
// up to Time(k, bytes, s, links).
func PerLevel(k Kind, bytes float64, s topology.Span, links []Link) (sent, times []float64) {
	sent = make([]float64, len(s.Factors))
	times = make([]float64, len(s.Factors))
	n := s.Size()
	if bytes <= 0 || (n <= 1 && k != P2P) {
		return sent, times
	}
	switch k {
	case AllReduce, AllGather, ReduceScatter:
		mult := 2.0
		if k != AllReduce {
			mult = 1
		}
		rem := bytes
		for i, f := range s.Factors {
			if f <= 1 {
				continue
			}
			ff := float64(f)
			sent[i] = mult * (ff - 1) / ff * rem
			times[i] = mult*(ff-1)*links[i].LatencyS + sent[i]/links[i].BytesPerSec
			rem /= ff
		}
	case AllToAll:
		below := 1
		for i, f := range s.Factors {
			if f <= 1 {
				below *= max(f, 1)
				continue
			}
			sent[i] = float64((f-1)*below) / float64(n) * bytes
			times[i] = links[i].LatencyS + sent[i]/links[i].BytesPerSec
			below *= f
		}
	case P2P:
		i := max(s.Outermost(), 0)
		sent[i] = bytes
		times[i] = links[i].LatencyS + bytes/links[i].BytesPerSec
	}
	return sent, times
}
