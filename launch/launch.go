// Package launch writes the launch arguments of a resolved training
// configuration for the frameworks that run such jobs: Megatron-LM's
// command-line arguments, Megatron-Bridge's recipe overrides and
// torchtitan's TOML job config. Each argument carries a comment saying
// what it sets; what a framework cannot express (a schedule it does not
// implement, a rank order it cannot map) is said in a comment with the
// closest setting, never dropped silently.
package launch

import (
	"fmt"
	"strings"

	"github.com/scaleacross/scaleacross/cost"
	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/parallel"
	"github.com/scaleacross/scaleacross/schedule"
	"github.com/scaleacross/scaleacross/topology"
	"github.com/scaleacross/scaleacross/train"
)

// Frameworks lists the names Write accepts.
func Frameworks() []string { return []string{"megatron", "megatron-bridge", "torchtitan"} }

// Write renders c's launch arguments for framework, with title as the
// first comment line (what the configuration is and where it came from).
func Write(framework, title string, c *train.Config) (string, error) {
	var w writer
	switch strings.ToLower(strings.TrimSpace(framework)) {
	case "megatron":
		w = megatron(c)
	case "megatron-bridge":
		w = bridge(c)
	case "torchtitan":
		w = torchtitan(c)
	default:
		return "", fault.Field("--emit", "unknown framework %q; use %s", framework, strings.Join(Frameworks(), ", "))
	}
	return w.render(title), nil
}

// line is one argument (or a comment line when arg is empty).
type line struct{ arg, note string }

// writer collects a framework's lines and how to frame them.
type writer struct {
	head, tail []string // lines before and after the arguments
	lines      []line
	prefix     string // before each argument
	comment    string // the comment marker
}

func (w *writer) add(arg, note string) { w.lines = append(w.lines, line{arg, note}) }
func (w *writer) note(format string, a ...any) {
	w.lines = append(w.lines, line{"", fmt.Sprintf(format, a...)})
}

func (w writer) render(title string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", w.comment, title)
	for _, h := range w.head {
		b.WriteString(h + "\n")
	}
	width := 0
	for _, l := range w.lines {
		width = max(width, len(l.arg))
	}
	for _, l := range w.lines {
		switch {
		case l.arg == "":
			fmt.Fprintf(&b, "%s%s %s\n", w.prefix, w.comment, l.note)
		case l.note == "":
			fmt.Fprintf(&b, "%s%s\n", w.prefix, l.arg)
		default:
			fmt.Fprintf(&b, "%s%-*s  %s %s\n", w.prefix, width, l.arg, w.comment, l.note)
		}
	}
	for _, t := range w.tail {
		b.WriteString(t + "\n")
	}
	return b.String()
}

// consecutive is the number of micro-batches per interleaved chunk group
// the engines priced (train.ScheduleParams: pp, depth-first, unless the
// latency-aware plan widens it).
func consecutive(c *train.Config) int {
	p, err := train.ScheduleParams(c)
	if err != nil || p.Consecutive == 0 {
		return c.Parallel.PP
	}
	return p.Consecutive
}

// rankOrder is the placement innermost first, with degree-one dimensions
// dropped, e.g. "tp,cp,dp,pp".
func rankOrder(c *train.Config) string {
	deg := map[topology.Dim]int{topology.TP: c.Parallel.TP, topology.CP: c.Parallel.CP, topology.PP: c.Parallel.PP, topology.DP: c.Parallel.DP, topology.EP: c.Parallel.EP}
	var out []string
	for _, d := range c.Placement {
		if deg[d] > 1 {
			out = append(out, string(d))
		}
	}
	return strings.Join(out, ",")
}

// isOrder reports whether the non-trivial dimensions of order appear in
// that relative order in want (innermost first).
func isOrder(order string, want ...string) bool {
	if order == "" {
		return true
	}
	i := 0
	for _, d := range strings.Split(order, ",") {
		for i < len(want) && want[i] != d {
			i++
		}
		if i == len(want) {
			return false
		}
		i++
	}
	return true
}

func megatron(c *train.Config) writer {
	p, m, b := c.Parallel, c.Model, c.Batch
	w := writer{prefix: "  ", comment: "#",
		head: []string{
			"# Megatron-LM (pretrain_gpt.py) arguments; argument names as in megatron/training/arguments.py.",
			"export CUDA_DEVICE_MAX_CONNECTIONS=1  # one stream: TP/SP communication is issued in compute order (Megatron-LM requires it with sequence parallelism)",
			"ARGS=(",
		},
		tail: []string{")", `torchrun "${TORCHRUN_ARGS[@]}" pretrain_gpt.py "${ARGS[@]}"`},
	}
	w.note("model: %s", m.Name)
	w.add(fmt.Sprintf("--num-layers %d", m.Layers), "")
	w.add(fmt.Sprintf("--hidden-size %d", m.Hidden), "")
	w.add(fmt.Sprintf("--num-attention-heads %d", m.Heads), "")
	if m.MLA != nil {
		w.add("--multi-latent-attention", "MLA (DeepSeek-style latent attention)")
	} else if m.KVHeads < m.Heads {
		w.add("--group-query-attention", "")
		w.add(fmt.Sprintf("--num-query-groups %d", m.KVHeads), "KV heads")
	}
	if m.FFN > 0 {
		w.add(fmt.Sprintf("--ffn-hidden-size %d", m.FFN), "dense MLP width")
	}
	if m.Act == "swiglu" {
		w.add("--swiglu", "")
	}
	if x := m.MoE; x != nil {
		w.add(fmt.Sprintf("--num-experts %d", x.Experts), "routed experts per MoE layer")
		w.add(fmt.Sprintf("--moe-router-topk %d", x.TopK), "")
		w.add(fmt.Sprintf("--moe-ffn-hidden-size %d", x.ExpertFFN), "")
		if x.SharedExperts > 0 {
			w.add(fmt.Sprintf("--moe-shared-expert-intermediate-size %d", x.SharedExperts*x.SharedFFN), "")
		}
		w.add("--moe-grouped-gemm", "grouped GEMM for the local experts")
		megatronDispatcher(&w, c)
		if c.Routing == train.RoutingForceBalanced {
			w.add("--moe-router-force-load-balancing", "uniform routing, as priced (training.moe_routing)")
		}
		if c.CapacityFactor > 0 {
			w.add(fmt.Sprintf("--moe-expert-capacity-factor %g", c.CapacityFactor), "tokens per expert capped at this multiple of the mean ...")
			w.add("--moe-pad-expert-input-to-capacity", "... and padded to the cap")
		}
		if c.SharedExpertOverlap {
			w.add("--moe-shared-expert-overlap", "shared experts under the dispatch")
		}
		if c.A2AOverlap {
			w.add("--overlap-moe-expert-parallel-comm", "expert all-to-all under another micro-batch (1F1B overlap) ...")
			w.add("--delay-wgrad-compute", "... which needs the weight gradients delayed")
		}
	}
	if m.MTPLayers > 0 {
		w.add(fmt.Sprintf("--mtp-num-layers %d", m.MTPLayers), "multi-token-prediction layers")
	}
	w.note("parallelism: %s", p)
	w.add(fmt.Sprintf("--tensor-model-parallel-size %d", p.TP), "tp")
	if p.SP {
		w.add("--sequence-parallel", "sp alongside tp")
	}
	w.add(fmt.Sprintf("--pipeline-model-parallel-size %d", p.PP), "pp")
	if p.CP > 1 {
		w.add(fmt.Sprintf("--context-parallel-size %d", p.CP), "cp")
	}
	if p.EP > 1 {
		w.add(fmt.Sprintf("--expert-model-parallel-size %d", p.EP), "ep")
		w.add(fmt.Sprintf("--expert-tensor-parallel-size %d", p.ExpertTP()), etpNote(p))
	}
	layout, edge := pipelineSplit(c)
	if layout != "" {
		w.add(fmt.Sprintf("--pipeline-model-parallel-layout '%s'", layout), layoutNote(c))
	} else if edge {
		w.add("--account-for-embedding-in-pipeline-split", "the first stage holds one layer fewer (for the embedding) ...")
		w.add("--account-for-loss-in-pipeline-split", "... and the last one fewer (for the output head and loss)")
	}
	megatronSchedule(&w, c, layout != "")
	switch p.Zero {
	case 1:
		w.add("--use-distributed-optimizer", "ZeRO-1: optimizer state sharded over dp")
		w.add("--overlap-grad-reduce", "gradient reduce-scatter under the last backward")
		w.add("--overlap-param-gather", "parameter all-gather under the next forward")
	case 2:
		w.add("--use-megatron-fsdp", "ZeRO-2 through Megatron-FSDP")
		w.add("--data-parallel-sharding-strategy optim_grads", "optimizer state and gradients sharded")
		w.add("--overlap-grad-reduce", "")
	case 3:
		w.add("--use-megatron-fsdp", "ZeRO-3 / FSDP through Megatron-FSDP")
		w.add("--data-parallel-sharding-strategy optim_grads_params", "optimizer state, gradients and parameters sharded")
		w.add("--overlap-grad-reduce", "")
		w.add("--overlap-param-gather", "")
	default:
		w.note("ZeRO-0: plain data parallelism (no distributed optimizer)")
		w.add("--overlap-grad-reduce", "")
	}
	order := rankOrder(c)
	switch {
	case isOrder(order, "tp", "cp", "ep", "dp", "pp"):
		w.note("rank order %s: Megatron-LM's default tp-cp-ep-dp-pp", orDefault(order))
	case isOrder(order, "tp", "cp", "ep", "pp", "dp"):
		w.add("--use-tp-pp-dp-mapping", fmt.Sprintf("rank order %s: pp inside dp", order))
	default:
		w.note("rank order %s cannot be expressed; Megatron-LM offers tp-cp-ep-dp-pp (default) or tp-pp-dp (--use-tp-pp-dp-mapping)", order)
	}
	w.note("batch")
	w.add(fmt.Sprintf("--seq-length %d", b.SeqLen), "")
	w.add(fmt.Sprintf("--max-position-embeddings %d", max(b.SeqLen, m.MaxContext)), "")
	w.add(fmt.Sprintf("--micro-batch-size %d", b.MicroBatch), "")
	w.add(fmt.Sprintf("--global-batch-size %d", b.GlobalBatch), plural(p.MicroBatches(b), "micro-batch", "micro-batches")+" per pipeline per step")
	switch c.Recompute {
	case parallel.RecomputeSelective:
		w.add("--recompute-granularity selective", "recompute the attention core")
	case parallel.RecomputeMoE:
		w.add("--recompute-granularity selective", "")
		w.add("--recompute-modules moe", "recompute each MoE block in backward")
	case parallel.RecomputeFull:
		w.add("--recompute-granularity full", "recompute every layer in backward")
		w.add("--recompute-method uniform", "")
		w.add("--recompute-num-layers 1", "")
	}
	w.add("--use-flash-attn", "fused attention, as priced")
	megatronPrecision(&w, c.Precision)
	siteNote(&w, c)
	return w
}

// siteNote says how the cross-site levels' transport and collective
// algorithm are set: in NCCL and the fabric, not in the framework.
func siteNote(w *writer, c *train.Config) {
	for _, i := range c.Topology.SiteLevels() {
		l := c.Topology.Levels[i]
		if l.Transport != "" || l.Algorithm != "" {
			w.note("across %s: transport %s, collectives %s; these are NCCL and fabric settings (NCCL_ALGO, NCCL_IB_*, the transport's own configuration), not framework arguments", l.Name, orWord(l.Transport, "default"), orWord(l.Algorithm, "hierarchical"))
		}
	}
}

func orWord(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func orDefault(order string) string {
	if order == "" {
		return "(all degrees 1)"
	}
	return order
}

// megatronSchedule writes the schedule's arguments; withLayout says that
// --pipeline-model-parallel-layout already gives vp, which Megatron-LM
// then refuses to be given again (arguments.py: no more than one of the
// layout, --num-virtual-stages-per-pipeline-rank and
// --num-layers-per-virtual-pipeline-stage).
func megatronSchedule(w *writer, c *train.Config, withLayout bool) {
	p := c.Parallel
	if p.PP == 1 {
		return
	}
	switch c.Schedule {
	case schedule.OneFOneB:
		w.note("schedule 1f1b: Megatron-LM's default non-interleaved 1F1B")
	case schedule.Interleaved, schedule.LatencyAware:
		if p.VP > 1 {
			if !withLayout {
				w.add(fmt.Sprintf("--num-virtual-stages-per-pipeline-rank %d", p.VP), fmt.Sprintf("vp: %d model chunks per stage (interleaved 1F1B; p2p overlap is on by default)", p.VP))
			}
			if n := consecutive(c); n != p.PP {
				w.add(fmt.Sprintf("--microbatch-group-size-per-virtual-pipeline-stage %d", n), "micro-batches per chunk group (pp is depth-first)")
			}
		}
		if c.Schedule == schedule.LatencyAware {
			w.note("latency-aware-1f1b: Megatron-LM has no extra warm-up before slow boundaries; the chunk group above is the closest setting")
		}
	case schedule.GPipe:
		w.note("gpipe: not in Megatron-LM; its 1F1B has the same bubble with less activation memory")
	case schedule.ZBH1, schedule.ZBV:
		w.note("%s: zero-bubble schedules are not in upstream Megatron-LM; 1F1B is the closest (larger bubble)", c.Schedule)
	case schedule.DualPipeV:
		w.note("dualpipev: not in upstream Megatron-LM; the closest is interleaved 1F1B with --overlap-moe-expert-parallel-comm")
	}
}

// pipelineSplit says how Megatron-Core must be told the split the
// engines priced: the layout text (Megatron's syntax, parallel.FormatLayout)
// when the job gives parallel.pipeline_layout or parallel.layers_per_stage,
// or when the default split is uneven beyond one layer fewer on the edges
// (parallel.SpreadSlots); edge when the account-for-embedding/loss flags
// express it (parallel.LayerSplit.EdgeFewer); neither for an even split
// or a single stage.
func pipelineSplit(c *train.Config) (layout string, edge bool) {
	p := c.Parallel
	if p.PP == 1 {
		return "", false
	}
	split, err := p.Split(c.Model.Layers)
	if err != nil {
		return "", false
	}
	if p.Layout == nil && split.Explicit == nil {
		return "", split.EdgeFewer
	}
	stages, err := p.StageLayout(c.Model)
	if err != nil {
		return "", false
	}
	return parallel.FormatLayout(stages), false
}

// layoutNote says where an emitted layout comes from and what it implies.
func layoutNote(c *train.Config) string {
	p := c.Parallel
	from := "the default uneven split (embedding and loss count as a layer each)"
	switch {
	case p.Layout != nil:
		from = "parallel.pipeline_layout"
	case len(p.LayersPerStage) > 0:
		from = "parallel.layers_per_stage"
	}
	return fmt.Sprintf("%s; %d stages = pp %d x vp %d", from, p.PP*p.VP, p.PP, p.VP)
}

// megatronDispatcher writes the MoE token dispatcher and permute kernels
// the step model priced (training.moe_dispatcher, moe_permute_fusion,
// moe_fp8_dispatch), or says where Megatron-LM has no match.
func megatronDispatcher(w *writer, c *train.Config) {
	typ, note := dispatcherType(c)
	w.add("--moe-token-dispatcher-type "+typ, note)
	if c.Dispatcher == cost.DispatchFused {
		w.note("... name its backend: --moe-flex-dispatcher-backend deepep or hybridep (--moe-enable-deepep before Megatron-Core 0.15)")
	}
	if !c.UnfusedPermute {
		// Megatron-LM leaves the fusion off unless asked (train.Config.UnfusedPermute).
		w.add("--moe-permute-fusion", "fused router and permute kernels, as priced (training.moe_permute_fusion)")
	}
	if c.FP8Dispatch {
		w.note("moe_fp8_dispatch: Megatron-Core dispatches 16-bit activations; no flag sends them in 8 bits as priced")
	}
	if c.RouterFusion {
		w.add("--moe-router-fusion", "fused router kernels, as priced (training.moe_router_fusion)")
	}
	if c.CUDAGraphs != 0 {
		w.add("--cuda-graph-impl transformer_engine --cuda-graph-scope "+strings.Join(c.CUDAGraphs.Names(), " "), "the parts captured in CUDA graphs, as priced (training.cuda_graph_scope)")
	}
}

// dispatcherType is Megatron-Core's token dispatcher type for the
// dispatcher c priced, with the comment saying how it matches.
func dispatcherType(c *train.Config) (typ, note string) {
	switch c.Dispatcher {
	case cost.DispatchFused:
		return "flex", "the fused dispatcher priced (training.moe_dispatcher deepep or hybridep) ..."
	case cost.DispatchTorch:
		return "alltoall", "the nearest to the torch dispatcher priced, which Megatron-Core does not have"
	}
	return "alltoall", "the expert all-to-all the step model prices"
}

// etpNote says where the expert tensor-parallel degree comes from.
func etpNote(p parallel.Config) string {
	if p.ETP > 0 && p.ETP != p.TP {
		return "etp (parallel.etp)"
	}
	return "etp = tp (parallel.etp not given; Megatron-Core's default too)"
}

func megatronPrecision(w *writer, prec hardware.Precision) {
	switch prec {
	case hardware.FP16:
		w.add("--fp16", "")
	case hardware.FP8:
		w.add("--bf16", "")
		w.add("--fp8-format hybrid", "E4M3 forward, E5M2 gradients")
		w.add("--fp8-recipe tensorwise", "per-tensor current scaling")
	case hardware.MXFP8:
		w.add("--bf16", "")
		w.add("--fp8-format e4m3", "")
		w.add("--fp8-recipe mxfp8", "block-scaled MXFP8 (Blackwell)")
	case hardware.NVFP4:
		w.add("--bf16", "")
		w.add("--fp4-format e2m1", "")
		w.add("--fp4-recipe nvfp4", "NVFP4 GEMMs (Blackwell)")
	default:
		w.add("--bf16", "")
	}
}

func bridge(c *train.Config) writer {
	p, b := c.Parallel, c.Batch
	w := writer{prefix: "  ", comment: "#",
		head: []string{
			"# Megatron-Bridge recipe overrides (ConfigContainer fields, as key=value arguments of a recipe script).",
			"export CUDA_DEVICE_MAX_CONNECTIONS=1  # TP/SP communication in compute order",
			"OVERRIDES=(",
		},
		tail: []string{")", `python "$RECIPE_SCRIPT" "${OVERRIDES[@]}"`},
	}
	w.note("model: %s; parallelism: %s", c.Model.Name, p)
	w.add(fmt.Sprintf("model.tensor_model_parallel_size=%d", p.TP), "tp")
	w.add(fmt.Sprintf("model.sequence_parallel=%t", p.SP), "sp")
	w.add(fmt.Sprintf("model.pipeline_model_parallel_size=%d", p.PP), "pp")
	if p.VP > 1 && (c.Schedule == schedule.Interleaved || c.Schedule == schedule.LatencyAware) {
		w.add(fmt.Sprintf("model.virtual_pipeline_model_parallel_size=%d", p.VP), "vp, interleaved 1F1B")
		if n := consecutive(c); n != p.PP {
			w.add(fmt.Sprintf("model.microbatch_group_size_per_vp_stage=%d", n), "micro-batches per chunk group")
		}
	} else if p.PP > 1 && c.Schedule != schedule.OneFOneB {
		w.note("%s: not a Megatron-Bridge schedule; 1F1B is the closest", c.Schedule)
	}
	if layout, edge := pipelineSplit(c); layout != "" {
		// Quoted for the override parser: the layout's | ( ) * are not
		// plain-value characters.
		w.add(fmt.Sprintf("'model.pipeline_model_parallel_layout=\"%s\"'", layout), layoutNote(c))
	} else if edge {
		w.add("model.account_for_embedding_in_pipeline_split=true", "the first stage holds one layer fewer (for the embedding) ...")
		w.add("model.account_for_loss_in_pipeline_split=true", "... and the last one fewer (for the output head and loss)")
	}
	w.add(fmt.Sprintf("model.context_parallel_size=%d", p.CP), "cp")
	if p.EP > 1 {
		w.add(fmt.Sprintf("model.expert_model_parallel_size=%d", p.EP), "ep")
		w.add(fmt.Sprintf("model.expert_tensor_parallel_size=%d", p.ExpertTP()), etpNote(p))
	}
	if c.Model.MoE != nil {
		typ, note := dispatcherType(c)
		w.add("model.moe_token_dispatcher_type="+typ, note)
		if c.Dispatcher == cost.DispatchFused {
			w.note("... name its backend: model.moe_flex_dispatcher_backend=deepep or hybridep")
		}
		w.add(fmt.Sprintf("model.moe_permute_fusion=%t", !c.UnfusedPermute), "fused router and permute kernels or not, as priced (training.moe_permute_fusion)")
		if c.FP8Dispatch {
			w.note("moe_fp8_dispatch: Megatron-Core dispatches 16-bit activations; no setting sends them in 8 bits as priced")
		}
	}
	if c.Model.MTPLayers > 0 {
		w.add(fmt.Sprintf("model.mtp_num_layers=%d", c.Model.MTPLayers), "multi-token-prediction layers")
	}
	w.add(fmt.Sprintf("model.seq_length=%d", b.SeqLen), "")
	w.add(fmt.Sprintf("train.micro_batch_size=%d", b.MicroBatch), "")
	w.add(fmt.Sprintf("train.global_batch_size=%d", b.GlobalBatch), "")
	switch p.Zero {
	case 0:
		w.add("ddp.use_distributed_optimizer=false", "ZeRO-0")
	case 1:
		w.add("ddp.use_distributed_optimizer=true", "ZeRO-1: optimizer state sharded over dp")
		w.add("ddp.overlap_grad_reduce=true", "")
		w.add("ddp.overlap_param_gather=true", "")
	default:
		w.add("ddp.use_megatron_fsdp=true", fmt.Sprintf("ZeRO-%d through Megatron-FSDP", p.Zero))
		strategy := "optim_grads"
		if p.Zero == 3 {
			strategy = "optim_grads_params"
		}
		w.add("ddp.data_parallel_sharding_strategy="+strategy, "")
	}
	switch c.Recompute {
	case parallel.RecomputeSelective:
		w.add("model.recompute_granularity=selective", "")
	case parallel.RecomputeMoE:
		w.add("model.recompute_granularity=selective", "")
		w.add("model.recompute_modules=[moe]", "")
	case parallel.RecomputeFull:
		w.add("model.recompute_granularity=full", "")
		w.add("model.recompute_method=uniform", "")
		w.add("model.recompute_num_layers=1", "")
	}
	siteNote(&w, c)
	switch c.Precision {
	case hardware.FP8:
		w.add("mixed_precision=bf16_with_fp8_current_scaling_mixed", "FP8 GEMMs, per-tensor current scaling")
	case hardware.MXFP8:
		w.add("mixed_precision=bf16_with_mxfp8_mixed", "")
	case hardware.NVFP4:
		w.add("mixed_precision=bf16_with_nvfp4_mixed", "")
	case hardware.FP16:
		w.add("mixed_precision=16-mixed", "")
	default:
		w.add("mixed_precision=bf16_mixed", "")
	}
	return w
}

func torchtitan(c *train.Config) writer {
	p, b := c.Parallel, c.Batch
	w := writer{comment: "#", head: []string{"# torchtitan job config (TOML; the [parallelism], [training] and [activation_checkpoint] sections)."}}
	w.note("model: %s; parallelism: %s", c.Model.Name, p)
	w.add("[parallelism]", "")
	// torchtitan's FSDP (ZeRO-3 style) shards over data_parallel_shard_degree;
	// replicate degree is plain DDP.
	if p.Zero >= 1 {
		w.add(fmt.Sprintf("data_parallel_shard_degree = %d", p.DP), fmt.Sprintf("dp with FSDP2, which shards parameters, gradients and optimizer state (the plan's ZeRO-%d)", p.Zero))
		w.add("data_parallel_replicate_degree = 1", "")
		if p.Zero < 3 {
			w.add("fsdp_reshard_after_forward = \"never\"", "keep parameters gathered between forward and backward, closest to ZeRO-1/2")
		}
	} else {
		w.add("data_parallel_shard_degree = 1", "")
		w.add(fmt.Sprintf("data_parallel_replicate_degree = %d", p.DP), "dp, plain DDP (ZeRO-0)")
	}
	w.add(fmt.Sprintf("tensor_parallel_degree = %d", p.TP), "tp (sequence parallel is on with tp in torchtitan)")
	w.add(fmt.Sprintf("context_parallel_degree = %d", p.CP), "cp")
	w.add(fmt.Sprintf("pipeline_parallel_degree = %d", p.PP), "pp")
	if p.EP > 1 {
		w.add(fmt.Sprintf("expert_parallel_degree = %d", p.EP), "ep")
		// torchtitan's JobConfig (Parallelism.expert_tensor_parallel_degree)
		// supports etp = tp or etp = 1 only.
		if etp := p.ExpertTP(); etp == p.TP || etp == 1 {
			w.add(fmt.Sprintf("expert_tensor_parallel_degree = %d", etp), etpNote(p))
		} else {
			w.note("etp %d: torchtitan supports expert_tensor_parallel_degree = tp (%d) or 1 only", etp, p.TP)
		}
	}
	if p.PP > 1 {
		name, exact := "1F1B", true
		switch c.Schedule {
		case schedule.GPipe:
			name = "GPipe"
		case schedule.Interleaved:
			name = "Interleaved1F1B"
		case schedule.ZBV:
			name = "ZBVZeroBubble"
		case schedule.DualPipeV:
			name = "DualPipeV"
		case schedule.ZBH1:
			name, exact = "InterleavedZeroBubble", false
		case schedule.LatencyAware:
			name, exact = "1F1B", false
			if p.VP > 1 {
				name = "Interleaved1F1B"
			}
		}
		note := "schedule " + string(c.Schedule)
		if !exact {
			note += " (not in torchtitan; the closest)"
		}
		w.add(fmt.Sprintf("pipeline_parallel_schedule = %q", name), note)
		w.add(fmt.Sprintf("pipeline_parallel_microbatch_size = %d", b.MicroBatch), "")
		if p.VP > 1 {
			split, err := p.Split(c.Model.Layers)
			if err == nil && split.Explicit == nil && !split.EdgeFewer {
				w.add(fmt.Sprintf("pipeline_parallel_layers_per_stage = %d", split.PerChunk), fmt.Sprintf("%d model chunks per rank", p.VP))
			} else {
				w.note("%d model chunks per rank over %d layers: set pipeline_parallel_layers_per_stage or module_fqns_per_model_part for the uneven split", p.VP, c.Model.Layers)
			}
		}
	}
	w.add("[training]", "")
	w.add(fmt.Sprintf("seq_len = %d", b.SeqLen), "")
	w.add(fmt.Sprintf("local_batch_size = %d", b.GlobalBatch/p.DP), "sequences per data-parallel rank per step")
	w.add(fmt.Sprintf("global_batch_size = %d", b.GlobalBatch), "")
	w.add("mixed_precision_param = \"bfloat16\"", "")
	w.add("[activation_checkpoint]", "")
	mode := map[parallel.Recompute]string{parallel.RecomputeNone: "none", parallel.RecomputeSelective: "selective", parallel.RecomputeFull: "full"}[c.Recompute]
	if c.Recompute == parallel.RecomputeMoE {
		mode = "selective"
		w.note("recompute moe (the MoE block only) has no torchtitan mode; selective is the nearest")
	}
	w.add(fmt.Sprintf("mode = %q", mode), "")
	switch c.Precision {
	case hardware.FP8, hardware.MXFP8:
		w.add("[quantize.linear.float8]", "")
		if c.Precision == hardware.MXFP8 {
			w.add("recipe_name = \"mxfp8\"", "MXFP8 GEMMs (Blackwell)")
		} else {
			w.add("recipe_name = \"tensorwise\"", "FP8 GEMMs")
		}
	case hardware.NVFP4:
		w.note("nvfp4 training is not a torchtitan recipe; bf16 is the closest")
	}
	siteNote(&w, c)
	return w
}
