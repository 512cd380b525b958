package ui

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/scaleacross/scaleacross/explore"
	"github.com/scaleacross/scaleacross/report"
	"github.com/scaleacross/scaleacross/train"
)

// CompareField is one field of two candidates side by side.
type CompareField struct {
	Name    string `json:"name"`
	A       string `json:"a"`
	B       string `json:"b"`
	Differs bool   `json:"differs"`
}

// CompareSide is one of the compared candidates.
type CompareSide struct {
	Ref       string            `json:"ref"`
	Link      string            `json:"link"`
	Study     int64             `json:"study"`
	Space     string            `json:"space"`
	Index     int               `json:"index"`
	Candidate explore.Candidate `json:"candidate"`
	Engine    string            `json:"engine"`
	Result    train.Result      `json:"result"`
}

// ComparePage compares two stored candidates field by field, each
// simulated with the event engine.
type ComparePage struct {
	A, B   string         `json:"-"`
	Sides  []CompareSide  `json:"sides"`
	Fields []CompareField `json:"fields"`
	// BreakdownSVG and MemorySVG draw both sides as stacked bars.
	BreakdownSVG template.HTML `json:"-"`
	MemorySVG    template.HTML `json:"-"`
}

// Title names the page.
func (ComparePage) Title() string { return "Compare" }

// parseRef reads a candidate reference "study/space/index".
func parseRef(name, ref string) (int64, string, string, error) {
	parts := strings.Split(strings.Trim(ref, "/"), "/")
	if len(parts) != 3 {
		return 0, "", "", badRequest("%s: want study/space/index (e.g. 1/explorer/0), got %q", name, ref)
	}
	id, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || id <= 0 {
		return 0, "", "", badRequest("%s: study id %q is not a positive integer", name, parts[0])
	}
	return id, parts[1], parts[2], nil
}

func (s *Server) comparePage(r *http.Request) (any, error) {
	q := r.URL.Query()
	p := ComparePage{A: q.Get("a"), B: q.Get("b"), Sides: []CompareSide{}, Fields: []CompareField{}}
	if p.A == "" && p.B == "" {
		return p, nil
	}
	for _, x := range []struct{ name, ref string }{{"a", p.A}, {"b", p.B}} {
		id, space, index, err := parseRef(x.name, x.ref)
		if err != nil {
			return nil, err
		}
		st, err := s.db.Study(id)
		if err != nil {
			return nil, err
		}
		c, err := s.candidateOf(r, st, nil, space, index)
		if err != nil {
			return nil, err
		}
		_, sim, err := simulateCandidate(c)
		if err != nil {
			return nil, err
		}
		p.Sides = append(p.Sides, CompareSide{Ref: refOf(c.link()), Link: c.link(), Study: st.ID, Space: c.space, Index: c.rec.Index,
			Candidate: c.rec.Candidate, Engine: sim.Engine, Result: sim.Result})
	}
	a, b := p.Sides[0], p.Sides[1]
	add := func(name string, f func(CompareSide) string) {
		va, vb := f(a), f(b)
		p.Fields = append(p.Fields, CompareField{Name: name, A: va, B: vb, Differs: va != vb})
	}
	add("study", func(c CompareSide) string { return strconv.FormatInt(c.Study, 10) })
	add("space", func(c CompareSide) string { return c.Space })
	add("index", func(c CompareSide) string { return strconv.Itoa(c.Index) })
	ints := []struct {
		name string
		get  func(explore.Candidate) int
	}{
		{"tp", func(c explore.Candidate) int { return c.TP }}, {"cp", func(c explore.Candidate) int { return c.CP }},
		{"pp", func(c explore.Candidate) int { return c.PP }}, {"vp", func(c explore.Candidate) int { return c.VP }},
		{"ep", func(c explore.Candidate) int { return c.EP }}, {"dp", func(c explore.Candidate) int { return c.DP }},
		{"zero", func(c explore.Candidate) int { return c.Zero }}, {"micro_batch", func(c explore.Candidate) int { return c.MicroBatch }},
	}
	for _, x := range ints {
		add(x.name, func(c CompareSide) string { return strconv.Itoa(x.get(c.Candidate)) })
	}
	add("sp", func(c CompareSide) string { return strconv.FormatBool(c.Candidate.SP) })
	add("placement", func(c CompareSide) string { return c.Candidate.Placement })
	add("schedule", func(c CompareSide) string { return c.Candidate.Schedule })
	add("recompute", func(c CompareSide) string { return string(c.Candidate.Recompute) })
	add("transport", func(c CompareSide) string { return orDash(c.Candidate.Technology) })
	add("collectives", func(c CompareSide) string { return orDash(c.Candidate.Collective) })
	add("engine", func(c CompareSide) string { return c.Engine })
	add("step time", func(c CompareSide) string { return seconds(c.Result.StepTimeS) })
	add("tokens/s per GPU", func(c CompareSide) string { return report.Thousands(c.Result.TokensPerSPerGPU) })
	add("model TFLOP/s per GPU", func(c CompareSide) string { return fmt.Sprintf("%.1f", c.Result.ModelTFLOPsPerGPU) })
	add("MFU", func(c CompareSide) string { return fmt.Sprintf("%.1f%%", 100*c.Result.MFU) })
	add("memory per GPU", func(c CompareSide) string { return fmt.Sprintf("%.2f GiB", c.Result.MemoryGiBPerGPU) })
	add("fits", func(c CompareSide) string { return strconv.FormatBool(c.Result.Feasible) })
	add("micro-batches", func(c CompareSide) string { return strconv.Itoa(c.Result.MicroBatches) })
	for i, name := range breakdownParts() {
		add(name, func(c CompareSide) string { return seconds(breakdownValues(c.Result.Breakdown)[i]) })
	}
	add("bytes crossing sites per GPU", func(c CompareSide) string {
		total := 0.0
		for _, l := range c.Result.Levels {
			if l.CrossesSite {
				total += l.Bytes
			}
		}
		return report.Bytes(total)
	})
	var err error
	if p.BreakdownSVG, err = svg(report.StackedBars{Title: "step breakdown (exposed time)", Parts: breakdownParts(), Unit: "s",
		Bars: []report.Bar{{Label: "A", Values: breakdownValues(a.Result.Breakdown)}, {Label: "B", Values: breakdownValues(b.Result.Breakdown)}}}, 760); err != nil {
		return nil, err
	}
	if p.MemorySVG, err = svg(report.StackedBars{Title: "memory per GPU", Parts: memoryParts(), Unit: "GiB", Limit: a.Result.Memory.Capacity,
		LimitLabel: fmt.Sprintf("usable memory %.1f GiB", a.Result.Memory.Capacity),
		Bars:       []report.Bar{{Label: "A", Values: memoryValues(a.Result.Memory)}, {Label: "B", Values: memoryValues(b.Result.Memory)}}}, 760); err != nil {
		return nil, err
	}
	return p, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
