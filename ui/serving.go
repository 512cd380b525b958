package ui

import (
	"fmt"
	"html/template"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/infer"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/report"
)

// defaultBatches is the serving page's default sweep.
const defaultBatches = "1,2,4,8,16,32,64,128,256"

// ServingPage is a batch sweep of one serving spec: time per token and
// throughput with and without speculative decoding.
type ServingPage struct {
	// Examples are the serving specs offered (serve-*.yaml).
	Examples []string `json:"examples"`
	Example  string   `json:"example"`
	// SpecPath is a serving spec file given by path.
	SpecPath string        `json:"spec_path"`
	Batches  string        `json:"batches"`
	Model    string        `json:"model"`
	GPU      string        `json:"gpu"`
	GPUs     int           `json:"gpus"`
	Method   string        `json:"method"`
	Context  int           `json:"context"`
	Points   []infer.Point `json:"points"`
	Notes    []string      `json:"notes"`
	PlotSVG  template.HTML `json:"-"`
}

// Title names the page.
func (ServingPage) Title() string { return "Serving" }

// exampleNames lists the serving specs in the examples directory.
func (s *Server) exampleNames() []string {
	m, _ := filepath.Glob(filepath.Join(s.examples, "serve-*.yaml"))
	out := []string{}
	for _, p := range m {
		out = append(out, strings.TrimSuffix(filepath.Base(p), ".yaml"))
	}
	slices.Sort(out)
	return out
}

// parseBatches reads a comma-separated list of increasing batch sizes.
func parseBatches(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1<<20 {
			return nil, badRequest("batches: %q is not a batch size from 1 to %d", f, 1<<20)
		}
		if len(out) > 0 && n <= out[len(out)-1] {
			return nil, badRequest("batches: sizes must increase (%d after %d)", n, out[len(out)-1])
		}
		out = append(out, n)
	}
	if len(out) > 64 {
		return nil, badRequest("batches: at most 64 sizes, got %d", len(out))
	}
	return out, nil
}

func (s *Server) servingPage(r *http.Request) (any, error) {
	q := r.URL.Query()
	p := ServingPage{Examples: s.exampleNames(), Example: q.Get("example"), SpecPath: strings.TrimSpace(q.Get("spec")),
		Batches: strings.TrimSpace(q.Get("batches")), Points: []infer.Point{}, Notes: []string{}}
	if p.Batches == "" {
		p.Batches = defaultBatches
	}
	var path string
	switch {
	case p.SpecPath != "" && p.Example != "":
		return nil, badRequest("spec, example: give one of them, not both")
	case p.Example != "":
		if !slices.Contains(p.Examples, p.Example) {
			return nil, notFound("example: no serving example %q in %s (have %s)", p.Example, s.examples, strings.Join(p.Examples, ", "))
		}
		path = filepath.Join(s.examples, p.Example+".yaml")
	case p.SpecPath != "":
		if ext := filepath.Ext(p.SpecPath); ext != ".yaml" && ext != ".yml" && ext != ".json" {
			return nil, badRequest("spec: want a .yaml, .yml or .json serving spec, got %q", p.SpecPath)
		}
		if _, err := os.Stat(p.SpecPath); err != nil {
			return nil, notFound("spec: no serving spec at %q", p.SpecPath)
		}
		path = p.SpecPath
	default:
		return p, nil
	}
	batches, err := parseBatches(p.Batches)
	if err != nil {
		return nil, err
	}
	_, j, err := infer.LoadFile(path, model.Load, hardware.Lookup)
	if err != nil {
		return nil, err
	}
	if p.Points, err = infer.Sweep(j.Config, j.Workload, j.Speculative, batches); err != nil {
		return nil, err
	}
	p.Model, p.GPU, p.GPUs, p.Context, p.Method = j.Config.Model.ID, j.Config.GPU.ID, j.Config.GPUs, j.Workload.DecodeContext(), "none"
	if sp := j.Speculative; sp != nil {
		p.Method = string(sp.Method)
		if sp.Acceptance.Assumed {
			p.Notes = append(p.Notes, "acceptance is ASSUMED: "+sp.Acceptance.Source)
		}
	}
	p.Notes = append(p.Notes, "batches beyond KV capacity are marked fits=false")
	var plain, specd []([2]float64)
	for _, pt := range p.Points {
		plain = append(plain, [2]float64{float64(pt.Batch), pt.PlainTTITms})
		specd = append(specd, [2]float64{float64(pt.Batch), pt.SpecTTITms})
	}
	logX := len(batches) > 1 && batches[len(batches)-1] >= 4*batches[0]
	pl, err := report.LinePlot(fmt.Sprintf("%s on %dx %s, %s", p.Model, p.GPUs, p.GPU, p.Method), "batch", "time per output token (ms)", logX,
		[]report.Series{{Name: "no speculation", Points: plain}, {Name: "speculation when it pays", Points: specd}})
	if err != nil {
		return nil, err
	}
	if p.PlotSVG, err = plotSVG(pl); err != nil {
		return nil, err
	}
	return p, nil
}
