package model

import (
	"fmt"
	"math"

	"github.com/scaleacross/scaleacross/engine/tensor"
	"github.com/scaleacross/scaleacross/fault"
)

// Cache is a KV cache of one model. It holds a committed prefix of Len
// tokens, whose keys and values every new token attends without a mask,
// followed by Pending speculative tokens (a draft tree), which new tokens
// attend through an explicit mask. Commit keeps a chosen subset of the
// pending tokens, in order, and drops the rest: the KV-cache compaction
// of the accepted path.
type Cache struct {
	k, v    [][]float32 // per layer, Capacity × KVDim, keys already rotated
	ws      workspace   // scratch of one layer step, reused across steps
	kvd     int
	Len     int
	Pending int
	// Capacity is the most tokens (committed plus pending) it holds.
	Capacity int
}

// NewCache returns an empty cache for layers layers of shape cfg holding
// up to cfg.Context tokens.
func NewCache(cfg Config, layers int) *Cache {
	c := &Cache{kvd: cfg.KVDim(), Capacity: cfg.Context}
	for i := 0; i < layers; i++ {
		c.k = append(c.k, make([]float32, cfg.Context*c.kvd))
		c.v = append(c.v, make([]float32, cfg.Context*c.kvd))
	}
	return c
}

// Reset empties the cache.
func (c *Cache) Reset() { c.Len, c.Pending = 0, 0 }

// Commit appends the pending tokens keep (indices into the pending
// region, strictly increasing) to the committed prefix and discards the
// other pending tokens.
func (c *Cache) Commit(keep []int) error {
	for i, p := range keep {
		if p < 0 || p >= c.Pending || (i > 0 && p <= keep[i-1]) {
			return fmt.Errorf("cache commit: index %d (%d of %v) is not an increasing pending index below %d", p, i, keep, c.Pending)
		}
	}
	for l := range c.k {
		for i, p := range keep {
			if i == p {
				continue
			}
			dst, src := (c.Len+i)*c.kvd, (c.Len+p)*c.kvd
			copy(c.k[l][dst:dst+c.kvd], c.k[l][src:src+c.kvd])
			copy(c.v[l][dst:dst+c.kvd], c.v[l][src:src+c.kvd])
		}
	}
	c.Len += len(keep)
	c.Pending = 0
	return nil
}

// CapacityError reports a step that does not fit the cache (the context);
// it is bad input.
type CapacityError struct{ Msg string }

func (e *CapacityError) Error() string { return e.Msg }

// Is reports context overflows as bad input (fault.ErrBadInput).
func (e *CapacityError) Is(target error) bool { return target == fault.ErrBadInput }

// checkStep validates a step of m new tokens with positions pos and mask
// rows over the pending region (old pending tokens then the new ones).
func (c *Cache) checkStep(m int, pos []int, mask [][]bool) error {
	if m < 1 {
		return fmt.Errorf("step with no tokens")
	}
	if c.Len+c.Pending+m > c.Capacity {
		return &CapacityError{fmt.Sprintf("%d committed, %d pending and %d new tokens exceed the context of %d", c.Len, c.Pending, m, c.Capacity)}
	}
	if len(pos) != m || len(mask) != m {
		return fmt.Errorf("step of %d tokens with %d positions and %d mask rows", m, len(pos), len(mask))
	}
	for i, row := range mask {
		if len(row) != c.Pending+m {
			return fmt.Errorf("mask row %d has %d entries, want %d (pending plus new)", i, len(row), c.Pending+m)
		}
		if !row[c.Pending+i] {
			return fmt.Errorf("mask row %d does not let the token attend itself", i)
		}
		if pos[i] < 0 || pos[i] >= c.Capacity {
			return fmt.Errorf("position %d outside 0..%d", pos[i], c.Capacity-1)
		}
	}
	return nil
}

// step runs the layer on m new tokens x (m×Dim) whose keys and values are
// appended to the pending region of layer li of the cache, and returns
// the output. Each new token attends the whole committed prefix and the
// pending tokens its mask row allows. The two parts are computed
// separately and merged by their log-sum-exp, the two-pass tree attention
// of production EAGLE servers.
func (l *Layer) step(kn tensor.Kernel, x []float32, m int, pos []int, mask [][]bool, c *Cache, li int) []float32 {
	cfg := l.cfg
	d, kvd, ff, H, hd := cfg.Dim, cfg.KVDim(), cfg.FF, cfg.Heads, cfg.HeadDim()
	ws := &c.ws
	ws.off = 0
	xn := ws.take(m * d)
	rmsNorm(xn, x, l.AttnNorm.W, m, d, nil)
	q := ws.take(m * d)
	base := (c.Len + c.Pending) * kvd
	kNew, vNew := c.k[li][base:base+m*kvd], c.v[li][base:base+m*kvd]
	apply(kn, q, xn, l.Wq, m)
	apply(kn, kNew, xn, l.Wk, m)
	apply(kn, vNew, xn, l.Wv, m)
	rope(q, m, H, hd, pos, l.rt, 1)
	rope(kNew, m, cfg.KVHeads, hd, pos, l.rt, 1)
	K, V := c.k[li], c.v[li]
	scale := float32(1 / math.Sqrt(float64(hd)))
	group := H / cfg.KVHeads
	ao := ws.take(m * d)
	acc1, acc2 := ws.take(hd), ws.take(hd)
	sc := ws.take(max(c.Len, c.Pending+m))
	runs := maskRuns(mask)
	for i := 0; i < m; i++ {
		for h := 0; h < H; h++ {
			kh := h / group
			qv := q[i*d+h*hd : i*d+h*hd+hd]
			// Part 1: the committed prefix, no mask.
			m1, s1 := float32(math.Inf(-1)), float32(0)
			clear(acc1)
			if c.Len > 0 {
				pre := sc[:c.Len]
				kn.DotRows(pre, qv, K[kh*hd:], kvd, c.Len)
				for u, v := range pre {
					v *= scale
					pre[u] = v
					if v > m1 {
						m1 = v
					}
				}
				for u := range pre {
					pre[u] -= m1
				}
				kn.Exp(pre)
				for _, e := range pre {
					s1 += e
				}
				kn.AxpyRows(acc1, pre, V[kh*hd:], kvd, c.Len)
			}
			// Part 2: the pending tokens, through the mask, one kernel call
			// per run of attended tokens (a causal row is a single run).
			m2, s2 := float32(math.Inf(-1)), float32(0)
			clear(acc2)
			for _, r := range runs[i] {
				seg := sc[r[0]:r[1]]
				kn.DotRows(seg, qv, K[(c.Len+r[0])*kvd+kh*hd:], kvd, r[1]-r[0])
				for u, v := range seg {
					v *= scale
					seg[u] = v
					if v > m2 {
						m2 = v
					}
				}
			}
			for _, r := range runs[i] {
				seg := sc[r[0]:r[1]]
				for u := range seg {
					seg[u] -= m2
				}
				kn.Exp(seg)
				for _, e := range seg {
					s2 += e
				}
				kn.AxpyRows(acc2, seg, V[(c.Len+r[0])*kvd+kh*hd:], kvd, r[1]-r[0])
			}
			// Merge by log-sum-exp.
			mx := max(m1, m2)
			w1, w2 := float32(0), tensor.Expf(m2-mx)
			if c.Len > 0 {
				w1 = tensor.Expf(m1 - mx)
			}
			den := w1*s1 + w2*s2
			out := ao[i*d+h*hd : i*d+h*hd+hd]
			for e := range out {
				out[e] = (w1*acc1[e] + w2*acc2[e]) / den
			}
		}
	}
	h1 := ws.take(m * d)
	apply(kn, h1, ao, l.Wo, m)
	for i := range h1 {
		h1[i] += x[i]
	}
	xn2 := ws.take(m * d)
	rmsNorm(xn2, h1, l.MLPNorm.W, m, d, nil)
	a, b := ws.take(m*ff), ws.take(m*ff)
	apply(kn, a, xn2, l.W1, m)
	apply(kn, b, xn2, l.W3, m)
	// SwiGLU: silu(a)·b with the exponentials vectorised.
	neg := ws.take(len(a))
	for i, v := range a {
		neg[i] = -v
	}
	kn.Exp(neg)
	for i, v := range a {
		a[i] = v / (1 + neg[i]) * b[i]
	}
	y := make([]float32, m*d)
	apply(kn, y, a, l.W2, m)
	for i := range y {
		y[i] += h1[i]
	}
	return y
}

// Step runs the target on m new tokens at positions pos, appending them to
// the cache's pending region; mask row i says which pending tokens (the
// earlier pending ones, then the m new ones) token i attends besides the
// committed prefix. It returns each token's feature (m×Dim, the last
// layer's output) and logits (m×Vocab). A causal prefill is a step whose
// mask is lower-triangular; one decode token is a step of m = 1.
func (t *Target) Step(tokens, pos []int, mask [][]bool, c *Cache) (feat, logits []float32, err error) {
	m, d := len(tokens), t.Cfg.Dim
	if err := c.checkStep(m, pos, mask); err != nil {
		return nil, nil, fmt.Errorf("target step: %w", err)
	}
	if len(c.k) != len(t.Layers) {
		return nil, nil, fmt.Errorf("target step: cache has %d layers, the model %d", len(c.k), len(t.Layers))
	}
	x := make([]float32, m*d)
	for i, tok := range tokens {
		if tok < 0 || tok >= t.Cfg.Vocab {
			return nil, nil, fmt.Errorf("target step: token %d outside the vocabulary of %d", tok, t.Cfg.Vocab)
		}
		copy(x[i*d:i*d+d], t.Embed.W[tok*d:tok*d+d])
	}
	for li, l := range t.Layers {
		x = l.step(t.Kern, x, m, pos, mask, c, li)
	}
	c.Pending += m
	return x, t.Logits(x, m), nil
}

// Logits applies the final norm and the LM head to m features.
func (t *Target) Logits(feat []float32, m int) []float32 {
	d := t.Cfg.Dim
	xn := make([]float32, m*d)
	rmsNorm(xn, feat, t.FinalNorm.W, m, d, nil)
	lg := make([]float32, m*t.Cfg.Vocab)
	apply(t.Kern, lg, xn, t.Head, m)
	return lg
}

// Step runs the draft on m new inputs: input i pairs the feature
// feats[i] (the target's, or the draft's own estimate deeper in a tree)
// with the embedding of the token that followed it, tokens[i]. Positions
// and mask are as for Target.Step on the draft's own cache. It returns
// the estimated next features (m×Dim) and their logits through the
// target's head.
func (d *Draft) Step(t *Target, feats []float32, tokens, pos []int, mask [][]bool, c *Cache) (out, logits []float32, err error) {
	m, D := len(tokens), d.Cfg.Dim
	if err := c.checkStep(m, pos, mask); err != nil {
		return nil, nil, fmt.Errorf("draft step: %w", err)
	}
	if len(feats) != m*D || len(c.k) != 1 {
		return nil, nil, fmt.Errorf("draft step: %d features for %d tokens, cache of %d layers", len(feats)/D, m, len(c.k))
	}
	in := make([]float32, m*2*D)
	for i, tok := range tokens {
		if tok < 0 || tok >= t.Cfg.Vocab {
			return nil, nil, fmt.Errorf("draft step: token %d outside the vocabulary of %d", tok, t.Cfg.Vocab)
		}
		copy(in[i*2*D:i*2*D+D], t.Embed.W[tok*D:tok*D+D])
		copy(in[i*2*D+D:i*2*D+2*D], feats[i*D:i*D+D])
	}
	x := make([]float32, m*D)
	apply(t.Kern, x, in, d.FC, m)
	out = d.Layer.step(t.Kern, x, m, pos, mask, c, 0)
	c.Pending += m
	return out, t.Logits(out, m), nil
}

// CausalMask returns the lower-triangular mask of m new tokens on a cache
// with no pending tokens.
func CausalMask(m int) [][]bool {
	mask := make([][]bool, m)
	for i := range mask {
		mask[i] = make([]bool, m)
		for j := 0; j <= i; j++ {
			mask[i][j] = true
		}
	}
	return mask
}

// apply computes y = x·Wᵀ for m inference rows: on the SIMD kernel through
// the packed weights (the outer-product kernel), otherwise with the
// pure-Go dot-product kernel on W itself.
func apply(kn tensor.Kernel, y, x []float32, w *Param, m int) {
	out, in := w.Shape[0], w.Shape[1]
	if kn.SIMD && tensor.PackOK(out) {
		kn.MatMulPacked(y, x, w.pack(), m)
		return
	}
	kn.MatMulT(y, x, w.W, m, in, out)
}

// maskRuns returns, for each mask row, the half-open index ranges of its
// consecutive true entries.
func maskRuns(mask [][]bool) [][][2]int {
	out := make([][][2]int, len(mask))
	for i, row := range mask {
		for j := 0; j < len(row); {
			if !row[j] {
				j++
				continue
			}
			k := j
			for k < len(row) && row[k] {
				k++
			}
			out[i] = append(out[i], [2]int{j, k})
			j = k
		}
	}
	return out
}

// workspace hands out scratch slices for the temporaries of one layer
// step; none of them outlives the step, so the next step reuses the
// memory. When the buffer is too small a new one replaces it; slices
// already handed out keep the old one alive.
type workspace struct {
	buf []float32
	off int
}

func (w *workspace) take(n int) []float32 {
	if w.off+n > len(w.buf) {
		w.buf = make([]float32, max(2*len(w.buf), 4*n, 1<<14))
		w.off = 0
	}
	s := w.buf[w.off : w.off+n : w.off+n]
	w.off += n
	return s
}

// Prepare packs every matrix for the inference kernel now rather than on
// first use, so that the first generation's timing excludes the packing.
func (t *Target) Prepare() {
	if !t.Kern.SIMD {
		return
	}
	for _, p := range t.Params() {
		if len(p.Shape) == 2 && tensor.PackOK(p.Shape[0]) {
			p.pack()
		}
	}
}

// Prepare packs the draft's matrices for target t's kernel.
func (d *Draft) Prepare(t *Target) {
	if !t.Kern.SIMD {
		return
	}
	for _, p := range d.Params() {
		if len(p.Shape) == 2 && tensor.PackOK(p.Shape[0]) {
			p.pack()
		}
	}
}
