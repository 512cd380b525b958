package model

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/scaleacross/scaleacross/engine/tensor"
)

// Target is the decoder: token embedding, Layers decoder layers, a final
// RMSNorm and the LM head (the embedding itself when Tied).
type Target struct {
	Cfg       Config
	Embed     *Param
	Layers    []*Layer
	FinalNorm *Param
	Head      *Param // == Embed when Cfg.Tied
	// Kern runs the matrix products (SIMD or pure Go, how many
	// goroutines); NewTarget detects the fastest serial kernel.
	Kern tensor.Kernel
}

// NewTarget returns a target of shape cfg with weights drawn from rng
// (normal, standard deviation 0.02, output projections scaled down by the
// depth as in GPT-2; norm gains one).
func NewTarget(cfg Config, rng *rand.Rand) (*Target, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Target{Cfg: cfg, Embed: newParam("embed", cfg.Vocab, cfg.Dim), FinalNorm: newParam("final_norm", cfg.Dim), Kern: tensor.Detect(1)}
	for i := 0; i < cfg.Layers; i++ {
		m.Layers = append(m.Layers, newLayer(cfg, fmt.Sprintf("layer%d.", i)))
	}
	m.Head = m.Embed
	if !cfg.Tied {
		m.Head = newParam("head", cfg.Vocab, cfg.Dim)
	}
	if rng != nil {
		resid := 0.02 / math.Sqrt(2*float64(cfg.Layers))
		for _, p := range m.Params() {
			initParam(p, rng, 0.02, resid)
		}
	}
	return m, nil
}

// initParam fills p: gains one, output projections with std resid, the
// rest with std.
func initParam(p *Param, rng *rand.Rand, std, resid float64) {
	if len(p.Shape) == 1 {
		for i := range p.W {
			p.W[i] = 1
		}
		return
	}
	s := std
	if n := p.Name; len(n) >= 2 && (n[len(n)-2:] == "wo" || n[len(n)-2:] == "w2") {
		s = resid
	}
	for i := range p.W {
		p.W[i] = float32(rng.NormFloat64() * s)
	}
}

// Params lists the target's tensors in file order.
func (m *Target) Params() []*Param {
	ps := []*Param{m.Embed}
	for _, l := range m.Layers {
		ps = append(ps, l.Params()...)
	}
	ps = append(ps, m.FinalNorm)
	if !m.Cfg.Tied {
		ps = append(ps, m.Head)
	}
	return ps
}

// targetActs is what the target's training forward pass keeps.
type targetActs struct {
	tokens []int
	layers []*layerActs
	feat   []float32 // last layer output (the EAGLE feature), T×d
	xn     []float32
	inv    []float32
	logits []float32
}

// forwardTrain runs the T tokens causally and returns the activations.
func (m *Target) forwardTrain(tokens []int) *targetActs {
	c := m.Cfg
	T, d := len(tokens), c.Dim
	x := make([]float32, T*d)
	for t, tok := range tokens {
		copy(x[t*d:t*d+d], m.Embed.W[tok*d:tok*d+d])
	}
	s := &targetActs{tokens: tokens}
	for _, l := range m.Layers {
		var a *layerActs
		x, a = l.forwardTrain(m.Kern, x, T)
		s.layers = append(s.layers, a)
	}
	s.feat = x
	s.xn, s.inv = make([]float32, T*d), make([]float32, T)
	rmsNorm(s.xn, x, m.FinalNorm.W, T, d, s.inv)
	s.logits = make([]float32, T*c.Vocab)
	linear(m.Kern, s.logits, s.xn, m.Head, T)
	return s
}

// Features runs the tokens causally from position 0 and returns the
// last layer's output for each (T×Dim), the feature EAGLE drafts from,
// and the logits (T×Vocab).
func (m *Target) Features(tokens []int) (feat, logits []float32, err error) {
	if err := m.checkTokens(tokens); err != nil {
		return nil, nil, err
	}
	s := m.forwardTrain(tokens)
	return s.feat, s.logits, nil
}

func (m *Target) checkTokens(tokens []int) error {
	if len(tokens) == 0 || len(tokens) > m.Cfg.Context {
		return fmt.Errorf("sequence of %d tokens; want 1..%d (the context)", len(tokens), m.Cfg.Context)
	}
	for i, t := range tokens {
		if t < 0 || t >= m.Cfg.Vocab {
			return fmt.Errorf("token %d at position %d outside the vocabulary of %d", t, i, m.Cfg.Vocab)
		}
	}
	return nil
}

// Loss returns the mean next-token cross-entropy (nats) of the sequence
// (predicting tokens[1:] from tokens[:len-1]) and, when grad is true,
// accumulates the gradient of that mean into the parameters' G.
func (m *Target) Loss(tokens []int, grad bool) (float64, error) {
	if len(tokens) < 2 {
		return 0, fmt.Errorf("loss needs at least 2 tokens, got %d", len(tokens))
	}
	in := tokens[:len(tokens)-1]
	if err := m.checkTokens(in); err != nil {
		return 0, err
	}
	s := m.forwardTrain(in)
	T, V := len(in), m.Cfg.Vocab
	dlogits := make([]float32, T*V)
	var loss float64
	for t := 0; t < T; t++ {
		want := tokens[t+1]
		if want < 0 || want >= V {
			return 0, fmt.Errorf("token %d at position %d outside the vocabulary of %d", want, t+1, V)
		}
		loss += softmaxCE(dlogits[t*V:t*V+V], s.logits[t*V:t*V+V], want, 1/float32(T))
	}
	if grad {
		m.backward(s, dlogits, nil)
	}
	return loss / float64(T), nil
}

// softmaxCE writes scale·(softmax(z) - onehot(want)) into dz and returns
// -log softmax(z)[want].
func softmaxCE(dz, z []float32, want int, scale float32) float64 {
	mx := z[0]
	for _, v := range z {
		mx = max(mx, v)
	}
	var sum float64
	for i, v := range z {
		e := math.Exp(float64(v - mx))
		dz[i] = float32(e)
		sum += e
	}
	for i := range dz {
		dz[i] = float32(float64(dz[i])/sum) * scale
	}
	dz[want] -= scale
	return -(float64(z[want]-mx) - math.Log(sum))
}

// backward propagates dlogits (and, if not nil, an extra gradient dfeat on
// the features) through the whole target.
func (m *Target) backward(s *targetActs, dlogits, dfeat []float32) {
	c := m.Cfg
	T, d := len(s.tokens), c.Dim
	dxn := make([]float32, T*d)
	linearBack(m.Kern, dxn, dlogits, s.xn, m.Head, T)
	dx := make([]float32, T*d)
	if dfeat != nil {
		copy(dx, dfeat)
	}
	rmsNormBack(dx, m.FinalNorm.G, dxn, s.feat, m.FinalNorm.W, s.inv, T, d)
	for i := len(m.Layers) - 1; i >= 0; i-- {
		dx = m.Layers[i].backward(m.Kern, dx, s.layers[i])
	}
	for t, tok := range s.tokens {
		g := m.Embed.G[tok*d : tok*d+d]
		for i, v := range dx[t*d : t*d+d] {
			g[i] += v
		}
	}
}
