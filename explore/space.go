package explore

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/scaleacross/scaleacross/cost"
	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/parallel"
	"github.com/scaleacross/scaleacross/schedule"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/topology"
	"github.com/scaleacross/scaleacross/train"
)

const gib = 1 << 30

// Base is a job resolved for the Explorer: the model, the GPUs, their
// topology and the training shape, with the choices left open.
type Base struct {
	Job *spec.Job
	// Template holds everything of a train.Config but the choices.
	Template train.Config
	// MicroBatch is the micro-batch size fixed by the spec, 0 to search.
	MicroBatch int
	// Recompute is the policy fixed by the spec, "" to search.
	Recompute parallel.Recompute
	// CrossSite lists the topology levels that join sites (buildings or
	// regions; topology.Topology.SiteLevels). The network technology and
	// collective algorithm choices apply to these levels.
	CrossSite []int
	// Assumptions lists what the resolver assumed.
	Assumptions []string
	// techs are the technologies the last Spaces call was given.
	techs []string
	// places remembers topology.Place's layouts (see place).
	places *placeCache
}

// Resolve looks up the job's model and GPU and builds its topology. The
// parallel degrees, schedule and placement may be partly or wholly
// omitted; training.micro_batch and training.recompute, when omitted, are
// searched too.
func Resolve(j *spec.Job, lookupModel func(string) (*model.Model, error), lookupGPU func(string) (*hardware.GPU, error)) (*Base, error) {
	m, g, prec, err := train.ResolveTarget(j, lookupModel, lookupGPU)
	if err != nil {
		return nil, err
	}
	if j.Parallel.PipelineLayout != "" {
		return nil, fault.Field("parallel.pipeline_layout", "plan does not search pipeline layouts; remove it here and evaluate the layout with scaleacross simulate")
	}
	if len(j.Parallel.LayersPerStage) > 0 {
		return nil, fault.Field("parallel.layers_per_stage", "plan does not search uneven pipeline splits; remove it here and evaluate the split with scaleacross simulate")
	}
	b := &Base{Job: j, MicroBatch: j.Training.MicroBatch, places: &placeCache{m: map[placeKey]placeResult{}}}
	if a := train.GPUAlias(j.System.GPU, g); a != "" {
		b.Assumptions = append(b.Assumptions, a)
	}
	t := &b.Template
	t.Model, t.GPU, t.GPUs, t.Calib, t.Precision = m, g, j.System.GPUs, cost.Default(), prec
	if j.Training.Recompute != "" {
		if b.Recompute, err = parallel.ParseRecompute(j.Training.Recompute); err != nil {
			return nil, err
		}
	}
	switch {
	case j.Training.SeqLen == 0:
		return nil, fault.Field("training.seq_len", "is required: give a positive integer")
	case j.Training.GlobalBatch == 0:
		return nil, fault.Field("training.global_batch", "is required: give a positive integer")
	case j.Training.SeqLen < 0:
		return nil, fault.Field("training.seq_len", "must be a positive integer, got %d", j.Training.SeqLen)
	case j.Training.GlobalBatch <= 0:
		return nil, fault.Field("training.global_batch", "must be a positive integer, got %d", j.Training.GlobalBatch)
	case j.Training.MicroBatch < 0:
		return nil, fault.Field("training.micro_batch", "must be a positive integer (or omitted to search), got %d", j.Training.MicroBatch)
	}
	t.Batch = parallel.Batch{SeqLen: j.Training.SeqLen, GlobalBatch: j.Training.GlobalBatch}
	if err := j.Search.Validate(); err != nil {
		var se *spec.Error
		if errors.As(err, &se) {
			return nil, fault.Field(se.Field, "%s", se.Msg)
		}
		return nil, fault.BadInput(err)
	}
	// The transport is a fact of the job; the algorithm a choice the
	// Explorer's space is restricted to (see constraints).
	topo, sysAssumed, err := train.ResolveSystem(j, g, t.GPUs, false)
	if err != nil {
		return nil, err
	}
	t.Topology = topo
	b.Assumptions = append(b.Assumptions, sysAssumed...)
	b.CrossSite = t.Topology.SiteLevels()
	b.Assumptions = append(b.Assumptions, m.Assumptions...)
	return b, nil
}

// SiteLevel is the outermost cross-site level, or -1 when the topology has none.
func (b *Base) SiteLevel() int {
	if len(b.CrossSite) == 0 {
		return -1
	}
	return b.CrossSite[len(b.CrossSite)-1]
}

// techFixed reports whether the spec sets a transport on a cross-site
// level (on the level or through network.transport): the transport is
// then a fact of the job for every space.
func (b *Base) techFixed() bool {
	for _, i := range b.CrossSite {
		if b.Template.Topology.Levels[i].Transport != "" {
			return true
		}
	}
	return false
}

// algoFixed reports whether a cross-site level of the spec's topology
// names its collective algorithm: it is then kept for every space.
func (b *Base) algoFixed() bool {
	for _, i := range b.CrossSite {
		if b.Template.Topology.Levels[i].Algorithm != "" {
			return true
		}
	}
	return false
}

// Candidate is one point of the design space.
type Candidate struct {
	TP         int  `json:"tp"`
	CP         int  `json:"cp"`
	PP         int  `json:"pp"`
	VP         int  `json:"vp"`
	EP         int  `json:"ep"`
	ETP        int  `json:"etp,omitempty"` // expert tensor parallelism; 0 means tp
	DP         int  `json:"dp"`
	Zero       int  `json:"zero"`
	MicroBatch int  `json:"micro_batch"`
	SP         bool `json:"sp"`
	// Placement is the placement order, innermost first, of the
	// dimensions whose degree exceeds one, e.g. "tp,pp,dp".
	Placement  string             `json:"placement"`
	Schedule   string             `json:"schedule"`
	Recompute  parallel.Recompute `json:"recompute"`
	Technology string             `json:"technology"`
	Collective string             `json:"collective"`
}

// Parallel returns the candidate's parallel configuration.
func (c Candidate) Parallel() parallel.Config {
	return parallel.Config{TP: c.TP, PP: c.PP, VP: c.VP, CP: c.CP, EP: c.EP, ETP: c.ETP, DP: c.DP, SP: c.SP, Zero: c.Zero}
}

// String formats the candidate on one line.
func (c Candidate) String() string {
	var b strings.Builder
	ep := fmt.Sprintf("ep%d", c.EP)
	if c.ETP > 0 {
		ep += fmt.Sprintf(" etp%d", c.ETP)
	}
	fmt.Fprintf(&b, "tp%d cp%d pp%d vp%d %s dp%d z%d mb%d %s recompute=%s placement=%s", c.TP, c.CP, c.PP, c.VP, ep, c.DP, c.Zero, c.MicroBatch, c.Schedule, c.Recompute, c.Placement)
	if c.Technology != "" {
		b.WriteString(" transport=" + c.Technology)
	}
	if c.Collective != "" {
		b.WriteString(" collectives=" + c.Collective)
	}
	return b.String()
}

// PlacementDims returns the placement as dimensions.
func (c Candidate) PlacementDims() []topology.Dim {
	if c.Placement == "" {
		return nil
	}
	parts := strings.Split(c.Placement, ",")
	out := make([]topology.Dim, len(parts))
	for i, p := range parts {
		out[i] = topology.Dim(p)
	}
	return out
}

// Space is a search space: the values each dimension may take. Every
// combination that divides evenly and tiles the topology is a candidate.
type Space struct {
	// Name identifies the space: "explorer", "production" or "prior_art".
	Name string `json:"name"`
	// Description says in words what the space holds.
	Description string `json:"description"`
	TP          []int  `json:"tp"`
	CP          []int  `json:"cp"`
	PP          []int  `json:"pp"`
	VP          []int  `json:"vp"`
	EP          []int  `json:"ep"`
	// ETP lists the expert tensor-parallel degrees tried with each tp
	// (Megatron-Core's expert_tensor_parallel_size): 0 means etp = tp,
	// others must divide tp (parallel.CheckEP). Empty means only etp = tp.
	ETP []int `json:"etp,omitempty"`
	// DP, when non-zero, fixes the data-parallel degree.
	DP         int   `json:"dp,omitempty"`
	Zero       []int `json:"zero"`
	MicroBatch []int `json:"micro_batch"`
	// Schedules are the pipeline schedules allowed. A candidate with vp > 1
	// must use interleaved-1f1b and interleaved-1f1b needs vp > 1; with
	// pp = 1 the schedule is irrelevant and named "1f1b".
	Schedules  []string             `json:"schedules"`
	Recompute  []parallel.Recompute `json:"recompute"`
	Placements [][]topology.Dim     `json:"placements"`
	// Technologies are the transports tried on the cross-site levels; ""
	// keeps the topology's own (the default transport).
	Technologies []string `json:"technologies"`
	// Collectives are the collective algorithms tried on the cross-site
	// levels; "" keeps the topology's own (hierarchical by default).
	Collectives []string `json:"collectives"`
	// CrossSite, when set, is the one dimension that must span the sites.
	CrossSite topology.Dim `json:"cross_site,omitempty"`
	// OuterSite, when set, is the one dimension whose groups must cross the
	// outermost cross-site level (the prior art's pp); levels inside it may
	// be crossed by others.
	OuterSite topology.Dim `json:"outer_site,omitempty"`
}

// outerSiteOK reports whether layout lay keeps s.OuterSite: that
// dimension, and no other, crosses the outermost cross-site level.
func (b *Base) outerSiteOK(s *Space, lay topology.Layout) bool {
	l := b.SiteLevel()
	if s.OuterSite == "" || l < 0 {
		return true
	}
	if !lay.Crosses(s.OuterSite, l) {
		return false
	}
	for _, d := range topology.Dims() {
		if d != s.OuterSite && lay.Crosses(d, l) {
			return false
		}
	}
	return true
}

// Numbering identifies the order in which Enumerate numbers candidates. A
// stored study's indices (and where its search resumes) are only valid
// under the numbering it was searched with. Numbering 2 merges the orders
// that differ only in where a dimension of degree one sits; 1 (or 0, for
// studies that do not say) did not.
const Numbering = 2

// Enumerate calls fn for every candidate of s in a fixed order with its
// number (0, 1, 2, ...), until fn returns false. It returns how many
// candidates it produced. Placements that lay every group out the same
// way (they differ only in where dimensions of degree one sit) are tried
// once, under the first of them.
func (s *Space) Enumerate(b *Base, fn func(i int, c Candidate) bool) int {
	return s.enumerate(b, func(i int, c Candidate, _ *shape) bool { return fn(i, c) })
}

// shape is what the candidates of one set of degrees and one placement
// share: the placement's dimensions (Candidate.PlacementDims) and the
// layout that Config(c).Layout() builds from them.
type shape struct {
	dims []topology.Dim
	lay  topology.Layout
	// etpSpan is the expert tensor-parallel group's span on the expert
	// grid (train.ExpertTPSpan), set with lay when the candidates' etp is
	// not 0.
	etpSpan topology.Span
	// ok is false when the layout cannot be built (the step model then
	// reports the error).
	ok bool
}

// enumerate is Enumerate, also handing fn the candidate's shape, shared
// by consecutive candidates.
func (s *Space) enumerate(b *Base, fn func(i int, c Candidate, sh *shape) bool) int {
	stop := -1
	n := s.enumerateRuns(b, func(r *run) bool {
		if i, ok := r.each(fn); !ok {
			stop = i
			return false
		}
		return true
	})
	if stop >= 0 {
		return stop + 1
	}
	return n
}

// run is a stretch of consecutive candidates of a space that differ only
// in recompute policy, transport and collective algorithm (the innermost
// choices of the enumeration, in that order): numbers first to
// first+Len()-1.
type run struct {
	first int
	c     Candidate // the choices the run shares
	rcs   []parallel.Recompute
	techs []string
	colls []string
	shape *lazyShape
}

// Len is the number of candidates in r.
func (r *run) Len() int { return len(r.rcs) * len(r.techs) * len(r.colls) }

// each calls fn for r's candidates in order until fn returns false; it
// then reports the number of that candidate and false.
func (r *run) each(fn func(i int, c Candidate, sh *shape) bool) (int, bool) {
	i := r.first
	for _, rc := range r.rcs {
		for _, tech := range r.techs {
			for _, coll := range r.colls {
				c := r.c
				c.Recompute, c.Technology, c.Collective = rc, tech, coll
				if !fn(i, c, r.shape.get(&c)) {
					return i, false
				}
				i++
			}
		}
	}
	return i, true
}

// lazyShape builds the shape of a set of degrees and a placement when its
// first candidate asks for it.
type lazyShape struct {
	sh  *shape
	b   *Base
	deg map[topology.Dim]int
}

func (l *lazyShape) get(c *Candidate) *shape {
	if l.sh == nil {
		l.sh = &shape{dims: c.PlacementDims()}
		if lay, ok := l.b.place(l.sh.dims, l.deg); ok && c.ETP == 0 {
			l.sh.lay, l.sh.ok = lay, true
		} else if ok {
			// With etp < tp the ep group lies on the expert grid
			// (train.Config.Layout).
			cfg := l.b.Template
			cfg.Parallel, cfg.Placement = c.Parallel(), l.sh.dims
			var err error
			l.sh.lay, err = cfg.Layout()
			if err == nil {
				l.sh.etpSpan, err = train.ExpertTPSpan(&cfg, l.sh.lay)
			}
			l.sh.ok = err == nil
		}
	}
	return l.sh
}

// enumerateRuns hands fn the space's candidates in order, a run at a
// time, until fn returns false; it returns the number of candidates of
// the runs it handed on.
func (s *Space) enumerateRuns(b *Base, fn func(r *run) bool) int {
	var r run // handed to fn, reused
	t := &b.Template
	m := t.Model
	n := t.GPUs
	seq, gb := t.Batch.SeqLen, t.Batch.GlobalBatch
	i := 0
	canon := map[string]string{} // interned placement strings
	// splits reports whether the layers split over pp stages of vp
	// chunks, decided once per (pp, vp): the refusal is an error to format.
	splitOK := map[[2]int]bool{}
	splits := func(pp, vp int) bool {
		k := [2]int{pp, vp}
		ok, seen := splitOK[k]
		if !seen {
			_, err := parallel.SplitLayers(m.Layers, pp, vp)
			ok = err == nil
			splitOK[k] = ok
		}
		return ok
	}
	// validity[k] is 0 while undecided, 1 valid, 2 not (isValid below).
	validity := make([]uint8, len(s.VP)*len(s.Schedules)*len(s.MicroBatch))
	for _, tp := range s.TP {
		if n%tp != 0 || parallel.CheckTP(m, tp) != nil {
			continue
		}
		for _, cp := range s.CP {
			if seq%cp != 0 || n%(tp*cp) != 0 {
				continue
			}
			sp := tp > 1 && (seq/cp)%tp == 0
			for _, pp := range s.PP {
				if n%(tp*cp*pp) != 0 || pp > m.Layers {
					continue
				}
				dp := n / (tp * cp * pp)
				if (s.DP != 0 && dp != s.DP) || gb%dp != 0 {
					continue
				}
				for _, xp := range expertDegrees(s.EP, s.ETP, tp) {
					ep, etp := xp[0], xp[1]
					if parallel.CheckEP(m, ep, cmp.Or(etp, tp), tp, tp*cp*dp) != nil {
						continue
					}
					deg := map[topology.Dim]int{topology.TP: tp, topology.CP: cp, topology.PP: pp, topology.DP: dp, topology.EP: ep}
					// Validity does not depend on the placement or ZeRO stage:
					// decide it once per (vp, schedule, micro-batch), by their
					// places in the space's lists.
					clear(validity)
					isValid := func(vi, si, mi int) bool {
						k := (vi*len(s.Schedules)+si)*len(s.MicroBatch) + mi
						if validity[k] == 0 {
							validity[k] = 2
							if b.valid(s.Schedules[si], tp, cp, pp, s.VP[vi], ep, etp, dp, s.MicroBatch[mi]) {
								validity[k] = 1
							}
						}
						return validity[k] == 1
					}
					seen := map[string]bool{}   // layouts
					placed := map[string]bool{} // canonical placements
					for _, pl := range s.Placements {
						lay, ok := b.place(pl, deg)
						if !ok {
							continue
						}
						if k := layoutKey(lay); seen[k] {
							continue
						} else {
							seen[k] = true
						}
						if s.CrossSite != "" && topology.CheckCrossSite(t.Topology, lay, s.CrossSite, deg[s.CrossSite]) != nil {
							continue
						}
						if !b.outerSiteOK(s, lay) {
							continue
						}
						// Orders that differ only in where a dimension of
						// degree one sits (their pipeline strides differ, which
						// no stage pair reads when pp = 1) are one candidate.
						key := canonical(pl, deg)
						if placed[key] {
							continue
						}
						placed[key] = true
						colls := s.Collectives
						if len(colls) > 1 && !collectivesCross(t.Topology, lay) {
							// Only all-reduce, all-gather and reduce-scatter
							// (dp, and dp widened by cp) take the algorithm of
							// the site level; if none spans a site, the choice
							// changes nothing and is tried once.
							colls = colls[:1]
						}
						if v, ok := canon[key]; ok {
							key = v
						} else {
							canon[key] = key
						}
						lazy := &lazyShape{b: b, deg: deg} // built for the first candidate
						for vi, vp := range s.VP {
							if vp > 1 && pp == 1 {
								continue
							}
							if !splits(pp, vp) {
								continue
							}
							for si, sched := range s.Schedules {
								if !searchesSchedule(sched, pp) {
									continue
								}
								for _, z := range s.Zero {
									for mi, mb := range s.MicroBatch {
										if !isValid(vi, si, mi) {
											continue
										}
										r = run{first: i, rcs: s.Recompute, techs: s.Technologies, colls: colls, shape: lazy,
											c: Candidate{TP: tp, CP: cp, PP: pp, VP: vp, EP: ep, ETP: etp, DP: dp, Zero: z, MicroBatch: mb, SP: sp, Placement: key, Schedule: sched}}
										if r.Len() == 0 {
											continue
										}
										i += r.Len()
										if !fn(&r) {
											return i
										}
									}
								}
							}
						}
					}
				}
			}
		}
	}
	return i
}

// collectivesCross reports whether a group priced with the collective
// algorithm (dp, or cp which widens the dense data-parallel group) spans
// a site level.
func collectivesCross(t topology.Topology, l topology.Layout) bool {
	for _, i := range t.SiteLevels() {
		if l.Crosses(topology.DP, i) || l.Crosses(topology.CP, i) {
			return true
		}
	}
	return false
}

// layoutKey identifies a layout by what the step model reads from it: the
// span of every dimension and the pipeline's rank stride.
func layoutKey(l topology.Layout) string {
	var buf [128]byte
	b := buf[:0]
	for _, d := range topology.Dims() {
		b = append(b, d...)
		for _, f := range l.Spans[d].Factors {
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(f), 10)
		}
		b = append(b, ';')
	}
	b = strconv.AppendInt(b, int64(l.Stride[topology.PP]), 10)
	return string(b)
}

// placeKey is a placement order of a set of degrees, for placeCache.
type placeKey struct {
	deg [5]int // by topology.Dims()
	n   int
	pl  [8]topology.Dim
}

// placeCache remembers the layouts topology.Place built (or refused) on
// the Base's topology: enumerating a space tries every placement order of
// every set of degrees, and Estimate, Search and the spaces that share
// degrees try them again.
type placeCache struct {
	mu sync.Mutex
	m  map[placeKey]placeResult
}

// placeCacheSize bounds placeCache.
const placeCacheSize = 1 << 16

// placeResult is a layout, or ok false where topology.Place refused the
// order (its reason is not kept: the enumeration skips the order).
type placeResult struct {
	lay topology.Layout
	ok  bool
}

// place is topology.Place(b.Template.Topology, pl, deg), remembered, and
// whether it succeeded. The layouts it returns are shared: they must not
// be changed.
func (b *Base) place(pl []topology.Dim, deg map[topology.Dim]int) (topology.Layout, bool) {
	pc := b.places
	if pc == nil || len(pl) > len(placeKey{}.pl) {
		l, err := topology.Place(b.Template.Topology, pl, deg)
		return l, err == nil
	}
	k := placeKey{n: len(pl)}
	for i, d := range topology.Dims() {
		k.deg[i] = deg[d]
	}
	copy(k.pl[:], pl)
	pc.mu.Lock()
	r, ok := pc.m[k]
	pc.mu.Unlock()
	if !ok {
		var err error
		r.lay, err = topology.Place(b.Template.Topology, pl, deg)
		r.ok = err == nil
		pc.mu.Lock()
		if len(pc.m) >= placeCacheSize {
			clear(pc.m) // bounded: the default plan's spaces try 16,522
		}
		pc.m[k] = r
		pc.mu.Unlock()
	}
	return r.lay, r.ok
}

// Count returns the number of candidates in s.
func (s *Space) Count(b *Base) int {
	return s.Enumerate(b, func(int, Candidate) bool { return true })
}

// searchesSchedule is the Explorer's policy on top of validity: with pp = 1
// the schedule is irrelevant and tried once, as 1f1b.
func searchesSchedule(s string, pp int) bool {
	return pp > 1 || s == string(schedule.OneFOneB)
}

// valid reports whether the degrees, schedule and micro-batch size form a
// job that the resolver accepts, asking the owners of each rule:
// parallel.Config.Validate for the degrees and the batch, and
// schedule.Kind.Check for the schedule. On top of validity the Explorer
// keeps the zero-bubble schedules to m >= pp micro-batches, where they
// reach a steady state: the analytic model prices their bubble with the
// closed forms of Qi et al. 2023, which assume one and overstate the gain
// when m < pp (the event-level simulation of ZB-V with pp 4, m 1 runs 2.5x
// longer than the closed form).
func (b *Base) valid(sched string, tp, cp, pp, vp, ep, etp, dp, mb int) bool {
	t := &b.Template
	batch := t.Batch
	batch.MicroBatch = mb
	pc := parallel.Config{TP: tp, CP: cp, PP: pp, VP: vp, EP: ep, ETP: etp, DP: dp, SP: tp > 1 && (batch.SeqLen/cp)%tp == 0, Zero: 1}
	if batch.GlobalBatch%(dp*mb) != 0 {
		return false
	}
	k := schedule.Kind(sched)
	m := pc.MicroBatches(batch)
	if (k == schedule.ZBH1 || k == schedule.ZBV) && m < pp {
		return false
	}
	if _, err := k.Check(schedule.Params{Stages: pp, MicroBatches: m, Chunks: vp}); err != nil {
		return false
	}
	return pc.Validate(t.Model, t.GPUs, batch) == nil
}

// canonical drops from a placement order the dimensions whose position
// does not change the layout: those of degree one, and ep unless it takes
// a share of dp (ep > cp).
func canonical(pl []topology.Dim, deg map[topology.Dim]int) string {
	var parts []string
	for _, d := range pl {
		keep := deg[d] > 1
		if d == topology.EP {
			keep = deg[topology.EP] > max(deg[topology.CP], 1)
		}
		if keep {
			parts = append(parts, string(d))
		}
	}
	return strings.Join(parts, ",")
}

// Config builds the train.Config of candidate c.
func (b *Base) Config(c Candidate) *train.Config {
	pr := prepared{dims: c.PlacementDims(), topo: b.Template.Topology}
	if c.Technology != "" || c.Collective != "" {
		pr.topo = pr.topo.WithSiteTransport(c.Technology, c.Collective, true)
	}
	var cfg train.Config
	b.candidateConfig(&cfg, &c, &pr)
	return &cfg
}

// fitsMemory checks the candidate's memory before pricing its step, the
// same way train.Analytic decides Feasible.
func (b *Base) fitsMemory(cfg *train.Config) (float64, bool) {
	return train.QuickMemoryGiB(cfg)
}

// powersOfTwo returns 1, 2, 4, ... up to hi.
func powersOfTwo(hi int) []int {
	var out []int
	for v := 1; v <= hi; v *= 2 {
		out = append(out, v)
	}
	return out
}

// upTo returns 1, 2, ..., hi.
func upTo(hi int) []int {
	out := make([]int, 0, hi)
	for v := 1; v <= hi; v++ {
		out = append(out, v)
	}
	return out
}

// divisorsUpTo returns the divisors of n that are at most hi, ascending.
func divisorsUpTo(n, hi int) []int {
	var out []int
	for v := 1; v <= n && v <= hi; v++ {
		if n%v == 0 {
			out = append(out, v)
		}
	}
	return out
}

// intsString formats a list for messages.
func intsString(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// finite reports whether v is a usable number.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// TechnologyClasses groups techs into classes that the step model cannot
// tell apart on b's topology: every cross-site level delivers the same
// bandwidth and latency under each of them, for all senders counts a
// parallel group can put on the level (the whole unit, or the unit over
// k pipeline stages for k up to maxStages). The first of each class is
// its representative; classes keep techs' order.
func (b *Base) TechnologyClasses(techs []string, maxStages int) [][]string {
	t := b.Template.Topology
	eff := b.Template.Calib.NetworkEfficiency
	sig := func(tech string) string {
		tt := t
		if tech != "" {
			tt = t.WithSiteTransport(tech, "", true)
		}
		var sb strings.Builder
		for _, i := range b.CrossSite {
			unit := float64(t.Capacity(i - 1))
			senders := make([]float64, len(t.Levels))
			for k := 1; k <= max(maxStages, 1); k++ {
				senders[i] = unit / float64(k)
				l := network.Links(tt, senders, eff)[i]
				fmt.Fprintf(&sb, "%x/%x;", math.Float64bits(l.BytesPerSec), math.Float64bits(l.LatencyS))
			}
		}
		return sb.String()
	}
	var out [][]string
	index := map[string]int{}
	for _, tech := range techs {
		s := sig(tech)
		if k, ok := index[s]; ok {
			out[k] = append(out[k], tech)
			continue
		}
		index[s] = len(out)
		out = append(out, []string{tech})
	}
	return out
}

// JobFor is the job spec of candidate c: the plan's job with every choice
// fixed to c's, the spec that `scaleacross simulate` runs to reproduce the
// candidate's step time and memory.
func (b *Base) JobFor(c Candidate) *spec.Job { return CandidateJob(b.Job, c) }

// CandidateJob is plan job j with every choice fixed to candidate c's (see
// Base.JobFor); j is not changed.
func CandidateJob(plan *spec.Job, c Candidate) *spec.Job {
	j := *plan
	j.Search = nil
	sp, z := c.SP, c.Zero
	j.Parallel = spec.Parallel{TP: c.TP, PP: c.PP, VP: c.VP, CP: c.CP, EP: c.EP, ETP: c.ETP, DP: c.DP, SP: &sp, Zero: &z}
	j.Schedule = c.Schedule
	j.Placement = nil
	for _, d := range c.PlacementDims() {
		j.Placement = append(j.Placement, string(d))
	}
	j.Training.MicroBatch = c.MicroBatch
	j.Training.Recompute = string(c.Recompute)
	if c.Technology != "" || c.Collective != "" || j.Network != nil {
		n := spec.Network{}
		if j.Network != nil {
			n = *j.Network
		}
		if c.Technology != "" {
			n.Transport = c.Technology
		}
		if c.Collective != "" {
			n.Algorithm = c.Collective
		}
		j.Network = &n
	}
	return &j
}

// expertDegrees pairs each ep of eps with each etp of etps for a
// candidate of tensor-parallel degree tp, etp 0 standing for etp = tp
// (the only one when etps is empty); an etp equal to tp is that same
// candidate and is listed once.
func expertDegrees(eps, etps []int, tp int) [][2]int {
	if len(etps) == 0 {
		etps = []int{0}
	}
	out := make([][2]int, 0, len(eps)*len(etps))
	for _, ep := range eps {
		start := len(out)
		for _, etp := range etps {
			if etp == tp {
				etp = 0
			}
			if x := [2]int{ep, etp}; !slices.Contains(out[start:], x) {
				out = append(out, x)
			}
		}
	}
	return out
}
