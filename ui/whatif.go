package ui

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/scaleacross/scaleacross/explore"
	"github.com/scaleacross/scaleacross/parallel"
	"github.com/scaleacross/scaleacross/schedule"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/train"
)

// WhatIfForm holds the what-if choices: the candidate's degrees,
// schedule, micro-batch and recomputation, the engine, and the outermost
// site level's trunk capacity, per-GPU bandwidth and distance.
type WhatIfForm struct {
	TP         int    `json:"tp"`
	CP         int    `json:"cp"`
	PP         int    `json:"pp"`
	VP         int    `json:"vp"`
	EP         int    `json:"ep"`
	Zero       int    `json:"zero"`
	MicroBatch int    `json:"micro_batch"`
	Schedule   string `json:"schedule"`
	Recompute  string `json:"recompute"`
	Engine     string `json:"engine"`
	// Level names the topology level the network fields change ("" when
	// the spec has no topology); LevelIndex is its index.
	Level         string  `json:"level"`
	LevelIndex    int     `json:"level_index"`
	TrunkGbps     float64 `json:"trunk_gbps"`
	BandwidthGbps float64 `json:"bandwidth_gbps"`
	DistanceKm    float64 `json:"distance_km"`
}

// DiffRow is one quantity before and after the change.
type DiffRow struct {
	Name     string  `json:"name"`
	Original float64 `json:"original"`
	Changed  float64 `json:"changed"`
	// Relative is changed/original - 1 (0 when the original is 0).
	Relative float64 `json:"relative"`
	Unit     string  `json:"unit"`
}

// WhatIfPage is the what-if form of one candidate and, once submitted,
// the re-simulated result against the original.
type WhatIfPage struct {
	Study     int64      `json:"study"`
	Space     string     `json:"space"`
	Index     int        `json:"index"`
	Config    string     `json:"config"`
	Form      WhatIfForm `json:"form"`
	Schedules []string   `json:"schedules"`
	// Submitted is true when the form was run.
	Submitted bool          `json:"submitted"`
	Original  *train.Result `json:"original"`
	Changed   *train.Result `json:"changed"`
	Engine    string        `json:"engine"`
	Notes     []string      `json:"notes"`
	Diff      []DiffRow     `json:"diff"`
	// Spec is the changed job spec (`scaleacross simulate -f` reproduces
	// the changed result from it).
	Spec          string `json:"spec"`
	CandidateLink string `json:"candidate_link"`
}

// Title names the page.
func (p WhatIfPage) Title() string {
	return fmt.Sprintf("What if: study %d, %s candidate %d", p.Study, p.Space, p.Index)
}

// prefill is the form for the candidate as stored.
func prefill(j *spec.Job, c explore.Candidate) WhatIfForm {
	f := WhatIfForm{TP: c.TP, CP: c.CP, PP: c.PP, VP: c.VP, EP: c.EP, Zero: c.Zero, MicroBatch: c.MicroBatch,
		Schedule: c.Schedule, Recompute: string(c.Recompute), Engine: train.EngineEvent, LevelIndex: -1}
	if t := j.System.Topology; t != nil && len(t.Levels) > 0 {
		i := siteLevel(j)
		if i < 0 {
			i = len(t.Levels) - 1
		}
		l := t.Levels[i]
		f.Level, f.LevelIndex, f.TrunkGbps, f.BandwidthGbps, f.DistanceKm = l.Name, i, l.LinkCapacityGbps, l.BandwidthGbps, l.DistanceKm
	}
	return f
}

// parseForm overrides f with the query's values, checking each range;
// the error names the field.
func parseForm(q url.Values, f *WhatIfForm, gpus, globalBatch int) error {
	ints := []struct {
		name   string
		v      *int
		lo, hi int
	}{
		{"tp", &f.TP, 1, gpus}, {"cp", &f.CP, 1, gpus}, {"pp", &f.PP, 1, gpus}, {"vp", &f.VP, 1, 64}, {"ep", &f.EP, 1, gpus},
		{"zero", &f.Zero, 0, 3}, {"micro_batch", &f.MicroBatch, 1, max(globalBatch, 1)},
	}
	for _, x := range ints {
		s := strings.TrimSpace(q.Get(x.name))
		if s == "" {
			continue
		}
		v, err := strconv.Atoi(s)
		if err != nil || v < x.lo || v > x.hi {
			return badRequest("%s: want an integer from %d to %d, got %q", x.name, x.lo, x.hi, s)
		}
		*x.v = v
	}
	floats := []struct {
		name   string
		v      *float64
		lo, hi float64
		open   bool // the lower bound is excluded
	}{
		{"trunk_gbps", &f.TrunkGbps, 0, 1e9, false}, {"bandwidth_gbps", &f.BandwidthGbps, 0, 1e6, true}, {"distance_km", &f.DistanceKm, 0, 40075, false},
	}
	for _, x := range floats {
		s := strings.TrimSpace(q.Get(x.name))
		if s == "" {
			continue
		}
		if f.LevelIndex < 0 {
			return badRequest("%s: the job's spec has no topology levels to change", x.name)
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) || v < x.lo || v > x.hi || (x.open && v == x.lo) {
			lo := "from"
			if x.open {
				lo = "above"
			}
			return badRequest("%s: want a number %s %g to %g, got %q", x.name, lo, x.lo, x.hi, s)
		}
		*x.v = v
	}
	if s := strings.TrimSpace(q.Get("schedule")); s != "" {
		k, err := schedule.ParseKind(s)
		if err != nil {
			return badRequest("%v", err)
		}
		f.Schedule = string(k)
	}
	if s := strings.TrimSpace(q.Get("recompute")); s != "" {
		if _, err := parallel.ParseRecompute(s); err != nil {
			return badRequest("recompute: want none, selective or full, got %q", s)
		}
		f.Recompute = s
	}
	if s := strings.TrimSpace(q.Get("engine")); s != "" {
		if s != train.EngineEvent && s != train.EngineAnalytic {
			return badRequest("engine: want event or analytic, got %q", s)
		}
		f.Engine = s
	}
	return nil
}

// apply builds the changed job: the candidate with the form's choices.
func apply(specText string, c explore.Candidate, f WhatIfForm) (*spec.Job, error) {
	same := c.TP == f.TP && c.CP == f.CP && c.PP == f.PP && c.EP == f.EP
	c.TP, c.CP, c.PP, c.VP, c.EP, c.Zero, c.MicroBatch = f.TP, f.CP, f.PP, f.VP, f.EP, f.Zero, f.MicroBatch
	c.Schedule, c.Recompute = f.Schedule, parallel.Recompute(f.Recompute)
	j, err := candidateJob(specText, c)
	if err != nil {
		return nil, err
	}
	if !same {
		// New degrees: dp follows from the GPU count, sequence
		// parallelism takes its default.
		j.Parallel.DP, j.Parallel.SP = 0, nil
	}
	if f.LevelIndex >= 0 {
		l := &j.System.Topology.Levels[f.LevelIndex]
		l.LinkCapacityGbps, l.BandwidthGbps, l.DistanceKm = f.TrunkGbps, f.BandwidthGbps, f.DistanceKm
	}
	return j, nil
}

func (s *Server) whatIfPage(r *http.Request) (any, error) {
	c, err := s.loadCandidate(r)
	if err != nil {
		return nil, err
	}
	orig, err := candidateJob(c.study.Spec, c.rec.Candidate)
	if err != nil {
		return nil, err
	}
	p := WhatIfPage{Study: c.study.ID, Space: c.space, Index: c.rec.Index, Config: c.rec.Candidate.String(),
		Form: prefill(orig, c.rec.Candidate), Schedules: scheduleNames(), Notes: []string{}, Diff: []DiffRow{}, CandidateLink: c.link()}
	q := r.URL.Query()
	if !q.Has("run") {
		if p.Spec, err = jobYAML(orig); err != nil {
			return nil, err
		}
		return p, nil
	}
	if err := parseForm(q, &p.Form, orig.System.GPUs, orig.Training.GlobalBatch); err != nil {
		return nil, err
	}
	changed, err := apply(c.study.Spec, c.rec.Candidate, p.Form)
	if err != nil {
		return nil, err
	}
	if p.Spec, err = jobYAML(changed); err != nil {
		return nil, err
	}
	before, err := simulate(orig, p.Form.Engine)
	if err != nil {
		return nil, err
	}
	after, err := simulate(changed, p.Form.Engine)
	if err != nil {
		return nil, err
	}
	p.Submitted, p.Original, p.Changed, p.Engine = true, &before.Result, &after.Result, after.Engine
	for _, n := range []string{before.Note, after.Note} {
		if n != "" {
			p.Notes = append(p.Notes, n)
		}
	}
	p.Diff = diffRows(before.Result, after.Result)
	return p, nil
}

// diffRows lists the headline quantities and the step breakdown of two
// results.
func diffRows(a, b train.Result) []DiffRow {
	row := func(name string, x, y float64, unit string) DiffRow {
		d := DiffRow{Name: name, Original: x, Changed: y, Unit: unit}
		if x != 0 {
			d.Relative = y/x - 1
		}
		return d
	}
	out := []DiffRow{
		row("step time", a.StepTimeS, b.StepTimeS, "s"),
		row("tokens/s per GPU", a.TokensPerSPerGPU, b.TokensPerSPerGPU, ""),
		row("model TFLOP/s per GPU", a.ModelTFLOPsPerGPU, b.ModelTFLOPsPerGPU, ""),
		row("MFU", a.MFU, b.MFU, ""),
		row("memory per GPU", a.MemoryGiBPerGPU, b.MemoryGiBPerGPU, "GiB"),
	}
	pa, pb := breakdownValues(a.Breakdown), breakdownValues(b.Breakdown)
	for i, name := range breakdownParts() {
		out = append(out, row(name, pa[i], pb[i], "s"))
	}
	return out
}

// scheduleNames lists the schedules the what-if form offers.
func scheduleNames() []string {
	var out []string
	for _, k := range schedule.Kinds() {
		out = append(out, string(k))
	}
	return out
}
