package specdec

import (
	"math/rand/v2"
)

// DraftFunc gives the draft model's next-token distribution after a path
// of drawn tokens below the committed prefix (empty at the root).
type DraftFunc func(path []int) Dist

// DraftTree draws the tokens of every node of t from the draft, each
// conditioned on the tokens actually drawn on the path above it (a
// context-dependent draft sees what it drafted). With distinct, the
// children of one node are drawn without replacement: each next sibling
// from the draft with the earlier siblings' tokens removed and the rest
// renormalised, as top-k trees of distinct candidates are built
// (Sequoia, arXiv 2402.12374, section 3.2); a node whose draft has no
// token left gets -1 and is never accepted. Without distinct, siblings are
// independent draws (the drafting that Verify is lossless for).
//
// It returns the tokens (tokens[0] = -1 for the root) and the draft
// distribution each node's children were drawn from (drafts[i] for the
// children of node i), which VerifyDistinct and Verify read through
// Distributions.
func DraftTree(t *Tree, draft DraftFunc, distinct bool, rng *rand.Rand) (tokens []int, drafts []Dist) {
	n := t.Size()
	tokens = make([]int, n+1)
	drafts = make([]Dist, n+1)
	tokens[0] = -1
	path := func(i int) []int {
		var p []int
		for x := i; x > 0; x = t.Parent(x) {
			p = append(p, tokens[x])
		}
		for a, b := 0, len(p)-1; a < b; a, b = a+1, b-1 {
			p[a], p[b] = p[b], p[a]
		}
		return p
	}
	// Nodes are numbered parents first (paths sorted), so a parent's
	// token is drawn before its children's.
	left := make([]Dist, n+1) // the draft at node i less its children drawn so far
	for i := 1; i <= n; i++ {
		par := t.Parent(i)
		if drafts[par] == nil {
			if par > 0 && tokens[par] < 0 {
				drafts[par] = Dist{}
			} else {
				drafts[par] = draft(path(par))
			}
			left[par] = append(Dist(nil), drafts[par]...)
		}
		if par > 0 && tokens[par] < 0 {
			tokens[i] = -1
			continue
		}
		d := drafts[par]
		if distinct {
			d = left[par]
		}
		x, ok := d.draw(rng)
		if !ok {
			tokens[i] = -1
			continue
		}
		tokens[i] = x
		if distinct {
			left[par] = without(left[par], x)
		}
	}
	return tokens, drafts
}

// draw samples one token from d, which need not be normalised; ok is false
// when d has no mass.
func (d Dist) draw(rng *rand.Rand) (int, bool) {
	var s float64
	for _, p := range d {
		if p > 0 {
			s += p
		}
	}
	if !(s > 0) {
		return -1, false
	}
	u := rng.Float64() * s
	var c float64
	last := -1
	for i, p := range d {
		if p <= 0 {
			continue
		}
		c += p
		last = i
		if u < c {
			return i, true
		}
	}
	return last, true
}

// without returns d with token x removed and the rest renormalised (all
// zero when nothing is left).
func without(d Dist, x int) Dist {
	out := append(Dist(nil), d...)
	if x >= 0 && x < len(out) {
		out[x] = 0
	}
	var s float64
	for _, p := range out {
		s += p
	}
	if s > 0 {
		for i := range out {
			out[i] /= s
		}
	}
	return out
}

// VerifyDistinct runs lossless speculative sampling over tree t whose
// siblings carry distinct tokens drawn without replacement from the draft
// (DraftTree with distinct). At the current node with residual r =
// Target(node) and draft q = Draft(node), each child x is tried in rank
// order and accepted with probability min(1, r(x)/q(x)); on rejection the
// residual becomes norm(max(0, r - q)) and x is removed from q, which is
// renormalised, since the next sibling was drawn from that (Sequoia,
// arXiv 2402.12374, Algorithm 2, sampling without replacement). If every
// child is rejected the token is drawn from the residual. The emitted
// tokens then follow the target exactly; Verify, which leaves q whole, is
// biased for such drafts (the tests show both).
//
// Greedy mode is Verify's: accept the child carrying the target's argmax.
func VerifyDistinct(t *Tree, tokens []int, ds Distributions, greedy bool, rng *rand.Rand) (nodes, out []int, err error) {
	return verify(t, tokens, ds, greedy, true, rng)
}
