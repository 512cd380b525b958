package validate

import (
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/parallel"
	"github.com/scaleacross/scaleacross/topology"
	"github.com/scaleacross/scaleacross/train"
)

// The published rows ran on single clusters with full-bisection fabrics
// (Selene, DGX-H100 SuperPODs, Meta's 24K clusters within a pod, GB200
// NVL72 racks), so the resolver's default topology for the GPU applies
// (train.DefaultTopology: NVL72 systems in Megatron-Bridge's segments).
func defaultTopology(g *hardware.GPU, gpus int) topology.Topology {
	t, _ := train.DefaultTopology(g, gpus)
	return t
}

// defaultPlacement is the resolver's default rank order
// (train.DefaultPlacement: Megatron-Core's tp-cp-ep-dp-pp for MoE jobs
// with expert parallelism, the framework of the MoE rows).
func defaultPlacement(m *model.Model, p parallel.Config) []topology.Dim {
	d, _ := train.DefaultPlacement(m, p)
	return d
}
