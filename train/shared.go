package train

import (
	"github.com/scaleacross/scaleacross/cost"
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/topology"
)

// Shared holds parts of an analytic evaluation that a search's candidates
// have in common and that the evaluator would otherwise rebuild for each
// one. Every field is optional; a field that is set must be exactly what
// the evaluator computes from the Config (the comments say how), so that
// the prediction does not change.
type Shared struct {
	// Device is cost.NewDevice(c.GPU, c.Calib).
	Device *cost.Device
	// Layout is c.Layout().
	Layout *topology.Layout
	// Links is network.Links(c.Topology, nil, c.Calib.NetworkEfficiency),
	// PPLinks PPLinks(c, Layout), and EPLinks EPLinks(c, Layout, Links).
	Links, PPLinks, EPLinks []network.Link
	// FLOPsPerToken is c.Model.FLOPsPerToken(c.Batch.SeqLen).
	FLOPsPerToken float64
	// NoTraffic leaves Result.Levels, the per-level traffic table, empty:
	// only a candidate that is printed needs it.
	NoTraffic bool
}

// AnalyticShared is Analytic with the parts in s taken from s.
func AnalyticShared(c *Config, s *Shared) (Result, error) {
	e, err := newEvaluatorShared(c, s)
	if err != nil {
		return Result{}, err
	}
	return e.analytic(), nil
}

// PPLinks is what one GPU achieves at each level for the pipeline's
// activations of c laid out as l: only the unit's GPUs that hold its last
// stage send across a level at once.
func PPLinks(c *Config, l topology.Layout) []network.Link {
	return network.Links(c.Topology, ppSenders(c.Topology, l.Spans[topology.PP], c.Parallel.PP), c.Calib.NetworkEfficiency)
}

// EPLinks is what one GPU's MoE dispatcher achieves at each level for the
// expert all-to-all of c laid out as l, from links, the per-level links
// of the other dimensions (network.AllToAllLinks). Without an expert
// all-to-all (a dense model, or ep 1) it is links itself, not a copy.
func EPLinks(c *Config, l topology.Layout, links []network.Link) []network.Link {
	if c.Model.MoE == nil || c.Parallel.EP <= 1 {
		return links
	}
	inner := 1
	if f := l.Spans[topology.EP].Factors; len(f) > 0 {
		inner = f[0]
	}
	return network.AllToAllLinks(links, c.Calib.NetworkEfficiency, inner)
}
