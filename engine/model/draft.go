package model

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/scaleacross/scaleacross/engine/tensor"
)

// Draft is the EAGLE draft head (Li et al., arXiv 2401.15077): at
// position j it reads the target's feature f_j (the last layer's output)
// and the embedding of the next token t_{j+1}, projects the concatenation
// [e(t_{j+1}); f_j] from 2·Dim to Dim, runs one decoder layer and outputs
// its estimate of the next feature f_{j+1}. Token probabilities come from
// the target's frozen final norm and LM head applied to that estimate.
//
// Its layer has the target's width, heads and KV heads, and its own
// SwiGLU width FF, which may be narrower than the target's: the MLP is
// most of a draft pass's multiply-adds at the target's width.
type Draft struct {
	// Cfg is the shape of the target the draft was built for.
	Cfg Config
	// FF is the draft layer's SwiGLU hidden width.
	FF    int
	FC    *Param // Dim × 2·Dim
	Layer *Layer
}

// NewDraft returns a draft head for targets of shape cfg with a SwiGLU
// hidden width of ff (0: the target's cfg.FF), initialised from rng like
// the target.
func NewDraft(cfg Config, ff int, rng *rand.Rand) (*Draft, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ff == 0 {
		ff = cfg.FF
	}
	lc := cfg
	lc.FF = ff
	if err := lc.Validate(); err != nil {
		return nil, fmt.Errorf("draft: %w", err)
	}
	d := &Draft{Cfg: cfg, FF: ff, FC: newParam("draft.fc", cfg.Dim, 2*cfg.Dim), Layer: newLayer(lc, "draft.layer.")}
	if rng != nil {
		for _, p := range d.Params() {
			initParam(p, rng, 0.02, 0.02/math.Sqrt2)
		}
	}
	return d, nil
}

// Params lists the draft's tensors in file order.
func (d *Draft) Params() []*Param { return append([]*Param{d.FC}, d.Layer.Params()...) }

// DraftLossWeights are EAGLE's loss weights: feature regression (smooth
// L1) plus 0.1 times the token cross-entropy.
const (
	regWeight = 1.0
	clsWeight = 0.1
)

// DraftLoss is the loss of the draft on one sequence whose target
// features feat (T×Dim) and logits (T×Vocab) were computed by
// Target.Features. Position j (0..T-2) predicts feature f_{j+1} from
// [e(t_{j+1}); f_j], and its token distribution is scored against the
// target's own distribution at j+1 (soft cross-entropy). It returns the
// regression loss, the classification loss and the top-1 agreement with
// the target, and with grad accumulates the gradient of
// regWeight·reg + clsWeight·cls into the draft's G.
func (d *Draft) DraftLoss(tgt *Target, tokens []int, feat, logits []float32, grad bool) (reg, cls, agree float64, err error) {
	c := d.Cfg
	T, D, V := len(tokens), c.Dim, c.Vocab
	if T < 2 || len(feat) != T*D || len(logits) != T*V {
		return 0, 0, 0, fmt.Errorf("draft loss: %d tokens with %d features and %d logits", T, len(feat), len(logits))
	}
	n := T - 1
	in := make([]float32, n*2*D)
	for j := 0; j < n; j++ {
		tok := tokens[j+1]
		copy(in[j*2*D:j*2*D+D], tgt.Embed.W[tok*D:tok*D+D])
		copy(in[j*2*D+D:j*2*D+2*D], feat[j*D:j*D+D])
	}
	x := make([]float32, n*D)
	linear(tgt.Kern, x, in, d.FC, n)
	g, acts := d.Layer.forwardTrain(tgt.Kern, x, n)
	xn, inv := make([]float32, n*D), make([]float32, n)
	rmsNorm(xn, g, tgt.FinalNorm.W, n, D, inv)
	dl := make([]float32, n*V)
	linear(tgt.Kern, dl, xn, tgt.Head, n)
	dg := make([]float32, n*D)
	for j := 0; j < n; j++ {
		// Regression on the next feature.
		for i := 0; i < D; i++ {
			e := g[j*D+i] - feat[(j+1)*D+i]
			ae := math.Abs(float64(e))
			if ae < 1 {
				reg += 0.5 * ae * ae
				dg[j*D+i] = e
			} else {
				reg += ae - 0.5
				dg[j*D+i] = float32(math.Copysign(1, float64(e)))
			}
			dg[j*D+i] *= regWeight / float32(n*D)
		}
		// Soft cross-entropy against the target's distribution at j+1.
		p := softmax(logits[(j+1)*V : (j+1)*V+V])
		z := dl[j*V : j*V+V]
		q := softmax(z)
		var h float64
		for i := range p {
			h -= float64(p[i]) * math.Log(math.Max(float64(q[i]), 1e-30))
		}
		cls += h
		if tensor.Argmax(p) == tensor.Argmax(q) {
			agree++
		}
		for i := range z {
			z[i] = (q[i] - p[i]) * clsWeight / float32(n)
		}
	}
	reg /= float64(n * D)
	cls /= float64(n)
	agree /= float64(n)
	if !grad {
		return reg, cls, agree, nil
	}
	// Through the frozen head and final norm into g.
	hT := make([]float32, D*V)
	tensor.Transpose(hT, tgt.Head.W, V, D)
	dxn := make([]float32, n*D)
	tgt.Kern.MatMulT(dxn, dl, hT, n, V, D)
	scratch := make([]float32, D)
	rmsNormBack(dg, scratch, dxn, g, tgt.FinalNorm.W, inv, n, D)
	dx := d.Layer.backward(tgt.Kern, dg, acts)
	linearBack(tgt.Kern, nil, dx, in, d.FC, n)
	return reg, cls, agree, nil
}

// softmax returns the normalised exponentials of z.
func softmax(z []float32) []float32 {
	mx := z[0]
	for _, v := range z {
		mx = max(mx, v)
	}
	out := make([]float32, len(z))
	var s float64
	for i, v := range z {
		e := math.Exp(float64(v - mx))
		out[i] = float32(e)
		s += e
	}
	for i := range out {
		out[i] = float32(float64(out[i]) / s)
	}
	return out
}
