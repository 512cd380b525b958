package infer

import (
	"math"
	"testing"

	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/specdec"
)

// TestSGLangEagerCost checks sglangKernelEagerUs against SGLang PR #3466
// (Llama-2-7b-chat on one H100, batch 1, --disable-cuda-graph, February
// 2025): plain decoding at 71.34 tokens/s, the measurement the constant
// is set on (with PR #2150's 156 tokens/s graphed), and, held out, EAGLE
// with 5 steps, topk 8 and 64 draft tokens at 185.54 tokens/s, priced with
// the eagle default acceptance on the best 63-node tree of depth 5. That
// row is held out of sglangKernelEagerUs, not of SGLang's HostStepUs: the
// re-scan of HostStepUs took the best value that keeps it within 15%
// (EngineProfile), so it bounds that choice and is no independent check
// of it.
func TestSGLangEagerCost(t *testing.T) {
	m, err := model.Lookup("llama2-7b")
	if err != nil {
		t.Fatal(err)
	}
	g, err := hardware.Lookup("h100-sxm")
	if err != nil {
		t.Fatal(err)
	}
	eff, err := EngineProfile("sglang")
	if err != nil {
		t.Fatal(err)
	}
	c := &Config{Model: m, GPU: g, GPUs: 1, TP: 1, EP: 1, Weights: hardware.BF16, KV: hardware.BF16,
		Activations: hardware.BF16, CUDAGraphs: false, Eff: eff}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	s := &Speculative{Method: specdec.EAGLE, DraftLayers: 1, Acceptance: defaultAcc(t, specdec.EAGLE)}
	if err := s.check(c); err != nil {
		t.Fatal(err)
	}
	o, err := specdec.Optimize(s.Acceptance, 63, 5)
	if err != nil {
		t.Fatal(err)
	}
	e := o.ExpectedTokens(63)
	// PR #2150's script: a short prompt and 256 new tokens.
	k := newCoster(c, s, 64+128)
	plain, err := k.PlainStep(1)
	if err != nil {
		t.Fatal(err)
	}
	spec := k.engineStep(1, []int{8, 8, 8, 8}, 63, e).Total
	for _, x := range []struct {
		name      string
		got, want float64
		tol       float64
	}{
		{"plain, eager (the fit)", 1 / plain, 71.34, 0.05},
		{"EAGLE, eager (held out)", e / spec, 185.54, 0.15},
	} {
		t.Logf("%s: %.1f tokens/s predicted, %.2f measured (%+.1f%%)", x.name, x.got, x.want, (x.got-x.want)/x.want*100)
		if math.Abs(x.got-x.want)/x.want > x.tol {
			t.Errorf("%s: %.1f tokens/s, want %.2f within %.0f%%", x.name, x.got, x.want, x.tol*100)
		}
	}
}
