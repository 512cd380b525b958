package explore

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/parallel"
	"github.com/scaleacross/scaleacross/schedule"
	"github.com/scaleacross/scaleacross/topology"
)

// Default bounds of the Explorer's space, chosen to cover what large
// training runs use while keeping the default scenario within a minute on
// two cores. search: overrides each of them.
const (
	// defaultMaxPP bounds the pipeline depth (Llama 3 405B used 16 stages,
	// arXiv 2407.21783; deeper pipelines are searched on request).
	defaultMaxPP = 64
	// defaultMaxVP bounds the model chunks per pipeline rank.
	defaultMaxVP = 8
	// defaultMaxMicroBatch bounds the micro-batch size in sequences.
	defaultMaxMicroBatch = 8
	// cpTokens: context parallelism is tried down to 2048 tokens per rank.
	cpTokens = 2048
)

// Space names.
const (
	ExplorerSpace   = "explorer"
	ProductionSpace = "production"
	PriorArtSpace   = "prior_art"
)

// defaultSpace is the unconstrained Explorer space for b.
func (b *Base) defaultSpace(techs []string) *Space {
	t := &b.Template
	m := t.Model
	node := t.Topology.Levels[0].Size
	s := &Space{
		Name:         ExplorerSpace,
		Description:  "every placement order (tp innermost), schedule, chunk count, micro-batch, recompute policy, ZeRO stage and transport",
		TP:           powersOfTwo(node),
		CP:           powersOfTwo(max(1, t.Batch.SeqLen/cpTokens)),
		PP:           divisorsUpTo(t.GPUs, min(defaultMaxPP, m.Layers)),
		VP:           upTo(defaultMaxVP),
		EP:           []int{1},
		Zero:         []int{0, 1, 2, 3},
		MicroBatch:   powersOfTwo(defaultMaxMicroBatch),
		Schedules:    kindNames(),
		Recompute:    []parallel.Recompute{parallel.RecomputeNone, parallel.RecomputeSelective, parallel.RecomputeFull},
		Placements:   placements(m.MoE != nil),
		Technologies: []string{""},
		Collectives:  []string{""},
	}
	if m.MoE != nil {
		s.EP = divisorsUpTo(m.MoE.Experts, m.MoE.Experts)
		// Expert tensor parallelism at tp, or none: Megatron-Core's
		// guidance prefers ep over tp for experts (MoE README, reference/
		// moe.md section 1), and its published MoE recipes run etp 1 or tp.
		s.ETP = []int{0, 1}
	}
	if b.MicroBatch > 0 {
		s.MicroBatch = []int{b.MicroBatch}
	}
	if b.Recompute != "" {
		s.Recompute = []parallel.Recompute{b.Recompute}
	}
	if len(b.CrossSite) > 0 && !b.techFixed() && len(techs) > 0 {
		// Transports the model cannot tell apart on this topology are
		// tried once, under the first name of their class.
		s.Technologies = nil
		for _, c := range b.TechnologyClasses(techs, slices.Max(s.PP)) {
			s.Technologies = append(s.Technologies, c[0])
		}
	}
	if len(b.CrossSite) > 0 && !b.algoFixed() {
		s.Collectives = algorithms()
	}
	return s
}

// algorithms lists the collective algorithms of the network package.
func algorithms() []string {
	var out []string
	for _, a := range network.Algorithms() {
		out = append(out, string(a))
	}
	return out
}

// placements lists every order of cp, (ep,) pp and dp outside tp: tensor
// parallelism stays innermost, inside the NVLink domain.
func placements(moe bool) [][]topology.Dim {
	rest := []topology.Dim{topology.CP, topology.PP, topology.DP}
	if moe {
		rest = []topology.Dim{topology.CP, topology.EP, topology.PP, topology.DP}
	}
	var out [][]topology.Dim
	var perm func(prefix, left []topology.Dim)
	perm = func(prefix, left []topology.Dim) {
		if len(left) == 0 {
			out = append(out, append([]topology.Dim{topology.TP}, prefix...))
			return
		}
		for k := range left {
			next := append(slices.Clone(left[:k]), left[k+1:]...)
			perm(append(slices.Clone(prefix), left[k]), next)
		}
	}
	perm(nil, rest)
	return out
}

// constraint is one restriction the spec puts on the Explorer's space,
// named by its spec field.
type constraint struct {
	field string
	apply func(s *Space)
}

// constraints lists the restrictions of the job's parallel, schedule,
// placement and search fields, checking the names they use.
func (b *Base) constraints(techs []string) ([]constraint, error) {
	j := b.Job
	var cs []constraint
	// Bounds that widen or narrow a default range come first, so that
	// fixed degrees and explicit lists below win over them.
	if j.Search != nil {
		if j.Search.MaxPP > 0 && len(j.Search.PP) == 0 {
			// A bound above the default widens the pipeline range.
			hi := j.Search.MaxPP
			cs = append(cs, constraint{"search.max_pp", func(s *Space) { s.PP = divisorsUpTo(b.Template.GPUs, min(hi, b.Template.Model.Layers)) }})
		}
		if j.Search.MaxVP > 0 && len(j.Search.VP) == 0 {
			hi := j.Search.MaxVP
			cs = append(cs, constraint{"search.max_vp", func(s *Space) { s.VP = upTo(hi) }})
		}
		if j.Search.MaxCP > 0 && len(j.Search.CP) == 0 {
			hi := j.Search.MaxCP
			cs = append(cs, constraint{"search.max_cp", func(s *Space) { s.CP = powersOfTwo(hi) }})
		}
		if j.Search.MaxMicroBatch > 0 && len(j.Search.MicroBatch) == 0 {
			hi := j.Search.MaxMicroBatch
			cs = append(cs, constraint{"search.max_micro_batch", func(s *Space) { s.MicroBatch = powersOfTwo(hi) }})
		}
	}
	fix := func(field string, v int, dst func(s *Space) *[]int) {
		if v > 0 {
			cs = append(cs, constraint{field, func(s *Space) { *dst(s) = []int{v} }})
		}
	}
	p := j.Parallel
	fix("parallel.tp", p.TP, func(s *Space) *[]int { return &s.TP })
	fix("parallel.cp", p.CP, func(s *Space) *[]int { return &s.CP })
	fix("parallel.pp", p.PP, func(s *Space) *[]int { return &s.PP })
	fix("parallel.vp", p.VP, func(s *Space) *[]int { return &s.VP })
	fix("parallel.ep", p.EP, func(s *Space) *[]int { return &s.EP })
	fix("parallel.etp", p.ETP, func(s *Space) *[]int { return &s.ETP })
	if p.DP > 0 {
		cs = append(cs, constraint{"parallel.dp", func(s *Space) { s.DP = p.DP }})
	}
	if p.Zero != nil {
		z := *p.Zero
		if z < 0 || z > 3 {
			return nil, fault.Field("parallel.zero", "must be 0, 1, 2 or 3 (3 = FSDP), got %d", z)
		}
		cs = append(cs, constraint{"parallel.zero", func(s *Space) { s.Zero = []int{z} }})
	}
	for _, d := range []struct {
		f string
		v int
	}{{"parallel.tp", p.TP}, {"parallel.pp", p.PP}, {"parallel.vp", p.VP}, {"parallel.cp", p.CP}, {"parallel.ep", p.EP}, {"parallel.dp", p.DP}} {
		if d.v < 0 {
			return nil, fault.Field(d.f, "must be a positive integer (or omitted to search), got %d", d.v)
		}
	}
	if j.Schedule != "" {
		v, err := parseSchedules("schedule", []string{j.Schedule})
		if err != nil {
			return nil, err
		}
		cs = append(cs, constraint{"schedule", func(s *Space) { s.Schedules = v }})
	}
	if len(j.Placement) > 0 {
		pl, err := parsePlacement("placement", j.Placement)
		if err != nil {
			return nil, err
		}
		cs = append(cs, constraint{"placement", func(s *Space) { s.Placements = [][]topology.Dim{pl} }})
	}
	if n := j.Network; n != nil && n.Algorithm != "" {
		a, err := network.ParseAlgorithm(n.Algorithm, "network.algorithm")
		if err != nil {
			return nil, err
		}
		cs = append(cs, constraint{"network.algorithm", func(s *Space) { s.Collectives = []string{string(a)} }})
	}
	if j.CrossSite != "" {
		d, err := topology.ParsePlacement([]string{j.CrossSite})
		if err != nil {
			return nil, fault.Field("cross_site", "unknown dimension %q; use tp, cp, ep, dp or pp", j.CrossSite)
		}
		if len(b.CrossSite) == 0 {
			return nil, fault.Field("cross_site", "the topology has one site (no level with distance_km or link_capacity_gbps, or named building/region); nothing to place across sites")
		}
		cs = append(cs, constraint{"cross_site", func(s *Space) {
			s.CrossSite = d[0]
			var pls [][]topology.Dim
			for _, pl := range s.Placements {
				q := topology.PutOutermost(pl, d[0])
				if !slices.ContainsFunc(pls, func(o []topology.Dim) bool { return slices.Equal(o, q) }) {
					pls = append(pls, q)
				}
			}
			s.Placements = pls
		}})
	}
	if b.MicroBatch > 0 {
		cs = append(cs, constraint{"training.micro_batch", func(s *Space) { s.MicroBatch = []int{b.MicroBatch} }})
	}
	if b.Recompute != "" {
		cs = append(cs, constraint{"training.recompute", func(s *Space) { s.Recompute = []parallel.Recompute{b.Recompute} }})
	}
	q := j.Search
	if q == nil {
		return cs, nil
	}
	list := func(field string, v []int, dst func(s *Space) *[]int) {
		if len(v) > 0 {
			vv := append([]int(nil), v...)
			cs = append(cs, constraint{field, func(s *Space) { *dst(s) = vv }})
		}
	}
	bound := func(field string, hi int, dst func(s *Space) *[]int) {
		if hi > 0 {
			cs = append(cs, constraint{field, func(s *Space) {
				d := dst(s)
				*d = slices.DeleteFunc(slices.Clone(*d), func(v int) bool { return v > hi })
			}})
		}
	}
	list("search.tp", q.TP, func(s *Space) *[]int { return &s.TP })
	list("search.cp", q.CP, func(s *Space) *[]int { return &s.CP })
	list("search.pp", q.PP, func(s *Space) *[]int { return &s.PP })
	list("search.vp", q.VP, func(s *Space) *[]int { return &s.VP })
	list("search.ep", q.EP, func(s *Space) *[]int { return &s.EP })
	list("search.etp", q.ETP, func(s *Space) *[]int { return &s.ETP })
	list("search.zero", q.Zero, func(s *Space) *[]int { return &s.Zero })
	list("search.micro_batch", q.MicroBatch, func(s *Space) *[]int { return &s.MicroBatch })
	bound("search.max_tp", q.MaxTP, func(s *Space) *[]int { return &s.TP })
	bound("search.max_ep", q.MaxEP, func(s *Space) *[]int { return &s.EP })
	if len(q.Schedules) > 0 {
		v, err := parseSchedules("search.schedules", q.Schedules)
		if err != nil {
			return nil, err
		}
		cs = append(cs, constraint{"search.schedules", func(s *Space) { s.Schedules = v }})
	}
	if len(q.Recompute) > 0 {
		var v []parallel.Recompute
		for i, r := range q.Recompute {
			rc, err := parallel.ParseRecompute(r)
			if err != nil || r == "" {
				return nil, fault.Field(fmt.Sprintf("search.recompute[%d]", i), "unknown policy %q; use none, selective or full", r)
			}
			v = append(v, rc)
		}
		cs = append(cs, constraint{"search.recompute", func(s *Space) { s.Recompute = v }})
	}
	if len(q.Placements) > 0 {
		var v [][]topology.Dim
		for i, pl := range q.Placements {
			d, err := parsePlacement(fmt.Sprintf("search.placements[%d]", i), pl)
			if err != nil {
				return nil, err
			}
			v = append(v, d)
		}
		cs = append(cs, constraint{"search.placements", func(s *Space) { s.Placements = v }})
	}
	if len(q.Technologies) > 0 {
		for i, name := range q.Technologies {
			if !slices.Contains(techs, name) {
				known := strings.Join(slices.DeleteFunc(slices.Clone(techs), func(s string) bool { return s == "" }), ", ")
				if known == "" {
					known = "none yet: the network package models only the default transport"
				}
				return nil, fault.Field(fmt.Sprintf("search.technologies[%d]", i), "unknown technology %q; known: %s", name, known)
			}
		}
		if len(b.CrossSite) == 0 {
			return nil, fault.Field("search.technologies", "the topology has no cross-site level to put a technology on; describe the sites in system.topology.levels")
		}
		if b.techFixed() {
			return nil, fault.Field("search.technologies", "system.topology already fixes the transport of the cross-site level; remove one of the two")
		}
		v := append([]string(nil), q.Technologies...)
		cs = append(cs, constraint{"search.technologies", func(s *Space) { s.Technologies = v }})
	}
	return cs, nil
}

// parseSchedules reads schedule names as the job resolver does
// (schedule.ParseKind: aliases, nearest-name suggestions) and returns their
// canonical names; an error names the field, indexed for lists.
func parseSchedules(field string, names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for i, n := range names {
		k, err := schedule.ParseKind(n)
		if err != nil {
			f := field
			if len(names) > 1 || strings.HasPrefix(field, "search.") {
				f = fmt.Sprintf("%s[%d]", field, i)
			}
			var se *fault.FieldError
			if errors.As(err, &se) {
				return nil, fault.Field(f, "%s", se.Msg)
			}
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if !slices.Contains(out, string(k)) {
			out = append(out, string(k))
		}
	}
	return out, nil
}

// kindNames lists every schedule's canonical name.
func kindNames() []string {
	var out []string
	for _, k := range schedule.Kinds() {
		out = append(out, string(k))
	}
	return out
}

func parsePlacement(field string, names []string) ([]topology.Dim, error) {
	seen := map[topology.Dim]bool{}
	out := make([]topology.Dim, 0, 4)
	for i, n := range names {
		d := topology.Dim(strings.ToLower(strings.TrimSpace(n)))
		switch d {
		case topology.TP, topology.CP, topology.EP, topology.PP, topology.DP:
		default:
			return nil, fault.Field(fmt.Sprintf("%s[%d]", field, i), "unknown dimension %q; use tp, cp, ep, pp or dp", n)
		}
		if seen[d] {
			return nil, fault.Field(fmt.Sprintf("%s[%d]", field, i), "dimension %q is repeated", d)
		}
		seen[d] = true
		out = append(out, d)
	}
	for _, d := range []topology.Dim{topology.TP, topology.CP, topology.PP, topology.DP} {
		if !seen[d] {
			out = append(out, d)
		}
	}
	return out, nil
}

// Spaces builds the Explorer's space (with the spec's constraints) and
// the two baseline spaces for b. techs lists the network technologies the
// network package models ("" is the default transport).
func (b *Base) Spaces(techs []string) ([]*Space, error) {
	ex, err := b.explorerSpace(techs, "")
	if err != nil {
		return nil, err
	}
	return []*Space{ex, b.productionSpace(), b.priorArtSpace()}, nil
}

// explorerOnly lists the constraints that shape only the Explorer's
// space: the design choices that define the baselines (placement,
// schedule, transport, collective algorithm, ZeRO family). Every other
// constraint (degrees, micro-batch, recompute) bounds the baselines too,
// so that they are searched over the same ranges.
func explorerOnly(field string) bool {
	switch field {
	case "schedule", "placement", "cross_site", "network.algorithm", "parallel.zero",
		"search.schedules", "search.placements", "search.technologies", "search.zero":
		return true
	}
	return false
}

// baseSpace is the default space with the constraints shared with the
// baselines applied.
func (b *Base) baseSpace() *Space {
	s := b.defaultSpace(nil)
	cs, err := b.constraints(b.techs)
	if err != nil {
		return s // the Explorer's space reports the error
	}
	for _, c := range cs {
		if !explorerOnly(c.field) {
			c.apply(s)
		}
	}
	return s
}

// explorerSpace applies every constraint but the one named drop.
func (b *Base) explorerSpace(techs []string, drop string) (*Space, error) {
	b.techs = techs
	s := b.defaultSpace(techs)
	cs, err := b.constraints(techs)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.field != drop {
			c.apply(s)
		}
	}
	return s, nil
}

// productionSpace is the production baseline: TP inside the node, data
// parallelism outermost (so it crosses sites), interleaved 1F1B (vp = 1
// is its plain 1F1B special case), ZeRO 1-3 (the FSDP family: Llama 3
// 405B kept weights unsharded between forward and backward, about ZeRO-2,
// arXiv 2407.21783 s3.3.2), the default transport and flat NCCL-style
// collectives (ring or tree, NCCL's two algorithms, instead of a
// site-aware hierarchy) across sites. Degrees, chunks, micro-batch and
// recompute are searched within the bounds the spec sets on them.
func (b *Base) productionSpace() *Space {
	s := b.baseSpace()
	s.Name = ProductionSpace
	s.Description = "TP inside the node, DP outermost (across sites), interleaved 1F1B, ZeRO 1-3 (FSDP family), default transport, flat NCCL collectives (ring or tree) across sites"
	s.Zero = []int{1, 2, 3}
	s.Schedules = []string{string(schedule.Interleaved), string(schedule.OneFOneB)}
	s.Placements = [][]topology.Dim{{topology.TP, topology.CP, topology.PP, topology.DP}}
	s.Technologies = []string{""}
	s.ETP = b.baselineETP(s.ETP)
	if len(b.CrossSite) > 0 && !b.algoFixed() {
		s.Collectives = []string{string(network.Ring), string(network.Tree)}
	}
	return s
}

// priorArtSpace is the CrossPipe-style baseline (USENIX ATC 2025):
// pipeline stages outermost (split across sites), a non-interleaved
// schedule chosen for the cross-site latency, data-parallel traffic
// overlapped (ZeRO 1-3), and no chunking (vp = 1), placement search or
// transport choice; its collective algorithm is chosen freely. With more
// than one site, pp alone crosses the outermost site level (OuterSite),
// so the baseline never collapses to pure data parallelism across sites
// (pp 1): when no such configuration fits, the baseline is absent and the
// plan's notes say why.
func (b *Base) priorArtSpace() *Space {
	s := b.baseSpace()
	s.Name = PriorArtSpace
	s.Description = "PP outermost (stages split across sites), non-interleaved latency-tolerant schedules, vp = 1, ZeRO 1-3, default transport"
	if len(b.CrossSite) > 0 {
		s.OuterSite = topology.PP
		s.Description = "PP outermost (pp alone crosses the outermost site level), non-interleaved latency-tolerant schedules, vp = 1, ZeRO 1-3, default transport"
	}
	s.VP = []int{1}
	s.Zero = []int{1, 2, 3}
	s.Schedules = []string{string(schedule.OneFOneB), string(schedule.ZBH1), string(schedule.LatencyAware)}
	s.Placements = [][]topology.Dim{{topology.TP, topology.CP, topology.DP, topology.PP}}
	s.Technologies = []string{""}
	s.ETP = b.baselineETP(s.ETP)
	return s
}

// baselineETP is the baselines' expert tensor parallelism: etp = tp, as
// before the Explorer searched etp, unless the job fixes etp or lists
// the values to search (then the list in force).
func (b *Base) baselineETP(etp []int) []int {
	if b.Job.Parallel.ETP > 0 || (b.Job.Search != nil && len(b.Job.Search.ETP) > 0) {
		return etp
	}
	return nil
}
