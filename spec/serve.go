package spec

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Serve is a serving spec (DESIGN.md section 2).
type Serve struct {
	Model    string        `yaml:"model" json:"model"`
	System   ServeSystem   `yaml:"system" json:"system"`
	Parallel ServeParallel `yaml:"parallel" json:"parallel"`
	// Precision is the weight format (bf16, fp16, fp8, mxfp8, fp4, nvfp4,
	// or int4 for AWQ/GPTQ weights run weight-only).
	Precision string `yaml:"precision" json:"precision"`
	// KVPrecision and ActivationPrecision default to bf16.
	KVPrecision         string `yaml:"kv_precision,omitempty" json:"kv_precision,omitempty"`
	ActivationPrecision string `yaml:"activation_precision,omitempty" json:"activation_precision,omitempty"`
	// CUDAGraphs defaults to true.
	CUDAGraphs *bool `yaml:"cuda_graphs,omitempty" json:"cuda_graphs,omitempty"`
	// CUDAGraphMode is full (the default: one graph per decode step) or
	// piecewise (graphs between attention operations, which run eagerly:
	// vLLM V1's default before v0.11).
	CUDAGraphMode string `yaml:"cuda_graph_mode,omitempty" json:"cuda_graph_mode,omitempty"`
	// Engine is the serving engine whose host and kernel costs apply:
	// vllm (the default), sglang, trtllm or custom (custom needs
	// engine_overrides.host_step_us and host_per_seq_us).
	Engine string `yaml:"engine,omitempty" json:"engine,omitempty"`
	// EngineOverrides replaces single constants of the engine's profile.
	EngineOverrides *EngineOverrides `yaml:"engine_overrides,omitempty" json:"engine_overrides,omitempty"`
	Workload        Workload         `yaml:"workload" json:"workload"`
	Speculative     *Speculative     `yaml:"speculative,omitempty" json:"speculative,omitempty"`
}

// Engines returns the serving engines a spec may name.
func Engines() []string { return []string{"vllm", "sglang", "trtllm", "custom"} }

// EngineOverrides are the engine-profile constants a spec may set; a nil
// field keeps the profile's value. Times are in microseconds.
type EngineOverrides struct {
	// HostStepUs and HostPerSeqUs are the scheduler's CPU time per step
	// and per sequence that the GPU waits for when it is not overlapped.
	HostStepUs   *float64 `yaml:"host_step_us,omitempty" json:"host_step_us,omitempty"`
	HostPerSeqUs *float64 `yaml:"host_per_seq_us,omitempty" json:"host_per_seq_us,omitempty"`
	// KernelGraphUs and KernelEagerUs are the fixed cost of one kernel
	// with and without CUDA graphs.
	KernelGraphUs *float64 `yaml:"kernel_graph_us,omitempty" json:"kernel_graph_us,omitempty"`
	KernelEagerUs *float64 `yaml:"kernel_eager_us,omitempty" json:"kernel_eager_us,omitempty"`
	// GraphBreakUs is the host time of one break between CUDA-graph
	// pieces (cuda_graph_mode piecewise).
	GraphBreakUs *float64 `yaml:"graph_break_us,omitempty" json:"graph_break_us,omitempty"`
	// HostOverlapPlain and HostOverlapSpec say whether host scheduling is
	// hidden behind the GPU for plain and for speculative steps.
	HostOverlapPlain *bool `yaml:"host_overlap_plain,omitempty" json:"host_overlap_plain,omitempty"`
	HostOverlapSpec  *bool `yaml:"host_overlap_spec,omitempty" json:"host_overlap_spec,omitempty"`
	// DraftOverlap is the fraction in [0, 1] of the draft passes' GPU time
	// hidden behind the verify pass.
	DraftOverlap *float64 `yaml:"draft_overlap,omitempty" json:"draft_overlap,omitempty"`
}

// check validates the overrides; custom engines must set the host times.
func (o *EngineOverrides) check(engine string) error {
	if o == nil {
		if engine == "custom" {
			return Errorf("engine_overrides", "engine custom needs engine_overrides with host_step_us and host_per_seq_us")
		}
		return nil
	}
	if engine == "custom" && (o.HostStepUs == nil || o.HostPerSeqUs == nil) {
		return Errorf("engine_overrides", "engine custom needs host_step_us and host_per_seq_us")
	}
	for _, f := range []struct {
		name string
		v    *float64
		max  float64
	}{{"host_step_us", o.HostStepUs, 1e6}, {"host_per_seq_us", o.HostPerSeqUs, 1e5},
		{"kernel_graph_us", o.KernelGraphUs, 1e4}, {"kernel_eager_us", o.KernelEagerUs, 1e4}, {"graph_break_us", o.GraphBreakUs, 1e4},
		{"draft_overlap", o.DraftOverlap, 1}} {
		if f.v != nil && !(*f.v >= 0 && *f.v <= f.max) {
			return Errorf("engine_overrides."+f.name, "%g is outside [0, %g]", *f.v, f.max)
		}
	}
	return nil
}

// ServeSystem is the accelerator and how many serve one model replica.
type ServeSystem struct {
	GPU  string `yaml:"gpu" json:"gpu"`
	GPUs int    `yaml:"gpus" json:"gpus"`
}

// ServeParallel is the serving layout: attention TP, expert parallel EP,
// attention data parallel DP and pipeline stages PP (tp * dp * pp =
// gpus; default tp = gpus / (dp * pp)).
type ServeParallel struct {
	TP int `yaml:"tp" json:"tp"`
	EP int `yaml:"ep" json:"ep"`
	DP int `yaml:"dp,omitempty" json:"dp,omitempty"`
	// PP is the number of pipeline stages, one or more nodes each, for
	// models served over several servers (tp * dp * pp = gpus; default 1).
	PP int `yaml:"pp,omitempty" json:"pp,omitempty"`
}

// Workload is the traffic: concurrent sequences, prompt and answer
// lengths, and optionally the context decode is priced at.
type Workload struct {
	Batch     int `yaml:"batch" json:"batch"`
	Context   int `yaml:"context,omitempty" json:"context,omitempty"`
	InputLen  int `yaml:"input_len" json:"input_len"`
	OutputLen int `yaml:"output_len" json:"output_len"`
}

// Speculative configures speculative decoding.
type Speculative struct {
	// Method is none, eagle, eagle3, mtp (the model's own MTP module),
	// draft (a separate draft model) or ngram (prompt lookup).
	Method      string `yaml:"method" json:"method"`
	DraftLayers int    `yaml:"draft_layers,omitempty" json:"draft_layers,omitempty"`
	// DraftModel is the draft of method draft: a catalog id or a
	// config.json path, like model.
	DraftModel string    `yaml:"draft_model,omitempty" json:"draft_model,omitempty"`
	Tree       TreeSpec  `yaml:"tree,omitempty" json:"tree,omitempty"`
	Acceptance []float64 `yaml:"acceptance,omitempty" json:"acceptance,omitempty"`
	// AcceptedLengths is the mean accepted length per step (the bonus
	// token included, as vLLM and SGLang print it) of chains of draft
	// length k = 1, 2, ...; it must increase with k. It is converted to
	// per-depth acceptance and excludes Acceptance.
	AcceptedLengths []float64 `yaml:"accepted_lengths,omitempty" json:"accepted_lengths,omitempty"`
	// SiblingDecay overrides the assumed per-rank decay of acceptance.
	SiblingDecay *float64 `yaml:"sibling_decay,omitempty" json:"sibling_decay,omitempty"`
	// MaxNodes and MaxDepth bound tree: auto (defaults 64 and 10).
	MaxNodes int `yaml:"max_nodes,omitempty" json:"max_nodes,omitempty"`
	MaxDepth int `yaml:"max_depth,omitempty" json:"max_depth,omitempty"`
}

// Limits on an explicit draft tree: the number of paths (draft
// positions) and the depth of one path. The auto tree's bounds
// (max_nodes, max_depth) are far lower.
const (
	MaxTreePaths = 256
	MaxTreeDepth = 64
)

// TreeSpec is "auto", "chain:N" or a list of root paths.
type TreeSpec struct {
	Auto  bool
	Chain int
	Paths [][]int
}

// UnmarshalYAML accepts a scalar (auto, chain:N) or a list of int lists.
func (t *TreeSpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		s := strings.TrimSpace(n.Value)
		switch {
		case s == "" || s == "auto":
			*t = TreeSpec{Auto: true}
			return nil
		case strings.HasPrefix(s, "chain:"):
			k, err := strconv.Atoi(strings.TrimPrefix(s, "chain:"))
			if err != nil || k < 1 || k > 64 {
				return Errorf("speculative.tree", "%q: chain length must be an integer in 1..64, e.g. chain:3", clip(s))
			}
			*t = TreeSpec{Chain: k}
			return nil
		}
		return Errorf("speculative.tree", "%q is not auto, chain:N or a list of paths like [[0], [0, 0], [1]]", clip(s))
	}
	if n.Kind != yaml.SequenceNode {
		return Errorf("speculative.tree", "want auto, chain:N or a list of paths like [[0], [0, 0], [1]], got %s", describe(n))
	}
	if len(n.Content) > MaxTreePaths {
		return Errorf("speculative.tree", "has %d paths, over the limit of %d draft positions", len(n.Content), MaxTreePaths)
	}
	for i, p := range n.Content {
		f := fmt.Sprintf("speculative.tree[%d]", i)
		if p.Kind != yaml.SequenceNode {
			return Errorf(f, "must be a path (a list of sibling ranks such as [0, 1]), got %s", describe(p))
		}
		if len(p.Content) > MaxTreeDepth {
			return Errorf(f, "is %d deep, over the limit of %d", len(p.Content), MaxTreeDepth)
		}
		for j, r := range p.Content {
			if err := checkInt(r, fmt.Sprintf("%s[%d]", f, j)); err != nil {
				return err
			}
		}
	}
	var paths [][]int
	if err := n.Decode(&paths); err != nil {
		return Errorf("speculative.tree", "want auto, chain:N or a list of paths like [[0], [0, 0], [1]]: %v", err)
	}
	*t = TreeSpec{Paths: paths}
	return nil
}

// MarshalYAML writes the tree back in its input form.
func (t TreeSpec) MarshalYAML() (any, error) {
	switch {
	case t.Chain > 0:
		return fmt.Sprintf("chain:%d", t.Chain), nil
	case t.Paths != nil:
		return t.Paths, nil
	}
	return "auto", nil
}

// Bounds on a serving spec: far above any deployed setup (context
// windows reach 10M tokens), they keep the cost models' arithmetic finite
// and their loops short.
const (
	MaxServeGPUs = 1 << 16
	MaxBatch     = 1 << 20
	MaxTokens    = 1 << 24
)

var servingPrecisions = []string{"bf16", "fp16", "fp8", "mxfp8", "fp4", "nvfp4"}

func checkPrecision(field, v string) error {
	if v == "int4" && field == "precision" {
		return nil // a weight-only format: weights, not KV or activations
	}
	for _, p := range servingPrecisions {
		if v == p {
			return nil
		}
	}
	want := strings.Join(servingPrecisions, ", ")
	if field == "precision" {
		want += ", int4"
	}
	return Errorf(field, "%q is not a serving format; want one of %s", v, want)
}

// ParseServe decodes a serving spec strictly, fills defaults and
// validates every field it can check without the catalogs. A training
// spec is refused with a pointer to scaleacross simulate and plan.
func ParseServe(data []byte) (*Serve, error) {
	return parseServe(data, "FILE")
}

// ParseServeFile is ParseServe of the data read from the file name, which
// its errors suggest to the command they point to.
func ParseServeFile(data []byte, name string) (*Serve, error) {
	return parseServe(data, name)
}

// parseServe is ParseServe with the file name that its errors suggest.
func parseServe(data []byte, name string) (*Serve, error) {
	var s Serve
	if err := DecodeStrict(data, &s); err != nil {
		if wrongKind(data) == kindTrain {
			return nil, &Error{Msg: fmt.Sprintf("this is a training spec (it has training: and no workload:): use scaleacross simulate -f %s or scaleacross plan -f %s", name, name)}
		}
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate fills defaults and checks the spec.
func (s *Serve) Validate() error {
	if strings.TrimSpace(s.Model) == "" {
		return Errorf("model", "is required: a catalog id such as llama4-maverick or a path to a config.json")
	}
	if strings.TrimSpace(s.System.GPU) == "" {
		return Errorf("system.gpu", "is required: a catalog id such as h100-sxm")
	}
	if s.System.GPUs < 1 {
		return Errorf("system.gpus", "must be at least 1, got %d", s.System.GPUs)
	}
	if s.Parallel.DP == 0 {
		s.Parallel.DP = 1
	}
	pp := max(s.Parallel.PP, 1) // 0 means one stage
	if s.Parallel.PP < 0 || s.Parallel.PP > 64 {
		return Errorf("parallel.pp", "must be in 1..64, got %d", s.Parallel.PP)
	}
	if s.Parallel.TP == 0 && s.Parallel.DP > 0 {
		s.Parallel.TP = s.System.GPUs / (s.Parallel.DP * pp)
	}
	if s.Parallel.EP == 0 {
		s.Parallel.EP = 1
	}
	for _, p := range []struct {
		f string
		v int
	}{{"parallel.tp", s.Parallel.TP}, {"parallel.ep", s.Parallel.EP}, {"parallel.dp", s.Parallel.DP}} {
		if p.v < 1 {
			return Errorf(p.f, "must be at least 1, got %d", p.v)
		}
	}
	if s.Parallel.TP*s.Parallel.DP*pp != s.System.GPUs {
		if pp == 1 {
			return Errorf("parallel.tp", "tp (%d) x dp (%d) must equal system.gpus (%d)", s.Parallel.TP, s.Parallel.DP, s.System.GPUs)
		}
		return Errorf("parallel.tp", "tp (%d) x dp (%d) x pp (%d) must equal system.gpus (%d)", s.Parallel.TP, s.Parallel.DP, pp, s.System.GPUs)
	}
	if s.Precision == "" {
		s.Precision = "bf16"
	}
	if s.KVPrecision == "" {
		s.KVPrecision = "bf16"
	}
	if s.ActivationPrecision == "" {
		s.ActivationPrecision = "bf16"
	}
	for _, p := range [][2]string{{"precision", s.Precision}, {"kv_precision", s.KVPrecision}, {"activation_precision", s.ActivationPrecision}} {
		if err := checkPrecision(p[0], p[1]); err != nil {
			return err
		}
	}
	switch s.CUDAGraphMode {
	case "", "full", "piecewise":
		if s.CUDAGraphMode == "piecewise" && s.CUDAGraphs != nil && !*s.CUDAGraphs {
			return Errorf("cuda_graph_mode", "piecewise needs CUDA graphs; drop cuda_graphs: false or the mode")
		}
	default:
		return Errorf("cuda_graph_mode", "%q unknown; want full or piecewise", clip(s.CUDAGraphMode))
	}
	known := s.Engine == ""
	for _, e := range Engines() {
		known = known || s.Engine == e
	}
	if !known {
		return Errorf("engine", "%q unknown; want one of %s", clip(s.Engine), strings.Join(Engines(), ", "))
	}
	if s.EngineOverrides != nil || s.Engine == "custom" {
		if err := s.EngineOverrides.check(s.Engine); err != nil {
			return err
		}
	}
	w := &s.Workload
	if w.Batch < 1 {
		return Errorf("workload.batch", "must be at least 1, got %d", w.Batch)
	}
	if w.InputLen == 0 {
		w.InputLen = 1000
	}
	if w.OutputLen == 0 {
		w.OutputLen = 1000
	}
	if w.InputLen < 0 || w.OutputLen < 0 || w.Context < 0 {
		return Errorf("workload", "input_len, output_len and context must not be negative")
	}
	for _, b := range []struct {
		f      string
		v, max int
	}{
		{"system.gpus", s.System.GPUs, MaxServeGPUs}, {"workload.batch", w.Batch, MaxBatch},
		{"workload.input_len", w.InputLen, MaxTokens}, {"workload.output_len", w.OutputLen, MaxTokens},
		{"workload.context", w.Context, MaxTokens},
	} {
		if b.v > b.max {
			return Errorf(b.f, "%d is over the limit of %d", b.v, b.max)
		}
	}
	if w.InputLen+w.OutputLen > MaxTokens {
		return Errorf("workload", "input_len + output_len = %d tokens is over the limit of %d", w.InputLen+w.OutputLen, MaxTokens)
	}
	if sp := s.Speculative; sp != nil {
		const methods = "none, eagle, eagle3, mtp, draft or ngram"
		switch sp.Method {
		case "none", "eagle", "eagle3", "mtp", "draft", "ngram":
		case "":
			return Errorf("speculative.method", "is required: %s", methods)
		default:
			return Errorf("speculative.method", "%q unknown; want %s", clip(sp.Method), methods)
		}
		if sp.Method == "draft" && strings.TrimSpace(sp.DraftModel) == "" {
			return Errorf("speculative.draft_model", "is required with method draft: the draft's catalog id or config.json path (e.g. a Llama 3.2 1B config for a Llama 3.1 70B target)")
		}
		if sp.Method != "draft" && sp.DraftModel != "" {
			return Errorf("speculative.draft_model", "is used only by method draft (method is %s); drop it or set method: draft", sp.Method)
		}
		if sp.DraftLayers == 0 {
			sp.DraftLayers = 1 // the EAGLE papers' single-layer draft
		}
		if sp.DraftLayers < 1 || sp.DraftLayers > 64 {
			return Errorf("speculative.draft_layers", "must be in 1..64, got %d", sp.DraftLayers)
		}
		for i, a := range sp.Acceptance {
			if !(a > 0 && a <= 1) {
				return Errorf("speculative.acceptance", "entry %d is %g, outside (0, 1]; give per-depth acceptance probabilities such as [0.8, 0.75, 0.7]", i, a)
			}
		}
		if len(sp.AcceptedLengths) > 0 && len(sp.Acceptance) > 0 {
			return Errorf("speculative.accepted_lengths", "give either accepted_lengths or acceptance, not both")
		}
		prev := 1.0
		for i, l := range sp.AcceptedLengths {
			if !(l > prev && l <= float64(i+2)) {
				return Errorf("speculative.accepted_lengths", "entry %d (draft length %d) is %g; accepted lengths must increase with the draft length, from above 1 and at most k+1 (e.g. [1.8, 2.4, 2.8])", i, i+1, l)
			}
			prev = l
		}
		if d := sp.SiblingDecay; d != nil && !(*d > 0 && *d <= 1) {
			return Errorf("speculative.sibling_decay", "%g is outside (0, 1]", *d)
		}
		if sp.MaxNodes == 0 {
			sp.MaxNodes = 64
		}
		if sp.MaxDepth == 0 {
			sp.MaxDepth = 10
		}
		if sp.MaxNodes < 1 || sp.MaxNodes > 128 {
			return Errorf("speculative.max_nodes", "must be in 1..128, got %d", sp.MaxNodes)
		}
		if sp.MaxDepth < 1 || sp.MaxDepth > 12 {
			return Errorf("speculative.max_depth", "must be in 1..12, got %d", sp.MaxDepth)
		}
		if !sp.Tree.Auto && sp.Tree.Chain == 0 && sp.Tree.Paths == nil {
			sp.Tree.Auto = true
		}
	}
	return nil
}
