package infer

import (
	"errors"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/specdec"
)

// TreeOf builds the fixed draft tree a serving spec names, or nil for
// auto (the optimiser chooses per batch size). An invalid tree is bad
// input naming speculative.tree.
func TreeOf(t spec.TreeSpec) (*specdec.Tree, error) {
	switch {
	case t.Chain > 0:
		return specdec.Chain(t.Chain), nil
	case t.Paths != nil:
		tr, err := specdec.NewTree(t.Paths)
		if err != nil {
			return nil, fault.Field("speculative.tree", "%v", err)
		}
		return tr, nil
	}
	return nil, nil
}

// AcceptanceOf returns a serving spec's acceptance model: the spec's
// per-depth vector when given (measured, not assumed), else the method's
// documented default, with the spec's sibling decay when it sets one.
func AcceptanceOf(sp *spec.Speculative) (specdec.Acceptance, error) {
	var a specdec.Acceptance
	if len(sp.Acceptance) > 0 {
		a = specdec.Acceptance{ByDepth: append([]float64(nil), sp.Acceptance...), SiblingDecay: specdec.DefaultSiblingDecay,
			Source: "speculative.acceptance from the spec"}
	} else {
		d, err := specdec.DefaultAcceptance(specdec.Method(sp.Method))
		if err != nil {
			return a, fault.Field("speculative.method", "%v", err)
		}
		a = d
	}
	if sp.SiblingDecay != nil {
		a.SiblingDecay = *sp.SiblingDecay
	}
	if err := a.Validate(); err != nil {
		var ae *specdec.AcceptanceError
		if errors.As(err, &ae) {
			return a, fault.Field("speculative.acceptance", "%v", err)
		}
		return a, err
	}
	return a, nil
}
