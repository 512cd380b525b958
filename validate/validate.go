package validate

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/scaleacross/scaleacross/cost"
	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/parallel"
	"github.com/scaleacross/scaleacross/schedule"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/train"
)

// Defaults for settings a publication leaves unknown. One rule for every
// such row, never a per-row choice.
const (
	// UnknownRecompute: NeMo's published performance configurations run
	// without activation recomputation unless they say otherwise.
	UnknownRecompute = parallel.RecomputeNone
	// UnknownLayersPerChunk: when the interleaving depth (vp) is not
	// published, each model chunk holds this many layers (vp = layers per
	// stage / 2), the middle of the depth-first/breadth-first range.
	UnknownLayersPerChunk = 2
	// UnknownMicroBatch: when the micro-batch size is not published, 1,
	// Megatron-LM's default (--micro-batch-size) and that of the NeMo and
	// Megatron-Bridge MoE recipes.
	UnknownMicroBatch = 1
)

// Config builds the training configuration of a row. Rows describe FSDP
// without parameter resharding ("fsdp-no-reshard", Llama 3): it gathers
// parameters once and reduce-scatters gradients once per step, the
// communication and optimizer sharding of ZeRO-1, so it maps to zero 1.
func (r Row) Config(p cost.Params) (*train.Config, []string, error) {
	m, err := model.Lookup(r.Model)
	if err != nil {
		return nil, nil, fmt.Errorf("row %s: %w", r.ID, err)
	}
	var notes []string
	layout, mtp := r.layout()
	if m.MTPLayers > 0 && mtp != m.MTPLayers {
		notes = append(notes, fmt.Sprintf("MTP layers: %d (%s)", mtp, mtpWhy(layout)))
	}
	if m, err = train.ApplyOverrides(m, &spec.ModelOverrides{Layers: r.Layers, MTPLayers: &mtp}); err != nil {
		return nil, nil, fmt.Errorf("row %s: %w", r.ID, err)
	}
	g, err := hardware.Lookup(r.GPU)
	if err != nil {
		return nil, nil, fmt.Errorf("row %s: %w", r.ID, err)
	}
	prec, err := train.ParsePrecision(r.Precision)
	if err != nil {
		return nil, nil, fmt.Errorf("row %s: %w", r.ID, err)
	}
	rec := parallel.Recompute(r.Recompute)
	if r.Recompute == "unknown" || r.Recompute == "" {
		rec = UnknownRecompute
		why := "recompute unknown: " + string(rec)
		if rr, src := r.recipeRecompute(); rr != "" {
			rec, why = rr, "recompute "+string(rr)+" ("+src+")"
		}
		notes = append(notes, why)
	}
	zero := 1
	switch z := r.Zero; {
	case strings.HasPrefix(z, "fsdp-no-reshard"):
		zero = 1
		notes = append(notes, "fsdp without resharding modelled as zero 1")
	case z == "fsdp":
		zero = 3
	default:
		fmt.Sscanf(z, "%d", &zero)
	}
	pc := parallel.Config{TP: r.TP, PP: r.PP, VP: r.VP, CP: r.CP, EP: max(r.EP, 1), ETP: r.ETP, DP: r.DP, SP: r.SP, Zero: zero}
	if layout != "" {
		if pc.Layout, err = parallel.ParseLayout(layout); err != nil {
			return nil, nil, fmt.Errorf("row %s: %w", r.ID, err)
		}
		notes = append(notes, "pipeline layout "+layout)
	}
	if r.Layers > 0 {
		notes = append(notes, fmt.Sprintf("proxy depth: %d of the model's layers", r.Layers))
	}
	if pc.VP == 0 {
		perStage := (m.Layers + 2) / r.PP
		if m.Layers%r.PP == 0 {
			perStage = m.Layers / r.PP
		}
		pc.VP = max(1, perStage/UnknownLayersPerChunk)
		notes = append(notes, fmt.Sprintf("vp unknown: %d (%d layers per chunk)", pc.VP, UnknownLayersPerChunk))
	}
	sched := schedule.OneFOneB
	if pc.VP > 1 {
		sched = schedule.Interleaved
	}
	if k, err := schedule.ParseKind(r.Schedule); err == nil && k == schedule.DualPipeV {
		// DeepSeek's DualPipe: two chunks per rank; its V-shaped half
		// (DualPipeV) has the same bubble, (pp/2-1)(F&B+B-3W).
		sched = k
		notes = append(notes, "dualpipe modelled as dualpipev (two chunks per rank, the same bubble)")
	}
	b := parallel.Batch{SeqLen: r.SeqLen, GlobalBatch: r.GlobalBatch, MicroBatch: r.MicroBatch}
	if b.MicroBatch == 0 {
		b.MicroBatch = UnknownMicroBatch
		notes = append(notes, fmt.Sprintf("micro_batch unknown: %d", UnknownMicroBatch))
	}
	if err := pc.Validate(m, r.GPUs, b); err != nil {
		return nil, nil, fmt.Errorf("row %s: %w", r.ID, err)
	}
	if s, err := pc.Split(m.Layers); err == nil && s.Explicit != nil && pc.Layout == nil {
		notes = append(notes, "layers split with the embedding and the loss as one layer each (Megatron-Core)")
	}
	c := &train.Config{
		Model: m, GPU: g, GPUs: r.GPUs, Parallel: pc, Schedule: sched, Batch: b,
		Precision: prec, Recompute: rec, Calib: p,
	}
	if strings.Contains(r.Source, "Korthikanti") {
		// The 2022 measurements predate fused attention in Megatron-LM:
		// the paper's activation count (its eq. 1) keeps the 5as/h score terms.
		c.UnfusedAttention = true
		notes = append(notes, "unfused attention (Megatron-LM 2022)")
	}
	if why := r.unfusedMLA(m, g); why != "" {
		c.UnfusedAttention = true
		notes = append(notes, "unfused attention ("+why+")")
	}
	if m.MoE != nil {
		c.Dispatcher, c.FP8Dispatch = r.dispatcher()
		if why := r.permuteFusion(); why != "" {
			notes = append(notes, "fused permutation kernels ("+why+")")
		} else {
			c.UnfusedPermute = true
			why := "Megatron-Core's default, --moe-permute-fusion off"
			if SourceGroup(r.Source) == "torchtitan" {
				why = "torchtitan's scatter-add back to the tokens in PyTorch"
			}
			notes = append(notes, "unfused permutation ("+why+")")
		}
		switch c.Dispatcher {
		case cost.DispatchFused:
			notes = append(notes, "fused dispatcher (DeepEP-like: global permute and combine inside the communication kernels)")
		case cost.DispatchTorch:
			notes = append(notes, "torchtitan's default expert parallelism (permutation in PyTorch operators)")
		}
		if c.FP8Dispatch {
			notes = append(notes, "FP8 dispatch")
		}
		c.Routing, c.CapacityFactor = r.routing()
		switch {
		case c.CapacityFactor > 0:
			notes = append(notes, fmt.Sprintf("capacity factor %g with padding", c.CapacityFactor))
		case c.Routing == train.RoutingForceBalanced:
			notes = append(notes, "force-balanced routing")
		}
	}
	if c.CUDAGraphs = r.cudaGraphs(); c.CUDAGraphs != 0 {
		notes = append(notes, "CUDA graphs: "+strings.Join(c.CUDAGraphs.Names(), ", "))
	}
	if why := r.unfusedQuantAlloc(prec); why != "" {
		c.UnfusedQuantAlloc = true
		notes = append(notes, "MXFP8 scaling factors allocated and swizzled per tensor ("+why+")")
	}
	if m.MoE != nil && SourceGroup(r.Source) == "torchtitan" {
		// torchtitan's MoE runs each expert projection as one
		// torch._grouped_mm (its use_grouped_mm default).
		c.GroupedKernel = true
	}
	c.Topology = defaultTopology(g, r.GPUs)
	c.Placement = defaultPlacement(m, pc)
	return c, notes, nil
}

// layout returns the pipeline layout a row's notes name (a note
// "layout X"),
// and the MTP layers the row trains: a layout's m count, the catalog's
// for the DeepSeek-V3 report (MTP depth 1, its section 2.2), and none
// for recipes that do not state MTP (its layers are neither in their
// published configurations nor in their FLOP counts).
func (r Row) layout() (string, int) {
	var text string
	for _, part := range strings.Split(r.Notes, ";") {
		if f := strings.Fields(part); len(f) == 2 && f[0] == "layout" {
			text = f[1]
		}
	}
	if text != "" {
		return text, strings.Count(text, "m")
	}
	if SourceGroup(r.Source) == "DeepSeek-V3 report" {
		if m, err := model.Lookup(r.Model); err == nil {
			return "", m.MTPLayers
		}
	}
	return "", 0
}

// grok1Recipe is the NeMo 1.0 recipe file NVIDIA's DGX Cloud Grok-1
// rows of v24.11.1 and v25.02 cite in their notes (grok1/grok1_314b.yaml,
// launched by configure.sh with megatron_gpt_pretraining.py
// --config-name=grok1_314b.yaml). It sets moe_pad_expert_input_to_capacity:
// true and moe_expert_capacity_factor: 1.0 (read at v24.11.1, 35a9aecc8d;
// reference/moe.md section 4); configure.sh overrides neither. The v25.02
// rows' notes name the same file for their other settings, the public
// index holds one version of it over the repository's history, and their
// step times are within 1-4% (bf16) and 1-7% (fp8) of v24.11.1's at every
// scale, so both tags are priced with its capacity and padding.
const grok1Recipe = "grok1_314b.yaml@"

// grok1CapacityFactor is grok1_314b.yaml's moe_expert_capacity_factor.
const grok1CapacityFactor = 1.0

// dsv3Recipe2505 is the DGX Cloud DeepSeek-V3 recipe of tag v25.05.04
// (deepseek_v3/pretraining/launch.sh, container nemo 25.04.01), which the
// rows of that tag cite. Its launch script passes --recompute_modules
// core_attn on GB200 and mla_up_proj on H100, and its
// scripts/performance/llm/pretrain_deepseek_v3.py in NeMo adds
// MegatronTokenDropCallback (moe_expert_capacity_factor 1.0,
// moe_pad_expert_input_to_capacity true) with the all-to-all dispatcher on
// Blackwell, where DeepEP was not supported yet (the script's own comment;
// both versions of the script in the public index do so on Blackwell).
const dsv3Recipe2505 = "dgxc-benchmarking tag v25.05.04"

// automodelLlama70BRecipe is the AutoModel configuration of the Llama 3
// 70B pre-training row of the performance summary (64 H100, tp1 cp2 dp32,
// LBS 1, GA 4, 8K sequences, "TE + fsdp2_prefetch"):
// examples/llm_benchmark/llama3_3/custom_llama3_1_70b_pretrain_benchmark_8nodes.yaml
// (NVIDIA-NeMo/Automodel, read at f5b942f61e). Its distributed section sets
// activation_checkpointing: True, which AutoModel's FSDP2 parallelizer
// applies by wrapping each decoder layer's modules in PyTorch's
// checkpoint_wrapper (docs/guides/gradient-checkpointing.md): the whole
// layer forward runs again in the backward pass, full recomputation.
const automodelLlama70BRecipe = "custom_llama3_1_70b_pretrain_benchmark_8nodes.yaml"

// recipeRecompute is the recomputation a row's recipe sets where the row
// leaves it unknown, with the source, or "" where no recipe rule applies.
// The DeepSeek-V3 recipe's core_attn is the attention core (selective);
// its mla_up_proj recomputes the MLA up-projections, which the model does
// not price as a module of its own, so H100 keeps the unknown default.
// AutoModel's Llama 3 70B recipe checkpoints every layer
// (automodelLlama70BRecipe).
func (r Row) recipeRecompute() (parallel.Recompute, string) {
	if strings.Contains(r.Source, dsv3Recipe2505) && r.Model == "deepseek-v3" && r.GPU == "gb200" {
		return parallel.RecomputeSelective, "the recipe's launch.sh: --recompute_modules core_attn on GB200"
	}
	if SourceGroup(r.Source) == "NeMo AutoModel" && r.Model == "llama3-70b" && r.CP == 2 {
		return parallel.RecomputeFull, "AutoModel's " + automodelLlama70BRecipe + ": activation_checkpointing: True"
	}
	return "", ""
}

// mlaBlackwellContainer is the NeMo container of rows that predate a
// fused kernel for MLA's attention on Blackwell: d_qk = 192 against d_v =
// 128 has no flash-attention kernel on sm_100, and cuDNN supports it there
// from 9.11 (NVIDIA/Megatron-LM@eb0783b6d3
// docs/discussions/deepseek-v3-gb200-optimization, section 1: "Multi-head
// Latent Attention (MLA) kernels on the Blackwell platform, provided by
// cuDNN 9.11"; on Hopper it came with cuDNN 9.10,
// NVIDIA/TransformerEngine#1851), released after the 25.04 containers.
// Transformer Engine then falls back to its unfused attention, and the
// recipe recomputes the core attention on GB200 only (dsv3Recipe2505),
// the recomputation that pays for an unfused score matrix.
const mlaBlackwellContainer = "container nemo 25.04"

// unfusedMLA says why a row runs MLA attention unfused, or "".
func (r Row) unfusedMLA(m *model.Model, g *hardware.GPU) string {
	if m.MLA == nil || !strings.HasPrefix(g.Arch, "Blackwell") || !strings.Contains(r.Notes, mlaBlackwellContainer) {
		return ""
	}
	return "MLA on Blackwell before cuDNN 9.11, " + mlaBlackwellContainer
}

// dispatcher is a row's MoE token dispatcher, as its notes name it:
// torchtitan's default expert parallelism where they say so, a fused
// dispatcher for DeepEP or HybridEP (AutoModel's "kernels TE+DeepEP",
// torchtitan's DeepEP rows, Megatron-LM's HybridEP) and for DeepSeek-V3's
// own kernels, which also dispatch in FP8 (its report, section 3.3: the
// activations are quantised to FP8 before the dispatch, the combine stays
// BF16); else Megatron-Core's default all-to-all dispatcher.
func (r Row) dispatcher() (cost.Dispatcher, bool) {
	n := strings.ToLower(r.Notes)
	switch {
	case SourceGroup(r.Source) == "DeepSeek-V3 report":
		return cost.DispatchFused, true
	case strings.Contains(n, "default expert-parallel dispatcher"):
		return cost.DispatchTorch, false
	case SourceGroup(r.Source) == "NeMo AutoModel":
		// Every MoE row of the performance summary lists "TE + DeepEP"
		// (docs/performance-summary.md, read at 01926a5c44; the earlier
		// versions' rows are the same configurations).
		return cost.DispatchFused, false
	case strings.Contains(n, "deepep"), strings.Contains(n, "hybridep"):
		return cost.DispatchFused, false
	}
	return cost.DispatchAllToAll, false
}

// permuteFusion says why a row runs fused router and permutation
// kernels, or "" for Megatron-Core's default (--moe-permute-fusion off),
// which a recipe that does not say otherwise runs:
// the DeepSeek-V3 recipe of dsv3Recipe2505 sets moe_permute_fusion; the
// Megatron-LM GB200 write-up's baseline already had it (its section 1,
// item 4); AutoModel's "TE + DeepEP" kernels are Transformer Engine's
// fused permutation with DeepEP (docs/performance-summary.md); DeepSeek's
// own framework fuses the permutation into its communication kernels.
// torchtitan's DeepEP configuration keeps the weighted scatter-add back to
// the tokens in PyTorch (qwen3_30b_a3b_with_deepep.toml:
// fused_weighted_scatter_add = false), so its rows stay unfused.
func (r Row) permuteFusion() string {
	switch g := SourceGroup(r.Source); {
	case strings.Contains(r.Source, dsv3Recipe2505) && r.Model == "deepseek-v3":
		return "the recipe sets moe_permute_fusion"
	case g == "Megatron-LM docs":
		return "--moe-permute-fusion in the write-up's baseline"
	case g == "NeMo AutoModel":
		return "AutoModel's TE + DeepEP kernels"
	case g == "DeepSeek-V3 report":
		return "DeepSeek-V3's own dispatch kernels"
	}
	return ""
}

// routing is how a row's router spread tokens: force-balanced where the
// notes say so (torchtitan's moe_force_load_balance, Megatron-Core's
// --moe-router-force-load-balancing), padded to capacity where the
// recipe says "pad-to-capacity CF=x" or the notes cite NeMo's early
// Grok-1 recipe file (grok1Recipe), else Megatron-Core's default, learned
// dropless routing.
func (r Row) routing() (train.Routing, float64) {
	n := strings.ToLower(r.Notes)
	if i := strings.Index(n, "pad-to-capacity cf="); i >= 0 {
		var cf float64
		if _, err := fmt.Sscanf(n[i+len("pad-to-capacity cf="):], "%g", &cf); err == nil && cf > 0 {
			return train.RoutingDropless, cf
		}
	}
	if strings.Contains(n, grok1Recipe) {
		return train.RoutingDropless, grok1CapacityFactor
	}
	if strings.Contains(r.Source, dsv3Recipe2505) && r.Model == "deepseek-v3" && r.GPU == "gb200" {
		return train.RoutingDropless, 1 // MegatronTokenDropCallback's capacity factor (dsv3Recipe2505)
	}
	if SourceGroup(r.Source) == "NeMo AutoModel" {
		// "Fake balanced gate is enabled to simulate ideal expert routing"
		// (AutoModel docs/performance-summary.md, Notes, read at 01926a5c44).
		return train.RoutingForceBalanced, 0
	}
	for _, k := range []string{"force-balanced", "force load balance", "force_load_balance", "force-load-balancing"} {
		if strings.Contains(n, k) {
			return train.RoutingForceBalanced, 0
		}
	}
	return train.RoutingDropless, 0
}

// cudaGraphs is the CUDA-graph scope a row's notes name ("CUDA graphs
// attn/moe_router/moe_preprocess"), or none: Megatron-Core and NeMo run
// eagerly unless a recipe sets --cuda-graph-impl.
func (r Row) cudaGraphs() cost.GraphScope {
	n := strings.ToLower(r.Notes)
	i := strings.Index(n, "cuda graphs ")
	if i < 0 {
		return 0
	}
	var s cost.GraphScope
	f := strings.FieldsFunc(n[i+len("cuda graphs "):], func(c rune) bool { return c == ' ' || c == ',' || c == ';' || c == ')' })
	if len(f) == 0 {
		return 0
	}
	for _, name := range strings.Split(f[0], "/") {
		if g, ok := cost.ParseGraphScope(name); ok {
			s |= g
		}
	}
	return s
}

// unfusedQuantAlloc says why a row allocates and swizzles MXFP8 scaling
// factors per tensor (cost.HostInput.UnfusedQuantAlloc), or "": the GB200
// DeepSeek-V3 write-up's baseline predates Transformer Engine's fused
// allocation and fused swizzle, its second and ninth steps ("Fuse
// torch.zeros for scaling factor allocation", "Fuse MXFP8 swizzle scaling
// factor"; sections 2.1.2, 2.1.3 and its section 3 table); every later
// MXFP8 row runs them, enabled by default since.
func (r Row) unfusedQuantAlloc(p hardware.Precision) string {
	if p != hardware.MXFP8 || SourceGroup(r.Source) != "Megatron-LM docs" || !strings.Contains(strings.ToLower(r.Notes), "baseline") {
		return ""
	}
	return "the write-up's baseline, before Transformer Engine's fused allocation and swizzle"
}

func mtpWhy(layout string) string {
	if layout != "" {
		return "the row's layout " + layout
	}
	return "not stated by the recipe"
}

// Result is one row's comparison.
type Result struct {
	ID    string `json:"id"`
	Model string `json:"model"`
	GPU   string `json:"gpu"`
	GPUs  int    `json:"gpus"`
	// Kind is "moe" for a mixture-of-experts model, else "dense".
	Kind string `json:"kind"`
	// Source is the row's publication group (SourceGroup).
	Source    string          `json:"source"`
	Measured  float64         `json:"measured_step_time_s"`
	Predicted float64         `json:"predicted_step_time_s"`
	ErrorPct  float64         `json:"error_pct"`
	MFU       float64         `json:"predicted_mfu"`
	TFLOPs    float64         `json:"predicted_model_tflops_per_gpu"`
	MemoryGiB float64         `json:"predicted_memory_gib_per_gpu"`
	Feasible  bool            `json:"feasible"`
	Assumed   []string        `json:"assumed,omitempty"`
	Breakdown train.Breakdown `json:"breakdown"`
}

// Skipped is a row that cannot be expressed, with the reason.
type Skipped struct {
	ID     string `json:"id"`
	Model  string `json:"model"`
	GPU    string `json:"gpu"`
	Reason string `json:"reason"`
}

// Group is the error over one group of rows.
type Group struct {
	// By is what the group is formed by: all, kind, gpu or source.
	By          string  `json:"by"`
	Name        string  `json:"name"`
	Rows        int     `json:"rows"`
	MAPE        float64 `json:"mape_pct"`
	MaxAbsError float64 `json:"max_abs_error_pct"`
}

// Report is the whole comparison.
type Report struct {
	Rows        []Result `json:"rows"`
	MAPE        float64  `json:"mape_pct"`
	MaxAbsError float64  `json:"max_abs_error_pct"`
	// Groups holds the MAPE by kind (dense, moe), by GPU and by source,
	// each group's rows in order of first appearance.
	Groups []Group `json:"groups"`
	// Skipped lists the rows that cannot be expressed and why.
	Skipped     []Skipped   `json:"skipped,omitempty"`
	Calibration cost.Params `json:"calibration"`
}

// SourceGroup names the publication a row comes from, coarse enough to
// group rows: the paper, or the repository and release tag.
func SourceGroup(source string) string {
	rules := []struct{ has, name string }{
		{"Korthikanti", "Korthikanti et al. 2022"},
		{"NeMo 24.07", "NeMo 24.07 summary"},
		{"Llama 3 Herd", "Llama 3 paper"},
		{"docs.nvidia.com/nemo-framework", "NeMo docs summaries"},
		{"Automodel", "NeMo AutoModel"},
		{"torchtitan", "torchtitan"},
		{"Megatron-LM", "Megatron-LM docs"},
		{"DeepSeek-V3", "DeepSeek-V3 report"},
	}
	for _, r := range rules {
		if strings.Contains(source, r.has) {
			return r.name
		}
	}
	if i := strings.Index(source, "dgxc-benchmarking tag "); i >= 0 {
		tag := strings.Fields(source[i+len("dgxc-benchmarking tag "):])
		if len(tag) > 0 {
			// v25.05.01 and v25.05 are one release line.
			parts := strings.Split(tag[0], ".")
			return "DGX Cloud " + strings.Join(parts[:min(2, len(parts))], ".")
		}
	}
	if len(source) > 24 {
		return source[:24]
	}
	return source
}

// CalibrationSources are the publications of the 23 rows the calibration
// was first fitted to (Megatron-LM on A100, Korthikanti et al. 2022; NeMo
// 24.07 on H100; Llama 3 405B). The built-in calibration (cost.Default)
// is now fitted over all the public rows; these rows stay a named subset
// that TestPublicSetAccuracy holds to its own bounds.
func CalibrationSources() []string {
	return []string{"Korthikanti et al. 2022", "NeMo 24.07 summary", "Llama 3 paper"}
}

// CalibrationRows returns the rows of rows from CalibrationSources.
func CalibrationRows(rows []Row) []Row {
	var out []Row
	for _, r := range rows {
		if slices.Contains(CalibrationSources(), SourceGroup(r.Source)) {
			out = append(out, r)
		}
	}
	return out
}

// Run predicts every row with the calibration p. A row that cannot be
// expressed (an unknown id, a configuration the model refuses) is listed
// in Skipped with the reason; any other failure is an error.
func Run(rows []Row, p cost.Params) (Report, error) {
	rep := Report{Calibration: p}
	for _, row := range rows {
		c, notes, err := row.Config(p)
		var res train.Result
		if err == nil {
			res, err = train.Analytic(c)
		}
		if err != nil {
			if !errors.Is(err, fault.ErrBadInput) {
				return Report{}, fmt.Errorf("row %s: %w", row.ID, err)
			}
			reason := strings.TrimPrefix(err.Error(), "row "+row.ID+": ")
			rep.Skipped = append(rep.Skipped, Skipped{ID: row.ID, Model: row.Model, GPU: row.GPU, Reason: reason})
			continue
		}
		kind := "dense"
		if c.Model.MoE != nil {
			kind = "moe"
		}
		e := 100 * (res.StepTimeS - row.StepTimeS) / row.StepTimeS
		rep.Rows = append(rep.Rows, Result{
			ID: row.ID, Model: row.Model, GPU: row.GPU, GPUs: row.GPUs, Kind: kind, Source: SourceGroup(row.Source),
			Measured: row.StepTimeS, Predicted: res.StepTimeS, ErrorPct: e,
			MFU: res.MFU, TFLOPs: res.ModelTFLOPsPerGPU, MemoryGiB: res.MemoryGiBPerGPU, Feasible: res.Feasible,
			Assumed: notes, Breakdown: res.Breakdown,
		})
	}
	all := group("all", "all", rep.Rows)
	rep.MAPE, rep.MaxAbsError = all.MAPE, all.MaxAbsError
	rep.Groups = Groups(rep.Rows)
	return rep, nil
}

// Groups returns the MAPE over all rows, then by kind, by GPU and by
// source, each in order of first appearance.
func Groups(rows []Result) []Group {
	out := []Group{group("all", "all", rows)}
	keys := []struct {
		by  string
		key func(Result) string
	}{
		{"kind", func(r Result) string { return r.Kind }},
		{"gpu", func(r Result) string { return r.GPU }},
		{"source", func(r Result) string { return r.Source }},
	}
	for _, k := range keys {
		var names []string
		members := map[string][]Result{}
		for _, r := range rows {
			n := k.key(r)
			if _, ok := members[n]; !ok {
				names = append(names, n)
			}
			members[n] = append(members[n], r)
		}
		for _, n := range names {
			out = append(out, group(k.by, n, members[n]))
		}
	}
	return out
}

func group(by, name string, rows []Result) Group {
	g := Group{By: by, Name: name, Rows: len(rows)}
	for _, r := range rows {
		a := math.Abs(r.ErrorPct)
		g.MAPE += a
		g.MaxAbsError = math.Max(g.MaxAbsError, a)
	}
	if len(rows) > 0 {
		g.MAPE /= float64(len(rows))
	}
	return g
}
