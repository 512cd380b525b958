package train

import (
	"math"
	"testing"

	"github.com/scaleacross/scaleacross/cost"
	"github.com/scaleacross/scaleacross/hardware"
)

// A classifier head (HeadClasses) prices a pooled token per sequence in
// place of the vocabulary-wide head and loss: the last stage loses that
// compute in both engines, and nothing else moves.
func TestHeadClasses(t *testing.T) {
	const yaml = `
model: gpt3-small
system: {gpu: v100-sxm2-16g, gpus: 3}
parallel: {tp: 1, pp: 3, dp: 1}
schedule: 1f1b
training: {seq_len: 2048, global_batch: 64, micro_batch: 1, precision: fp32, recompute: full}
`
	for name, run := range map[string]func(*Config) (Result, error){"analytic": Analytic, "event": Event} {
		lm := resolve(t, yaml)
		cls := resolve(t, yaml)
		cls.HeadClasses = 2
		a, err := run(lm)
		if err != nil {
			t.Fatal(err)
		}
		b, err := run(cls)
		if err != nil {
			t.Fatal(err)
		}
		// The 3 stages hold 4 layers each: with the LM head (about a third of
		// the last stage's work at d_model 768 and a 50257-token
		// vocabulary) the last stage binds; without it they balance.
		if !(b.StepTimeS < 0.9*a.StepTimeS) {
			t.Errorf("%s: classifier step %.3f s, LM head %.3f s: want at least 10%% faster", name, b.StepTimeS, a.StepTimeS)
		}
		if b.MemoryGiBPerGPU != a.MemoryGiBPerGPU {
			t.Errorf("%s: memory moved %.3f -> %.3f GiB", name, a.MemoryGiBPerGPU, b.MemoryGiBPerGPU)
		}
	}
}

// An fp32 GEMM on V100 runs on the CUDA cores at the SIMT share of the
// FP32 peak: a large one takes the FP32 peak over the calibrated
// tensor-core efficiency times SIMTGEMMRatio, 14 of 15.7 TFLOPS against
// 95 of 125 in FP16 (about 1.17), and never the FP16 tensor-core rate.
func TestFP32ViewSIMT(t *testing.T) {
	g, err := hardware.Lookup("v100")
	if err != nil {
		t.Fatal(err)
	}
	v := FP32View(g)
	p := cost.Default()
	n := 8192.0
	fp32 := cost.NewDevice(v, p).GEMM(n, n, n, hardware.FP32)
	fp16 := cost.NewDevice(g, p).GEMM(n, n, n, hardware.FP16)
	got := 2 * n * n * n / fp32 / 1e12
	tile := math.Pow(n/(n+p.TileDim), 3)
	if want := 15.7 * SIMTGEMMRatio * p.GEMMEfficiency * tile; math.Abs(got-want) > 0.05 {
		t.Errorf("fp32 8192^3 GEMM at %.2f TFLOPS, want %.2f", got, want)
	}
	if !(fp32 > 5*fp16) {
		t.Errorf("fp32 GEMM %.4f s not well above the fp16 tensor-core one %.4f s", fp32, fp16)
	}
	if pk, _ := g.PeakTFLOPS(hardware.FP16); pk != 125 {
		t.Errorf("the catalog GPU changed: FP16 peak %g", pk)
	}
}
