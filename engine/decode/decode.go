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
	"github.com/scaleacross/scaleacross/engine/tensor"
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

// stepDists adapts one verify step's logits to specdec.Distributions:
// the target's distribution of node i comes from row i of the verify
// logits and the draft's from the draft logits that proposed node i's
// children, each built on first use into a buffer kept across steps
// (greedy verification reads the target's along the accepted path only,
// and never the draft's).
type stepDists struct {
	temp   float64
	V      int
	logits []float32   // the verify pass's, one row of V per node
	ql     [][]float32 // the draft logits below each node (nil: a leaf)
	target []specdec.Dist
	draft  []specdec.Dist
	tOK    []bool
	dOK    []bool
}

func newStepDists(n, V int, temp float64) *stepDists {
	d := &stepDists{temp: temp, V: V, target: make([]specdec.Dist, n), draft: make([]specdec.Dist, n), tOK: make([]bool, n), dOK: make([]bool, n)}
	for i := range d.target {
		d.target[i] = make(specdec.Dist, V)
	}
	return d
}

// reset forgets the distributions of the step before.
func (d *stepDists) reset() {
	clear(d.tOK)
	clear(d.dOK)
}

// Target returns node i's target distribution.
func (d *stepDists) Target(i int) specdec.Dist {
	if !d.tOK[i] {
		probsInto(d.target[i], d.logits[i*d.V:(i+1)*d.V], d.temp)
		d.tOK[i] = true
	}
	return d.target[i]
}

// Draft returns the draft distribution node i's children were drawn
// from, nil for a leaf.
func (d *stepDists) Draft(i int) specdec.Dist {
	if i >= len(d.ql) || d.ql[i] == nil {
		return nil // a leaf: Verify draws nothing from it
	}
	if !d.dOK[i] {
		if d.draft[i] == nil {
			d.draft[i] = make(specdec.Dist, d.V)
		}
		probsInto(d.draft[i], d.ql[i], d.temp)
		d.dOK[i] = true
	}
	return d.draft[i]
}

// dists adapts plain sampling's one target distribution (the empty
// tree's root) to specdec.Distributions.
type dists struct{ target []specdec.Dist }

func (d *dists) Target(i int) specdec.Dist { return d.target[i] }
func (d *dists) Draft(int) specdec.Dist    { return nil }

// probsInto turns logits into a distribution at temperature temp (0:
// one-hot argmax, the lowest id on ties), written into p (len(logits)
// long), which it returns.
func probsInto(p specdec.Dist, logits []float32, temp float64) specdec.Dist {
	if temp == 0 {
		clear(p)
		p[tensor.Argmax(logits)] = 1
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

// topKInto writes the k largest entries of z into out (k long), largest
// first (lowest id on ties), by selection: k passes over z, cheaper than
// sorting for the few ranks a draft tree uses; taken (len(z) long, all
// false) is scratch, left all false again.
func topKInto(out []int, z []float32, taken []bool) []int {
	if len(out) == 1 {
		out[0] = tensor.Argmax(z)
		return out
	}
	for n := range out {
		b := -1
		for i, v := range z {
			if !taken[i] && (b < 0 || v > z[b]) {
				b = i
			}
		}
		taken[b] = true
		out[n] = b
	}
	for _, i := range out {
		taken[i] = false
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
	// A token from one row of logits: greedy decoding takes the argmax,
	// sampling goes through specdec's verifier on the empty tree (the
	// multi-round sampler with no candidates draws from the target).
	empty, _ := specdec.NewTree(nil)
	one := &dists{target: make([]specdec.Dist, 1)}
	oneBuf := make(specdec.Dist, cfg.Vocab)
	noDraft := []int{-1}
	next := func(lg []float32) (int, error) {
		if greedy {
			return tensor.Argmax(lg), nil
		}
		one.target[0] = probsInto(oneBuf, lg, o.Temperature)
		_, out, err := specdec.Verify(empty, noDraft, one, false, rng)
		if err != nil {
			return 0, fmt.Errorf("sampling: %w", err)
		}
		return out[0], nil
	}
	root, err := next(logits)
	if err != nil {
		return nil, err
	}
	res := &Result{Tokens: make([]int, 1, o.MaxTokens+MaxTreeDepth+1)}
	res.Tokens[0] = root
	if o.Tree == nil {
		res.PrefillS = time.Since(t0).Seconds()
		tok, tpos, causal, keep := []int{0}, []int{0}, model.CausalMask(1), []int{0}
		for len(res.Tokens) < o.MaxTokens && tc.Len+1 <= cfg.Context {
			tok[0], tpos[0] = root, tc.Len
			_, lg, err := e.T.Step(tok, tpos, causal, tc)
			if err != nil {
				return nil, fmt.Errorf("decode: %w", err)
			}
			tc.Commit(keep)
			if root, err = next(lg); err != nil {
				return nil, err
			}
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
	st := newSpecState(o.Tree, cfg.Dim, cfg.Vocab, o.Temperature)
	st.rootFeat, st.rootLogits, st.root = dfeat[:cfg.Dim], dlg, root
	for len(res.Tokens) < o.MaxTokens {
		if tc.Len+st.size+1 > cfg.Context {
			break
		}
		out, err := e.specStep(st, tc, dc, &res.Stats, greedy, rng)
		if err != nil {
			return nil, err
		}
		res.Tokens = append(res.Tokens, out...)
	}
	if len(res.Tokens) > o.MaxTokens {
		res.Tokens = res.Tokens[:o.MaxTokens]
	}
	return res, nil
}

// specState is the speculative loop's state between steps: the tree's
// static layout (its levels, the draft's inputs and masks per level,
// which depend on the tree alone) and the buffers every step refills,
// so that a step allocates only inside the model passes and specdec.
type specState struct {
	t            *specdec.Tree
	size, D, V   int
	temp         float64
	levels       []specLevel // levels 1..depth
	hasKids      []bool
	width        []int // the widest sibling rank below each node, plus one
	pend         []int // each node's index among the draft's pending entries
	mask         [][]bool
	tpos         []int
	tok, vp      []int
	ql           [][]float32 // the draft's logits below each node (nil: a leaf)
	top          [][]int     // the ranked candidates below each node, valid where topOK
	topOK        []bool
	taken        []bool
	nodeFeat     [][]float32
	dists        *stepDists
	keep, reused []int
	cf           []float32
	ct, cp, all  []int
	causal       [][][]bool // CausalMask(m) for m up to depth+1
	rootFeat     []float32  // the draft's feature estimate at the root
	rootLogits   []float32  // and its logits, the root's candidates
	root         int        // the last token emitted, the tree's root
}

// specLevel is one level of the tree: its nodes, and the draft's pass
// over those of them that have children (run), with its inputs' buffers
// and its mask over the draft's pending entries.
type specLevel struct {
	nodes, run []int
	mask       [][]bool
	in         []float32
	rt, rp     []int
}

func newSpecState(t *specdec.Tree, D, V int, temp float64) *specState {
	size := t.Size()
	st := &specState{t: t, size: size, D: D, V: V, temp: temp, mask: t.Mask(), tpos: t.Positions()}
	st.levels = make([]specLevel, t.Depth()+1)
	for i := 1; i <= size; i++ {
		k := t.NodeDepth(i)
		st.levels[k].nodes = append(st.levels[k].nodes, i)
	}
	st.hasKids, st.width, st.pend = make([]bool, size+1), make([]int, size+1), make([]int, size+1)
	for i := 1; i <= size; i++ {
		st.hasKids[t.Parent(i)] = true
		st.width[t.Parent(i)] = max(st.width[t.Parent(i)], t.Rank(i)+1)
	}
	st.top, st.topOK = make([][]int, size+1), make([]bool, size+1)
	for i := range st.top {
		if st.width[i] > 0 {
			st.top[i] = make([]int, min(st.width[i], V))
		}
	}
	st.taken = make([]bool, V)
	// The draft's pending entries of a step are its passes' inputs in
	// level order; an input attends its own entry and its ancestors'.
	order := 0
	for k := 1; k <= t.Depth(); k++ {
		lv := &st.levels[k]
		for _, i := range lv.nodes {
			if st.hasKids[i] {
				lv.run = append(lv.run, i)
			}
		}
		for j, i := range lv.run {
			st.pend[i] = order + j
		}
		for _, i := range lv.run {
			row := make([]bool, order+len(lv.run))
			row[st.pend[i]] = true
			for a := t.Parent(i); a > 0; a = t.Parent(a) {
				row[st.pend[a]] = true
			}
			lv.mask = append(lv.mask, row)
		}
		lv.in = make([]float32, len(lv.run)*D)
		lv.rt, lv.rp = make([]int, len(lv.run)), make([]int, len(lv.run))
		order += len(lv.run)
	}
	st.tok, st.vp = make([]int, size+1), make([]int, size+1)
	st.ql, st.nodeFeat = make([][]float32, size+1), make([][]float32, size+1)
	st.dists = newStepDists(size+1, V, temp)
	depth := t.Depth()
	st.keep, st.reused = make([]int, 0, depth+1), make([]int, 0, depth)
	st.cf, st.ct, st.cp = make([]float32, (depth+1)*D), make([]int, depth+1), make([]int, depth+1)
	st.all = make([]int, depth+1)
	st.causal = make([][][]bool, depth+2)
	for m := 1; m <= depth+1; m++ {
		st.all[m-1] = m - 1
		st.causal[m] = model.CausalMask(m)
	}
	return st
}

// specStep runs one speculative step on a target cache of L committed
// tokens whose last emitted token (the root) is not in it yet: the draft
// grows the tree level by level, the target scores the root and the
// whole tree in one pass, specdec.Verify accepts a path, both caches
// keep the accepted path, and the draft catches up over it. It returns
// the tokens emitted (the accepted nodes' and one from the target),
// valid until the next step.
func (e *Engine) specStep(st *specState, tc, dc *model.Cache, stats *Stats, greedy bool, rng *rand.Rand) ([]int, error) {
	t, D, V := st.t, st.D, st.V
	L := tc.Len
	tok := st.tok
	tok[0] = st.root
	// Grow the tree level by level with the draft. Greedy verification
	// never reads the draft distributions, so greedy drafting keeps the
	// logits and ranks them; sampled drafting needs the tempered
	// distributions.
	clear(st.ql)
	clear(st.topOK)
	st.dists.reset()
	st.dists.ql = st.ql
	st.ql[0], st.nodeFeat[0] = st.rootLogits, st.rootFeat
	for k := 1; k < len(st.levels); k++ {
		lv := &st.levels[k]
		for _, i := range lv.nodes {
			par := t.Parent(i)
			if greedy {
				if !st.topOK[par] {
					topKInto(st.top[par], st.ql[par], st.taken)
					st.topOK[par] = true
				}
				tok[i] = st.top[par][t.Rank(i)]
			} else {
				tok[i] = st.dists.Draft(par).Sample(rng)
			}
		}
		// Run the draft on this level's nodes that have children.
		if len(lv.run) == 0 {
			continue
		}
		for j, i := range lv.run {
			copy(lv.in[j*D:(j+1)*D], st.nodeFeat[t.Parent(i)])
			lv.rt[j] = tok[i]
			lv.rp[j] = L + k - 1
		}
		of, ol, err := e.D.Step(e.T, lv.in, lv.rt, lv.rp, lv.mask, dc)
		if err != nil {
			return nil, fmt.Errorf("draft tree level %d: %w", k, err)
		}
		stats.DraftPasses++
		for j, i := range lv.run {
			st.nodeFeat[i] = of[j*D : (j+1)*D]
			st.ql[i] = ol[j*V : (j+1)*V]
		}
	}
	// One target pass over the root and the whole tree.
	for i := range st.vp {
		st.vp[i] = L + st.tpos[i]
	}
	vf, vl, err := e.T.Step(tok, st.vp, st.mask, tc)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	st.dists.logits = vl
	nodes, out, err := specdec.Verify(t, tok, st.dists, greedy, rng)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	recordAcceptance(stats, t, nodes)
	stats.Steps++
	stats.Tokens += len(out)
	keep := append(append(st.keep[:0], 0), nodes...)
	if err := tc.Commit(keep); err != nil {
		return nil, fmt.Errorf("compaction: %w", err)
	}
	// Draft catch-up over the accepted path. Row j of the path pairs
	// node keep[j]'s feature with the next token out[j]; where that
	// token is an accepted node the draft already ran (it has
	// children), the draft's pending entry is that row with the
	// draft's own feature estimate, and the leading run of such rows
	// is kept instead of recomputed. The rest get the target's
	// features.
	reuse := 0
	for reuse < len(nodes) && st.hasKids[nodes[reuse]] {
		reuse++
	}
	reused := st.reused[:reuse]
	for j := range reused {
		reused[j] = st.pend[nodes[j]]
	}
	if err := dc.Commit(reused); err != nil {
		return nil, fmt.Errorf("draft catch-up: %w", err)
	}
	m := len(keep) - reuse
	cf, ct, cp := st.cf[:m*D], st.ct[:m], st.cp[:m]
	for j, i := range keep[reuse:] {
		copy(cf[j*D:], vf[i*D:(i+1)*D])
		ct[j] = out[reuse+j]
		cp[j] = L + reuse + j
	}
	of, ol, err := e.D.StepLast(e.T, cf, ct, cp, st.causal[m], dc)
	if err != nil {
		return nil, fmt.Errorf("draft catch-up: %w", err)
	}
	if err := dc.Commit(st.all[:m]); err != nil {
		return nil, fmt.Errorf("draft catch-up: %w", err)
	}
	stats.DraftPasses++
	st.rootFeat, st.rootLogits, st.root = of[:D], ol, out[len(out)-1]
	return out, nil
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
