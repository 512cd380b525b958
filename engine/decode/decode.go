// Package decode generates text with the engine's target model, plainly
// or with EAGLE speculative decoding: the draft head grows a static tree
// of candidate tokens level by level, the target scores the whole tree in
// one verify pass with tree attention, specdec.Verify accepts a path
// losslessly (greedy or multi-round speculative sampling), and both KV
// caches are compacted to the accepted path.
package decode

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/scaleacross/scaleacross/engine/model"
	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/specdec"
)

// Limits on the draft tree; larger trees are bad input.
const (
	MaxTreeNodes = 64
	MaxTreeDepth = 12
)

// InputError reports a request the engine cannot serve (prompt beyond the
// context, tree too large or too deep, bad temperature); it is bad input.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// Is reports bad requests as bad input (fault.ErrBadInput).
func (e *InputError) Is(target error) bool { return target == fault.ErrBadInput }

// Options configures one generation.
type Options struct {
	// Tree is the static draft tree; nil decodes without speculation.
	Tree *specdec.Tree
	// Temperature 0 is greedy decoding; above 0 samples from the
	// temperature-scaled distribution.
	Temperature float64
	Seed        uint64
	MaxTokens   int
}

// Stats counts what a generation did.
type Stats struct {
	// Steps is the number of target decode or verify passes after the
	// prefill; Tokens the tokens emitted by them.
	Steps, Tokens int
	// DraftPasses counts draft-head forward passes (tree levels and the
	// catch-up pass over the accepted path).
	DraftPasses int
	// Tries[k][r] and Accepts[k][r]: how often a rank-r candidate at depth
	// k+1 was tried, and accepted, given its parent was accepted.
	Tries, Accepts [][]int
}

// Result is the generated continuation and its statistics.
type Result struct {
	Tokens []int
	Stats  Stats
	// PrefillS is the wall-clock time until the first token was emitted:
	// the checks, the target's prefill of the prompt, the first token's
	// sampling and, with speculation, the draft head's prefill. The rest
	// of the generation is its decode phase.
	PrefillS float64
}

// AcceptedPerStep is the mean number of tokens emitted per target pass.
func (s Stats) AcceptedPerStep() float64 {
	if s.Steps == 0 {
		return 0
	}
	return float64(s.Tokens) / float64(s.Steps)
}

// Add accumulates o into s.
func (s *Stats) Add(o Stats) {
	s.Steps += o.Steps
	s.Tokens += o.Tokens
	s.DraftPasses += o.DraftPasses
	grow := func(a [][]int, b [][]int) [][]int {
		for len(a) < len(b) {
			a = append(a, nil)
		}
		for k := range b {
			for len(a[k]) < len(b[k]) {
				a[k] = append(a[k], 0)
			}
			for r, v := range b[k] {
				a[k][r] += v
			}
		}
		return a
	}
	s.Tries = grow(s.Tries, o.Tries)
	s.Accepts = grow(s.Accepts, o.Accepts)
}

// Acceptance returns the measured acceptance in specdec's model: the
// conditional acceptance of the top candidate per depth and the sibling
// decay, the pooled ratio of lower-rank to top-rank conditional
// acceptance. Depths never tried get the last measured entry; entries
// are kept inside (0, 1] as specdec requires.
func (s Stats) Acceptance() (specdec.Acceptance, error) {
	var by []float64
	var lowAcc, lowTry float64
	for k := range s.Tries {
		if len(s.Tries[k]) == 0 || s.Tries[k][0] == 0 {
			break
		}
		a0 := float64(s.Accepts[k][0]) / float64(s.Tries[k][0])
		by = append(by, math.Min(1, math.Max(a0, 1e-3)))
		for r := 1; r < len(s.Tries[k]); r++ {
			lowAcc += float64(s.Accepts[k][r])
			lowTry += float64(s.Tries[k][r])
		}
	}
	if len(by) == 0 {
		return specdec.Acceptance{}, fmt.Errorf("no draft candidates were verified; nothing to measure")
	}
	// The decay solves sum tries_kr · a_k · decay^r = sum accepts_kr over
	// ranks r >= 1 (the left side grows with the decay: bisection).
	predicted := func(decay float64) float64 {
		var p float64
		for k := range by {
			for r := 1; r < len(s.Tries[k]); r++ {
				p += float64(s.Tries[k][r]) * math.Min(1, by[k]*math.Pow(decay, float64(r)))
			}
		}
		return p
	}
	decay := specdec.DefaultSiblingDecay
	if lowTry > 0 {
		lo, hi := 1e-3, 1.0
		for range 60 {
			mid := (lo + hi) / 2
			if predicted(mid) < lowAcc {
				lo = mid
			} else {
				hi = mid
			}
		}
		decay = (lo + hi) / 2
	}
	return specdec.Acceptance{ByDepth: by, SiblingDecay: decay, Source: "measured by scaleacross engine bench"}, nil
}

// DefaultDraftPrefill is the CLI's Engine.DraftPrefill. On the bench's
// 4 held-out prompts of 64 bytes (engine bench, temperature 0, the
// draft of the target's SwiGLU width) a 16-token draft prefill against
// the whole prompt changed chain:2 from 2.72 to 2.70 accepted tokens per
// step and chain:3 from 3.41 to 3.39 (8 tokens: 2.67 and 3.38; 32: 2.72
// and 3.42), while the target's prefill no longer runs its last layer's
// attention and MLP on the other 48 rows.
const DefaultDraftPrefill = 16

// Engine decodes with a target and, for speculation, its draft head.
// Generations may run concurrently; each takes its KV caches from a pool
// kept by the engine, so that consecutive generations reuse the cache
// memory and its scratch instead of allocating them again (about 5 MB
// per generation of the committed pair, BenchmarkGenerate -benchmem).
type Engine struct {
	T *model.Target
	D *model.Draft
	// DraftPrefill is how many of the prompt's last tokens the draft
	// head's prefill runs on (0: the whole prompt). The target's prefill
	// computes the last layer's output of only those tokens, the draft's
	// inputs, and the draft's cache holds their keys and values alone
	// (at their positions in the prompt), so a shorter window makes
	// speculation's prefill cheaper and the draft's view of the prompt
	// shorter; the target's output is the same either way.
	DraftPrefill int

	targetCaches, draftCaches sync.Pool // *model.Cache, emptied on return
}

// cache takes an empty cache of layers layers from pool p.
func (e *Engine) cache(p *sync.Pool, layers int) *model.Cache {
	if c, ok := p.Get().(*model.Cache); ok {
		c.Reset()
		return c
	}
	return model.NewCache(e.T.Cfg, layers)
}

// dists adapts per-node distributions to specdec.Distributions.
type dists struct{ target, draft []specdec.Dist }

func (d *dists) Target(i int) specdec.Dist { return d.target[i] }
func (d *dists) Draft(i int) specdec.Dist {
	if i < len(d.draft) {
		return d.draft[i]
	}
	return nil // a leaf: Verify draws nothing from it
}

// probs turns logits into a distribution at temperature temp (0: one-hot
// argmax, the lowest id on ties).
func probs(logits []float32, temp float64) specdec.Dist {
	p := make(specdec.Dist, len(logits))
	if temp == 0 {
		b := 0
		for i, v := range logits {
			if v > logits[b] {
				b = i
			}
		}
		p[b] = 1
		return p
	}
	mx := logits[0]
	for _, v := range logits {
		mx = max(mx, v)
	}
	var s float64
	for i, v := range logits {
		p[i] = math.Exp(float64(v-mx) / temp)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
	return p
}

// topK returns the k largest entries of z, largest first (lowest id on
// ties), by selection: k passes over z, cheaper than sorting for the few
// ranks a draft tree uses.
func topK(z []float32, k int) []int {
	k = min(k, len(z))
	out := make([]int, 0, k)
	taken := make([]bool, len(z))
	for len(out) < k {
		b := -1
		for i, v := range z {
			if !taken[i] && (b < 0 || v > z[b]) {
				b = i
			}
		}
		taken[b] = true
		out = append(out, b)
	}
	return out
}

// Check validates a request against the engine's limits.
func (e *Engine) Check(prompt []int, o Options) error {
	ctx := e.T.Cfg.Context
	if len(prompt) == 0 {
		return &InputError{"the prompt is empty"}
	}
	if len(prompt) >= ctx {
		return &InputError{fmt.Sprintf("prompt of %d bytes does not fit the context of %d (at most %d bytes leave room to generate)", len(prompt), ctx, ctx-1)}
	}
	for i, t := range prompt {
		if t < 0 || t >= e.T.Cfg.Vocab {
			return &InputError{fmt.Sprintf("prompt token %d at %d outside the vocabulary", t, i)}
		}
	}
	if !(o.Temperature >= 0 && o.Temperature <= 100) {
		return &InputError{fmt.Sprintf("temperature %g outside 0..100", o.Temperature)}
	}
	if o.MaxTokens < 1 {
		return &InputError{fmt.Sprintf("max tokens %d must be at least 1", o.MaxTokens)}
	}
	if t := o.Tree; t != nil {
		if e.D == nil {
			return &InputError{"speculation needs a draft head (draft.saw) next to the target"}
		}
		if t.Size() < 1 {
			return &InputError{"the draft tree has no nodes; use no speculation instead"}
		}
		if t.Size() > MaxTreeNodes {
			return &InputError{fmt.Sprintf("draft tree of %d nodes exceeds the supported %d", t.Size(), MaxTreeNodes)}
		}
		if t.Depth() > MaxTreeDepth {
			return &InputError{fmt.Sprintf("draft tree of depth %d exceeds the supported depth %d", t.Depth(), MaxTreeDepth)}
		}
		for i := 1; i <= t.Size(); i++ {
			if t.Rank(i) >= e.T.Cfg.Vocab {
				return &InputError{fmt.Sprintf("draft tree rank %d exceeds the vocabulary of %d", t.Rank(i), e.T.Cfg.Vocab)}
			}
		}
		if t.Size()+1 > ctx-len(prompt) {
			return &InputError{fmt.Sprintf("draft tree of %d nodes does not fit beside a %d-byte prompt in the context of %d", t.Size(), len(prompt), ctx)}
		}
	}
	return nil
}

// Generate continues prompt. It stops after MaxTokens tokens or when the
// context is full.
func (e *Engine) Generate(prompt []int, o Options) (*Result, error) {
	t0 := time.Now()
	if err := e.Check(prompt, o); err != nil {
		return nil, err
	}
	if p := e.T.Kern.Pool; p != nil {
		p.Engage()
		defer p.Release()
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	greedy := o.Temperature == 0
	cfg := e.T.Cfg
	D := cfg.Dim
	tc := e.cache(&e.targetCaches, cfg.Layers)
	defer e.targetCaches.Put(tc)
	n := len(prompt)
	pos := make([]int, n)
	for i := range pos {
		pos[i] = i
	}
	// Speculation's draft prefill reads the features of the prompt
	// tokens in its window; plain decoding needs the last token's logits
	// alone, so that its last layer skips the other rows' attention and
	// MLP.
	from := n - 1
	if o.Tree != nil {
		from = 0
		if w := e.DraftPrefill; w > 0 && w < n {
			from = n - w
		}
	}
	feat, logits, err := e.T.Prefill(prompt, pos, tc, from)
	if err != nil {
		return nil, fmt.Errorf("prefill: %w", err)
	}
	if err := tc.Commit(pos); err != nil {
		return nil, fmt.Errorf("prefill: %w", err)
	}
	empty, _ := specdec.NewTree(nil)
	V := cfg.Vocab
	_, first, err := specdec.Verify(empty, []int{-1}, &dists{target: []specdec.Dist{probs(logits, o.Temperature)}}, greedy, rng)
	if err != nil {
		return nil, fmt.Errorf("sampling: %w", err)
	}
	res := &Result{Tokens: []int{first[0]}}
	root := first[0]
	if o.Tree == nil {
		res.PrefillS = time.Since(t0).Seconds()
		for len(res.Tokens) < o.MaxTokens && tc.Len+1 <= cfg.Context {
			_, lg, err := e.T.Step([]int{root}, []int{tc.Len}, model.CausalMask(1), tc)
			if err != nil {
				return nil, fmt.Errorf("decode: %w", err)
			}
			tc.Commit([]int{0})
			_, out, err := specdec.Verify(empty, []int{-1}, &dists{target: []specdec.Dist{probs(lg, o.Temperature)}}, greedy, rng)
			if err != nil {
				return nil, fmt.Errorf("sampling: %w", err)
			}
			root = out[0]
			res.Tokens = append(res.Tokens, root)
			res.Stats.Steps++
			res.Stats.Tokens++
		}
		return res, nil
	}
	// Draft prefill: pairs (f_j, t_{j+1}) for from <= j < n-1, then
	// (f_{n-1}, root), at their positions j.
	dc := e.cache(&e.draftCaches, 1)
	defer e.draftCaches.Put(dc)
	dtok := append(append([]int(nil), prompt[from+1:]...), root)
	w := n - from
	dpos := pos[from:]
	dfeat, dlg, err := e.D.StepLast(e.T, feat, dtok, dpos, model.CausalMask(w), dc)
	if err != nil {
		return nil, fmt.Errorf("draft prefill: %w", err)
	}
	dc.Commit(pos[:w])
	res.PrefillS = time.Since(t0).Seconds()
	rootFeat := dfeat[:D]
	rootLogits := dlg
	t := o.Tree
	size := t.Size()
	levels := make([][]int, t.Depth()+1)
	for i := 1; i <= size; i++ {
		levels[t.NodeDepth(i)] = append(levels[t.NodeDepth(i)], i)
	}
	hasKids := make([]bool, size+1)
	for i := 1; i <= size; i++ {
		hasKids[t.Parent(i)] = true
	}
	// The widest sibling rank below each node: greedy drafting takes that
	// many top candidates from the draft's logits.
	width := make([]int, size+1)
	for i := 1; i <= size; i++ {
		width[t.Parent(i)] = max(width[t.Parent(i)], t.Rank(i)+1)
	}
	mask := t.Mask()
	tpos := t.Positions()
	for len(res.Tokens) < o.MaxTokens {
		L := tc.Len
		if L+size+1 > cfg.Context {
			break
		}
		// Grow the tree level by level with the draft.
		tok := make([]int, size+1)
		tok[0] = root
		// Greedy verification never reads the draft distributions, so
		// greedy drafting keeps the logits and ranks them; sampled
		// drafting needs the tempered distributions.
		qd := make([]specdec.Dist, size+1)
		ql := make([][]float32, size+1)
		top := make([][]int, size+1)
		ql[0] = rootLogits
		nodeFeat := make([][]float32, size+1)
		nodeFeat[0] = rootFeat
		pend := make([]int, size+1) // draft pending index of each node
		var order []int
		for k := 1; k <= t.Depth(); k++ {
			for _, i := range levels[k] {
				par := t.Parent(i)
				if greedy {
					if top[par] == nil {
						top[par] = topK(ql[par], width[par])
					}
					tok[i] = top[par][t.Rank(i)]
				} else {
					if qd[par] == nil {
						qd[par] = probs(ql[par], o.Temperature)
					}
					tok[i] = qd[par].Sample(rng)
				}
			}
			// Run the draft on this level's nodes that have children.
			var run []int
			for _, i := range levels[k] {
				if hasKids[i] {
					run = append(run, i)
				}
			}
			if len(run) == 0 {
				continue
			}
			in := make([]float32, len(run)*D)
			rt := make([]int, len(run))
			rp := make([]int, len(run))
			for j, i := range run {
				copy(in[j*D:], nodeFeat[t.Parent(i)])
				rt[j] = tok[i]
				rp[j] = L + k - 1
				pend[i] = len(order) + j
			}
			dm := make([][]bool, len(run))
			for j, i := range run {
				dm[j] = make([]bool, len(order)+len(run))
				dm[j][pend[i]] = true
				for a := t.Parent(i); a > 0; a = t.Parent(a) {
					dm[j][pend[a]] = true
				}
			}
			of, ol, err := e.D.Step(e.T, in, rt, rp, dm, dc)
			if err != nil {
				return nil, fmt.Errorf("draft tree level %d: %w", k, err)
			}
			res.Stats.DraftPasses++
			for j, i := range run {
				nodeFeat[i] = of[j*D : (j+1)*D]
				ql[i] = ol[j*V : (j+1)*V]
			}
			order = append(order, run...)
		}
		// One target pass over the root and the whole tree.
		vp := make([]int, size+1)
		for i := range vp {
			vp[i] = L + tpos[i]
		}
		vf, vl, err := e.T.Step(tok, vp, mask, tc)
		if err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
		pd := make([]specdec.Dist, size+1)
		for i := range pd {
			pd[i] = probs(vl[i*V:(i+1)*V], o.Temperature)
		}
		for i := range qd {
			if qd[i] == nil && ql[i] != nil && !greedy {
				qd[i] = probs(ql[i], o.Temperature)
			}
		}
		nodes, out, err := specdec.Verify(t, tok, &dists{target: pd, draft: qd}, greedy, rng)
		if err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
		recordAcceptance(&res.Stats, t, nodes)
		res.Stats.Steps++
		res.Stats.Tokens += len(out)
		keep := append([]int{0}, nodes...)
		if err := tc.Commit(keep); err != nil {
			return nil, fmt.Errorf("compaction: %w", err)
		}
		res.Tokens = append(res.Tokens, out...)
		root = out[len(out)-1]
		// Draft catch-up over the accepted path. Row j of the path pairs
		// node keep[j]'s feature with the next token out[j]; where that
		// token is an accepted node the draft already ran (it has
		// children), the draft's pending entry is that row with the
		// draft's own feature estimate, and the leading run of such rows
		// is kept instead of recomputed. The rest get the target's
		// features.
		reuse := 0
		for reuse < len(nodes) && hasKids[nodes[reuse]] {
			reuse++
		}
		reused := make([]int, reuse)
		for j := range reused {
			reused[j] = pend[nodes[j]]
		}
		if err := dc.Commit(reused); err != nil {
			return nil, fmt.Errorf("draft catch-up: %w", err)
		}
		m := len(keep) - reuse
		cf := make([]float32, m*D)
		ct := make([]int, m)
		cp := make([]int, m)
		for j, i := range keep[reuse:] {
			copy(cf[j*D:], vf[i*D:(i+1)*D])
			ct[j] = out[reuse+j]
			cp[j] = L + reuse + j
		}
		of, ol, err := e.D.StepLast(e.T, cf, ct, cp, model.CausalMask(m), dc)
		if err != nil {
			return nil, fmt.Errorf("draft catch-up: %w", err)
		}
		all := make([]int, m)
		for j := range all {
			all[j] = j
		}
		if err := dc.Commit(all); err != nil {
			return nil, fmt.Errorf("draft catch-up: %w", err)
		}
		res.Stats.DraftPasses++
		rootFeat = of[:D]
		rootLogits = ol
	}
	if len(res.Tokens) > o.MaxTokens {
		res.Tokens = res.Tokens[:o.MaxTokens]
	}
	return res, nil
}

// recordAcceptance counts, along the accepted path, which candidate rank
// was accepted below each accepted node that has children.
func recordAcceptance(s *Stats, t *specdec.Tree, nodes []int) {
	cur := 0
	for k := 0; ; k++ {
		kids := t.Children(cur)
		if len(kids) == 0 {
			return
		}
		for len(s.Tries) <= k {
			s.Tries, s.Accepts = append(s.Tries, nil), append(s.Accepts, nil)
		}
		for len(s.Tries[k]) < len(kids) {
			s.Tries[k], s.Accepts[k] = append(s.Tries[k], 0), append(s.Accepts[k], 0)
		}
		next := -1
		if k < len(nodes) {
			next = nodes[k]
		}
		for r, c := range kids {
			s.Tries[k][r]++
			if c == next {
				s.Accepts[k][r]++
				break
			}
		}
		if next < 0 {
			return
		}
		cur = next
	}
}
