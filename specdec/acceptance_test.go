package specdec

import (
	"errors"
	"math"
	"testing"

	"github.com/scaleacross/scaleacross/fault"
)

func TestChainTokensFormula(t *testing.T) {
	a := Acceptance{ByDepth: []float64{0.8, 0.75, 0.7}, SiblingDecay: 0.5}
	// 1 + a1 + a1 a2 + a1 a2 a3 (DESIGN.md section 4).
	want := 1 + 0.8 + 0.8*0.75 + 0.8*0.75*0.7
	if got := a.ChainTokens(3); math.Abs(got-want) > 1e-12 {
		t.Errorf("ChainTokens(3) = %v, want %v", got, want)
	}
	if got := a.ExpectedTokens(Chain(3)); math.Abs(got-want) > 1e-12 {
		t.Errorf("ExpectedTokens(chain 3) = %v, want %v", got, want)
	}
	// Depth 4 reuses the last entry.
	if got, want := a.ChainTokens(4), want+0.8*0.75*0.7*0.7; math.Abs(got-want) > 1e-12 {
		t.Errorf("ChainTokens(4) = %v, want %v", got, want)
	}
}

func TestTreeTokensSumOverPaths(t *testing.T) {
	a := Acceptance{ByDepth: []float64{0.6, 0.5}, SiblingDecay: 0.5}
	tr, err := NewTree([][]int{{0}, {1}, {0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	p1 := 0.6
	p2 := (1 - 0.6) * 0.3 // rank 1: conditional 0.6*0.5 after rank 0 rejected
	want := 1 + p1 + p2 + p1*0.5
	if got := a.ExpectedTokens(tr); math.Abs(got-want) > 1e-12 {
		t.Errorf("ExpectedTokens = %v, want %v", got, want)
	}
}

func TestMarginalsNeverExceedOne(t *testing.T) {
	for _, x := range []float64{0.1, 0.5, 0.9, 1} {
		a := Acceptance{ByDepth: []float64{x}, SiblingDecay: 0.9}
		var s float64
		for r := 0; r < 200; r++ {
			s += a.Marginal(1, r)
		}
		if s > 1+1e-12 {
			t.Errorf("acceptance %v: sibling marginals sum to %v > 1", x, s)
		}
	}
}

func TestAcceptanceValidate(t *testing.T) {
	bad := [][]float64{{0}, {1.2}, {0.5, -0.1}, {math.NaN()}, {}}
	for _, v := range bad {
		if err := (Acceptance{ByDepth: v, SiblingDecay: 0.5}).Validate(); err == nil {
			t.Errorf("Validate(%v) = nil, want an error", v)
		} else if ae, ok := err.(*AcceptanceError); !ok || !errors.Is(ae, fault.ErrBadInput) {
			t.Errorf("Validate(%v) error %T is not a bad-input AcceptanceError", v, err)
		}
	}
	if err := (Acceptance{ByDepth: []float64{1, 0.3}, SiblingDecay: 1}).Validate(); err != nil {
		t.Errorf("Validate of a valid vector: %v", err)
	}
}

// TestDefaultsMatchPublishedChains checks the defaults against the figures
// they are derived from: EAGLE-3's 3-chain accepted length lies in Meta's
// published 2.75-2.94 tokens per step (arXiv 2508.08192) and reproduces
// the mean Maverick ladder; EAGLE-1's falls below EAGLE-3's.
func TestDefaultsMatchPublishedChains(t *testing.T) {
	e3, err := DefaultAcceptance(EAGLE3)
	if err != nil {
		t.Fatal(err)
	}
	if got := e3.ChainTokens(3); got < 2.75 || got > 2.94 {
		t.Errorf("eagle3 default 3-chain = %.3f tokens/step, want within Meta's 2.75-2.94", got)
	}
	for k, want := range []float64{1.793, 2.377, 2.797, 3.103, 3.267, 3.370, 3.423} {
		if got := e3.ChainTokens(k + 1); math.Abs(got-want) > 1e-9 {
			t.Errorf("eagle3 chain %d = %.4f, want the ladder's %.3f", k+1, got, want)
		}
	}
	e1, err := DefaultAcceptance(EAGLE)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range []float64{2.10, 2.29, 2.39, 2.43} {
		if got := e1.ChainTokens(k + 2); math.Abs(got-want) > 1e-9 {
			t.Errorf("eagle chain %d = %.4f, want vLLM's measured %.2f", k+2, got, want)
		}
	}
	if e1.ChainTokens(3) >= e3.ChainTokens(3) {
		t.Errorf("eagle default 3-chain %.3f not below eagle3's %.3f", e1.ChainTokens(3), e3.ChainTokens(3))
	}
	for _, a := range []Acceptance{e1, e3} {
		if err := a.Validate(); err != nil {
			t.Errorf("default invalid: %v", err)
		}
		if !a.Assumed || a.Source == "" {
			t.Errorf("default %v must be marked assumed with a source", a.ByDepth)
		}
	}
	if _, err := DefaultAcceptance("medusa"); err == nil {
		t.Error("DefaultAcceptance(medusa) = nil error")
	}
}

// TestFromAcceptedLengths: the conversion reproduces the chain accepted
// lengths it is given (ChainTokens), clamps a growing increment to 1 and
// refuses lengths that do not increase or exceed k+1.
func TestFromAcceptedLengths(t *testing.T) {
	L := []float64{1.83, 2.45, 2.94, 3.26, 3.47, 3.57, 3.62} // Maverick EAGLE-3, HumanEval
	by, err := FromAcceptedLengths(L)
	if err != nil {
		t.Fatal(err)
	}
	a := Acceptance{ByDepth: by, SiblingDecay: DefaultSiblingDecay}
	for k, want := range L {
		if got := a.ChainTokens(k + 1); math.Abs(got-want) > 1e-9 {
			t.Errorf("chain %d: %.4f tokens, want %.4f", k+1, got, want)
		}
	}
	if by, err := FromAcceptedLengths([]float64{1.5, 2.2}); err != nil || by[1] != 1 {
		t.Errorf("growing increment: %v %v, want the second acceptance clamped to 1", by, err)
	}
	for _, bad := range [][]float64{{}, {1}, {1.8, 1.8}, {1.8, 1.7}, {2.5}, {1.9, 3.2}} {
		if _, err := FromAcceptedLengths(bad); err == nil {
			t.Errorf("%v: accepted, want an error", bad)
		}
	}
}
