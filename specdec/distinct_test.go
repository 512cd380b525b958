package specdec

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// markov is a context-dependent toy language model: the next-token
// distribution depends on the previous token (row V is the start).
type markov [][]float64

// chain is one random setup of the losslessness tests: a vocabulary, a
// target and a draft model, and a tree.
type chain struct {
	name          string
	v             int
	target, draft markov
	tree          *Tree
}

// randomDist draws a distribution over v tokens of one of the shapes the
// tests need: dense, sparse (some zeros), a point mass.
func randomDist(rng *rand.Rand, v int, shape int) Dist {
	d := make(Dist, v)
	switch shape {
	case 0: // dense
		for i := range d {
			d[i] = rng.Float64() + 0.05
		}
	case 1: // sparse
		for i := range d {
			if rng.IntN(2) == 0 {
				d[i] = rng.Float64() + 0.05
			}
		}
		d[rng.IntN(v)] += 0.5
	default: // point mass
		d[rng.IntN(v)] = 1
	}
	var s float64
	for _, p := range d {
		s += p
	}
	for i := range d {
		d[i] /= s
	}
	return d
}

// randomTree draws a prefix-closed tree of at most maxNodes nodes and
// depth maxDepth with at most width children per node.
func randomTree(rng *rand.Rand, maxNodes, maxDepth, width int) *Tree {
	paths := [][]int{{0}}
	for len(paths) < maxNodes {
		p := paths[rng.IntN(len(paths))]
		if len(p) >= maxDepth && rng.IntN(2) == 0 {
			continue
		}
		var q []int
		if len(p) < maxDepth && rng.IntN(2) == 0 {
			q = append(append([]int(nil), p...), 0) // first child
		} else {
			q = append([]int(nil), p...)
			q[len(q)-1]++ // next sibling
			if q[len(q)-1] >= width {
				continue
			}
		}
		dup := false
		for _, x := range paths {
			dup = dup || fmt.Sprint(x) == fmt.Sprint(q)
		}
		if !dup {
			paths = append(paths, q)
		}
		if rng.IntN(8) == 0 {
			break
		}
	}
	// Make it prefix-closed over ranks: a sibling of rank k needs 0..k-1.
	t, err := NewTree(closeRanks(paths))
	if err != nil {
		panic(err)
	}
	return t
}

// closeRanks adds the lower-ranked siblings every path implies.
func closeRanks(paths [][]int) [][]int {
	seen := map[string]bool{}
	var out [][]int
	var add func(p []int)
	add = func(p []int) {
		k := fmt.Sprint(p)
		if seen[k] {
			return
		}
		seen[k] = true
		if len(p) > 1 {
			add(p[:len(p)-1])
		}
		if r := p[len(p)-1]; r > 0 {
			q := append([]int(nil), p...)
			q[len(q)-1] = r - 1
			add(q)
		}
		out = append(out, append([]int(nil), p...))
	}
	for _, p := range paths {
		add(p)
	}
	return out
}

// setups draws n random setups: vocabularies of 2-8 tokens, trees of up to
// 16 nodes and depth 5, targets dense, sparse or point masses, and drafts
// equal to the target, disjoint from it, close to it or unrelated.
func setups(n int) []chain {
	rng := rand.New(rand.NewPCG(7, 11))
	var out []chain
	for i := 0; i < n; i++ {
		v := 2 + rng.IntN(7)
		c := chain{v: v, tree: randomTree(rng, 16, 5, min(v, 4))}
		kind := i % 4
		c.name = fmt.Sprintf("setup %d: V=%d, %d nodes, depth %d, draft %s", i, v, c.tree.Size(), c.tree.Depth(), []string{"equal", "disjoint", "close", "unrelated"}[kind])
		for prev := 0; prev <= v; prev++ {
			p := randomDist(rng, v, rng.IntN(3))
			var q Dist
			switch kind {
			case 0:
				q = append(Dist(nil), p...)
			case 1: // support disjoint from the target's where possible
				q = make(Dist, v)
				for x := range q {
					if p[x] == 0 {
						q[x] = 1
					}
				}
				if s := sum(q); s == 0 {
					q = randomDist(rng, v, 2)
				} else {
					for x := range q {
						q[x] /= s
					}
				}
			case 2:
				r := randomDist(rng, v, 0)
				q = make(Dist, v)
				for x := range q {
					q[x] = 0.8*p[x] + 0.2*r[x]
				}
			default:
				q = randomDist(rng, v, rng.IntN(3))
			}
			c.target = append(c.target, p)
			c.draft = append(c.draft, q)
		}
		out = append(out, c)
	}
	return out
}

func sum(d Dist) float64 {
	var s float64
	for _, p := range d {
		s += p
	}
	return s
}

// chainDists gives Target and Draft at the nodes of a drafted tree.
type chainDists struct {
	c      *chain
	last   int // the last committed token, or v at the start
	tokens []int
	drafts []Dist
}

func (d *chainDists) Target(node int) Dist {
	prev := d.last
	if node > 0 {
		prev = d.tokens[node]
	}
	return d.c.target[prev]
}

func (d *chainDists) Draft(node int) Dist { return d.drafts[node] }

// verifier is Verify or VerifyDistinct, or a broken one for the power test.
type verifier func(t *Tree, tokens []int, ds Distributions, greedy bool, rng *rand.Rand) ([]int, []int, error)

// firstThree runs speculative rounds with drafting distinct or i.i.d.
// until three tokens are out and returns them.
func firstThree(c *chain, distinct bool, verify verifier, rng *rand.Rand) ([3]int, error) {
	var out []int
	for len(out) < 3 {
		last := c.v
		if len(out) > 0 {
			last = out[len(out)-1]
		}
		tokens, drafts := DraftTree(c.tree, func(path []int) Dist {
			prev := last
			if len(path) > 0 {
				prev = path[len(path)-1]
			}
			return c.draft[prev]
		}, distinct, rng)
		_, emitted, err := verify(c.tree, tokens, &chainDists{c: c, last: last, tokens: tokens, drafts: drafts}, false, rng)
		if err != nil {
			return [3]int{}, err
		}
		out = append(out, emitted...)
	}
	return [3]int{out[0], out[1], out[2]}, nil
}

// chiSquare tests n samples of the first three tokens against the target's
// exact joint law, pooling cells to at least 5 expected; it returns the
// p-value and the degrees of freedom.
func chiSquare(c *chain, counts map[[3]int]int, n int) (p float64, df int) {
	var pooledObs, pooledExp, stat float64
	cells := 0
	for a := 0; a < c.v; a++ {
		for b := 0; b < c.v; b++ {
			for x := 0; x < c.v; x++ {
				e := float64(n) * c.target[c.v][a] * c.target[a][b] * c.target[b][x]
				o := float64(counts[[3]int{a, b, x}])
				if e < 5 {
					pooledObs += o
					pooledExp += e
					continue
				}
				stat += (o - e) * (o - e) / e
				cells++
			}
		}
	}
	if pooledExp > 0 {
		if pooledExp >= 5 {
			stat += (pooledObs - pooledExp) * (pooledObs - pooledExp) / pooledExp
			cells++
		} else if pooledObs > 0 && pooledExp < 1e-12 {
			return 0, cells // a token the target never emits
		}
	}
	if cells < 2 {
		return 1, 0
	}
	df = cells - 1
	return distuv.ChiSquared{K: float64(df)}.Survival(stat), df
}

const (
	losslessSetups  = 40
	losslessSamples = 40000
	// alpha is the per-setup significance level; with 40 setups the
	// chance that a lossless verifier fails any of them by chance is
	// below 0.1% (the seeds are fixed, so the outcome is reproducible).
	alpha = 2e-5
)

// run samples one setup and returns its p-value.
func runSetup(t *testing.T, c *chain, distinct bool, v verifier, samples int, seed uint64) (float64, int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 99))
	counts := map[[3]int]int{}
	for s := 0; s < samples; s++ {
		x, err := firstThree(c, distinct, v, rng)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		counts[x]++
	}
	return chiSquare(c, counts, samples)
}

// TestVerifiersAreLossless checks that the joint law of the first three
// emitted tokens is the target's, for Verify with i.i.d. drafts and for
// VerifyDistinct with siblings drawn without replacement, over random
// vocabularies, trees, and target and draft shapes.
func TestVerifiersAreLossless(t *testing.T) {
	if testing.Short() {
		t.Skip("statistical test skipped in -short mode")
	}
	minP := map[string]float64{"iid": 1, "distinct": 1}
	for i, c := range setups(losslessSetups) {
		for _, m := range []struct {
			name     string
			distinct bool
			v        verifier
		}{{"iid", false, Verify}, {"distinct", true, VerifyDistinct}} {
			p, df := runSetup(t, &c, m.distinct, m.v, losslessSamples, uint64(i))
			minP[m.name] = min(minP[m.name], p)
			if p < alpha {
				t.Errorf("%s, %s: joint law of the first 3 tokens differs from the target's (p = %.2g, %d df)", c.name, m.name, p, df)
			}
		}
	}
	t.Logf("%d setups x %d samples; smallest p-value: i.i.d. %.3g, distinct %.3g", losslessSetups, losslessSamples, minP["iid"], minP["distinct"])
}

// TestBrokenVerifiersAreCaught shows the test's power: verifiers with a
// deliberate flaw fail it on some setup.
func TestBrokenVerifiersAreCaught(t *testing.T) {
	if testing.Short() {
		t.Skip("statistical test skipped in -short mode")
	}
	alwaysAccept := func(t *Tree, tokens []int, ds Distributions, _ bool, rng *rand.Rand) ([]int, []int, error) {
		// Accepts the first child at every level, then samples the target.
		cur := 0
		var nodes, out []int
		for {
			ch := t.Children(cur)
			if len(ch) == 0 || tokens[ch[0]] < 0 {
				return nodes, append(out, ds.Target(cur).sample(rng)), nil
			}
			cur = ch[0]
			nodes, out = append(nodes, cur), append(out, tokens[cur])
		}
	}
	for _, b := range []struct {
		name     string
		distinct bool
		v        verifier
	}{
		{"i.i.d. verifier on distinct drafts", true, Verify},
		{"always accept", false, alwaysAccept},
	} {
		caught := ""
		for i, c := range setups(losslessSetups) {
			if p, df := runSetup(t, &c, b.distinct, b.v, 4000, uint64(i)); p < 1e-6 {
				caught = fmt.Sprintf("%s (p = %.2g, %d df)", c.name, p, df)
				break
			}
		}
		t.Logf("%s: caught by %s", b.name, caught)
		if caught == "" {
			t.Errorf("%s passed every setup; the test has no power against it", b.name)
		}
	}
}

// TestDraftTreeConditionsOnDrawnPath checks that each node's draft is the
// draft model after the tokens actually drawn above it.
func TestDraftTreeConditionsOnDrawnPath(t *testing.T) {
	tr, err := NewTree([][]int{{0}, {0, 0}, {0, 0, 0}, {1}, {1, 0}})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		var seen [][]int
		tokens, _ := DraftTree(tr, func(path []int) Dist {
			seen = append(seen, append([]int(nil), path...))
			d := make(Dist, 5)
			d[(len(path)*3+sumInts(path))%5] = 1 // a point mass that depends on the path
			return d
		}, true, rng)
		for i := 1; i <= tr.Size(); i++ {
			var path []int
			for x := tr.Parent(i); x > 0; x = tr.Parent(x) {
				path = append([]int{tokens[x]}, path...)
			}
			if tr.Rank(i) > 0 {
				if tokens[i] != -1 {
					t.Fatalf("node %d: a second distinct child of a point mass must be empty, got %d", i, tokens[i])
				}
				continue
			}
			if tokens[i] < 0 {
				continue
			}
			if want := (len(path)*3 + sumInts(path)) % 5; tokens[i] != want {
				t.Fatalf("node %d after %v drew %d, want %d", i, path, tokens[i], want)
			}
		}
		if len(seen) == 0 {
			t.Fatal("draft never asked")
		}
	}
}

func sumInts(v []int) int {
	s := 0
	for _, x := range v {
		s += x
	}
	return s
}
