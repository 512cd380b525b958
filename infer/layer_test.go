package infer

import (
	"math"
	"testing"

	"github.com/scaleacross/scaleacross/cost"
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
)

// Serving prices the operator list that training prices (cost.BuildLayer):
// a decode step of one sequence on one GPU streams every layer's weights
// once, so its GEMM time is the model's layer parameter bytes (experts:
// the top-k of them, at the grouped-GEMM bandwidth) over HBM bandwidth,
// for every catalog model, to within the biases the GEMMs do not read.
func TestServingReadsModelWeightBytes(t *testing.T) {
	for _, id := range model.IDs() {
		c := config(t, id, "h200", 1, hardware.BF16)
		m := c.Model
		b := c.Forward(Pass{Batch: 1, Tokens: 1, Context: 16, Logits: 1})
		var want float64
		first, _ := c.moeBandwidths() // the experts one token selects
		for i := 0; i < m.Layers; i++ {
			p := m.AttentionParams()
			if m.IsMoELayer(i) {
				p += m.RouterParams() + m.SharedExpertParams()
				want += float64(m.MoE.TopK) * float64(m.ExpertParams()) * 2 / first
			} else {
				p += m.DenseMLPParams()
			}
			want += float64(p) * 2 / c.hbm()
		}
		if d := math.Abs(b.GEMM/want - 1); d > 1e-3 {
			t.Errorf("%s: serving's decode GEMM time %.4g ms, the model's weight bytes take %.4g ms (off by %.2g)", m.ID, b.GEMM*1e3, want*1e3, d)
		}
	}
}

// Serving prices GEMMs at the share of peak training does: the GPU's
// measured large-GEMM share against H100's (hardware.GPU.GEMMFraction,
// 0.80 on Blackwell) scales both, so B200 serving is not priced at the
// datasheet share while B200 training is derated.
func TestServingTakesTrainingsGEMMShare(t *testing.T) {
	for _, gid := range []string{"h100-sxm", "h200", "b200", "gb200"} {
		c := config(t, "llama3-8b", gid, 1, hardware.BF16)
		pk, _ := c.GPU.PeakTFLOPS(hardware.BF16)
		serving := c.peakFLOPs() / (pk * 1e12)
		training := cost.NewDevice(c.GPU, cost.Default()).P.GEMMEfficiency / cost.Default().GEMMEfficiency
		if math.Abs(serving-training) > 1e-12 {
			t.Errorf("%s: serving prices GEMMs at %.4f of the peak, training at %.4f", gid, serving, training)
		}
		if gid == "b200" && !(serving < 1) {
			t.Errorf("b200: no measured GEMM share applied (%.3f)", serving)
		}
	}
}

// The memory side holds what the time side streams: where MLA's absorbed
// up-projection runs from 16-bit copies of kv_b_proj (vLLM's MLABMM16,
// int4 weights everywhere), WeightBytes counts those copies beside the
// checkpoint's kv_b_proj, and only there.
func TestMLABMM16CopiesInWeightBytes(t *testing.T) {
	for _, w := range []hardware.Precision{hardware.FP8, hardware.INT4} {
		c := config(t, "deepseek-v3", "h200", 8, w)
		a, m := c.Model.MLA, c.Model
		copies := float64(m.Layers*a.KVLoRARank*m.Heads*(a.QKNopeHeadDim+a.VHeadDim)) * 2 / 8
		on := *c
		on.Eff.MLABMM16 = true
		off := *c
		off.Eff.MLABMM16 = false
		want := copies
		if w == hardware.INT4 {
			want = 0 // int4 runs the 16-bit copies whatever the flag
		}
		if got := on.WeightBytes() - off.WeightBytes(); math.Abs(got-want) > 1 {
			t.Errorf("%s: the flag adds %.4g bytes per GPU, want %.4g", w, got, want)
		}
	}
}
