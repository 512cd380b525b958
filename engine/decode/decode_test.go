package decode

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/scaleacross/scaleacross/engine/model"
	"github.com/scaleacross/scaleacross/specdec"
)

// tinyEngine is a random small model whose draft is random too: losslessness
// must hold for any draft.
func tinyEngine(t *testing.T, vocab int) *Engine {
	t.Helper()
	cfg := model.Config{Dim: 16, Layers: 2, Heads: 4, KVHeads: 2, FF: 32, Vocab: vocab, Context: 64, Tied: true, RopeBase: 10000}
	m, err := model.NewTarget(cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		if len(p.Shape) > 1 {
			for i := range p.W {
				p.W[i] *= 40
			}
		}
	}
	d, err := model.NewDraft(cfg, 0, rand.New(rand.NewPCG(2, 2)))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range d.Params() {
		if len(p.Shape) > 1 {
			for i := range p.W {
				p.W[i] *= 40
			}
		}
	}
	return &Engine{T: m, D: d}
}

func shapes(t *testing.T) map[string]*specdec.Tree {
	t.Helper()
	wide, err := specdec.NewTree([][]int{{0}, {1}, {2}, {0, 0}, {0, 1}, {1, 0}, {0, 0, 0}, {0, 0, 1}, {0, 0, 0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*specdec.Tree{"chain:1": specdec.Chain(1), "chain:4": specdec.Chain(4), "tree9": wide}
}

// TestGreedySpeculativeMatchesTargetRandom checks token identity of greedy
// speculative and plain decoding on a random model and random draft.
func TestGreedySpeculativeMatchesTargetRandom(t *testing.T) {
	e := tinyEngine(t, 17)
	prompt := []int{3, 1, 4, 1, 5}
	plain, err := e.Generate(prompt, Options{MaxTokens: 40})
	if err != nil {
		t.Fatal(err)
	}
	for name, tr := range shapes(t) {
		got, err := e.Generate(prompt, Options{Tree: tr, MaxTokens: 40})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Tokens, plain.Tokens) {
			t.Errorf("%s: speculative %v\nplain %v", name, got.Tokens, plain.Tokens)
		}
		if !(got.PrefillS > 0) {
			t.Errorf("%s: prefill time %g s, want positive", name, got.PrefillS)
		}
	}
	if !(plain.PrefillS > 0) {
		t.Errorf("plain: prefill time %g s, want positive", plain.PrefillS)
	}
}

// TestSampledSpeculativeMatchesTargetDistribution compares the joint
// distribution of the first two sampled tokens with and without
// speculation over many seeds (total variation bound), on a small
// vocabulary so the histogram is dense.
func TestSampledSpeculativeMatchesTargetDistribution(t *testing.T) {
	const V, runs = 5, 3000
	e := tinyEngine(t, V)
	prompt := []int{1, 2, 3}
	tr, _ := specdec.NewTree([][]int{{0}, {1}, {0, 0}, {1, 0}, {0, 0, 0}})
	hist := func(tree *specdec.Tree) []float64 {
		h := make([]float64, V*V)
		for s := 0; s < runs; s++ {
			r, err := e.Generate(prompt, Options{Tree: tree, Temperature: 1, Seed: uint64(s), MaxTokens: 3})
			if err != nil {
				t.Fatal(err)
			}
			h[r.Tokens[1]*V+r.Tokens[2]] += 1.0 / runs
		}
		return h
	}
	p := hist(nil)
	// The draft in float32 and on bfloat16 weights (where the CPU has
	// AVX-512, one-row passes on AVX2): the draft's distribution changes, the output's must not.
	for _, bf := range []bool{false, true} {
		e.D.UseBF16(e.T, bf)
		q := hist(tr)
		var tv float64
		for i := range p {
			tv += math.Abs(p[i]-q[i]) / 2
		}
		// With 25 cells and 3000 runs each, the TV of two samples of one
		// distribution is about 0.04; a wrong verifier is far off.
		if tv > 0.07 {
			t.Fatalf("bf16 draft %v: total variation %.3f between speculative and plain sampling", bf, tv)
		}
		t.Logf("bf16 draft %v: total variation %.3f", bf, tv)
	}
}

func TestCheckRejectsBadRequests(t *testing.T) {
	e := tinyEngine(t, 17)
	deep := specdec.Chain(MaxTreeDepth + 1)
	for name, c := range map[string]struct {
		prompt []int
		o      Options
	}{
		"long prompt": {make([]int, 64), Options{MaxTokens: 1}},
		"deep tree":   {[]int{1}, Options{MaxTokens: 1, Tree: deep}},
		"temperature": {[]int{1}, Options{MaxTokens: 1, Temperature: -1}},
		"no tokens":   {[]int{1}, Options{}},
	} {
		_, err := e.Generate(c.prompt, c.o)
		var ie *InputError
		if err == nil || !asInput(err, &ie) {
			t.Errorf("%s: got %v, want an InputError", name, err)
		}
	}
}

func asInput(err error, target **InputError) bool {
	e, ok := err.(*InputError)
	*target = e
	return ok
}
