package specdec

import (
	"fmt"
	"math"

	"github.com/scaleacross/scaleacross/fault"
)

// Method names a speculative-decoding method.
type Method string

// Methods with built-in default acceptance.
const (
	None   Method = "none"
	EAGLE  Method = "eagle"
	EAGLE3 Method = "eagle3"
	// MTP drafts with the target's own multi-token-prediction module
	// (DeepSeek-V3), run autoregressively one depth per pass.
	MTP Method = "mtp"
	// Draft drafts with a separate, smaller language model.
	Draft Method = "draft"
	// NGram drafts by prompt lookup: the continuation of the latest
	// n-gram's earlier occurrence in the context, on the host.
	NGram Method = "ngram"
)

// ChainOnly reports whether a method drafts one candidate per depth (a
// chain): MTP heads, draft models and n-gram lookup as vLLM, SGLang and
// TensorRT-LLM run them, not a tree of top-k siblings.
func (m Method) ChainOnly() bool { return m == MTP || m == Draft || m == NGram }

// AcceptanceError reports an invalid acceptance vector; it is bad input.
type AcceptanceError struct{ Msg string }

func (e *AcceptanceError) Error() string { return e.Msg }

// Is reports the error as bad input (fault.ErrBadInput).
func (e *AcceptanceError) Is(target error) bool { return target == fault.ErrBadInput }

// Acceptance is the acceptance model of a draft. ByDepth[k-1] is the
// probability that the draft's top candidate at depth k is accepted given
// that its parent was accepted (the "n-alpha" of the EAGLE paper with
// n = k-1). Depths beyond the vector reuse its last entry.
//
// Lower-ranked siblings: given that the candidates of rank 0..r-1 below a
// node were rejected, the rank-r candidate is accepted with conditional
// probability ByDepth[k-1] * SiblingDecay^r. The marginal probability that
// the rank-r candidate is the accepted one is therefore
// c_r * prod_{j<r} (1 - c_j), which never sums above one.
type Acceptance struct {
	ByDepth      []float64 `json:"by_depth"`
	SiblingDecay float64   `json:"sibling_decay"`
	// Source says where the vector comes from; Assumed is true when it is
	// a method default rather than measured for this model and data.
	Source  string `json:"source"`
	Assumed bool   `json:"assumed"`
}

// DefaultSiblingDecay is the assumed ratio of conditional acceptance of
// one sibling rank to the rank above it. ASSUMPTION: no public figure
// gives EAGLE's per-rank acceptance on Llama; Sequoia (arXiv 2402.12374,
// Fig. 3) measures positional acceptance falling several-fold from the
// first to the second candidate, and EAGLE-2 (arXiv 2406.16858) reports
// the draft's confidence tracks acceptance, so each lower rank is taken to
// be half as likely (conditionally) as the one above.
const DefaultSiblingDecay = 0.5

// DefaultAcceptance returns the documented default acceptance of a method.
//
// eagle3: derived from the EAGLE-3 chain accepted-length ladders of
// Llama 4 Maverick in reference/inference-measurements.csv (vLLM on
// 8xB200, NVIDIA's EAGLE-3 draft, chain k = 1..7, HumanEval, GSM8K and
// CNN/DailyMail). The accepted length L(k) = 1 + sum_{i<=k} prod_{j<=i} a_j
// is averaged over the three data sets, L = 1.793, 2.377, 2.797, 3.103,
// 3.267, 3.370, 3.423, and inverted: a_1 = L(1)-1,
// a_k = (L(k)-L(k-1)) / (L(k-1)-L(k-2)). The 3-chain then yields 2.80
// tokens per step, inside Meta's 2.75-2.94 for its production EAGLE drafts
// (arXiv 2508.08192) on Llama 3 and 4.
//
// eagle: EAGLE-1 on Llama 3.1 8B, MT-bench, greedy, measured in vLLM
// with the EAGLE authors' draft yuhuili/EAGLE-LLaMA3.1-Instruct-8B
// (vllm-project/vllm issue #20780): chain accepted lengths 2.10, 2.29,
// 2.39, 2.43 for k = 2..5. The missing L(1) is split with the EAGLE paper's
// ratio of second- to first-position acceptance (arXiv 2401.15077,
// "n-alpha" table, MT-bench: 1-alpha/0-alpha = 0.707/0.767 averaged over
// Vicuna 7B, LLaMA2-Chat 7B and 70B), then inverted as for eagle3. Longer
// chains (k = 6, 7) add at most 0.02 each, below the rounding of the
// figures, so depths beyond 5 reuse the fifth entry. The EAGLE paper's own
// figures (LLaMA2 and Vicuna targets, a_1 = 0.77) are not used: EAGLE-1
// drafts are markedly weaker on Llama 3 (EAGLE-3, arXiv 2503.01840,
// section 1), and the same vLLM issue measures EAGLE-3 at 2.36, 2.79, 3.08,
// 3.32 on that target, matching the eagle3 default's 2.38, 2.80, 3.10, 3.27.
func DefaultAcceptance(m Method) (Acceptance, error) {
	switch m {
	case EAGLE3:
		L := []float64{1, 1.793, 2.377, 2.797, 3.103, 3.267, 3.370, 3.423}
		return Acceptance{ByDepth: fromAcceptedLengths(L), SiblingDecay: DefaultSiblingDecay, Assumed: true,
			Source: "default for eagle3: inverted from the EAGLE-3 Maverick chain accepted-length ladders (mean of HumanEval, GSM8K, CNN/DM)"}, nil
	case EAGLE:
		const ratio = 0.707 / 0.767 // EAGLE paper: a_2 / a_1
		l2 := 2.10 - 1              // a_1 + a_1 a_2 = L(2) - 1
		a1 := (-1 + math.Sqrt(1+4*ratio*l2)) / (2 * ratio)
		L := []float64{1, 1 + a1, 2.10, 2.29, 2.39, 2.43}
		return Acceptance{ByDepth: fromAcceptedLengths(L), SiblingDecay: DefaultSiblingDecay, Assumed: true,
			Source: "default for eagle: inverted from EAGLE-1 chain accepted lengths on Llama 3.1 8B, MT-bench (vLLM issue #20780), first split by the EAGLE paper's n-alpha ratio"}, nil
	case MTP, Draft, NGram:
		return defaultChainAcceptance(m), nil
	}
	return Acceptance{}, &AcceptanceError{fmt.Sprintf("no default acceptance for method %q (want eagle, eagle3, mtp, draft or ngram)", m)}
}

// FromAcceptedLengths converts the mean accepted lengths that engines
// print for chains of draft length k = 1..K (bonus token included, so
// L(k) lies in (1, k+1]) into per-depth acceptance, a_1 = L(1)-1 and
// a_k = (L(k)-L(k-1)) / (L(k-1)-L(k-2)). The lengths must increase with
// k. A ratio above 1 (an increment larger than the one before it, which
// measurement noise can produce) is clamped to 1.
func FromAcceptedLengths(lengths []float64) ([]float64, error) {
	if len(lengths) == 0 {
		return nil, &AcceptanceError{"no accepted lengths given"}
	}
	L := append([]float64{1}, lengths...)
	for k := 1; k < len(L); k++ {
		if !(L[k] > L[k-1]) || L[k] > float64(k+1) {
			return nil, &AcceptanceError{fmt.Sprintf("accepted length %g at draft length %d must exceed %g (the one before) and be at most %d", L[k], k, L[k-1], k+1)}
		}
	}
	a := fromAcceptedLengths(L)
	for i := range a {
		a[i] = math.Min(a[i], 1)
	}
	return a, nil
}

// fromAcceptedLengths inverts chain accepted lengths L(0)=1, L(1), ...
// into per-depth acceptance.
func fromAcceptedLengths(L []float64) []float64 {
	a := make([]float64, len(L)-1)
	for k := 1; k < len(L); k++ {
		if k == 1 {
			a[0] = L[1] - L[0]
			continue
		}
		a[k-1] = (L[k] - L[k-1]) / (L[k-1] - L[k-2])
	}
	return a
}

// Validate checks that every acceptance lies in (0, 1] and the sibling
// decay in (0, 1]. field names the spec field for the message.
func (a Acceptance) Validate() error {
	if len(a.ByDepth) == 0 {
		return &AcceptanceError{"acceptance is empty; give one probability per draft depth, e.g. [0.8, 0.75, 0.7]"}
	}
	for i, x := range a.ByDepth {
		if !(x > 0 && x <= 1) || math.IsNaN(x) {
			return &AcceptanceError{fmt.Sprintf("acceptance[%d] = %g is outside (0, 1]; each entry is a probability of accepting the draft token at that depth", i, x)}
		}
	}
	if !(a.SiblingDecay > 0 && a.SiblingDecay <= 1) {
		return &AcceptanceError{fmt.Sprintf("sibling_decay = %g is outside (0, 1]", a.SiblingDecay)}
	}
	return nil
}

// AtDepth returns the top-candidate acceptance at depth k >= 1.
func (a Acceptance) AtDepth(k int) float64 {
	if k-1 < len(a.ByDepth) {
		return a.ByDepth[k-1]
	}
	return a.ByDepth[len(a.ByDepth)-1]
}

// Marginal returns the probability that the rank-r candidate at depth k is
// the accepted child, given its parent was accepted.
func (a Acceptance) Marginal(k, r int) float64 {
	top := a.AtDepth(k)
	p := 1.0
	c := top
	for j := 0; j < r; j++ {
		p *= 1 - c
		c *= a.SiblingDecay
	}
	return p * c
}

// ExpectedTokens is the expected number of tokens one target step emits
// with tree t: one (the target's own token) plus, for each node, the
// probability that its whole path is accepted.
func (a Acceptance) ExpectedTokens(t *Tree) float64 {
	reach := make([]float64, t.Size()+1)
	reach[0] = 1
	e := 1.0
	for i := 1; i <= t.Size(); i++ { // canonical order puts parents first
		reach[i] = reach[t.Parent(i)] * a.Marginal(t.NodeDepth(i), t.Rank(i))
		e += reach[i]
	}
	return e
}

// ChainTokens is ExpectedTokens for a chain of n tokens.
func (a Acceptance) ChainTokens(n int) float64 {
	e, p := 1.0, 1.0
	for k := 1; k <= n; k++ {
		p *= a.AtDepth(k)
		e += p
	}
	return e
}
