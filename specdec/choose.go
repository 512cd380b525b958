package specdec

import "fmt"

// Coster prices the steps of a decode loop at a batch size; the serving
// step model implements it. Times are in seconds.
type Coster interface {
	// PlainStep is the time of one ordinary decode step of b sequences.
	PlainStep(b int) (float64, error)
	// SpecStep is the time of one speculative step of b sequences with
	// draft tree t when each step commits expected tokens on average: the
	// draft passes, the verify pass over b*(n+1) tokens and the sampling.
	SpecStep(b int, t *Tree, expected float64) (float64, error)
}

// Candidate is a tree considered by Choose with its expected tokens per step.
type Candidate struct {
	Tree     *Tree
	Expected float64
}

// Candidates returns the best tree of each size 1..maxNodes for each depth
// limit 1..maxDepth (duplicates removed), the set Choose searches. Trees do
// not depend on the batch, so one set serves a whole batch sweep.
func Candidates(a Acceptance, maxNodes, maxDepth int) ([]Candidate, error) {
	seen := map[string]bool{}
	var out []Candidate
	for d := 1; d <= maxDepth; d++ {
		o, err := Optimize(a, maxNodes, d)
		if err != nil {
			return nil, err
		}
		for m := 1; m <= maxNodes; m++ {
			t := o.Tree(m)
			k := t.String()
			if seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, Candidate{Tree: t, Expected: a.ExpectedTokens(t)})
		}
	}
	return out, nil
}

// Choice is the decision for one batch size.
type Choice struct {
	Batch int
	// Tree is nil when speculation does not pay at this batch.
	Tree     *Tree
	Expected float64 // tokens per step with Tree (1 without)
	// PlainStepS and SpecStepS are the step times without and with Tree.
	PlainStepS, SpecStepS float64
	// TimePerTokenS is the chosen time per output token per sequence.
	TimePerTokenS float64
	// Speedup is the throughput (equally, per-token latency) gain of the
	// best tree over plain decoding; below 1 when speculation loses.
	Speedup float64
	// Best is the best tree and BestExpected its tokens per step, also
	// when it loses to plain decoding (Tree nil).
	Best         *Tree
	BestExpected float64
}

// Choose picks, at batch b, the candidate that minimises time per output
// token, Tstep/E. At a fixed batch this also maximises throughput
// b*E/Tstep, so the two objectives agree. If no tree beats plain decoding
// the choice keeps Tree nil but still reports the best tree's Speedup.
func Choose(c Coster, b int, cands []Candidate) (Choice, error) {
	plain, err := c.PlainStep(b)
	if err != nil {
		return Choice{}, err
	}
	if plain <= 0 {
		return Choice{}, fmt.Errorf("plain step time %g s at batch %d is not positive", plain, b)
	}
	best := Choice{Batch: b, Expected: 1, PlainStepS: plain, TimePerTokenS: plain, SpecStepS: plain}
	bestSpec := -1.0
	var bestCand Candidate
	var bestStep float64
	for _, cand := range cands {
		s, err := c.SpecStep(b, cand.Tree, cand.Expected)
		if err != nil {
			return Choice{}, err
		}
		tpt := s / cand.Expected
		if bestSpec < 0 || tpt < bestSpec {
			bestSpec, bestCand, bestStep = tpt, cand, s
		}
	}
	if bestSpec < 0 {
		best.Speedup = 1
		return best, nil
	}
	best.Speedup = plain / bestSpec
	best.Best, best.BestExpected = bestCand.Tree, bestCand.Expected
	if bestSpec < plain {
		best.Tree, best.Expected, best.SpecStepS, best.TimePerTokenS = bestCand.Tree, bestCand.Expected, bestStep, bestSpec
	} else {
		best.SpecStepS = bestStep
	}
	return best, nil
}

// Evaluate prices one given tree at batch b (no search).
func Evaluate(c Coster, b int, t *Tree, a Acceptance) (Choice, error) {
	plain, err := c.PlainStep(b)
	if err != nil {
		return Choice{}, err
	}
	e := a.ExpectedTokens(t)
	s, err := c.SpecStep(b, t, e)
	if err != nil {
		return Choice{}, err
	}
	return Choice{Batch: b, Tree: t, Expected: e, PlainStepS: plain, SpecStepS: s, TimePerTokenS: s / e, Speedup: plain * e / s,
		Best: t, BestExpected: e}, nil
}
