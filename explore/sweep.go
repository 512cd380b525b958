package explore

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/spec"
)

// Sweep keys: the quantity of the outermost cross-site level a sweep
// varies.
const (
	// SweepBandwidth is the site trunk capacity, link_capacity_gbps (Gb/s).
	SweepBandwidth = "cross_site_bandwidth"
	// SweepDistance is the distance between sites, distance_km (km).
	SweepDistance = "distance"
)

// SweepKeys lists the quantities a sweep can vary.
func SweepKeys() []string { return []string{SweepBandwidth, SweepDistance} }

// MaxSweepValues is the most values a plan sweep may give.
const MaxSweepValues = 256

// clip shortens a value echoed in an error to at most 64 bytes.
func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	return s[:61] + "..."
}

// ParseSweep reads "key=v1,v2,..." with positive (or, for distance,
// non-negative) numbers.
func ParseSweep(s string) (string, []float64, error) {
	key, list, ok := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if key == "distance_km" {
		key = SweepDistance
	}
	if !ok || (key != SweepBandwidth && key != SweepDistance) {
		return "", nil, fault.Field("--sweep", "want KEY=v1,v2,... with KEY one of %s, got %q", strings.Join(SweepKeys(), ", "), clip(s))
	}
	parts := strings.Split(list, ",")
	if len(parts) > MaxSweepValues {
		return "", nil, fault.Field("--sweep", "%d values, over the limit of %d (each value is a full plan)", len(parts), MaxSweepValues)
	}
	var vals []float64
	for _, f := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !finite(v) || v < 0 || (v == 0 && key == SweepBandwidth) {
			return "", nil, fault.Field("--sweep", "%s: %q is not a usable value (want positive numbers, Gb/s for bandwidth, km for distance)", key, clip(f))
		}
		vals = append(vals, v)
	}
	return key, vals, nil
}

// SweepUnit is the unit of a sweep key's values.
func SweepUnit(key string) string {
	if key == SweepDistance {
		return "km"
	}
	return "Gb/s"
}

// WithSweep returns a copy of j whose outermost cross-site level has key
// set to v. The job must describe its sites in system.topology.
func WithSweep(j *spec.Job, key string, v float64) (*spec.Job, error) {
	if j.System.Topology == nil {
		return nil, fault.Field("system.topology", "a sweep varies the cross-site level, so the spec must describe the sites in system.topology.levels")
	}
	c := *j
	top := *j.System.Topology
	top.Levels = append([]spec.Level(nil), top.Levels...)
	c.System.Topology = &top
	site := -1
	for i, l := range top.Levels {
		if i > 0 && l.Size > 1 && isSiteLevel(l) {
			site = i
		}
	}
	if site < 0 {
		return nil, fault.Field("system.topology.levels", "no level joins sites (give one a distance_km or link_capacity_gbps, or name it building/region)")
	}
	switch key {
	case SweepBandwidth:
		top.Levels[site].LinkCapacityGbps = v
	case SweepDistance:
		top.Levels[site].DistanceKm = v
	default:
		return nil, fmt.Errorf("unknown sweep key %q", key)
	}
	return &c, nil
}

// isSiteLevel mirrors topology.Level.IsSite on a spec level.
func isSiteLevel(l spec.Level) bool {
	if l.DistanceKm > 0 || l.LinkCapacityGbps > 0 {
		return true
	}
	switch strings.ToLower(l.Name) {
	case "building", "site", "campus", "region", "datacenter", "dc":
		return true
	}
	return false
}
