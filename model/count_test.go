package model

import (
	"math"
	"testing"
)

func lookup(t testing.TB, id string) *Model {
	t.Helper()
	m, err := Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func near(got, want float64) bool { return math.Abs(got-want) <= 1e-12*math.Abs(want) }

// TestFLOPsPerTokenByHand checks forward FLOPs against sums worked out by
// hand from the published dimensions (2 FLOPs per weight, plus
// 2 x heads x (d_qk + d_v) x attended keys per layer).
func TestFLOPsPerTokenByHand(t *testing.T) {
	tests := []struct {
		id   string
		seq  int
		want float64
	}{
		// Llama 3 8B at 8192: per layer q 4096*4096 + kv 2*4096*1024 +
		// o 4096*4096 = 41,943,040 and MLP 3*4096*14336 = 176,160,768;
		// x32 = 6,979,321,856; head 128256*4096 = 525,336,576; so
		// 2*7,504,658,432 = 15,009,316,864 for the weights. Causal
		// attention: 2*32*256*(8192/2) = 67,108,864 per layer, x32 =
		// 2,147,483,648.
		{"llama3-8b", 8192, 15_009_316_864 + 2_147_483_648},
		// Llama 4 Maverick at 32768: attention weights 62,914,560 x48 =
		// 3,019,898,880; 24 dense MLPs 3*5120*16384 = 251,658,240 each;
		// 24 MoE layers with router 5120*128, one routed and one shared
		// expert 3*5120*8192 each = 252,313,600; head 202048*5120 =
		// 1,034,485,760: 16,149,708,800 weights. Attention: 36 chunked
		// layers attend 8192/2 keys, 12 global layers 32768/2:
		// 36*2*40*256*4096 + 12*2*40*256*16384 = 7,046,430,720.
		{"llama4-maverick", 32768, 2*16_149_708_800 + 7_046_430_720},
	}
	for _, tt := range tests {
		m := lookup(t, tt.id)
		if got := m.FLOPsPerToken(tt.seq); !near(got, tt.want) {
			t.Errorf("%s FLOPsPerToken(%d) = %.0f, want %.0f", tt.id, tt.seq, got, tt.want)
		}
	}
}

// TestTiedHeadCostsFLOPs: with tied embeddings the output projection is
// stored once but still multiplied through (Narayanan et al. 2021, Sec.
// 5.1: the logit layer costs 2*V*h per token forward).
func TestTiedHeadCostsFLOPs(t *testing.T) {
	m := lookup(t, "gpt-175b")
	h := int64(m.Hidden)
	// Per layer: 12h^2 weights, and biases 4h (attention) + 5h (MLP).
	want := int64(m.Layers)*(12*h*h+9*h) + int64(m.Vocab)*h
	if got := m.MatmulParamsPerToken(); got != want {
		t.Errorf("gpt-175b MatmulParamsPerToken = %d, want %d", got, want)
	}
}

func TestAttendedLength(t *testing.T) {
	tests := []struct {
		id         string
		layer, seq int
		want       float64
	}{
		{"llama3-8b", 0, 8192, 4096},
		{"llama4-scout", 0, 65536, 4096},   // chunked layer: half a chunk
		{"llama4-scout", 3, 65536, 32768},  // global NoPE layer
		{"llama4-scout", 0, 4096, 2048},    // chunk longer than the sequence
		{"gpt-oss-120b", 0, 8192, 127},     // window 128: 128 - 128^2/(2*8192)
		{"gpt-oss-120b", 1, 8192, 4096},    // full-attention layer
		{"gpt-oss-120b", 0, 128, 64},       // window covers the sequence
		{"deepseek-v3", 60, 131072, 65536}, // MLA attends everything
	}
	for _, tt := range tests {
		m := lookup(t, tt.id)
		if got := m.AttendedLength(tt.layer, tt.seq); !near(got, tt.want) {
			t.Errorf("%s AttendedLength(%d, %d) = %g, want %g", tt.id, tt.layer, tt.seq, got, tt.want)
		}
	}
}

func TestKVBytes(t *testing.T) {
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		// Llama 4 model card: 4 KiB per token per layer in bf16
		// (2 x 8 KV heads x 128 x 2 bytes).
		{"llama4 per token per layer", float64(lookup(t, "llama4-maverick").KVElementsPerTokenLayer()) * 2, 4096},
		// 1M context: the 12 global layers keep every token, the 36
		// chunked layers at most 8192.
		{"maverick 1M context", lookup(t, "llama4-maverick").KVBytes(1<<20, 2), 12*(1<<20)*4096 + 36*8192*4096},
		{"maverick 8K context", lookup(t, "llama4-maverick").KVBytes(8192, 2), 48 * 8192 * 4096},
		// DeepSeek-V3 caches the 512 latent + 64 RoPE key per layer
		// (arXiv 2405.04434 Sec. 2.1): (512+64)*61*2 bytes.
		{"deepseek-v3 per token", lookup(t, "deepseek-v3").KVBytesPerToken(2), 576 * 61 * 2},
		// gpt-oss-120b: 18 full layers keep 131072 tokens, 18 sliding
		// layers 128, each 2 x 8 x 64 x 2 bytes.
		{"gpt-oss 128K context", lookup(t, "gpt-oss-120b").KVBytes(131072, 2), 18*131072*2048 + 18*128*2048},
	}
	for _, tt := range tests {
		if !near(tt.got, tt.want) {
			t.Errorf("%s: %.0f bytes, want %.0f", tt.name, tt.got, tt.want)
		}
	}
}

// TestComponentParams checks the per-block counts of the architectural
// features beyond a plain Llama block.
func TestComponentParams(t *testing.T) {
	oss := lookup(t, "gpt-oss-120b")
	nem := lookup(t, "nemotron4-340b")
	qwen := lookup(t, "qwen3-30b-a3b")
	ds := lookup(t, "deepseek-v3")
	tests := []struct {
		name      string
		got, want int64
	}{
		// q 2880x4096, k and v 2880x512, o 4096x2880, biases 4096+1024+2880,
		// one sink per head.
		{"gpt-oss attention", oss.AttentionParams(), 2880*4096*2 + 2*2880*512 + 8000 + 64},
		// gate, up, down 2880x2880 with biases 2880 each.
		{"gpt-oss expert", oss.ExpertParams(), 3*2880*2880 + 3*2880},
		{"gpt-oss router", oss.RouterParams(), 2880*128 + 128},
		{"gpt-oss norms", oss.NormParams(), 2 * 2880},
		// Squared ReLU: up and down only; LayerNorm with bias.
		{"nemotron mlp", nem.DenseMLPParams(), 2 * 18432 * 73728},
		{"nemotron norms", nem.NormParams(), 4 * 18432},
		// Two RMSNorms plus per-head q and k norms of 128.
		{"qwen3 norms", qwen.NormParams(), 2*2048 + 2*128},
		// MLA: q down 7168x1536 + norm + up 1536x128x192; kv down
		// 7168x576 + norm 512 + up 512x128x256; o 128x128x7168.
		{"deepseek mla", ds.AttentionParams(), 7168*1536 + 1536 + 1536*128*192 + 7168*576 + 512 + 512*128*256 + 128*128*7168},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, tt.got, tt.want)
		}
	}
}

func BenchmarkFLOPsPerToken(b *testing.B) {
	m := lookup(b, "llama4-maverick")
	b.ReportAllocs()
	for b.Loop() {
		_ = m.FLOPsPerToken(8192)
	}
}

func BenchmarkLookup(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Lookup("llama4-maverick"); err != nil {
			b.Fatal(err)
		}
	}
}

// The MLP kind fixes the matrices counted: gated MLPs (SwiGLU, GeGLU) have
// three, plain ones (GeLU, squared ReLU) two, and the FLOPs follow.
func TestMLPMatricesByActivation(t *testing.T) {
	tests := []struct {
		a    Activation
		want int64
	}{{SwiGLU, 3}, {GeGLU, 3}, {GeLU, 2}, {ReLU2, 2}}
	for _, tt := range tests {
		m := Model{ID: "x", Layers: 1, Hidden: 64, FFN: 256, Heads: 1, KVHeads: 1, HeadDim: 64, Vocab: 10, Act: tt.a}
		if got := m.DenseMLPParams(); got != tt.want*64*256 {
			t.Errorf("%s: dense MLP params %d, want %d matrices of 64x256", tt.a, got, tt.want)
		}
		if err := m.Validate(); err != nil {
			t.Errorf("%s: %v", tt.a, err)
		}
	}
}
