package model

import "slices"

// Component is one line of a parameter breakdown.
type Component struct {
	Name   string `json:"name"`
	Total  int64  `json:"total"`
	Active int64  `json:"active"`
}

func (m *Model) mlpMatrices() int64 {
	if m.Act.Gated() {
		return 3
	}
	return 2
}

// attentionBias reports whether the attention projections carry biases.
func (m *Model) attentionBias() bool { return m.Bias || m.AttentionBias }

// mlpBias reports whether MLP, expert and router projections carry biases.
func (m *Model) mlpBias() bool { return m.Bias || m.MLPBias }

// normBias reports whether the norms carry biases (LayerNorm, not RMSNorm).
func (m *Model) normBias() bool { return m.Bias || m.NormBias }

// AttentionParams is the parameter count of one attention block,
// projections and their biases, without the norm.
func (m *Model) AttentionParams() int64 {
	h := int64(m.Hidden)
	heads := int64(m.Heads)
	if a := m.MLA; a != nil {
		qk := int64(a.QKNopeHeadDim + a.QKRopeHeadDim)
		var q int64
		if a.QLoRARank > 0 {
			r := int64(a.QLoRARank)
			q = h*r + r + r*heads*qk // down, its norm, up
		} else {
			q = h * heads * qk
		}
		kvr := int64(a.KVLoRARank)
		kv := h*(kvr+int64(a.QKRopeHeadDim)) + kvr + kvr*heads*int64(a.QKNopeHeadDim+a.VHeadDim)
		o := heads * int64(a.VHeadDim) * h
		return q + kv + o
	}
	hd := int64(m.HeadDim)
	q := h * heads * hd
	kv := 2 * h * int64(m.KVHeads) * hd
	o := heads * hd * h
	p := q + kv + o
	if m.attentionBias() {
		p += heads*hd + 2*int64(m.KVHeads)*hd + h
	}
	if m.AttentionSinks {
		p += heads
	}
	return p
}

// mlpParams is the parameter count of one MLP of intermediate size ffn.
func (m *Model) mlpParams(ffn int) int64 {
	h, f := int64(m.Hidden), int64(ffn)
	p := m.mlpMatrices() * h * f
	if m.mlpBias() {
		p += f + h
		if m.Act.Gated() {
			p += f
		}
	}
	return p
}

// DenseMLPParams is the parameter count of one dense MLP block.
func (m *Model) DenseMLPParams() int64 { return m.mlpParams(m.FFN) }

// ExpertParams is the parameter count of one routed expert.
func (m *Model) ExpertParams() int64 {
	if m.MoE == nil {
		return 0
	}
	return m.mlpParams(m.MoE.ExpertFFN)
}

// SharedExpertParams is the parameter count of all shared experts of one MoE layer.
func (m *Model) SharedExpertParams() int64 {
	if m.MoE == nil || m.MoE.SharedExperts == 0 {
		return 0
	}
	return int64(m.MoE.SharedExperts) * m.mlpParams(m.MoE.SharedFFN)
}

// RouterParams is the parameter count of one MoE router.
func (m *Model) RouterParams() int64 {
	if m.MoE == nil {
		return 0
	}
	p := int64(m.Hidden) * int64(m.MoE.Experts)
	if m.mlpBias() {
		p += int64(m.MoE.Experts)
	}
	return p
}

// NormParams is the parameter count of the norms of one layer: the two
// pre-norms and, with QKNorm, the per-head query and key norms.
func (m *Model) NormParams() int64 {
	n := 2 * int64(m.Hidden)
	if m.normBias() {
		n *= 2
	}
	if m.QKNorm {
		qk, _ := m.qkvDims()
		n += 2 * int64(qk)
	}
	return n
}

// EmbeddingParams counts the input token (and learned position) embeddings.
func (m *Model) EmbeddingParams() int64 {
	return int64(m.Vocab)*int64(m.Hidden) + int64(m.LearnedPositions)*int64(m.Hidden)
}

// HeadParams counts the output projection (0 when tied) and the final norm.
func (m *Model) HeadParams() int64 {
	norm := m.finalNormParams()
	if m.TiedEmbeddings {
		return norm
	}
	return int64(m.Vocab)*int64(m.Hidden) + norm
}

// finalNormParams counts the norm before the output projection.
func (m *Model) finalNormParams() int64 {
	if m.normBias() {
		return 2 * int64(m.Hidden)
	}
	return int64(m.Hidden)
}

// Breakdown lists the parameters by component, total and active per token.
func (m *Model) Breakdown() []Component {
	var buf [maxComponents]Component
	return slices.Clone(m.breakdownInto(&buf))
}

// maxComponents is the most components breakdownInto lists.
const maxComponents = 8

// breakdownInto is Breakdown in buf, so that the sums over it (TotalParams,
// ActiveParams, which FLOPsPerToken calls for every evaluation) allocate
// nothing.
func (m *Model) breakdownInto(buf *[maxComponents]Component) []Component {
	L := int64(m.Layers)
	moeL := int64(m.MoELayers())
	denseL := L - moeL
	out := append(buf[:0],
		Component{Name: "embedding", Total: m.EmbeddingParams(), Active: m.EmbeddingParams()},
		Component{Name: "attention", Total: L * m.AttentionParams(), Active: L * m.AttentionParams()},
		Component{Name: "norms", Total: L * m.NormParams(), Active: L * m.NormParams()},
	)
	if denseL > 0 {
		out = append(out, Component{Name: "dense_mlp", Total: denseL * m.DenseMLPParams(), Active: denseL * m.DenseMLPParams()})
	}
	if e := m.MoE; e != nil && moeL > 0 {
		out = append(out,
			Component{Name: "router", Total: moeL * m.RouterParams(), Active: moeL * m.RouterParams()},
			Component{Name: "routed_experts", Total: moeL * int64(e.Experts) * m.ExpertParams(), Active: moeL * int64(e.TopK) * m.ExpertParams()},
		)
		if e.SharedExperts > 0 {
			out = append(out, Component{Name: "shared_experts", Total: moeL * m.SharedExpertParams(), Active: moeL * m.SharedExpertParams()})
		}
	}
	out = append(out, Component{Name: "head", Total: m.HeadParams(), Active: m.HeadParams()})
	return out
}

// TotalParams is the number of parameters stored.
func (m *Model) TotalParams() int64 {
	var t int64
	var buf [maxComponents]Component
	for _, c := range m.breakdownInto(&buf) {
		t += c.Total
	}
	return t
}

// ActiveParams is the number of parameters a token touches, counting the
// input embedding and output head as published model cards do.
func (m *Model) ActiveParams() int64 {
	var t int64
	var buf [maxComponents]Component
	for _, c := range m.breakdownInto(&buf) {
		t += c.Active
	}
	return t
}

// MatmulParamsPerToken is the number of weights a token multiplies through:
// the active parameters without the embedding lookups (a table lookup costs
// no FLOPs) and the norms, with the biases' negligible share kept in. With
// tied embeddings the output projection reuses the embedding matrix, which
// is stored once but still multiplied through, so it is counted here.
func (m *Model) MatmulParamsPerToken() int64 {
	p := m.ActiveParams() - m.EmbeddingParams() - int64(m.Layers)*m.NormParams() - m.finalNormParams()
	if m.TiedEmbeddings {
		p += int64(m.Vocab) * int64(m.Hidden)
	}
	return p
}

// AttendedLength is the mean number of keys a query attends in layer i for
// causal training or prefill over seq tokens.
func (m *Model) AttendedLength(i, seq int) float64 {
	s := float64(seq)
	if !m.IsLocalAttentionLayer(i) || m.AttentionChunk >= seq {
		return s / 2
	}
	c := float64(m.AttentionChunk)
	if m.SlidingWindow {
		// Positions below the window attend all earlier tokens, the rest exactly c.
		return c - c*c/(2*s)
	}
	return c / 2
}

// qkvDims returns the per-head query/key width and value width.
func (m *Model) qkvDims() (qk, v int) {
	if a := m.MLA; a != nil {
		return a.QKNopeHeadDim + a.QKRopeHeadDim, a.VHeadDim
	}
	return m.HeadDim, m.HeadDim
}

// AttentionFLOPsPerToken is the forward FLOPs of the score and value
// products for one token in layer i (2 FLOPs per multiply-add).
func (m *Model) AttentionFLOPsPerToken(i, seq int) float64 {
	qk, v := m.qkvDims()
	return 2 * float64(m.Heads) * float64(qk+v) * m.AttendedLength(i, seq)
}

// FLOPsPerToken is the forward FLOPs per token at sequence length seq:
// 2 per active matmul weight plus causal attention.
func (m *Model) FLOPsPerToken(seq int) float64 {
	f := 2 * float64(m.MatmulParamsPerToken())
	// Attention depends on the layer only through whether it is local:
	// price one layer of each kind and scale by the counts.
	local := m.LocalAttentionLayers()
	firstLocal, firstGlobal := -1, -1
	switch {
	case m.Layers <= 0:
	case local == 0: // every layer attends the full context
		firstGlobal = 0
	case local == m.Layers: // every layer is local
		firstLocal = 0
	default:
		for i := 0; i < m.Layers && (firstLocal < 0 || firstGlobal < 0); i++ {
			if m.IsLocalAttentionLayer(i) {
				if firstLocal < 0 {
					firstLocal = i
				}
			} else if firstGlobal < 0 {
				firstGlobal = i
			}
		}
	}
	if firstLocal >= 0 {
		f += float64(local) * m.AttentionFLOPsPerToken(firstLocal, seq)
	}
	if firstGlobal >= 0 {
		f += float64(m.Layers-local) * m.AttentionFLOPsPerToken(firstGlobal, seq)
	}
	return f
}

// KVElementsPerTokenLayer is the number of cached elements per token in one layer.
func (m *Model) KVElementsPerTokenLayer() int64 {
	if a := m.MLA; a != nil {
		return int64(a.KVLoRARank + a.QKRopeHeadDim)
	}
	return 2 * int64(m.KVHeads) * int64(m.HeadDim)
}

// KVBytesPerToken is the KV-cache size of one token across all layers at
// bytesPerElem, assuming every layer keeps it (the full-context bound).
func (m *Model) KVBytesPerToken(bytesPerElem float64) float64 {
	return float64(m.Layers) * float64(m.KVElementsPerTokenLayer()) * bytesPerElem
}

// KVBytes is the KV cache of one sequence of ctx tokens: local-attention
// layers keep at most AttentionChunk tokens.
func (m *Model) KVBytes(ctx int, bytesPerElem float64) float64 {
	per := float64(m.KVElementsPerTokenLayer()) * bytesPerElem
	var t float64
	for i := 0; i < m.Layers; i++ {
		n := ctx
		if m.IsLocalAttentionLayer(i) && m.AttentionChunk < ctx {
			n = m.AttentionChunk
		}
		t += per * float64(n)
	}
	return t
}

// MTPProjectionParams counts what one multi-token-prediction module adds
// around its decoder layer (DeepSeek-V3 report, arXiv 2412.19437 section
// 2.2): the norms of the hidden state and of the next token's embedding,
// the 2h x h projection of their concatenation, and the module's norm
// before the shared output head. The decoder layer itself counts as one
// layer of the model's last layer's kind.
func (m *Model) MTPProjectionParams() int64 {
	h := int64(m.Hidden)
	return 2*h*h + 2*m.finalNormParams() + m.finalNormParams()
}
