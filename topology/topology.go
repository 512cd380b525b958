// Package topology describes the network hierarchy a job runs on (node,
// zone or pod, building, region) and where each parallel group sits on it.
package topology

import (
	"fmt"
	"math"

	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/spec"
)

// FiberUsPerKm is the one-way propagation delay of light in fiber,
// about 4.9 us/km (refractive index ~1.47; reference/network.md).
const FiberUsPerKm = 4.9

// Level is one tier of the hierarchy, innermost first.
type Level struct {
	Name string `json:"name"`
	// Size is how many units of the level below form one unit of this level
	// (for the innermost level: GPUs per node).
	Size int `json:"size"`
	// BandwidthGbps is the per-GPU, per-direction bandwidth to a peer that
	// shares this level but not the one below.
	BandwidthGbps float64 `json:"bandwidth_gbps"`
	// LatencyUs is the one-way small-message latency at this level,
	// propagation included.
	LatencyUs float64 `json:"latency_us"`
	// Oversubscription divides BandwidthGbps when all GPUs send across at once.
	Oversubscription float64 `json:"oversubscription,omitempty"`
	// DistanceKm is the fiber distance between units of this level.
	DistanceKm float64 `json:"distance_km,omitempty"`
	// LinkCapacityGbps is the aggregate egress capacity of one child unit
	// across this level (a site's trunk); 0 means no shared cap.
	LinkCapacityGbps float64 `json:"link_capacity_gbps,omitempty"`
	// LossRate is the packet loss probability on this level's links.
	LossRate float64 `json:"loss_rate,omitempty"`
	// Transport names the network-layer technology on this level.
	Transport string `json:"transport,omitempty"`
}

// Topology is the hierarchy a job's GPUs sit in.
type Topology struct {
	Levels []Level `json:"levels"`
}

// GPUs is the number of GPUs the hierarchy holds.
func (t Topology) GPUs() int {
	n := 1
	for _, l := range t.Levels {
		n *= l.Size
	}
	return n
}

// Capacity returns how many GPUs one unit of level i holds.
func (t Topology) Capacity(i int) int {
	n := 1
	for j := 0; j <= i && j < len(t.Levels); j++ {
		n *= t.Levels[j].Size
	}
	return n
}

// OneWayLatencyS is the one-way latency at level i in seconds: the stated
// latency plus fiber propagation over the level's distance.
func (t Topology) OneWayLatencyS(i int) float64 {
	l := t.Levels[i]
	return (l.LatencyUs + l.DistanceKm*FiberUsPerKm) * 1e-6
}

// PerGPUBytesPerSec is the bandwidth one GPU gets across level i when every
// GPU of its unit sends across that level at once: the per-GPU bandwidth
// divided by the oversubscription, capped by its share of the site link.
func (t Topology) PerGPUBytesPerSec(i int) float64 {
	l := t.Levels[i]
	bw := l.BandwidthGbps * 1e9 / 8
	if l.Oversubscription > 1 {
		bw /= l.Oversubscription
	}
	if l.LinkCapacityGbps > 0 && i > 0 {
		share := l.LinkCapacityGbps * 1e9 / 8 / float64(t.Capacity(i-1))
		bw = math.Min(bw, share)
	}
	return bw
}

// Default is the usual system of g scaled to gpus: an NVLink domain per
// node and one full-bisection scale-out level at the NIC bandwidth.
func Default(g *hardware.GPU, gpus int) Topology {
	node := g.ScaleUpSize
	if node <= 0 || gpus%node != 0 || gpus < node {
		node = min(max(gpus, 1), max(g.ScaleUpSize, 1))
		for node > 1 && gpus%node != 0 {
			node--
		}
	}
	levels := []Level{{
		Name:          "node",
		Size:          node,
		BandwidthGbps: g.ScaleUpGBs * 8,
		LatencyUs:     g.ScaleUpLatencyUs,
	}}
	if gpus/node > 1 {
		levels = append(levels, Level{
			Name:          "cluster",
			Size:          gpus / node,
			BandwidthGbps: g.NICGbps,
			LatencyUs:     g.ScaleOutLatencyUs,
		})
	}
	return Topology{Levels: levels}
}

// FromSpec converts and validates a spec topology for a job of gpus GPUs.
func FromSpec(st *spec.Topology, gpus int) (Topology, error) {
	if st == nil || len(st.Levels) == 0 {
		return Topology{}, spec.Errorf("system.topology.levels", "needs at least one level")
	}
	t := Topology{Levels: make([]Level, len(st.Levels))}
	for i, l := range st.Levels {
		f := fmt.Sprintf("system.topology.levels[%d]", i)
		switch {
		case l.Size <= 0:
			return Topology{}, spec.Errorf(f+".size", "must be a positive integer, got %d", l.Size)
		case !(l.BandwidthGbps > 0):
			return Topology{}, spec.Errorf(f+".bandwidth_gbps", "must be positive, got %g", l.BandwidthGbps)
		case l.LatencyUs < 0 || math.IsNaN(l.LatencyUs):
			return Topology{}, spec.Errorf(f+".latency_us", "must not be negative, got %g", l.LatencyUs)
		case l.Oversubscription < 0 || math.IsNaN(l.Oversubscription):
			return Topology{}, spec.Errorf(f+".oversubscription", "must be positive (1 = full bisection), got %g", l.Oversubscription)
		case l.DistanceKm < 0 || math.IsNaN(l.DistanceKm):
			return Topology{}, spec.Errorf(f+".distance_km", "must not be negative, got %g", l.DistanceKm)
		case l.LinkCapacityGbps < 0 || math.IsNaN(l.LinkCapacityGbps):
			return Topology{}, spec.Errorf(f+".link_capacity_gbps", "must not be negative, got %g", l.LinkCapacityGbps)
		case l.LossRate < 0 || l.LossRate >= 1 || math.IsNaN(l.LossRate):
			return Topology{}, spec.Errorf(f+".loss_rate", "must lie in [0, 1), got %g", l.LossRate)
		}
		t.Levels[i] = Level(l)
		if t.Levels[i].Name == "" {
			t.Levels[i].Name = fmt.Sprintf("level%d", i)
		}
	}
	if got := t.GPUs(); got != gpus {
		return Topology{}, spec.Errorf("system.topology.levels", "level sizes multiply to %d GPUs but system.gpus is %d; make the product of sizes equal the GPU count", got, gpus)
	}
	return t, nil
}
