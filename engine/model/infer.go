package model

import (
	"fmt"
	"math"
	"slices"

	"github.com/scaleacross/scaleacross/engine/tensor"
	"github.com/scaleacross/scaleacross/fault"
)

// Cache is a KV cache of one model. It holds a committed prefix of Len
// tokens, whose keys and values every new token attends without a mask,
// followed by Pending speculative tokens (a draft tree), which new tokens
// attend through an explicit mask. Commit keeps a chosen subset of the
// pending tokens, in order, and drops the rest: the KV-cache compaction
// of the accepted path.
//
// Keys are stored transposed, one row per key dimension of every KV
// head and one column per token (ld columns, the capacity padded to a
// multiple of 16 and 16 more), so that the scores of a head's queries
// are a matrix product that streams 16 tokens' keys per vector load.
// Values are stored one row per token.
type Cache struct {
	kt, v [][]float32  // per layer: KVDim × ld keys (already rotated), Capacity × KVDim values
	ws    workspace    // scratch of one layer step, reused across steps
	ws2   workspace    // scratch of the second part of a split attention
	attn  attnJob      // the attention of the step in progress
	bufs  [2][]float32 // a step's activations between layers (buf)
	// attnTask is attn.run, bound once so that a split allocates nothing.
	attnTask func(part int)
	bias     []float32 // the step's mask as additive scores, one row per new token
	// reach[i] is one past the last pending key new token i attends (its
	// mask row's last true entry): the keys past it are masked.
	reach []int
	// chunk is the attention's chunk of new tokens (attnChunk; a test
	// sets it larger than any step for the unchunked reference).
	chunk   int
	kvd, ld int
	Len     int
	Pending int
	// Capacity is the most tokens (committed plus pending) it holds.
	Capacity int
}

// NewCache returns an empty cache for layers layers of shape cfg holding
// up to cfg.Context tokens.
func NewCache(cfg Config, layers int) *Cache {
	c := &Cache{kvd: cfg.KVDim(), Capacity: cfg.Context, ld: (cfg.Context+15)&^15 + 16, chunk: attnChunk}
	c.attn.c = c
	c.attnTask = c.attn.run
	for i := 0; i < layers; i++ {
		c.kt = append(c.kt, make([]float32, c.kvd*c.ld))
		c.v = append(c.v, make([]float32, cfg.Context*c.kvd))
	}
	return c
}

// buf returns the first n floats of the cache's buffer i (0 or 1), which
// hold the activations between a step's layers, grown as needed.
func (c *Cache) buf(i, n int) []float32 {
	if cap(c.bufs[i]) < n {
		c.bufs[i] = make([]float32, n)
	}
	return c.bufs[i][:n]
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
	for l := range c.kt {
		kt, v := c.kt[l], c.v[l]
		for i, p := range keep {
			if i == p {
				continue
			}
			dst, src := c.Len+i, c.Len+p
			for e := 0; e < c.kvd; e++ {
				kt[e*c.ld+dst] = kt[e*c.ld+src]
			}
			copy(v[dst*c.kvd:(dst+1)*c.kvd], v[src*c.kvd:(src+1)*c.kvd])
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

// maskBias turns the mask rows of a step of m new tokens into additive
// scores over every key the step's tokens can see, the committed prefix
// then the pending region, padded to whole 16-key blocks (ldf columns):
// 0 for the prefix and where the token attends, -Inf where the mask or
// the padding forbids it. It is built once per step and read by every
// layer and KV head, so that the score rows take it with a branch-free
// add.
func (c *Cache) maskBias(mask [][]bool, m int) []float32 {
	n1, n2 := c.Len, c.Pending+m
	ldf := (n1 + n2 + 15) &^ 15
	if cap(c.bias) < m*ldf {
		c.bias = make([]float32, m*ldf)
	}
	b := c.bias[:m*ldf]
	if cap(c.reach) < m {
		c.reach = make([]int, m)
	}
	c.reach = c.reach[:m]
	ninf := float32(math.Inf(-1))
	for i, row := range mask {
		br := b[i*ldf : (i+1)*ldf]
		clear(br[:n1])
		for u, ok := range row[:n2] {
			if ok {
				br[n1+u] = 0
				c.reach[i] = u + 1
			} else {
				br[n1+u] = ninf
			}
		}
		for u := n1 + n2; u < ldf; u++ {
			br[u] = ninf
		}
	}
	return b
}

// step runs the layer on m new tokens x (m×Dim) whose keys and values are
// appended to the pending region of layer li of the cache, and returns
// the output. Each new token attends the whole committed prefix and the
// pending tokens its mask row allows, in one pass over both (the mask
// bias covers the prefix with zeros): two matrix products per KV head,
// the scores of the head's whole query group (every new token's queries
// of the heads sharing that KV head) against the transposed keys, and
// the softmax weights against the values. A key the mask hides gets
// weight 0 exactly, and every sum runs over the keys in cache order, so
// the verify row of a chain's token has the bits of the decode step that
// would have computed it after the tokens before it were committed.
//
// Only the rows from..m-1 go through attention and the MLP and come back
// (m-from rows); the rows before from only append their keys and values.
// The draft's catch-up and prefill need the next feature of their last
// input alone, and the draft has one layer, so that its other inputs
// cost only the QKV projection.
//
// The output goes to y when it is not nil (at least (m-from)·Dim long),
// otherwise to a new slice.
func (l *Layer) step(kn tensor.Kernel, x, y []float32, m int, pos []int, bias []float32, c *Cache, li, from int) []float32 {
	cfg := l.cfg
	d, kvd, ff := cfg.Dim, cfg.KVDim(), cfg.FF
	ws := &c.ws
	ws.off = 0
	xn := ws.take(m * d)
	kn.RMSNorm(xn, x, l.AttnNorm.W, m, d, rmsEps)
	// The queries and new keys stay where the projection put them, rows
	// of stride ldq and ldk; the attention's parts copy the values of
	// their heads into the cache.
	var q, kNew, vNew []float32
	ldq, ldk := d, kvd
	if f := l.fused(kn); f != nil {
		// One pass over the fused [Wq; Wk; Wv] rows.
		w := d + 2*kvd
		qkv := ws.take(m * w)
		if lp := l.lowFor(kn, m); lp != nil {
			kn.MatMulBF16(qkv, xn, lp.qkv, m)
		} else {
			kn.MatMulPacked(qkv, xn, f.qkv, m)
		}
		q, kNew, vNew, ldq, ldk = qkv, qkv[d:], qkv[d+kvd:], w, w
	} else {
		q, kNew = ws.take(m*d), ws.take(m*kvd)
		base := c.Len + c.Pending
		apply(kn, q, xn, l.Wq, m)
		apply(kn, kNew, xn, l.Wk, m)
		apply(kn, c.v[li][base*kvd:(base+m)*kvd], xn, l.Wv, m)
	}
	mo := m - from // rows that come back
	ao := ws.take(mo * d)
	c.attn = attnJob{c: c, l: l, kn: kn, q: q[from*ldq:], kNew: kNew, vNew: vNew, ldq: ldq, ldk: ldk, ao: ao, bias: bias, pos: pos, m: m, from: from, li: li}
	if p := kn.Pool; p != nil && cfg.KVHeads > 1 && mo >= kn.PoolMinRows {
		c.ws2.off = 0
		p.Run(c.attnTask)
	} else {
		c.attn.heads(0, cfg.KVHeads, ws)
	}
	c.attn = attnJob{c: c}
	// From here on only the mo returned rows.
	m, x = mo, x[from*d:]
	var lowO, low2 *tensor.PackedBF16
	if lp := l.lowFor(kn, m); lp != nil {
		lowO, low2 = lp.wo, lp.w2
	}
	h1 := ws.take(m * d)
	project(kn, h1, ao, l.Wo, lowO, m, x)
	xn2 := ws.take(m * d)
	kn.RMSNorm(xn2, h1, l.MLPNorm.W, m, d, rmsEps)
	// SwiGLU: silu(a)·b with the exponentials vectorised; a and b come
	// from one pass over the interleaved [W1; W3] rows (GLURows) where
	// they are packed, and each part of a split product applies the
	// activation to its own units.
	act := ws.take(m * ff)
	if f := l.fused(kn); f != nil && f.w13 != nil {
		g := ws.take(m * 2 * ff)
		if lp := l.lowFor(kn, m); lp != nil {
			kn.MatMulBF16GLU(act, g, xn2, lp.w13, m)
		} else {
			kn.MatMulPackedGLU(act, g, xn2, f.w13, m)
		}
	} else {
		a, b := ws.take(m*ff), ws.take(m*ff)
		apply(kn, a, xn2, l.W1, m)
		apply(kn, b, xn2, l.W3, m)
		for i := 0; i < m; i++ {
			kn.SiLUMul(act[i*ff:(i+1)*ff], a[i*ff:(i+1)*ff], b[i*ff:(i+1)*ff])
		}
	}
	if y == nil {
		y = make([]float32, m*d)
	}
	y = y[:m*d]
	project(kn, y, act, l.W2, low2, m, h1)
	return y
}

// attnChunk is the number of new tokens whose masked scores the
// attention computes together when a step has more than twice as many
// (a prefill): 4 tokens of a 4-head query group are 16 score rows, four
// of Gemm's 4-row tiles, and their keys end within 4 of each other in a
// causal mask.
const attnChunk = 4

// attnJob is the attention of one layer step, between the QKV projection
// and the output projection, split by KV head: each KV head's query
// group, keys and values are independent of the others', so that a
// part computes whole heads and writes its own columns of the output.
// Its fields are step's; it lives in the Cache, so that a split
// allocates nothing.
type attnJob struct {
	c           *Cache
	l           *Layer
	kn          tensor.Kernel
	q, kNew, ao []float32 // the returned rows' queries, every new key (rows of stride ldq and ldk), the output
	vNew        []float32 // the new values, rows of stride ldk, or nil where they are in the cache
	ldq, ldk    int
	bias        []float32
	pos         []int
	m, from, li int
}

// run computes part 0's KV heads (the first half) on the cache's
// workspace and part 1's (the rest) on the second one.
func (j *attnJob) run(part int) {
	c := j.l.cfg.KVHeads
	half := (c + 1) / 2
	if part == 0 {
		j.heads(0, half, &j.c.ws)
	} else {
		j.heads(half, c, &j.c.ws2)
	}
}

// heads computes the attention of the KV heads kh0..kh1-1 with scratch
// from ws: it rotates the heads' queries (of the returned rows) and new
// keys, stores the keys transposed in the cache, and writes the heads'
// columns of the output. Each head's sums run in the same order whether
// the heads are split or not, so a split step is bit-identical.
func (j *attnJob) heads(kh0, kh1 int, ws *workspace) {
	l, kn, c := j.l, j.kn, j.c
	cfg := l.cfg
	d, kvd, H, hd := cfg.Dim, cfg.KVDim(), cfg.Heads, cfg.HeadDim()
	m, from, q, kNew, ao, bias, ldq, ldk := j.m, j.from, j.q, j.kNew, j.ao, j.bias, j.ldq, j.ldk
	mo := m - from
	base := c.Len + c.Pending
	kt, V, ld := c.kt[j.li], c.v[j.li], c.ld
	// The 1/sqrt(hd) of the scores, folded into the queries.
	scale := float32(1 / math.Sqrt(float64(hd)))
	group := H / cfg.KVHeads
	R := mo * group // query rows of one KV head
	n1, n2 := c.Len, c.Pending+m
	qg := ws.take(R * hd)
	// Score rows span whole 16-key blocks of keys (the cache's ld leaves
	// room), prefix and pending region together; the columns past the
	// real keys get -Inf from the bias.
	ldf := (n1 + n2 + 15) &^ 15
	s := ws.take(R * ldf)
	o := ws.take(R * hd)
	sum := ws.take(R)
	kr := ws.take(hd) // one rotated key
	for kh := kh0; kh < kh1; kh++ {
		// Rotate the new keys into the cache (transposed) and the
		// queries, times the scale, into the group's rows, in one pass
		// each: the values rope and the scaling would store, without
		// writing them back to the projection's rows first.
		rt := l.rt
		for i := 0; i < m; i++ {
			p := j.pos[i] * hd
			cs, sn := rt.cos2[p:p+hd], rt.sin2[p:p+hd]
			// The rotation by 1 is the rotation alone (x·1 = x).
			kn.RopeScale(kr, kNew[i*ldk+kh*hd:i*ldk+(kh+1)*hd], cs, sn, 1)
			dst := kt[kh*hd*ld+base+i:]
			for e, v := range kr {
				dst[e*ld] = v
			}
			if j.vNew != nil {
				copy(V[(base+i)*kvd+kh*hd:(base+i)*kvd+(kh+1)*hd], j.vNew[i*ldk+kh*hd:i*ldk+(kh+1)*hd])
			}
		}
		// The group's heads are adjacent in a query row and in qg.
		gw := group * hd
		for i := 0; i < mo; i++ {
			p := j.pos[from+i] * hd
			kn.RopeScale(qg[i*gw:(i+1)*gw], q[i*ldq+kh*gw:i*ldq+(kh+1)*gw], rt.cos2[p:p+hd], rt.sin2[p:p+hd], scale)
		}
		keys := kt[kh*hd*ld:]
		// In chunks of new tokens whose scores span only the 16-key
		// blocks up to the last key one of them attends: the keys past it
		// would get weight 0 (exactly, so the sums are the same bits), and
		// a causal prefill computes a little over half of its square of
		// scores.
		chunk := mo
		if mo > 2*c.chunk {
			chunk = c.chunk
		}
		for t0 := from; t0 < m; t0 += chunk {
			t1 := min(m, t0+chunk)
			reach := 0
			for _, v := range c.reach[t0:t1] {
				reach = max(reach, v)
			}
			lc := min(ldf, (n1+reach+15)&^15)
			r0, rc := (t0-from)*group, (t1-t0)*group
			kn.Gemm(s[r0*ldf:], ldf, qg[r0*hd:], hd, keys, ld, rc, hd, lc)
			for r := r0; r < r0+rc; r++ {
				_, sum[r] = kn.ExpShiftSumBias(s[r*ldf:r*ldf+lc], bias[(from+r/group)*ldf:])
			}
			kn.Gemm(o[r0*hd:], hd, s[r0*ldf:], ldf, V[kh*hd:], kvd, rc, min(n1+n2, lc), hd)
		}
		// Normalise into the heads' columns of the output.
		for r := 0; r < R; r++ {
			inv := 1 / sum[r]
			i, g := r/group, r%group
			out := ao[i*d+(kh*group+g)*hd : i*d+(kh*group+g+1)*hd]
			for e, v := range o[r*hd : (r+1)*hd] {
				out[e] = inv * v
			}
		}
	}
}

// Step runs the target on m new tokens at positions pos, appending them to
// the cache's pending region; mask row i says which pending tokens (the
// earlier pending ones, then the m new ones) token i attends besides the
// committed prefix. It returns each token's feature (m×Dim, the last
// layer's output) and logits (m×Vocab). A causal prefill is a step whose
// mask is lower-triangular; one decode token is a step of m = 1.
func (t *Target) Step(tokens, pos []int, mask [][]bool, c *Cache) (feat, logits []float32, err error) {
	return t.step(tokens, pos, mask, c, 0, 0)
}

// Prefill runs the causal step of a prompt (tokens at positions pos) on
// an empty pending region and returns the logits of its last token
// only, the one a generation samples from, and the features of the
// tokens from..m-1 (from at most m-1), as Step computes them: the last
// layer runs attention and the MLP on those tokens alone, the others
// only appending their keys and values. Plain decoding needs the last
// token's (from = m-1); speculation's draft prefill reads the features
// of the prompt tokens it runs on. The returned rows are bit-identical
// to Step's: every row's sums run in the same order whatever the number
// of rows.
func (t *Target) Prefill(tokens, pos []int, c *Cache, from int) (feat, logits []float32, err error) {
	m := len(tokens)
	if from < 0 || from > m-1 {
		return nil, nil, fmt.Errorf("target prefill: features from token %d of a %d-token prompt", from, m)
	}
	return t.step(tokens, pos, CausalMask(m), c, from, m-1)
}

// step is Step with the last layer's rows before lastFrom left out of
// its attention and MLP (it returns the features of rows lastFrom..m-1)
// and the logits of rows logitsFrom..m-1 (counted from 0, at least
// lastFrom).
func (t *Target) step(tokens, pos []int, mask [][]bool, c *Cache, lastFrom, logitsFrom int) (feat, logits []float32, err error) {
	m, d := len(tokens), t.Cfg.Dim
	if err := c.checkStep(m, pos, mask); err != nil {
		return nil, nil, fmt.Errorf("target step: %w", err)
	}
	if len(c.kt) != len(t.Layers) {
		return nil, nil, fmt.Errorf("target step: cache has %d layers, the model %d", len(c.kt), len(t.Layers))
	}
	// The embeddings and the inner layers' outputs alternate between the
	// cache's two buffers; the last layer's output is new (it is
	// returned).
	x := c.buf(1, m*d)
	for i, tok := range tokens {
		if tok < 0 || tok >= t.Cfg.Vocab {
			return nil, nil, fmt.Errorf("target step: token %d outside the vocabulary of %d", tok, t.Cfg.Vocab)
		}
		copy(x[i*d:i*d+d], t.Embed.W[tok*d:tok*d+d])
	}
	bias := c.maskBias(mask, m)
	for li, l := range t.Layers {
		var y []float32
		from := 0
		if li < len(t.Layers)-1 {
			y = c.buf(li%2, m*d)
		} else {
			from = lastFrom
		}
		x = l.step(t.Kern, x, y, m, pos, bias, c, li, from)
	}
	c.Pending += m
	lr := logitsFrom - lastFrom // the first row of x that gets logits
	return x, t.Logits(x[lr*d:], m-logitsFrom), nil
}

// Logits applies the final norm and the LM head to m features.
func (t *Target) Logits(feat []float32, m int) []float32 {
	d := t.Cfg.Dim
	xn := make([]float32, m*d)
	t.Kern.RMSNorm(xn, feat, t.FinalNorm.W, m, d, rmsEps)
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
	return d.step(t, feats, tokens, pos, mask, c, 0)
}

// StepLast is Step returning the next feature and the logits of the last
// input only (1×Dim and 1×Vocab): the catch-up over an accepted path and
// the prefill need only the next token's, and the other inputs only
// append their keys and values to the cache.
func (d *Draft) StepLast(t *Target, feats []float32, tokens, pos []int, mask [][]bool, c *Cache) (out, logits []float32, err error) {
	return d.step(t, feats, tokens, pos, mask, c, len(tokens)-1)
}

// step is Step returning the features and logits of the inputs from..m-1
// only.
func (d *Draft) step(t *Target, feats []float32, tokens, pos []int, mask [][]bool, c *Cache, from int) (out, logits []float32, err error) {
	m, D := len(tokens), d.Cfg.Dim
	if err := c.checkStep(m, pos, mask); err != nil {
		return nil, nil, fmt.Errorf("draft step: %w", err)
	}
	if len(feats) != m*D || len(c.kt) != 1 {
		return nil, nil, fmt.Errorf("draft step: %d features for %d tokens, cache of %d layers", len(feats)/D, m, len(c.kt))
	}
	for _, tok := range tokens {
		if tok < 0 || tok >= t.Cfg.Vocab {
			return nil, nil, fmt.Errorf("draft step: token %d outside the vocabulary of %d", tok, t.Cfg.Vocab)
		}
	}
	x := c.buf(1, m*D)
	if lp := d.Layer.lowFor(t.Kern, m); lp != nil && lp.fcEmb != nil && m == 1 {
		// The token's half of the input projection from the table, then
		// the feature's half continuing its sums.
		copy(x, lp.fcEmb[tokens[0]*D:(tokens[0]+1)*D])
		t.Kern.MatMulBF16Inputs(x, feats, lp.fc, D, 2*D, true)
	} else {
		in := c.buf(0, m*2*D)
		for i, tok := range tokens {
			copy(in[i*2*D:i*2*D+D], t.Embed.W[tok*D:tok*D+D])
			copy(in[i*2*D+D:i*2*D+2*D], feats[i*D:i*D+D])
		}
		if lp != nil {
			t.Kern.MatMulBF16(x, in, lp.fc, m)
		} else {
			apply(t.Kern, x, in, d.FC, m)
		}
	}
	out = d.Layer.step(t.Kern, x, nil, m, pos, c.maskBias(mask, m), c, 0, from)
	c.Pending += m
	if lp := d.Layer.lowFor(t.Kern, m-from); lp != nil {
		// The layer step is over, so its workspace holds the normed rows.
		c.ws.off = 0
		xn := c.ws.take((m - from) * D)
		t.Kern.RMSNorm(xn, out, t.FinalNorm.W, m-from, D, rmsEps)
		lg := make([]float32, (m-from)*t.Cfg.Vocab)
		t.Kern.MatMulBF16(lg, xn, lp.head, m-from)
		return out, lg, nil
	}
	return out, t.Logits(out, m-from), nil
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

// project computes y = x·Wᵀ + res for m inference rows (the residual
// res, m×out, is added after the product, by each part of a split one):
// through the bfloat16 copy low where it is set, otherwise as apply.
func project(kn tensor.Kernel, y, x []float32, w *Param, low *tensor.PackedBF16, m int, res []float32) {
	switch {
	case low != nil:
		kn.MatMulBF16Add(y, x, low, m, res)
	case kn.SIMD && tensor.PackOK(w.Shape[0]):
		kn.MatMulPackedAdd(y, x, w.pack(), m, res)
	default:
		kn.MatMulT(y, x, w.W, m, w.Shape[1], w.Shape[0])
		for i, v := range res {
			y[i] += v
		}
	}
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

// fusedLayer holds a layer's projections that read the same input,
// stacked and packed for the SIMD kernel: [Wq; Wk; Wv] and W1 and W3
// interleaved (tensor.GLURows; nil where FF is not a multiple of
// tensor.GLUGroup).
type fusedLayer struct{ qkv, w13 *tensor.Packed }

// fused returns the layer's fused projections on the SIMD kernel, built
// on first use (nil on the pure-Go kernel or where a stacked matrix
// cannot be packed). Code that changes the weights after inference must
// call Invalidate.
func (l *Layer) fused(kn tensor.Kernel) *fusedLayer {
	if !kn.SIMD {
		return nil
	}
	if l.fuse == nil {
		cfg := l.cfg
		d, kvd, ff := cfg.Dim, cfg.KVDim(), cfg.FF
		if !tensor.PackOK(d + 2*kvd) {
			return nil
		}
		l.fuse = &fusedLayer{qkv: tensor.Pack(l.stackedQKV(), d+2*kvd, d)}
		if tensor.GLUOK(ff) {
			l.fuse.w13 = tensor.Pack(tensor.GLURows(l.W1.W, l.W3.W, ff, d), 2*ff, d)
		}
	}
	return l.fuse
}

// stackedQKV returns the layer's [Wq; Wk; Wv] rows, (Dim+2·KVDim)×Dim,
// the input of its fused QKV projection.
func (l *Layer) stackedQKV() []float32 {
	return slices.Concat(l.Wq.W, l.Wk.W, l.Wv.W)
}

// lowLayer holds a draft layer's products in bfloat16 (the draft's input
// projection and the target's head, which the draft's logits use,
// included). fcEmb, where the kernel can split a product's inputs
// (tensor.Kernel.SplitBF16OK), holds the token-embedding half of the
// input projection for every token (Vocab×Dim: e(t)·W_fc,embᵀ, the
// partial sums of fc over its first Dim inputs), so that a one-row pass
// computes only the feature half and gets the bits of the whole product.
type lowLayer struct {
	fc, qkv, wo, w13, w2, head *tensor.PackedBF16
	fcEmb                      []float32
}

// lowFor returns the layer's bfloat16 products, or nil where they do not
// apply (not built, or no SIMD kernel). Every draft pass takes them:
// the one- and two-row products are bound by the memory traffic that
// bfloat16 halves, and the wider ones by arithmetic, where the bfloat16
// tile is within a few per cent of the float32 one (BenchmarkBF16vsF32)
// while the draft's working set, beside the target's 6.4 MB, stays half
// as large (engine bench measured chain:2 and chain:3 a few per cent
// faster than with float32 passes of three rows and more).
//
// On AVX2 (no AVX-512) only the one-row passes take them: the AVX2
// bfloat16 tile has one row (BenchmarkBF16vsF32 on the 6 MB matrix: 62
// best-GFLOP/s against float32's 37 for one row, but 62 against 74 for
// two rows and 65 against 94 for four, where the float32 tiles of two to
// four rows reuse each loaded weight).
func (l *Layer) lowFor(kn tensor.Kernel, rows int) *lowLayer {
	if l.low == nil || !kn.SIMD || (!kn.AVX512 && rows > 1) {
		return nil
	}
	return l.low
}

// UseBF16 makes the draft's passes run on bfloat16 copies of its weights
// (and of the target's head) where the kernel has SIMD (AVX-512 or AVX2), or back on
// float32 when on is false. The draft only proposes
// tokens and the target verifies them in float32, so speculative output
// stays the target's; the draft's acceptance may change slightly.
func (d *Draft) UseBF16(t *Target, on bool) {
	d.Layer.low = nil
	if !on || !t.Kern.SIMD {
		return
	}
	cfg := d.Cfg
	D, kvd, ff := cfg.Dim, cfg.KVDim(), d.FF
	l := d.Layer
	l.low = &lowLayer{
		fc:   tensor.PackBF16(d.FC.W, D, 2*D),
		qkv:  tensor.PackBF16(l.stackedQKV(), D+2*kvd, D),
		wo:   tensor.PackBF16(l.Wo.W, D, D),
		w2:   tensor.PackBF16(l.W2.W, D, ff),
		head: tensor.PackBF16(t.Head.W, cfg.Vocab, D),
	}
	if tensor.GLUOK(ff) {
		l.low.w13 = tensor.PackBF16(tensor.GLURows(l.W1.W, l.W3.W, ff, D), 2*ff, D)
	}
	if kn := t.Kern; kn.SplitBF16OK() && D%2 == 0 {
		V := cfg.Vocab
		l.low.fcEmb = make([]float32, V*D)
		for v := 0; v < V; v++ {
			kn.MatMulBF16Inputs(l.low.fcEmb[v*D:(v+1)*D], t.Embed.W[v*D:(v+1)*D], l.low.fc, 0, D, false)
		}
	}
}

// Invalidate drops every packed copy of the target's weights after they
// changed.
func (t *Target) Invalidate() {
	for _, p := range t.Params() {
		p.Invalidate()
	}
	for _, l := range t.Layers {
		l.fuse = nil
	}
}

// Invalidate drops every packed copy of the draft's weights.
func (d *Draft) Invalidate() {
	for _, p := range d.Params() {
		p.Invalidate()
	}
	d.Layer.fuse, d.Layer.low = nil, nil
}

// Prepare packs every matrix for the inference kernel now rather than on
// first use, so that the first generation's timing excludes the packing.
func (t *Target) Prepare() {
	if !t.Kern.SIMD {
		return
	}
	for _, l := range t.Layers {
		l.fused(t.Kern)
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
	d.Layer.fused(t.Kern)
	for _, p := range d.Params() {
		if len(p.Shape) == 2 && tensor.PackOK(p.Shape[0]) {
			p.pack()
		}
	}
}
