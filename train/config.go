// Package train predicts the step time, throughput, MFU and memory of a
// training job: per-operation costs from the cost package, collectives
// from the network package, composed over the pipeline schedule.
package train

import (
	"fmt"
	"slices"
	"strings"

	"github.com/scaleacross/scaleacross/cost"
	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/parallel"
	"github.com/scaleacross/scaleacross/schedule"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/topology"
)

// Config is a fully resolved training job.
type Config struct {
	Model     *model.Model
	GPU       *hardware.GPU
	GPUs      int
	Topology  topology.Topology
	Placement []topology.Dim
	Parallel  parallel.Config
	Schedule  schedule.Kind
	Batch     parallel.Batch
	Precision hardware.Precision
	Recompute parallel.Recompute
	Calib     cost.Params
	// P2P overrides the schedule's pipeline-send mode
	// (schedule.Kind.OverlapsP2P): P2POverlapped or P2PBlocking; empty
	// keeps the schedule's.
	P2P string
	// GradSync is how ZeRO-0 gradients are all-reduced:
	// GradSyncBucketed (empty, overlapped with the last backward) or
	// GradSyncPerTensor (each tensor in turn after the whole backward).
	GradSync string
	// ZeRO3Gather is how ZeRO-3 gathers parameters: ZeRO3Prefetched
	// (empty: gathered ahead of every forward and backward under compute)
	// or ZeRO3FlatRoot (one unit gathered before each forward and kept for
	// the backward, nothing overlapped).
	ZeRO3Gather string
	// UnfusedAttention models attention as separate score and value GEMMs
	// with a materialised softmax and dropout (Megatron-LM before fused
	// attention kernels, as in Korthikanti et al. 2022); the default is
	// fused (flash) attention.
	UnfusedAttention bool
	// HeadClasses, when positive, replaces the language-model head and its
	// vocabulary-wide loss with a sequence classifier over that many
	// classes on one pooled token per sequence (GLUE-style fine-tuning, as
	// DS3Lab's GPT-3 Small runs on QQP). Zero keeps the LM head.
	HeadClasses int
	// Routing is how the MoE router spreads tokens (RoutingDropless when
	// empty): see RoutingImbalance.
	Routing Routing
	// CapacityFactor, when positive, caps each expert's tokens at that
	// multiple of the mean and pads to the cap.
	CapacityFactor float64
	// SharedExpertOverlap hides the dispatch all-to-all behind the shared
	// experts' GEMMs; A2AOverlap hides the expert all-to-all behind
	// another micro-batch's compute (both Megatron-Core options, off by
	// default as in its defaults).
	SharedExpertOverlap, A2AOverlap bool
	// Dispatcher is the MoE token dispatcher (cost.Dispatcher): its
	// permutation passes around the expert all-to-all. The zero value is
	// Megatron-Core's default all-to-all dispatcher.
	Dispatcher cost.Dispatcher
	// UnfusedPermute runs the MoE router passes and token permutations as
	// PyTorch gathers and atomic scatter-adds, at
	// cost.Params.PermuteEfficiency of HBM bandwidth: Megatron-Core's
	// default, with --moe-permute-fusion off. The zero value is the fused
	// kernels (Transformer Engine's moe_permute and moe_unpermute, and the
	// router fusion) at the memory efficiency of streaming kernels, which
	// Megatron-Bridge's and NeMo's current MoE recipes set
	// (moe_permute_fusion = True in their DeepSeek, Qwen3 and Llama 4
	// configurations).
	UnfusedPermute bool
	// FP8Dispatch sends the dispatched tokens in 8 bits under 8-bit
	// training, as DeepSeek-V3's own kernels do (its report, section
	// 3.3); Megatron-Core dispatches 16-bit activations whatever the GEMM
	// precision ("MXFP8 data needs to be communicated, such as in TP and
	// EP Dispatch (which are not yet supported)", NVIDIA/Megatron-LM@eb0783b6d3
	// docs/discussions/deepseek-v3-gb200-optimization, section 2.1.3), so it
	// is off by default.
	FP8Dispatch bool
	// CUDAGraphs is the parts of each layer captured in CUDA graphs
	// (Megatron-Core's --cuda-graph-scope under --cuda-graph-impl
	// transformer_engine): each costs the host one graph launch per pass
	// in place of its operations (cost.Layer.HostOps). The zero value
	// captures nothing, Megatron-Core's default.
	CUDAGraphs cost.GraphScope
	// UnfusedQuantAlloc prices MXFP8 quantisation as Transformer Engine
	// ran it before its fused allocation and swizzle (cost.HostInput); the
	// zero value is the fused form, enabled by default since.
	UnfusedQuantAlloc bool
	// RouterFusion runs the MoE router's element-wise work in fused
	// kernels (--moe-router-fusion; off by default in Megatron-Core).
	RouterFusion bool
	// GroupedKernel runs each grouped expert GEMM as one kernel
	// (torchtitan's torch._grouped_mm); the zero value is one GEMM per
	// local expert (Transformer Engine's GroupedLinear, Megatron-Core's
	// --moe-grouped-gemm).
	GroupedKernel bool
	// Assumptions lists defaults the resolver filled in.
	Assumptions []string
}

// Routing names how an MoE router spreads tokens over the experts.
type Routing string

// Routings: learned and dropless (Megatron-Core's default with the
// auxiliary load-balancing loss), or forced uniform.
const (
	RoutingDropless      Routing = "dropless"
	RoutingForceBalanced Routing = "force-balanced"
)

// MaxCapacityFactor bounds training.moe_capacity_factor: at the factor of
// the experts per token (top-k) every expert can take every token.
const MaxCapacityFactor = 64

// ParseRouting checks training.moe_routing and training.moe_capacity_factor.
func ParseRouting(name string, capacity float64) (Routing, float64, error) {
	r := Routing(strings.ToLower(strings.TrimSpace(name)))
	switch r {
	case "":
		r = RoutingDropless
	case RoutingDropless, RoutingForceBalanced:
	default:
		return "", 0, fault.Field("training.moe_routing", "unknown routing %q; use dropless or force-balanced", name)
	}
	if !(capacity >= 0 && capacity <= MaxCapacityFactor) {
		return "", 0, fault.Field("training.moe_capacity_factor", "must be between 0 (dropless) and %d, got %g", MaxCapacityFactor, capacity)
	}
	return r, capacity, nil
}

// ParseDispatcher checks training.moe_dispatcher: alltoall (the default),
// deepep and hybridep (fused dispatchers, cost.DispatchFused) or torch.
func ParseDispatcher(name string) (cost.Dispatcher, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "alltoall":
		return cost.DispatchAllToAll, nil
	case "deepep", "hybridep":
		return cost.DispatchFused, nil
	case "torch":
		return cost.DispatchTorch, nil
	}
	return 0, fault.Field("training.moe_dispatcher", "unknown dispatcher %q; use alltoall, deepep, hybridep or torch", name)
}

// ParseGraphScope checks training.cuda_graph_scope: Megatron-Core's
// scope names (cost.ParseGraphScope), each at most once, moe_preprocess
// only with moe_router, as Megatron-Core requires.
func ParseGraphScope(names []string) (cost.GraphScope, error) {
	var s cost.GraphScope
	for _, n := range names {
		g, ok := cost.ParseGraphScope(n)
		if !ok {
			return 0, fault.Field("training.cuda_graph_scope", "unknown scope %q; use attn, mlp, moe_router or moe_preprocess", n)
		}
		if s&g != 0 {
			return 0, fault.Field("training.cuda_graph_scope", "scope %q given twice", n)
		}
		s |= g
	}
	if s&cost.GraphMoEPreprocess != 0 && s&cost.GraphMoERouter == 0 {
		return 0, fault.Field("training.cuda_graph_scope", "moe_preprocess must come with moe_router (Megatron-Core captures the preprocess with the router)")
	}
	return s, nil
}

// Bounds the resolver checks before any arithmetic on the batch: seq_len,
// global_batch and micro_batch at most MaxBatchTokens (16M), model chunks
// per pipeline rank at most MaxChunks.
const (
	MaxBatchTokens = 1 << 24
	MaxChunks      = 1024
)

// Pipeline-send modes (Config.P2P).
const (
	P2POverlapped = "overlapped"
	P2PBlocking   = "blocking"
)

// SIMTGEMMRatio is how much nearer its peak a large FP32 GEMM on the
// CUDA cores (SIMT, no tensor cores) runs than a tensor-core FP16 one, as
// measured on a V100 16GB with PyTorch 1.13 and CUDA 11.7: square matmuls
// (n = 8192) reach 14 of 15.7 TFLOPS in FP32 (0.89 of peak) and 95 of 125
// TFLOPS in FP16 (0.76) (mli/transformers-benchmarks@04df81d, README
// micro-benchmarking summary and micro_bench.ipynb). The calibrated
// GEMMEfficiency is a tensor-core fraction (fitted over A100, H100 and
// later rows), so fp32 GEMMs take it times this ratio.
const SIMTGEMMRatio = (14 / 15.7) / (95.0 / 125)

// FP32View is g as fp32 training sees it: its 16-bit peaks replaced by
// its FP32 peak, so that every cost priced at the 16-bit rate (GEMMs,
// attention) runs at the FP32 rate (the V100's 15.7 TFLOPS rather than its
// 125 TFLOPS FP16 tensor cores), scaled by SIMTGEMMRatio: the cost model
// applies the tensor-core GEMM efficiency to whatever peak it is given,
// and a SIMT GEMM reaches a larger share of its own. A GPU without an
// FP32 peak is returned as it is.
func FP32View(g *hardware.GPU) *hardware.GPU {
	pk, ok := g.PeakTFLOPS(hardware.FP32)
	if !ok {
		return g
	}
	v := *g
	v.Peaks = nil
	for _, p := range g.Peaks {
		if p.Precision == hardware.FP16 || p.Precision == hardware.BF16 {
			p.TFLOPS = pk * SIMTGEMMRatio
		}
		v.Peaks = append(v.Peaks, p)
	}
	return &v
}

// ParsePrecision checks a training precision name.
func ParsePrecision(s string) (hardware.Precision, error) {
	switch p := hardware.Precision(strings.ToLower(s)); p {
	case hardware.BF16, hardware.FP16, hardware.FP8, hardware.MXFP8, hardware.NVFP4, hardware.FP32:
		return p, nil
	case "":
		return hardware.BF16, nil
	}
	return "", fault.Field("training.precision", "unknown precision %q; use bf16, fp16, fp8, mxfp8, nvfp4 or fp32", s)
}

// ResolveTarget looks up the job's model and GPU, checks the GPU count,
// and parses the training precision, which the GPU must support. Both the
// step model and the Explorer start from it.
func ResolveTarget(j *spec.Job, lookupModel func(string) (*model.Model, error), lookupGPU func(string) (*hardware.GPU, error)) (*model.Model, *hardware.GPU, hardware.Precision, error) {
	if j.Model == "" {
		return nil, nil, "", fault.Field("model", "is required (a catalog id such as llama3.1-405b, or a path to a config.json)")
	}
	m, err := lookupModel(j.Model)
	if err != nil {
		return nil, nil, "", fmt.Errorf("model: %w", err)
	}
	if m, err = ApplyOverrides(m, j.ModelOverrides); err != nil {
		return nil, nil, "", err
	}
	if j.System.GPU == "" {
		return nil, nil, "", fault.Field("system.gpu", "is required (a catalog id such as h100-sxm)")
	}
	g, err := lookupGPU(j.System.GPU)
	if err != nil {
		return nil, nil, "", fmt.Errorf("system.gpu: %w", err)
	}
	if j.System.GPUs == 0 {
		return nil, nil, "", fault.Field("system.gpus", "is required: give a positive integer")
	}
	if j.System.GPUs < 0 {
		return nil, nil, "", fault.Field("system.gpus", "must be a positive integer, got %d", j.System.GPUs)
	}
	if j.System.GPUs > topology.MaxGPUs {
		return nil, nil, "", fault.Field("system.gpus", "%d is over the limit of %d GPUs", j.System.GPUs, topology.MaxGPUs)
	}
	for _, b := range []struct {
		f string
		v int
	}{{"training.seq_len", j.Training.SeqLen}, {"training.global_batch", j.Training.GlobalBatch}, {"training.micro_batch", j.Training.MicroBatch}} {
		if b.v > MaxBatchTokens {
			return nil, nil, "", fault.Field(b.f, "%d is over the limit of %d", b.v, MaxBatchTokens)
		}
	}
	prec, err := ParsePrecision(j.Training.Precision)
	if err != nil {
		return nil, nil, "", err
	}
	if _, ok := g.PeakTFLOPS(prec); !ok && prec != hardware.BF16 {
		return nil, nil, "", fault.Field("training.precision", "%s has no %s tensor cores; choose a precision it supports", g.ID, prec)
	}
	return m, g, prec, nil
}

// ApplyOverrides returns m with the job's model overrides applied (the
// resolver and validate both call it): a
// layers override keeps the model's first layers (its dense/MoE and
// local/global pattern as in the full model) and says so in the name and
// the assumptions. m itself is not modified.
func ApplyOverrides(m *model.Model, o *spec.ModelOverrides) (*model.Model, error) {
	if o == nil {
		return m, nil
	}
	if o.MTPLayers != nil && *o.MTPLayers != m.MTPLayers {
		n := *o.MTPLayers
		if n < 0 || n > 16 {
			return nil, fault.Field("model_overrides.mtp_layers", "must be between 0 and 16, got %d", n)
		}
		p := *m
		p.MTPLayers = n
		p.Assumptions = append(slices.Clone(m.Assumptions), fmt.Sprintf("model_overrides.mtp_layers: %d multi-token-prediction layers (the catalog has %d)", n, m.MTPLayers))
		m = &p
	}
	if o.Layers == 0 {
		return m, nil
	}
	if o.Layers < 0 {
		return nil, fault.Field("model_overrides.layers", "must be a positive integer, got %d", o.Layers)
	}
	if o.Layers > m.Layers {
		return nil, fault.Field("model_overrides.layers", "%d is more than the %d layers of %s; a proxy run trains fewer layers", o.Layers, m.Layers, m.ID)
	}
	if o.Layers == m.Layers {
		return m, nil
	}
	p := *m
	if m.MoE != nil {
		x := *m.MoE
		x.FirstDense = min(x.FirstDense, o.Layers)
		p.MoE = &x
	}
	p.Layers = o.Layers
	p.Name = fmt.Sprintf("%s (proxy: %d of %d layers)", m.Name, o.Layers, m.Layers)
	p.Assumptions = append(slices.Clone(m.Assumptions), fmt.Sprintf("model_overrides.layers: a proxy of %s with its first %d of %d layers", m.ID, o.Layers, m.Layers))
	if err := p.Validate(); err != nil {
		return nil, fault.Field("model_overrides.layers", "%v", err)
	}
	return &p, nil
}

// GPUAlias is the assumption to list when system.gpu named an alias of
// the catalog GPU g (h100 for h100-sxm), or "" when it named g's own id.
func GPUAlias(given string, g *hardware.GPU) string {
	if strings.ToLower(strings.TrimSpace(given)) == g.ID {
		return ""
	}
	return fmt.Sprintf("system.gpu %q is an alias: %s (%s)", strings.TrimSpace(given), g.ID, g.Name)
}

// Resolve turns a job spec into a Config: it looks up the model and GPU,
// fills defaults (recorded in Assumptions) and validates everything.
func Resolve(j *spec.Job, lookupModel func(string) (*model.Model, error), lookupGPU func(string) (*hardware.GPU, error)) (*Config, error) {
	m, g, prec, err := ResolveTarget(j, lookupModel, lookupGPU)
	if err != nil {
		return nil, err
	}
	c := &Config{Model: m, GPU: g, GPUs: j.System.GPUs, Calib: cost.Default(), Precision: prec}
	if prec == hardware.FP32 {
		c.GPU = FP32View(g)
		c.Assumptions = append(c.Assumptions, "training.precision fp32: GEMMs and attention on the CUDA cores at the GPU's FP32 peak (their share of it as measured on V100), pipeline messages and gradients in 4 bytes; element-wise traffic and memory counted as in 16-bit training")
	}
	if a := GPUAlias(j.System.GPU, g); a != "" {
		c.Assumptions = append(c.Assumptions, a)
	}
	if c.Recompute, err = parallel.ParseRecompute(j.Training.Recompute); err != nil {
		return nil, err
	}
	if c.Routing, c.CapacityFactor, err = ParseRouting(j.Training.MoERouting, j.Training.MoECapacityFactor); err != nil {
		return nil, err
	}
	c.SharedExpertOverlap, c.A2AOverlap = j.Training.MoESharedExpertOverlap, j.Training.MoEA2AOverlap
	if c.Dispatcher, err = ParseDispatcher(j.Training.MoEDispatcher); err != nil {
		return nil, err
	}
	c.FP8Dispatch = j.Training.MoEFP8Dispatch
	c.UnfusedPermute = j.Training.MoEPermuteFusion != nil && !*j.Training.MoEPermuteFusion
	c.RouterFusion = j.Training.MoERouterFusion
	if c.CUDAGraphs, err = ParseGraphScope(j.Training.CUDAGraphScope); err != nil {
		return nil, err
	}
	if m.MoE != nil && len(j.Training.CUDAGraphScope) == 0 {
		// Where the host shows: an MoE layer's dispatcher synchronises
		// with the host every forward (cost.ExposedHost); dense layers'
		// GPU work hides the host's at the fitted cost.
		c.Assumptions = append(c.Assumptions, fmt.Sprintf("training.cuda_graph_scope not given: eager (Megatron-Core's default), the host issuing every operation at %.1f us (x%.2f on Grace hosts, cost.Params.HostOpUs)", c.Calib.HostOpUs, cost.GraceHostFactor))
	}
	if m.MoE != nil && j.Training.MoERouting == "" && j.Training.MoECapacityFactor == 0 {
		c.Assumptions = append(c.Assumptions, "training.moe_routing not given: dropless (learned routing; the busiest GPU's experts take the measured imbalance, cost.Params.RoutingImbalance)")
	}
	if j.Training.Precision == "" {
		c.Assumptions = append(c.Assumptions, "training.precision not given: bf16")
	}
	if j.Training.Recompute == "" {
		c.Assumptions = append(c.Assumptions, "training.recompute not given: none")
	}
	c.Batch = parallel.Batch{SeqLen: j.Training.SeqLen, GlobalBatch: j.Training.GlobalBatch, MicroBatch: j.Training.MicroBatch}
	if c.Batch.MicroBatch == 0 {
		c.Batch.MicroBatch = 1
		c.Assumptions = append(c.Assumptions, "training.micro_batch not given: 1")
	}
	p := j.Parallel
	pc := parallel.Config{TP: orOne(p.TP), PP: orOne(p.PP), VP: orOne(p.VP), CP: orOne(p.CP), EP: orOne(p.EP), ETP: p.ETP, DP: p.DP, LayersPerStage: p.LayersPerStage}
	vpUnset := p.VP == 0
	if p.PipelineLayout != "" {
		if pc.Layout, err = parallel.ParseLayout(p.PipelineLayout); err != nil {
			return nil, err
		}
		if vpUnset && pc.PP > 0 && len(pc.Layout.Stages)%pc.PP == 0 {
			// The layout implies vp (Megatron-Core: vp = stages / pp).
			pc.VP = len(pc.Layout.Stages) / pc.PP
			vpUnset = false
		}
	}
	for _, d := range []struct {
		f string
		v int
	}{{"parallel.tp", p.TP}, {"parallel.pp", p.PP}, {"parallel.vp", p.VP}, {"parallel.cp", p.CP}, {"parallel.ep", p.EP}, {"parallel.etp", p.ETP}, {"parallel.dp", p.DP}} {
		if d.v < 0 {
			return nil, fault.Field(d.f, "must be a positive integer, got %d", d.v)
		}
		if d.v > c.GPUs && d.f != "parallel.vp" {
			return nil, fault.Field(d.f, "%d is more than system.gpus (%d)", d.v, c.GPUs)
		}
	}
	if pc.VP > MaxChunks {
		return nil, fault.Field("parallel.vp", "%d model chunks is over the limit of %d", pc.VP, MaxChunks)
	}
	if pc.DP == 0 {
		inner := pc.TP * pc.PP // each at most GPUs (2^24): no overflow
		if inner > c.GPUs || inner*pc.CP > c.GPUs {
			return nil, fault.Field("parallel", "tp*pp*cp = %d*%d*%d is more than system.gpus = %d", pc.TP, pc.PP, pc.CP, c.GPUs)
		}
		inner *= pc.CP
		if c.GPUs%inner != 0 {
			return nil, fault.Field("parallel", "tp*pp*cp = %d does not divide system.gpus = %d", inner, c.GPUs)
		}
		pc.DP = c.GPUs / inner
	}
	pc.SP = pc.TP > 1
	if p.SP != nil {
		pc.SP = *p.SP
	}
	pc.Zero = 1
	if p.Zero != nil {
		pc.Zero = *p.Zero
	} else {
		c.Assumptions = append(c.Assumptions, "parallel.zero not given: 1 (distributed optimizer)")
	}
	c.Parallel = pc
	if c.Schedule, err = resolveSchedule(j.Schedule, &c.Parallel, vpUnset, &c.Assumptions); err != nil {
		return nil, err
	}
	if err := c.Parallel.Validate(m, c.GPUs, c.Batch); err != nil {
		return nil, err
	}
	if v := parallel.MTPStage(m, c.Parallel); v >= 0 && c.Parallel.Layout == nil {
		c.Assumptions = append(c.Assumptions, fmt.Sprintf("%d MTP layer(s) of %s on the last virtual stage, with the loss (Megatron-Core); model_overrides.mtp_layers: 0 turns them off", m.MTPLayers, m.ID))
	}
	if s, err := c.Parallel.Split(m.Layers); err == nil && s.Explicit != nil && len(c.Parallel.LayersPerStage) == 0 && c.Parallel.Layout == nil {
		c.Assumptions = append(c.Assumptions, fmt.Sprintf("the %d layers do not split evenly over pp*vp = %d stages: the embedding and the loss count as one layer each (Megatron-Core), decoder layers per stage %v", m.Layers, len(s.Explicit), s.Explicit))
	}
	if _, err := c.Schedule.Check(c.ScheduleParams()); err != nil {
		return nil, err
	}
	pc = c.Parallel
	topo, sysAssumed, err := ResolveSystem(j, g, c.GPUs, true)
	if err != nil {
		return nil, err
	}
	c.Topology = topo
	c.Assumptions = append(c.Assumptions, sysAssumed...)
	var why string
	c.Placement, why = DefaultPlacement(m, pc)
	if len(j.Placement) > 0 {
		if c.Placement, err = topology.ParsePlacement(j.Placement); err != nil {
			return nil, err
		}
	}
	if j.CrossSite != "" {
		d, err := topology.ParsePlacement([]string{j.CrossSite})
		if err != nil {
			return nil, fault.Field("cross_site", "unknown dimension %q; use tp, cp, ep, dp or pp", j.CrossSite)
		}
		c.Placement = topology.PutOutermost(c.Placement, d[0])
	}
	if len(j.Placement) == 0 && why != "" {
		c.Assumptions = append(c.Assumptions, why)
	}
	l, err := c.Layout()
	if err != nil {
		return nil, err
	}
	if j.CrossSite != "" {
		d := topology.Dim(strings.ToLower(strings.TrimSpace(j.CrossSite)))
		deg := map[topology.Dim]int{topology.TP: pc.TP, topology.CP: pc.CP, topology.EP: pc.EP, topology.DP: pc.DP, topology.PP: pc.PP}[d]
		if err := topology.CheckCrossSite(c.Topology, l, d, deg); err != nil {
			return nil, err
		}
	}
	if why := EPDomainNote(c, l); why != "" {
		c.Assumptions = append(c.Assumptions, why)
	}
	c.Assumptions = append(c.Assumptions, m.Assumptions...)
	return c, nil
}

// DeepEP's normal (high-throughput) kernels address at most
// NUM_MAX_NVL_PEERS = 8 GPUs over NVLink and NUM_MAX_RDMA_PEERS = 20 nodes
// over RDMA, and a group beyond one node must be whole nodes of 8
// (deepseek-ai/DeepEP csrc/deep_ep.cpp, Buffer's constructor asserts
// num_ranks <= NUM_MAX_NVL_PEERS * NUM_MAX_RDMA_PEERS and num_ranks < 8 or
// num_ranks % 8 == 0). Megatron-Bridge's HybridEP settings refuse ep > 72
// on NVL72 systems ("HybridEP expert parallel size must not exceed the
// 72-rank NVLink domain", scripts/performance/utils; reference/moe.md
// section 3).
const (
	deepEPNVLPeers  = 8
	deepEPRDMAPeers = 20
	hybridEPMaxNVL  = 72
)

// EPDomainNote says, for an MoE job whose expert-parallel group laid out
// as l leaves the innermost topology level (the NVLink domain), how much
// of the expert all-to-all crosses the slower level and which dispatchers
// would refuse the group; empty when the group stays inside the domain.
// No refusal follows: the dispatcher ScaleAcross prices and launch writes,
// Megatron-Core's alltoall over NCCL, runs an ep group of any span (its
// MoE README only advises keeping ep*tp inside the NVLink domain), and
// DeepEP's internode kernels and HybridEP on 8-GPU systems cross NICs by
// design. Only the flex dispatchers, which ScaleAcross does not price,
// forbid some spans, and the note names them.
func EPDomainNote(c *Config, l topology.Layout) string {
	p := c.Parallel
	if c.Model.MoE == nil || p.EP <= 1 || len(c.Topology.Levels) < 2 {
		return ""
	}
	span := l.Spans[topology.EP]
	out := span.Outermost()
	if out < 1 || len(span.Factors) == 0 {
		return ""
	}
	inside := span.Factors[0]
	domain := c.Topology.Levels[0]
	far := c.Topology.Levels[out]
	var refuse []string
	if p.EP > deepEPNVLPeers && (p.EP%deepEPNVLPeers != 0 || p.EP > deepEPNVLPeers*deepEPRDMAPeers || domain.Size != deepEPNVLPeers) {
		refuse = append(refuse, fmt.Sprintf("DeepEP's normal kernels (whole 8-GPU NVLink nodes, at most %d ranks)", deepEPNVLPeers*deepEPRDMAPeers))
	}
	if c.GPU.ScaleUpSize == hybridEPMaxNVL && p.EP > hybridEPMaxNVL {
		refuse = append(refuse, fmt.Sprintf("Megatron-Bridge's HybridEP (ep at most %d on NVL72)", hybridEPMaxNVL))
	}
	would := "DeepEP's internode kernels and HybridEP also run it"
	if len(refuse) > 0 {
		would = "the flex dispatchers would refuse it: " + strings.Join(refuse, "; ")
	}
	// Under uniform routing the share of tokens leaving is the share of ep
	// ranks outside the GPU's domain, written in lowest terms.
	num, den := p.EP-inside, p.EP
	g := gcd(num, den)
	num, den = num/g, den/g
	return fmt.Sprintf("the expert all-to-all leaves the NVLink domain: ep=%d spans %d %s units of %d GPUs (%d ep ranks in each), so %d/%d of each GPU's dispatched tokens cross %s at %g Gb/s; priced as Megatron-Core's alltoall dispatcher over NCCL, which allows it (%s)",
		p.EP, p.EP/inside, domain.Name, domain.Size, inside, num, den, far.Name, far.BandwidthGbps, would)
}

// MegatronMoEPlacement is Megatron-Core's rank order tp-cp-ep-dp-pp
// (megatron/core/parallel_state.py, order "tp-cp-ep-dp-pp"; reference/
// moe.md section 1), innermost first: the expert-parallel group sits just
// outside tp*cp, inside a pipeline stage, and pp is outermost.
func MegatronMoEPlacement() []topology.Dim {
	return []topology.Dim{topology.TP, topology.CP, topology.EP, topology.DP, topology.PP}
}

// DefaultPlacement is the rank order of a job whose spec names none, and
// the assumption to list: a mixture-of-experts model with expert
// parallelism runs in Megatron-Core's order (MegatronMoEPlacement), the
// framework of the public MoE measurements, so that its all-to-all stays
// inside a pipeline stage; every other job keeps Llama 3's order
// (topology.DefaultPlacement, which a spec can still name for MoE jobs:
// placement: [tp, cp, pp, ep, dp]).
func DefaultPlacement(m *model.Model, p parallel.Config) ([]topology.Dim, string) {
	if m.MoE != nil && p.EP > 1 {
		return MegatronMoEPlacement(), "placement not given: tp, cp, ep, dp, pp (Megatron-Core's rank order for MoE jobs: the ep group inside a pipeline stage)"
	}
	return topology.DefaultPlacement(), ""
}

// NVL72TrayGPUs is the GPU count of one GB200/GB300 NVL72 compute tray,
// the Slurm node Megatron-Bridge places by (scripts/performance/utils/
// executors.py: 4-GPU nodes; reference/moe.md section 3).
const NVL72TrayGPUs = 4

// nvl72MaxTrays is the trays of one NVL72 rack (72 GPUs / 4).
const nvl72MaxTrays = 18

// DefaultTopology is the topology of a job whose spec gives none, and the
// assumption to list. On an NVL72 system (a GPU whose scale-up domain is
// 72) the NVLink domain is the Slurm segment Megatron-Bridge requests
// (executors.py): all the trays when there are at most 18, else the
// largest divisor of the tray count that is at most 18, so 256 GPUs (64
// trays) run in 64-GPU NVLink domains and 144 GPUs in two racks of 72.
// Other GPUs take topology.Default.
func DefaultTopology(g *hardware.GPU, gpus int) (topology.Topology, string) {
	if g.ScaleUpSize != nvl72MaxTrays*NVL72TrayGPUs || gpus%NVL72TrayGPUs != 0 {
		return topology.Default(g, gpus), ""
	}
	trays := gpus / NVL72TrayGPUs
	seg := trays
	if trays > nvl72MaxTrays {
		seg = nvl72MaxTrays
		for trays%seg != 0 {
			seg--
		}
	}
	x := *g
	x.ScaleUpSize = seg * NVL72TrayGPUs
	why := fmt.Sprintf("system.topology not given: NVLink domains of %d GPUs (%d of the NVL72's 18 trays of 4; Megatron-Bridge's Slurm segment, the largest divisor of the %d trays up to 18), %g Gb/s NICs between them", x.ScaleUpSize, seg, trays, g.NICGbps)
	return topology.Default(&x, gpus), why
}

// ResolveSystem builds the job's topology: system.topology, or the
// default for the GPU (DefaultTopology) with what it assumed, and the
// network section's transport on the site levels. The algorithm is
// applied too when fixAlgorithm is set (simulate); the Explorer leaves it
// open and searches it. simulate, plan and the dashboard all resolve the
// system here, so a plan is searched on the topology simulate runs.
func ResolveSystem(j *spec.Job, g *hardware.GPU, gpus int, fixAlgorithm bool) (topology.Topology, []string, error) {
	var t topology.Topology
	var assumed []string
	if j.System.Topology != nil {
		var err error
		if t, err = topology.FromSpec(j.System.Topology, gpus); err != nil {
			return topology.Topology{}, nil, err
		}
	} else {
		var why string
		t, why = DefaultTopology(g, gpus)
		if why == "" {
			why = "system.topology not given: one NVLink node level and one full-bisection scale-out level, so no level crosses sites"
		}
		assumed = append(assumed, why)
	}
	if n := j.Network; n != nil {
		if _, err := network.LookupTechnology(n.Transport, "network.transport"); err != nil {
			return topology.Topology{}, nil, err
		}
		if _, err := network.ParseAlgorithm(n.Algorithm, "network.algorithm"); err != nil {
			return topology.Topology{}, nil, err
		}
		if len(t.SiteLevels()) == 0 && (n.Transport != "" || n.Algorithm != "") {
			return topology.Topology{}, nil, fault.Field("network", "the topology has no site-to-site level (one with distance_km or link_capacity_gbps, or named building/region); describe the sites in system.topology.levels, or set transport on a level there")
		}
		algo := ""
		if fixAlgorithm {
			algo = n.Algorithm
		}
		t = t.WithSiteTransport(strings.ToLower(strings.TrimSpace(n.Transport)), algo, false)
	}
	if err := network.CheckTopology(t); err != nil {
		return topology.Topology{}, nil, err
	}
	return t, assumed, nil
}

func orOne(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

// resolveSchedule parses the job's schedule name (schedule.ParseKind:
// aliases, nearest-name suggestions) and settles the defaults that depend
// on it: no name means 1f1b, or interleaved-1f1b with vp > 1; a V schedule
// without vp gets its two chunks; interleaved-1f1b with one chunk is plain
// 1F1B. Each default is recorded in assumed.
func resolveSchedule(name string, p *parallel.Config, vpUnset bool, assumed *[]string) (schedule.Kind, error) {
	if name == "" {
		k := schedule.OneFOneB
		if p.VP > 1 {
			k = schedule.Interleaved
		}
		*assumed = append(*assumed, fmt.Sprintf("schedule not given: %s", k))
		return k, nil
	}
	k, err := schedule.ParseKind(name)
	if err != nil {
		return "", err
	}
	if vpUnset && k.DefaultChunks() > 1 {
		p.VP = k.DefaultChunks()
		*assumed = append(*assumed, fmt.Sprintf("%s: vp not given, %d (V placement)", k, p.VP))
	}
	if k == schedule.Interleaved && p.VP == 1 {
		*assumed = append(*assumed, "interleaved-1f1b with vp 1 is 1f1b")
		k = schedule.OneFOneB
	}
	return k, nil
}

// ScheduleParams are the schedule parameters of c as the resolver and the
// Explorer check them: stages, micro-batches and chunks. The step engines
// add the latency-aware schedule's warm-up plan (Evaluate's schedule).
func (c *Config) ScheduleParams() schedule.Params {
	p := c.Parallel
	return schedule.Params{Stages: p.PP, MicroBatches: p.MicroBatches(c.Batch), Chunks: p.VP}
}

// Layout places the parallel groups on the topology. With etp = tp the
// expert-parallel group is carved out of cp*dp as before; with etp < tp
// (Megatron-Core's MoE parallel folding) the ep group is laid on the
// expert grid: see expertGrid.
func (c *Config) Layout() (topology.Layout, error) {
	p := c.Parallel
	deg := map[topology.Dim]int{
		topology.TP: p.TP, topology.CP: p.CP, topology.PP: p.PP, topology.DP: p.DP, topology.EP: p.EP,
	}
	if p.ExpertTP() == p.TP {
		return topology.Place(c.Topology, c.Placement, deg)
	}
	deg[topology.EP] = 1
	l, err := topology.Place(c.Topology, c.Placement, deg)
	if err != nil {
		return topology.Layout{}, err
	}
	x, err := c.expertGrid()
	if err != nil {
		return topology.Layout{}, err
	}
	l.Spans[topology.EP] = x.Spans[topology.EP]
	l.Stride[topology.EP] = x.Stride[topology.EP]
	return l, nil
}

// grid is Layout as a topology.Grid, for a configuration whose expert
// groups take the attention grid's tp (ExpertTP() == TP), where Layout
// is Place of the same degrees.
func (c *Config) grid() (topology.Grid, error) {
	return topology.PlaceGrid(c.Topology, c.Placement, c.gridDegrees())
}

// gridDegrees are the degrees grid lays out, by topology.DimIndex.
func (c *Config) gridDegrees() [topology.NumDims]int {
	p := c.Parallel
	var deg [topology.NumDims]int
	deg[topology.DimIndex(topology.TP)] = p.TP
	deg[topology.DimIndex(topology.CP)] = p.CP
	deg[topology.DimIndex(topology.EP)] = p.EP
	deg[topology.DimIndex(topology.PP)] = p.PP
	deg[topology.DimIndex(topology.DP)] = p.DP
	return deg
}

// expertGrid lays out the expert grid etp*ep*edp*pp on the attention
// grid's ranks as Megatron-Core orders them: etp innermost inside each tp
// group, then ep over the rest of tp, cp and as much of dp as it needs
// (reference/moe.md section 1). It places the attention grid with tp cut
// to etp and cp widened by tp/etp, so that the expert groups take the
// attention grid's placement; its tp span is the etp group, its ep span
// the ep group.
func (c *Config) expertGrid() (topology.Layout, error) {
	p := c.Parallel
	etp := p.ExpertTP()
	if etp <= 0 || p.TP%etp != 0 {
		return topology.Layout{}, fault.Field("parallel.etp", "etp=%d must divide tp=%d", etp, p.TP)
	}
	l, err := topology.Place(c.Topology, c.Placement, map[topology.Dim]int{
		topology.TP: etp, topology.CP: p.CP * p.TP / etp, topology.PP: p.PP, topology.DP: p.DP, topology.EP: p.EP,
	})
	if err != nil {
		return topology.Layout{}, fmt.Errorf("expert grid (etp=%d ep=%d over tp*cp = %d): %w", etp, p.EP, p.TP*p.CP, err)
	}
	return l, nil
}

// expertTPSpan is the span of the expert tensor-parallel group: the tp
// group itself when etp = tp, else the expert grid's etp group.
func (c *Config) expertTPSpan(l topology.Layout) (topology.Span, error) {
	if c.Parallel.ExpertTP() == c.Parallel.TP {
		return l.Spans[topology.TP], nil
	}
	x, err := c.expertGrid()
	if err != nil {
		return topology.Span{}, err
	}
	return x.Spans[topology.TP], nil
}
