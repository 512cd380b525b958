package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scaleacross/scaleacross/engine/tensor"
)

func near(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-4*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("%s: value %d = %g, want %g", what, i, got[i], want[i])
		}
	}
}

// TestStepMatchesTrainingForward checks that cached inference (prefill,
// single-token decode, and a tree step with compaction) reproduces the
// training forward pass.
func TestStepMatchesTrainingForward(t *testing.T) {
	// Head widths 4 (the scalar attention tail) and 24 (the 16- and
	// 8-column SIMD kernels), with groups of 2 and 3 query heads.
	wide := Config{Dim: 72, Layers: 2, Heads: 3, KVHeads: 1, FF: 40, Vocab: 11, Context: 20, RopeBase: 10000}
	for _, cfg := range []Config{tinyConfig(false), wide} {
		for _, kn := range []tensor.Kernel{tensor.Detect(1), {}} {
			t.Run(fmt.Sprintf("hd=%d/simd=%v", cfg.HeadDim(), kn.SIMD), func(t *testing.T) { testStepMatchesTrainingForward(t, cfg, kn) })
		}
	}
}

func testStepMatchesTrainingForward(t *testing.T, cfg Config, kn tensor.Kernel) {
	m, _ := NewTarget(cfg, rand.New(rand.NewPCG(5, 6)))
	m.Kern = kn
	for _, p := range m.Params() {
		if len(p.Shape) > 1 {
			for i := range p.W {
				p.W[i] *= 10
			}
		}
	}
	tok := []int{1, 5, 3, 9, 0, 2, 2, 7, 10, 4}
	_, want, err := m.Features(tok)
	if err != nil {
		t.Fatal(err)
	}
	V := cfg.Vocab
	// Prefill 6, then decode one at a time.
	c := NewCache(cfg, cfg.Layers)
	_, lg, err := m.Step(tok[:6], []int{0, 1, 2, 3, 4, 5}, CausalMask(6), c)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "prefill", lg, want[:6*V])
	if err := c.Commit([]int{0, 1, 2, 3, 4, 5}); err != nil {
		t.Fatal(err)
	}
	_, lg, _ = m.Step(tok[6:7], []int{6}, CausalMask(1), c)
	near(t, "decode", lg, want[6*V:7*V])
	c.Commit([]int{0})
	// A tree rooted at tok[7]: root, a wrong child (5), the right child
	// tok[8], and tok[9] below the right child.
	tree := []int{tok[7], 5, tok[8], tok[9]}
	mask := [][]bool{{true, false, false, false}, {true, true, false, false}, {true, false, true, false}, {true, false, true, true}}
	_, lg, err = m.Step(tree, []int{7, 8, 8, 9}, mask, c)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "tree root", lg[:V], want[7*V:8*V])
	near(t, "tree right child", lg[2*V:3*V], want[8*V:9*V])
	near(t, "tree grandchild", lg[3*V:4*V], want[9*V:10*V])
	// Compact the accepted path root, node 2, node 3 and decode on.
	if err := c.Commit([]int{0, 2, 3}); err != nil {
		t.Fatal(err)
	}
	full := append(append([]int(nil), tok...), 6)
	_, want2, _ := m.Features(full)
	_, lg, _ = m.Step([]int{6}, []int{10}, CausalMask(1), c)
	near(t, "after compaction", lg, want2[10*V:11*V])
	// Over-long steps are refused.
	if _, _, err := m.Step(make([]int, cfg.Context), make([]int, cfg.Context), CausalMask(cfg.Context), c); err == nil {
		t.Fatal("a step beyond the context was accepted")
	}
}

// TestPrefillMatchesStep checks that Target.Prefill returns Step's last
// logits and features bit for bit (every token's from 0, the last ones
// from later tokens, where the last layer skips the rows before), and
// leaves the same keys and values: the next decode step gives the same
// logits. A first feature row outside the prompt is an error.
func TestPrefillMatchesStep(t *testing.T) {
	// The second shape packs every matrix (the SIMD kernel's tiles); the
	// first packs none.
	for _, cfg := range []Config{
		{Dim: 72, Layers: 2, Heads: 3, KVHeads: 1, FF: 40, Vocab: 11, Context: 20, RopeBase: 10000},
		{Dim: 64, Layers: 2, Heads: 4, KVHeads: 2, FF: 128, Vocab: 32, Context: 20, RopeBase: 10000},
	} {
		for _, kn := range []tensor.Kernel{tensor.Detect(1), {}} {
			t.Run(fmt.Sprintf("d=%d/simd=%v", cfg.Dim, kn.SIMD), func(t *testing.T) { testPrefillMatchesStep(t, cfg, kn) })
		}
	}
}

func testPrefillMatchesStep(t *testing.T, cfg Config, kn tensor.Kernel) {
	m, _ := NewTarget(cfg, rand.New(rand.NewPCG(13, 14)))
	m.Kern = kn
	m.Prepare()
	tok, pos := []int{3, 1, 4, 1, 5, 9, 2}, []int{0, 1, 2, 3, 4, 5, 6}
	n, D, V := len(tok), cfg.Dim, cfg.Vocab
	ref := NewCache(cfg, cfg.Layers)
	wf, wl, err := m.Step(tok, pos, CausalMask(n), ref)
	if err != nil {
		t.Fatal(err)
	}
	ref.Commit(pos)
	_, wantNext, _ := m.Step([]int{6}, []int{n}, CausalMask(1), ref)
	for _, from := range []int{0, 3, n - 1} {
		c := NewCache(cfg, cfg.Layers)
		f, l, err := m.Prefill(tok, pos, c, from)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(wf[from*D:], f); d != "" {
			t.Errorf("from %d: features differ (-Step +Prefill):\n%s", from, d)
		}
		if d := cmp.Diff(wl[(n-1)*V:], l); d != "" {
			t.Errorf("from %d: logits differ (-Step +Prefill):\n%s", from, d)
		}
		c.Commit(pos)
		_, next, _ := m.Step([]int{6}, []int{n}, CausalMask(1), c)
		if d := cmp.Diff(wantNext, next); d != "" {
			t.Errorf("from %d: next step differs (-Step +Prefill):\n%s", from, d)
		}
	}
	for _, from := range []int{-1, n} {
		if _, _, err := m.Prefill(tok, pos, NewCache(cfg, cfg.Layers), from); err == nil {
			t.Errorf("prefill with features from %d of %d tokens: no error", from, n)
		}
	}
}

// TestChunkedAttentionMatchesWhole checks that the masked attention of a
// long step (a prefill) in chunks of attnChunk new tokens, each over the
// keys its tokens reach, gives the bits of the whole square, for a causal
// mask and for a mask whose rows reach unevenly, on both kernels.
func TestChunkedAttentionMatchesWhole(t *testing.T) {
	cfg := Config{Dim: 64, Layers: 2, Heads: 4, KVHeads: 2, FF: 128, Vocab: 32, Context: 48, RopeBase: 10000}
	const n = 29
	tok, pos := make([]int, n), make([]int, n)
	for i := range tok {
		tok[i], pos[i] = (7*i+3)%cfg.Vocab, i
	}
	uneven := CausalMask(n)
	for i := range uneven {
		for j := 0; j < i; j++ {
			uneven[i][j] = (i+j)%3 != 0 || j == 0
		}
	}
	for _, kn := range []tensor.Kernel{tensor.Detect(1), {}} {
		m, _ := NewTarget(cfg, rand.New(rand.NewPCG(15, 16)))
		m.Kern = kn
		m.Prepare()
		for name, mask := range map[string][][]bool{"causal": CausalMask(n), "uneven": uneven} {
			whole, chunked := NewCache(cfg, cfg.Layers), NewCache(cfg, cfg.Layers)
			whole.chunk = 1 << 30
			wf, wl, err := m.Step(tok, pos, mask, whole)
			if err != nil {
				t.Fatal(err)
			}
			cf, cl, err := m.Step(tok, pos, mask, chunked)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(wf, cf); d != "" {
				t.Errorf("%s simd %v: features differ (-whole +chunked):\n%s", name, kn.SIMD, d)
			}
			if d := cmp.Diff(wl, cl); d != "" {
				t.Errorf("%s simd %v: logits differ (-whole +chunked):\n%s", name, kn.SIMD, d)
			}
		}
	}
}

// TestDraftStepLastMatchesStep checks that the draft's StepLast, which
// runs attention and the MLP on its last input only, returns the last row
// of a full Step, and leaves the same keys and values behind: the next
// step on either cache gives the same result.
func TestDraftStepLastMatchesStep(t *testing.T) {
	cfg := Config{Dim: 72, Layers: 2, Heads: 3, KVHeads: 1, FF: 40, Vocab: 11, Context: 20, RopeBase: 10000}
	for _, kn := range []tensor.Kernel{tensor.Detect(1), {}} {
		t.Run(fmt.Sprintf("simd=%v", kn.SIMD), func(t *testing.T) {
			m, _ := NewTarget(cfg, rand.New(rand.NewPCG(7, 8)))
			m.Kern = kn
			d, err := NewDraft(cfg, 0, rand.New(rand.NewPCG(9, 10)))
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(11, 12))
			D := cfg.Dim
			feats := make([]float32, 5*D)
			for i := range feats {
				feats[i] = float32(r.NormFloat64())
			}
			tok, pos := []int{3, 1, 4, 1, 5}, []int{0, 1, 2, 3, 4}
			full, last := NewCache(cfg, 1), NewCache(cfg, 1)
			// A committed prefix of two inputs, then three more at once.
			for _, c := range []*Cache{full, last} {
				if _, _, err := d.Step(m, feats[:2*D], tok[:2], pos[:2], CausalMask(2), c); err != nil {
					t.Fatal(err)
				}
				c.Commit([]int{0, 1})
			}
			fo, fl, err := d.Step(m, feats[2*D:], tok[2:], pos[2:], CausalMask(3), full)
			if err != nil {
				t.Fatal(err)
			}
			lo, ll, err := d.StepLast(m, feats[2*D:], tok[2:], pos[2:], CausalMask(3), last)
			if err != nil {
				t.Fatal(err)
			}
			V := cfg.Vocab
			near(t, "feature", lo, fo[2*D:])
			near(t, "logits", ll, fl[2*V:])
			for _, c := range []*Cache{full, last} {
				c.Commit([]int{0, 1, 2})
			}
			_, want, _ := d.Step(m, feats[:D], []int{2}, []int{5}, CausalMask(1), full)
			_, got, _ := d.StepLast(m, feats[:D], []int{2}, []int{5}, CausalMask(1), last)
			near(t, "next step", got, want)
		})
	}
}

// TestChainVerifyMatchesDecodeSteps checks that the verify pass of a
// chain (a causal step of m tokens on a committed prefix) gives each
// token the bits of plain decode steps, one token at a time with each
// committed before the next: the attention runs over the prefix and the
// pending tokens in one pass in cache order, and every product's sums
// run in the same order whatever the number of rows.
func TestChainVerifyMatchesDecodeSteps(t *testing.T) {
	cfg := Config{Dim: 64, Layers: 2, Heads: 4, KVHeads: 2, FF: 128, Vocab: 32, Context: 40, RopeBase: 10000}
	for _, kn := range []tensor.Kernel{tensor.Detect(1), {}} {
		t.Run(fmt.Sprintf("simd=%v", kn.SIMD), func(t *testing.T) {
			m, _ := NewTarget(cfg, rand.New(rand.NewPCG(5, 6)))
			m.Kern = kn
			m.Prepare()
			prompt := []int{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3}
			pos := make([]int, len(prompt))
			for i := range pos {
				pos[i] = i
			}
			chain := []int{8, 4, 6, 2}
			n, V := len(prompt), cfg.Vocab
			verify, plain := NewCache(cfg, cfg.Layers), NewCache(cfg, cfg.Layers)
			for _, c := range []*Cache{verify, plain} {
				if _, _, err := m.Step(prompt, pos, CausalMask(n), c); err != nil {
					t.Fatal(err)
				}
				c.Commit(pos)
			}
			vp := []int{n, n + 1, n + 2, n + 3}
			_, vl, err := m.Step(chain, vp, CausalMask(len(chain)), verify)
			if err != nil {
				t.Fatal(err)
			}
			for i, tok := range chain {
				_, l, err := m.Step([]int{tok}, []int{n + i}, CausalMask(1), plain)
				if err != nil {
					t.Fatal(err)
				}
				plain.Commit([]int{0})
				if d := cmp.Diff(l, vl[i*V:(i+1)*V]); d != "" {
					t.Errorf("token %d: logits differ (-decode +verify):\n%s", i, d)
				}
			}
		})
	}
}

// TestDraftEmbeddingTableKeepsBits checks that the bfloat16 draft's
// one-row pass, which takes the token half of its input projection from
// the per-token table, gives the bits of the pass that projects the
// whole concatenated input.
func TestDraftEmbeddingTableKeepsBits(t *testing.T) {
	kn := tensor.Detect(1)
	if !kn.SIMD || !kn.SplitBF16OK() {
		t.Skip("no bfloat16 draft with a split input projection on this kernel")
	}
	cfg := Config{Dim: 64, Layers: 1, Heads: 4, KVHeads: 2, FF: 128, Vocab: 32, Context: 20, RopeBase: 10000}
	m, _ := NewTarget(cfg, rand.New(rand.NewPCG(7, 8)))
	d, _ := NewDraft(cfg, 0, rand.New(rand.NewPCG(9, 10)))
	d.UseBF16(m, true)
	if d.Layer.low.fcEmb == nil {
		t.Fatal("UseBF16 built no embedding table")
	}
	r := rand.New(rand.NewPCG(11, 12))
	feat := make([]float32, cfg.Dim)
	for i := range feat {
		feat[i] = float32(r.NormFloat64())
	}
	var outs, logits [2][]float32
	for i, table := range []bool{true, false} {
		if !table {
			d.Layer.low.fcEmb = nil
		}
		c := NewCache(cfg, 1)
		o, l, err := d.Step(m, feat, []int{5}, []int{0}, CausalMask(1), c)
		if err != nil {
			t.Fatal(err)
		}
		outs[i], logits[i] = o, l
	}
	if d := cmp.Diff(outs[1], outs[0]); d != "" {
		t.Errorf("features differ (-whole +table):\n%s", d)
	}
	if d := cmp.Diff(logits[1], logits[0]); d != "" {
		t.Errorf("logits differ (-whole +table):\n%s", d)
	}
}
