package parallel

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scaleacross/scaleacross/fault"
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

// MoE parallel folding (Megatron-Core parallel_state.py; reference/moe.md
// section 1): the expert grid etp*ep*edp*pp covers the same GPUs as the
// attention grid tp*cp*dp*pp, edp is derived, and ep no longer has to
// divide dp*cp when etp < tp.
func TestMoEParallelFolding(t *testing.T) {
	qwen, err := model.Lookup("qwen3-30b-a3b")
	if err != nil {
		t.Fatal(err)
	}
	mixtral, _ := model.Lookup("mixtral-8x7b")
	llama, _ := model.Lookup("llama3-8b")
	b := Batch{SeqLen: 4096, GlobalBatch: 1024, MicroBatch: 1}
	tests := []struct {
		name    string
		m       *model.Model
		c       Config
		gpus    int
		wantEDP int
		field   string // the error's field; "" for a valid configuration
	}{
		// Megatron-Core's MoE README example: TP2 PP8 DP16 = 256 with ETP1 EP32 EDP1.
		{"etp1 ep32 over tp2 dp16", qwen, Config{TP: 2, PP: 8, VP: 1, CP: 1, EP: 32, ETP: 1, DP: 16}, 256, 1, ""},
		// A DeepSeek-V3-like fold on 1,024 GPUs: tp2 pp8 ep64 etp1.
		{"etp1 ep64 over tp2 dp64", qwen, Config{TP: 2, PP: 8, VP: 1, CP: 1, EP: 64, ETP: 1, DP: 64}, 1024, 2, ""},
		// etp defaults to tp: edp = dp*cp/ep, the old carve-out.
		{"etp defaults to tp", mixtral, Config{TP: 2, PP: 1, VP: 1, CP: 2, EP: 4, DP: 8}, 32, 4, ""},
		{"ep beyond dp*cp with etp=tp", mixtral, Config{TP: 2, PP: 1, VP: 1, CP: 1, EP: 8, DP: 4}, 8, 0, "parallel.ep"},
		{"etp*ep does not divide the stage", qwen, Config{TP: 4, PP: 8, VP: 1, CP: 1, EP: 64, ETP: 2, DP: 8}, 256, 0, "parallel.etp"},
		{"experts not divisible by ep", mixtral, Config{TP: 1, PP: 1, VP: 1, CP: 1, EP: 16, DP: 16}, 16, 0, "parallel.ep"},
		{"etp not dividing tp", mixtral, Config{TP: 2, PP: 1, VP: 1, CP: 1, EP: 1, ETP: 4, DP: 8}, 16, 0, "parallel.etp"},
		{"etp on a dense model", llama, Config{TP: 2, PP: 1, VP: 1, CP: 1, EP: 1, ETP: 1, DP: 8}, 16, 0, "parallel.etp"},
		{"negative etp", mixtral, Config{TP: 2, PP: 1, VP: 1, CP: 1, EP: 1, ETP: -1, DP: 8}, 16, 0, "parallel.etp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate(tt.m, tt.gpus, b)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if got := tt.c.EDP(); got != tt.wantEDP {
					t.Errorf("edp = %d, want %d", got, tt.wantEDP)
				}
				if got := tt.c.ExpertTP() * tt.c.EP * tt.c.EDP() * tt.c.PP; got != tt.gpus {
					t.Errorf("etp*ep*edp*pp = %d, want the %d GPUs", got, tt.gpus)
				}
				return
			}
			if !errors.Is(err, fault.ErrBadInput) || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("Validate error %v, want a bad-input error naming %s", err, tt.field)
			}
		})
	}
}

// Expert weights shard over ep*etp and their optimizer state over edp:
// with the same GPUs, etp1 ep8 holds the experts once per 8 GPUs as etp2
// ep4 does, and both shard the distributed optimizer over edp.
func TestExpertStateShardsOnTheExpertGrid(t *testing.T) {
	m, err := model.Lookup("mixtral-8x7b")
	if err != nil {
		t.Fatal(err)
	}
	b := Batch{SeqLen: 4096, GlobalBatch: 64, MicroBatch: 1}
	split, _ := SplitLayers(m.Layers, 1, 1)
	expertPerGPU := func(c Config) float64 {
		_, ev := StageParams(m, c, split)
		return ev[0]
	}
	folded := Config{TP: 2, PP: 1, VP: 1, CP: 1, EP: 8, ETP: 1, DP: 8, Zero: 1}
	classic := Config{TP: 2, PP: 1, VP: 1, CP: 1, EP: 4, DP: 8, Zero: 1}
	all := float64(m.MoELayers()) * float64(m.MoE.Experts) * float64(m.ExpertParams())
	for _, c := range []Config{folded, classic} {
		if got, want := expertPerGPU(c), all/8; math.Abs(got-want) > 1e-6*want {
			t.Errorf("%s: %.4g expert params per GPU, want experts/(ep*etp) = %.4g", c, got, want)
		}
		if err := c.Validate(m, 16, b); err != nil {
			t.Errorf("%s: %v", c, err)
		}
		if c.EDP() != 2 {
			t.Errorf("%s: edp %d, want 2", c, c.EDP())
		}
	}
	z0, z1 := folded, folded
	z0.Zero = 0
	m0 := Estimate(m, z0, b, RecomputeNone, "1f1b", false)
	m1 := Estimate(m, z1, b, RecomputeNone, "1f1b", false)
	// ZeRO-1 divides the dense optimizer state by dp*cp and the expert one by edp.
	dv, ev := StageParams(m, folded, split)
	want := (dv[0]/8 + ev[0]/2) * optimizerBytes
	if math.Abs(m1.Optimizer-want) > 1e-6*want || !(m1.Optimizer < m0.Optimizer) {
		t.Errorf("zero 1 optimizer %.4g bytes, want %.4g (zero 0: %.4g)", m1.Optimizer, want, m0.Optimizer)
	}
	if s := folded.String(); !strings.Contains(s, "ep8 etp1") {
		t.Errorf("String() = %q, want it to show etp1 next to ep8", s)
	}
}

// Layer counts that divide neither evenly nor with one fewer on the edges
// take Megatron-Core's embedding and loss slots (reference/moe.md section 2).
func TestSpreadSlots(t *testing.T) {
	repeat := func(n, v int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = v
		}
		return out
	}
	cat := func(parts ...[]int) []int {
		var out []int
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name           string
		layers, pp, vp int
		want           []int
		wantErr        bool
	}{
		// Megatron-LM's DeepSeek-V3 GB200 layout Et|(tt|)*30L.
		{"deepseek-v3 pp8 vp4", 61, 8, 4, cat([]int{1}, repeat(30, 2), []int{0}), false},
		{"deepseek-v3 pp16", 61, 16, 1, cat([]int{3}, repeat(14, 4), []int{2}), false},
		{"deepseek-v3 pp8", 61, 8, 1, cat([]int{7}, repeat(6, 8), []int{6}), false},
		// A 30-layer proxy on 32 stages: embedding and loss stages alone.
		{"30 layers on 32 stages", 30, 4, 8, cat([]int{0}, repeat(30, 1), []int{0}), false},
		{"more stages than slots", 4, 8, 1, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SpreadSlots(tt.layers, tt.pp, tt.vp)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				if !errors.Is(err, fault.ErrBadInput) || !strings.Contains(err.Error(), "parallel.pp") {
					t.Errorf("error %v, want a bad-input error naming parallel.pp", err)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got.Explicit); diff != "" {
				t.Errorf("split (-want +got):\n%s", diff)
			}
			sum := 0
			for v := range got.Explicit {
				sum += got.Layers(v, tt.pp*tt.vp)
			}
			if sum != tt.layers {
				t.Errorf("split sums to %d layers, want %d", sum, tt.layers)
			}
			// Config.Split falls back to it when SplitLayers refuses.
			c := Config{PP: tt.pp, VP: tt.vp}
			if s, err := c.Split(tt.layers); err != nil || !cmp.Equal(s, got) {
				t.Errorf("Config.Split = %+v, %v; want %+v", s, err, got)
			}
		})
	}
}
