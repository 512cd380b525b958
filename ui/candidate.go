package ui

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/scaleacross/scaleacross/explore"
	"github.com/scaleacross/scaleacross/report"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/store"
	"github.com/scaleacross/scaleacross/timeline"
	"github.com/scaleacross/scaleacross/train"
)

// CandidatePage is one stored candidate simulated in full: the result of
// `scaleacross simulate` on its job spec, the traffic per level and the
// event timeline.
type CandidatePage struct {
	Study     int64             `json:"study"`
	StudyName string            `json:"study_name"`
	Space     string            `json:"space"`
	Index     int               `json:"index"`
	Candidate explore.Candidate `json:"candidate"`
	Config    string            `json:"config"`
	// Stored is what the search stored: the analytic step time, MFU and
	// memory.
	Stored explore.Record `json:"stored"`
	// Engine is the engine of Result; Note says why it is not the event
	// engine when it is not.
	Engine string       `json:"engine"`
	Note   string       `json:"note,omitempty"`
	Result train.Result `json:"result"`
	// Stages is the number of pipeline stages (rows of the Gantt chart).
	Stages int `json:"stages"`
	// Spec is the job spec that reproduces the result with
	// `scaleacross simulate --engine event -f spec.yaml`.
	Spec         string        `json:"spec"`
	Links        candLinks     `json:"links"`
	BreakdownSVG template.HTML `json:"-"`
	MemorySVG    template.HTML `json:"-"`
	GanttSVG     template.HTML `json:"-"`
}

// candLinks are the pages and files of one candidate.
type candLinks struct {
	Study   string `json:"study"`
	Trace   string `json:"trace"`
	Spec    string `json:"spec"`
	WhatIf  string `json:"whatif"`
	Compare string `json:"compare"`
}

// Title names the page.
func (p CandidatePage) Title() string {
	return fmt.Sprintf("Study %d, %s candidate %d", p.Study, p.Space, p.Index)
}

// candidateRef is a loaded candidate: its study and stored record.
type candidateRef struct {
	study store.Study
	plan  *explore.Plan
	space string
	rec   explore.Record
}

func (c candidateRef) link() string { return candidateLink(c.study.ID, c.space, c.rec.Index) }

// loadCandidate reads the study and candidate named by the path values.
func (s *Server) loadCandidate(r *http.Request) (candidateRef, error) {
	st, plan, err := s.loadStudy(r)
	if err != nil {
		return candidateRef{}, err
	}
	return s.candidateOf(r, st, plan, r.PathValue("space"), r.PathValue("index"))
}

func (s *Server) candidateOf(r *http.Request, st store.Study, plan *explore.Plan, space, index string) (candidateRef, error) {
	switch space {
	case explore.ExplorerSpace, explore.ProductionSpace, explore.PriorArtSpace:
	default:
		return candidateRef{}, notFound("no space %q in study %d: want explorer, production or prior_art", space, st.ID)
	}
	i, err := strconv.Atoi(index)
	if err != nil || i < 0 {
		return candidateRef{}, notFound("no candidate %q in study %d: candidate indices are non-negative integers", index, st.ID)
	}
	rec, err := s.db.Record(r.Context(), st.ID, space, i)
	if err != nil {
		return candidateRef{}, err
	}
	return candidateRef{study: st, plan: plan, space: space, rec: rec}, nil
}

// simulateCandidate runs the candidate's job spec with the event engine.
func simulateCandidate(c candidateRef) (*spec.Job, *simulation, error) {
	j, err := candidateJob(c.study.Spec, c.rec.Candidate)
	if err != nil {
		return nil, nil, err
	}
	sim, err := simulate(j, train.EngineEvent)
	if err != nil {
		return nil, nil, fmt.Errorf("simulating %s candidate %d of study %d: %w", c.space, c.rec.Index, c.study.ID, err)
	}
	return j, sim, nil
}

func (s *Server) candidatePage(r *http.Request) (any, error) {
	c, err := s.loadCandidate(r)
	if err != nil {
		return nil, err
	}
	j, sim, err := simulateCandidate(c)
	if err != nil {
		return nil, err
	}
	text, err := jobYAML(j)
	if err != nil {
		return nil, err
	}
	link := c.link()
	p := CandidatePage{
		Study: c.study.ID, StudyName: c.study.Name, Space: c.space, Index: c.rec.Index, Candidate: c.rec.Candidate,
		Config: c.rec.Candidate.String(), Stored: c.rec, Engine: sim.Engine, Note: sim.Note, Result: sim.Result,
		Stages: sim.Config.Parallel.PP, Spec: text,
		Links: candLinks{Study: fmt.Sprintf("/studies/%d", c.study.ID), Trace: link + "/trace.json", Spec: link + "/spec.yaml", WhatIf: link + "/whatif"},
	}
	if c.plan != nil && c.plan.Best != nil && c.plan.Best.Index >= 0 {
		p.Links.Compare = fmt.Sprintf("/compare?a=%s&b=%s", refOf(candidateLink(c.study.ID, bestSpace(c.plan), c.plan.Best.Index)), refOf(link))
	}
	if p.BreakdownSVG, err = svg(report.StackedBars{Title: "step breakdown (exposed time)", Parts: breakdownParts(), Unit: "s",
		Bars: []report.Bar{{Label: "this plan", Values: breakdownValues(sim.Result.Breakdown)}}}, 760); err != nil {
		return nil, err
	}
	m := sim.Result.Memory
	if p.MemorySVG, err = svg(report.StackedBars{Title: "memory per GPU", Parts: memoryParts(), Unit: "GiB", Limit: m.Capacity,
		LimitLabel: fmt.Sprintf("usable memory %.1f GiB", m.Capacity), Bars: []report.Bar{{Label: "this plan", Values: memoryValues(m)}}}, 760); err != nil {
		return nil, err
	}
	if sim.Timeline != nil {
		var b strings.Builder
		if err := timeline.WriteStageGanttSVG(&b, sim.Timeline, 1100); err != nil {
			return nil, err
		}
		p.GanttSVG = template.HTML(b.String())
	}
	return p, nil
}

// traceFile answers the candidate's event timeline as Chrome Trace Event
// JSON (Perfetto), as a download.
func (s *Server) traceFile(w http.ResponseWriter, r *http.Request) {
	c, err := s.loadCandidate(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, sim, err := simulateCandidate(c)
	if err == nil && sim.Timeline == nil {
		err = badRequest("no event timeline: %s", sim.Note)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b strings.Builder
	if err := timeline.WriteChromeTrace(&b, sim.Timeline); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="study%d-%s-%d-trace.json"`, c.study.ID, c.space, c.rec.Index))
	_, _ = w.Write([]byte(b.String()))
}

// specFile answers the candidate's job spec as YAML.
func (s *Server) specFile(w http.ResponseWriter, r *http.Request) {
	c, err := s.loadCandidate(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	j, err := candidateJob(c.study.Spec, c.rec.Candidate)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	text, err := jobYAML(j)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="study%d-%s-%d.yaml"`, c.study.ID, c.space, c.rec.Index))
	_, _ = w.Write([]byte(text))
}
