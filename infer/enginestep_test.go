package infer

import (
	"math"
	"testing"

	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/specdec"
)

// TestEngineStepShape checks the engine-shaped speculative step against
// the tree-shaped one: an SGLang shape with topk 1 (steps K, draft tokens
// K+1) is the chain of K tokens; wider draft passes and a larger verify
// cost more; an eager drafter (vLLM V1 before PR #17211) makes only the
// draft passes dearer.
func TestEngineStepShape(t *testing.T) {
	c := config(t, "llama3.1-8b", "h100-sxm", 1, hardware.BF16)
	s := &Speculative{Method: specdec.EAGLE3, DraftLayers: 1, Acceptance: defaultAcc(t, specdec.EAGLE3)}
	k := newCoster(c, s, 512)
	const K, e = 4, 2.9
	chain := k.specParts(1, specdec.Chain(K), e)
	shaped := k.engineStep(1, []int{1, 1, 1}, K, e)
	if math.Abs(chain.Total-shaped.Total) > 1e-12 {
		t.Errorf("chain of %d: %.6f ms, steps %d topk 1: %.6f ms; want equal", K, chain.Total*1e3, K, shaped.Total*1e3)
	}
	wide := k.engineStep(1, []int{8, 8, 8}, 31, e)
	if !(wide.Draft > shaped.Draft && wide.Verify > shaped.Verify) {
		t.Errorf("topk 8 with 32 draft tokens: draft %.3f verify %.3f ms, not above the chain's %.3f and %.3f",
			wide.Draft*1e3, wide.Verify*1e3, shaped.Draft*1e3, shaped.Verify*1e3)
	}
	eager := *s
	eager.DraftEager = true
	ke := newCoster(c, &eager, 512)
	ep := ke.engineStep(1, []int{1, 1, 1}, K, e)
	if !(ep.Draft > shaped.Draft) || ep.Verify != shaped.Verify {
		t.Errorf("eager drafter: draft %.3f (graphs %.3f) ms, verify %.3f (graphs %.3f) ms; want a dearer draft and the same verify",
			ep.Draft*1e3, shaped.Draft*1e3, ep.Verify*1e3, shaped.Verify*1e3)
	}
}
