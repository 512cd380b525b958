package spec

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Job is a training job spec (DESIGN.md section 2). Omitted parallel
// degrees are left zero for the Explorer (or defaulted by Resolve).
// Placement lists the dimensions innermost first (tp, cp, ep, dp, pp);
// CrossSite names the one dimension laid across the sites (it is moved
// outermost); Network chooses the transport and collective algorithm
// between sites.
type Job struct {
	Model     string   `yaml:"model" json:"model"`
	System    System   `yaml:"system" json:"system"`
	Parallel  Parallel `yaml:"parallel" json:"parallel"`
	Placement []string `yaml:"placement,omitempty" json:"placement,omitempty"`
	CrossSite string   `yaml:"cross_site,omitempty" json:"cross_site,omitempty"`
	Network   *Network `yaml:"network,omitempty" json:"network,omitempty"`
	Schedule  string   `yaml:"schedule,omitempty" json:"schedule,omitempty"`
	Training  Training `yaml:"training" json:"training"`
	Search    *Search  `yaml:"search,omitempty" json:"search,omitempty"` // Explorer constraints (plan only)
	// ModelOverrides changes dimensions of the catalog model for this job
	// (a proxy run with fewer layers).
	ModelOverrides *ModelOverrides `yaml:"model_overrides,omitempty" json:"model_overrides,omitempty"`
}

// ModelOverrides are per-job changes to the model's dimensions. Layers,
// when positive, trains the first Layers decoder layers of the model (the
// proxy depth of benchmark recipes such as NVIDIA's Grok-1 and Llama 3.1
// 405B runs on fewer GPUs).
type ModelOverrides struct {
	Layers int `yaml:"layers,omitempty" json:"layers,omitempty"`
	// MTPLayers, when given, sets the number of multi-token-prediction
	// layers trained (0 turns the catalog model's MTP off).
	MTPLayers *int `yaml:"mtp_layers,omitempty" json:"mtp_layers,omitempty"`
}

// System names the accelerator, how many of them the job uses, and
// optionally the network hierarchy they sit in.
type System struct {
	GPU      string    `yaml:"gpu" json:"gpu"`
	GPUs     int       `yaml:"gpus" json:"gpus"`
	Topology *Topology `yaml:"topology,omitempty" json:"topology,omitempty"`
}

// Topology is the network hierarchy, innermost level first.
type Topology struct {
	Levels []Level `yaml:"levels" json:"levels"`
}

// Level is one tier of the hierarchy. Size is how many units of the level
// below make one unit of this level (for the innermost level: GPUs per
// node). BandwidthGbps is the per-GPU, per-direction bandwidth to a peer
// that shares this level but not the one below.
type Level struct {
	Name          string  `yaml:"name" json:"name"`
	Size          int     `yaml:"size" json:"size"`
	BandwidthGbps float64 `yaml:"bandwidth_gbps" json:"bandwidth_gbps"`
	LatencyUs     float64 `yaml:"latency_us" json:"latency_us"`
	// Oversubscription divides the per-GPU bandwidth when every GPU of the
	// level sends across it at once (1 = full bisection).
	Oversubscription float64 `yaml:"oversubscription,omitempty" json:"oversubscription,omitempty"`
	// DistanceKm is the straight-line distance between units (site-to-site
	// levels); fiber propagation over DistanceKm*RouteStretch adds latency.
	DistanceKm float64 `yaml:"distance_km,omitempty" json:"distance_km,omitempty"`
	// RouteStretch is the fiber route length over the straight-line
	// distance (default 1.5).
	RouteStretch float64 `yaml:"route_stretch,omitempty" json:"route_stretch,omitempty"`
	// LinkCapacityGbps is the aggregate capacity between two units of this
	// level (site-to-site trunk); 0 means per-GPU bandwidth times GPUs.
	LinkCapacityGbps float64 `yaml:"link_capacity_gbps,omitempty" json:"link_capacity_gbps,omitempty"`
	// LossRate is the packet loss probability on the level's links.
	LossRate float64 `yaml:"loss_rate,omitempty" json:"loss_rate,omitempty"`
	// Transport names the network-layer technology on this level (see
	// `scaleacross net --list`); empty means the level's native fabric.
	Transport string `yaml:"transport,omitempty" json:"transport,omitempty"`
	// Algorithm is the collective algorithm of groups whose outermost
	// level is this one: hierarchical (default), ring or tree.
	Algorithm string `yaml:"algorithm,omitempty" json:"algorithm,omitempty"`
}

// Network is the job-wide choice of network-layer technology and
// collective algorithm for the site-to-site levels (those with a distance
// or a shared link capacity, or named building/region); a level's own
// transport or algorithm wins.
type Network struct {
	// Transport names a technology (`scaleacross net --list`).
	Transport string `yaml:"transport,omitempty" json:"transport,omitempty"`
	// Algorithm is hierarchical (default), ring or tree.
	Algorithm string `yaml:"algorithm,omitempty" json:"algorithm,omitempty"`
}

// Parallel holds the parallel degrees. Zero values mean "not given".
type Parallel struct {
	TP int `yaml:"tp" json:"tp"`
	PP int `yaml:"pp" json:"pp"`
	VP int `yaml:"vp" json:"vp"`
	CP int `yaml:"cp" json:"cp"`
	EP int `yaml:"ep" json:"ep"`
	// ETP is the expert tensor-parallel degree on the expert grid
	// etp*ep*edp*pp (Megatron-Core MoE parallel folding); 0 means tp.
	ETP int `yaml:"etp,omitempty" json:"etp,omitempty"`
	DP  int `yaml:"dp" json:"dp"`
	// SP enables sequence parallelism alongside TP (default true when tp > 1).
	SP *bool `yaml:"sp,omitempty" json:"sp,omitempty"`
	// Zero is the ZeRO stage 0..3 (3 = FSDP); default 1 (distributed optimizer).
	Zero *int `yaml:"zero,omitempty" json:"zero,omitempty"`
	// LayersPerStage optionally gives each of the pp*vp virtual stages'
	// layer count, for uneven (e.g. per-site) pipeline splits.
	LayersPerStage []int `yaml:"layers_per_stage,omitempty" json:"layers_per_stage,omitempty"`
	// PipelineLayout is a pipeline layout in Megatron-Core's syntax
	// (--pipeline-model-parallel-layout): E embedding, t decoder layer, m
	// MTP layer, L loss, | stage boundary, (..)*n and x*n repetition; stage
	// i runs on pipeline rank i mod pp as chunk i div pp. Example:
	// "Et|(tt|)*30mL" (DeepSeek-V3 on pp8 vp4).
	PipelineLayout string `yaml:"pipeline_layout,omitempty" json:"pipeline_layout,omitempty"`
}

// Training holds the batch, sequence and numeric settings.
type Training struct {
	SeqLen      int    `yaml:"seq_len" json:"seq_len"`
	GlobalBatch int    `yaml:"global_batch" json:"global_batch"`
	MicroBatch  int    `yaml:"micro_batch" json:"micro_batch"`
	Precision   string `yaml:"precision" json:"precision"`
	Recompute   string `yaml:"recompute" json:"recompute"`
	// MoERouting is how an MoE model's router spreads tokens over the
	// experts: dropless (default: learned routing, no token dropped) or
	// force-balanced (Megatron-Core --moe-router-force-load-balancing,
	// the benchmarks' setting).
	MoERouting string `yaml:"moe_routing,omitempty" json:"moe_routing,omitempty"`
	// MoECapacityFactor, when positive, caps each expert at that multiple
	// of the mean tokens and pads its input to the cap (Megatron-Core
	// --moe-expert-capacity-factor with --moe-pad-expert-input-to-capacity).
	MoECapacityFactor float64 `yaml:"moe_capacity_factor,omitempty" json:"moe_capacity_factor,omitempty"`
	// MoESharedExpertOverlap runs the shared experts during the dispatch
	// all-to-all (Megatron-Core --moe-shared-expert-overlap).
	MoESharedExpertOverlap bool `yaml:"moe_shared_expert_overlap,omitempty" json:"moe_shared_expert_overlap,omitempty"`
	// MoEA2AOverlap overlaps one micro-batch's expert all-to-all with
	// another's compute in the 1F1B steady state (Megatron-Core
	// --overlap-moe-expert-parallel-comm --delay-wgrad-compute).
	MoEA2AOverlap bool `yaml:"moe_a2a_overlap,omitempty" json:"moe_a2a_overlap,omitempty"`
	// MoEDispatcher is the MoE token dispatcher: alltoall (default,
	// Megatron-Core's all-to-all over NCCL with explicit permutes), deepep
	// or hybridep (Megatron-Core's flex dispatcher: the global permute and
	// the combine inside the communication kernels), or torch (torchtitan's
	// default expert parallelism in PyTorch operators).
	MoEDispatcher string `yaml:"moe_dispatcher,omitempty" json:"moe_dispatcher,omitempty"`
	// MoEFP8Dispatch sends the dispatched tokens in 8 bits under 8-bit
	// training (DeepSeek-V3's kernels); off by default, as Megatron-Core
	// dispatches 16-bit activations.
	MoEFP8Dispatch bool `yaml:"moe_fp8_dispatch,omitempty" json:"moe_fp8_dispatch,omitempty"`
	// MoEPermuteFusion runs the router passes and token permutations as
	// fused kernels (Megatron-Core --moe-permute-fusion); on when not
	// given, as NeMo's and Megatron-Bridge's MoE recipes set it; false
	// prices them as PyTorch gathers and atomic scatter-adds.
	MoEPermuteFusion *bool `yaml:"moe_permute_fusion,omitempty" json:"moe_permute_fusion,omitempty"`
	// MoERouterFusion runs the MoE router's element-wise work in fused
	// kernels (Megatron-Core --moe-router-fusion; off when not given, as
	// in Megatron-Core): fewer operations for the host to issue.
	MoERouterFusion bool `yaml:"moe_router_fusion,omitempty" json:"moe_router_fusion,omitempty"`
	// CUDAGraphScope lists the parts of each layer captured in CUDA
	// graphs (Megatron-Core --cuda-graph-scope under --cuda-graph-impl
	// transformer_engine): attn, mlp, moe_router, moe_preprocess. Each
	// costs the host one graph launch per pass in place of its
	// operations. Not given: eager, Megatron-Core's default.
	CUDAGraphScope []string `yaml:"cuda_graph_scope,omitempty" json:"cuda_graph_scope,omitempty"`
}

// ParseJob decodes a job spec strictly (unknown fields are errors). A
// serving spec is refused with a pointer to scaleacross infer.
func ParseJob(data []byte) (*Job, error) {
	return parseJob(data, "FILE")
}

// parseJob is ParseJob with the file name that its errors suggest.
func parseJob(data []byte, name string) (*Job, error) {
	var j Job
	if err := DecodeStrict(data, &j); err != nil {
		if wrongKind(data) == kindServe {
			return nil, &Error{Msg: fmt.Sprintf("this is a serving spec (it has workload: or speculative: and no training:): use scaleacross infer -f %s", name)}
		}
		return nil, err
	}
	j.Schedule = strings.TrimSpace(j.Schedule)
	return &j, nil
}

// LoadJob reads and decodes the job spec at path.
func LoadJob(path string) (*Job, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseJob(data, path)
}

// Kinds of spec that wrongKind tells apart.
const (
	kindUnknown = iota
	kindTrain
	kindServe
)

// wrongKind tells a serving spec (workload: or speculative:, no
// training:) from a training spec (training:, neither of the others) by
// its top-level keys; kindUnknown when it is neither or cannot be read.
func wrongKind(data []byte) int {
	// A node tree, not a map: aliases stay unexpanded.
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return kindUnknown
	}
	top := map[string]bool{}
	m := doc.Content[0].Content
	for i := 0; i+1 < len(m); i += 2 {
		top[m[i].Value] = true
	}
	training, workload, speculative := top["training"], top["workload"], top["speculative"]
	switch {
	case !training && (workload || speculative):
		return kindServe
	case training && !workload && !speculative:
		return kindTrain
	}
	return kindUnknown
}
