package explore

import (
	"github.com/scaleacross/scaleacross/cost"
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/schedule"
	"github.com/scaleacross/scaleacross/topology"
	"github.com/scaleacross/scaleacross/train"
)

// prepared is what the candidates of one shape and one choice of
// transport and collective algorithm share when they are priced: the
// topology Config gives them and the parts of the step model's evaluation
// that depend on no other choice.
type prepared struct {
	topo   topology.Topology
	dims   []topology.Dim
	ok     bool
	shared train.Shared
}

// netKey is a choice of transport and collective algorithm.
type netKey struct{ tech, coll string }

// netPrep is the topology and links of one netKey.
type netPrep struct {
	topo  topology.Topology
	links []network.Link
}

// pricer prepares the candidates of a search for pricing. Its caches are
// filled by the goroutine that enumerates (prepare) and only read by the
// workers (evaluatePrepared).
type pricer struct {
	b   *Base
	dev *cost.Device
	fpt float64
	net map[netKey]*netPrep
	// last is the shape of the previous candidate and byNet its prepared
	// parts; shapes come in runs.
	last  *shape
	byNet map[netKey]*prepared
}

func newPricer(b *Base) *pricer {
	t := &b.Template
	return &pricer{
		b: b, dev: cost.NewDevice(t.GPU, t.Calib), fpt: t.Model.FLOPsPerToken(t.Batch.SeqLen),
		net: map[netKey]*netPrep{}, byNet: map[netKey]*prepared{},
	}
}

// prepare returns the shared parts of candidate c of shape sh.
func (p *pricer) prepare(c Candidate, sh *shape) *prepared {
	if sh != p.last {
		p.last = sh
		clear(p.byNet)
	}
	k := netKey{c.Technology, c.Collective}
	if pr := p.byNet[k]; pr != nil {
		return pr
	}
	t := &p.b.Template
	np := p.net[k]
	if np == nil {
		np = &netPrep{topo: t.Topology}
		if c.Technology != "" || c.Collective != "" {
			np.topo = t.Topology.WithSiteTransport(c.Technology, c.Collective, true)
		}
		np.links = network.Links(np.topo, nil, t.Calib.NetworkEfficiency)
		p.net[k] = np
	}
	pr := &prepared{topo: np.topo, dims: sh.dims, ok: sh.ok}
	if sh.ok {
		cfg := *t
		cfg.Topology = np.topo
		cfg.Parallel = c.Parallel()
		pr.shared = train.Shared{
			Device: p.dev, Layout: &sh.lay, Links: np.links, PPLinks: train.PPLinks(&cfg, sh.lay),
			FLOPsPerToken: p.fpt, NoTraffic: true,
		}
	}
	p.byNet[k] = pr
	return pr
}

// evaluatePrepared is evaluate with the candidate's shared parts taken
// from pr, building its configuration in cfg (a worker's scratch).
func (b *Base) evaluatePrepared(cfg *train.Config, i int, c Candidate, pr *prepared) outcome {
	if !pr.ok {
		return b.evaluate(i, c)
	}
	*cfg = b.Template
	cfg.Parallel = c.Parallel()
	cfg.Placement = pr.dims
	cfg.Schedule = schedule.Kind(c.Schedule)
	cfg.Batch.MicroBatch = c.MicroBatch
	cfg.Recompute = c.Recompute
	cfg.Assumptions = nil
	cfg.Topology = pr.topo
	mem, fits := b.fitsMemory(cfg)
	if !fits {
		return outcome{ok: true, mem: mem}
	}
	r, err := train.AnalyticShared(cfg, &pr.shared)
	return outcomeOf(i, c, r, err)
}
