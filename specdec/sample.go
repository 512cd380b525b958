package specdec

import (
	"fmt"
	"math/rand/v2"
)

// Dist is a probability distribution over a vocabulary.
type Dist []float64

// argmax returns the most likely token (the lowest id on ties).
func (d Dist) argmax() int {
	b := 0
	for i, p := range d {
		if p > d[b] {
			b = i
		}
	}
	return b
}

// Sample draws one token from d using rng (the last token with mass when
// rounding leaves u beyond the total).
func (d Dist) Sample(rng *rand.Rand) int { return d.sample(rng) }

// sample draws one token from d using rng.
func (d Dist) sample(rng *rand.Rand) int {
	u := rng.Float64()
	var c float64
	last := 0
	for i, p := range d {
		if p <= 0 {
			continue
		}
		c += p
		last = i
		if u < c {
			return i
		}
	}
	return last
}

// Distributions supplies the target and draft distributions at each tree
// node: Target(i) is the target model's next-token distribution after the
// path to node i (node 0 = after the committed prefix), Draft(i) the draft
// distribution from which node i's children were drawn.
type Distributions interface {
	Target(node int) Dist
	Draft(node int) Dist
}

// Verify runs lossless multi-round speculative sampling over tree t whose
// node i carries draft token tokens[i] (tokens[0], the root, is ignored).
// It returns the accepted nodes (root excluded, in path order) and the
// emitted tokens: the accepted draft tokens followed by one token from the
// target (a correction or the bonus token).
//
// Sampled mode (SpecInfer, arXiv 2305.09781; EAGLE, arXiv 2401.15077): at
// the current node with residual r = Target(node), each child x drawn from
// q = Draft(node) is tried in rank order and accepted with probability
// min(1, r(x)/q(x)); on rejection r becomes norm(max(0, r - q)). If every
// child is rejected the token is drawn from r. When the children were
// drawn independently from q the emitted tokens follow the target exactly.
//
// Greedy mode accepts the child whose token is the target's argmax and
// otherwise emits the argmax, reproducing greedy decoding of the target.
func Verify(t *Tree, tokens []int, ds Distributions, greedy bool, rng *rand.Rand) (nodes, out []int, err error) {
	return verify(t, tokens, ds, greedy, false, rng)
}

// verify is Verify, or with distinct VerifyDistinct: after a rejected
// child its token leaves the draft distribution, which is renormalised.
func verify(t *Tree, tokens []int, ds Distributions, greedy, distinct bool, rng *rand.Rand) (nodes, out []int, err error) {
	if len(tokens) != t.Size()+1 {
		return nil, nil, fmt.Errorf("verify: %d tokens for a tree of %d nodes (want n+1, root first)", len(tokens), t.Size())
	}
	if !greedy && rng == nil {
		return nil, nil, fmt.Errorf("verify: sampled mode needs a random source")
	}
	children := make([][]int, t.Size()+1)
	for i := 1; i <= t.Size(); i++ {
		children[t.Parent(i)] = append(children[t.Parent(i)], i)
	}
	for _, c := range children {
		sortByRank(t, c)
	}
	cur := 0
	for {
		p := ds.Target(cur)
		if greedy {
			want := p.argmax()
			next := -1
			for _, c := range children[cur] {
				if tokens[c] == want {
					next = c
					break
				}
			}
			if next < 0 {
				return nodes, append(out, want), nil
			}
			nodes, out, cur = append(nodes, next), append(out, tokens[next]), next
			continue
		}
		r := append(Dist(nil), p...)
		q := ds.Draft(cur)
		next := -1
		for _, c := range children[cur] {
			x := tokens[c]
			if x < 0 {
				continue // an empty node (DraftTree found nothing to draw)
			}
			if x >= len(r) || x >= len(q) {
				return nil, nil, fmt.Errorf("verify: node %d token %d outside the vocabulary", c, x)
			}
			if q[x] > 0 && rng.Float64()*q[x] < r[x] {
				next = c
				break
			}
			r = residual(r, q)
			if distinct {
				q = without(q, x)
			}
		}
		if next < 0 {
			return nodes, append(out, r.sample(rng)), nil
		}
		nodes, out, cur = append(nodes, next), append(out, tokens[next]), next
	}
}

// residual returns norm(max(0, r - q)); if nothing is left it returns r.
func residual(r, q Dist) Dist {
	out := make(Dist, len(r))
	var s float64
	for i := range r {
		v := r[i]
		if i < len(q) {
			v -= q[i]
		}
		if v > 0 {
			out[i] = v
			s += v
		}
	}
	if s <= 0 {
		return r
	}
	for i := range out {
		out[i] /= s
	}
	return out
}

func sortByRank(t *Tree, c []int) {
	for i := 1; i < len(c); i++ {
		for j := i; j > 0 && t.Rank(c[j]) < t.Rank(c[j-1]); j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
}

// DraftTokens draws the tokens of every node of t independently from the
// draft distribution at its parent, the drafting that Verify's sampled
// mode is lossless for. tokens[0] is set to -1. The distributions are asked
// by node before any token is drawn, so a draft whose distribution depends
// on the tokens drawn above a node must use DraftTree, which conditions
// each node on its drawn path.
func DraftTokens(t *Tree, ds Distributions, rng *rand.Rand) []int {
	tok := make([]int, t.Size()+1)
	tok[0] = -1
	for i := 1; i <= t.Size(); i++ {
		tok[i] = ds.Draft(t.Parent(i)).sample(rng)
	}
	return tok
}
