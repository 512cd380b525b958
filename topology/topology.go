// Package topology describes the network hierarchy a job runs on (node,
// zone or pod, building, region) and where each parallel group sits on it.
package topology

import (
	"fmt"
	"strings"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/spec"
)

// FiberUsPerKm is the one-way propagation delay of light in fiber,
// about 4.9 us/km (refractive index ~1.47; reference/network.md).
const FiberUsPerKm = 4.9

// DefaultRouteStretch is how much longer the fiber route between two sites
// is than their straight-line distance when a level does not say: 1.5, an
// assumption in line with measured terrestrial fiber paths running
// 1.5-2x the geodesic (Bozkurt et al., "Why is the Internet so slow?!",
// PAM 2017).
const DefaultRouteStretch = 1.5

// Physical ranges of the spec's level fields, checked by FromSpec. They
// span every real fabric with a wide margin (1 Mb/s to 1 Pb/s per GPU, up
// to 10 s of latency, up to Earth's circumference) and keep every derived
// time finite.
const (
	MaxLevels           = 64
	MaxGPUs             = 1 << 24
	MinBandwidthGbps    = 1e-3
	MaxBandwidthGbps    = 1e6
	MaxLinkCapacityGbps = 1e9
	MaxLatencyUs        = 1e7
	MaxOversubscription = 1e4
	MaxDistanceKm       = 40075
	MaxRouteStretch     = 10
	MaxLossRate         = 0.5
)

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
	// DistanceKm is the straight-line distance between units of this level
	// (sites); the fiber route is RouteStretch times longer.
	DistanceKm float64 `json:"distance_km,omitempty"`
	// RouteStretch is fiber route length over DistanceKm; 0 means
	// DefaultRouteStretch.
	RouteStretch float64 `json:"route_stretch,omitempty"`
	// LinkCapacityGbps is the aggregate egress capacity of one child unit
	// across this level (a site's trunk); 0 means no shared cap.
	LinkCapacityGbps float64 `json:"link_capacity_gbps,omitempty"`
	// LossRate is the packet loss probability on this level's links.
	LossRate float64 `json:"loss_rate,omitempty"`
	// Transport names the network-layer technology on this level (see
	// network.Technologies); empty means the level's native fabric.
	Transport string `json:"transport,omitempty"`
	// Algorithm is the collective algorithm of groups whose outermost
	// level is this one: hierarchical (default), ring or tree.
	Algorithm string `json:"algorithm,omitempty"`
}

// IsSite reports whether the level joins sites (buildings, campuses,
// regions) rather than racks of one hall: it has a distance, a shared
// site-link capacity, or a site-like name.
func (l Level) IsSite() bool {
	if l.DistanceKm > 0 || l.LinkCapacityGbps > 0 {
		return true
	}
	switch strings.ToLower(l.Name) {
	case "building", "site", "campus", "region", "datacenter", "dc":
		return true
	}
	return false
}

// FiberKm is the fiber route length between two units of the level.
func (l Level) FiberKm() float64 {
	st := l.RouteStretch
	if st <= 0 {
		st = DefaultRouteStretch
	}
	return l.DistanceKm * st
}

// SiteLevels returns the indices of the levels that join sites and have
// more than one unit, innermost first.
func (t Topology) SiteLevels() []int {
	var out []int
	for i, l := range t.Levels {
		if i > 0 && l.Size > 1 && l.IsSite() {
			out = append(out, i)
		}
	}
	return out
}

// Sites is the number of sites: the GPUs over the GPUs of one unit below
// the innermost site level (1 when there is none).
func (t Topology) Sites() int {
	s := t.SiteLevels()
	if len(s) == 0 {
		return 1
	}
	return t.GPUs() / t.Capacity(s[0]-1)
}

// WithSiteTransport returns a copy of t whose site levels use transport
// (and, when algorithm is not empty, that collective algorithm); levels
// that already name a transport keep it unless force is set.
func (t Topology) WithSiteTransport(transport, algorithm string, force bool) Topology {
	lv := append([]Level(nil), t.Levels...)
	for _, i := range t.SiteLevels() {
		if transport != "" && (force || lv[i].Transport == "") {
			lv[i].Transport = transport
		}
		if algorithm != "" && (force || lv[i].Algorithm == "") {
			lv[i].Algorithm = algorithm
		}
	}
	return Topology{Levels: lv}
}

// Topology is the hierarchy a job's GPUs sit in.
type Topology struct {
	Levels []Level `json:"levels"`
}

// GPUs is the number of GPUs the hierarchy holds.
func (t Topology) GPUs() int {
	n := 1
	for i := range t.Levels { // by index: a Level is large
		n *= t.Levels[i].Size
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

// CapacitiesInto appends every level's Capacity to dst, in one pass (a
// running product of the sizes, in Capacity's order), and returns it.
func (t Topology) CapacitiesInto(dst []int) []int {
	n := 1
	for i := range t.Levels { // by index: a Level is large
		n *= t.Levels[i].Size
		dst = append(dst, n)
	}
	return dst
}

// OneWayLatencyS is the one-way latency at level i in seconds: the stated
// latency (switching and equipment delay) plus fiber propagation over the
// level's fiber route (distance times route stretch).
func (t Topology) OneWayLatencyS(i int) float64 {
	l := &t.Levels[i] // not copied: a Level is large
	return (l.LatencyUs + l.FiberKm()*FiberUsPerKm) * 1e-6
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
		return Topology{}, fault.Field("system.topology.levels", "needs at least one level")
	}
	if len(st.Levels) > MaxLevels {
		return Topology{}, fault.Field("system.topology.levels", "has %d levels, over the limit of %d", len(st.Levels), MaxLevels)
	}
	t := Topology{Levels: make([]Level, len(st.Levels))}
	product := 1
	for i, l := range st.Levels {
		f := fmt.Sprintf("system.topology.levels[%d]", i)
		if l.Size <= 0 {
			return Topology{}, fault.Field(f+".size", "must be a positive integer, got %d", l.Size)
		}
		if l.Size > MaxGPUs || product > MaxGPUs/l.Size {
			return Topology{}, fault.Field(f+".size", "level sizes multiply past %d GPUs, the largest topology modelled; make the product of sizes equal system.gpus (%d)", MaxGPUs, gpus)
		}
		product *= l.Size
		for _, r := range []struct {
			name     string
			v        float64
			lo, hi   float64
			zeroOK   bool
			describe string
		}{
			{"bandwidth_gbps", l.BandwidthGbps, MinBandwidthGbps, MaxBandwidthGbps, false, "Gb/s per GPU per direction"},
			{"latency_us", l.LatencyUs, 0, MaxLatencyUs, true, "microseconds one way"},
			{"oversubscription", l.Oversubscription, 1, MaxOversubscription, true, "1 = full bisection; 0 or omitted means 1"},
			{"distance_km", l.DistanceKm, 0, MaxDistanceKm, true, "km between sites, at most Earth's circumference"},
			{"route_stretch", l.RouteStretch, 1, MaxRouteStretch, true, "fiber route over straight-line distance; fiber is never shorter than the straight line"},
			{"link_capacity_gbps", l.LinkCapacityGbps, MinBandwidthGbps, MaxLinkCapacityGbps, true, "aggregate Gb/s of a site's link; 0 or omitted means no shared cap"},
			{"loss_rate", l.LossRate, 0, MaxLossRate, true, "packet loss probability"},
		} {
			if r.zeroOK && r.v == 0 {
				continue
			}
			if !(r.v >= r.lo && r.v <= r.hi) { // also refuses NaN
				return Topology{}, fault.Field(f+"."+r.name, "%g is outside [%g, %g] (%s)", r.v, r.lo, r.hi, r.describe)
			}
		}
		t.Levels[i] = Level(l)
		if t.Levels[i].Name == "" {
			t.Levels[i].Name = fmt.Sprintf("level%d", i)
		}
	}
	if got := t.GPUs(); got != gpus {
		return Topology{}, fault.Field("system.topology.levels", "level sizes multiply to %d GPUs but system.gpus is %d; make the product of sizes equal the GPU count", got, gpus)
	}
	return t, nil
}
