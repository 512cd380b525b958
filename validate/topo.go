package validate

import (
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/topology"
)

// The published rows ran on single clusters with full-bisection fabrics
// (Selene, DGX-H100 SuperPODs, Meta's 24K clusters within a pod), so the
// GPU's default system topology applies.
func defaultTopology(g *hardware.GPU, gpus int) topology.Topology { return topology.Default(g, gpus) }

func defaultPlacement() []topology.Dim { return topology.DefaultPlacement() }
