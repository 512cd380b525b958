package explore

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/parallel"
	"github.com/scaleacross/scaleacross/topology"
	"github.com/scaleacross/scaleacross/train"
)

// Choice is one ranked configuration with its prediction.
type Choice struct {
	// Rank is the position in its space's final ranking (1 = best).
	Rank int `json:"rank"`
	// Index numbers the candidate in its space's enumeration, and Space
	// names that space (a baseline's variant can be the explorer's best).
	Index int    `json:"index"`
	Space string `json:"space"`
	Candidate
	// CrossSite lists the parallel dimensions whose groups span the
	// outermost cross-site level.
	CrossSite []string `json:"cross_site"`
	// StepTimeS is the step time of the final ranking: the re-ranking
	// engine's for the top K, the analytic one below.
	StepTimeS         float64 `json:"step_time_s"`
	AnalyticStepTimeS float64 `json:"analytic_step_time_s"`
	Engine            string  `json:"engine"`
	MFU               float64 `json:"mfu"`
	TokensPerSPerGPU  float64 `json:"tokens_per_s_per_gpu"`
	ModelTFLOPsPerGPU float64 `json:"model_tflops_per_gpu"`
	MemoryGiBPerGPU   float64 `json:"memory_gib_per_gpu"`
	MemoryHeadroomGiB float64 `json:"memory_headroom_gib"`
	MicroBatches      int     `json:"micro_batches"`
	// Breakdown splits the step by cause (exposed time, seconds).
	Breakdown train.Breakdown `json:"breakdown"`
	// SiteTraffic is the traffic each dimension puts on the outermost
	// cross-site level per step, per GPU.
	SiteTraffic []train.LevelTraffic `json:"site_traffic"`
}

// Ranked is a short entry of the ranked list.
type Ranked struct {
	Rank  int `json:"rank"`
	Index int `json:"index"`
	// Space is the space whose enumeration Index numbers: the explorer's,
	// or a baseline's for a baseline variant that won.
	Space     string  `json:"space"`
	Config    string  `json:"config"`
	StepTimeS float64 `json:"step_time_s"`
	Engine    string  `json:"engine"`
	MemoryGiB float64 `json:"memory_gib_per_gpu"`
}

// ParetoPoint is a configuration no other beats on both step time and
// memory headroom.
type ParetoPoint struct {
	Index             int     `json:"index"`
	Config            string  `json:"config"`
	StepTimeS         float64 `json:"step_time_s"`
	MemoryHeadroomGiB float64 `json:"memory_headroom_gib"`
	// Engine names the engine of StepTimeS: the re-ranking engine's for
	// re-ranked candidates, analytic for the rest.
	Engine string `json:"engine"`
}

// SpaceSummary says what one space held and found.
type SpaceSummary struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Candidates  int    `json:"candidates"`
	// Evaluated counts the candidates decided (State.Evaluated): their
	// memory checked and, for those that fit (Feasible), their step
	// predicted or, for the Pruned ones, bounded out.
	Evaluated int     `json:"evaluated"`
	Feasible  int     `json:"feasible"`
	Reranked  int     `json:"reranked"`
	ElapsedS  float64 `json:"elapsed_s"`
	// Pruned counts the candidates that fit whose step was not predicted,
	// a lower bound proving that the search would not keep them
	// (State.Pruned). Like the timings it varies between runs that give
	// the same plan (with the batch size, shards and resumes) and is left
	// out with them (ZeroTimings).
	Pruned int `json:"pruned,omitempty"`
}

// Baselines holds the best variant of each baseline space; nil when no
// variant fits.
type Baselines struct {
	Production *Choice `json:"production"`
	PriorArt   *Choice `json:"prior_art"`
}

// Timings are figures of how the search ran: wall-clock times, and the
// candidates pruning spared; they vary between runs that give the same
// plan.
type Timings struct {
	// SearchS is the time of the analytic search, RerankS the time spent
	// in the re-ranking engine.
	SearchS                float64 `json:"search_s"`
	RerankS                float64 `json:"rerank_s"`
	AnalyticCandidatesPerS float64 `json:"analytic_candidates_per_s"`
	RerankPerS             float64 `json:"reranks_per_s"`
	// CandidatesPruned is the sum of the spaces' Pruned: of the
	// candidates evaluated, those whose step a lower bound spared.
	CandidatesPruned int `json:"candidates_pruned,omitempty"`
}

// Plan is the Explorer's answer for one job.
type Plan struct {
	Model     string `json:"model"`
	GPU       string `json:"gpu"`
	GPUs      int    `json:"gpus"`
	Precision string `json:"precision"`
	// SiteLevel names the outermost cross-site level ("" if none).
	SiteLevel string `json:"site_level"`
	// Engine names the engines: "analytic" or "analytic, re-ranked by event".
	Engine              string         `json:"engine"`
	Best                *Choice        `json:"best"`
	Baselines           Baselines      `json:"baselines"`
	SpeedupVsProduction float64        `json:"speedup_vs_production"`
	SpeedupVsPriorArt   float64        `json:"speedup_vs_prior_art"`
	CandidatesEvaluated int            `json:"candidates_evaluated"`
	Spaces              []SpaceSummary `json:"spaces"`
	Top                 []Ranked       `json:"top"`
	Pareto              []ParetoPoint  `json:"pareto"`
	Explanation         []string       `json:"explanation"`
	// Notes lists what the search had to skip.
	Notes       []string `json:"notes"`
	Assumptions []string `json:"assumptions"`
	ElapsedS    float64  `json:"elapsed_s"`
	Timings     Timings  `json:"timings"`
}

// ZeroTimings clears the wall-clock fields and the pruned counts, leaving
// what is deterministic.
func (p *Plan) ZeroTimings() {
	p.ElapsedS = 0
	p.Timings = Timings{}
	for i := range p.Spaces {
		p.Spaces[i].ElapsedS = 0
		p.Spaces[i].Pruned = 0
	}
}

// RerankLimitFactor bounds the re-ranking at this many times TopK
// candidates per space.
const RerankLimitFactor = 4

// TopListed is how many entries of the explorer's ranking the plan lists.
const TopListed = 10

// Finish ranks the states of a completed search, re-ranks the top K of
// each space, picks the best of each and explains the winner. The states'
// record lists are sorted in place into the final ranking.
func (b *Base) Finish(spaces []*Space, states []*State, opt *Options) (*Plan, error) {
	if len(spaces) != len(states) {
		return nil, fmt.Errorf("finish: %d spaces but %d states", len(spaces), len(states))
	}
	rerank := opt.Rerank
	engine := opt.RerankEngine
	if rerank == nil {
		rerank, engine = train.Analytic, "analytic"
	}
	p := &Plan{
		Model: b.Template.Model.ID, GPU: b.Template.GPU.ID, GPUs: b.Template.GPUs,
		Precision: string(b.Template.Precision), Engine: "analytic",
	}
	if engine != "analytic" && opt.topK() > 0 {
		p.Engine = "analytic, top " + fmt.Sprint(opt.topK()) + " of each space re-ranked by " + engine
	}
	if l := b.SiteLevel(); l >= 0 {
		p.SiteLevel = b.Template.Topology.Levels[l].Name
	}
	rerankTime := 0.0 // seconds inside the re-ranking engine
	reranks := 0
	var best [3]*Choice
	for k, st := range states {
		s := spaces[k]
		if st.Space != s.Name || !st.Done {
			return nil, fmt.Errorf("finish: space %s is not fully searched", s.Name)
		}
		rank(st.Records)
		final := make(map[int]float64) // index -> re-ranked step time
		// Re-rank the top K; then keep going down the analytic ranking
		// while the next candidate's analytic time still beats the best
		// re-ranked time (the engines can disagree), up to 4K in all.
		kk := 0
		bestFinal := math.Inf(1)
		limit := min(RerankLimitFactor*opt.topK(), len(st.Records))
		for kk < limit && (kk < opt.topK() || st.Records[kk].StepTimeS < bestFinal) {
			r := st.Records[kk]
			kk++
			t0 := opt.now()
			res, err := rerank(b.Config(r.Candidate))
			rerankTime += opt.now().Sub(t0).Seconds()
			if err != nil && !badInput(err) {
				return nil, fmt.Errorf("re-ranking %s candidate %d (%s): %w", s.Name, r.Index, r.Candidate, err)
			}
			reranks++
			if err != nil {
				// The re-ranking engine cannot run this candidate (e.g. a
				// schedule it builds differently): it drops to the end.
				final[r.Index] = math.Inf(1)
				p.Notes = append(p.Notes, fmt.Sprintf("%s candidate %d (%s) dropped from the re-ranked top: %s: %v", s.Name, r.Index, r.Candidate, engine, err))
			} else if res.Feasible && finite(res.StepTimeS) && res.StepTimeS > 0 {
				final[r.Index] = res.StepTimeS
				bestFinal = min(bestFinal, res.StepTimeS)
			} else {
				final[r.Index] = math.Inf(1)
			}
		}
		if kk == limit && kk < len(st.Records) && st.Records[kk].StepTimeS < bestFinal && kk > 0 {
			p.Notes = append(p.Notes, fmt.Sprintf("%s: re-ranking stopped at %d candidates while analytic times (%.3f s) were still below the best re-ranked time (%.3f s); the engines disagree there", s.Name, kk, st.Records[kk].StepTimeS, bestFinal))
		}
		top := st.Records[:kk]
		slices.SortStableFunc(top, func(a, c Record) int {
			if d := cmp.Compare(final[a.Index], final[c.Index]); d != 0 {
				return d
			}
			return cmp.Compare(a.Index, c.Index)
		})
		p.Spaces = append(p.Spaces, SpaceSummary{
			Name: s.Name, Description: s.Description, Candidates: st.Candidates, Evaluated: st.Evaluated,
			Feasible: max(st.Feasible, len(st.Records)), Reranked: kk, ElapsedS: st.ElapsedS, Pruned: st.Pruned,
		})
		p.CandidatesEvaluated += st.Evaluated
		p.Timings.CandidatesPruned += st.Pruned
		if len(st.Records) == 0 || kk > 0 && math.IsInf(final[st.Records[0].Index], 1) {
			if s.Name == PriorArtSpace && s.OuterSite != "" {
				lv := b.Template.Topology.Levels[b.SiteLevel()]
				p.Notes = append(p.Notes, fmt.Sprintf("no prior-art configuration fits: its definition splits the pipeline across the sites (pp alone crosses %q, %d units), and none of its %d candidates with that layout fits in memory; the baseline is left out rather than changed to pure data parallelism across sites (pp 1)", lv.Name, lv.Size, st.Candidates))
			}
			continue
		}
		c, err := b.choice(s.Name, st.Records[0], 1, kk > 0, rerank, engine)
		if err != nil {
			return nil, err
		}
		best[k] = c
		if s.Name == ExplorerSpace {
			p.Top = topList(st.Records, kk, final, engine, bestFinal)
			p.Pareto = pareto(finalTimes(st.Records, kk, final, bestFinal), engine, b.Template.GPU.UsableGiB())
		}
	}
	p.Best = best[0]
	if len(best) > 2 {
		p.Baselines = Baselines{Production: best[1], PriorArt: best[2]}
	}
	// A baseline's variant that also belongs to the explorer's space is an
	// explorer candidate too: when the re-ranking engine prices it below
	// the explorer's re-ranked best (the analytic ranking put it lower),
	// it is the explorer's answer, and rank 1 of its list. Of several such
	// variants the fastest wins.
	from := -1
	for k := 1; k < len(best) && len(spaces) > 0; k++ {
		c := best[k]
		if c == nil || p.Best == nil || c.StepTimeS >= p.Best.StepTimeS || !b.inSpace(spaces[0], c.Candidate) {
			continue
		}
		w := *c
		w.Rank = 1
		p.Best = &w
		from = k
	}
	if from > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("the %s baseline's variant belongs to the explorer's space and the %s engine prices it below the explorer's re-ranked top; it is the best plan (the analytic ranking had placed it lower)", spaces[from].Name, p.Best.Engine))
		top := append([]Ranked{{Index: p.Best.Index, Space: p.Best.Space, Config: p.Best.Candidate.String(), StepTimeS: p.Best.StepTimeS, Engine: p.Best.Engine, MemoryGiB: p.Best.MemoryGiBPerGPU}}, p.Top...)
		p.Top = top[:min(TopListed, len(top))]
		for i := range p.Top {
			p.Top[i].Rank = i + 1
		}
	}
	rs := rerankTime
	p.Timings.RerankS = rs
	if rs > 0 {
		p.Timings.RerankPerS = float64(reranks) / rs
	}
	for _, st := range states {
		p.Timings.SearchS += st.ElapsedS
	}
	p.ElapsedS = p.Timings.SearchS + p.Timings.RerankS
	if p.Timings.SearchS > 0 {
		p.Timings.AnalyticCandidatesPerS = float64(p.CandidatesEvaluated) / p.Timings.SearchS
	}
	if p.Best != nil {
		if c := p.Baselines.Production; c != nil {
			p.SpeedupVsProduction = c.StepTimeS / p.Best.StepTimeS
		}
		if c := p.Baselines.PriorArt; c != nil {
			p.SpeedupVsPriorArt = c.StepTimeS / p.Best.StepTimeS
		}
	}
	p.Explanation = b.explain(p)
	if p.Notes == nil {
		p.Notes = []string{}
	}
	p.Assumptions = b.assumptions(spaces)
	return p, nil
}

// topList is the explorer's listed ranking, ordered by each candidate's
// final time: the re-ranking engine's for the first kk records (already
// sorted by it), the analytic time for the rest, so that the list's
// rank 1 is the plan's best and the engine of every time is named.
// Candidates the re-ranking engine dropped are not listed, nor, when the
// re-ranking stopped at its limit, unranked ones whose analytic time
// undercuts the best re-ranked time (the note says so): listing them
// would put an unverified time above the best.
func topList(recs []Record, kk int, final map[int]float64, engine string, bestFinal float64) []Ranked {
	var out []Ranked
	for i, r := range recs[:min(len(recs), kk+TopListed)] {
		e, t := "analytic", r.StepTimeS
		if i < kk {
			e, t = engine, final[r.Index]
		} else if kk > 0 && t < bestFinal {
			continue
		}
		if math.IsInf(t, 0) {
			continue
		}
		out = append(out, Ranked{Index: r.Index, Space: ExplorerSpace, Config: r.Candidate.String(), StepTimeS: t, Engine: e, MemoryGiB: r.MemoryGiB})
	}
	slices.SortStableFunc(out, func(a, c Ranked) int { return cmp.Compare(a.StepTimeS, c.StepTimeS) })
	out = out[:min(TopListed, len(out))]
	for i := range out {
		out[i].Rank = i + 1
	}
	return out
}

// choice prices the record in full with the final engine.
func (b *Base) choice(space string, r Record, rankPos int, reranked bool, rerank func(*train.Config) (train.Result, error), engine string) (*Choice, error) {
	cfg := b.Config(r.Candidate)
	res, err := train.Analytic(cfg)
	if err != nil {
		return nil, fmt.Errorf("pricing %s: %w", r.Candidate, err)
	}
	analytic := res.StepTimeS
	e := "analytic"
	if reranked && engine != "analytic" {
		if res, err = rerank(cfg); err != nil {
			return nil, fmt.Errorf("re-ranking %s: %w", r.Candidate, err)
		}
		e = engine
	}
	c := &Choice{
		Rank: rankPos, Index: r.Index, Space: space, Candidate: r.Candidate, StepTimeS: res.StepTimeS, AnalyticStepTimeS: analytic,
		Engine: e, MFU: res.MFU, TokensPerSPerGPU: res.TokensPerSPerGPU, ModelTFLOPsPerGPU: res.ModelTFLOPsPerGPU,
		MemoryGiBPerGPU: res.MemoryGiBPerGPU, MemoryHeadroomGiB: res.Memory.Capacity - res.MemoryGiBPerGPU,
		MicroBatches: res.MicroBatches, Breakdown: res.Breakdown, CrossSite: []string{}, SiteTraffic: []train.LevelTraffic{},
	}
	if l := b.SiteLevel(); l >= 0 {
		lay, err := cfg.Layout()
		if err != nil {
			return nil, fmt.Errorf("laying out %s: %w", r.Candidate, err)
		}
		for _, d := range []topology.Dim{topology.TP, topology.CP, topology.PP, topology.DP, topology.EP} {
			if s, ok := lay.Spans[d]; ok && l < len(s.Factors) && s.Factors[l] > 1 {
				c.CrossSite = append(c.CrossSite, string(d))
			}
		}
		name := b.Template.Topology.Levels[l].Name
		for _, t := range res.Levels {
			if t.Level == name && t.Bytes > 0 {
				c.SiteTraffic = append(c.SiteTraffic, t)
			}
		}
	}
	return c, nil
}

// pareto returns the records no other beats on both step time and memory
// headroom, by increasing step time.
func pareto(recs []finalRecord, engine string, capacity float64) []ParetoPoint {
	byTime := slices.Clone(recs)
	slices.SortStableFunc(byTime, func(a, c finalRecord) int {
		if d := cmp.Compare(a.StepTimeS, c.StepTimeS); d != 0 {
			return d
		}
		return cmp.Compare(a.Index, c.Index)
	})
	var out []ParetoPoint
	bestHeadroom := math.Inf(-1)
	for _, r := range byTime {
		h := capacity - r.MemoryGiB
		if h > bestHeadroom {
			bestHeadroom = h
			e := "analytic"
			if r.reranked {
				e = engine
			}
			out = append(out, ParetoPoint{Index: r.Index, Config: r.Candidate.String(), StepTimeS: r.StepTimeS, MemoryHeadroomGiB: h, Engine: e})
		}
	}
	return out
}

// finalRecord is a record with its final time, and whether that time is
// the re-ranking engine's.
type finalRecord struct {
	Record
	reranked bool
}

// finalTimes returns the records with each one's final time, as the top
// list ranks them: the re-ranking engine's for the first kk, the analytic
// one for the rest. Candidates the re-ranking engine dropped, and unranked
// ones whose analytic time undercuts the best re-ranked time (re-ranking
// stopped at its limit), are left out, so that the Pareto front starts at
// the plan's best rather than below it.
func finalTimes(recs []Record, kk int, final map[int]float64, bestFinal float64) []finalRecord {
	out := make([]finalRecord, 0, len(recs))
	for i, r := range recs {
		if i < kk {
			r.StepTimeS = final[r.Index]
		} else if kk > 0 && r.StepTimeS < bestFinal {
			continue
		}
		if math.IsInf(r.StepTimeS, 0) {
			continue
		}
		out = append(out, finalRecord{r, i < kk})
	}
	return out
}

// explain says why the winner beats each baseline: which dimension
// crosses sites and what that costs, and which parts of the step differ.
func (b *Base) explain(p *Plan) []string {
	var out []string
	if p.Best == nil {
		return out
	}
	l := b.SiteLevel()
	if l < 0 {
		out = append(out, "the topology has no cross-site level (give system.topology with buildings or regions), so placement only orders dimensions inside one site")
	} else {
		lv := b.Template.Topology.Levels[l]
		out = append(out, fmt.Sprintf("cross-site level %q: %d units, %g Gb/s per GPU, %.0f us one way%s%s",
			lv.Name, lv.Size, lv.BandwidthGbps, b.Template.Topology.OneWayLatencyS(l)*1e6, capText(lv), transportText(lv)))
		for _, x := range []struct {
			name string
			c    *Choice
		}{{"best", p.Best}, {"production", p.Baselines.Production}, {"prior art", p.Baselines.PriorArt}} {
			if x.c == nil {
				continue
			}
			out = append(out, fmt.Sprintf("%s: %s %s; %s", x.name, dimsText(x.c.CrossSite), lv.Name, trafficText(x.c.SiteTraffic)))
		}
	}
	for _, x := range []struct {
		name string
		c    *Choice
	}{{"production", p.Baselines.Production}, {"prior art", p.Baselines.PriorArt}} {
		if x.c == nil {
			out = append(out, fmt.Sprintf("no %s variant fits in memory", x.name))
			continue
		}
		out = append(out, fmt.Sprintf("vs %s (%.3f s, best %.3f s, %s): %s", x.name, x.c.StepTimeS, p.Best.StepTimeS, pct(x.c.StepTimeS/p.Best.StepTimeS), diffText(x.c, p.Best)))
	}
	return out
}

func capText(l topology.Level) string {
	if l.LinkCapacityGbps > 0 {
		return fmt.Sprintf(", %g Tb/s trunk per unit", l.LinkCapacityGbps/1000)
	}
	return ""
}

func transportText(l topology.Level) string {
	if l.Transport != "" {
		return ", transport " + l.Transport
	}
	return ""
}

func dimsText(d []string) string {
	if len(d) == 0 {
		return "no dimension crosses"
	}
	return strings.Join(d, "+") + " crosses"
}

func trafficText(ts []train.LevelTraffic) string {
	if len(ts) == 0 {
		return "no traffic crosses it"
	}
	var parts []string
	for _, t := range ts {
		parts = append(parts, fmt.Sprintf("%s sends %s per GPU per step over it (%.3f s of transfers, %d groups)", t.Dim, bytesText(t.Bytes), t.TimeS, t.Groups))
	}
	return strings.Join(parts, "; ")
}

func bytesText(v float64) string {
	switch {
	case v >= 1<<30:
		return fmt.Sprintf("%.2f GiB", v/(1<<30))
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	}
	return fmt.Sprintf("%.0f KiB", v/(1<<10))
}

func pct(speedup float64) string {
	return fmt.Sprintf("%.2fx, %+.1f%%", speedup, 100*(speedup-1))
}

// diffText names the parts of the step where the baseline loses most,
// and the design choices that differ.
func diffText(base, best *Choice) string {
	type part struct {
		name string
		d    float64
	}
	bb, wb := base.Breakdown, best.Breakdown
	parts := []part{
		{"compute", bb.ComputeS - wb.ComputeS}, {"tp comm", bb.TPCommS - wb.TPCommS}, {"cp comm", bb.CPCommS - wb.CPCommS},
		{"ep comm", bb.EPCommS - wb.EPCommS}, {"pp comm", bb.PPCommS - wb.PPCommS}, {"dp comm", bb.DPCommS - wb.DPCommS},
		{"bubble", bb.BubbleS - wb.BubbleS}, {"optimizer", bb.OptimizerS - wb.OptimizerS},
	}
	slices.SortStableFunc(parts, func(a, b part) int { return cmp.Compare(b.d, a.d) })
	var gains []string
	for _, x := range parts[:3] {
		if x.d > 0.0005*base.StepTimeS {
			gains = append(gains, fmt.Sprintf("%s %.3f s less", x.name, x.d))
		}
	}
	var changes []string
	bc, wc := base.Candidate, best.Candidate
	add := func(name, from, to string) {
		if from != to {
			changes = append(changes, fmt.Sprintf("%s %s instead of %s", name, to, from))
		}
	}
	add("placement", bc.Placement, wc.Placement)
	add("schedule", bc.Schedule, wc.Schedule)
	add("degrees", fmt.Sprintf("tp%d cp%d pp%d vp%d ep%d dp%d", bc.TP, bc.CP, bc.PP, bc.VP, bc.EP, bc.DP), fmt.Sprintf("tp%d cp%d pp%d vp%d ep%d dp%d", wc.TP, wc.CP, wc.PP, wc.VP, wc.EP, wc.DP))
	add("micro-batch", fmt.Sprint(bc.MicroBatch), fmt.Sprint(wc.MicroBatch))
	add("zero", fmt.Sprint(bc.Zero), fmt.Sprint(wc.Zero))
	add("recompute", string(bc.Recompute), string(wc.Recompute))
	// An empty choice is the default: the native transport, hierarchical collectives.
	add("transport", orName(bc.Technology, network.Native), orName(wc.Technology, network.Native))
	add("collectives", orName(bc.Collective, string(network.Hierarchical)), orName(wc.Collective, string(network.Hierarchical)))
	s := "the step shares out the same way"
	if len(gains) > 0 {
		s = strings.Join(gains, ", ")
	}
	if len(changes) > 0 {
		s += " (" + strings.Join(changes, "; ") + ")"
	}
	return s
}

// orName is s, or def when s is empty.
func orName(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// assumptions lists what the plan assumed.
func (b *Base) assumptions(spaces []*Space) []string {
	out := slices.Clone(b.Assumptions)
	out = append(out,
		"speed-ups are ratios of predicted step times (baseline / best) from the step model; nothing was measured",
		"each baseline is the best variant inside its own space, searched with the same model: "+spaceText(spaces),
		"pp splits are even: only pp and vp where "+parallel.SplitRule+" are searched (parallel.SplitLayers); other pp*vp, which simulate splits by Megatron-Core's embedding and loss slots (parallel.SpreadSlots), and uneven splits (parallel.layers_per_stage, parallel.pipeline_layout) are not searched",
		"sequence parallelism is on whenever tp > 1 and seq_len/cp divides by tp",
	)
	if b.Job.Parallel.SP != nil {
		out = append(out, "parallel.sp is ignored by plan: the Explorer chooses it")
	}
	if b.techFixed() {
		out = append(out, "the spec fixes the cross-site transport, so every space uses it")
	}
	return out
}

func spaceText(spaces []*Space) string {
	var parts []string
	for _, s := range spaces {
		if s.Name != ExplorerSpace {
			parts = append(parts, s.Name+" = "+s.Description)
		}
	}
	return strings.Join(parts, "; ")
}

// badInput reports whether err is a bad-input error (exit code 2).
func badInput(err error) bool {
	return errors.Is(err, fault.ErrBadInput)
}

// inSpace reports whether candidate c (from another space) is a member of
// s: every value is allowed and some placement of s lays the groups out
// the same way.
func (b *Base) inSpace(s *Space, c Candidate) bool {
	if !slices.Contains(s.TP, c.TP) || !slices.Contains(s.CP, c.CP) || !slices.Contains(s.PP, c.PP) || !slices.Contains(s.VP, c.VP) ||
		!slices.Contains(s.EP, c.EP) || (s.DP != 0 && s.DP != c.DP) || !slices.Contains(s.Zero, c.Zero) || !slices.Contains(s.MicroBatch, c.MicroBatch) ||
		!slices.Contains(s.Recompute, c.Recompute) || !slices.Contains(s.Schedules, c.Schedule) {
		return false
	}
	// "" is the topology's own transport: native unless the spec fixed one.
	if !slices.Contains(s.Technologies, c.Technology) && !(c.Technology == "" && (b.techFixed() || slices.Contains(s.Technologies, network.Native))) {
		return false
	}
	t := b.Template.Topology
	deg := map[topology.Dim]int{topology.TP: c.TP, topology.CP: c.CP, topology.PP: c.PP, topology.DP: c.DP, topology.EP: c.EP}
	lay, err := topology.Place(t, c.PlacementDims(), deg)
	if err != nil {
		return false
	}
	if !slices.Contains(s.Collectives, c.Collective) && !(c.Collective == "" && slices.Contains(s.Collectives, "")) {
		// With no collective group across the sites the algorithm changes
		// nothing and the space tries only its first.
		if collectivesCross(t, lay) {
			return false
		}
	}
	if s.CrossSite != "" && topology.CheckCrossSite(t, lay, s.CrossSite, deg[s.CrossSite]) != nil {
		return false
	}
	if !b.outerSiteOK(s, lay) {
		return false
	}
	key := layoutKey(lay)
	for _, pl := range s.Placements {
		if l, err := topology.Place(t, pl, deg); err == nil && layoutKey(l) == key {
			return true
		}
	}
	return false
}
