package decode

import (
	"math"
	"os"
	"slices"
	"testing"

	"github.com/scaleacross/scaleacross/engine/model"
	"github.com/scaleacross/scaleacross/engine/tensor"
	"github.com/scaleacross/scaleacross/engine/train"
	"github.com/scaleacross/scaleacross/specdec"
)

// trained loads the committed weight pair and held-out excerpt.
func trained(t *testing.T) (*Engine, []byte) {
	t.Helper()
	m, d, err := loadTrained()
	if err != nil {
		t.Fatal(err)
	}
	if d == nil {
		t.Fatal("the committed weights have no draft head")
	}
	text, err := os.ReadFile("../testdata/heldout.txt")
	if err != nil {
		t.Fatal(err)
	}
	return &Engine{T: m, D: d}, text
}

func prompts(text []byte, n, length int) [][]int {
	var ps [][]int
	stride := len(text) / n
	for i := 0; i < n; i++ {
		ps = append(ps, train.Tokens(text[i*stride:i*stride+length]))
	}
	return ps
}

func trainedShapes(t *testing.T) map[string]*specdec.Tree {
	t.Helper()
	wide, err := specdec.NewTree([][]int{{0}, {1}, {2}, {3}, {0, 0}, {1, 0}})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*specdec.Tree{"chain:1": specdec.Chain(1), "chain:3": specdec.Chain(3), "chain:5": specdec.Chain(5), "tree": DefaultTree(), "wide": wide}
}

// TestTrainedGreedySpeculativeIsTokenIdentical checks greedy speculative
// decoding against greedy target decoding with the trained pair.
// The draft runs in float32 and, where the CPU has SIMD, on bfloat16
// weights (Draft.UseBF16), and its prefill reads the whole prompt or
// only its last tokens (Engine.DraftPrefill, down to one, and a window
// longer than the prompt): the output is the target's either way.
func TestTrainedGreedySpeculativeIsTokenIdentical(t *testing.T) {
	e, text := trained(t)
	for _, bf := range []bool{false, true} {
		e.D.UseBF16(e.T, bf)
		for pi, p := range prompts(text, 2, 64) {
			e.DraftPrefill = 0
			plain, err := e.Generate(p, Options{MaxTokens: 64})
			if err != nil {
				t.Fatal(err)
			}
			for _, win := range []int{0, 1, DefaultDraftPrefill, 1000} {
				e.DraftPrefill = win
				for name, tr := range trainedShapes(t) {
					got, err := e.Generate(p, Options{Tree: tr, MaxTokens: 64})
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got.Tokens, plain.Tokens) {
						t.Errorf("bf16 draft %v, draft prefill %d, prompt %d, %s: speculative output %q differs from plain %q", bf, win, pi, name, bytesOf(got.Tokens), bytesOf(plain.Tokens))
					}
				}
			}
		}
	}
	e.D.UseBF16(e.T, false)
	e.DraftPrefill = 0
}

func bytesOf(t []int) string {
	b := make([]byte, len(t))
	for i, v := range t {
		b[i] = byte(v)
	}
	return string(b)
}

// TestMeasuredAcceptancePredictsAcceptedTokens feeds the engine's
// measured per-depth acceptance into specdec's expected-tokens formula
// (the one infer uses) and requires it within 10% of the measured
// accepted tokens per step, for several tree shapes.
func TestMeasuredAcceptancePredictsAcceptedTokens(t *testing.T) {
	e, text := trained(t)
	ps := prompts(text, 4, 64)
	for _, name := range []string{"chain:3", "chain:5", "tree", "wide"} {
		tr := trainedShapes(t)[name]
		var s Stats
		for i, p := range ps {
			r, err := e.Generate(p, Options{Tree: tr, MaxTokens: 96, Seed: uint64(i)})
			if err != nil {
				t.Fatal(err)
			}
			s.Add(r.Stats)
		}
		a, err := s.Acceptance()
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("%s: measured acceptance is not valid for specdec: %v", name, err)
		}
		pred, got := a.ExpectedTokens(tr), s.AcceptedPerStep()
		t.Logf("%s: measured %.3f tokens/step, formula %.3f, acceptance %.3f decay %.3f", name, got, pred, a.ByDepth, a.SiblingDecay)
		if math.Abs(pred-got) > 0.1*got {
			t.Errorf("%s: formula gives %.3f tokens per step, measured %.3f (more than 10%% apart)", name, pred, got)
		}
	}
}

// TestTrainedTargetBeatsUnigram checks the target's held-out bits per
// byte against a unigram model fitted on the same excerpt (in-sample, so
// a stronger baseline than a unigram fitted on the training text).
func TestTrainedTargetBeatsUnigram(t *testing.T) {
	e, text := trained(t)
	bpb, err := train.BitsPerByte(e.T, text, 0)
	if err != nil {
		t.Fatal(err)
	}
	uni := train.UnigramBitsPerByte(text, text)
	t.Logf("target %.3f bits/byte, unigram %.3f", bpb, uni)
	if bpb >= uni {
		t.Fatalf("target %.3f bits/byte does not beat the unigram %.3f", bpb, uni)
	}
}

func loadTrained() (*model.Target, *model.Draft, error) { return model.LoadPair("../testdata/weights") }

// TestTwoCoresGiveTheSameTokens checks that splitting the matrix
// products over two cores (tensor.Pool, every product or only the verify
// passes) emits exactly the tokens one core does, greedy and sampled,
// plainly and speculatively: engine bench reports one token stream for
// both core counts.
func TestTwoCoresGiveTheSameTokens(t *testing.T) {
	e, text := trained(t)
	e.T.Prepare()
	e.D.Prepare(e.T)
	e.D.UseBF16(e.T, true)
	pool := tensor.NewPool()
	defer pool.Close()
	one := e.T.Kern
	for pi, p := range prompts(text, 2, 64) {
		for _, temp := range []float64{0, 1} {
			for _, spec := range []string{"none", "chain:2", "tree"} {
				tr, _ := ParseSpec(spec)
				o := Options{Tree: tr, Temperature: temp, Seed: 7, MaxTokens: 48}
				e.T.Kern = one
				want, err := e.Generate(p, o)
				if err != nil {
					t.Fatal(err)
				}
				for _, minRows := range []int{0, 2} {
					e.T.Kern = one
					e.T.Kern.Pool, e.T.Kern.PoolMinRows = pool, minRows
					got, err := e.Generate(p, o)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got.Tokens, want.Tokens) || got.Stats.Steps != want.Stats.Steps {
						t.Errorf("prompt %d, temperature %g, %s, pool rows >= %d: %q in %d steps on two cores, %q in %d on one",
							pi, temp, spec, minRows, bytesOf(got.Tokens), got.Stats.Steps, bytesOf(want.Tokens), want.Stats.Steps)
					}
				}
			}
		}
	}
	e.T.Kern = one
}

// TestTrainedChain2AcceptsEnough checks the committed pair against the
// engine's acceptance goal in the CLI's configuration (the bfloat16
// draft where the CPU has SIMD, a DefaultDraftPrefill-token draft
// prefill): chain:2 at temperature 0 on the bench's 4 held-out prompts
// of 64 bytes, 96 tokens each, emits at least 2.5 tokens per verify
// step.
func TestTrainedChain2AcceptsEnough(t *testing.T) {
	e, text := trained(t)
	e.D.UseBF16(e.T, true)
	defer e.D.UseBF16(e.T, false)
	e.DraftPrefill = DefaultDraftPrefill
	var s Stats
	for _, p := range prompts(text, 4, 64) {
		r, err := e.Generate(p, Options{Tree: specdec.Chain(2), MaxTokens: 96})
		if err != nil {
			t.Fatal(err)
		}
		s.Add(r.Stats)
	}
	t.Logf("chain:2: %d tokens in %d steps, %.3f per step", s.Tokens, s.Steps, s.AcceptedPerStep())
	if got := s.AcceptedPerStep(); got < 2.5 {
		t.Errorf("chain:2 emits %.3f tokens per verify step, want at least 2.5", got)
	}
}
