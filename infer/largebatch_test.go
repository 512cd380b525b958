package infer

import (
	"testing"

	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/specdec"
)

// TestMaverickLargeBatchMechanism states why Meta reports 1.4-2.0x for
// EAGLE on Llama 4 Maverick at large batch on 8xH100 (arXiv 2508.08192)
// while the vllm profile predicts far less.
//
// Setting: FP8 weights and KV, context 8192, Meta's 3-layer EAGLE draft
// at the eagle3 default acceptance (2.80 tokens per step on a 3-chain,
// inside the 2.75-2.94 Meta measures for its production drafts), CUDA
// graphs for draft and verify, two-pass tree attention (the committed
// prefix read once per sequence) and a paged KV pool: the step model's
// defaults. The one production change is that the host work of a
// speculative step (tree build, acceptance, KV bookkeeping) is hidden
// behind the GPU, as in Meta's production engine, instead of exposed as
// vLLM does (2.5 ms plus 120 us per sequence; SGLang 3.25 ms).
//
// The mechanism, asserted below: at batch 64-128 decode is still
// memory-bound on weights and KV. A verify pass of n+1 tokens per
// sequence reads the KV prefix once per sequence and each expert once
// however many tokens it serves; top-1 routing over 128 experts already
// reads 39% of them at batch 64 and 63% at 128 with one token per
// sequence, and all of them with five. So verifying 5 tokens costs under
// 2 plain steps while it commits about 3, and with the host work hidden
// the speed-up is 1.4-2.0x. With the host work exposed it grows linearly
// with the batch (18 ms of a 61 ms step at batch 128) and takes most of
// the gain: below 1.4x.
//
// Not reproduced: Meta says Maverick's speed-up falls as the batch grows;
// here it dips at batch 16-32 (the verify pass hits many more experts
// than a plain step while plain steps still read few) and rises again as
// plain steps come to read every expert.
func TestMaverickLargeBatchMechanism(t *testing.T) {
	run := func(hideHost bool, b int) (Point, SpecParts, float64) {
		c := config(t, "llama4-maverick", "h100-sxm", 8, hardware.FP8)
		c.KV = hardware.FP8
		c.Eff.HostOverlapSpec = hideHost
		s := &Speculative{Method: specdec.EAGLE, DraftLayers: 3, MaxNodes: 64, MaxDepth: 10, Acceptance: defaultAcc(t, specdec.EAGLE3)}
		w := Workload{Batch: 1, InputLen: 1000, OutputLen: 1000, Context: 8192}
		pts, err := Sweep(c, w, s, []int{b})
		if err != nil {
			t.Fatal(err)
		}
		p := pts[0]
		if !p.Fits {
			t.Fatalf("batch %d does not fit at context 8192 with FP8 KV", b)
		}
		k := newCoster(c, s, w.DecodeContext())
		cands, err := s.candidates()
		if err != nil {
			t.Fatal(err)
		}
		ch, err := specdec.Choose(k, b, cands)
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := k.PlainStep(b)
		return p, k.specParts(b, ch.Best, ch.BestExpected), plain
	}
	for _, b := range []int{64, 96, 128} {
		p, parts, plain := run(true, b)
		t.Logf("host hidden, batch %3d: %.2fx, %.2f tokens/step, verify %.2f ms = %.2f plain steps (%.2f ms)", b, p.Speedup, p.Accepted, parts.Verify*1e3, parts.Verify/plain, plain*1e3)
		if p.Speedup < 1.4 || p.Speedup > 2.0 {
			t.Errorf("batch %d with the host work hidden: %.2fx, want Meta's 1.4-2.0x", b, p.Speedup)
		}
		if r := parts.Verify / plain; r >= 2 || r >= p.Accepted/1.4 {
			t.Errorf("batch %d: the verify pass costs %.2f plain steps for %.2f tokens; want it memory-bound (under 2, and under tokens/1.4)", b, r, p.Accepted)
		}
	}
	p, parts, _ := run(false, 128)
	t.Logf("host exposed (vllm), batch 128: %.2fx, host %.2f of a %.2f ms step", p.BestTreeSpeedup, parts.Host*1e3, parts.Total*1e3)
	if p.BestTreeSpeedup >= 1.4 {
		t.Errorf("with the host work exposed, batch 128: %.2fx, want below 1.4x", p.BestTreeSpeedup)
	}
	if parts.Host < 0.2*parts.Total {
		t.Errorf("exposed host time %.2f ms is under 20%% of the %.2f ms step; the stated cause does not hold", parts.Host*1e3, parts.Total*1e3)
	}
}
