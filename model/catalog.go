package model

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/scaleacross/scaleacross/internal/suggest"
)

// UnknownIDError reports a catalog id that does not exist, naming the
// nearest known ids. It exits with code 2 (bad input).
type UnknownIDError = suggest.UnknownIDError

// IDs returns the catalog ids in sorted order.
func IDs() []string {
	ms := Builtin()
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

// Lookup returns the catalog model with the given id (case-insensitive).
// An unknown id gives an *UnknownIDError naming the nearest known ids.
func Lookup(id string) (*Model, error) {
	key := strings.ToLower(strings.TrimSpace(id))
	ms := Builtin()
	for i := range ms {
		if ms[i].ID == key {
			return &ms[i], nil
		}
	}
	return nil, &UnknownIDError{Kind: "model", ID: id, Nearest: suggest.Closest(key, IDs(), 3)}
}

// Load resolves a model reference as used in specs with a Loader that
// looks in no Hugging Face cache and reads relative paths from the current
// directory: a catalog id, or else a path to a Hugging Face config.json (a
// reference ending in .json, an existing file, or a directory holding
// config.json), imported with ImportHF. A reference that is neither gives
// an *UnknownIDError.
func Load(ref string) (*Model, error) { return Loader{}.Load(ref) }

// MaxConfigBytes is the largest config.json Load reads (1 MiB; real ones
// are a few KB).
const MaxConfigBytes = 1 << 20

// configPath says whether ref names a config file and which.
func configPath(ref string) (string, bool) {
	if fi, err := os.Stat(ref); err == nil {
		if fi.IsDir() {
			return filepath.Join(ref, "config.json"), true
		}
		return ref, true
	}
	if strings.HasSuffix(strings.ToLower(ref), ".json") {
		return ref, true
	}
	return "", false
}

// Builtin returns the model catalog, sorted by id. Every call builds a
// fresh slice, so callers may modify what they get.
func Builtin() []Model {
	ms := []Model{
		llama4Scout(), llama4Maverick(), llama4Behemoth(),
		llama3("llama3-8b", "Llama 3 8B", 32, 4096, 14336, 32, 8192, 8.03e9,
			"Llama 3 Herd of Models (arXiv 2407.21783) Table 3; Hugging Face meta-llama/Meta-Llama-3-8B config.json; 8.03B total from the Hugging Face model page"),
		llama3("llama3-70b", "Llama 3 70B", 80, 8192, 28672, 64, 8192, 70.6e9,
			"Llama 3 Herd of Models (arXiv 2407.21783) Table 3; Hugging Face meta-llama/Meta-Llama-3-70B config.json; 70.6B total from the Hugging Face model page"),
		llama3("llama3.1-8b", "Llama 3.1 8B", 32, 4096, 14336, 32, 131072, 8.03e9,
			"Llama 3 Herd of Models (arXiv 2407.21783) Table 3; Hugging Face meta-llama/Llama-3.1-8B config.json; 8.03B total from the Hugging Face model page"),
		llama3("llama3.1-70b", "Llama 3.1 70B", 80, 8192, 28672, 64, 131072, 70.6e9,
			"Llama 3 Herd of Models (arXiv 2407.21783) Table 3; Hugging Face meta-llama/Llama-3.1-70B config.json; 70.6B total from the Hugging Face model page"),
		llama3("llama3.1-405b", "Llama 3.1 405B", 126, 16384, 53248, 128, 131072, 405e9,
			"Llama 3 Herd of Models (arXiv 2407.21783) Tables 3-4 (405B parameters); Hugging Face meta-llama/Llama-3.1-405B config.json"),
		llama3("llama3.3-70b", "Llama 3.3 70B", 80, 8192, 28672, 64, 131072, 70.6e9,
			"Hugging Face meta-llama/Llama-3.3-70B-Instruct config.json (same architecture as Llama 3.1 70B); 70.6B total from the Hugging Face model page"),
		llama2("llama2-7b", "Llama 2 7B", 32, 4096, 11008, 32, 32, 6.74e9,
			"Llama 2 (arXiv 2307.09288) Table 1; Hugging Face meta-llama/Llama-2-7b-hf config.json; 6.74B total from the Hugging Face model page"),
		llama2("llama2-13b", "Llama 2 13B", 40, 5120, 13824, 40, 40, 13.0e9,
			"Llama 2 (arXiv 2307.09288) Table 1; Hugging Face meta-llama/Llama-2-13b-hf config.json; 13.0B total from the Hugging Face model page"),
		llama2("llama2-70b", "Llama 2 70B", 80, 8192, 28672, 64, 8, 69.0e9,
			"Llama 2 (arXiv 2307.09288) Table 1 (GQA for 70B); Hugging Face meta-llama/Llama-2-70b-hf config.json; 69.0B total from the Hugging Face model page"),
		megatronGPT("gpt-22b", "GPT 22B (Megatron)", 48, 6144, 64, 22e9,
			"Korthikanti et al. 2022, Reducing Activation Recomputation in Large Transformer Models (arXiv 2205.05198) Table 3: 22B, 64 heads, hidden 6144, 48 layers; vocab 51200 and sequence 2048 as in Narayanan et al. 2021 (arXiv 2104.04473)"),
		megatronGPT("gpt-175b", "GPT 175B (Megatron)", 96, 12288, 96, 175e9,
			"Korthikanti et al. 2022 (arXiv 2205.05198) Table 3: 175B (GPT-3), 96 heads, hidden 12288, 96 layers; 175.0B from Brown et al. 2020 (arXiv 2005.14165) Table 2.1"),
		megatronGPT("gpt-530b", "GPT 530B (Megatron, MT-NLG)", 105, 20480, 128, 529.6e9,
			"Korthikanti et al. 2022 (arXiv 2205.05198) Table 3: 530B, 128 heads, hidden 20480, 105 layers; 529.6B from Narayanan et al. 2021 (arXiv 2104.04473) Table 1"),
		megatronGPT("gpt-1t", "GPT 1T (Megatron)", 128, 25600, 160, 1008.0e9,
			"Korthikanti et al. 2022 (arXiv 2205.05198) Table 3: 1T, 160 heads, hidden 25600, 128 layers; 1008.0B from Narayanan et al. 2021 (arXiv 2104.04473) Table 1"),
		gpt3XL(),
		megatronGPT("gpt3-5b", "GPT-3 5B (NeMo)", 24, 4096, 32, 0,
			"NVIDIA NeMo-Framework-Launcher launcher_scripts/conf/training/gpt3/5b.yaml: 24 layers, hidden 4096, ffn 4h, 32 heads, sequence 2048"),
		megatronGPT("gpt3-20b", "GPT-3 20B (NeMo)", 44, 6144, 48, 0,
			"NVIDIA NeMo-Framework-Launcher launcher_scripts/conf/training/gpt3/20b.yaml: 44 layers, hidden 6144, ffn 4h, 48 heads, sequence 2048"),
		megatronGPT("gpt3-175b", "GPT-3 175B (NeMo)", 96, 12288, 96, 175e9,
			"NVIDIA NeMo-Framework-Launcher launcher_scripts/conf/training/gpt3/175b.yaml: 96 layers, hidden 12288, 96 heads, sequence 2048; 175.0B from Brown et al. 2020 (arXiv 2005.14165) Table 2.1"),
		nemotron("nemotron4-8b", "Nemotron 8B (NeMo)", 32, 4096, 16384, 32, 32, 0,
			"NVIDIA NeMo-Framework-Launcher launcher_scripts/conf/training/nemotron/nemotron_8b.yaml (run name nemotron3-8B): 32 layers, hidden 4096, ffn 16384, 32 heads (MHA), squared ReLU, LayerNorm1p, no linear biases, untied, sequence 4096; listed as Nemotron 8B in the NeMo 24.07 performance summary"),
		nemotron("nemotron4-22b", "Nemotron 22B (NeMo)", 40, 6144, 24576, 48, 48, 0,
			"NVIDIA NeMo-Framework-Launcher launcher_scripts/conf/training/nemotron/nemotron_22b.yaml (run name nemotron3-22B): 40 layers, hidden 6144, ffn 24576, 48 heads (MHA), squared ReLU, LayerNorm1p, no linear biases, untied, sequence 4096; listed as Nemotron 22B in the NeMo 24.07 performance summary"),
		nemotron("nemotron4-340b", "Nemotron-4 340B", 96, 18432, 73728, 96, 8, 341.0e9,
			"Nemotron-4 340B Technical Report (arXiv 2406.11704) Sec. 2: 96 layers, hidden 18432, 96 heads, 8 KV heads, vocab 256000, sequence 4096, 9.4B embedding + 331.6B non-embedding parameters; NeMo Nemotron4Config340B (ffn 73728)"),
		mixtral8x7b(), mixtral8x22b(),
		deepseekV3(),
		qwen3MoE("qwen3-30b-a3b", "Qwen3-30B-A3B", 48, 2048, 6144, 768, 32, 30.5e9, 3.3e9,
			"Hugging Face Qwen/Qwen3-30B-A3B config.json; Qwen3 model card: 30.5B total, 3.3B activated (29.9B non-embedding)"),
		qwen3MoE("qwen3-235b-a22b", "Qwen3-235B-A22B", 94, 4096, 12288, 1536, 64, 235e9, 22e9,
			"Hugging Face Qwen/Qwen3-235B-A22B config.json; Qwen3 model card: 235B total, 22B activated (234B non-embedding)"),
		gptOSS120b(), gptOSS20b(),
		grok1(), kimiK2(), gpt3Small(), intellect1(),
		nemotron("nemotron4-15b", "Nemotron-4 15B", 32, 6144, 24576, 48, 8, 15.7e9,
			"Nemotron-4 15B Technical Report (arXiv 2402.16819) Table 1: 32 layers, hidden 6144, 48 heads, 8 KV heads, sequence 4096, vocabulary 256000, 3.2B embedding + 12.5B non-embedding parameters (15.7B; the title rounds to 15B); ffn 24576, squared ReLU, untied embeddings from NVIDIA/dgxc-benchmarking v24.11.1 nemotron/nemotron4-15b-synth.yaml"),
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
	return ms
}

// llama4 is the structure shared by the Llama 4 text models (Hugging Face
// transformers models/llama4/configuration_llama4.py; meta-llama/llama-models
// models/llama4): GQA 8 KV heads of 128, vocab 202048 with untied input and
// output embeddings, SwiGLU experts with one shared expert per MoE layer,
// and iRoPE: every 4th layer global (NoPE), the rest chunked at 8192.
func llama4(id, name string) Model {
	return Model{
		ID: id, Name: name, Family: "llama4",
		Layers: 48, Hidden: 5120, Heads: 40, KVHeads: 8, HeadDim: 128, Vocab: 202048,
		Act:            SwiGLU,
		AttentionChunk: 8192, GlobalInterval: 4,
	}
}

func llama4Scout() Model {
	m := llama4("llama4-scout", "Llama 4 Scout (17B active, 16 experts)")
	m.MoE = &MoE{Experts: 16, TopK: 1, ExpertFFN: 8192, SharedExperts: 1, SharedFFN: 8192, Interval: 1}
	m.MaxContext = 10485760
	m.Source = "Hugging Face meta-llama/Llama-4-Scout-17B-16E config.json (text_config); meta-llama/llama-models models/llama4 (args.py, moe.py, MODEL_CARD.md: 17B active, 109B total, 10M context)"
	m.PublishedTotal, m.PublishedActive = 109e9, 17e9
	m.Notes = []string{
		"the published 109B total includes the ~0.87B vision encoder (34-layer ViT, width 1408), which this text-only count leaves out",
		"the published 17B active counts the input embedding and output head, as active_params does",
	}
	return m
}

func llama4Maverick() Model {
	m := llama4("llama4-maverick", "Llama 4 Maverick (17B active, 128 experts)")
	m.FFN = 16384
	m.MoE = &MoE{Experts: 128, TopK: 1, ExpertFFN: 8192, SharedExperts: 1, SharedFFN: 8192, Interval: 2}
	m.MaxContext = 1048576
	m.Source = "Hugging Face meta-llama/Llama-4-Maverick-17B-128E config.json (text_config: interleave_moe_layer_step 2, intermediate_size_mlp 16384); meta-llama/llama-models models/llama4 (MODEL_CARD.md: 17B active, 400B total, 1M context)"
	m.PublishedTotal, m.PublishedActive = 400e9, 17e9
	m.Notes = []string{
		"the published 400B total includes the ~0.87B vision encoder (34-layer ViT, width 1408), which this text-only count leaves out",
		"the published 17B active counts the input embedding and output head, as active_params does",
	}
	return m
}

// llama4Behemoth derives the unpublished Behemoth dimensions from the three
// published facts (288B active, 16 experts, nearly 2T total) and the
// structure of its published siblings; every derived value is listed in
// Assumptions.
func llama4Behemoth() Model {
	m := llama4("llama4-behemoth", "Llama 4 Behemoth (288B active; assumed dims)")
	m.Layers, m.Hidden, m.Heads = 88, 16384, 128
	m.MoE = &MoE{Experts: 16, TopK: 1, ExpertFFN: 26624, SharedExperts: 1, SharedFFN: 26624, Interval: 1}
	m.MaxContext = 262144
	m.Source = "Meta, The Llama 4 herd (announcement, April 2025): 288B active parameters, 16 experts, nearly two trillion total; all other dimensions assumed (see assumptions)"
	m.PublishedTotal, m.PublishedActive = 2e12, 288e9
	m.Assumptions = []string{
		"structure as Llama 4 Scout: every layer MoE with 16 routed experts (top-1) plus one shared expert of the same size",
		"hidden 16384 with 128 query heads of 128 and 8 KV heads (the widest published Llama, Llama 3.1 405B)",
		"expert and shared-expert FFN 26624 (1.625 x hidden; Scout uses 1.6 x hidden)",
		"88 layers (a multiple of 4 for the iRoPE pattern), chosen with the FFN so that active is about 288B and total about 2T",
		"vocabulary 202048, untied embeddings, chunked attention 8192 with every 4th layer global, as the released Llama 4 models",
		"max context 262144 (the 256K of the released Llama 4 base models)",
	}
	m.Notes = []string{"\"nearly two trillion\" is recorded as 2T; the assumed dimensions give about 2.01T total and 287B active"}
	return m
}

// llama3 is a Llama 3 / 3.1 / 3.3 dense model: SwiGLU, GQA with 8 KV heads
// of 128, vocab 128256, untied embeddings (arXiv 2407.21783 Table 3).
func llama3(id, name string, layers, hidden, ffn, heads, ctx int, total float64, source string) Model {
	return Model{
		ID: id, Name: name, Family: "llama3",
		Layers: layers, Hidden: hidden, FFN: ffn, Heads: heads, KVHeads: 8, HeadDim: 128, Vocab: 128256,
		Act: SwiGLU, MaxContext: ctx, Source: source, PublishedTotal: total,
	}
}

// llama2 is a Llama 2 dense model: SwiGLU, vocab 32000, untied embeddings,
// context 4096 (arXiv 2307.09288).
func llama2(id, name string, layers, hidden, ffn, heads, kvHeads int, total float64, source string) Model {
	return Model{
		ID: id, Name: name, Family: "llama2",
		Layers: layers, Hidden: hidden, FFN: ffn, Heads: heads, KVHeads: kvHeads, HeadDim: hidden / heads, Vocab: 32000,
		Act: SwiGLU, MaxContext: 4096, Source: source, PublishedTotal: total,
	}
}

// megatronGPT is a GPT-3-style model as Megatron-LM trains it (Narayanan et
// al. 2021, arXiv 2104.04473, Sec. 5.1): vocab 51200, GeLU MLP of 4h,
// multi-head attention, learned positions for sequence 2048, biases on
// every linear layer and norm, input and output embeddings tied.
func megatronGPT(id, name string, layers, hidden, heads int, total float64, source string) Model {
	return Model{
		ID: id, Name: name, Family: "gpt3",
		Layers: layers, Hidden: hidden, FFN: 4 * hidden, Heads: heads, KVHeads: heads, HeadDim: hidden / heads, Vocab: 51200,
		Act: GeLU, TiedEmbeddings: true, Bias: true, LearnedPositions: 2048,
		MaxContext: 2048, Source: source, PublishedTotal: total,
		Notes: []string{"vocabulary 51200: the GPT-2 BPE vocabulary (50257) padded as in the Megatron papers"},
	}
}

func gpt3XL() Model {
	m := megatronGPT("gpt3-xl", "GPT-3 XL (1.3B)", 24, 2048, 16, 1.3e9,
		"Brown et al. 2020, Language Models are Few-Shot Learners (arXiv 2005.14165) Table 2.1: GPT-3 XL, 1.3B, 24 layers, d_model 2048, d_head 128; Megatron conventions as the other GPT entries")
	m.Notes = append(m.Notes, "Table 2.1 lists 24 heads of 128 for GPT-3 XL, which does not multiply to d_model 2048; Megatron and NeMo use 16 heads of 128 (the parameter count is the same)")
	return m
}

// nemotron is a Nemotron model as NeMo defines it (nemo/collections/llm/gpt/
// model/nemotron.py): squared-ReLU MLP, LayerNorm with bias (layernorm1p),
// no linear biases, RoPE, untied embeddings, vocab 256000, sequence 4096.
func nemotron(id, name string, layers, hidden, ffn, heads, kvHeads int, total float64, source string) Model {
	return Model{
		ID: id, Name: name, Family: "nemotron",
		Layers: layers, Hidden: hidden, FFN: ffn, Heads: heads, KVHeads: kvHeads, HeadDim: hidden / heads, Vocab: 256000,
		Act: ReLU2, NormBias: true, MaxContext: 4096, Source: source, PublishedTotal: total,
	}
}

func mixtral8x7b() Model {
	return Model{
		ID: "mixtral-8x7b", Name: "Mixtral 8x7B", Family: "mixtral",
		Layers: 32, Hidden: 4096, Heads: 32, KVHeads: 8, HeadDim: 128, Vocab: 32000, Act: SwiGLU,
		MoE:        &MoE{Experts: 8, TopK: 2, ExpertFFN: 14336, Interval: 1},
		MaxContext: 32768,
		Source:     "Hugging Face mistralai/Mixtral-8x7B-v0.1 config.json; Mistral AI, Mixtral of experts (December 2023): 46.7B total, 12.9B used per token",
		// Mistral's announcement states both figures.
		PublishedTotal: 46.7e9, PublishedActive: 12.9e9,
	}
}

func mixtral8x22b() Model {
	return Model{
		ID: "mixtral-8x22b", Name: "Mixtral 8x22B", Family: "mixtral",
		Layers: 56, Hidden: 6144, Heads: 48, KVHeads: 8, HeadDim: 128, Vocab: 32000, Act: SwiGLU,
		MoE:            &MoE{Experts: 8, TopK: 2, ExpertFFN: 16384, Interval: 1},
		MaxContext:     65536,
		Source:         "Hugging Face mistralai/Mixtral-8x22B-v0.1 config.json; Mistral AI, Cheaper, Better, Faster, Stronger (April 2024): 141B total, 39B active",
		PublishedTotal: 141e9, PublishedActive: 39e9,
		Notes: []string{"vocabulary 32000 of the v0.1 base model; the v0.3 and instruct releases use 32768"},
	}
}

func deepseekV3() Model {
	return Model{
		ID: "deepseek-v3", Name: "DeepSeek-V3", Family: "deepseek-v3",
		Layers: 61, Hidden: 7168, FFN: 18432, Heads: 128, KVHeads: 128, HeadDim: 192, Vocab: 129280, Act: SwiGLU,
		MLA: &MLA{QLoRARank: 1536, KVLoRARank: 512, QKNopeHeadDim: 128, QKRopeHeadDim: 64, VHeadDim: 128},
		MoE: &MoE{Experts: 256, TopK: 8, ExpertFFN: 2048, SharedExperts: 1, SharedFFN: 2048, FirstDense: 3, Interval: 1},
		// config.json max_position_embeddings; the report extends context to 128K.
		MaxContext:     163840,
		Source:         "Hugging Face deepseek-ai/DeepSeek-V3 config.json; DeepSeek-V3 Technical Report (arXiv 2412.19437) Sec. 4.2: 671B total, 37B activated per token",
		PublishedTotal: 671e9, PublishedActive: 37e9,
		// config.json num_nextn_predict_layers 1; the report trains with
		// MTP depth D = 1 (section 2.2).
		MTPLayers: 1,
		Notes: []string{
			"the 671B excludes the 14B multi-token-prediction (MTP) module shipped in the checkpoint (685B in all, with its copies of the embedding and the head); training prices the one MTP layer (an MoE layer, its projection and a second pass through the shared head) on the stage of the loss and counts it in memory",
			"head_dim 192 is the query/key width (128 no-RoPE + 64 RoPE); MLA caches the 512-wide latent plus the 64-wide RoPE key per token",
			"the router's per-expert score-correction bias (256 per MoE layer) is not counted",
		},
	}
}

// qwen3MoE is a Qwen3 mixture-of-experts model: GQA with 4 KV heads of 128,
// per-head qk RMSNorm, 128 routed experts top-8, no shared expert, every
// layer MoE (decoder_sparse_step 1, no mlp_only_layers), vocab 151936,
// untied embeddings.
func qwen3MoE(id, name string, layers, hidden, ffn, expertFFN, heads int, total, active float64, source string) Model {
	return Model{
		ID: id, Name: name, Family: "qwen3-moe",
		Layers: layers, Hidden: hidden, FFN: ffn, Heads: heads, KVHeads: 4, HeadDim: 128, Vocab: 151936,
		Act: SwiGLU, QKNorm: true,
		MoE:        &MoE{Experts: 128, TopK: 8, ExpertFFN: expertFFN, Interval: 1},
		MaxContext: 40960, Source: source, PublishedTotal: total, PublishedActive: active,
		Notes: []string{"ffn is the config's dense intermediate_size, unused because every layer is MoE"},
	}
}

func gptOSS120b() Model {
	return Model{
		ID: "gpt-oss-120b", Name: "gpt-oss-120b", Family: "gpt-oss",
		Layers: 36, Hidden: 2880, Heads: 64, KVHeads: 8, HeadDim: 64, Vocab: 201088, Act: SwiGLU,
		AttentionBias: true, MLPBias: true, AttentionSinks: true,
		MoE:            &MoE{Experts: 128, TopK: 4, ExpertFFN: 2880, Interval: 1},
		AttentionChunk: 128, GlobalInterval: 2, SlidingWindow: true,
		MaxContext:     131072,
		Source:         "Hugging Face openai/gpt-oss-120b config.json (layer_types alternate sliding_attention 128 / full_attention); OpenAI gpt-oss-120b & gpt-oss-20b model card (August 2025) Table 1: 116.83B total, 5.13B active",
		PublishedTotal: 116.83e9, PublishedActive: 5.13e9,
		Notes: []string{
			"the published 5.13B active count leaves out the input embedding (it counts the unembedding); active_params counts both, about 0.58B more",
		},
	}
}

func gptOSS20b() Model {
	m := gptOSS120b()
	m.ID, m.Name = "gpt-oss-20b", "gpt-oss-20b"
	m.Layers = 24
	m.MoE = &MoE{Experts: 32, TopK: 4, ExpertFFN: 2880, Interval: 1}
	m.Source = "Hugging Face openai/gpt-oss-20b config.json (24 layers, 32 experts top-4, layer_types alternate sliding_attention 128 / full_attention); OpenAI gpt-oss-120b & gpt-oss-20b model card (arXiv 2508.10925) Table 1: 20.9B total, 3.6B active"
	m.PublishedTotal, m.PublishedActive = 20.9e9, 3.6e9
	return m
}

// grok1 is Grok-1 as the measured rows train it: NeMo's re-implementation
// in the NVIDIA DGX Cloud recipes, which takes xAI's dimensions but unties
// the embeddings and uses the Llama 3 tokenizer as a proxy (vocabulary
// 128256 instead of xAI's 131072).
func grok1() Model {
	return Model{
		ID: "grok-1", Name: "Grok-1 314B (NeMo re-implementation)", Family: "grok",
		Layers: 64, Hidden: 6144, Heads: 48, KVHeads: 8, HeadDim: 128, Vocab: 128256, Act: GeGLU,
		MoE:            &MoE{Experts: 8, TopK: 2, ExpertFFN: 32768, Interval: 1},
		MaxContext:     8192,
		Source:         "xai-org/grok-1@7050ed2 run.py and model.py (64 layers, emb 6144, 48 query heads and 8 KV heads of 128, 8 experts top-2, ffn_size(6144, 8) = 32768, gated GELU): 314B; NVIDIA/dgxc-benchmarking v24.11.1 grok1/grok1_314b.yaml (the NeMo recipe the measured rows run: ffn_hidden_size 32768, fast-geglu, untied embeddings, Llama 3 tokenizer as a proxy)",
		PublishedTotal: 314e9,
		Notes: []string{
			"the vocabulary (128256, Llama 3 tokenizer) and untied embeddings are the NeMo recipe's; xAI's checkpoint has vocabulary 131072 with tied embeddings (315.7B counted that way); both are within 1% of the published 314B",
			"xAI's extra norms around attention and the MoE block (four per layer) are not counted; they are 0.02M parameters per layer",
		},
	}
}

// kimiK2 is Moonshot's Kimi K2: DeepSeek-V3's layout (MLA, one shared
// expert, sigmoid router) with 384 routed experts, 64 heads and one
// leading dense layer.
func kimiK2() Model {
	return Model{
		ID: "kimi-k2", Name: "Kimi K2", Family: "deepseek-v3",
		Layers: 61, Hidden: 7168, FFN: 18432, Heads: 64, KVHeads: 64, HeadDim: 192, Vocab: 163840, Act: SwiGLU,
		MLA:            &MLA{QLoRARank: 1536, KVLoRARank: 512, QKNopeHeadDim: 128, QKRopeHeadDim: 64, VHeadDim: 128},
		MoE:            &MoE{Experts: 384, TopK: 8, ExpertFFN: 2048, SharedExperts: 1, SharedFFN: 2048, FirstDense: 1, Interval: 1},
		MaxContext:     131072,
		Source:         "Hugging Face moonshotai/Kimi-K2-Instruct config.json (61 layers, first_k_dense_replace 1, 384 experts top-8, 1 shared, moe_intermediate_size 2048, 64 heads, MLA ranks 1536/512); Kimi K2 technical report (arXiv 2507.20534): 1.04T total, 32.6B activated",
		PublishedTotal: 1.04e12, PublishedActive: 32.6e9,
		Notes: []string{
			"the count gives 1.026T, 1.3% under the report's 1.04T; the same counting reproduces DeepSeek-V3's 671B exactly, so the gap is on the published side (the model card says 1T)",
			"head_dim 192 is the query/key width (128 no-RoPE + 64 RoPE), as for DeepSeek-V3",
		},
	}
}

// gpt3Small is GPT-3 Small (125M) as Brown et al. define it, with the
// unpadded GPT-2 vocabulary.
func gpt3Small() Model {
	return Model{
		ID: "gpt3-small", Name: "GPT-3 Small (125M)", Family: "gpt3",
		Layers: 12, Hidden: 768, FFN: 3072, Heads: 12, KVHeads: 12, HeadDim: 64, Vocab: 50257,
		Act: GeLU, TiedEmbeddings: true, Bias: true, LearnedPositions: 2048,
		MaxContext:     2048,
		Source:         "Brown et al. 2020, Language Models are Few-Shot Learners (arXiv 2005.14165) Table 2.1: GPT-3 Small, 125M, 12 layers, d_model 768, 12 heads of 64, context 2048; GPT-2 BPE vocabulary 50257; DS3Lab/Decentralized_FM_alpha@cb03043b4d results/gpt3_small.md (the network measurements' runs)",
		PublishedTotal: 125e6,
	}
}

// intellect1 is Prime Intellect's INTELLECT-1, a Llama 3 architecture of
// 42 layers trained over the internet with DiLoCo.
func intellect1() Model {
	m := llama3("intellect-1", "INTELLECT-1 10B", 42, 4096, 14336, 32, 8192, 10e9,
		"PrimeIntellect-ai/prime src/zeroband/models/llama/__init__.py (llama3_configs[\"10B\"]: dim 4096, 42 layers, 32 heads, 8 KV heads, ffn_dim_multiplier 1.3, multiple_of 1024 = ffn 14336); Hugging Face PrimeIntellect/INTELLECT-1 model card (10B, context 8192, vocabulary 128256)")
	m.Family = "intellect"
	return m
}
