// Package hardware describes accelerators and the systems they sit in:
// per-precision peak throughput, memory, scale-up and scale-out bandwidth.
package hardware

// Precision is a numeric format for matrix multiplication.
type Precision string

// Precisions the step model understands.
const (
	FP32  Precision = "fp32"
	TF32  Precision = "tf32"
	FP16  Precision = "fp16"
	BF16  Precision = "bf16"
	FP8   Precision = "fp8"
	MXFP8 Precision = "mxfp8"
	NVFP4 Precision = "nvfp4"
	INT8  Precision = "int8"
	FP4   Precision = "fp4"
	// INT4 is 4-bit integer weights with a 16-bit scale and a 4-bit zero
	// point per group of 128 (AWQ, arXiv 2306.00978, and AutoAWQ's
	// default group size; GPTQ's asymmetric form is the same size), run
	// weight-only: dequantised in registers to the activations' width.
	INT4 Precision = "int4"
)

// BytesPerElement is the storage size of one element in p (block-scaled
// formats include their scale overhead: MXFP8 one byte per 32 elements,
// NVFP4 one byte per 16 elements, INT4 two and a half bytes of scale and
// zero point per 128).
func (p Precision) BytesPerElement() float64 {
	switch p {
	case FP32, TF32:
		return 4
	case FP16, BF16:
		return 2
	case FP8, INT8:
		return 1
	case MXFP8:
		return 1 + 1.0/32
	case NVFP4:
		return 0.5 + 1.0/16
	case FP4:
		return 0.5
	case INT4:
		return 0.5 + 2.5/128
	}
	return 2
}

// Peak is one dense (non-sparse) tensor-core peak, in TFLOP/s.
type Peak struct {
	Precision Precision `json:"precision"`
	TFLOPS    float64   `json:"tflops"`
}

// GPU is one accelerator as deployed in its usual system.
type GPU struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Vendor string `json:"vendor"`
	Arch   string `json:"arch"`
	// System names the usual host system (e.g. "HGX H100 8-GPU").
	System string `json:"system"`

	// Peaks lists dense peak throughput per supported precision.
	Peaks []Peak `json:"peaks"`

	MemoryGB       float64 `json:"memory_gb"`         // HBM capacity as published ("80 GB"), which is binary GiB of HBM
	HBMBandwidthGB float64 `json:"hbm_bandwidth_gbs"` // HBM bandwidth, GB/s

	ScaleUpSize       int     `json:"scale_up_size"`       // GPUs per NVLink/xGMI domain
	ScaleUpGBs        float64 `json:"scale_up_gbs"`        // per-GPU, per-direction, GB/s
	ScaleUpLatencyUs  float64 `json:"scale_up_latency_us"` // one-way, small message
	NICGbps           float64 `json:"nic_gbps"`            // scale-out per GPU, Gb/s
	ScaleOutLatencyUs float64 `json:"scale_out_latency_us"`

	TDPWatts float64 `json:"tdp_w,omitempty"`

	// GEMMFraction is the share of its dense peak that this GPU's large
	// GEMMs reach, relative to the H100 SXM's share, where a measurement
	// gives it (0 means 1, as on H100). The training calibration's
	// gemm_efficiency is set on rows that run mostly on H100 (cost.Default),
	// so a GPU whose cuBLAS GEMMs reach a smaller share of its datasheet
	// peak says so here; each value names its measurement in Sources.
	GEMMFraction float64 `json:"gemm_fraction,omitempty"`

	// Sources maps each field group to where its numbers come from.
	Sources []string `json:"sources"`
}

// PeakTFLOPS returns the dense peak for p and whether the GPU supports it.
func (g *GPU) PeakTFLOPS(p Precision) (float64, bool) {
	for _, pk := range g.Peaks {
		if pk.Precision == p {
			return pk.TFLOPS, true
		}
	}
	return 0, false
}

// GEMMDerate is GEMMFraction, or 1 where none is measured.
func (g *GPU) GEMMDerate() float64 {
	if g.GEMMFraction > 0 {
		return g.GEMMFraction
	}
	return 1
}

// UsableGiB is the memory a job can allocate on g, in GiB, for training
// and serving alike. NVIDIA's datasheet capacities are binary (H100 "80 GB"
// is 80 GiB of HBM3) less what the driver reserves: nvidia-smi reports
// 81,559 MiB on an H100 80GB and 143,771 MiB on an H200 141GB, 99.56% of
// the nominal GiB in both.
func (g *GPU) UsableGiB() float64 { return g.MemoryGB * 0.9956 }

// UsableBytes is UsableGiB in bytes.
func (g *GPU) UsableBytes() float64 { return g.UsableGiB() * (1 << 30) }
