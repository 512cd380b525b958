package specdec

import (
	"hash/fnv"
	"math/rand/v2"
	"testing"
)

const vocab = 6

// toyModel is a deterministic family of next-token distributions keyed by
// the context, sharp or flat depending on seed.
func toyModel(seed uint64, ctx []int, sharp float64) Dist {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(seed >> (8 * i))
	}
	h.Write(b[:])
	for _, t := range ctx {
		h.Write([]byte{byte(t), 0xff})
	}
	r := rand.New(rand.NewPCG(h.Sum64(), seed))
	d := make(Dist, vocab)
	var s float64
	for i := range d {
		d[i] = r.Float64() + sharp*float64(i%2) // keep every token possible
		d[i] *= d[i]
		s += d[i]
	}
	for i := range d {
		d[i] /= s
	}
	return d
}

// toyDists gives Target and Draft at the nodes of a tree under a prefix.
type toyDists struct {
	prefix []int
	tree   *Tree
	tokens []int
}

func (d *toyDists) ctx(node int) []int {
	var path []int
	for n := node; n > 0; n = d.tree.Parent(n) {
		path = append([]int{d.tokens[n]}, path...)
	}
	return append(append([]int(nil), d.prefix...), path...)
}

func (d *toyDists) Target(node int) Dist { return toyModel(1, d.ctx(node), 0.3) }
func (d *toyDists) Draft(node int) Dist  { return toyModel(2, d.ctx(node), 0.8) }

// generate runs speculative rounds until at least n tokens are emitted.
func generate(t *testing.T, tr *Tree, n int, greedy bool, rng *rand.Rand) []int {
	var out []int
	for len(out) < n {
		ds := &toyDists{prefix: out, tree: tr}
		ds.tokens = make([]int, tr.Size()+1)
		ds.tokens[0] = -1
		for i := 1; i <= tr.Size(); i++ { // draw in canonical order: parents first
			if greedy {
				ds.tokens[i] = rankedToken(ds.Draft(tr.Parent(i)), tr.Rank(i))
			} else {
				ds.tokens[i] = ds.Draft(tr.Parent(i)).sample(rng)
			}
		}
		_, emitted, err := Verify(tr, ds.tokens, ds, greedy, rng)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, emitted...)
	}
	return out[:n]
}

// rankedToken is the draft's r-th most likely token (greedy drafting).
func rankedToken(d Dist, r int) int {
	used := make([]bool, len(d))
	tok := 0
	for k := 0; k <= r && k < len(d); k++ {
		b := -1
		for i, p := range d {
			if !used[i] && (b < 0 || p > d[b]) {
				b = i
			}
		}
		used[b] = true
		tok = b
	}
	return tok
}

// TestSampledVerifyIsLossless draws the first two tokens many times with
// a tree of six nodes and checks by chi-square that their joint
// distribution is the target's, p(t1) p(t2 | t1).
func TestSampledVerifyIsLossless(t *testing.T) {
	tr, err := NewTree([][]int{{0}, {1}, {2}, {0, 0}, {0, 1}, {1, 0}, {0, 0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(42, 7))
	const draws = 60000
	counts := make([]float64, vocab*vocab)
	for i := 0; i < draws; i++ {
		o := generate(t, tr, 2, false, rng)
		counts[o[0]*vocab+o[1]]++
	}
	p1 := toyModel(1, nil, 0.3)
	var chi2 float64
	for a := 0; a < vocab; a++ {
		p2 := toyModel(1, []int{a}, 0.3)
		for b := 0; b < vocab; b++ {
			e := draws * p1[a] * p2[b]
			d := counts[a*vocab+b] - e
			chi2 += d * d / e
		}
	}
	// 35 degrees of freedom: the 0.999 quantile is 66.6.
	if chi2 > 66.6 {
		t.Errorf("chi-square %.1f over 35 dof: the speculative output does not follow the target", chi2)
	}
	t.Logf("chi-square %.1f (35 dof, 0.999 quantile 66.6)", chi2)
}

// TestSampledVerifyDetectsBias is the control: sampling the correction
// from the target instead of the residual must fail the same test.
func TestSampledVerifyDetectsBias(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const draws = 60000
	counts := make([]float64, vocab)
	p := toyModel(1, nil, 0.3)
	q := toyModel(2, nil, 0.8)
	for i := 0; i < draws; i++ {
		x := q.sample(rng)
		if rng.Float64()*q[x] < p[x] {
			counts[x]++
			continue
		}
		counts[p.sample(rng)]++ // wrong: should draw from the residual
	}
	var chi2 float64
	for i := range counts {
		e := draws * p[i]
		chi2 += (counts[i] - e) * (counts[i] - e) / e
	}
	if chi2 < 20.5 { // 5 dof, 0.999 quantile
		t.Errorf("biased sampler passed the chi-square test (%.1f); the test has no power", chi2)
	}
}

func TestGreedyVerifyReproducesTarget(t *testing.T) {
	tr, err := NewTree([][]int{{0}, {1}, {0, 0}, {0, 1}, {0, 0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	got := generate(t, tr, 12, true, nil)
	var want []int
	for len(want) < 12 {
		want = append(want, toyModel(1, want, 0.3).argmax())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("greedy speculative output %v, target greedy %v", got, want)
		}
	}
}

func TestVerifyRejectsBadInput(t *testing.T) {
	tr := Chain(2)
	ds := &toyDists{tree: tr, tokens: []int{-1, 0, 0}}
	if _, _, err := Verify(tr, []int{-1}, ds, true, nil); err == nil {
		t.Error("Verify with too few tokens: nil error")
	}
	if _, _, err := Verify(tr, []int{-1, 0, 0}, ds, false, nil); err == nil {
		t.Error("sampled Verify without a random source: nil error")
	}
}
