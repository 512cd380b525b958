package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func tinyConfig(tied bool) Config {
	return Config{Dim: 16, Layers: 2, Heads: 4, KVHeads: 2, FF: 24, Vocab: 11, Context: 16, Tied: tied, RopeBase: 10000}
}

// checkGrad compares the analytic gradient of loss in p.G with central
// finite differences at a few random coordinates of every tensor.
func checkGrad(t *testing.T, ps []*Param, loss func(grad bool) float64) {
	t.Helper()
	ZeroGrad(ps)
	loss(true)
	r := rand.New(rand.NewPCG(9, 9))
	const eps = 1e-2
	for _, p := range ps {
		for trial := 0; trial < 4; trial++ {
			i := r.IntN(len(p.W))
			old := p.W[i]
			p.W[i] = old + eps
			lp := loss(false)
			p.W[i] = old - eps
			lm := loss(false)
			p.W[i] = old
			num := (lp - lm) / (2 * eps)
			got := float64(p.G[i])
			if testing.Verbose() && trial == 0 {
				t.Logf("%s[%d] %.5g %.5g", p.Name, i, got, num)
			}
			if math.Abs(num-got) > 2e-3+0.05*math.Abs(num) {
				t.Errorf("%s[%d]: analytic gradient %.6g, finite difference %.6g", p.Name, i, got, num)
			}
		}
	}
}

// TestTargetBackwardMatchesFiniteDifferences checks the hand-written
// backward pass of the whole target, tied and untied.
func TestTargetBackwardMatchesFiniteDifferences(t *testing.T) {
	for _, tied := range []bool{true, false} {
		m, err := NewTarget(tinyConfig(tied), rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		// Larger weights than the init so every path carries signal.
		for _, p := range m.Params() {
			if len(p.Shape) > 1 {
				for i := range p.W {
					p.W[i] *= 10
				}
			}
		}
		tok := []int{1, 5, 3, 9, 0, 2, 2, 7, 10, 4}
		checkGrad(t, m.Params(), func(grad bool) float64 {
			l, err := m.Loss(tok, grad)
			if err != nil {
				t.Fatal(err)
			}
			return l
		})
	}
}

// TestDraftBackwardMatchesFiniteDifferences checks the EAGLE head's
// gradient through its layer, the projection and the frozen LM head,
// with the target's SwiGLU width and with a narrower one of its own.
func TestDraftBackwardMatchesFiniteDifferences(t *testing.T) {
	cfg := tinyConfig(true)
	m, _ := NewTarget(cfg, rand.New(rand.NewPCG(1, 2)))
	for _, p := range m.Params() {
		if len(p.Shape) > 1 {
			for i := range p.W {
				p.W[i] *= 10
			}
		}
	}
	tok := []int{1, 5, 3, 9, 0, 2, 2, 7, 10, 4}
	feat, logits, err := m.Features(tok)
	if err != nil {
		t.Fatal(err)
	}
	for _, ff := range []int{0, 8} {
		t.Run(fmt.Sprintf("ff=%d", ff), func(t *testing.T) {
			d, err := NewDraft(cfg, ff, rand.New(rand.NewPCG(3, 4)))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range d.Params() {
				if len(p.Shape) > 1 {
					for i := range p.W {
						p.W[i] *= 10
					}
				}
			}
			checkGrad(t, d.Params(), func(grad bool) float64 {
				r, c, _, err := d.DraftLoss(m, tok, feat, logits, grad)
				if err != nil {
					t.Fatal(err)
				}
				return regWeight*r + clsWeight*c
			})
		})
	}
}
