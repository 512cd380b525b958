package cost

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
)

// The exposed host time is the two-phase flow shop's makespan less the
// GPU's work: nothing while the GPU is the slower, the first phase's
// deficit where only it is host-bound, the whole deficit where the host
// is behind over both.
func TestExposedHost(t *testing.T) {
	tests := []struct {
		name           string
		hA, gA, hB, gB float64
		want           float64
	}{
		{"GPU-bound", 1, 2, 1, 2, 0},
		{"first phase host-bound, second hides it", 3, 1, 1, 4, 2},
		{"host-bound throughout", 3, 1, 3, 1, 4},
		{"second phase host-bound, first ahead", 1, 3, 4, 1, 1},
		{"one phase (no synchronisation)", 0, 0, 5, 3, 2},
	}
	for _, tt := range tests {
		if got := ExposedHost(tt.hA, tt.gA, tt.hB, tt.gB); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s: ExposedHost = %g, want %g", tt.name, got, tt.want)
		}
	}
}

// A DeepSeek-V3 MoE layer on one GPU of tp1 ep32 in MXFP8 issues the
// operations its framework facts say, counted by hand from the constants'
// sources: the GB200 write-up's baseline (all-to-all dispatcher, 72-kernel
// router, unfused MXFP8 allocation and swizzles, eager) and its final run
// (HybridEP, fused allocation, attention, router and preprocess in CUDA
// graphs).
func TestHostOpsDeepSeekV3(t *testing.T) {
	m, err := model.Lookup("deepseek-v3")
	if err != nil {
		t.Fatal(err)
	}
	build := func(d Dispatcher) Layer {
		return BuildLayer(nil, LayerInput{Model: m, Layer: 3, Seqs: 1, SeqLen: 4096, TP: 1, CP: 1, EP: 32, ETP: 1, Prec: hardware.MXFP8, Dispatcher: d})
	}
	tests := []struct {
		name string
		d    Dispatcher
		in   HostInput
		want HostOps
	}{
		{
			// Pre: five MLA projections and two shared-expert GEMMs at 8
			// (quantise, four allocations, two swizzles, GEMM), attention,
			// the BF16 router GEMM, ten element-wise kernels, the 72-kernel
			// router and the 12-call preprocess. Post: 16 expert GEMMs at 8,
			// ten permutation kernels, three all-to-alls. Backward: the
			// GEMMs at 11 (BF16 router 2), attention, 20 element-wise, ten
			// permutation, half the router, three all-to-alls.
			name: "baseline", d: DispatchAllToAll,
			in:   HostInput{Dispatcher: DispatchAllToAll, UnfusedQuantAlloc: true},
			want: HostOps{Pre: 5*8 + 2*8 + 1 + 1 + 10 + 72 + 12, Post: 16*8 + 10 + 3, Backward: 7*11 + 2 + 1 + 20 + 16*11 + 10 + 36 + 3},
		},
		{
			// Pre: ten element-wise kernels and three graph launches. Post:
			// 16 expert GEMMs at 2, eight permutation kernels, two fused
			// all-to-alls. Backward: the same at 3 per GEMM, 20
			// element-wise, three launches.
			name: "final", d: DispatchFused,
			in:   HostInput{Dispatcher: DispatchFused, Graphs: GraphAttn | GraphMoERouter | GraphMoEPreprocess},
			want: HostOps{Pre: 10 + 3, Post: 16*2 + 8 + 2, Backward: 20 + 16*3 + 8 + 2 + 3},
		},
		{
			// DeepEP with router fusion, eager, fused allocation: the GEMMs
			// at 2 forward and 3 backward, router and preprocess together
			// 17, of which 16 router kernels with a backward of 8.
			name: "fused dispatcher, router fusion, eager", d: DispatchFused,
			in:   HostInput{Dispatcher: DispatchFused, RouterFusion: true},
			want: HostOps{Pre: 7*2 + 1 + 1 + 10 + 17, Post: 16*2 + 8 + 2, Backward: 7*3 + 2 + 1 + 20 + 16*3 + 8 + 8 + 2},
		},
	}
	for _, tt := range tests {
		l := build(tt.d)
		if diff := cmp.Diff(tt.want, l.HostOps(tt.in)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// Grace-hosted systems pay GraceHostFactor per operation; x86 hosts 1.
func TestHostFactor(t *testing.T) {
	for id, want := range map[string]float64{"gb200": GraceHostFactor, "h100-sxm": 1, "b200": 1} {
		g, err := hardware.Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		if got := HostFactor(g); got != want {
			t.Errorf("%s: HostFactor = %g, want %g", id, got, want)
		}
	}
}

// The host time the calibration charges for one Transformer Engine
// Linear on GB200 is within a factor 2.5 of what Transformer Engine
// measured for it there (NVIDIA/TransformerEngine#3523, the CPU time
// before that change: forward 114.51 us in MXFP8 and 59.19 us in BF16,
// forward and backward 440.93 us in MXFP8). The model counts fewer
// operations than such a module's Python runs, so it sits below them.
func TestHostCostNearTransformerEngine(t *testing.T) {
	g, err := hardware.Lookup("gb200")
	if err != nil {
		t.Fatal(err)
	}
	d := NewDevice(g, Default())
	tests := []struct {
		name     string
		ops      float64
		measured float64 // us
	}{
		{"MXFP8 forward", linear8Fwd, 114.51},
		{"BF16 forward", linear16Fwd, 59.19},
		{"MXFP8 forward and backward", linear8Fwd + linear8Bwd, 440.93},
	}
	for _, tt := range tests {
		got := d.HostTime(tt.ops) * 1e6
		if r := got / tt.measured; r < 1/2.5 || r > 2.5 {
			t.Errorf("%s: %.1f us against the measured %.1f us (ratio %.2f)", tt.name, got, tt.measured, r)
		}
	}
}
