package ui

import (
	"cmp"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"

	"gonum.org/v1/plot"

	"github.com/scaleacross/scaleacross/explore"
	"github.com/scaleacross/scaleacross/report"
	"github.com/scaleacross/scaleacross/store"
	"github.com/scaleacross/scaleacross/train"
)

// listedCandidates is how many of the explorer's candidates a study page
// lists.
const listedCandidates = 25

// PlanColumn is one of the three plans a study compares: the best, the
// production baseline and the prior-art baseline.
type PlanColumn struct {
	Name   string          `json:"name"`
	Space  string          `json:"space"`
	Link   string          `json:"link"`
	Choice *explore.Choice `json:"choice"`
	Config string          `json:"config"`
	// Speedup is this baseline's step time over the best's (0 for the best).
	Speedup float64 `json:"speedup"`
	// Memory is the per-GPU memory breakdown (analytic model).
	Memory train.MemoryGiB `json:"memory"`
}

// CandidateRow is one row of a study's ranked candidates.
type CandidateRow struct {
	Rank      int     `json:"rank"`
	Space     string  `json:"space"`
	Index     int     `json:"index"`
	Config    string  `json:"config"`
	StepTimeS float64 `json:"step_time_s"`
	Engine    string  `json:"engine"`
	MFU       float64 `json:"mfu"`
	MemoryGiB float64 `json:"memory_gib_per_gpu"`
	Link      string  `json:"link"`
}

// StudyPage is one study: its status and progress, and once complete the
// best plan against both baselines, the ranked candidates and the Pareto
// front.
type StudyPage struct {
	Study     store.Study     `json:"study"`
	Sites     int             `json:"sites"`
	SiteLevel string          `json:"site_level"`
	Progress  []explore.State `json:"progress"`
	Fraction  float64         `json:"fraction_done"`
	Evaluated int             `json:"evaluated"`
	Plan      *explore.Plan   `json:"plan"`
	Plans     []PlanColumn    `json:"plans"`
	Sort      string          `json:"sort"`
	Desc      bool            `json:"desc"`
	// Candidates are the explorer's ranked candidates: the plan's top
	// list with its engines, then the analytic ranking.
	Candidates []CandidateRow `json:"candidates"`
	// CompareLink compares the best with the production baseline.
	CompareLink  string        `json:"compare_link"`
	BreakdownSVG template.HTML `json:"-"`
	MemorySVG    template.HTML `json:"-"`
	ParetoSVG    template.HTML `json:"-"`
}

// Title names the page.
func (p StudyPage) Title() string { return fmt.Sprintf("Study %d", p.Study.ID) }

func candidateLink(study int64, space string, index int) string {
	return fmt.Sprintf("/studies/%d/%s/%d", study, space, index)
}

func (s *Server) studyPage(r *http.Request) (any, error) {
	st, plan, err := s.loadStudy(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	p := StudyPage{Study: st, Plan: plan, Sort: q.Get("sort"), Desc: q.Get("desc") == "1", Plans: []PlanColumn{}}
	if p.Sort == "" {
		p.Sort = "rank"
	}
	p.Sites, p.SiteLevel = sitesOf(st.Spec)
	if p.Progress, err = s.db.Progress(r.Context(), st.ID); err != nil {
		return nil, err
	}
	if p.Progress == nil {
		p.Progress = []explore.State{}
	}
	p.Evaluated, p.Fraction = progressOf(st, p.Progress)
	if err := s.rankedCandidates(r, &p); err != nil {
		return nil, err
	}
	if plan == nil {
		return p, nil
	}
	if err := s.planColumns(r, &p); err != nil {
		return nil, err
	}
	if err := p.charts(); err != nil {
		return nil, err
	}
	return p, nil
}

// rankedCandidates fills the candidates table: the plan's top list (with
// the engine that ranked each), then the rest of the stored analytic
// ranking, sorted as asked.
func (s *Server) rankedCandidates(r *http.Request, p *StudyPage) error {
	id := p.Study.ID
	recs, err := s.db.Fastest(r.Context(), id, explore.ExplorerSpace, listedCandidates)
	if err != nil {
		return err
	}
	rows := []CandidateRow{}
	seen := map[int]bool{}
	mfu := map[int]float64{}
	for _, rec := range recs {
		mfu[rec.Index] = rec.MFU
	}
	if p.Plan != nil {
		for _, t := range p.Plan.Top {
			space := cmp.Or(t.Space, explore.ExplorerSpace)
			if space == explore.ExplorerSpace {
				seen[t.Index] = true
			}
			rows = append(rows, CandidateRow{Rank: t.Rank, Space: space, Index: t.Index, Config: t.Config, StepTimeS: t.StepTimeS,
				Engine: t.Engine, MFU: mfu[t.Index], MemoryGiB: t.MemoryGiB, Link: candidateLink(id, space, t.Index)})
		}
	}
	for _, rec := range recs {
		if seen[rec.Index] || len(rows) >= listedCandidates {
			continue
		}
		rows = append(rows, CandidateRow{Rank: len(rows) + 1, Space: explore.ExplorerSpace, Index: rec.Index, Config: rec.Candidate.String(),
			StepTimeS: rec.StepTimeS, Engine: train.EngineAnalytic, MFU: rec.MFU, MemoryGiB: rec.MemoryGiB, Link: candidateLink(id, explore.ExplorerSpace, rec.Index)})
	}
	sorts := map[string]func(a, b CandidateRow) int{
		"rank":   func(a, b CandidateRow) int { return cmp.Compare(a.Rank, b.Rank) },
		"step":   func(a, b CandidateRow) int { return cmp.Compare(a.StepTimeS, b.StepTimeS) },
		"mfu":    func(a, b CandidateRow) int { return cmp.Compare(a.MFU, b.MFU) },
		"memory": func(a, b CandidateRow) int { return cmp.Compare(a.MemoryGiB, b.MemoryGiB) },
		"engine": func(a, b CandidateRow) int { return cmp.Compare(a.Engine, b.Engine) },
		"config": func(a, b CandidateRow) int { return cmp.Compare(a.Config, b.Config) },
	}
	by, ok := sorts[p.Sort]
	if !ok {
		return badRequest("sort: want one of rank, step, mfu, memory, engine, config; got %q", p.Sort)
	}
	slices.SortStableFunc(rows, func(a, b CandidateRow) int {
		c := by(a, b)
		if c == 0 {
			c = cmp.Compare(a.Rank, b.Rank)
		}
		if p.Desc {
			return -c
		}
		return c
	})
	p.Candidates = rows
	return nil
}

// planColumns fills the best, production and prior-art columns with
// their links and memory breakdowns.
func (s *Server) planColumns(r *http.Request, p *StudyPage) error {
	plan := p.Plan
	for _, x := range []struct {
		name, space string
		c           *explore.Choice
		speedup     float64
	}{
		{"best", bestSpace(plan), plan.Best, 0},
		{"production", explore.ProductionSpace, plan.Baselines.Production, plan.SpeedupVsProduction},
		{"prior art", explore.PriorArtSpace, plan.Baselines.PriorArt, plan.SpeedupVsPriorArt},
	} {
		if x.c == nil {
			continue
		}
		col := PlanColumn{Name: x.name, Space: x.space, Choice: x.c, Config: x.c.Candidate.String(), Speedup: x.speedup}
		space, index, err := s.locate(r, p.Study.ID, x.space, x.c)
		if err != nil {
			return err
		}
		col.Space = space
		col.Link = candidateLink(p.Study.ID, space, index)
		j, err := candidateJob(p.Study.Spec, x.c.Candidate)
		if err != nil {
			return err
		}
		sim, err := simulate(j, train.EngineAnalytic)
		if err != nil {
			return fmt.Errorf("%s plan of study %d: %w", x.name, p.Study.ID, err)
		}
		col.Memory = sim.Result.Memory
		p.Plans = append(p.Plans, col)
	}
	if len(p.Plans) > 1 {
		p.CompareLink = fmt.Sprintf("/compare?a=%s&b=%s", refOf(p.Plans[0].Link), refOf(p.Plans[1].Link))
	}
	return nil
}

// refOf turns a candidate link into a compare reference "study/space/index".
func refOf(link string) string { return strings.TrimPrefix(link, "/studies/") }

// locate finds where a plan's choice is stored: its own space and index,
// or, for a best plan taken from a baseline (index -1), the baseline
// record with the same candidate.
func (s *Server) locate(r *http.Request, study int64, space string, c *explore.Choice) (string, int, error) {
	if c.Index >= 0 {
		return space, c.Index, nil
	}
	for _, sp := range []string{explore.ProductionSpace, explore.PriorArtSpace} {
		recs, err := s.db.Records(r.Context(), study, sp)
		if err != nil {
			return "", 0, err
		}
		for _, rec := range recs {
			if rec.Candidate == c.Candidate {
				return sp, rec.Index, nil
			}
		}
	}
	return "", 0, fmt.Errorf("study %d: the best plan (%s) is in no stored space", study, c.Candidate)
}

// breakdownParts names the parts of a step breakdown, in order.
func breakdownParts() []string {
	return []string{"compute", "tp comm", "cp comm", "ep comm", "pp comm", "dp comm", "pipeline bubble", "optimizer"}
}

func breakdownValues(b train.Breakdown) []float64 {
	return []float64{b.ComputeS, b.TPCommS, b.CPCommS, b.EPCommS, b.PPCommS, b.DPCommS, b.BubbleS, b.OptimizerS}
}

func memoryParts() []string {
	return []string{"weights", "gradients", "optimizer state", "activations", "reserved/buffers"}
}

func memoryValues(m train.MemoryGiB) []float64 {
	return []float64{m.Weights, m.Gradients, m.Optimizer, m.Activations, m.Buffers}
}

// svg renders a stacked bar chart into page markup.
func svg(c report.StackedBars, width int) (template.HTML, error) {
	var b strings.Builder
	if err := report.WriteStackedBarsSVG(&b, c, width); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil
}

func (p *StudyPage) charts() error {
	steps := report.StackedBars{Title: "step breakdown (exposed time)", Parts: breakdownParts(), Unit: "s"}
	mem := report.StackedBars{Title: "memory per GPU", Parts: memoryParts(), Unit: "GiB"}
	for _, c := range p.Plans {
		steps.Bars = append(steps.Bars, report.Bar{Label: c.Name, Values: breakdownValues(c.Choice.Breakdown)})
		mem.Bars = append(mem.Bars, report.Bar{Label: c.Name, Values: memoryValues(c.Memory)})
		mem.Limit, mem.LimitLabel = c.Memory.Capacity, fmt.Sprintf("usable memory %.1f GiB", c.Memory.Capacity)
	}
	var err error
	if p.BreakdownSVG, err = svg(steps, 760); err != nil {
		return err
	}
	if p.MemorySVG, err = svg(mem, 760); err != nil {
		return err
	}
	if len(p.Plan.Pareto) > 0 {
		var pts [][2]float64
		for _, q := range p.Plan.Pareto {
			pts = append(pts, [2]float64{q.MemoryHeadroomGiB, q.StepTimeS})
		}
		front, err := report.LinePlot("Pareto front: step time vs memory headroom", "memory headroom per GPU (GiB)", "step time (s)", false,
			[]report.Series{{Name: "explorer", Points: pts}})
		if err != nil {
			return err
		}
		if p.ParetoSVG, err = plotSVG(front); err != nil {
			return err
		}
	}
	return nil
}

// plotSVG renders a gonum plot as inline SVG markup (without the XML
// prologue, which has no place inside HTML).
func plotSVG(pl *plot.Plot) (template.HTML, error) {
	data, err := report.Render(pl, "svg")
	if err != nil {
		return "", err
	}
	s := string(data)
	if i := strings.Index(s, "<svg"); i > 0 {
		s = s[i:]
	}
	return template.HTML(s), nil
}

// bestSpace is the space the plan's best comes from: the explorer's, or a
// baseline's whose variant won.
func bestSpace(p *explore.Plan) string {
	if p.Best == nil {
		return explore.ExplorerSpace
	}
	return cmp.Or(p.Best.Space, explore.ExplorerSpace)
}
