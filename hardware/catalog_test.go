package hardware

import (
	"errors"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scaleacross/scaleacross/fault"
)

func TestBuiltinCanonicalIDs(t *testing.T) {
	want := []string{"a100-sxm-80g", "b200", "b300", "gb200", "gb300", "h100-sxm", "h200", "h800", "mi300x", "v100-sxm2-16g"}
	if diff := cmp.Diff(want, IDs()); diff != "" {
		t.Errorf("IDs() mismatch (-want +got):\n%s", diff)
	}
}

func TestBuiltinSortedUniqueFresh(t *testing.T) {
	gpus := Builtin()
	seen := map[string]bool{}
	for i, g := range gpus {
		if seen[g.ID] {
			t.Errorf("duplicate id %q", g.ID)
		}
		seen[g.ID] = true
		if i > 0 && gpus[i-1].ID >= g.ID {
			t.Errorf("ids not sorted: %q before %q", gpus[i-1].ID, g.ID)
		}
	}
	// Mutating one result must not leak into the next call.
	gpus[0].Peaks[0].TFLOPS = -1
	gpus[0].ID = "changed"
	again := Builtin()
	if again[0].ID == "changed" || again[0].Peaks[0].TFLOPS == -1 {
		t.Error("Builtin returned shared state; want a fresh slice per call")
	}
}

// TestCatalogSanity checks the invariants every entry must satisfy.
func TestCatalogSanity(t *testing.T) {
	for _, g := range Builtin() {
		t.Run(g.ID, func(t *testing.T) {
			// Half precision: BF16 everywhere except Volta, which only has FP16.
			half, ok := g.PeakTFLOPS(BF16)
			if g.Arch == "Volta" {
				if ok {
					t.Errorf("Volta has no BF16 tensor cores, catalog lists %v", half)
				}
				half, ok = g.PeakTFLOPS(FP16)
			}
			if !ok || half <= 0 {
				t.Errorf("half-precision peak = %v, %v; want > 0", half, ok)
			}
			if fp8, ok := g.PeakTFLOPS(FP8); ok && fp8 < half {
				t.Errorf("fp8 peak %v < bf16 peak %v", fp8, half)
			}
			if fp4, ok := g.PeakTFLOPS(NVFP4); ok {
				fp8, _ := g.PeakTFLOPS(FP8)
				if fp4 < fp8 {
					t.Errorf("nvfp4 peak %v < fp8 peak %v", fp4, fp8)
				}
			}
			if mx, ok := g.PeakTFLOPS(MXFP8); ok {
				fp8, _ := g.PeakTFLOPS(FP8)
				if mx != fp8 {
					t.Errorf("mxfp8 peak %v != fp8 peak %v", mx, fp8)
				}
			}
			seen := map[Precision]bool{}
			for _, p := range g.Peaks {
				if seen[p.Precision] {
					t.Errorf("precision %s listed twice", p.Precision)
				}
				seen[p.Precision] = true
				if p.TFLOPS <= 0 {
					t.Errorf("%s peak %v, want > 0", p.Precision, p.TFLOPS)
				}
			}
			for name, v := range map[string]float64{
				"memory_gb": g.MemoryGB, "hbm_bandwidth_gbs": g.HBMBandwidthGB,
				"scale_up_gbs": g.ScaleUpGBs, "nic_gbps": g.NICGbps,
				"scale_up_latency_us": g.ScaleUpLatencyUs, "scale_out_latency_us": g.ScaleOutLatencyUs,
				"tdp_w": g.TDPWatts,
			} {
				if v <= 0 {
					t.Errorf("%s = %v, want > 0", name, v)
				}
			}
			if g.ScaleUpSize < 2 {
				t.Errorf("scale_up_size = %d, want >= 2", g.ScaleUpSize)
			}
			// Scale-up is a faster, lower-latency tier than scale-out.
			if g.ScaleUpGBs*8 <= g.NICGbps {
				t.Errorf("scale-up %v GB/s not faster than NIC %v Gb/s", g.ScaleUpGBs, g.NICGbps)
			}
			if g.ScaleUpLatencyUs >= g.ScaleOutLatencyUs {
				t.Errorf("scale-up latency %v >= scale-out %v", g.ScaleUpLatencyUs, g.ScaleOutLatencyUs)
			}
			if g.Name == "" || g.Vendor == "" || g.Arch == "" || g.System == "" {
				t.Errorf("missing descriptive text: %+v", g)
			}
			if len(g.Sources) == 0 {
				t.Fatal("no sources")
			}
			all := strings.Join(g.Sources, "\n")
			for _, group := range []string{"peaks", "memory", "scale-up", "scale-out", "latency"} {
				if !strings.Contains(all, group) {
					t.Errorf("sources do not cover %q", group)
				}
			}
			for _, s := range g.Sources {
				if strings.TrimSpace(s) == "" {
					t.Error("empty source line")
				}
			}
		})
	}
}

// TestH100Calibration pins the H100 SXM dense peaks that the step model is
// calibrated on (NVIDIA H100 datasheet sparse figures halved).
func TestH100Calibration(t *testing.T) {
	g, err := Lookup("h100-sxm")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		p    Precision
		want float64
	}{
		{BF16, 989},
		{FP8, 1979},
	} {
		got, ok := g.PeakTFLOPS(tc.p)
		if !ok || math.Abs(got-tc.want) > 1 {
			t.Errorf("h100-sxm %s dense peak = %v, %v; want %v +-1", tc.p, got, ok, tc.want)
		}
	}
}

// TestDenseNotSparse guards against sparse datasheet figures slipping in:
// it checks a few vendor-published dense values and the published ratios
// between generations.
func TestDenseNotSparse(t *testing.T) {
	for _, tc := range []struct {
		id   string
		p    Precision
		want float64
	}{
		{"a100-sxm-80g", BF16, 312},
		{"mi300x", BF16, 1307.4},
		{"mi300x", FP8, 2614.9},
		{"b200", BF16, 2250},
		{"gb200", FP8, 5000},
		{"gb300", NVFP4, 15000},
		{"v100-sxm2-16g", FP16, 125},
		{"h800", BF16, 989.4},
		{"h800", FP8, 1978.9},
	} {
		g, err := Lookup(tc.id)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := g.PeakTFLOPS(tc.p)
		if !ok || math.Abs(got-tc.want) > 0.5 {
			t.Errorf("%s %s = %v, %v; want %v", tc.id, tc.p, got, ok, tc.want)
		}
	}
}

func TestPrecisionSupport(t *testing.T) {
	blackwell := map[string]bool{"b200": true, "b300": true, "gb200": true, "gb300": true}
	for _, g := range Builtin() {
		_, hasNVFP4 := g.PeakTFLOPS(NVFP4)
		_, hasMX := g.PeakTFLOPS(MXFP8)
		if hasNVFP4 != blackwell[g.ID] || hasMX != blackwell[g.ID] {
			t.Errorf("%s: nvfp4=%v mxfp8=%v; want both %v (block-scaled formats are Blackwell-only here)",
				g.ID, hasNVFP4, hasMX, blackwell[g.ID])
		}
		_, hasFP8 := g.PeakTFLOPS(FP8)
		wantFP8 := g.ID != "v100-sxm2-16g" && g.ID != "a100-sxm-80g"
		if hasFP8 != wantFP8 {
			t.Errorf("%s: fp8 support = %v, want %v", g.ID, hasFP8, wantFP8)
		}
	}
}

func TestLookup(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"h100-sxm", "h100-sxm"},
		{"H100-SXM", "h100-sxm"},
		{" gb300 ", "gb300"},
		{"h100", "h100-sxm"},
		{"a100", "a100-sxm-80g"},
		{"v100", "v100-sxm2-16g"},
		{"mi300", "mi300x"},
	} {
		g, err := Lookup(tc.in)
		if err != nil {
			t.Errorf("Lookup(%q): %v", tc.in, err)
			continue
		}
		if g.ID != tc.want {
			t.Errorf("Lookup(%q).ID = %q, want %q", tc.in, g.ID, tc.want)
		}
	}
}

func TestLookupUnknown(t *testing.T) {
	for _, tc := range []struct {
		in          string
		wantNearest string // must be among the suggestions
	}{
		{"h100-sxm4", "h100-sxm"},
		{"b20", "b200"},
		{"gb-300", "gb300"},
		{"a100-80", "a100-sxm-80g"},
	} {
		_, err := Lookup(tc.in)
		var ue *UnknownIDError
		if !errors.As(err, &ue) {
			t.Fatalf("Lookup(%q) error = %v, want *UnknownIDError", tc.in, err)
		}
		if !errors.Is(ue, fault.ErrBadInput) {
			t.Errorf("%v is not bad input", ue)
		}
		if ue.Kind != "gpu" || ue.ID != tc.in {
			t.Errorf("error fields = %+v", ue)
		}
		if !contains(ue.Nearest, tc.wantNearest) {
			t.Errorf("Lookup(%q) nearest = %v, want it to include %q", tc.in, ue.Nearest, tc.wantNearest)
		}
		for _, n := range ue.Nearest {
			if !strings.Contains(err.Error(), n) {
				t.Errorf("message %q does not name %q", err, n)
			}
		}
	}
}

func TestAliasesResolve(t *testing.T) {
	ids := IDs()
	for alias, canon := range aliases() {
		if i := sort.SearchStrings(ids, canon); i == len(ids) || ids[i] != canon {
			t.Errorf("alias %q points to unknown id %q", alias, canon)
		}
		if contains(ids, alias) {
			t.Errorf("alias %q shadows a canonical id", alias)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func BenchmarkLookup(b *testing.B) {
	for b.Loop() {
		if _, err := Lookup("h100-sxm"); err != nil {
			b.Fatal(err)
		}
	}
}

// The H800 is H100 silicon with the NVLink cut to 400 GB/s per GPU, both
// directions together (NVIDIA H800 specification; reference/models-added.md).
func TestH800NVLinkCut(t *testing.T) {
	h800, err := Lookup("h800")
	if err != nil {
		t.Fatal(err)
	}
	h100, _ := Lookup("h100-sxm")
	tests := []struct {
		what      string
		got, want float64
	}{
		{"scale-up GB/s per direction", h800.ScaleUpGBs, 200},
		{"scale-up size", float64(h800.ScaleUpSize), 8},
		{"HBM GB", h800.MemoryGB, h100.MemoryGB},
		{"HBM GB/s", h800.HBMBandwidthGB, h100.HBMBandwidthGB},
		{"NIC Gb/s", h800.NICGbps, 400},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("h800 %s = %v, want %v", tt.what, tt.got, tt.want)
		}
	}
}

// A GPU's measured large-GEMM share against H100's is a fraction, H100
// itself is the reference (1), and every GPU that sets one names its
// measurement in Sources.
func TestGEMMFraction(t *testing.T) {
	for _, g := range Builtin() {
		d := g.GEMMDerate()
		if d <= 0 || d > 1 {
			t.Errorf("%s: GEMM derate %g outside (0, 1]", g.ID, d)
		}
		if g.GEMMFraction == 0 {
			continue
		}
		named := false
		for _, s := range g.Sources {
			named = named || strings.HasPrefix(s, "GEMM fraction:")
		}
		if !named {
			t.Errorf("%s sets GEMMFraction %g without a source", g.ID, g.GEMMFraction)
		}
	}
	for id, want := range map[string]float64{"h100-sxm": 1, "b200": blackwellGEMMFraction, "gb200": blackwellGEMMFraction} {
		g, err := Lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.GEMMDerate(); got != want {
			t.Errorf("%s: GEMM derate %g, want %g", id, got, want)
		}
	}
}
