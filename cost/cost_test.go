package cost

import (
	"testing"

	"github.com/scaleacross/scaleacross/hardware"
)

func h100(t *testing.T) *Device {
	t.Helper()
	g, err := hardware.Lookup("h100-sxm")
	if err != nil {
		t.Fatal(err)
	}
	return NewDevice(g, Default())
}

// A large square GEMM runs close to GEMMEfficiency of the dense peak;
// skinny and small ones run far below it (memory-bound or tile-bound).
func TestGEMMShapeEfficiency(t *testing.T) {
	d := h100(t)
	eff := func(m, n, k float64) float64 {
		return 2 * m * n * k / d.GEMM(m, n, k, hardware.BF16) / d.Peak16()
	}
	big := eff(8192, 8192, 8192)
	if big < 0.9*Default().GEMMEfficiency || big > Default().GEMMEfficiency {
		t.Errorf("8K cube reaches %.3f of peak, want just under %.3f", big, Default().GEMMEfficiency)
	}
	if skinny := eff(1, 8192, 8192); skinny > 0.01 {
		t.Errorf("a one-row GEMM (decode) reaches %.3f of peak; it should be memory-bound", skinny)
	}
	if small := eff(64, 512, 512); small > big/2 {
		t.Errorf("a small GEMM reaches %.3f of peak, not far below the large one's %.3f", small, big)
	}
}

func TestLowPrecisionIsFasterButLessEfficient(t *testing.T) {
	d := h100(t)
	bf := d.GEMM(8192, 8192, 8192, hardware.BF16)
	f8 := d.GEMM(8192, 8192, 8192, hardware.FP8)
	if !(f8 < bf) {
		t.Errorf("fp8 GEMM %.3g s not faster than bf16 %.3g s", f8, bf)
	}
	if f8 < bf/2 {
		t.Errorf("fp8 GEMM %.3g s more than twice as fast as bf16 %.3g s despite a 2x peak", f8, bf)
	}
	// A GPU without fp8 falls back to the 16-bit peak.
	a, _ := hardware.Lookup("a100-sxm-80g")
	da := NewDevice(a, Default())
	if da.GEMM(4096, 4096, 4096, hardware.FP8) != da.GEMM(4096, 4096, 4096, hardware.BF16) {
		t.Errorf("A100 priced fp8 differently from bf16")
	}
}

func TestZeroAndMemoryBound(t *testing.T) {
	d := h100(t)
	if d.GEMM(0, 10, 10, hardware.BF16) != 0 || d.Attention(0) != 0 {
		t.Error("empty work costs time")
	}
	// 3.35 TB/s at the fitted efficiency: 1 GB takes about 1/(3350*eff) s.
	want := 1e9/(3350e9*Default().MemoryEfficiency) + 2e-6
	if got := d.MemoryBound(1e9, 1); got < 0.999*want || got > 1.001*want {
		t.Errorf("MemoryBound(1 GB) = %v, want %v", got, want)
	}
}

// The grouped-GEMM efficiency curve follows DeepGEMM's measured FP8
// grouped GEMMs on H800 (N4096 K7168, relative to 1346 TFLOPS at 4096
// tokens per group): 0.92 at 1024 tokens per expert, 0.77 at 512, 0.69 at
// 256, each within 0.06.
func TestGroupedGEMMFollowsDeepGEMM(t *testing.T) {
	d := h100(t)
	eff := func(m float64) float64 {
		const n, k, groups = 4096, 7168, 8
		return groups * 2 * m * n * k / d.GroupedGEMM(m, n, k, groups, hardware.FP8, true)
	}
	ref := eff(4096)
	for _, c := range []struct{ m, want float64 }{{1024, 1233.0 / 1346}, {512, 1040.0 / 1346}, {256, 932.0 / 1346}} {
		if got := eff(c.m) / ref; got < c.want-0.06 || got > c.want+0.06 {
			t.Errorf("%v tokens per expert: %.3f of the large-M throughput, DeepGEMM measured %.3f", c.m, got, c.want)
		}
	}
	if seq, one := d.GroupedGEMM(512, 4096, 7168, 8, hardware.FP8, false), d.GroupedGEMM(512, 4096, 7168, 8, hardware.FP8, true); seq <= one {
		t.Errorf("sequential experts (%.3g s) not slower than one grouped kernel (%.3g s)", seq, one)
	}
	if d.GroupedGEMM(0, 4096, 7168, 8, hardware.FP8, true) != 0 {
		t.Error("no tokens should cost nothing")
	}
}
