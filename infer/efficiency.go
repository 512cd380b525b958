package infer

// Efficiency gathers the achievable fractions and fixed costs the step
// model uses. DefaultEfficiency documents each value.
type Efficiency struct {
	// Engine names the serving engine profile (EngineProfile); empty
	// means vllm.
	Engine string `json:"engine,omitempty"`
	// HBM is the fraction of datasheet HBM bandwidth that streaming
	// decode kernels (GEMV/skinny GEMM, paged attention) sustain.
	HBM float64 `json:"hbm"`
	// MoEHBM is the fraction of datasheet HBM bandwidth at which the
	// grouped expert GEMMs stream their weights when each expert sees few
	// tokens (decode); 0 means HBM.
	MoEHBM float64 `json:"moe_hbm,omitempty"`
	// MoEHBMMarginal is the fraction at which those GEMMs stream each
	// expert beyond the ones a single token selects (a larger batch, or a
	// verify pass of several tokens, touches more experts); 0 means
	// MoEHBM.
	MoEHBMMarginal float64 `json:"moe_hbm_marginal,omitempty"`
	// Int4HBM is the fraction of datasheet HBM bandwidth at which int4
	// (AWQ, GPTQ) weights stream through Marlin's W4A16 kernels: the
	// dense GEMMs, and every expert beyond the ones a single token selects;
	// Int4MoEHBM is MoEHBM for int4 experts. 0 means HBM and MoEHBM.
	Int4HBM    float64 `json:"int4_hbm,omitempty"`
	Int4MoEHBM float64 `json:"int4_moe_hbm,omitempty"`
	// MLABMM16 runs MLA's absorbed up-projection (the W_UK and W_UV
	// batched products of decode, kv_b_proj's weights) in 16 bits
	// whatever the weight format, as vLLM does; int4 weights run so in
	// every engine (no engine has an int4 batched product).
	MLABMM16 bool `json:"mla_bmm_16bit,omitempty"`
	// GEMM is the fraction of dense tensor-core peak reached by large
	// compute-bound GEMMs.
	GEMM float64 `json:"gemm"`
	// Attention is the fraction of the BF16 peak reached by attention
	// kernels when compute-bound (prefill).
	Attention float64 `json:"attention"`
	// NVLink is the fraction of per-direction NVLink bandwidth a large
	// all-reduce reaches.
	NVLink float64 `json:"nvlink"`
	// CollectiveFixedUs is the fixed cost of one small collective inside a
	// CUDA graph beyond the per-hop NVLink latency.
	CollectiveFixedUs float64 `json:"collective_fixed_us"`
	// OneShotAllReduce prices a small all-reduce as one NVSwitch hop
	// (every GPU reads all peers' buffers at once) instead of a ring's
	// 2(n-1) hops.
	OneShotAllReduce bool `json:"one_shot_all_reduce,omitempty"`
	// KernelGraphUs and KernelEagerUs are the fixed cost of one kernel
	// (launch, ramp-up, tail) with and without CUDA graphs.
	KernelGraphUs float64 `json:"kernel_graph_us"`
	KernelEagerUs float64 `json:"kernel_eager_us"`
	// GraphBreakUs is the host time of one break between CUDA-graph
	// pieces (replaying the next piece after an eager attention
	// operation), exposed at decode sizes; piecewise graphs only.
	GraphBreakUs float64 `json:"graph_break_us,omitempty"`
	// SampleUs is the fixed cost of sampling one step (top-k/top-p,
	// penalties, copying tokens back), beyond reading the logits.
	SampleUs float64 `json:"sample_us"`
	// SpecKernels is how many extra small kernels a speculative step runs
	// (tree and mask set-up, acceptance, KV-cache compaction, draft
	// top-k bookkeeping).
	SpecKernels int `json:"spec_kernels"`
	// HostStepUs and HostPerSeqUs are the scheduler's CPU time per step
	// and per sequence; they are exposed only when the engine cannot
	// overlap scheduling with the GPU (HostOverlap false).
	HostStepUs   float64 `json:"host_step_us"`
	HostPerSeqUs float64 `json:"host_per_seq_us"`
	// HostOverlapPlain and HostOverlapSpec say whether CPU scheduling is
	// hidden behind the GPU for plain and speculative decoding.
	HostOverlapPlain bool `json:"host_overlap_plain"`
	HostOverlapSpec  bool `json:"host_overlap_spec"`
	// DraftOverlap is the fraction of the draft passes' GPU time hidden
	// behind the verify pass (engines that pipeline the next draft with
	// the current verification).
	DraftOverlap float64 `json:"draft_overlap"`
	// NGramPerSeqUs is the host time of one prompt lookup per sequence
	// per step (method ngram).
	NGramPerSeqUs float64 `json:"ngram_per_seq_us,omitempty"`
	// ReservedMemory is the fraction of HBM kept for activations,
	// workspaces, CUDA graphs and fragmentation, not for weights or KV.
	ReservedMemory float64 `json:"reserved_memory"`
}

// DefaultEfficiency returns the documented defaults. None is fitted to a
// measured serving row; they come from microbenchmarks and engine
// documentation, or are assumptions with the stated reason.
func DefaultEfficiency() Efficiency {
	return Efficiency{
		// ASSUMPTION from public microbenchmarks: H100 streaming copies
		// reach about 90% of the 3.35 TB/s datasheet figure, and decode
		// GEMV/paged-attention kernels lose a further ~10% to short
		// per-kernel transfers; 0.8 is the middle of the 0.7-0.9 usually
		// quoted for LLM decode (e.g. the JAX scaling book's inference
		// chapter uses ~0.8 of HBM bandwidth as achievable).
		HBM: 0.80,
		// Measured: the fused MoE kernel of Qwen3-30B-A3B (128 experts,
		// top-8, 9.4 MB of BF16 weights per expert) at batch 1 takes
		// 109.2 us on an A100-PCIe-40GB (1.555 TB/s; SGLang PR #6825,
		// default config) and 39.6 us on a B200 (8 TB/s; vLLM PR #31448,
		// default config). Solving t = fixed + 75.5 MB / (peak x f) on the
		// two gives f = 0.56 and a fixed 23 us, which the eight MoE kernels
		// at KernelGraphUs already charge (24 us). The same law predicts
		// 43 us for the FP8 kernel on an H100 against the 44.5 us vLLM PR
		// #24700 measures. So the experts one token selects stream at 0.56
		// of the datasheet bandwidth in the grouped GEMMs (small M tiles
		// padded to 16 rows, a few experts' tiles spread over the SMs), not
		// the 0.8 of dense decode GEMMs.
		MoEHBM: 0.56,
		// Measured: the same kernels over the batch, where the experts hit
		// grow as E(1-(1-k/E)^T). The kernel time rises linearly in the
		// experts hit beyond the first token's: A100-PCIe BF16 from 109.2
		// us (8 experts) to 917.5 us at batch 64 (125.9 experts), 0.89 of
		// the 1.555 TB/s per further expert (SGLang PR #6825); H100 FP8
		// from 44.5 to 262.7 us, 0.76 of 3.35 TB/s (vLLM PR #24700). 0.80,
		// the dense decode share (HBM), sits between the two and meets the
		// 21 points of both curves with a mean error of 6.5%
		// (TestFusedMoEKernelCurves), where one fraction of 0.56 for every
		// expert is off by 30% (up to +53% at batch 24-32).
		MoEHBMMarginal: 0.80,
		// Measured: vLLM's Marlin W4A16 MoE kernel (fused_marlin_moe) on
		// an H20 (4.0 TB/s) in FlagGems PR #3375's comparison, the
		// DeepSeek-V3 expert shape (256 experts, top-8, 7168 x 2048, int4
		// with group scales, 181 MB read at M=1): 0.142 ms at one token,
		// of which the MoE kernels' fixed costs at KernelGraphUs take 24
		// us, leaving 0.38 of the datasheet bandwidth (Int4MoEHBM); 3.000
		// ms at 64 tokens (222 experts, 5.0 GB), 0.42 per further expert
		// (Int4HBM). Mixtral's shape (8 experts, top-2, about the same
		// bytes at one token) takes the same 0.142 ms, so the share is the
		// kernel's, not the shape's. The MoE kernel is vLLM's gptq_marlin
		// GEMM run over the experts in parallel (vLLM PR #14447), and
		// AWQ's dense layers run that GEMM (awq_marlin, apply_awq_marlin_linear),
		// so dense int4 GEMMs stream at the same 0.42. Marlin is built on
		// Ampere's mma.sync; Hopper has since had its own mixed-input
		// kernel for that reason (Machete, Neural Magic, October 2024),
		// which AWQ checkpoints do not run in vLLM's awq_marlin path.
		Int4HBM:    0.42,
		Int4MoEHBM: 0.38,
		// vLLM: "we currently do not have quantized bmm's which are needed
		// for W_UV and W_UK_T, we just store fp16/bf16 copies and perform
		// the bmm's in 16-bit" (MLACommonImpl.process_weights_after_loading,
		// which dequantises kv_b_proj with get_and_maybe_dequant_weights).
		MLABMM16: true,
		// cuBLAS BF16/FP8 GEMMs on H100 reach ~65-75% of dense peak for
		// large shapes (NVIDIA H100 GEMM benchmarks; Llama 3's 38-43% MFU
		// includes communication and pipeline bubbles on top); 0.7.
		GEMM: 0.70,
		// FlashAttention-3 (arXiv 2407.08608) reaches up to 740 of 989
		// BF16 TFLOP/s (75%) forward on H100 at long sequences, less at
		// short ones; 0.6.
		Attention: 0.60,
		// NCCL all-reduce bus bandwidth on 8xH100 reaches ~370 of 450 GB/s
		// per direction with rings (NCCL issue #1455 measurements): 0.8.
		NVLink: 0.80,
		// ASSUMPTION: NCCL's tuning model charges ~0.5-1.9 us per NVLink
		// hop (hardware catalog latency) plus kernel start and flag
		// synchronisation; an NVLS all-reduce of a few KB on 2 H100s in a
		// CUDA graph takes ~6 us (NCCL issue #1259), so 5 us fixed plus
		// the hops.
		CollectiveFixedUs: 5,
		// ASSUMPTION: inside a CUDA graph consecutive dependent kernels
		// start ~1-2 us apart and a small kernel needs ~2-3 us to ramp up
		// and drain its memory pipeline (a 4096x1024 BF16 GEMV, 8 MB, takes
		// ~5-6 us on H100 against 3 us at full bandwidth); 3 us per kernel.
		KernelGraphUs: 3,
		// Without graphs PyTorch dispatch plus cudaLaunchKernel costs
		// ~8-12 us of CPU per op, which the GPU waits for at small batch;
		// 10 us per kernel.
		KernelEagerUs: 10,
		// FITTED over the public serving set as a whole (its vLLM rows of
		// April and June-July 2025, the piecewise ones): 55 us was the best
		// of 25-75 us until int4 weights were priced at Marlin's bandwidth
		// (Int4HBM), MLA's absorbed up-projection in 16 bits (MLABMM16) and
		// the draft's FC as replicated; re-scanned then, 40, 45, 48, 50,
		// 52, 55 and 60 us give a time-per-token MAPE of 10.40, 10.06,
		// 9.92, 9.91, 9.92, 10.00 and 10.28% (TestPublicServingSet), so 50
		// us. It is the host time of one graph break, that is replaying a graph piece from Python
		// (torch.cuda.CUDAGraph.replay) and entering vLLM's attention
		// custom op (forward-context and metadata look-up). vLLM PR
		// #25444 measured what it costs: Qwen3-Coder-30B-A3B FP8 on one
		// H100 served 4.07 requests/s with piecewise graphs and 5.83
		// with full graphs (1.43x).
		GraphBreakUs: 50,
		// ASSUMPTION: sampling runs ~5 small kernels plus a device-to-host
		// copy of the tokens (~10 us): 25 us in all.
		SampleUs: 25,
		// ASSUMPTION: about 12 small kernels per speculative step (draft
		// top-k and tree assembly, mask build, verification, accepted-path
		// gather, KV compaction), following the steps EAGLE and SGLang's
		// EAGLE worker perform per round.
		SpecKernels: 12,
		// Exposed host time of a speculative step. Engines overlap CPU
		// scheduling with the GPU for plain decoding but not for
		// speculative steps, which must read the accepted lengths back
		// before the next step (SGLang sets disable_overlap_schedule for
		// EAGLE, issue #9961; its overlap scheduler is worth 5-10% of a
		// plain step, PR #9588).
		// HostStepUs, from an independent measurement: vLLM V1 on Llama
		// 3.1 8B at batch 1 (vLLM issue #20780) runs a 3-token EAGLE-3
		// step in 4.09 ms x 2.79 tokens = 11.4 ms and an EAGLE-1 step in
		// 4.29 x 2.29 = 9.8 ms against 7.07 ms plain; this GPU model
		// prices those steps ~2.5-3 ms below, so 2.5 ms is charged.
		// HostPerSeqUs (per-request Python bookkeeping of accepted tokens
		// and stop checks) is the one constant set against the EAGLE and
		// EAGLE-3 SGLang batch ladders of reference/inference-measurements
		// as a whole (18 points, worst error 0.21): 120 us per sequence.
		HostStepUs:       2500,
		HostPerSeqUs:     120,
		HostOverlapPlain: true,
		HostOverlapSpec:  false,
		// ASSUMPTION: the released vLLM, SGLang and TensorRT-LLM EAGLE
		// paths run draft and verify one after the other (Meta's
		// production overlap, arXiv 2508.08192, is not in them): 0.
		DraftOverlap: 0,
		// ASSUMPTION: vLLM's n-gram proposer matches the latest n-gram
		// against the sequence's tokens with a numba-compiled KMP search
		// on the host (SGLang's NGRAM keeps a C++ trie); a few thousand
		// tokens scan in ~10 us per sequence.
		NGramPerSeqUs: 10,
		// vLLM and SGLang reserve ~10% of HBM outside the KV pool
		// (gpu_memory_utilization 0.9, mem_fraction_static ~0.88).
		ReservedMemory: 0.10,
	}
}
