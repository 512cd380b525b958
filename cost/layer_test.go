package cost

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
)

// ListTotals sums a model's operator lists on one unsharded GPU over its
// layers: the forward FLOPs per token (GEMMs, grouped GEMMs and attention)
// and the weight elements the GEMMs read. Training (train.layerWork) and
// serving (infer.Config.Forward) price these same lists.
func listTotals(m *model.Model, seq int, in LayerInput) (flopsPerToken, weights float64) {
	var buf [16]Op
	for i := 0; i < m.Layers; i++ {
		in.Model, in.Layer = m, i
		l := BuildLayer(buf[:0], in)
		for k := range l.Ops {
			o := &l.Ops[k]
			f := o.GEMMFLOPs()
			if o.Kind == AttentionOp {
				f = o.FLOPs
			}
			flopsPerToken += f / l.Tokens
			weights += o.WeightElems()
		}
	}
	return flopsPerToken, weights
}

// For every catalog model the operator list carries the model's FLOPs per
// token (model.FLOPsPerToken less the LM head, which is not a layer) and
// its layer weights (all parameters less embeddings, head and norms), to
// within the biases and MLA's latent norms that model counts and the
// GEMMs do not (under 0.1%).
func TestLayerListMatchesModelCounts(t *testing.T) {
	const seq = 4096
	for _, m := range model.Builtin() {
		m := m
		in := LayerInput{Seqs: 2, SeqLen: seq, TP: 1, CP: 1, EP: 1, ETP: 1, Prec: hardware.BF16}
		for _, serving := range []bool{false, true} {
			in.RouterReplicated = serving // the same at tp 1
			gotF, gotW := listTotals(&m, seq, in)
			head := 2 * float64(m.Vocab) * float64(m.Hidden)
			wantF := m.FLOPsPerToken(seq) - head
			wantW := float64(m.TotalParams() - m.EmbeddingParams() - m.HeadParams() - int64(m.Layers)*m.NormParams())
			if d := math.Abs(gotF/wantF - 1); d > 1e-3 {
				t.Errorf("%s: list FLOPs per token %.6g, model %.6g (off by %.2g)", m.ID, gotF, wantF, d)
			}
			if d := math.Abs(gotW/wantW - 1); d > 1e-3 {
				t.Errorf("%s: list weights %.6g, model %.6g (off by %.2g)", m.ID, gotW, wantW, d)
			}
		}
	}
}

// Sharding divides the work: at tp x ep the GPUs together run the
// unsharded FLOPs, up to the KV heads and MLA down-projections that TP
// replicates and the router each TP rank runs on its share.
func TestLayerListSharding(t *testing.T) {
	m, err := model.Lookup("qwen3-30b-a3b")
	if err != nil {
		t.Fatal(err)
	}
	in := LayerInput{Seqs: 1, SeqLen: 4096, TP: 1, CP: 1, EP: 1, ETP: 1, Prec: hardware.BF16}
	f1, w1 := listTotals(m, 4096, in)
	in.TP, in.EP = 4, 8
	f4, w4 := listTotals(m, 4096, in)
	// Each GPU holds 1/8 of the experts at full width and 1/4 of
	// attention: the weights shrink by between 4 and 8.
	if r := w1 / w4; r < 4 || r > 8 {
		t.Errorf("tp4 ep8 holds 1/%.2f of the layer weights, want between 1/4 and 1/8", r)
	}
	// Per token of the GPU's own sequence, attention and dense work split
	// over tp; the experts' tokens are the TP share gathered from the ep
	// group, so their work per GPU token splits over tp too.
	if r := f1 / f4; math.Abs(r-4) > 0.2 {
		t.Errorf("tp4 runs 1/%.2f of the FLOPs per token, want about 1/4", r)
	}
}

// The fused serving kernels of a layer, by model family: GQA attention 6
// (2 outside piecewise graphs), MLA 13 (6), a dense MLP 4, an MoE block 8
// and its shared experts 3.
func TestLayerFusedKernels(t *testing.T) {
	type counts struct{ Attn, AttnEager, FFN int }
	for _, tc := range []struct {
		model string
		layer int
		want  counts
	}{
		{"llama3.1-8b", 0, counts{6, 2, 4}},
		{"qwen3-30b-a3b", 0, counts{6, 2, 8}},
		{"deepseek-v3", 0, counts{13, 6, 4}},
		{"deepseek-v3", 3, counts{13, 6, 8 + 3}},
	} {
		m, err := model.Lookup(tc.model)
		if err != nil {
			t.Fatal(err)
		}
		var buf [16]Op
		l := BuildLayer(buf[:0], LayerInput{Model: m, Layer: tc.layer, Seqs: 1, SeqLen: 1, TP: 1, CP: 1, EP: 1, ETP: 1, Prec: hardware.BF16, RouterReplicated: true})
		var got counts
		got.Attn, got.AttnEager = l.FusedKernels(AttnProj, AttnCore)
		got.FFN, _ = l.FusedKernels(MLP, Experts, Router, Shared, Permute)
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%s layer %d fused kernels (-want +got):\n%s", tc.model, tc.layer, d)
		}
	}
}

// The MoE permutation passes follow the dispatcher: Megatron-Core's
// all-to-all runs a global and a local permute and their mirrors (four
// passes over the routed slots at etp 1), a fused dispatcher only the
// local pair (two), torchtitan's PyTorch expert parallelism two more than
// the all-to-all (six); the router's logit passes are the same for all.
func TestDispatcherPermutationPasses(t *testing.T) {
	m, err := model.Lookup("qwen3-30b-a3b")
	if err != nil {
		t.Fatal(err)
	}
	layer := 0
	for !m.IsMoELayer(layer) {
		layer++
	}
	permute := func(d Dispatcher) float64 {
		var buf [16]Op
		l := BuildLayer(buf[:0], LayerInput{Model: m, Layer: layer, Seqs: 1, SeqLen: 4096, TP: 1, CP: 1, EP: 8, ETP: 1, Prec: hardware.BF16, Dispatcher: d})
		for _, o := range l.Ops {
			if o.Block == Permute {
				return o.Bytes
			}
		}
		t.Fatalf("dispatcher %d: no permutation operator", d)
		return 0
	}
	router := 4096.0 * float64(m.MoE.Experts) * 4 * 5
	pass := 4096.0 * float64(m.MoE.TopK) * float64(m.Hidden) * 2 * 2 // read and write the slots once
	got := map[string]float64{}
	for name, d := range map[string]Dispatcher{"alltoall": DispatchAllToAll, "fused": DispatchFused, "torch": DispatchTorch} {
		got[name] = (permute(d) - router) / pass
	}
	if diff := cmp.Diff(map[string]float64{"alltoall": 4, "fused": 2, "torch": 6}, got); diff != "" {
		t.Errorf("permutation passes by dispatcher (-want +got):\n%s", diff)
	}
}
