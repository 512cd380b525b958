package model

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scaleacross/scaleacross/fault"
)

// architecture strips what an import cannot know (names, sources,
// published figures, notes) so that imported and catalog models compare.
func architecture(m Model) Model {
	m.ID, m.Name, m.Family, m.Source = "", "", "", ""
	m.Assumptions, m.Notes = nil, nil
	m.PublishedTotal, m.PublishedActive = 0, 0
	return m
}

// TestImportHFMatchesCatalog imports the config.json files in
// testdata/hf (written from the published values) and checks they give
// the catalog's architecture and counts.
func TestImportHFMatchesCatalog(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "hf", "*.json"))
	if err != nil || len(files) < 10 {
		t.Fatalf("want >= 10 configs in testdata/hf, got %d (%v)", len(files), err)
	}
	for _, f := range files {
		id := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(id, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ImportHF(data, id)
			if err != nil {
				t.Fatalf("ImportHF: %v", err)
			}
			want := lookup(t, id)
			if diff := cmp.Diff(architecture(*want), architecture(*got)); diff != "" {
				t.Errorf("imported architecture differs from the catalog (-catalog +imported):\n%s", diff)
			}
			if got.TotalParams() != want.TotalParams() || got.ActiveParams() != want.ActiveParams() {
				t.Errorf("imported total/active %d/%d, catalog %d/%d", got.TotalParams(), got.ActiveParams(), want.TotalParams(), want.ActiveParams())
			}
			if g, w := got.FLOPsPerToken(8192), want.FLOPsPerToken(8192); g != w {
				t.Errorf("imported FLOPs/token %g, catalog %g", g, w)
			}
			if g, w := got.KVBytes(want.MaxContext, 2), want.KVBytes(want.MaxContext, 2); g != w {
				t.Errorf("imported KV bytes %g, catalog %g", g, w)
			}
			if got.ID != id || got.Source == "" || got.Name == "" {
				t.Errorf("imported id %q name %q source %q", got.ID, got.Name, got.Source)
			}
		})
	}
}

func TestImportHFDefaults(t *testing.T) {
	// llama4_text at the top level, default iRoPE interval and chunk.
	m, err := ImportHF([]byte(`{"model_type":"llama4_text","hidden_size":64,"num_hidden_layers":8,
		"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":100,"intermediate_size":32,
		"num_local_experts":4}`), "")
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != "llama4_text" || m.AttentionChunk != 8192 || m.GlobalInterval != 4 || m.HeadDim != 16 || m.MoE.TopK != 1 || m.MoE.SharedExperts != 1 {
		t.Errorf("defaults not applied: %+v moe %+v", m, m.MoE)
	}
	// gpt_oss without layer_types alternates sliding and full attention.
	m, err = ImportHF([]byte(`{"model_type":"gpt_oss","hidden_size":64,"num_hidden_layers":4,"head_dim":16,
		"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":100,"intermediate_size":32,
		"num_local_experts":4,"experts_per_token":2,"sliding_window":16}`), "tiny")
	if err != nil {
		t.Fatal(err)
	}
	if m.GlobalInterval != 2 || !m.SlidingWindow || m.MoE.TopK != 2 || !m.AttentionBias {
		t.Errorf("gpt_oss defaults not applied: %+v", m)
	}
	// qwen3_moe with a leading dense layer.
	m, err = ImportHF([]byte(`{"model_type":"qwen3_moe","hidden_size":64,"num_hidden_layers":4,
		"num_attention_heads":4,"vocab_size":100,"intermediate_size":128,"moe_intermediate_size":16,
		"num_experts":8,"num_experts_per_tok":2,"mlp_only_layers":[0]}`), "q")
	if err != nil {
		t.Fatal(err)
	}
	if m.MoE.FirstDense != 1 || m.MoELayers() != 3 || m.FFN != 128 || !m.QKNorm {
		t.Errorf("qwen3 mlp_only_layers: first_dense %d moe layers %d", m.MoE.FirstDense, m.MoELayers())
	}
}

func TestImportHFErrors(t *testing.T) {
	const llama = `"model_type":"llama","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100`
	tests := []struct {
		name, json, field string
	}{
		{"malformed", `{"model_type": "llama",`, ""},
		{"not an object", `[1, 2]`, ""},
		{"null", `null`, ""},
		{"trailing data", `{"model_type":"llama"} {}`, ""},
		{"no model_type", `{"hidden_size": 4096}`, "model_type"},
		{"model_type not a string", `{"model_type": 7}`, "model_type"},
		{"unknown model_type", `{"model_type":"bert"}`, "model_type"},
		{"missing hidden_size", `{"model_type":"llama","num_hidden_layers":2}`, "hidden_size"},
		{"missing ffn", `{` + llama + `}`, "intermediate_size"},
		{"zero layers", `{"model_type":"llama","hidden_size":64,"num_hidden_layers":0}`, "num_hidden_layers"},
		{"negative heads", `{"model_type":"llama","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":-4}`, "num_attention_heads"},
		{"fractional", `{"model_type":"llama","hidden_size":64.5}`, "hidden_size"},
		{"string number", `{"model_type":"llama","hidden_size":"64"}`, "hidden_size"},
		{"huge", `{"model_type":"llama","hidden_size":1e12}`, "hidden_size"},
		{"kv heads do not divide", `{` + llama + `,"num_key_value_heads":3,"intermediate_size":8}`, "num_key_value_heads"},
		{"no head_dim and uneven", `{"model_type":"llama","hidden_size":66,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100}`, "head_dim"},
		{"tie not bool", `{` + llama + `,"intermediate_size":8,"tie_word_embeddings":"yes"}`, "tie_word_embeddings"},
		{"gelu llama", `{` + llama + `,"intermediate_size":8,"hidden_act":"gelu"}`, "hidden_act"},
		{"llama4 text_config not object", `{"model_type":"llama4","text_config":3}`, "text_config"},
		{"llama4 missing experts", `{"model_type":"llama4","text_config":{"hidden_size":64,"num_hidden_layers":4,"num_attention_heads":4,"vocab_size":10,"intermediate_size":8}}`, "text_config.num_local_experts"},
		{"llama4 dense needs mlp size", `{"model_type":"llama4","text_config":{"hidden_size":64,"num_hidden_layers":4,"num_attention_heads":4,"vocab_size":10,"intermediate_size":8,"num_local_experts":2,"interleave_moe_layer_step":2}}`, "text_config.intermediate_size_mlp"},
		{"llama4 irregular moe_layers", `{"model_type":"llama4","text_config":{"hidden_size":64,"num_hidden_layers":4,"num_attention_heads":4,"vocab_size":10,"intermediate_size":8,"intermediate_size_mlp":8,"num_local_experts":2,"moe_layers":[0,3]}}`, "text_config.moe_layers"},
		{"llama4 no_rope_layers length", `{"model_type":"llama4","text_config":{"hidden_size":64,"num_hidden_layers":4,"num_attention_heads":4,"vocab_size":10,"intermediate_size":8,"num_local_experts":2,"no_rope_layers":[1,0]}}`, "text_config.no_rope_layers"},
		{"llama4 no_rope_layers value", `{"model_type":"llama4","text_config":{"hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":10,"intermediate_size":8,"num_local_experts":2,"no_rope_layers":[1,2]}}`, "text_config.no_rope_layers[1]"},
		{"mixtral top-k > experts", `{"model_type":"mixtral","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":10,"intermediate_size":8,"num_local_experts":2,"num_experts_per_tok":3}`, ""},
		{"qwen3 sliding window", `{"model_type":"qwen3_moe","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":10,"use_sliding_window":true}`, "use_sliding_window"},
		{"qwen3 scattered mlp_only_layers", `{"model_type":"qwen3_moe","hidden_size":64,"num_hidden_layers":4,"num_attention_heads":4,"vocab_size":10,"moe_intermediate_size":8,"num_experts":4,"num_experts_per_tok":1,"mlp_only_layers":[2]}`, "mlp_only_layers"},
		{"deepseek missing kv_lora_rank", `{"model_type":"deepseek_v3","hidden_size":64,"num_hidden_layers":4,"num_attention_heads":4,"vocab_size":10}`, "kv_lora_rank"},
		{"deepseek first dense too many", `{"model_type":"deepseek_v3","hidden_size":64,"num_hidden_layers":4,"num_attention_heads":4,"vocab_size":10,"kv_lora_rank":8,"qk_nope_head_dim":8,"qk_rope_head_dim":4,"v_head_dim":8,"moe_intermediate_size":8,"n_routed_experts":4,"num_experts_per_tok":2,"n_shared_experts":1,"first_k_dense_replace":5}`, "first_k_dense_replace"},
		{"deepseek moe_layer_freq", `{"model_type":"deepseek_v3","hidden_size":64,"num_hidden_layers":4,"num_attention_heads":4,"vocab_size":10,"kv_lora_rank":8,"qk_nope_head_dim":8,"qk_rope_head_dim":4,"v_head_dim":8,"moe_intermediate_size":8,"n_routed_experts":4,"num_experts_per_tok":2,"n_shared_experts":1,"first_k_dense_replace":0,"moe_layer_freq":2}`, "moe_layer_freq"},
		{"gpt_oss bad layer type", `{"model_type":"gpt_oss","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":10,"intermediate_size":8,"num_local_experts":4,"num_experts_per_tok":2,"sliding_window":8,"layer_types":["sliding_attention","linear_attention"]}`, "layer_types[1]"},
		{"gpt_oss irregular layer types", `{"model_type":"gpt_oss","hidden_size":64,"num_hidden_layers":3,"num_attention_heads":4,"vocab_size":10,"intermediate_size":8,"num_local_experts":4,"num_experts_per_tok":2,"sliding_window":8,"layer_types":["full_attention","sliding_attention","sliding_attention"]}`, "layer_types"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ImportHF([]byte(tt.json), "x")
			if err == nil {
				t.Fatalf("ImportHF accepted it: %+v", m)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T), want *ConfigError", err, err)
			}
			if !errors.Is(ce, fault.ErrBadInput) {
				t.Errorf("%v is not bad input", ce)
			}
			if ce.Field != tt.field {
				t.Errorf("field %q, want %q (error: %v)", ce.Field, tt.field, err)
			}
			if tt.field != "" && !strings.Contains(err.Error(), tt.field) {
				t.Errorf("message %q does not name the field %s", err, tt.field)
			}
		})
	}
}

// FuzzImportHF checks that no input makes the importer or the counters
// panic, and that whatever is accepted is a valid, countable model. Seeds:
// testdata/fuzz/FuzzImportHF and the configs in testdata/hf.
func FuzzImportHF(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "hf", "*.json"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// The hostile cases of issue 12: non-finite and huge numbers,
	// fractions, deep nesting, binary garbage.
	for _, s := range []string{
		`{"model_type": "llama", "hidden_size": 1e400, "num_hidden_layers": 2}`,
		`{"model_type": "llama", "hidden_size": 4096.5, "num_hidden_layers": 32, "num_attention_heads": 32, "intermediate_size": 14336, "vocab_size": 128256}`,
		`{"model_type": "llama", "hidden_size": 9223372036854775807, "num_hidden_layers": 32, "num_attention_heads": 32}`,
		`{"model_type": "llama", "hidden_size": -4096, "num_hidden_layers": 32}`,
		`{"model_type": "llama4", "text_config": {"text_config": {"text_config": {}}}}`,
		`{"model_type": ` + strings.Repeat("[", 10000) + `}`,
		"\x7fELF\x00\x01\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ImportHF(data, "fuzz")
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || !errors.Is(ce, fault.ErrBadInput) {
				t.Fatalf("error %v (%T) is not a *ConfigError", err, err)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("accepted an invalid model: %v", err)
		}
		total, active := m.TotalParams(), m.ActiveParams()
		if active <= 0 || total < active {
			t.Fatalf("total %d, active %d", total, active)
		}
		for _, seq := range []int{1, 4096, m.MaxContext} {
			if seq <= 0 {
				continue
			}
			if f := m.FLOPsPerToken(seq); !(f > 0) {
				t.Fatalf("FLOPsPerToken(%d) = %g", seq, f)
			}
			if kv := m.KVBytes(seq, 2); !(kv > 0) {
				t.Fatalf("KVBytes(%d) = %g", seq, kv)
			}
		}
		_ = m.Breakdown()
	})
}
