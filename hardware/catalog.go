package hardware

import (
	"sort"
	"strings"

	"github.com/scaleacross/scaleacross/internal/suggest"
)

// Typical small-message latencies shared by several entries. They are not
// datasheet figures: NCCL's own cost model (src/graph/tuning.cc, hwLat)
// charges about 0.5-1.9 us per NVLink hop for its low-latency protocols
// and about 2.7-5 us per network hop, before software overheads.
const (
	// nvlinkLatencyUs is a typical one-way small-message latency through
	// an NVLink/NVSwitch (or xGMI) domain, in microseconds.
	nvlinkLatencyUs = 1.0
	// rdmaLatencyUs is a typical one-way small-message latency over one
	// InfiniBand or RoCE fabric (NIC + a few switch hops), in microseconds.
	rdmaLatencyUs = 5.0
)

// Source notes reused by several entries.
const (
	latencySource = "latency (assumed typical, not a spec): scale-up 1 us and scale-out 5 us one way for small messages, " +
		"in line with NCCL src/graph/tuning.cc hwLat (NVLink ~0.5-1.9 us, network ~2.7-5 us per hop for LL/LL128)"
	nvlink5Source = "scale-up: NVLink 5, 1.8 TB/s total per GPU = 900 GB/s per direction (NVIDIA Blackwell datasheets)"
)

// Builtin returns the built-in accelerator catalog, sorted by ID. Every
// call returns a fresh slice that the caller may modify.
//
// All peaks are dense tensor-core rates: NVIDIA datasheets mostly quote
// 2:4-sparse figures, which are halved here.
func Builtin() []GPU {
	gpus := []GPU{
		v100SXM216G(),
		a100SXM80G(),
		h100SXM(),
		h800(),
		h200(),
		b200(),
		b300(),
		gb200(),
		gb300(),
		mi300x(),
	}
	sort.Slice(gpus, func(i, j int) bool { return gpus[i].ID < gpus[j].ID })
	return gpus
}

// IDs returns the catalog ids, sorted.
func IDs() []string {
	gpus := Builtin()
	ids := make([]string, len(gpus))
	for i, g := range gpus {
		ids[i] = g.ID
	}
	return ids
}

// aliases maps convenient short names to canonical ids.
func aliases() map[string]string {
	return map[string]string{
		"v100":      "v100-sxm2-16g",
		"a100":      "a100-sxm-80g",
		"a100-80g":  "a100-sxm-80g",
		"h100":      "h100-sxm",
		"h100-sxm5": "h100-sxm",
		"h200-sxm":  "h200",
		"mi300":     "mi300x",
	}
}

// UnknownIDError reports a catalog id that does not exist, naming the
// nearest known ids. It exits with code 2 (bad input).
type UnknownIDError = suggest.UnknownIDError

// Lookup returns the catalog GPU with the given id (case-insensitive; a
// few short aliases such as "h100" are accepted). An unknown id gives an
// *UnknownIDError naming the nearest known ids.
func Lookup(id string) (*GPU, error) {
	key := strings.ToLower(strings.TrimSpace(id))
	if canon, ok := aliases()[key]; ok {
		key = canon
	}
	gpus := Builtin()
	for i := range gpus {
		if gpus[i].ID == key {
			return &gpus[i], nil
		}
	}
	return nil, &UnknownIDError{Kind: "gpu", ID: id, Nearest: suggest.Closest(key, IDs(), 3)}
}

func v100SXM216G() GPU {
	return GPU{
		ID:     "v100-sxm2-16g",
		Name:   "NVIDIA Tesla V100 SXM2 16GB",
		Vendor: "NVIDIA",
		Arch:   "Volta",
		System: "DGX-1 (8x V100 SXM2, NVLink 2 hybrid cube-mesh, 4x 100 Gb/s EDR InfiniBand)",
		Peaks: []Peak{
			{FP32, 15.7},
			{FP16, 125},
		},
		MemoryGB:          16,
		HBMBandwidthGB:    900,
		ScaleUpSize:       8,
		ScaleUpGBs:        150,
		ScaleUpLatencyUs:  nvlinkLatencyUs,
		NICGbps:           50,
		ScaleOutLatencyUs: rdmaLatencyUs,
		TDPWatts:          300,
		Sources: []string{
			"peaks, memory, TDP: NVIDIA Tesla V100 datasheet, SXM2 column (FP32 15.7 TFLOPS, tensor FP16 125 TFLOPS, 16 GB HBM2 at 900 GB/s, 300 W); Volta has no BF16, FP8 or sparsity support",
			"scale-up: NVIDIA DGX-1 with Tesla V100 system architecture white paper (6 NVLink 2 links x 25 GB/s per direction = 150 GB/s per direction, 300 GB/s total; hybrid cube-mesh, so not every GPU pair is directly linked)",
			"scale-out: DGX-1 white paper, four 100 Gb/s EDR InfiniBand NICs per 8 GPUs = 50 Gb/s per GPU",
			latencySource,
		},
	}
}

func a100SXM80G() GPU {
	return GPU{
		ID:     "a100-sxm-80g",
		Name:   "NVIDIA A100 SXM4 80GB",
		Vendor: "NVIDIA",
		Arch:   "Ampere",
		System: "DGX A100 / HGX A100 8-GPU (NVSwitch, 8x 200 Gb/s HDR InfiniBand)",
		Peaks: []Peak{
			{FP32, 19.5},
			{TF32, 156},
			{FP16, 312},
			{BF16, 312},
			{INT8, 624},
		},
		MemoryGB:          80,
		HBMBandwidthGB:    2039,
		ScaleUpSize:       8,
		ScaleUpGBs:        300,
		ScaleUpLatencyUs:  nvlinkLatencyUs,
		NICGbps:           200,
		ScaleOutLatencyUs: rdmaLatencyUs,
		TDPWatts:          400,
		Sources: []string{
			"peaks, memory, TDP: NVIDIA A100 Tensor Core GPU datasheet, A100 80GB SXM column, dense figures (TF32 156, BF16/FP16 312, INT8 624 TOPS; datasheet's 312/624/1248 with sparsity halved), 80 GB HBM2e at 2,039 GB/s, 400 W",
			"scale-up: NVLink 3, 600 GB/s total per GPU = 300 GB/s per direction, 8 GPUs on NVSwitch (A100 datasheet; DGX A100 user guide)",
			"scale-out: DGX A100 user guide, 8x ConnectX-6 200 Gb/s HDR InfiniBand cluster NICs = 200 Gb/s per GPU",
			latencySource,
		},
	}
}

func h100SXM() GPU {
	return GPU{
		ID:                "h100-sxm",
		Name:              "NVIDIA H100 SXM5 80GB",
		Vendor:            "NVIDIA",
		Arch:              "Hopper",
		System:            "DGX H100 / HGX H100 8-GPU (NVSwitch, 8x 400 Gb/s ConnectX-7)",
		Peaks:             hopperPeaks(),
		MemoryGB:          80,
		HBMBandwidthGB:    3350,
		ScaleUpSize:       8,
		ScaleUpGBs:        450,
		ScaleUpLatencyUs:  nvlinkLatencyUs,
		NICGbps:           400,
		ScaleOutLatencyUs: rdmaLatencyUs,
		TDPWatts:          700,
		Sources: []string{
			"peaks: NVIDIA H100 Tensor Core GPU datasheet, SXM column, whose tensor figures are with sparsity (TF32 989, BF16/FP16 1,979, FP8/INT8 3,958) and are halved here; exact dense values TF32 494.7, BF16 989.4, FP8 1978.9 from the NVIDIA H100 (Hopper) architecture white paper table",
			"memory, TDP: H100 datasheet, SXM column (80 GB HBM3 at 3.35 TB/s, up to 700 W)",
			"scale-up: NVLink 4, 900 GB/s total per GPU = 450 GB/s per direction, 8 GPUs on NVSwitch (H100 datasheet; Llama 3 paper)",
			"scale-out: DGX H100 user guide, 8x ConnectX-7 400 Gb/s per node = 400 Gb/s per GPU (also Meta's Llama 3 clusters, Llama 3 paper)",
			latencySource,
		},
	}
}

// h800 is the export variant of the H100 SXM: the same silicon, tensor
// peaks and HBM, with the NVLink cut to 400 GB/s per GPU (both directions
// together). DeepSeek-V3 was trained on it.
func h800() GPU {
	g := h100SXM()
	g.ID = "h800"
	g.Name = "NVIDIA H800 SXM5 80GB"
	g.System = "HGX H800 8-GPU (NVSwitch at 400 GB/s per GPU, ConnectX-7 400 Gb/s per GPU)"
	g.ScaleUpGBs = 200
	g.Sources = []string{
		"peaks, memory, TDP: H100 SXM silicon (dense BF16 989.4, FP8 1978.9 TFLOP/s; 80 GB HBM3 at 3.35 TB/s), as the H100 entry; NVIDIA H800 product specification",
		"scale-up: NVIDIA H800 product specification: NVLink 400 GB/s per GPU (against 900 GB/s on H100 SXM) = 200 GB/s per direction, 8 GPUs per HGX node on NVSwitch; DeepSeek-V3 technical report (arXiv 2412.19437) sections 3.1-3.2 (8 per node over NVLink/NVSwitch, about 160 GB/s achievable)",
		"scale-out: deepseek-ai/DeepEP README (docs/legacy.md): each H800 with a CX7 InfiniBand 400 Gb/s RDMA card (about 50 GB/s maximum)",
		latencySource,
	}
	return g
}

// hopperPeaks are the dense peaks of the GH100 die at H100 SXM clocks,
// which H200 shares (same compute, more and faster HBM; H200 datasheet).
func hopperPeaks() []Peak {
	return []Peak{{FP32, 66.9}, {TF32, 494.7}, {FP16, 989.4}, {BF16, 989.4}, {FP8, 1978.9}, {INT8, 1978.9}}
}

func h200() GPU {
	return GPU{
		ID:                "h200",
		Name:              "NVIDIA H200 SXM 141GB",
		Vendor:            "NVIDIA",
		Arch:              "Hopper",
		System:            "HGX H200 8-GPU (NVSwitch, 8x 400 Gb/s ConnectX-7)",
		Peaks:             hopperPeaks(),
		MemoryGB:          141,
		HBMBandwidthGB:    4800,
		ScaleUpSize:       8,
		ScaleUpGBs:        450,
		ScaleUpLatencyUs:  nvlinkLatencyUs,
		NICGbps:           400,
		ScaleOutLatencyUs: rdmaLatencyUs,
		TDPWatts:          700,
		Sources: []string{
			"peaks: NVIDIA H200 datasheet, SXM column (same GH100 compute as H100 SXM; sparse BF16 1,979 and FP8 3,958 TFLOPS halved to dense 989.4 and 1978.9)",
			"memory, TDP: H200 datasheet, SXM column (141 GB HBM3e at 4.8 TB/s, up to 700 W)",
			"scale-up: NVLink 4, 900 GB/s total = 450 GB/s per direction, 8 GPUs on NVSwitch (H200 datasheet)",
			"scale-out: DGX H200 datasheet, 8x ConnectX-7 400 Gb/s = 400 Gb/s per GPU",
			latencySource,
		},
	}
}

// blackwellGEMMFraction is the large-GEMM share of the dense BF16 peak
// that Blackwell (sm_100) reaches relative to Hopper (sm_90), from the
// cuBLAS GEMM throughputs OpenXLA measured on both and ships as its
// default matmul performance table (openxla/xla
// xla/service/gpu/model/matmul_interpolator_data.h, kDefaultMatmulPTable,
// bf16xbf16->bf16 entries; the sm_90 and sm_100 tables of the same file).
// Over the six shapes of at least 2^35 multiply-adds measured on both
// (batch x M x N x K = 4x4096x4096x2048, 2x4096x4096x2048,
// 4x2048x4096x4096, 2x2048x2048x4096, 4x4096x2048x2048,
// 2x4096x1024x4096), sm_100 reaches 1,325-1,544 TFLOP/s, 0.59-0.69 of
// B200's 2,250, against 751-802 TFLOP/s, 0.76-0.81 of H100's 989.4, on
// sm_90: per shape 0.77-0.89 of Hopper's share, mean 0.798. Blackwell
// runs its datasheet peak only at the boost clock; under the power limit
// a sustained GEMM runs slower. The table is keyed by compute capability,
// so GB200 (also sm_100, the same die at a higher clock and power limit,
// hence its higher datasheet peak) takes the same share of its own peak.
// Measured, not fitted to any training row.
const blackwellGEMMFraction = 0.80

const blackwellGEMMSource = "GEMM fraction: OpenXLA's measured cuBLAS BF16 GEMM tables (xla/service/gpu/model/matmul_interpolator_data.h, sm_100 against sm_90, six shapes of at least 2^35 multiply-adds): large GEMMs reach 0.80 of the share of dense peak that H100 reaches (blackwellGEMMFraction)"

func b200() GPU {
	return GPU{
		ID:     "b200",
		Name:   "NVIDIA B200",
		Vendor: "NVIDIA",
		Arch:   "Blackwell",
		System: "DGX B200 / HGX B200 8-GPU (NVLink 5 switch, 8x 400 Gb/s ConnectX-7)",
		Peaks: []Peak{
			{FP32, 75},
			{TF32, 1100},
			{FP16, 2250},
			{BF16, 2250},
			{FP8, 4500},
			{MXFP8, 4500},
			{NVFP4, 9000},
			{FP4, 9000},
			{INT8, 4500},
		},
		MemoryGB:          180,
		HBMBandwidthGB:    8000,
		ScaleUpSize:       8,
		ScaleUpGBs:        900,
		ScaleUpLatencyUs:  nvlinkLatencyUs,
		NICGbps:           400,
		ScaleOutLatencyUs: rdmaLatencyUs,
		TDPWatts:          1000,
		GEMMFraction:      blackwellGEMMFraction,
		Sources: []string{
			"peaks: NVIDIA HGX B200 per-GPU specifications (sparse FP4 18, FP8/FP6 9, INT8 9, FP16/BF16 4.5, TF32 2.2 PFLOPS; FP32 75 TFLOPS) halved to dense; DGX B200 lists FP4 72 PFLOPS dense per 8 GPUs = 9 PF each. MXFP8 runs at the FP8 rate and NVFP4 at the FP4 rate (Blackwell block-scaled tensor-core formats)",
			"memory: DGX B200 user guide (1,440 GB total over 8 GPUs = 180 GB) and DGX B200 datasheet (64 TB/s HBM3e total = 8 TB/s per GPU; the later HGX B200 sheet says 7.7 TB/s)",
			"TDP: HGX B200 specifications, configurable up to 1,000 W",
			nvlink5Source + "; 8 GPUs per HGX/DGX B200 NVLink domain",
			"scale-out: DGX B200 user guide, 8x ConnectX-7 single-port cards at up to 400 Gb/s = 400 Gb/s per GPU",
			blackwellGEMMSource,
			latencySource,
		},
	}
}

func b300() GPU {
	return GPU{
		ID:     "b300",
		Name:   "NVIDIA B300 (Blackwell Ultra)",
		Vendor: "NVIDIA",
		Arch:   "Blackwell Ultra",
		System: "HGX B300 / DGX B300 8-GPU (NVLink 5 switch, 8x 800 Gb/s ConnectX-8)",
		Peaks: []Peak{
			{FP32, 75},
			{TF32, 1125},
			{FP16, 2250},
			{BF16, 2250},
			{FP8, 4500},
			{MXFP8, 4500},
			{NVFP4, 13500},
			{FP4, 13500},
		},
		MemoryGB:          288,
		HBMBandwidthGB:    8000,
		ScaleUpSize:       8,
		ScaleUpGBs:        900,
		ScaleUpLatencyUs:  nvlinkLatencyUs,
		NICGbps:           800,
		ScaleOutLatencyUs: rdmaLatencyUs,
		TDPWatts:          1100,
		Sources: []string{
			"peaks: NVIDIA HGX B300 specifications per 8 GPUs (FP4 144 PF sparse / 108 PF dense = 13.5 PF dense per GPU; FP8/FP6 72 PF, FP16/BF16 36 PF, TF32 18 PF sparse, halved and divided by 8; FP32 600 TF / 8 = 75). INT8 and FP64 are cut to a token rate on Blackwell Ultra, so INT8 is not listed",
			"memory: HGX/DGX B300 up to 2.3 TB HBM3e per 8 GPUs = 288 GB per GPU (12-high HBM3e), 8 TB/s per GPU (NVIDIA Blackwell Ultra announcements)",
			"TDP: 1,100 W per GPU in HGX B300 as reported by secondary sources (e.g. Verda's GB300 NVL72 architecture post); NVIDIA's HGX page does not state it",
			nvlink5Source + "; 8 GPUs per HGX B300 NVLink domain",
			"scale-out: HGX B300 networking 1.6 TB/s (bidirectional) per 8 GPUs = ConnectX-8 800 Gb/s per GPU",
			latencySource,
		},
	}
}

func gb200() GPU {
	return GPU{
		ID:     "gb200",
		Name:   "NVIDIA GB200 (Blackwell GPU in GB200 NVL72)",
		Vendor: "NVIDIA",
		Arch:   "Blackwell",
		System: "GB200 NVL72 rack (72 GPUs + 36 Grace CPUs in one NVLink domain, 400 Gb/s ConnectX-7 per GPU)",
		Peaks: []Peak{
			{FP32, 80},
			{TF32, 1250},
			{FP16, 2500},
			{BF16, 2500},
			{FP8, 5000},
			{MXFP8, 5000},
			{NVFP4, 10000},
			{FP4, 10000},
			{INT8, 5000},
		},
		MemoryGB:          186,
		HBMBandwidthGB:    8000,
		ScaleUpSize:       72,
		ScaleUpGBs:        900,
		ScaleUpLatencyUs:  nvlinkLatencyUs,
		NICGbps:           400,
		ScaleOutLatencyUs: rdmaLatencyUs,
		TDPWatts:          1200,
		GEMMFraction:      blackwellGEMMFraction,
		Sources: []string{
			"peaks: NVIDIA GB200 NVL72 specifications, individual Blackwell GPU column (sparse FP4 20, FP8/FP6 10, INT8 10, FP16/BF16 5, TF32 2.5 PFLOPS; FP32 80 TFLOPS) halved to dense; rack totals FP4 1,440 PF sparse / 72 GPUs agree. MXFP8 at the FP8 rate, NVFP4 at the FP4 rate",
			"memory: GB200 NVL72 specifications, 186 GB HBM3e at 8 TB/s per GPU (576 TB/s per 72-GPU rack)",
			"TDP: GB200 NVL72 specifications, configurable up to 1,200 W per GPU",
			nvlink5Source + "; 72 GPUs in one NVLink domain (130 TB/s per rack)",
			"scale-out: GB200 NVL72 reference design, one ConnectX-7 400 Gb/s NIC per GPU (4 per compute tray of 4 GPUs)",
			blackwellGEMMSource + "; the table is keyed by compute capability, and GB200 is sm_100",
			latencySource,
		},
	}
}

func gb300() GPU {
	return GPU{
		ID:     "gb300",
		Name:   "NVIDIA GB300 (Blackwell Ultra GPU in GB300 NVL72)",
		Vendor: "NVIDIA",
		Arch:   "Blackwell Ultra",
		System: "GB300 NVL72 rack (72 GPUs + 36 Grace CPUs in one NVLink domain, 800 Gb/s ConnectX-8 per GPU)",
		Peaks: []Peak{
			{FP32, 80},
			{TF32, 1250},
			{FP16, 2500},
			{BF16, 2500},
			{FP8, 5000},
			{MXFP8, 5000},
			{NVFP4, 15000},
			{FP4, 15000},
		},
		MemoryGB:          288,
		HBMBandwidthGB:    8000,
		ScaleUpSize:       72,
		ScaleUpGBs:        900,
		ScaleUpLatencyUs:  nvlinkLatencyUs,
		NICGbps:           800,
		ScaleOutLatencyUs: rdmaLatencyUs,
		TDPWatts:          1400,
		Sources: []string{
			"peaks: NVIDIA GB300 NVL72 specifications per 72-GPU rack (FP4 1,440 PF sparse / 1,080 PF dense = 15 PF dense per GPU; FP8/FP6 720 PF sparse = 5 PF dense per GPU; FP16/BF16 360 PF sparse = 2.5 PF dense per GPU); TF32 1.25 PF and FP32 80 TF dense per GPU from Verda's GB300 NVL72 architecture post. INT8 and FP64 are cut on Blackwell Ultra and not listed",
			"memory: 288 GB HBM3e per Blackwell Ultra GPU, 576 TB/s per rack = 8 TB/s per GPU (GB300 NVL72 specifications; NVIDIA quotes 'up to 20 TB' HBM3e per rack, i.e. ~279-288 GB per GPU)",
			"TDP: 1,400 W per GPU (NVIDIA Blackwell Ultra announcements; Verda GB300 NVL72 post)",
			nvlink5Source + "; 72 GPUs in one NVLink domain (130 TB/s per rack)",
			"scale-out: GB300 NVL72 specifications, 72 ConnectX-8 SuperNICs at 800 Gb/s = one per GPU",
			latencySource,
		},
	}
}

func mi300x() GPU {
	return GPU{
		ID:     "mi300x",
		Name:   "AMD Instinct MI300X",
		Vendor: "AMD",
		Arch:   "CDNA 3",
		System: "8x MI300X OAM platform (Infinity Fabric full mesh, 400 Gb/s NIC per GPU)",
		Peaks: []Peak{
			{FP32, 163.4},
			{TF32, 653.7},
			{FP16, 1307.4},
			{BF16, 1307.4},
			{FP8, 2614.9},
			{INT8, 2614.9},
		},
		MemoryGB:          192,
		HBMBandwidthGB:    5300,
		ScaleUpSize:       8,
		ScaleUpGBs:        448,
		ScaleUpLatencyUs:  nvlinkLatencyUs,
		NICGbps:           400,
		ScaleOutLatencyUs: rdmaLatencyUs,
		TDPWatts:          750,
		Sources: []string{
			"peaks: AMD Instinct MI300X datasheet, dense matrix figures (FP32 163.4, TF32 653.7, FP16/BF16 1,307.4, FP8 2,614.9 TFLOPS, INT8 2,614.9 TOPS; sparse figures are twice these). MI300X has no MX (microscaling) formats; those arrive with MI355X",
			"memory, TDP: MI300X datasheet (192 GB HBM3 at 5.3 TB/s, 750 W)",
			"scale-up: MI300X platform, 7 Infinity Fabric (xGMI) links per GPU at 128 GB/s bidirectional = 896 GB/s aggregate, 448 GB/s per direction; it is a full mesh, so one GPU pair gets only 64 GB/s per direction and collectives reach 448 only when all 7 peers take part",
			"scale-out: 400 Gb/s per GPU is an assumption (typical MI300X deployments such as Azure ND MI300X v5 pair each GPU with a 400 Gb/s NIC); the platform does not fix it",
			"latency (assumed typical, not a spec): scale-up 1 us for xGMI (no vendor figure; same as NVLink value), scale-out 5 us for IB/RoCE",
		},
	}
}
