package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/scaleacross/scaleacross/fault"
)

// ConfigError is a problem with a Hugging Face config.json: malformed JSON,
// an unsupported model_type, or a missing or invalid field. It exits with
// code 2 (bad input).
type ConfigError struct {
	// Field is the offending key, dotted for nested objects
	// ("text_config.hidden_size"); empty for whole-file problems.
	Field string
	// Msg says what is wrong and how to fix it.
	Msg string
}

func (e *ConfigError) Error() string {
	if e.Field == "" {
		return "config.json: " + e.Msg
	}
	return fmt.Sprintf("config.json field %s: %s", e.Field, e.Msg)
}

// Is reports the error as bad input (fault.ErrBadInput).
func (e *ConfigError) Is(target error) bool { return target == fault.ErrBadInput }

// hfModelTypes lists the Hugging Face model_type values ImportHF understands.
const hfModelTypes = "deepseek_v3, gemma, gemma2, gpt_oss, llama, llama4, llama4_text, mistral, mixtral, qwen2, qwen3, qwen3_moe"

// Upper bounds on imported dimensions. They lie far above any published
// model and keep every parameter count well inside int64.
const (
	maxLayers   = 2048
	maxHidden   = 1 << 17
	maxFFN      = 1 << 20
	maxHeads    = 4096
	maxHeadDim  = 4096
	maxExperts  = 4096
	maxShared   = 64
	maxVocab    = 1 << 24
	maxLoRARank = 1 << 16
	maxContext  = 1 << 30
)

// ImportHF builds a Model from the text of a Hugging Face config.json. It
// understands model_type llama, mistral, qwen2, qwen3, gemma and gemma2
// (dense), llama4 (and llama4_text), mixtral, qwen3_moe, deepseek_v3 and
// gpt_oss. id becomes the model's ID. Any
// problem is a *ConfigError naming the field.
func ImportHF(data []byte, id string) (*Model, error) {
	if len(data) > MaxConfigBytes {
		return nil, &ConfigError{Msg: fmt.Sprintf("%d bytes, over the %d-byte limit", len(data), MaxConfigBytes)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		return nil, &ConfigError{Msg: fmt.Sprintf("not a JSON object: %v", err)}
	}
	if top == nil {
		return nil, &ConfigError{Msg: "not a JSON object: got null"}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &ConfigError{Msg: "trailing data after the JSON object"}
	}
	root := hfObject{m: top}
	mt, err := root.str("model_type")
	if err != nil {
		return nil, err
	}
	if mt == "" {
		return nil, &ConfigError{Field: "model_type", Msg: fmt.Sprintf("missing; want one of %s", hfModelTypes)}
	}
	var m *Model
	switch mt {
	case "llama":
		m, err = importLlama(root)
	case "llama4", "llama4_text":
		m, err = importLlama4(root)
	case "mixtral":
		m, err = importMixtral(root)
	case "mistral":
		m, err = importMistral(root)
	case "qwen2":
		m, err = importQwen2(root)
	case "qwen3":
		m, err = importQwen3(root)
	case "gemma", "gemma2":
		m, err = importGemma(root, mt == "gemma2")
	case "qwen3_moe":
		m, err = importQwen3MoE(root)
	case "deepseek_v3":
		m, err = importDeepSeekV3(root)
	case "gpt_oss":
		m, err = importGPTOSS(root)
	default:
		return nil, &ConfigError{Field: "model_type", Msg: fmt.Sprintf("%q is not supported; want one of %s", mt, hfModelTypes)}
	}
	if err != nil {
		return nil, err
	}
	if id == "" {
		id = mt
	}
	m.ID = id
	m.Family = mt
	if name, _ := root.str("_name_or_path"); name != "" {
		m.Name = name
	} else {
		m.Name = fmt.Sprintf("%s (imported)", mt)
	}
	m.Source = fmt.Sprintf("Hugging Face config.json (model_type %s) imported from %s", mt, id)
	if err := m.Validate(); err != nil {
		return nil, &ConfigError{Msg: fmt.Sprintf("inconsistent architecture: %v", err)}
	}
	return m, nil
}

// importCommon reads the fields every decoder-only config shares and
// checks that the MLP is SwiGLU.
func importCommon(o hfObject) (*Model, error) {
	m, err := importDims(o)
	if err != nil {
		return nil, err
	}
	m.Act = SwiGLU
	if err := o.gatedActivation(); err != nil {
		return nil, err
	}
	return m, nil
}

// importDims reads the dimensions every decoder-only config shares,
// leaving the activation to the caller.
func importDims(o hfObject) (*Model, error) {
	m := &Model{}
	var err error
	if err := o.ints(
		need("hidden_size", &m.Hidden, maxHidden),
		need("num_hidden_layers", &m.Layers, maxLayers),
		need("num_attention_heads", &m.Heads, maxHeads),
	); err != nil {
		return nil, err
	}
	if m.KVHeads, err = o.optionalPositive("num_key_value_heads", m.Heads, maxHeads); err != nil {
		return nil, err
	}
	if m.Heads%m.KVHeads != 0 {
		return nil, o.errorf("num_key_value_heads", "%d does not divide num_attention_heads %d", m.KVHeads, m.Heads)
	}
	if _, ok := o.m["head_dim"]; !ok && m.Hidden%m.Heads != 0 {
		return nil, o.errorf("head_dim", "missing, and hidden_size %d is not a multiple of num_attention_heads %d", m.Hidden, m.Heads)
	}
	if m.HeadDim, err = o.optionalPositive("head_dim", m.Hidden/m.Heads, maxHeadDim); err != nil {
		return nil, err
	}
	if err := o.ints(
		need("vocab_size", &m.Vocab, maxVocab),
		optNonNeg("max_position_embeddings", &m.MaxContext, 0, maxContext),
	); err != nil {
		return nil, err
	}
	if m.TiedEmbeddings, err = o.boolean("tie_word_embeddings", false); err != nil {
		return nil, err
	}
	return m, nil
}

// importDense reads a dense SwiGLU model with a dense MLP of
// intermediate_size.
func importDense(o hfObject) (*Model, error) {
	m, err := importCommon(o)
	if err != nil {
		return nil, err
	}
	if m.FFN, err = o.required("intermediate_size", maxFFN); err != nil {
		return nil, err
	}
	return m, nil
}

// slidingEverywhere reads a sliding_window that applies to every layer
// (Mistral; Qwen2 and Qwen3 only when use_sliding_window is true): null,
// absent or 0 means full attention.
func slidingEverywhere(o hfObject, m *Model) error {
	w, err := o.optionalNonNegative("sliding_window", 0, maxContext)
	if err != nil {
		return err
	}
	if w > 0 && (m.MaxContext == 0 || w < m.MaxContext) {
		m.AttentionChunk, m.SlidingWindow = w, true
	}
	return nil
}

// importMistral reads a dense Mistral config (Mistral 7B): Llama's
// layout, with a sliding window on every layer when sliding_window is set
// (v0.1; null in v0.3).
func importMistral(o hfObject) (*Model, error) {
	m, err := importDense(o)
	if err != nil {
		return nil, err
	}
	return m, slidingEverywhere(o, m)
}

// qwenWindow applies Qwen's sliding window, which only counts when
// use_sliding_window is true.
func qwenWindow(o hfObject, m *Model) error {
	sw, err := o.boolean("use_sliding_window", false)
	if err != nil || !sw {
		return err
	}
	if mw, err := o.optionalNonNegative("max_window_layers", m.Layers, maxLayers); err != nil {
		return err
	} else if mw < m.Layers {
		return o.errorf("max_window_layers", "%d of %d layers with a sliding window is not supported; set use_sliding_window to false", mw, m.Layers)
	}
	return slidingEverywhere(o, m)
}

// importQwen2 reads a dense Qwen2 or Qwen2.5 config. Qwen2 has biases on
// the q, k and v projections (not on o_proj, which the counter's
// AttentionBias includes: hidden parameters per layer too many, under
// 0.01% of a 7B model; a note says so).
func importQwen2(o hfObject) (*Model, error) {
	m, err := importDense(o)
	if err != nil {
		return nil, err
	}
	m.AttentionBias = true
	m.Notes = append(m.Notes, "Qwen2 has biases on q, k and v but not on o_proj; the count includes an o_proj bias (hidden parameters per layer)")
	return m, qwenWindow(o, m)
}

// importQwen3 reads a dense Qwen3 config: Llama's layout with a per-head
// RMSNorm on queries and keys.
func importQwen3(o hfObject) (*Model, error) {
	m, err := importDense(o)
	if err != nil {
		return nil, err
	}
	m.QKNorm = true
	if m.AttentionBias, err = o.boolean("attention_bias", false); err != nil {
		return nil, err
	}
	return m, qwenWindow(o, m)
}

// importGemma reads a Gemma or Gemma 2 config: a GeGLU MLP (GELU with the
// tanh approximation), tied embeddings, and for Gemma 2 a sliding window on
// every other layer (layers 0, 2, ... slide; 1, 3, ... attend the full
// context). Gemma 2's extra post-attention and post-MLP norms (2 x hidden
// parameters per layer) and its logit soft-capping are not modelled; a
// note says so.
func importGemma(o hfObject, gemma2 bool) (*Model, error) {
	m, err := importDims(o)
	if err != nil {
		return nil, err
	}
	m.Act = GeGLU
	for _, f := range []string{"hidden_activation", "hidden_act"} {
		act, err := o.str(f)
		if err != nil {
			return nil, err
		}
		switch act {
		case "", "gelu", "gelu_pytorch_tanh", "gelu_new", "gelu_fast":
		default:
			return nil, o.errorf(f, "%q is not supported for Gemma; want gelu_pytorch_tanh (a GeGLU MLP)", act)
		}
	}
	if m.TiedEmbeddings, err = o.boolean("tie_word_embeddings", true); err != nil {
		return nil, err
	}
	if m.FFN, err = o.required("intermediate_size", maxFFN); err != nil {
		return nil, err
	}
	if m.AttentionBias, err = o.boolean("attention_bias", false); err != nil {
		return nil, err
	}
	if gemma2 {
		w, err := o.optionalNonNegative("sliding_window", 4096, maxContext)
		if err != nil {
			return nil, err
		}
		if w > 0 && m.Layers > 1 {
			m.AttentionChunk, m.SlidingWindow, m.GlobalInterval = w, true, 2
		}
		m.Notes = append(m.Notes, "Gemma 2's post-attention and post-MLP norms (2 x hidden parameters per layer) and its logit soft-capping are not modelled")
	}
	return m, nil
}

func importLlama(o hfObject) (*Model, error) {
	m, err := importCommon(o)
	if err != nil {
		return nil, err
	}
	if m.FFN, err = o.required("intermediate_size", maxFFN); err != nil {
		return nil, err
	}
	if m.AttentionBias, err = o.boolean("attention_bias", false); err != nil {
		return nil, err
	}
	if m.MLPBias, err = o.boolean("mlp_bias", false); err != nil {
		return nil, err
	}
	return m, nil
}

// importLlama4 reads a Llama 4 config: the text model sits under
// text_config (model_type llama4) or at the top (llama4_text).
func importLlama4(root hfObject) (*Model, error) {
	o := root
	if _, ok := root.m["text_config"]; ok {
		var err error
		if o, err = root.object("text_config"); err != nil {
			return nil, err
		}
	}
	m, err := importCommon(o)
	if err != nil {
		return nil, err
	}
	if _, ok := o.m["tie_word_embeddings"]; !ok {
		if m.TiedEmbeddings, err = root.boolean("tie_word_embeddings", false); err != nil {
			return nil, err
		}
	}
	e := &MoE{SharedExperts: 1}
	if e.ExpertFFN, err = o.required("intermediate_size", maxFFN); err != nil {
		return nil, err
	}
	e.SharedFFN = e.ExpertFFN
	if err := o.ints(
		need("num_local_experts", &e.Experts, maxExperts),
		opt("num_experts_per_tok", &e.TopK, 1, maxExperts),
		opt("interleave_moe_layer_step", &e.Interval, 1, maxLayers),
	); err != nil {
		return nil, err
	}
	if list, err := o.intList("moe_layers", maxLayers); err != nil {
		return nil, err
	} else if len(list) > 0 {
		if e.Interval, err = everyKth(list, m.Layers); err != nil {
			return nil, o.errorf("moe_layers", "%v; only every k-th layer (k-1, 2k-1, ...) is supported", err)
		}
	}
	m.MoE = e
	if m.MoELayers() < m.Layers {
		if m.FFN, err = o.required("intermediate_size_mlp", maxFFN); err != nil {
			return nil, err
		}
	}
	if m.AttentionChunk, err = o.optionalNonNegative("attention_chunk_size", 8192, maxContext); err != nil {
		return nil, err
	}
	// no_rope_layers[i] is 1 where layer i uses RoPE with chunked attention
	// and 0 where it is a global NoPE layer (transformers Llama4TextConfig).
	flags, err := o.intList("no_rope_layers", 1)
	if err != nil {
		return nil, err
	}
	var global []int
	if len(flags) > 0 {
		if len(flags) != m.Layers {
			return nil, o.errorf("no_rope_layers", "has %d entries for %d layers", len(flags), m.Layers)
		}
		for i, f := range flags {
			if f == 0 {
				global = append(global, i)
			}
		}
	} else {
		iv, err := o.optionalPositive("no_rope_layer_interval", 4, maxLayers)
		if err != nil {
			return nil, err
		}
		for i := iv - 1; i < m.Layers; i += iv {
			global = append(global, i)
		}
	}
	switch {
	case m.AttentionChunk == 0 || len(global) == m.Layers:
		m.AttentionChunk = 0
	case len(global) > 0:
		if m.GlobalInterval, err = everyKth(global, m.Layers); err != nil {
			return nil, o.errorf("no_rope_layers", "global (0) layers %v; only every k-th layer (k-1, 2k-1, ...) is supported", err)
		}
	}
	if m.AttentionBias, err = o.boolean("attention_bias", false); err != nil {
		return nil, err
	}
	return m, nil
}

func importMixtral(o hfObject) (*Model, error) {
	m, err := importCommon(o)
	if err != nil {
		return nil, err
	}
	e := &MoE{Interval: 1}
	if err := o.ints(
		need("intermediate_size", &e.ExpertFFN, maxFFN),
		need("num_local_experts", &e.Experts, maxExperts),
		need("num_experts_per_tok", &e.TopK, maxExperts),
	); err != nil {
		return nil, err
	}
	m.MoE = e
	if m.AttentionChunk, err = o.optionalNonNegative("sliding_window", 0, maxContext); err != nil {
		return nil, err
	}
	m.SlidingWindow = m.AttentionChunk > 0
	return m, nil
}

func importQwen3MoE(o hfObject) (*Model, error) {
	m, err := importCommon(o)
	if err != nil {
		return nil, err
	}
	m.QKNorm = true
	if m.AttentionBias, err = o.boolean("attention_bias", false); err != nil {
		return nil, err
	}
	if sw, err := o.boolean("use_sliding_window", false); err != nil {
		return nil, err
	} else if sw {
		return nil, o.errorf("use_sliding_window", "true is not supported; set it to false")
	}
	e := &MoE{}
	if err := o.ints(
		need("moe_intermediate_size", &e.ExpertFFN, maxFFN),
		need("num_experts", &e.Experts, maxExperts),
		need("num_experts_per_tok", &e.TopK, maxExperts),
		opt("decoder_sparse_step", &e.Interval, 1, maxLayers),
	); err != nil {
		return nil, err
	}
	// Layers listed in mlp_only_layers stay dense; only a leading run
	// 0..k-1 with decoder_sparse_step 1 maps onto FirstDense.
	dense, err := o.intList("mlp_only_layers", maxLayers)
	if err != nil {
		return nil, err
	}
	if len(dense) > 0 {
		sort.Ints(dense)
		for i, l := range dense {
			if l != i {
				return nil, o.errorf("mlp_only_layers", "%v is not a leading run 0..k-1; only leading dense layers are supported", dense)
			}
		}
		if e.Interval != 1 {
			return nil, o.errorf("mlp_only_layers", "leading dense layers together with decoder_sparse_step %d are not supported", e.Interval)
		}
		if len(dense) > m.Layers {
			return nil, o.errorf("mlp_only_layers", "lists %d layers of %d", len(dense), m.Layers)
		}
		e.FirstDense = len(dense)
	}
	m.MoE = e
	if m.MoELayers() < m.Layers {
		if m.FFN, err = o.required("intermediate_size", maxFFN); err != nil {
			return nil, err
		}
	} else if m.FFN, err = o.optionalNonNegative("intermediate_size", 0, maxFFN); err != nil {
		return nil, err
	}
	return m, nil
}

func importDeepSeekV3(o hfObject) (*Model, error) {
	m, err := importCommon(o)
	if err != nil {
		return nil, err
	}
	a := &MLA{}
	if err := o.ints(
		optNonNeg("q_lora_rank", &a.QLoRARank, 0, maxLoRARank),
		need("kv_lora_rank", &a.KVLoRARank, maxLoRARank),
		need("qk_nope_head_dim", &a.QKNopeHeadDim, maxHeadDim),
		need("qk_rope_head_dim", &a.QKRopeHeadDim, maxHeadDim),
		need("v_head_dim", &a.VHeadDim, maxHeadDim),
	); err != nil {
		return nil, err
	}
	m.MLA = a
	// MLA gives every query head its own key and value: no grouping.
	m.KVHeads = m.Heads
	m.HeadDim = a.QKNopeHeadDim + a.QKRopeHeadDim
	e := &MoE{Interval: 1}
	if err := o.ints(
		need("moe_intermediate_size", &e.ExpertFFN, maxFFN),
		need("n_routed_experts", &e.Experts, maxExperts),
		need("num_experts_per_tok", &e.TopK, maxExperts),
		needNonNeg("n_shared_experts", &e.SharedExperts, maxShared),
	); err != nil {
		return nil, err
	}
	e.SharedFFN = e.ExpertFFN
	if e.FirstDense, err = o.requiredNonNegative("first_k_dense_replace", maxLayers); err != nil {
		return nil, err
	}
	if e.FirstDense > m.Layers {
		return nil, o.errorf("first_k_dense_replace", "%d exceeds num_hidden_layers %d", e.FirstDense, m.Layers)
	}
	if freq, err := o.optionalPositive("moe_layer_freq", 1, maxLayers); err != nil {
		return nil, err
	} else if freq != 1 {
		return nil, o.errorf("moe_layer_freq", "%d is not supported; only 1 (every layer after first_k_dense_replace) is", freq)
	}
	m.MoE = e
	if e.FirstDense > 0 {
		if m.FFN, err = o.required("intermediate_size", maxFFN); err != nil {
			return nil, err
		}
	}
	if mtp, err := o.optionalNonNegative("num_nextn_predict_layers", 0, maxLayers); err != nil {
		return nil, err
	} else if mtp > 0 {
		m.MTPLayers = mtp
		m.Notes = append(m.Notes, fmt.Sprintf("the %d multi-token-prediction (MTP) module(s) of the checkpoint are not in the parameter total; training prices them on the stage of the loss", mtp))
	}
	return m, nil
}

func importGPTOSS(o hfObject) (*Model, error) {
	m, err := importCommon(o)
	if err != nil {
		return nil, err
	}
	m.MLPBias, m.AttentionSinks = true, true
	if m.AttentionBias, err = o.boolean("attention_bias", true); err != nil {
		return nil, err
	}
	e := &MoE{Interval: 1}
	if err := o.ints(
		need("intermediate_size", &e.ExpertFFN, maxFFN),
		need("num_local_experts", &e.Experts, maxExperts),
	); err != nil {
		return nil, err
	}
	topKField := "num_experts_per_tok"
	if _, ok := o.m[topKField]; !ok {
		topKField = "experts_per_token"
	}
	if e.TopK, err = o.required(topKField, maxExperts); err != nil {
		return nil, err
	}
	m.MoE = e
	if m.AttentionChunk, err = o.required("sliding_window", maxContext); err != nil {
		return nil, err
	}
	m.SlidingWindow = true
	types, err := o.stringList("layer_types")
	if err != nil {
		return nil, err
	}
	var global []int
	if len(types) == 0 {
		// transformers' GptOssConfig default: sliding, full, sliding, ...
		for i := 1; i < m.Layers; i += 2 {
			global = append(global, i)
		}
	} else {
		if len(types) != m.Layers {
			return nil, o.errorf("layer_types", "has %d entries for %d layers", len(types), m.Layers)
		}
		for i, t := range types {
			switch t {
			case "full_attention":
				global = append(global, i)
			case "sliding_attention":
			default:
				return nil, o.errorf(fmt.Sprintf("layer_types[%d]", i), "%q unknown; want sliding_attention or full_attention", t)
			}
		}
	}
	switch {
	case len(global) == m.Layers:
		m.AttentionChunk, m.SlidingWindow = 0, false
	case len(global) > 0:
		if m.GlobalInterval, err = everyKth(global, m.Layers); err != nil {
			return nil, o.errorf("layer_types", "full_attention layers %v; only every k-th layer (k-1, 2k-1, ...) is supported", err)
		}
	}
	return m, nil
}

// everyKth returns k when layers is exactly k-1, 2k-1, ... below n.
func everyKth(layers []int, n int) (int, error) {
	if len(layers) == 0 {
		return 0, errors.New("empty list")
	}
	k := layers[0] + 1
	if k <= 0 {
		return 0, fmt.Errorf("%v starts below 0", layers)
	}
	want := 0
	for i := k - 1; i < n; i += k {
		if want >= len(layers) || layers[want] != i {
			return 0, fmt.Errorf("%v", layers)
		}
		want++
	}
	if want != len(layers) {
		return 0, fmt.Errorf("%v", layers)
	}
	return k, nil
}

// hfObject is one JSON object of a config, with the dotted path that
// prefixes its field names in errors.
type hfObject struct {
	prefix string
	m      map[string]any
}

func (o hfObject) errorf(field, format string, args ...any) *ConfigError {
	return &ConfigError{Field: o.prefix + field, Msg: fmt.Sprintf(format, args...)}
}

// get returns the value of field and whether it is present and not null.
func (o hfObject) get(field string) (any, bool) {
	v, ok := o.m[field]
	return v, ok && v != nil
}

func (o hfObject) object(field string) (hfObject, error) {
	v, ok := o.get(field)
	sub, isObj := v.(map[string]any)
	if !ok || !isObj {
		return hfObject{}, o.errorf(field, "must be a JSON object")
	}
	return hfObject{prefix: o.prefix + field + ".", m: sub}, nil
}

func (o hfObject) str(field string) (string, error) {
	v, ok := o.get(field)
	if !ok {
		return "", nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", o.errorf(field, "must be a string, got %s", short(v))
	}
	return s, nil
}

func (o hfObject) boolean(field string, def bool) (bool, error) {
	v, ok := o.get(field)
	if !ok {
		return def, nil
	}
	b, isBool := v.(bool)
	if !isBool {
		return false, o.errorf(field, "must be true or false, got %s", short(v))
	}
	return b, nil
}

// short formats a config value for an error, at most 64 bytes of it.
func short(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 64 {
		return s[:61] + "..."
	}
	return s
}

// toInt converts a JSON number holding a whole value to int.
func toInt(v any) (int, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := n.Int64(); err == nil {
		if i < math.MinInt32 || i > math.MaxInt32 {
			return 0, false
		}
		return int(i), true
	}
	f, err := n.Float64()
	if err != nil || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

// integer reads field as a whole number in [lo, hi].
func (o hfObject) integer(field string, lo, hi int) (int, error) {
	v, _ := o.get(field)
	i, ok := toInt(v)
	if !ok {
		return 0, o.errorf(field, "must be a whole number, got %s", short(v))
	}
	if i < lo {
		if lo == 1 {
			return 0, o.errorf(field, "must be positive, got %d", i)
		}
		return 0, o.errorf(field, "must be at least %d, got %d", lo, i)
	}
	if i > hi {
		return 0, o.errorf(field, "%d is implausibly large (limit %d)", i, hi)
	}
	return i, nil
}

// intField names one integer field of a config and where its value goes.
type intField struct {
	name     string
	dst      *int
	min      int // 1: positive, 0: non-negative
	optional bool
	def, hi  int
}

// need is a required positive field; needNonNeg a required field >= 0;
// opt and optNonNeg the optional ones, def when absent or null.
func need(name string, dst *int, hi int) intField {
	return intField{name: name, dst: dst, min: 1, hi: hi}
}
func needNonNeg(name string, dst *int, hi int) intField {
	return intField{name: name, dst: dst, hi: hi}
}
func opt(name string, dst *int, def, hi int) intField {
	return intField{name: name, dst: dst, min: 1, optional: true, def: def, hi: hi}
}
func optNonNeg(name string, dst *int, def, hi int) intField {
	return intField{name: name, dst: dst, optional: true, def: def, hi: hi}
}

// ints reads the fields in order and stops at the first error.
func (o hfObject) ints(fs ...intField) error {
	for _, f := range fs {
		var err error
		switch {
		case f.optional && f.min == 1:
			*f.dst, err = o.optionalPositive(f.name, f.def, f.hi)
		case f.optional:
			*f.dst, err = o.optionalNonNegative(f.name, f.def, f.hi)
		case f.min == 1:
			*f.dst, err = o.required(f.name, f.hi)
		default:
			*f.dst, err = o.requiredNonNegative(f.name, f.hi)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// required reads a field that must be present and positive.
func (o hfObject) required(field string, hi int) (int, error) {
	if _, ok := o.get(field); !ok {
		return 0, o.errorf(field, "missing; a positive whole number is required")
	}
	return o.integer(field, 1, hi)
}

// requiredNonNegative reads a field that must be present and at least 0.
func (o hfObject) requiredNonNegative(field string, hi int) (int, error) {
	if _, ok := o.get(field); !ok {
		return 0, o.errorf(field, "missing; a whole number >= 0 is required")
	}
	return o.integer(field, 0, hi)
}

// optionalPositive reads a positive field, def when absent or null.
func (o hfObject) optionalPositive(field string, def, hi int) (int, error) {
	if _, ok := o.get(field); !ok {
		return def, nil
	}
	return o.integer(field, 1, hi)
}

// optionalNonNegative reads a field >= 0, def when absent or null.
func (o hfObject) optionalNonNegative(field string, def, hi int) (int, error) {
	if _, ok := o.get(field); !ok {
		return def, nil
	}
	return o.integer(field, 0, hi)
}

// intList reads a list of whole numbers in [0, hi]; absent or null is empty.
func (o hfObject) intList(field string, hi int) ([]int, error) {
	v, ok := o.get(field)
	if !ok {
		return nil, nil
	}
	list, isList := v.([]any)
	if !isList {
		return nil, o.errorf(field, "must be a list of whole numbers")
	}
	out := make([]int, len(list))
	for i, x := range list {
		n, ok := toInt(x)
		if !ok || n < 0 || n > hi {
			return nil, o.errorf(fmt.Sprintf("%s[%d]", field, i), "must be a whole number in [0, %d], got %s", hi, short(x))
		}
		out[i] = n
	}
	return out, nil
}

// stringList reads a list of strings; absent or null is empty.
func (o hfObject) stringList(field string) ([]string, error) {
	v, ok := o.get(field)
	if !ok {
		return nil, nil
	}
	list, isList := v.([]any)
	if !isList {
		return nil, o.errorf(field, "must be a list of strings")
	}
	out := make([]string, len(list))
	for i, x := range list {
		s, ok := x.(string)
		if !ok {
			return nil, o.errorf(fmt.Sprintf("%s[%d]", field, i), "must be a string, got %s", short(x))
		}
		out[i] = s
	}
	return out, nil
}

// gatedActivation checks that hidden_act, when given, is the SiLU of a
// gated (SwiGLU) MLP, the only MLP these model types have.
func (o hfObject) gatedActivation() error {
	act, err := o.str("hidden_act")
	if err != nil {
		return err
	}
	switch act {
	case "", "silu", "swish":
		return nil
	}
	return o.errorf("hidden_act", "%q is not supported for this model_type; want silu (a SwiGLU MLP)", act)
}
