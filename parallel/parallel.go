// Package parallel describes a parallel configuration of a training job
// (tensor, sequence, context, pipeline, data and expert parallelism with
// ZeRO sharding), checks it against a model and a GPU count, and counts
// the memory each GPU needs.
package parallel

import (
	"fmt"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/model"
)

// Recompute is the activation recomputation policy.
type Recompute string

// Recomputation policies (Korthikanti et al. 2022, arXiv 2205.05198).
const (
	RecomputeNone      Recompute = "none"
	RecomputeSelective Recompute = "selective" // attention core only
	RecomputeFull      Recompute = "full"      // whole layer, only its input kept
	// RecomputeMoE recomputes each MoE block (router, dispatch, experts,
	// combine) in backward and keeps only its input, as Megatron-Core's
	// --recompute-granularity selective --recompute-modules moe does;
	// attention and dense layers keep their activations.
	RecomputeMoE Recompute = "moe"
)

// ParseRecompute checks a recompute policy name.
func ParseRecompute(s string) (Recompute, error) {
	switch r := Recompute(s); r {
	case RecomputeNone, RecomputeSelective, RecomputeFull, RecomputeMoE:
		return r, nil
	case "":
		return RecomputeNone, nil
	}
	return "", fault.Field("training.recompute", "unknown policy %q; use none, selective, moe or full", s)
}

// Config is a parallel configuration on Megatron-Core's two grids over the
// same GPUs (MoE parallel folding, Megatron-LM megatron/core/parallel_state.py
// initialize_model_parallel; reference/moe.md section 1): attention and
// dense layers on tp*cp*dp*pp, experts on etp*ep*edp*pp with the same
// pipeline groups. EP and ETP do not multiply the GPU count; EDP is derived.
type Config struct {
	TP int `json:"tp"`
	PP int `json:"pp"`
	VP int `json:"vp"`
	CP int `json:"cp"`
	EP int `json:"ep"`
	// ETP is the expert tensor-parallel degree; 0 means tp (Megatron-Core's
	// default for expert_tensor_parallel_size).
	ETP  int  `json:"etp,omitempty"`
	DP   int  `json:"dp"`
	SP   bool `json:"sp"`
	Zero int  `json:"zero"`
	// LayersPerStage, when set, gives the layer count of each of the pp*vp
	// virtual stages in pipeline order, for uneven splits (e.g. lighter
	// stages at a slow cross-site boundary); it must sum to the model's layers.
	LayersPerStage []int `json:"layers_per_stage,omitempty"`
	// Layout, when set, is a pipeline layout in Megatron-Core's syntax
	// (parallel.pipeline_layout): its stages give the layer counts of the
	// pp*vp virtual stages and where the MTP layers sit.
	Layout *PipelineLayout `json:"pipeline_layout,omitempty"`
}

// MTPStage is the virtual stage (pipeline order) that holds model m's MTP
// layers under c: the layout's stage of m, else the last virtual stage
// (Megatron-Core builds the MTP block with the loss), or -1 when m trains
// none.
func MTPStage(m *model.Model, c Config) int {
	if m.MTPLayers == 0 {
		return -1
	}
	if c.Layout != nil {
		if v := c.Layout.MTPStage(); v >= 0 {
			return v
		}
	}
	return c.PP*c.VP - 1
}

// GPUs is the number of GPUs the configuration occupies.
func (c Config) GPUs() int { return c.TP * c.PP * c.CP * c.DP }

// ExpertTP is the expert tensor-parallel degree in effect: ETP, or TP when
// ETP is not set.
func (c Config) ExpertTP() int {
	if c.ETP > 0 {
		return c.ETP
	}
	return c.TP
}

// EDP is the expert data-parallel degree, derived on the expert grid:
// GPUs / (etp*ep*pp). With etp = tp it is dp*cp/ep, the old carve-out.
func (c Config) EDP() int {
	d := c.ExpertTP() * max(c.EP, 1) * c.PP
	if d <= 0 {
		return 0
	}
	return c.GPUs() / d
}

// String formats the degrees compactly, e.g. "tp8 pp16 vp2 cp1 ep1 dp128 z1 sp";
// an expert tensor-parallel degree other than tp shows as "etpN" after ep.
func (c Config) String() string {
	ep := fmt.Sprintf("ep%d", c.EP)
	if c.ExpertTP() != c.TP {
		ep += fmt.Sprintf(" etp%d", c.ExpertTP())
	}
	s := fmt.Sprintf("tp%d pp%d vp%d cp%d %s dp%d z%d", c.TP, c.PP, c.VP, c.CP, ep, c.DP, c.Zero)
	if c.SP {
		s += " sp"
	}
	return s
}

// Batch is the batch and sequence shape of a step.
type Batch struct {
	SeqLen      int `json:"seq_len"`
	GlobalBatch int `json:"global_batch"`
	MicroBatch  int `json:"micro_batch"`
}

// MicroBatches is the number of micro-batches each pipeline processes per step.
func (c Config) MicroBatches(b Batch) int {
	return b.GlobalBatch / (c.DP * b.MicroBatch)
}

// LayerSplit says how the layers are spread over the pp*vp virtual stages.
type LayerSplit struct {
	// PerChunk is the layer count of an inner virtual stage.
	PerChunk int
	// EdgeFewer is true when the first and last virtual stages hold one
	// layer fewer than the others, to balance the embedding and the output
	// head (Llama 3 405B: 126 layers on 16 stages, arXiv 2407.21783 s3.3.2).
	EdgeFewer bool
	// Explicit, when set, lists every virtual stage's layer count.
	Explicit []int
}

// Split returns how c spreads the model's layers over its virtual stages:
// the explicit LayersPerStage when given, else SplitLayers.
func (c Config) Split(layers int) (LayerSplit, error) {
	n := c.PP * c.VP
	if c.Layout != nil {
		counts := c.Layout.LayerCounts()
		if len(counts) != n {
			return LayerSplit{}, fault.Field(layoutField, "%q has %d stages but pp*vp = %d*%d = %d; give pp*vp stages (or omit vp)", c.Layout.Text, len(counts), c.PP, c.VP, n)
		}
		most := 0
		for _, l := range counts {
			most = max(most, l)
		}
		return LayerSplit{PerChunk: most, Explicit: counts}, nil
	}
	if len(c.LayersPerStage) == 0 {
		s, err := SplitLayers(layers, c.PP, c.VP)
		if err != nil {
			return SpreadSlots(layers, c.PP, c.VP)
		}
		return s, nil
	}
	if len(c.LayersPerStage) != n {
		return LayerSplit{}, fault.Field("parallel.layers_per_stage", "lists %d stages but pp*vp = %d; give one layer count per virtual stage", len(c.LayersPerStage), n)
	}
	sum := 0
	for i, l := range c.LayersPerStage {
		if l < 1 {
			return LayerSplit{}, fault.Field(fmt.Sprintf("parallel.layers_per_stage[%d]", i), "must be at least 1, got %d", l)
		}
		sum += l
	}
	if sum != layers {
		return LayerSplit{}, fault.Field("parallel.layers_per_stage", "sums to %d layers but the model has %d", sum, layers)
	}
	return LayerSplit{PerChunk: c.LayersPerStage[0], Explicit: c.LayersPerStage}, nil
}

// SplitRule says in words which pp*vp SplitLayers accepts, for texts
// (the plan's assumptions) that state the rule where they rely on it.
const SplitRule = "pp*vp divides the layers, or the layers plus 2 with one layer fewer on the first and last stage"

// SplitLayers spreads layers over pp*vp virtual stages.
func SplitLayers(layers, pp, vp int) (LayerSplit, error) {
	n := pp * vp
	switch {
	case layers%n == 0:
		return LayerSplit{PerChunk: layers / n}, nil
	case n >= 2 && (layers+2)%n == 0 && (layers+2)/n >= 2:
		return LayerSplit{PerChunk: (layers + 2) / n, EdgeFewer: true}, nil
	}
	return LayerSplit{}, fault.Field("parallel.pp", "the model's %d layers do not divide into pp*vp = %d virtual stages (nor %d+2 with one layer fewer on the first and last stage); choose pp and vp whose product divides %d",
		layers, n, layers, layers)
}

// SpreadSlots is the default split of a layer count that divides over the
// pp*vp virtual stages neither evenly nor with one layer fewer on the first
// and last: Megatron-Core's convention of counting the embedding and the
// loss as one layer slot each (--account-for-embedding-in-pipeline-split,
// --account-for-loss-in-pipeline-split; reference/moe.md section 2), with
// the layers+2 slots spread as evenly as possible, the larger stages
// first. The first stage's embedding and the last stage's loss take a
// slot each, so an edge stage may hold no decoder layer. DeepSeek-V3's 61
// layers on pp8 vp4 give Megatron-LM's published GB200 layout
// Et|(tt|)*30L; on pp16 they give 3, 4 x 14 and 2 layers.
func SpreadSlots(layers, pp, vp int) (LayerSplit, error) {
	n := pp * vp
	slots := layers + 2
	if n < 1 || n > slots {
		return LayerSplit{}, fault.Field("parallel.pp", "pp*vp = %d virtual stages exceed the model's %d layers plus the embedding and the loss; choose fewer stages", n, layers)
	}
	base, extra := slots/n, slots%n
	counts := make([]int, n)
	most := 0
	for v := range counts {
		c := base
		if v < extra {
			c++
		}
		if v == 0 {
			c-- // the embedding's slot
		}
		if v == n-1 {
			c-- // the loss's slot
		}
		counts[v] = c
		most = max(most, c)
	}
	return LayerSplit{PerChunk: most, Explicit: counts}, nil
}

// Layers returns the layer count of virtual stage v (0-based, pipeline order).
func (s LayerSplit) Layers(v, stages int) int {
	if s.Explicit != nil {
		return s.Explicit[v]
	}
	if s.EdgeFewer && (v == 0 || v == stages-1) {
		return s.PerChunk - 1
	}
	return s.PerChunk
}

// Validate checks c against the model, the GPU count and the batch, and
// names the offending spec field in its error.
func (c Config) Validate(m *model.Model, gpus int, b Batch) error {
	degrees := []struct {
		field string
		v     int
	}{
		{"parallel.tp", c.TP}, {"parallel.pp", c.PP}, {"parallel.vp", c.VP},
		{"parallel.cp", c.CP}, {"parallel.ep", c.EP}, {"parallel.dp", c.DP},
	}
	for _, d := range degrees {
		if d.v <= 0 {
			return fault.Field(d.field, "must be a positive integer, got %d", d.v)
		}
	}
	if c.ETP < 0 {
		return fault.Field("parallel.etp", "must be a positive integer (or omitted for tp), got %d", c.ETP)
	}
	for _, f := range []struct {
		field string
		v     int
	}{
		{"system.gpus", gpus}, {"training.seq_len", b.SeqLen},
		{"training.global_batch", b.GlobalBatch}, {"training.micro_batch", b.MicroBatch},
	} {
		if err := required(f.field, f.v); err != nil {
			return err
		}
	}
	if c.Zero < 0 || c.Zero > 3 {
		return fault.Field("parallel.zero", "must be 0, 1, 2 or 3 (3 = FSDP), got %d", c.Zero)
	}
	for _, d := range degrees {
		if d.field != "parallel.vp" && d.v > gpus {
			return fault.Field(d.field, "%d is more than system.gpus (%d)", d.v, gpus)
		}
	}
	if p := c.TP * c.PP; p > gpus || p*c.CP > gpus || p*c.CP*c.DP > gpus {
		// Each factor is at most gpus and each product is formed only once
		// the one before is at most gpus, so none overflows for gpus < 2^31.
		return fault.Field("parallel", "tp*pp*cp*dp = %d*%d*%d*%d is more than system.gpus (%d); make the product equal the GPU count (or omit dp)", c.TP, c.PP, c.CP, c.DP, gpus)
	}
	if got := c.GPUs(); got != gpus {
		return fault.Field("parallel", "tp*pp*cp*dp = %d*%d*%d*%d = %d but system.gpus is %d; make the product equal the GPU count (or omit dp)",
			c.TP, c.PP, c.CP, c.DP, got, gpus)
	}
	if err := CheckTP(m, c.TP); err != nil {
		return err
	}
	if c.VP > 1 && c.PP == 1 {
		return fault.Field("parallel.vp", "model chunks (vp=%d) need pipeline parallelism (pp > 1)", c.VP)
	}
	if c.Layout != nil {
		if len(c.LayersPerStage) > 0 {
			return fault.Field(layoutField, "cannot be combined with parallel.layers_per_stage (Megatron-Core refuses the layout with the uneven-split flags); give one of them")
		}
		vp, err := c.Layout.Check(m.Layers, m.MTPLayers, c.PP)
		if err != nil {
			return err
		}
		if vp != c.VP {
			return fault.Field(layoutField, "%q has %d stages, %d chunks per rank on pp=%d, but parallel.vp is %d; omit vp or make it %d", c.Layout.Text, len(c.Layout.Stages), vp, c.PP, c.VP, vp)
		}
	}
	if _, err := c.Split(m.Layers); err != nil {
		return err
	}
	if err := CheckEP(m, c.EP, c.ExpertTP(), c.TP, c.TP*c.CP*c.DP); err != nil {
		return err
	}
	if b.SeqLen%c.CP != 0 {
		return fault.Field("parallel.cp", "seq_len %d is not divisible by cp=%d", b.SeqLen, c.CP)
	}
	if c.SP && b.SeqLen/c.CP%c.TP != 0 {
		return fault.Field("parallel.sp", "sequence parallelism needs seq_len/cp (%d) divisible by tp=%d", b.SeqLen/c.CP, c.TP)
	}
	if b.GlobalBatch%c.DP != 0 {
		return fault.Field("training.global_batch", "global_batch=%d must be divisible by dp=%d", b.GlobalBatch, c.DP)
	}
	if b.GlobalBatch%(c.DP*b.MicroBatch) != 0 {
		return fault.Field("training.micro_batch", "micro_batch=%d must divide global_batch/dp = %d/%d", b.MicroBatch, b.GlobalBatch, c.DP)
	}
	return nil
}

// CheckTP checks a tensor-parallel degree against the model: attention
// heads and (without MLA) KV heads split evenly over tp, as Megatron-LM
// requires (it splits query groups over tp). Validate and the Explorer's
// enumeration both call it.
func CheckTP(m *model.Model, tp int) error {
	if tp <= 0 {
		return fault.Field("parallel.tp", "must be a positive integer, got %d", tp)
	}
	if m.Heads%tp != 0 {
		return fault.Field("parallel.tp", "the model's %d attention heads are not divisible by tp=%d", m.Heads, tp)
	}
	if m.MLA == nil && m.KVHeads%tp != 0 {
		return fault.Field("parallel.tp", "the model's %d KV heads are not divisible by tp=%d (Megatron-LM splits query groups over tp); choose tp dividing %d", m.KVHeads, tp, m.KVHeads)
	}
	return nil
}

// CheckEP checks the expert grid of Megatron-Core's MoE parallel folding
// (reference/moe.md section 1) against the model: the etp*ep GPUs that
// hold one copy of every expert must divide the stageGPUs = tp*cp*dp GPUs
// of a pipeline stage (Megatron checks world % (etp*ep*pp) == 0; edp is
// the quotient), the experts must split evenly over ep and the expert FFN
// over etp. With etp = tp this is the old rule that ep divides dp*cp; with
// etp < tp, ep may exceed dp*cp. ScaleAcross lays the expert grid inside
// the attention grid's tensor-parallel groups, so etp must divide tp.
// Validate and the Explorer's enumeration both call it.
func CheckEP(m *model.Model, ep, etp, tp, stageGPUs int) error {
	if ep <= 0 {
		return fault.Field("parallel.ep", "must be a positive integer, got %d", ep)
	}
	if etp <= 0 {
		return fault.Field("parallel.etp", "must be a positive integer, got %d", etp)
	}
	field := "parallel.ep"
	if etp != tp {
		field = "parallel.etp"
		if tp%etp != 0 {
			return fault.Field(field, "etp=%d must divide tp=%d (the expert grid is laid inside the attention grid's tensor-parallel groups; etp above tp is not modelled)", etp, tp)
		}
		if m.MoE == nil {
			return fault.Field(field, "etp=%d differs from tp=%d but %s is dense (expert tensor parallelism applies to MoE layers); omit etp", etp, tp, m.ID)
		}
	}
	if stageGPUs%(ep*etp) != 0 {
		return fault.Field(field, "etp*ep = %d*%d = %d must divide the %d GPUs of a pipeline stage (tp*cp*dp): Megatron-Core's expert grid is etp*ep*edp*pp over the same GPUs as tp*cp*dp*pp", etp, ep, ep*etp, stageGPUs)
	}
	if ep > 1 {
		if m.MoE == nil {
			return fault.Field("parallel.ep", "ep=%d needs a mixture-of-experts model; %s is dense", ep, m.ID)
		}
		if m.MoE.Experts%ep != 0 {
			return fault.Field("parallel.ep", "the model's %d experts are not divisible by ep=%d", m.MoE.Experts, ep)
		}
	}
	if m.MoE != nil && m.MoE.ExpertFFN%etp != 0 {
		return fault.Field(field, "the expert FFN width %d is not divisible by etp=%d", m.MoE.ExpertFFN, etp)
	}
	return nil
}

// required checks a count the spec must give: zero (the value of an
// omitted field) is reported as missing, a negative count as out of range.
func required(field string, v int) error {
	switch {
	case v == 0:
		return fault.Field(field, "is required: give a positive integer")
	case v < 0:
		return fault.Field(field, "must be a positive integer, got %d", v)
	}
	return nil
}
