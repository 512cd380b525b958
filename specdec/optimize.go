package specdec

import (
	"fmt"
)

// Optimal holds the best trees of every size up to a node budget under a
// depth limit, found by a Sequoia-style dynamic programme (Chen et al.,
// "Sequoia: Scalable, Robust, and Hardware-aware Speculative Decoding",
// arXiv 2402.12374, section 3.1): the value of a subtree depends only on
// its depth, its size and the ranks of its nodes, so the best forest of m
// nodes below a node at depth k-1 is
//
//	g(k, m) = h(k, 0, m)
//	h(k, r, m) = max(0, max_{1<=s<=m} P(k, r) * (1 + g(k+1, s-1)) + h(k, r+1, m-s))
//
// where P(k, r) is the marginal acceptance of the rank-r child at depth k,
// s the size of the rank-r child's subtree, and g(d+1, .) = 0 at the depth
// limit d. Children take contiguous ranks from 0, which loses nothing when
// P(k, r) falls with r (it does in Acceptance). Cost: O(d * n^3 / 6).
type Optimal struct {
	maxNodes, maxDepth int
	acc                Acceptance
	value              [][]float64 // value[k][m] = g(k, m), k = 1..maxDepth+1
	choice             [][][]int16 // choice[k][r][m] = s chosen at h(k, r, m), 0 = stop
}

// Optimize runs the dynamic programme for trees of at most maxNodes nodes
// and depth at most maxDepth.
func Optimize(a Acceptance, maxNodes, maxDepth int) (*Optimal, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if maxNodes < 1 || maxNodes > 4096 {
		return nil, &TreeError{fmt.Sprintf("tree node budget %d is outside [1, 4096]", maxNodes)}
	}
	if maxDepth < 1 || maxDepth > 64 {
		return nil, &TreeError{fmt.Sprintf("tree depth limit %d is outside [1, 64]", maxDepth)}
	}
	n, D := maxNodes, maxDepth
	o := &Optimal{maxNodes: n, maxDepth: D, acc: a}
	o.value = make([][]float64, D+2)
	o.choice = make([][][]int16, D+2)
	o.value[D+1] = make([]float64, n+1)
	// Ranks never exceed the nodes available, so rank r < n.
	P := make([]float64, n)
	h := make([][]float64, n+1)
	for r := range h {
		h[r] = make([]float64, n+1)
	}
	for k := D; k >= 1; k-- {
		for r := 0; r < n; r++ {
			P[r] = a.Marginal(k, r)
		}
		next := o.value[k+1]
		ch := make([][]int16, n)
		for r := n - 1; r >= 0; r-- {
			ch[r] = make([]int16, n+1)
			hr, hr1 := h[r], h[r+1]
			pr := P[r]
			hr[0] = 0
			// A rank-r child follows r siblings, so at most n-r nodes remain.
			for m := 1; m <= n-r; m++ {
				best, bs := 0.0, 0
				for s := 1; s <= m; s++ {
					v := pr*(1+next[s-1]) + hr1[m-s]
					if v > best {
						best, bs = v, s
					}
				}
				hr[m] = best
				ch[r][m] = int16(bs)
			}
		}
		o.value[k] = append([]float64(nil), h[0]...)
		o.choice[k] = ch
		for m := range h[n] {
			h[n][m] = 0
		}
	}
	return o, nil
}

// ExpectedTokens is the expected tokens per step of the best tree with at
// most m nodes: one plus the DP value.
func (o *Optimal) ExpectedTokens(m int) float64 {
	m = min(max(m, 0), o.maxNodes)
	return 1 + o.value[1][m]
}

// Tree rebuilds the best tree with at most m nodes.
func (o *Optimal) Tree(m int) *Tree {
	m = min(max(m, 0), o.maxNodes)
	var paths [][]int
	var build func(k int, prefix []int, m int)
	build = func(k int, prefix []int, m int) {
		if k > o.maxDepth {
			return
		}
		r := 0
		for m > 0 && r < o.maxNodes {
			s := int(o.choice[k][r][m])
			if s == 0 {
				return
			}
			p := append(append([]int(nil), prefix...), r)
			paths = append(paths, p)
			build(k+1, p, s-1)
			m -= s
			r++
		}
	}
	build(1, nil, m)
	t, _ := NewTree(paths) // built prefix-closed by construction
	return t
}
