package parallel

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scaleacross/scaleacross/model"
)

func TestSplitLayers(t *testing.T) {
	tests := []struct {
		layers, pp, vp int
		want           LayerSplit
		wantErr        bool
	}{
		{96, 8, 3, LayerSplit{PerChunk: 4}, false},
		// Llama 3 405B: 126 layers on 16 stages, one fewer on the first and last.
		{126, 16, 1, LayerSplit{PerChunk: 8, EdgeFewer: true}, false},
		{126, 16, 4, LayerSplit{PerChunk: 2, EdgeFewer: true}, false},
		{96, 5, 1, LayerSplit{}, true},
	}
	for _, tt := range tests {
		got, err := SplitLayers(tt.layers, tt.pp, tt.vp)
		if (err != nil) != tt.wantErr {
			t.Errorf("SplitLayers(%d,%d,%d) err = %v", tt.layers, tt.pp, tt.vp, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("SplitLayers(%d,%d,%d) (-want +got):\n%s", tt.layers, tt.pp, tt.vp, diff)
		}
		if err == nil {
			n, total := tt.pp*tt.vp, 0
			for v := 0; v < n; v++ {
				total += got.Layers(v, n)
			}
			if total != tt.layers {
				t.Errorf("split of %d layers sums to %d", tt.layers, total)
			}
		}
	}
}

// In-flight micro-batches: 1F1B holds p, interleaved p(1+(p-1)/(pv))
// (Korthikanti et al. 2022, section 4.2.3), GPipe m.
func TestInFlight(t *testing.T) {
	if got := InFlight("1f1b", 8, 1, 64); got != 8 {
		t.Errorf("1f1b: %v", got)
	}
	if got := InFlight("gpipe", 8, 1, 64); got != 64 {
		t.Errorf("gpipe: %v", got)
	}
	if got, want := InFlight("interleaved-1f1b", 16, 4, 64), 16*(1+15.0/64); math.Abs(got-want) > 1e-12 {
		t.Errorf("interleaved: %v want %v", got, want)
	}
	if got := InFlight("1f1b", 8, 1, 4); got != 4 {
		t.Errorf("1f1b with fewer micro-batches than stages: %v", got)
	}
}

// Korthikanti et al. 2022 eq. 2 with SP: a GPT layer keeps
// sbh(34/t + 5as/(ht)) bytes; ours keeps fewer for fused attention and
// fused activations but must keep the score terms when attention is unfused.
func TestLayerActivationsAgainstKorthikanti(t *testing.T) {
	m := &model.Model{ID: "gpt", Layers: 96, Hidden: 12288, FFN: 4 * 12288, Heads: 96, KVHeads: 96, HeadDim: 128, Vocab: 51200, Act: model.GeLU, Bias: true}
	c := Config{TP: 8, PP: 1, VP: 1, CP: 1, EP: 1, DP: 1, SP: true}
	s, b, h, a, tp := 2048.0, 1.0, 12288.0, 96.0, 8.0
	korth := s * b * h * (34/tp + 5*a*s/(h*tp))
	got := LayerActivationBytes(m, c, 0, 1, 2048, RecomputeNone, true)
	if got < 0.7*korth || got > 1.05*korth {
		t.Errorf("unfused layer activations %.3g B, Korthikanti %.3g B", got, korth)
	}
	fused := LayerActivationBytes(m, c, 0, 1, 2048, RecomputeNone, false)
	if fused >= got {
		t.Errorf("fused attention should keep less than unfused")
	}
	full := LayerActivationBytes(m, c, 0, 1, 2048, RecomputeFull, true)
	if want := 2 * s * b * h / tp; full != want {
		t.Errorf("full recompute keeps %v, want the layer input %v", full, want)
	}
}

func TestZeroShardsState(t *testing.T) {
	m := &model.Model{ID: "d", Layers: 32, Hidden: 4096, FFN: 14336, Heads: 32, KVHeads: 8, HeadDim: 128, Vocab: 128256, Act: model.SwiGLU}
	b := Batch{SeqLen: 4096, GlobalBatch: 64, MicroBatch: 1}
	var prev Memory
	for z := 0; z <= 3; z++ {
		c := Config{TP: 1, PP: 1, VP: 1, CP: 1, EP: 1, DP: 64, Zero: z}
		got := Estimate(m, c, b, RecomputeNone, "1f1b", false)
		if z > 0 && !(got.Weights+got.Gradients+got.Optimizer < prev.Weights+prev.Gradients+prev.Optimizer) {
			t.Errorf("zero %d does not shrink the model state: %+v vs %+v", z, got, prev)
		}
		prev = got
	}
}

// A gated MLP keeps two intermediate tensors for backward (gate and up),
// whatever its non-linearity: GeGLU (Grok-1) stores what SwiGLU stores, and
// squared ReLU (Nemotron-4) what GeLU stores.
func TestActivationBytesByMLPKind(t *testing.T) {
	base := model.Model{ID: "x", Layers: 2, Hidden: 1024, FFN: 4096, Heads: 8, KVHeads: 8, HeadDim: 128, Vocab: 1000}
	c := Config{TP: 1, PP: 1, VP: 1, CP: 1, EP: 1, DP: 1}
	bytes := func(a model.Activation) float64 {
		m := base
		m.Act = a
		return LayerActivationBytes(&m, c, 0, 1, 2048, RecomputeNone, false)
	}
	tests := []struct{ a, same model.Activation }{
		{model.GeGLU, model.SwiGLU},
		{model.ReLU2, model.GeLU},
	}
	for _, tt := range tests {
		if got, want := bytes(tt.a), bytes(tt.same); got != want {
			t.Errorf("%s: %v bytes, want %v as %s", tt.a, got, want, tt.same)
		}
	}
	// The gated MLP keeps one ffn-wide tensor more per token.
	if d := bytes(model.SwiGLU) - bytes(model.GeLU); d != 2048*4096*actBytes {
		t.Errorf("gated minus plain MLP = %v bytes, want one ffn-wide bf16 tensor (%v)", d, 2048*4096*actBytes)
	}
}
