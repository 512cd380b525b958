// Package cost prices single operations on one GPU: matrix
// multiplications with a shape-dependent efficiency, fused attention,
// memory-bound element-wise work, and the calibration parameters that
// scale them.
package cost

import (
	"github.com/scaleacross/scaleacross/hardware"
)

// Params are the calibration parameters of the step model. They are few,
// physical and shared by every GPU, model and configuration; Default
// documents where each value comes from.
type Params struct {
	// GEMMEfficiency is the fraction of the dense 16-bit peak that a large,
	// well-shaped GEMM reaches.
	GEMMEfficiency float64 `json:"gemm_efficiency"`
	// LowPrecisionEfficiency multiplies GEMMEfficiency for 8- and 4-bit
	// GEMMs, which reach a smaller share of their (higher) peak.
	LowPrecisionEfficiency float64 `json:"low_precision_efficiency"`
	// TileDim is the GEMM dimension at which a tile-quantisation and
	// pipeline-fill penalty halves throughput along that dimension:
	// efficiency scales by d/(d+TileDim) for each of M, N and K.
	TileDim float64 `json:"tile_dim"`
	// AttentionEfficiency is the fraction of the 16-bit peak that fused
	// (flash) attention reaches, forward and backward.
	AttentionEfficiency float64 `json:"attention_efficiency"`
	// MemoryEfficiency is the fraction of HBM bandwidth that element-wise
	// kernels (norms, activations, residuals, casts, optimizer) reach.
	MemoryEfficiency float64 `json:"memory_efficiency"`
	// NetworkEfficiency is the fraction of link bandwidth a collective's
	// ring reaches (NCCL bus bandwidth over line rate).
	NetworkEfficiency float64 `json:"network_efficiency"`
	// KernelOverheadUs is the fixed cost per kernel: launch, tail wave
	// and synchronisation, in microseconds.
	KernelOverheadUs float64 `json:"kernel_overhead_us"`
	// RoutingImbalance is the factor by which the busiest GPU's expert
	// load exceeds the mean under learned, dropless routing, beyond the
	// sampling spread of force-balanced routing: its expert GEMMs and
	// all-to-all take that much longer. Megatron-MoE-ModelZoo measured
	// dropless rows 8-20% below force-balanced ones in whole-step
	// throughput (237 against 295 TFLOPS at 16K; reference/moe.md section
	// 4); with the expert part at about half to two thirds of the step
	// that is a factor of about 1.1-1.35 on it. The fit's range is 1-1.35;
	// with the Grok-1 rows of both DGX Cloud tags priced padded to
	// capacity, as their recipe sets, the AutoModel rows force-balanced, as
	// their summary states, and the unfused permutation priced
	// (PermuteEfficiency), it settles at 1.00.
	RoutingImbalance float64 `json:"routing_imbalance"`
	// PermuteEfficiency is the fraction of HBM bandwidth that an MoE
	// layer's router passes and token permutations reach (the Permute
	// block: top-k and softmax over the experts' logits, indexed gathers of
	// token rows, and scatter-adds that sum each token's top-k expert
	// outputs with atomic adds), in place of MemoryEfficiency. They run
	// well below streaming kernels: a 16-bit atomic scatter-add is 5-20x
	// slower than the same bytes in fp32 under contention
	// (openxla/xla#26371: 18.2 against 0.96 ms on GH200;
	// pytorch/pytorch#84981, "extremely slow scatter_add" in bfloat16),
	// and Transformer Engine's fused permutation kernels reach "up to a
	// 10x unit speedup" over the earlier ones for top-k much smaller
	// than the expert count (NVIDIA/Megatron-LM@eb0783b6d3
	// docs/discussions/deepseek-v3-gb200-optimization, section 2.1.1). The
	// fit's range is 0.05-0.95. Zero means MemoryEfficiency.
	PermuteEfficiency float64 `json:"permute_efficiency"`
	// HostOpUs is the host time of one framework operation (a PyTorch or
	// Transformer Engine call that launches a kernel, its Python logic,
	// allocations and the launch included) on the x86 host of a DGX H100,
	// in microseconds; Grace hosts take HostFactor times it. The host
	// issues every operation of an eager step (Layer.HostOps) and the GPU
	// cannot run ahead of it, so where a pass's operations cost the host
	// more than their kernels cost the GPU, the step waits on the host
	// (ExposedHost). The fit's range is 1-36 us: from "a few
	// microseconds" for a bare torch.empty (NVIDIA/Megatron-LM@eb0783b6d3
	// docs/discussions/deepseek-v3-gb200-optimization, section 2) to the
	// host time of a whole Transformer Engine BF16 Linear forward, one
	// counted operation, 99.66 us on GB200 (NVIDIA/TransformerEngine#2053),
	// 36 us at the x86 host's speed. Zero prices no host time.
	HostOpUs float64 `json:"host_op_us"`
}

// Default returns the calibration in force. Eight parameters
// (gemm_efficiency, low_precision_efficiency, attention_efficiency,
// memory_efficiency, network_efficiency, routing_imbalance,
// permute_efficiency, host_op_us) were fitted by `scaleacross validate --fit` over all
// 310 public training rows together (reference/training-measurements.csv:
// Korthikanti et al. on A100, NeMo 24.07, Llama 3, DGX Cloud recipes, NeMo
// summaries, AutoModel, torchtitan, DeepSeek-V3; dense and MoE) with one
// parameter set for every row, each inside its physical range and
// minimising the MAPE (validate.Objective). low_precision_efficiency sits
// at the top of its fit range, 0.905: above it the FP8 grouped GEMM at 256
// tokens per expert turns memory-bound and leaves DeepGEMM's measured
// points (TestGroupedGEMMFollowsDeepGEMM). permute_efficiency, 0.102, is
// the share of HBM bandwidth of the unfused MoE router and permutation
// passes (gathers and 16-bit atomic scatter-adds; see PermuteEfficiency);
// with it priced, routing_imbalance settles at 1.000, its lower bound
// (learned routing no worse than force-balanced beyond the sampling
// spread, which moeImbalance prices apart). host_op_us, 14.4 us (39.6 us
// on a Grace host), is the host time per counted framework operation
// (HostOpUs); it was fitted with the other seven held at their values,
// and a re-fit of all eight moves the efficiencies by at most 0.014
// (attention_efficiency to 0.468), host_op_us to 14.3 and the objective
// by less than 1% (validate.TestDefaultsAreFitted). At it one public row
// is host-bound, Megatron-LM's unoptimised DeepSeek-V3 GB200 baseline
// (from -40.5% to -24.5%); above about 16 us the GB200 FP8 Grok-1 rows turn
// host-bound and pass +30%, so the rows bound it from both sides. It is
// below what Transformer Engine's own measurements give per counted
// operation (a Linear forward on GB200, 114.5 us in MXFP8 for two counted
// operations and 59.2 us in BF16 for one, NVIDIA/TransformerEngine#3523),
// within the factor TestHostCostNearTransformerEngine allows. Network
// efficiency sits at its upper bound 0.95 and memory efficiency at its
// lower bound 0.5: NeMo's
// tensor-parallel communication overlap (tp_comm_overlap with userbuffers
// in the large dense recipes) is not priced, so the fit speeds the network
// up instead, and the small dense models' element-wise work (norms, casts,
// the vocabulary-wide loss) runs slower than STREAM-like kernels. TileDim
// (32, half a 64-wide tensor-core tile) and KernelOverheadUs (2 us, a CUDA
// kernel launch plus tail) are fixed, not fitted. Starting points and
// plausible ranges come from public microbenchmarks: cuBLAS reaches ~70-80%
// of dense peak on large BF16 GEMMs on A100/H100 and ~60-70% on FP8
// (NVIDIA Transformer Engine and cuBLAS benchmarks); FlashAttention-2
// reaches 50-73% of A100 peak forward and 40-60% backward (Dao 2023, arXiv
// 2307.08691); element-wise kernels reach ~80-90% of HBM bandwidth
// (STREAM-like); NCCL all-reduce bus bandwidth is ~80-95% of line rate for
// large messages (nccl-tests); the routing imbalance range is
// Megatron-MoE-ModelZoo's dropless against force-balanced gap (see
// RoutingImbalance).
func Default() Params {
	return Params{
		GEMMEfficiency:         0.689,
		LowPrecisionEfficiency: 0.905,
		TileDim:                32,
		AttentionEfficiency:    0.454,
		MemoryEfficiency:       0.500,
		NetworkEfficiency:      0.950,
		KernelOverheadUs:       2,
		RoutingImbalance:       1.000,
		PermuteEfficiency:      0.102,
		HostOpUs:               14.4,
	}
}

// Device binds calibration parameters to one GPU.
type Device struct {
	GPU    *hardware.GPU
	P      Params
	peak16 float64 // FLOP/s
	hbm    float64 // bytes/s
	// hostFactor is HostFactor of the GPU, looked up once (HostTime).
	hostFactor float64
}

// NewDevice prepares per-GPU constants. The 16-bit peak is bf16 where the
// GPU has it, fp16 otherwise (V100).
func NewDevice(g *hardware.GPU, p Params) *Device {
	d := MakeDevice(g, p)
	return &d
}

// MakeDevice is NewDevice's device as a value, for a caller that keeps it
// in a buffer of its own instead of allocating one per call.
func MakeDevice(g *hardware.GPU, p Params) Device {
	pk, ok := g.PeakTFLOPS(hardware.BF16)
	if !ok {
		pk, _ = g.PeakTFLOPS(hardware.FP16)
	}
	p.GEMMEfficiency *= g.GEMMDerate() // the GPU's measured large-GEMM share against H100's (hardware.GPU.GEMMFraction)
	return Device{GPU: g, P: p, peak16: pk * 1e12, hbm: g.HBMBandwidthGB * 1e9, hostFactor: HostFactor(g)}
}

// Peak16 is the dense 16-bit peak in FLOP/s.
func (d *Device) Peak16() float64 { return d.peak16 }

// GEMMPeak is the peak and efficiency used for GEMMs at precision p.
func (d *Device) GEMMPeak(p hardware.Precision) (peak, eff float64) {
	switch p {
	case hardware.FP8, hardware.MXFP8, hardware.NVFP4, hardware.FP4, hardware.INT8:
		if pk, ok := d.GPU.PeakTFLOPS(p); ok {
			return pk * 1e12, d.P.GEMMEfficiency * d.P.LowPrecisionEfficiency
		}
	}
	return d.peak16, d.P.GEMMEfficiency
}

// GEMM is the time of an (m x k) by (k x n) matrix product at precision p,
// the larger of its compute time at the shape-dependent efficiency and
// its memory traffic at HBM bandwidth, plus the kernel overhead.
func (d *Device) GEMM(m, n, k float64, p hardware.Precision) float64 {
	if m <= 0 || n <= 0 || k <= 0 {
		return 0
	}
	peak, eff := d.GEMMPeak(p)
	td := d.P.TileDim
	eff *= m / (m + td) * n / (n + td) * k / (k + td)
	compute := 2 * m * n * k / (peak * eff)
	bytes := (m*k + k*n + m*n) * 2
	mem := bytes / (d.hbm * d.P.MemoryEfficiency)
	return max(compute, mem) + d.P.KernelOverheadUs*1e-6
}

// Attention is the time of fused attention of flops FLOPs (16-bit).
func (d *Device) Attention(flops float64) float64 {
	if flops <= 0 {
		return 0
	}
	return flops/(d.peak16*d.P.AttentionEfficiency) + d.P.KernelOverheadUs*1e-6
}

// MemoryBound is the time to move bytes through HBM in kernels element-wise.
func (d *Device) MemoryBound(bytes float64, kernels int) float64 {
	return bytes/(d.hbm*d.P.MemoryEfficiency) + float64(kernels)*d.P.KernelOverheadUs*1e-6
}

// PermuteBound is the time of an MoE layer's router passes and token
// permutations moving bytes in kernels (Params.PermuteEfficiency).
func (d *Device) PermuteBound(bytes float64, kernels int) float64 {
	eff := d.P.PermuteEfficiency
	if eff <= 0 {
		eff = d.P.MemoryEfficiency
	}
	return bytes/(d.hbm*eff) + float64(kernels)*d.P.KernelOverheadUs*1e-6
}

// GroupedTileM is the tokens per expert at which a grouped GEMM runs at
// half its large-M efficiency: the M-efficiency of each group is
// m/(m+GroupedTileM) in place of the dense m/(m+TileDim). It is the
// 128-row block of the Hopper grouped kernels, and it matches DeepGEMM's
// measured FP8 grouped GEMMs on H800 (deepseek-ai/DeepGEMM@327ec92f69
// README, N4096 K7168, relative to the contiguous layout's 1346 TFLOPS at
// 4096-8192 tokens per group): 1233 TFLOPS at M=1024 (0.92, m0 = 90), 1040
// at M=512 (0.77, m0 = 150), 932 at M=256 (0.69, m0 = 115). The curve
// passes within 5% of all three points with m0 = 128; it is not fitted
// to any training row (reference/moe.md section 4).
const GroupedTileM = 128

// GroupedGEMM is the time of groups (m x k) by (k x n) products, m being
// the tokens routed to one expert, at precision p. With grouped true they
// run as one grouped kernel (one launch); otherwise as one GEMM per group
// (Megatron-Core's sequential experts). Either way each group's M-efficiency
// follows the grouped curve (GroupedTileM); memory traffic reads each
// group's weights and tokens once at the GEMM's precision.
func (d *Device) GroupedGEMM(m, n, k, groups float64, p hardware.Precision, grouped bool) float64 {
	if m <= 0 || n <= 0 || k <= 0 || groups <= 0 {
		return 0
	}
	peak, eff := d.GEMMPeak(p)
	td := d.P.TileDim
	eff *= m / (m + GroupedTileM) * n / (n + td) * k / (k + td)
	compute := 2 * m * n * k / (peak * eff)
	// Inputs at the GEMM's precision (8-bit weights and activations read
	// one byte each), the output in 16 bits.
	bytes := (m*k+k*n)*p.BytesPerElement() + m*n*2
	mem := bytes / (d.hbm * d.P.MemoryEfficiency)
	launches := groups
	if grouped {
		launches = 1
	}
	return groups*max(compute, mem) + launches*d.P.KernelOverheadUs*1e-6
}
