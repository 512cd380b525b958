package train

import (
	"slices"
	"sync"

	"github.com/scaleacross/scaleacross/cost"
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/parallel"
	"github.com/scaleacross/scaleacross/schedule"
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
	// ExpertTPSpan is ExpertTPSpan(c, *Layout), the expert tensor-parallel
	// group on the expert grid; it is only read when c's expert groups cut
	// the attention grid's tp (etp < tp), where computing it places the
	// expert grid again.
	ExpertTPSpan *topology.Span
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
	return analyticPooled(c, s)
}

// PPLinks is what one GPU achieves at each level for the pipeline's
// activations of c laid out as l: only the unit's GPUs that hold its last
// stage send across a level at once.
func PPLinks(c *Config, l topology.Layout) []network.Link {
	return ppLinks(c, l.Spans[topology.PP])
}

// ppLinks is PPLinks for the pipeline span pp.
func ppLinks(c *Config, pp topology.Span) []network.Link {
	return network.Links(c.Topology, ppSenders(c.Topology, pp, c.Parallel.PP), c.Calib.NetworkEfficiency)
}

// ExpertTPSpan is the span of c's expert tensor-parallel group laid out
// as l (c.Layout()): the tp group itself when etp = tp, else the expert
// grid's etp group.
func ExpertTPSpan(c *Config, l topology.Layout) (topology.Span, error) {
	return c.expertTPSpan(l)
}

// EPLinks is what one GPU's MoE dispatcher achieves at each level for the
// expert all-to-all of c laid out as l, from links, the per-level links
// of the other dimensions (network.AllToAllLinks). Without an expert
// all-to-all (a dense model, or ep 1) it is links itself, not a copy.
func EPLinks(c *Config, l topology.Layout, links []network.Link) []network.Link {
	return epLinks(c, l.Spans[topology.EP], links)
}

// epLinks is EPLinks for the expert span ep.
func epLinks(c *Config, ep topology.Span, links []network.Link) []network.Link {
	if c.Model.MoE == nil || c.Parallel.EP <= 1 {
		return links
	}
	inner := 1
	if f := ep.Factors; len(f) > 0 {
		inner = f[0]
	}
	return network.AllToAllLinks(links, c.Calib.NetworkEfficiency, inner)
}

// Evaluator prices configurations one after another on one goroutine, as
// a search's worker does: it keeps the evaluation's slices in buffers of
// its own, and remembers from one configuration to the next the parts of
// the evaluation that depend on fewer choices than the whole: the
// virtual stages' costs (per degrees, micro-batch, recompute policy and
// precision, and the links their groups cross), the pipeline stages built
// from them (per schedule) and the memory estimate. Each memo is used
// only when everything it was computed from is the same, so the result is
// Analytic's to the bit. It assumes that a Shared's parts and the models
// it is given are not changed between calls. The zero value is ready; an
// Evaluator is not safe for concurrent use.
type Evaluator struct {
	e  evaluator
	sc scratch
}

// AnalyticShared is the package's AnalyticShared on v's buffers, using
// what v remembers of its previous configurations.
func (v *Evaluator) AnalyticShared(c *Config, s *Shared) (Result, error) {
	var r Result
	err := v.AnalyticSharedInto(c, s, &r)
	return r, err
}

// AnalyticSharedInto is AnalyticShared writing its result into r (a
// Result is large: a search's worker keeps one instead of copying each);
// r is the zero Result when it returns an error.
func (v *Evaluator) AnalyticSharedInto(c *Config, s *Shared, r *Result) error {
	*r = Result{}
	v.sc.keep = true
	if err := v.e.init(c, s, &v.sc); err != nil {
		v.e = evaluator{}
		return err
	}
	v.e.analyticInto(r)
	v.e = evaluator{sc: &v.sc}
	return nil
}

// evaluators lends Analytic and AnalyticShared their buffers. Evaluators
// from the pool remember nothing between calls: a caller may change a
// model or a topology in place between two.
var evaluators = sync.Pool{New: func() any { return new(Evaluator) }}

// analyticPooled prices c with the parts in s (nil for none) on an
// evaluator of the pool.
func analyticPooled(c *Config, s *Shared) (Result, error) {
	v := evaluators.Get().(*Evaluator)
	v.sc.keep = false
	err := v.e.init(c, s, &v.sc)
	var r Result
	if err == nil {
		v.e.analyticInto(&r)
	}
	v.e = evaluator{}
	evaluators.Put(v)
	return r, err
}

// scratch is an evaluator's reusable state: the buffers its slices live
// in, and the memos (see Evaluator).
type scratch struct {
	order orderMemo // the last built pipeline order (builtOrder)
	// sims are the buffers of the passes the analytic engine simulates
	// (simOptions), one per kind of pass so that a run's Result lives
	// until that kind's next run; simOpts are their options.
	sims    [numSims]schedule.Scratch
	simOpts [numSims]schedule.Options
	vs      []virtualStage
	st      []stageWork
	sends   []int
	// agMB and rsMB are pipelineCosts' per-chunk ZeRO-2/3 collective
	// times, valid until its next call.
	agMB, rsMB []float64
	// layerOps is layerWork's operator list (cost.BuildLayer), kept grown.
	layerOps []cost.Op
	// links and ppLinks hold the evaluation's links when no Shared gives
	// them (init), ppSenders the pipeline's senders per level; each is
	// kept for the next evaluation with what it was computed from
	// (linksOf, ppLinksOf).
	links, ppLinks []network.Link
	ppSenders      []float64
	linksMemo      linksMemo
	ppMemo         linksMemo
	// gridMemo is the last layout gridOf built.
	gridMemo gridMemo
	// levels are the topology levels numbered levelsGen (noteLevels),
	// levelCaps their capacities and levelSite, once asked, whether each
	// joins sites.
	levels    []topology.Level
	levelsGen uint64
	levelCaps []int
	levelSite []bool
	// cls gives each virtual stage of the vs starting at clsOf a class:
	// virtual stages of one class are equal in every field (virtualStages
	// sets it; sumStagesByClass reads it).
	cls   []int
	clsOf *virtualStage
	// clsEven says that cls is one class but for the chunks listed in
	// clsOwn (an even split), each of a class of its own.
	clsEven bool
	clsOwn  []int
	// stChunkN and stChunks are sumStagesByClass's buffers; where every
	// chunk v sits on stage v mod pp it sets stRun instead, the run of
	// equal stages (equal chunks, in order) each stage of st belongs to
	// (-1 for none), and stRunOK.
	stChunkN, stChunks []int
	stRun              []int
	stRunOK            bool
	// of is stageTable's: the stage of every virtual stage under ofKind,
	// ofPP and ofVP.
	of         []int
	ofOK       bool
	ofRR       bool // roundRobin(of, ofPP)
	ofKind     schedule.Kind
	ofPP, ofVP int

	dense, expert []float64
	adj           []int
	// dpN, dpS and dpBuf are the data-parallel spans of this evaluation
	// (dpSpan) by group size, and the buffers of their factors.
	dpN   [2]int
	dpS   [2]topology.Span
	dpSet [2]bool
	dpBuf [2][]int
	// dpTimes holds the last stageDPTimes, for the parameters in
	// dpTimesKey, within one evaluation.
	dpTimesSet bool
	dpTimesKey [2]float64
	dpTimes    [2]float64
	// dpMemos remember stageDPTimes by a Shared's layout and links (what
	// they depend on, with the group sizes) between evaluations; dpCur is
	// this evaluation's, nil when none applies.
	dpMemos [32]dpMemo
	// dpLayouts is each of dpMemos' layout, scanned first in a compact
	// array (dpMemos are large).
	dpLayouts [32]*topology.Layout
	// dpLinkIDs is each of dpMemos' links' first element (linksID),
	// scanned with dpLayouts: one layout has a memo for each transport.
	dpLinkIDs [32]*network.Link
	dpNext    int
	dpCur     *dpMemo
	// layout is the Shared layout whose spans and stride are spans and
	// ppStride.
	layout   *topology.Layout
	spans    [numDims]topology.Span
	ppStride int
	// adjOK says adj holds the adjacent stages' boundary levels for
	// adjKey and adjCaps.
	adjOK   bool
	adjKey  [2]int // pipeline stride and pp
	wrap    int    // the wrap's level (evaluator.wrapLevel) for adjKey and adjCaps
	adjCaps []int
	// keep is true when memos may serve the next evaluation (an
	// Evaluator's own scratch, not the pool's).
	keep bool
	// gen counts the virtual stages priced; the later memos key on it.
	gen     uint64
	vsOK    bool
	vsKey   vsKey
	vsLinks [3][]network.Link
	// lw remembers layerWork's costs across evaluations (memoLayerWork).
	lw      lwMemo
	stOK    bool
	stKey   stKey
	stCaps  []int
	stLinks []network.Link
	memOK   bool
	memKey  memKey
	mem     parallel.Memory
	// freeLinks remembers sharedUplink's links without the uplink and
	// the uplinks' rates, by level (a pure function of its key, so kept
	// across evaluations).
	freeLinks map[freeLinkKey]freeUplink
	// dpJobs, dpInts, dpFloats and dpLinks are dataParallelTail's buffers.
	dpJobs   []psJob
	dpLinks  []network.Link
	dpInts   [3][]int
	dpFloats [3][]float64
	// passStages and passEnds are oneFOneBPass's buffers.
	passStages []passStage
	passEnds   []float64
	// slow holds latencyAware's slow boundaries.
	slow []int
	// memLayers, memDense and memExpert are setStageMemory's per-stage sums.
	memLayers           []int
	memDense, memExpert []float64
	// dev is the evaluation's device when no Shared gives one (init).
	dev cost.Device
}

// vsKey is what virtualStages (and layerWork, which it calls) reads of
// the configuration, besides the links of the groups it prices (compared
// apart). A new input of either must be added here.
type vsKey struct {
	model   *model.Model
	dev     *cost.Device
	layout  *topology.Layout
	par     parKey
	batch   parallel.Batch
	prec    hardware.Precision
	rc      parallel.Recompute
	unfused bool
	// The MoE settings and the calibration layerWork reads.
	routing  Routing
	capacity float64
	seo, a2a bool
	disp     cost.Dispatcher
	fp8disp  bool
	unfPerm  bool
	calib    cost.Params
	// The host-issue settings layerWork reads (cost.HostInput).
	graphs              cost.GraphScope
	quantAlloc, rfusion bool
	groupedK            bool
}

// parKey is a parallel.Config without its explicit split (memos are
// only used without one).
type parKey struct {
	tp, pp, vp, cp, ep, etp, dp, zero int
	sp                                bool
}

func parKeyOf(p parallel.Config) parKey {
	return parKey{tp: p.TP, pp: p.PP, vp: p.VP, cp: p.CP, ep: p.EP, etp: p.ETP, dp: p.DP, zero: p.Zero, sp: p.SP}
}

// stKey is what stages reads besides the virtual stages (gen), the
// levels' capacities and the pipeline links of the sends it prices.
type stKey struct {
	gen      uint64
	schedule schedule.Kind
	pp, vp   int
	stride   int
	p2p      string
}

// memKey is what EstimateWithParams reads, the parameter counts by gen.
type memKey struct {
	gen      uint64
	model    *model.Model
	par      parKey
	batch    parallel.Batch
	rc       parallel.Recompute
	inflight float64
	flat     bool
	unfused  bool
}

// dpMemo is what an Evaluator remembers of stageDPTimes for one layout,
// one set of links and data-parallel group sizes: the times of the last
// few parameter counts. The layout and the links are a Shared's, told
// apart by identity (a Shared's parts are not changed between calls);
// the memo holds them, so that no other layout or links can be given
// their addresses while it is kept. A Shared itself may be reused for
// other parts.
type dpMemo struct {
	layout *topology.Layout
	links  []network.Link
	n      [2]int
	keys   [8][2]float64
	times  [8][2]float64
	used   int
	next   int
}

// begin starts the evaluation of e with the shared parts sh: the
// per-evaluation memos are cleared, and the others too unless they may
// be kept; e's adjacent boundary levels are set.
func (sc *scratch) begin(e *evaluator, sh *Shared) {
	c := e.c
	sc.dpSet = [2]bool{}
	sc.dpTimesSet = false
	sc.dpCur = nil
	if !sc.keep || e.shared.Layout == nil || e.shared.Device == nil || len(c.Parallel.LayersPerStage) > 0 {
		sc.vsOK, sc.stOK, sc.memOK = false, false, false
	}
	if sc.keep && sh != nil && sh.Layout != nil && sh.Links != nil {
		n := [2]int{c.Parallel.DP * c.Parallel.CP, c.Parallel.EDP()}
		links := linksID(sh.Links)
		for i, l := range &sc.dpLayouts {
			if l != sh.Layout || sc.dpLinkIDs[i] != links {
				continue
			}
			if m := &sc.dpMemos[i]; sameLinks(m.links, sh.Links) && m.n == n {
				sc.dpCur = m
				break
			}
		}
		if sc.dpCur == nil {
			sc.dpLayouts[sc.dpNext], sc.dpLinkIDs[sc.dpNext] = sh.Layout, links
			m := &sc.dpMemos[sc.dpNext]
			sc.dpNext = (sc.dpNext + 1) % len(sc.dpMemos)
			*m = dpMemo{layout: sh.Layout, links: sh.Links, n: n}
			sc.dpCur = m
		}
	}
	// The boundary levels depend on the pipeline stride, pp and the
	// levels' capacities alone.
	pp := c.Parallel.PP
	key := [2]int{e.ppStride, pp}
	if sc.adjOK && sc.adjKey == key && slices.Equal(sc.adjCaps, e.caps) {
		e.ringLevel = sc.adj[:max(pp, 1)]
		e.adjLevel, e.wrapLevel = e.ringLevel[:max(pp-1, 0)], sc.wrap
		return
	}
	e.ringLevel = grow(&sc.adj, max(pp, 1))
	e.adjLevel = e.ringLevel[:max(pp-1, 0)]
	for s := range e.adjLevel {
		e.adjLevel[s] = e.levelBetween(s, s+1)
	}
	e.wrapLevel = e.levelBetween(max(pp-1, 0), 0)
	e.ringLevel[len(e.ringLevel)-1] = e.wrapLevel
	sc.wrap = e.wrapLevel
	sc.adjOK, sc.adjKey, sc.adjCaps = true, key, append(sc.adjCaps[:0], e.caps...)
}

// sameLinks reports whether a and b are one slice: the same elements of
// the same array.
func sameLinks(a, b []network.Link) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// linksID is the address of links' first element (nil for none): two
// slices of one length with the same ID are one slice (sameLinks).
func linksID(links []network.Link) *network.Link {
	if len(links) == 0 {
		return nil
	}
	return &links[0]
}

// dpTimesOf returns the data-parallel times remembered for parameters key.
func (sc *scratch) dpTimesOf(key [2]float64) ([2]float64, bool) {
	if m := sc.dpCur; m != nil {
		for i := 0; i < m.used; i++ {
			if m.keys[i] == key {
				return m.times[i], true
			}
		}
		return [2]float64{}, false
	}
	if sc.dpTimesSet && sc.dpTimesKey == key {
		return sc.dpTimes, true
	}
	return [2]float64{}, false
}

// dpTimesAre remembers t as the data-parallel times of parameters key.
func (sc *scratch) dpTimesAre(key, t [2]float64) {
	if m := sc.dpCur; m != nil {
		i := m.next
		m.next = (m.next + 1) % len(m.keys)
		m.used = max(m.used, i+1)
		m.keys[i], m.times[i] = key, t
		return
	}
	sc.dpTimesSet, sc.dpTimesKey, sc.dpTimes = true, key, t
}

// dpSpan is e.dpSpan(n), computed once per evaluation for the two group
// sizes the step model asks for.
func (sc *scratch) dpSpan(e *evaluator, n int) topology.Span {
	for k := range sc.dpN {
		if sc.dpSet[k] && sc.dpN[k] == n {
			return sc.dpS[k]
		}
	}
	k := 0
	if sc.dpSet[0] {
		k = 1
	}
	if sc.dpSet[k] {
		return e.newDPSpan(n, nil) // a third size: not kept
	}
	if sc.dpBuf[k] == nil {
		sc.dpBuf[k] = make([]int, 0, 16)
	}
	s := e.newDPSpan(n, sc.dpBuf[k])
	sc.dpN[k], sc.dpS[k], sc.dpSet[k] = n, s, true
	return s
}

// usedLevels is how many of the innermost levels a collective over group
// s reads the links of: network.Time prices a group at the levels it
// crosses, up to its outermost (level 0 for a group of one), and no
// others (TestTimeReadsOnlyCrossedLevels).
func usedLevels(s topology.Span) int { return max(s.Outermost(), 0) + 1 }

// prefix is links[:n], or nil when links is shorter.
func prefix(links []network.Link, n int) []network.Link {
	if n > len(links) {
		return nil
	}
	return links[:n]
}

// vsLinkSets are the links virtualStages reads: tp's (over the tp and
// etp groups), cp's and ep's, each as far as its groups reach.
func (e *evaluator) vsLinkSets() [3][]network.Link {
	tp := max(usedLevels(e.span(topology.TP)), usedLevels(e.etpSpan))
	return [3][]network.Link{
		prefix(e.linksOf(topology.TP), tp),
		prefix(e.linksOf(topology.CP), usedLevels(e.span(topology.CP))),
		prefix(e.linksOf(topology.EP), usedLevels(e.span(topology.EP))),
	}
}

func (e *evaluator) vsKeyOf() vsKey {
	c := e.c
	return vsKey{model: c.Model, dev: e.dev, layout: e.shared.Layout, par: parKeyOf(c.Parallel), batch: c.Batch,
		prec: c.Precision, rc: c.Recompute, unfused: c.UnfusedAttention,
		routing: c.Routing, capacity: c.CapacityFactor, seo: c.SharedExpertOverlap, a2a: c.A2AOverlap, disp: c.Dispatcher, fp8disp: c.FP8Dispatch, unfPerm: c.UnfusedPermute, calib: c.Calib,
		graphs: c.CUDAGraphs, quantAlloc: c.UnfusedQuantAlloc, rfusion: c.RouterFusion, groupedK: c.GroupedKernel}
}

// lwMemo remembers the costs layerWork returned, by what it reads: the
// evaluation's vsKey and vsLinkSets (which virtualStages' memo keys on)
// and the layer. A search prices candidates that differ only in the
// pipeline schedule apart (other choices come between them in its
// order), so virtualStages' memo of the last evaluation misses them
// while their layers cost the same.
type lwMemo struct {
	idx     map[lwKey]int
	entries []lwEntry
	// key and links are the evaluation's, read by its first lookup
	// (lwLookup).
	key   vsKey
	links [3][]network.Link
}

// lwKey indexes lwMemo by the parts of a vsKey that a search's
// candidates vary, and the layer.
type lwKey struct {
	layout *topology.Layout
	par    parKey
	batch  parallel.Batch
	rc     parallel.Recompute
	layer  int
}

// lwEntry is one cost layerWork returned and what it was read off.
type lwEntry struct {
	key   vsKey
	links [3][]network.Link
	layer int
	oc    opCost
}

// lwMemoSize bounds lwMemo: once full it starts afresh.
const lwMemoSize = 1024

// lwLookup says whether memoLayerWork has read the evaluation's key
// and links into the scratch's lwMemo (set), and whether the memo
// applies (not off); two flags on the caller's stack.
type lwLookup struct{ set, off bool }

// memoLayerWork is layerWork(i), looked up in the scratch's lwMemo when
// virtualStages' memo could key the evaluation (vsPriced's conditions).
func (e *evaluator) memoLayerWork(i int, lw *lwLookup) opCost {
	sc := e.sc
	if !lw.set {
		lw.set = true
		lw.off = sc == nil || !sc.keep || e.shared.Layout == nil || e.shared.Device == nil || len(e.c.Parallel.LayersPerStage) > 0 || e.c.Parallel.Layout != nil
		if !lw.off {
			sc.lw.key, sc.lw.links = e.vsKeyOf(), e.vsLinkSets()
			for _, l := range sc.lw.links {
				lw.off = lw.off || l == nil
			}
		}
	}
	if lw.off {
		return e.layerWork(i)
	}
	m := &sc.lw
	k := lwKey{layout: m.key.layout, par: m.key.par, batch: m.key.batch, rc: m.key.rc, layer: i}
	j, ok := m.idx[k]
	if ok {
		x := &m.entries[j]
		if x.layer == i && x.key == m.key && slices.Equal(x.links[0], m.links[0]) && slices.Equal(x.links[1], m.links[1]) && slices.Equal(x.links[2], m.links[2]) {
			return x.oc
		}
	}
	oc := e.layerWork(i)
	if !ok {
		if m.idx == nil {
			m.idx = make(map[lwKey]int, lwMemoSize)
		}
		if len(m.entries) >= lwMemoSize {
			clear(m.idx)
			m.entries = m.entries[:0]
		}
		j = len(m.entries)
		if j < cap(m.entries) {
			m.entries = m.entries[:j+1] // keeps the entry's link buffers
		} else {
			m.entries = append(m.entries, lwEntry{})
		}
		m.idx[k] = j
	}
	x := &m.entries[j]
	x.key, x.layer, x.oc = m.key, i, oc
	for n, l := range m.links {
		x.links[n] = append(x.links[n][:0], l...)
	}
	return oc
}

// vsValid reports whether sc.vs holds e's virtual stages.
func (sc *scratch) vsValid(e *evaluator) bool {
	if !sc.vsOK || sc.vsKey != e.vsKeyOf() {
		return false
	}
	for i, l := range e.vsLinkSets() {
		if l == nil || !slices.Equal(l, sc.vsLinks[i]) {
			return false
		}
	}
	return true
}

// vsPriced records that sc.vs now holds e's virtual stages.
func (sc *scratch) vsPriced(e *evaluator) {
	sc.gen++
	sc.vsOK = false
	if !sc.keep || e.shared.Layout == nil || e.shared.Device == nil || len(e.c.Parallel.LayersPerStage) > 0 || e.c.Parallel.Layout != nil {
		return
	}
	for i, l := range e.vsLinkSets() {
		if l == nil {
			return
		}
		sc.vsLinks[i] = append(sc.vsLinks[i][:0], l...)
	}
	sc.vsKey, sc.vsOK = e.vsKeyOf(), true
}

func (e *evaluator) stKeyOf() stKey {
	p := e.c.Parallel
	return stKey{gen: e.sc.gen, schedule: e.c.Schedule, pp: p.PP, vp: p.VP, stride: e.ppStride, p2p: e.c.P2P}
}

// stValid reports whether sc.st holds e's stages (before the data
// parallel stalls).
func (sc *scratch) stValid(e *evaluator) bool {
	return sc.vsOK && sc.stOK && sc.stKey == e.stKeyOf() && slices.Equal(sc.stCaps, e.caps) &&
		slices.Equal(sc.stLinks, prefix(e.linksOf(topology.PP), len(sc.stLinks)))
}

// stPriced records that sc.st holds e's stages, whose sends read the
// pipeline links up to level maxLevel.
func (sc *scratch) stPriced(e *evaluator, maxLevel int) {
	sc.stOK = false
	if !sc.vsOK {
		return
	}
	l := prefix(e.linksOf(topology.PP), maxLevel+1)
	if l == nil && maxLevel >= 0 {
		return
	}
	sc.stLinks = append(sc.stLinks[:0], l...)
	sc.stCaps = append(sc.stCaps[:0], e.caps...)
	sc.stKey, sc.stOK = e.stKeyOf(), true
}

func (e *evaluator) memKeyOf(inflight float64, flat bool) memKey {
	c := e.c
	return memKey{gen: e.sc.gen, model: c.Model, par: parKeyOf(c.Parallel), batch: c.Batch, rc: c.Recompute,
		inflight: inflight, flat: flat, unfused: c.UnfusedAttention}
}

// memValid reports whether sc.mem is e's memory with inflight
// micro-batches in flight.
func (sc *scratch) memValid(e *evaluator, inflight float64, flat bool) bool {
	return sc.vsOK && sc.memOK && sc.memKey == e.memKeyOf(inflight, flat)
}

// memPriced records mem as e's memory with inflight micro-batches.
func (sc *scratch) memPriced(e *evaluator, inflight float64, flat bool, mem parallel.Memory) {
	sc.memOK = sc.vsOK
	sc.memKey, sc.mem = e.memKeyOf(inflight, flat), mem
}

// grow returns (*b)[:n], reallocating *b when it is too small.
func grow[T any](b *[]T, n int) []T {
	if cap(*b) < n {
		*b = make([]T, n)
	}
	return (*b)[:n]
}

// growClear is grow with the elements zeroed.
func growClear[T any](b *[]T, n int) []T {
	s := grow(b, n)
	clear(s)
	return s
}

// linksMemo records what a buffer of links was computed from: the
// topology's levels (their number, scratch.noteLevels), the network efficiency and the senders
// per level (nil for all the unit's GPUs). network.LinksInto reads nothing
// else, so links computed from equal inputs are equal.
type linksMemo struct {
	ok      bool
	levels  uint64 // scratch.levelsGen of the levels
	eff     float64
	senders []float64
}

func (m *linksMemo) holds(levels uint64, eff float64, senders []float64) bool {
	return m.ok && m.eff == eff && m.levels == levels && slices.Equal(m.senders, senders)
}

func (m *linksMemo) set(levels uint64, eff float64, senders []float64) {
	m.ok, m.eff, m.levels = true, eff, levels
	m.senders = append(m.senders[:0], senders...)
}

// noteLevels numbers the topology levels of the evaluation starting (sc's
// levelsGen): the last evaluation's number when they are equal by value,
// a new one otherwise, so that the memos below compare the levels by
// value once per evaluation, here, and then their numbers.
func (sc *scratch) noteLevels(levels []topology.Level) {
	if sc.levelsGen == 0 || !sameLevels(sc.levels, levels) {
		sc.levels = append(sc.levels[:0], levels...)
		sc.levelsGen++
		// Each level's GPU capacity: what the evaluation reads of the
		// levels alone. Which join sites is asked when a traffic table is
		// built (evaluator.isSite).
		sc.levelCaps = topology.Topology{Levels: sc.levels}.CapacitiesInto(sc.levelCaps[:0])
		sc.levelSite = sc.levelSite[:0]
	}
}

// sameLevels is slices.Equal(a, b), comparing from the outermost level
// in: the candidates of a search differ in the site level's transport.
func sameLevels(a, b []topology.Level) bool {
	if len(a) != len(b) {
		return false
	}
	for i := len(a) - 1; i >= 0; i-- {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// linksOf is network.Links(c.Topology, nil, c.Calib.NetworkEfficiency) in
// sc's buffer, computed again only when its inputs differ from the last
// call's (even for a pool's evaluator: they are compared by value).
func (sc *scratch) linksOf(c *Config) []network.Link {
	eff := c.Calib.NetworkEfficiency
	if sc.linksMemo.holds(sc.levelsGen, eff, nil) {
		return sc.links
	}
	sc.links = network.LinksInto(grow(&sc.links, len(c.Topology.Levels)), c.Topology, nil, eff)
	sc.linksMemo.set(sc.levelsGen, eff, nil)
	return sc.links
}

// ppLinksOf is ppLinks(c, pp) in sc's buffer, computed again only when
// the topology, the efficiency or the senders differ from the last call's.
func (sc *scratch) ppLinksOf(c *Config, pp topology.Span) []network.Link {
	nl := len(c.Topology.Levels)
	senders := ppSendersInto(grow(&sc.ppSenders, nl), c.Topology, pp, c.Parallel.PP)
	eff := c.Calib.NetworkEfficiency
	if sc.ppMemo.holds(sc.levelsGen, eff, senders) {
		return sc.ppLinks
	}
	sc.ppLinks = network.LinksInto(grow(&sc.ppLinks, nl), c.Topology, senders, eff)
	sc.ppMemo.set(sc.levelsGen, eff, senders)
	return sc.ppLinks
}

// gridMemo records the layout of the degrees deg with placement place
// on the levels numbered levels (scratch.noteLevels): topology.PlaceGrid reads nothing else.
// Only the spans and strides are kept (the evaluator reads no more);
// their factors are PlaceGrid's own, never written.
type gridMemo struct {
	ok     bool
	deg    [topology.NumDims]int
	place  []topology.Dim
	levels uint64 // scratch.levelsGen of the levels
	g      topology.Grid
}

// gridOf is c.grid(), computed again only when the degrees, the placement
// or the levels differ from those of the last layout it built.
func (sc *scratch) gridOf(c *Config) (topology.Grid, error) {
	m := &sc.gridMemo
	deg := c.gridDegrees()
	if m.ok && m.deg == deg && slices.Equal(m.place, c.Placement) && m.levels == sc.levelsGen {
		return m.g, nil
	}
	m.ok = false
	g, err := topology.PlaceGrid(c.Topology, c.Placement, deg)
	if err != nil {
		return g, err
	}
	*m = gridMemo{ok: true, deg: deg, place: append(m.place[:0], c.Placement...), levels: sc.levelsGen,
		g: topology.Grid{Spans: g.Spans, Stride: g.Stride}}
	return m.g, nil
}
