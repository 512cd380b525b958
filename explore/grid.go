package explore

import (
	"fmt"

	"github.com/scaleacross/scaleacross/spec"
)

// GridPoint is one design point of the speed-up grid: a model on a
// number of GPUs split evenly over Sites buildings, whose trunks carry
// CapacityGbps each, DistanceKm apart.
type GridPoint struct {
	Model        string  `json:"model"`
	GPUs         int     `json:"gpus"`
	Sites        int     `json:"sites"`
	GlobalBatch  int     `json:"global_batch"`
	Precision    string  `json:"precision"`
	CapacityGbps float64 `json:"capacity_gbps"`
	DistanceKm   float64 `json:"distance_km"`
	// Search bounds the space so that the whole grid runs in minutes.
	Search *spec.Search `json:"search,omitempty"`
}

// Job builds the point's job: H100 nodes of 8, zones of 4,096 GPUs at
// 400 Gb/s, 1:7 between zones inside a building (as DefaultScenarioYAML),
// and the site level with the point's capacity and distance.
func (g GridPoint) Job() *spec.Job {
	perSite := g.GPUs / g.Sites
	zones := max(perSite/4096, 1)
	zone := perSite / zones / 8
	levels := []spec.Level{
		{Name: "node", Size: 8, BandwidthGbps: 3600, LatencyUs: 1},
		{Name: "zone", Size: zone, BandwidthGbps: 400, LatencyUs: 5},
	}
	if zones > 1 {
		levels = append(levels, spec.Level{Name: "hall", Size: zones, BandwidthGbps: 400, LatencyUs: 10, Oversubscription: 7})
	}
	levels = append(levels, spec.Level{Name: "building", Size: g.Sites, BandwidthGbps: 400, LatencyUs: 20, DistanceKm: g.DistanceKm, LinkCapacityGbps: g.CapacityGbps})
	return &spec.Job{
		Model:    g.Model,
		System:   spec.System{GPU: "h100-sxm", GPUs: g.GPUs, Topology: &spec.Topology{Levels: levels}},
		Training: spec.Training{SeqLen: 8192, GlobalBatch: g.GlobalBatch, Precision: g.Precision},
		Search:   g.Search,
	}
}

// String names the point.
func (g GridPoint) String() string {
	return fmt.Sprintf("%s on %d GPUs in %d buildings, %g Tb/s, %g km", g.Model, g.GPUs, g.Sites, g.CapacityGbps/1000, g.DistanceKm)
}

// DefaultGrid is the grid `scaleacross plan --grid` prints: three models
// (a dense 405B and 70B, and the Maverick MoE) on two buildings, times
// trunk capacities of 1:4.5 (Prometheus-like), 1:16 and 1:64 of the
// buildings' NIC bandwidth, times distances of 1, 10 and 100 km.
// Global batches follow Llama 3 (16M tokens for 405B on 16K GPUs, arXiv
// 2407.21783 Table 4); the 70B and Maverick batches are assumptions of
// the same ~1K tokens per GPU. The space is bounded (vp <= 4, micro-batch
// <= 2, four transports spanning the catalog's behaviours; Maverick's ep
// 64 or 128) so that the 27 plans run in a few minutes on two cores.
func DefaultGrid() []GridPoint {
	bounded := func(ep []int) *spec.Search {
		return &spec.Search{MaxVP: 4, MaxMicroBatch: 2, EP: ep, Technologies: []string{"native", "roce-pfc-deep", "spectrum-xgs", "tcp"}}
	}
	models := []GridPoint{
		{Model: "llama3.1-405b", GPUs: 16384, Sites: 2, GlobalBatch: 2048, Precision: "bf16", Search: bounded(nil)},
		{Model: "llama3.1-70b", GPUs: 4096, Sites: 2, GlobalBatch: 512, Precision: "bf16", Search: bounded(nil)},
		{Model: "llama4-maverick", GPUs: 8192, Sites: 2, GlobalBatch: 1024, Precision: "fp8", Search: bounded([]int{64, 128})},
	}
	var out []GridPoint
	for _, m := range models {
		nic := float64(m.GPUs/m.Sites) * 400 // Gb/s of NICs in one building
		for _, ratio := range []float64{4.5, 16, 64} {
			for _, km := range []float64{1, 10, 100} {
				g := m
				g.CapacityGbps = nic / ratio
				g.DistanceKm = km
				out = append(out, g)
			}
		}
	}
	return out
}
