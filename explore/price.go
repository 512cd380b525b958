package explore

import (
	"github.com/scaleacross/scaleacross/cost"
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/parallel"
	"github.com/scaleacross/scaleacross/schedule"
	"github.com/scaleacross/scaleacross/topology"
	"github.com/scaleacross/scaleacross/train"
)

// prepared is what the candidates of one shape and one choice of
// transport and collective algorithm share when they are priced: the
// topology Config gives them and the parts of the step model's evaluation
// that depend on no other choice.
type prepared struct {
	topo topology.Topology
	dims []topology.Dim
	ok   bool
	// unplaced, for a shape without a layout (!ok), records that the
	// configuration's own layout (train.Config.Layout) fails with this
	// topology, so that the step model refuses every candidate of the
	// shape: those that fit the quick memory check are then not
	// priced, which would only return that error.
	unplaced bool
	shared   train.Shared
}

// netKey is a choice of transport and collective algorithm.
type netKey struct{ tech, coll string }

// netPrepared is the prepared parts of one netKey.
type netPrepared struct {
	k  netKey
	pr *prepared
}

// netPrep is the topology and links of one netKey, and the pipeline and
// expert links of the layouts seen so far: they depend on the layout only
// through the pipeline's span (train.PPLinks) and the expert group's span
// (train.EPLinks), which many shapes share.
type netPrep struct {
	topo   topology.Topology
	links  []network.Link
	pp, ep map[spanKey][]network.Link
}

// spanKey is a dimension's degree and the factors of its span.
type spanKey struct {
	degree, n int
	factors   [8]int
}

// linksFor returns cache's links for dimension d's degree and span in
// lay, computing them with f the first time.
func linksFor(cache map[spanKey][]network.Link, degree int, d topology.Dim, lay topology.Layout, f func() []network.Link) []network.Link {
	fs := lay.Spans[d].Factors
	if len(fs) > len(spanKey{}.factors) {
		return f()
	}
	k := spanKey{degree: degree, n: len(fs)}
	copy(k.factors[:], fs)
	l, ok := cache[k]
	if !ok {
		l = f()
		cache[k] = l
	}
	return l
}

// pricer prepares the candidates of a search for pricing, on one
// goroutine: each of a search's workers has its own.
type pricer struct {
	b   *Base
	dev *cost.Device
	fpt float64
	net map[netKey]*netPrep
	// last is the shape of the previous candidate and byNet its prepared
	// parts by netKey (a few, searched in turn); shapes come in runs.
	// spare holds the prepared parts of earlier shapes, reused for the
	// next ones: a job's prepared parts are read while it is priced,
	// before its pricer prepares another shape (estimateSample copies the
	// parts it keeps), and the step model keys its memos on the parts a
	// Shared points to, never on the Shared (train.Evaluator).
	last  *shape
	byNet []netPrepared
	// hint is the position in byNet of the netKey found last.
	hint  int
	spare []*prepared
	// memo is the memory check of the previous candidate: it depends on
	// neither the transport nor the collective algorithm, the innermost
	// choices of the enumeration.
	memo struct {
		key memKey
		// run and recompute are the run (job.run) and recompute policy of
		// the last candidate checked: every other field of key is the
		// same for a run's candidates.
		run       int
		recompute parallel.Recompute
		mem       float64
		fits      bool
		set       bool
	}
	cfg candidateCfg // scratch of the enumerating goroutine
}

// memKey is what the quick memory check of a candidate of one shape
// depends on.
type memKey struct {
	sh                 *shape
	vp, zero, mb       int
	schedule           string
	recompute          string
	tp, cp, pp, ep, dp int
	etp                int
}

func newPricer(b *Base) *pricer {
	t := &b.Template
	return &pricer{
		b: b, dev: cost.NewDevice(t.GPU, t.Calib), fpt: t.Model.FLOPsPerToken(t.Batch.SeqLen),
		net: map[netKey]*netPrep{},
	}
}

// prepare returns the shared parts of candidate c of shape sh.
func (p *pricer) prepare(c *Candidate, sh *shape) *prepared {
	if sh != p.last {
		p.last = sh
		for _, n := range p.byNet {
			p.spare = append(p.spare, n.pr)
		}
		clear(p.byNet)
		p.byNet = p.byNet[:0]
	}
	k := netKey{c.Technology, c.Collective}
	// The candidates of a shape take its netKeys in the order they were
	// first seen, over and over (a run's transports and collectives):
	// the one after the last found comes first.
	if h := p.hint + 1; h < len(p.byNet) && p.byNet[h].k == k {
		p.hint = h
		return p.byNet[h].pr
	}
	for h, n := range p.byNet {
		if n.k == k {
			p.hint = h
			return n.pr
		}
	}
	p.hint = len(p.byNet)
	t := &p.b.Template
	np := p.net[k]
	if np == nil {
		np = &netPrep{topo: t.Topology, pp: map[spanKey][]network.Link{}, ep: map[spanKey][]network.Link{}}
		if c.Technology != "" || c.Collective != "" {
			np.topo = t.Topology.WithSiteTransport(c.Technology, c.Collective, true)
		}
		np.links = network.Links(np.topo, nil, t.Calib.NetworkEfficiency)
		p.net[k] = np
	}
	var pr *prepared
	if n := len(p.spare); n > 0 {
		pr, p.spare = p.spare[n-1], p.spare[:n-1]
	} else {
		pr = new(prepared)
	}
	*pr = prepared{topo: np.topo, dims: sh.dims, ok: sh.ok}
	if !sh.ok {
		p.b.candidateConfigIn(&p.cfg, c, pr)
		_, err := p.cfg.Layout()
		pr.unplaced = err != nil
	} else {
		cfg := *t
		cfg.Topology = np.topo
		cfg.Parallel = c.Parallel()
		pr.shared = train.Shared{
			Device: p.dev, Layout: &sh.lay, Links: np.links,
			// The expert links are a function of the ep degree and span,
			// the pipeline links of the pp degree and span (for the model,
			// the topology and the efficiency, fixed per netKey).
			EPLinks:       linksFor(np.ep, cfg.Parallel.EP, topology.EP, sh.lay, func() []network.Link { return train.EPLinks(&cfg, sh.lay, np.links) }),
			PPLinks:       linksFor(np.pp, cfg.Parallel.PP, topology.PP, sh.lay, func() []network.Link { return train.PPLinks(&cfg, sh.lay) }),
			FLOPsPerToken: p.fpt, NoTraffic: true,
		}
		if c.ETP != 0 {
			pr.shared.ExpertTPSpan = &sh.etpSpan
		}
	}
	p.byNet = append(p.byNet, netPrepared{k, pr})
	return pr
}

// job prepares candidate i, c of shape sh for a worker: its shared parts
// and its memory check, done once for the candidates that differ only in
// transport or collective algorithm. It also reports whether the
// candidate differs from the previous one p prepared only in those two
// choices (and both have a layout): they are then one group (prune.go).
func (p *pricer) job(i int, c Candidate, sh *shape) (job, bool) {
	j := job{i: i, c: c, sh: sh}
	same := p.prepareJob(&j)
	return j, same
}

// prepareJob is job in place: it prepares j, whose i, c and sh are set
// (a worker's batch slot, not copied), and reports what job reports.
func (p *pricer) prepareJob(j *job) bool {
	c := &j.c
	j.pr = p.prepare(&j.c, j.sh)
	j.mem, j.fits = 0, false
	if !j.pr.ok && !j.pr.unplaced {
		p.memo.set = false
		return false
	}
	// Within a run the key changes only with the recompute policy: the
	// whole key is built and compared only when the run or the policy
	// changes.
	same := j.run > 0 && p.memo.set && p.memo.run == j.run && p.memo.recompute == c.Recompute
	if !same {
		p.memo.run, p.memo.recompute = j.run, c.Recompute
		k := memKey{sh: j.sh, vp: c.VP, zero: c.Zero, mb: c.MicroBatch, schedule: c.Schedule, recompute: string(c.Recompute), tp: c.TP, cp: c.CP, pp: c.PP, ep: c.EP, dp: c.DP, etp: c.ETP}
		same = p.memo.set && p.memo.key == k
		if !same {
			p.b.candidateConfigIn(&p.cfg, &j.c, j.pr)
			p.memo.key, p.memo.set = k, true
			p.memo.mem, p.memo.fits = p.b.fitsMemory(&p.cfg.Config)
		}
	}
	j.mem, j.fits = p.memo.mem, p.memo.fits
	return same && j.pr.ok
}

// candidateConfig builds in cfg the configuration Config(c) builds, with
// the parts in pr.
func (b *Base) candidateConfig(cfg *train.Config, c *Candidate, pr *prepared) {
	*cfg = b.Template
	b.setCandidate(cfg, c, pr)
}

// setCandidate sets the fields of cfg, a copy of the Template, that
// candidate c with the parts in pr sets.
func (b *Base) setCandidate(cfg *train.Config, c *Candidate, pr *prepared) {
	cfg.Parallel = c.Parallel()
	cfg.Placement = pr.dims
	cfg.Schedule = schedule.Kind(c.Schedule)
	cfg.Batch.MicroBatch = c.MicroBatch
	cfg.Recompute = c.Recompute
	cfg.Assumptions = nil
	cfg.Topology = pr.topo
}

// candidateCfg is where a goroutine builds its candidates'
// configurations one after another (candidateConfigIn): the Template that
// from points to, copied in whole for the first, with the fields
// candidateConfig sets for the last candidate. Nothing else writes it.
type candidateCfg struct {
	train.Config
	from *train.Config
	// res is the last candidate's result (train.Evaluator.AnalyticSharedInto).
	res train.Result
}

// candidateConfigIn is candidateConfig in cfg, which copies the whole
// Template only when it does not hold it already (a Config is large):
// every field candidateConfig sets is set again.
func (b *Base) candidateConfigIn(cfg *candidateCfg, c *Candidate, pr *prepared) {
	if cfg.from != &b.Template {
		cfg.Config, cfg.from = b.Template, &b.Template
	}
	b.setCandidate(&cfg.Config, c, pr)
}

// evaluatePrepared is evaluate with the candidate's shared parts and its
// memory check taken from j, building its configuration in cfg and
// pricing it on ev (a worker's scratch).
func (b *Base) evaluatePrepared(cfg *candidateCfg, ev *train.Evaluator, j *job) outcome {
	o, _ := b.evaluateBound(cfg, ev, j)
	return o
}

// evaluateBound is evaluatePrepared, also returning the priced step's
// compute (train.Breakdown.ComputeS), a lower bound on the step of every
// candidate of j's group (prune.go); 0 when j's step was not priced.
func (b *Base) evaluateBound(cfg *candidateCfg, ev *train.Evaluator, j *job) (outcome, float64) {
	if !j.pr.ok {
		if !j.pr.unplaced {
			return b.evaluate(j.c), 0
		}
		if !j.fits {
			return outcome{ok: true, mem: j.mem}, 0
		}
		return outcome{}, 0 // the step model refuses the layout
	}
	if !j.fits {
		return outcome{ok: true, mem: j.mem}, 0
	}
	b.candidateConfigIn(cfg, &j.c, j.pr)
	r := &cfg.res
	err := ev.AnalyticSharedInto(&cfg.Config, &j.pr.shared, r)
	o := outcomeOf(r, err)
	if !o.fit {
		return o, 0
	}
	return o, r.Breakdown.ComputeS
}
