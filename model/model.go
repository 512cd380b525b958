package model

import "fmt"

// Activation names the MLP non-linearity, which fixes how many weight
// matrices an MLP block has.
type Activation string

// Activations known to the counter.
const (
	// SwiGLU has gate, up and down projections (3 matrices).
	SwiGLU Activation = "swiglu"
	// GeLU is the classic GPT MLP with up and down projections (2 matrices).
	GeLU Activation = "gelu"
	// ReLU2 is the squared-ReLU MLP of Nemotron-4 (arXiv 2402.16819): up and
	// down projections only (2 matrices), like GeLU.
	ReLU2 Activation = "relu2"
	// GeGLU is the gated GELU MLP (Shazeer 2020, arXiv 2002.05202) of Grok-1
	// and NeMo's "fast-geglu": gate, up and down projections (3 matrices),
	// like SwiGLU with GELU in place of SiLU.
	GeGLU Activation = "geglu"
)

// Gated reports whether the MLP multiplies a gate projection into the up
// projection (SwiGLU, GeGLU): three weight matrices, and two intermediate
// tensors to keep for backward instead of one.
func (a Activation) Gated() bool { return a == SwiGLU || a == GeGLU }

// MLA describes DeepSeek's multi-head latent attention (arXiv 2405.04434):
// queries and keys/values pass through low-rank projections, and only the
// compressed latent plus a shared RoPE key are cached.
type MLA struct {
	QLoRARank     int `json:"q_lora_rank"`
	KVLoRARank    int `json:"kv_lora_rank"`
	QKNopeHeadDim int `json:"qk_nope_head_dim"`
	QKRopeHeadDim int `json:"qk_rope_head_dim"`
	VHeadDim      int `json:"v_head_dim"`
}

// MoE describes the mixture-of-experts blocks of a model.
type MoE struct {
	// Experts is the number of routed experts per MoE layer.
	Experts int `json:"experts"`
	// TopK is how many routed experts each token visits.
	TopK int `json:"top_k"`
	// ExpertFFN is the intermediate size of one routed expert.
	ExpertFFN int `json:"expert_ffn"`
	// SharedExperts is the number of always-active shared experts per MoE layer.
	SharedExperts int `json:"shared_experts"`
	// SharedFFN is the intermediate size of one shared expert.
	SharedFFN int `json:"shared_ffn"`
	// FirstDense is how many leading layers are dense (DeepSeek-V3: 3).
	FirstDense int `json:"first_dense"`
	// Interval is the spacing of MoE layers after FirstDense: 1 means every
	// layer, 2 means every second layer (layers Interval-1, 2*Interval-1, ...).
	Interval int `json:"interval"`
}

// Model is a decoder-only transformer architecture.
type Model struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Family string `json:"family"`

	Layers  int `json:"layers"`
	Hidden  int `json:"hidden"`
	FFN     int `json:"ffn"` // intermediate size of the dense MLP layers
	Heads   int `json:"heads"`
	KVHeads int `json:"kv_heads"`
	HeadDim int `json:"head_dim"`
	Vocab   int `json:"vocab"`

	Act            Activation `json:"activation"`
	TiedEmbeddings bool       `json:"tied_embeddings"`
	// Bias is true when linear layers and norms carry biases (GPT-2/3 style).
	Bias bool `json:"bias"`
	// AttentionBias is true when the q, k, v and output projections carry
	// biases although the norms do not (GPT-OSS). Implied by Bias.
	AttentionBias bool `json:"attention_bias,omitempty"`
	// MLPBias is true when the MLP, expert and router projections carry
	// biases although the norms do not (GPT-OSS). Implied by Bias.
	MLPBias bool `json:"mlp_bias,omitempty"`
	// NormBias is true when the layer norms carry a bias although the linear
	// layers do not (Nemotron's LayerNorm). Implied by Bias.
	NormBias bool `json:"norm_bias,omitempty"`
	// QKNorm is true when queries and keys pass a per-head RMSNorm with a
	// learned weight of head_dim each (Qwen3). Llama 4's weightless L2
	// qk-norm has no parameters and leaves this false.
	QKNorm bool `json:"qk_norm,omitempty"`
	// AttentionSinks is true when every head learns one sink logit (GPT-OSS).
	AttentionSinks bool `json:"attention_sinks,omitempty"`
	// LearnedPositions is the size of a learned position-embedding table (GPT), 0 if none.
	LearnedPositions int `json:"learned_positions,omitempty"`

	MLA *MLA `json:"mla,omitempty"`
	MoE *MoE `json:"moe,omitempty"`

	// AttentionChunk is the chunk (or sliding-window) size of local
	// attention layers; 0 means every layer attends the full context.
	AttentionChunk int `json:"attention_chunk,omitempty"`
	// GlobalInterval, with AttentionChunk, makes every GlobalInterval-th
	// layer (indices GlobalInterval-1, 2*GlobalInterval-1, ...) a global
	// full-context layer (Llama 4 iRoPE NoPE layers: 4; GPT-OSS: 2).
	GlobalInterval int `json:"global_interval,omitempty"`
	// SlidingWindow makes the local layers slide a window of AttentionChunk
	// tokens (GPT-OSS, Mistral) instead of attending fixed chunks (Llama 4).
	SlidingWindow bool `json:"sliding_window,omitempty"`

	MaxContext int `json:"max_context,omitempty"`

	// MTPLayers is the number of multi-token-prediction modules trained
	// with the model (DeepSeek-V3: 1, arXiv 2412.19437 section 2.2;
	// Megatron-Core --mtp-num-layers). Each is one decoder layer of the
	// model's last layer's kind behind a projection of the concatenated
	// normalised hidden state and next-token embedding (2h x h), sharing
	// the embedding and the output head with the main model. Its
	// parameters are not part of Params (published totals leave them out).
	MTPLayers int `json:"mtp_layers,omitempty"`

	// Source names where the dimensions come from.
	Source string `json:"source"`
	// Assumptions lists every dimension that is not published and was derived.
	Assumptions []string `json:"assumptions,omitempty"`
	// Notes are caveats on comparing the counts with published figures
	// (what a published total includes or leaves out).
	Notes []string `json:"notes,omitempty"`
	// PublishedTotal and PublishedActive are the parameter counts the
	// authors state (0 when none), for checking the counter.
	PublishedTotal  float64 `json:"published_total_params,omitempty"`
	PublishedActive float64 `json:"published_active_params,omitempty"`
}

// IsMoELayer reports whether layer i (0-based) holds a mixture-of-experts block.
func (m *Model) IsMoELayer(i int) bool {
	if m.MoE == nil || i < m.MoE.FirstDense {
		return false
	}
	iv := m.MoE.Interval
	if iv <= 1 {
		return true
	}
	return (i-m.MoE.FirstDense)%iv == iv-1
}

// IsLocalAttentionLayer reports whether layer i attends only a local chunk.
func (m *Model) IsLocalAttentionLayer(i int) bool {
	if m.AttentionChunk <= 0 {
		return false
	}
	if m.GlobalInterval <= 0 {
		return true
	}
	return i%m.GlobalInterval != m.GlobalInterval-1
}

// MoELayers counts the layers with a mixture-of-experts block.
func (m *Model) MoELayers() int {
	if m.MoE == nil {
		return 0 // IsMoELayer holds for none
	}
	n := 0
	for i := 0; i < m.Layers; i++ {
		if m.IsMoELayer(i) {
			n++
		}
	}
	return n
}

// LocalAttentionLayers counts the layers with chunked or windowed attention.
func (m *Model) LocalAttentionLayers() int {
	if m.AttentionChunk <= 0 {
		return 0 // IsLocalAttentionLayer holds for none
	}
	n := 0
	for i := 0; i < m.Layers; i++ {
		if m.IsLocalAttentionLayer(i) {
			n++
		}
	}
	return n
}

// Validate checks the architecture for internal consistency.
func (m *Model) Validate() error {
	pos := []struct {
		name string
		v    int
	}{
		{"layers", m.Layers}, {"hidden", m.Hidden}, {"heads", m.Heads},
		{"kv_heads", m.KVHeads}, {"head_dim", m.HeadDim}, {"vocab", m.Vocab},
	}
	for _, p := range pos {
		if p.v <= 0 {
			return fmt.Errorf("model %s: %s must be positive, got %d", m.ID, p.name, p.v)
		}
	}
	if m.Heads%m.KVHeads != 0 {
		return fmt.Errorf("model %s: heads (%d) must be a multiple of kv_heads (%d)", m.ID, m.Heads, m.KVHeads)
	}
	if m.Act != SwiGLU && m.Act != GeLU && m.Act != ReLU2 && m.Act != GeGLU {
		return fmt.Errorf("model %s: activation %q unknown (want swiglu, geglu, gelu or relu2)", m.ID, m.Act)
	}
	nonNeg := []struct {
		name string
		v    int
	}{
		{"attention_chunk", m.AttentionChunk}, {"global_interval", m.GlobalInterval},
		{"max_context", m.MaxContext}, {"learned_positions", m.LearnedPositions},
		{"mtp_layers", m.MTPLayers},
	}
	for _, p := range nonNeg {
		if p.v < 0 {
			return fmt.Errorf("model %s: %s must not be negative, got %d", m.ID, p.name, p.v)
		}
	}
	denseLayers := m.Layers - m.MoELayers()
	if denseLayers > 0 && m.FFN <= 0 {
		return fmt.Errorf("model %s: ffn must be positive for its %d dense layers", m.ID, denseLayers)
	}
	if e := m.MoE; e != nil {
		if e.Experts <= 0 || e.TopK <= 0 || e.TopK > e.Experts || e.ExpertFFN <= 0 {
			return fmt.Errorf("model %s: moe needs experts > 0, 0 < top_k <= experts and expert_ffn > 0", m.ID)
		}
		if e.SharedExperts < 0 || (e.SharedExperts > 0 && e.SharedFFN <= 0) {
			return fmt.Errorf("model %s: moe shared_experts needs a positive shared_ffn", m.ID)
		}
		if e.FirstDense < 0 || e.FirstDense > m.Layers {
			return fmt.Errorf("model %s: moe first_dense must lie in [0, layers]", m.ID)
		}
		if e.Interval < 0 {
			return fmt.Errorf("model %s: moe interval must not be negative, got %d", m.ID, e.Interval)
		}
	}
	if a := m.MLA; a != nil {
		if a.QLoRARank < 0 || a.KVLoRARank <= 0 || a.QKNopeHeadDim <= 0 || a.QKRopeHeadDim <= 0 || a.VHeadDim <= 0 {
			return fmt.Errorf("model %s: mla needs positive kv_lora_rank and head dims", m.ID)
		}
	}
	return nil
}
