package parallel

import (
	"math"

	"github.com/scaleacross/scaleacross/internal/fill"
	"github.com/scaleacross/scaleacross/model"
)

// Bytes per parameter of the training state under mixed precision with
// Adam (Megatron-LM defaults, Rajbhandari et al. 2020 "ZeRO", arXiv 1910.02054):
// 16-bit weights, fp32 gradient accumulation buffers ("main grads"), and
// fp32 master weights plus two fp32 Adam moments in the optimizer.
const (
	weightBytes    = 2
	gradBytes      = 4
	optimizerBytes = 12
	actBytes       = 2 // activations are kept in bf16/fp16 (fp8 recipes keep bf16 copies too)
)

// ReservedBytes is memory taken before the model loads: CUDA context,
// NCCL channels and cuBLAS/cuDNN workspaces. Assumption: about 2.5 GiB,
// in line with what PyTorch jobs report as non-tensor memory on H100
// (context ~0.5 GiB, NCCL buffers 4 MiB x channels x peers, workspaces).
const ReservedBytes = 2.5 * (1 << 30)

// Memory is the per-GPU memory of the most loaded pipeline stage, in bytes.
type Memory struct {
	Weights     float64 `json:"weights"`
	Gradients   float64 `json:"gradients"`
	Optimizer   float64 `json:"optimizer"`
	Activations float64 `json:"activations"`
	Buffers     float64 `json:"buffers"`
	Total       float64 `json:"total"`
	// InFlight is the number of micro-batches whose activations the stage holds at peak.
	InFlight float64 `json:"in_flight_micro_batches"`
}

// StageParams counts the parameters one GPU of each virtual stage holds,
// split into dense (TP-sharded) and expert parameters; index v of each
// slice is virtual stage v in pipeline order. Experts are split over ep
// and, within each expert, over etp (ExpertTP: tp unless set, Megatron-Core's
// default for expert_tensor_parallel_size).
func StageParams(m *model.Model, c Config, split LayerSplit) (dense, expert []float64) {
	stages := c.PP * c.VP
	dense = make([]float64, stages)
	expert = make([]float64, stages)
	StageParamsInto(m, c, split, dense, expert)
	return dense, expert
}

// StageParamsInto is StageParams writing into dense and expert, each of
// length pp*vp and zero, so that a caller can reuse them. It reports
// whether every virtual stage but the first, the last and m's MTP stage
// (MTPStage) holds the same parameters, as under an even split of dense
// layers; false says nothing.
func StageParamsInto(m *model.Model, c Config, split LayerSplit, dense, expert []float64) (fewDiffer bool) {
	stages := c.PP * c.VP
	denseLayer := float64(m.AttentionParams() + m.NormParams() + m.DenseMLPParams())
	moeDense := float64(m.AttentionParams() + m.NormParams() + m.RouterParams() + m.SharedExpertParams())
	var moeExpert float64
	if m.MoE != nil {
		moeExpert = float64(m.MoE.Experts) * float64(m.ExpertParams())
	}
	layer := 0
	edges := 0 // layers fewer at the edges
	if split.EdgeFewer {
		edges = 2
	}
	if m.MoE == nil && split.Explicit == nil && stages >= 2 && stages*split.PerChunk-edges <= m.Layers {
		// An even split of dense layers, none past the model's last: every
		// virtual stage but the edges, the embedding's, the head's and the
		// MTP stage holds PerChunk layers and nothing else, so it gets the
		// quotient the loops below would give it; those few are counted
		// one by one, in the order below.
		tp, ep := float64(c.TP), float64(c.EP*c.ExpertTP())
		inner, none := denseLayers(split.PerChunk, denseLayer)/tp, 0/ep
		fill.Slice(dense, inner)
		if math.Float64bits(none) != 0 { // else expert holds it already (zero)
			fill.Slice(expert, none)
		}
		mtp := MTPStage(m, c)
		for i, v := range [3]int{0, stages - 1, mtp} {
			if v < 0 || (i == 2 && (v == 0 || v == stages-1)) {
				continue // no MTP stage, or one of the first two (already counted)
			}
			d := denseLayers(split.Layers(v, stages), denseLayer)
			if v == 0 {
				d += float64(m.EmbeddingParams())
			}
			if v == stages-1 {
				d += float64(m.HeadParams())
			}
			if v == mtp {
				n := float64(m.MTPLayers)
				d += n * denseLayer
				d += n*float64(m.MTPProjectionParams()) + float64(m.EmbeddingParams())
			}
			dense[v] = d / tp
		}
		return true
	}
	if m.MoE == nil {
		// Every layer dense: a virtual stage's count depends on how many
		// layers it holds alone (its entries start at zero), so each count
		// is summed once, for the first stage holding that many.
		lastK, last := -1, 0.0
		for v := 0; v < stages; v++ {
			n := split.Layers(v, stages)
			k := min(layer+n, m.Layers) - layer
			layer += n
			if k != lastK {
				lastK, last = k, denseLayers(k, denseLayer)
			}
			dense[v] = last
		}
	}
	for v := 0; v < stages && m.MoE != nil; v++ {
		n := split.Layers(v, stages)
		d, x := dense[v], expert[v] // summed layer by layer, in registers
		end := min(layer+n, m.Layers)
		switch oneKind(m, layer, end) {
		case kindMoE: // the same additions, without asking each layer
			for i := layer; i < end; i++ {
				d += moeDense
				x += moeExpert
			}
		case kindDense:
			for i := layer; i < end; i++ {
				d += denseLayer
			}
		default:
			for i := layer; i < end; i++ {
				if m.IsMoELayer(i) {
					d += moeDense
					x += moeExpert
				} else {
					d += denseLayer
				}
			}
		}
		dense[v], expert[v] = d, x
		layer += n
	}
	dense[0] += float64(m.EmbeddingParams())
	dense[stages-1] += float64(m.HeadParams())
	if v := MTPStage(m, c); v >= 0 {
		// Each MTP module: a layer of the last layer's kind and its
		// projection; the stage also holds a copy of the embedding for the
		// next tokens (Megatron-Core builds the embedding on the MTP stage;
		// the output head is the loss stage's own).
		n := float64(m.MTPLayers)
		if m.IsMoELayer(m.Layers - 1) {
			dense[v] += n * moeDense
			expert[v] += n * moeExpert
		} else {
			dense[v] += n * denseLayer
		}
		dense[v] += n*float64(m.MTPProjectionParams()) + float64(m.EmbeddingParams())
	}
	tp, ep := float64(c.TP), float64(c.EP*c.ExpertTP())
	// Most stages hold what the one before holds: equal counts give equal
	// quotients, so each run divides once.
	var dIn, dOut, xIn, xOut float64 = 0, 0 / tp, 0, 0 / ep
	for v := range dense {
		if d := dense[v]; d != dIn {
			dIn, dOut = d, d/tp
		}
		if x := expert[v]; x != xIn {
			xIn, xOut = x, x/ep
		}
		dense[v], expert[v] = dOut, xOut
	}
	return false
}

// denseLayers is k dense layers' count x added to zero one layer at a
// time, as StageParamsInto sums a virtual stage's layers.
func denseLayers(k int, x float64) float64 {
	if k > 0 && exactSum(0, k, x) {
		// k whole counts added one by one are k times the count, to the
		// bit (exactSum).
		return float64(k) * x
	}
	var d float64
	for range max(k, 0) {
		d += x
	}
	return d
}

// exactSum reports whether adding x to d k times, one at a time, gives
// d + k*x exactly: d and x whole numbers, not negative, and the sum below
// 2^53, so that every partial sum (no larger) is a float64 exactly and no
// addition rounds. Parameter counts are such numbers.
func exactSum(d float64, k int, x float64) bool {
	return whole(d) && whole(x) && d+float64(k)*x < exactBelow
}

// exactBelow bounds the whole numbers that a float64 holds exactly, and
// whole reports whether y is one of them, not negative.
const exactBelow = 1 << 53

func whole(y float64) bool { return y >= 0 && y < exactBelow && y == float64(int64(y)) }

// LayerActivationBytes is what one layer stores for backward for one
// micro-batch of b sequences of seqLen tokens on one GPU.
//
// The count follows Korthikanti et al. 2022 (arXiv 2205.05198, section 4)
// tensor by tensor, adapted to current kernels: flash attention keeps no
// score matrix (only Q, K, V, the output and fp32 log-sum-exp), fused
// activation kernels keep the MLP's first projection output and recompute
// the activation function in backward (SwiGLU, GeGLU: gate and up; GeLU: its
// input), and GPT layers keep their dropout masks (1 byte). With sequence
// parallelism every tensor outside the TP region is split over tp; without
// it those stay whole. Unfused attention (Megatron before fused kernels)
// also keeps the scores, softmax and dropout output: 5*a*s^2*b bytes per
// layer over tp (Korthikanti et al. eq. 1), unless selective recomputation
// drops them.
func LayerActivationBytes(m *model.Model, c Config, layer, b, seqLen int, r Recompute, unfused bool) float64 {
	t := float64(c.TP)
	T := float64(b) * float64(seqLen) / float64(c.CP) // tokens on this GPU's sequence shard
	h := float64(m.Hidden)
	outside := T * h // a full-width tensor outside the TP region
	if c.SP {
		outside /= t
	}
	if r == RecomputeFull {
		return outside * actBytes // only the layer input
	}
	qk, v := m.HeadDim, m.HeadDim
	kvHeads := float64(m.KVHeads)
	if a := m.MLA; a != nil {
		qk, v = a.QKNopeHeadDim+a.QKRopeHeadDim, a.VHeadDim
		kvHeads = float64(m.Heads)
	}
	heads := float64(m.Heads) / t
	kvPer := kvHeads / t
	if kvPer < 1 {
		kvPer = 1
	}
	// Attention: norm input, QKV input, Q, K, V, output (input of the projection).
	elems := 2*outside + T*heads*float64(qk) + T*kvPer*float64(qk+v) + T*heads*float64(v)
	extra := T * heads * 4 // fp32 log-sum-exp per head
	// MLP or MoE: norm input, MLP input.
	elems += 2 * outside
	mats := 1.0 // stored intermediate tensors per MLP
	if m.Act.Gated() {
		mats = 2
	}
	if unfused && r == RecomputeNone {
		s := float64(seqLen) / float64(c.CP)
		extra += 5 * float64(m.Heads) / t * s * s * float64(b)
	}
	switch {
	case m.IsMoELayer(layer) && r == RecomputeMoE:
		// Only the MoE block's input is kept (counted above): backward
		// recomputes the router, dispatch and experts.
	case m.IsMoELayer(layer):
		e := m.MoE
		// Token slots this GPU's experts process (balanced routing): the
		// etp group gathers its members' dispatched tokens, and each member
		// keeps them at full width and its ffn/etp slice of the intermediate.
		etp := float64(c.ExpertTP())
		routed := T * float64(e.TopK) * etp / t
		elems += routed * h                                 // gathered expert input
		elems += routed * float64(e.ExpertFFN) / etp * mats // first projection output
		elems += routed * h                                 // expert output before the combine
		if e.SharedExperts > 0 {
			elems += T * float64(e.SharedExperts*e.SharedFFN) / t * mats
		}
		extra += T * float64(e.Experts) * 4 / t // router scores, fp32
	default:
		elems += T * float64(m.FFN) / t * mats
	}
	if m.Bias { // GPT: dropout masks after attention, in the MLP and on the residuals
		extra += 2 * outside
	}
	return elems*actBytes + extra
}

// InFlight is the peak number of micro-batches (in whole-stage units)
// whose activations the first pipeline stage holds under a schedule:
// GPipe keeps all m; 1F1B keeps pp (Narayanan et al. 2021, arXiv 2104.04473);
// interleaved 1F1B keeps pp*(1 + (pp-1)/(pp*vp)) (Korthikanti et al. 2022, s4.2.3).
func InFlight(schedule string, pp, vp, m int) float64 {
	var f float64
	switch schedule {
	case "gpipe":
		f = float64(m)
	case "interleaved-1f1b":
		f = float64(pp) * (1 + float64(pp-1)/float64(pp*vp))
	default:
		f = float64(pp)
	}
	if f > float64(m) && schedule != "interleaved-1f1b" {
		f = float64(m)
	}
	return f
}

// Estimate counts the per-GPU memory of the most loaded stage.
func Estimate(m *model.Model, c Config, b Batch, r Recompute, schedule string, unfused bool) Memory {
	return EstimateInFlight(m, c, b, r, InFlight(schedule, c.PP, c.VP, c.MicroBatches(b)), schedule == "gpipe", unfused)
}

// The layer kinds oneKind tells apart: the indices of actKind in
// EstimateWithParams.
const (
	kindDense = 0
	kindMoE   = 1
	kindMixed = 2
)

// oneKind is the kind of every layer lo <= i < hi of m (m.IsMoELayer),
// read off the model's MoE pattern, or kindMixed where they differ or the
// pattern does not say at once.
func oneKind(m *model.Model, lo, hi int) int {
	switch e := m.MoE; {
	case e == nil || hi <= e.FirstDense:
		return kindDense
	case lo >= e.FirstDense && e.Interval <= 1:
		return kindMoE
	}
	return kindMixed
}

// EstimateInFlight is Estimate for a schedule whose first stage holds
// inflight micro-batches (in whole-stage units) at peak; later stages hold
// proportionally fewer unless flat (GPipe: every stage holds them all).
func EstimateInFlight(m *model.Model, c Config, b Batch, r Recompute, inflight float64, flat bool, unfused bool) Memory {
	split, err := c.Split(m.Layers)
	if err != nil {
		split = LayerSplit{PerChunk: (m.Layers + c.PP*c.VP - 1) / (c.PP * c.VP)}
	}
	// Up to 64 virtual stages, the parameter counts live on the stack.
	n := c.PP * c.VP
	var buf [2 * 64]float64
	var both []float64
	if n <= 64 {
		both = buf[:2*n]
	} else {
		both = make([]float64, 2*n)
	}
	dv, ev := both[:n], both[n:]
	StageParamsInto(m, c, split, dv, ev)
	return EstimateWithParams(m, c, b, r, inflight, flat, unfused, split, dv, ev)
}

// EstimateWithParams is EstimateInFlight for a caller that already holds
// the layer split and StageParams' per-virtual-stage parameter counts.
func EstimateWithParams(m *model.Model, c Config, b Batch, r Recompute, inflight float64, flat, unfused bool, split LayerSplit, dv, ev []float64) Memory {
	stages := c.PP * c.VP
	// Per-layer activations of dense and MoE layers, priced at the first
	// layer of each kind.
	var actKind [2]float64
	var priced [2]bool
	// Up to 64 stages, the per-stage sums live on the stack.
	var buf [3 * 64]float64
	var sums []float64
	if c.PP <= 64 {
		sums = buf[:3*c.PP]
	} else {
		sums = make([]float64, 3*c.PP)
	}
	actStage, denseStage, expertStage := sums[:c.PP], sums[c.PP:2*c.PP], sums[2*c.PP:]
	layer := 0
	s := -1 // v % c.PP, kept without dividing
	if m.MoE == nil {
		// Every layer is of kind 0: a stage's activations are that kind's
		// added once per layer it holds, in order, so they depend on its
		// layer count alone (actStage holds the counts until then); its
		// parameters are its chunks' added in pipeline order, as below.
		most := 0
		for v := 0; v < stages; v++ {
			n := split.Layers(v, stages)
			if s++; s == c.PP {
				s = 0
			}
			end := min(layer+n, m.Layers)
			if end > layer {
				if !priced[0] {
					actKind[0] = LayerActivationBytes(m, c, layer, b.MicroBatch, b.SeqLen, r, unfused)
					priced[0] = true
				}
				actStage[s] += float64(end - layer)
			}
			layer += n
		}
		for s := range actStage {
			most = max(most, int(actStage[s]))
		}
		var lb [64]float64
		layerSums := repeatedSums(lb[:0], actKind[0], most)
		for s := range actStage {
			actStage[s] = layerSums[int(actStage[s])]
			var d, x float64
			for v := s; v < stages; v += c.PP {
				d += dv[v]
				x += ev[v]
			}
			denseStage[s], expertStage[s] = d, x
		}
	}
	for v := 0; v < stages && m.MoE != nil; v++ {
		n := split.Layers(v, stages)
		if s++; s == c.PP {
			s = 0
		}
		act := actStage[s] // summed layer by layer, in a register
		end := min(layer+n, m.Layers)
		if k := oneKind(m, layer, end); k != kindMixed && end > layer {
			// Every layer of the chunk of one kind: the same additions,
			// without asking each layer.
			if !priced[k] {
				actKind[k] = LayerActivationBytes(m, c, layer, b.MicroBatch, b.SeqLen, r, unfused)
				priced[k] = true
			}
			for i := layer; i < end; i++ {
				act += actKind[k]
			}
		} else {
			for i := layer; i < end; i++ {
				k := kindDense
				if m.IsMoELayer(i) {
					k = kindMoE
				}
				if !priced[k] {
					actKind[k] = LayerActivationBytes(m, c, i, b.MicroBatch, b.SeqLen, r, unfused)
					priced[k] = true
				}
				act += actKind[k]
			}
		}
		actStage[s] = act
		layer += n
		denseStage[s] += dv[v]
		expertStage[s] += ev[v]
	}
	return stagesMemory(m, c, b, r, inflight, flat, unfused, split, actKind, actStage, denseStage, expertStage)
}

// EstimateDenseStages is EstimateWithParams for a model without MoE
// layers, from what each pipeline stage s holds when virtual stage v sits
// on stage v mod pp: layers[s] layers (the split's, none past the model's
// last), and dense[s] and expert[s] its virtual stages' StageParams added
// in pipeline order to zero. It reads no per-virtual-stage counts.
func EstimateDenseStages(m *model.Model, c Config, b Batch, r Recompute, inflight float64, flat, unfused bool, split LayerSplit, layers []int, dense, expert []float64) Memory {
	var actKind [2]float64
	most := 0
	for _, n := range layers {
		most = max(most, n)
	}
	if most > 0 {
		// Every layer is of kind 0, priced at the first (as
		// EstimateWithParams does).
		actKind[0] = LayerActivationBytes(m, c, 0, b.MicroBatch, b.SeqLen, r, unfused)
	}
	var lb [64]float64
	layerSums := repeatedSums(lb[:0], actKind[0], most)
	var ab [64]float64
	var act []float64
	if len(layers) <= len(ab) {
		act = ab[:len(layers)]
	} else {
		act = make([]float64, len(layers))
	}
	for s, n := range layers {
		act[s] = layerSums[n]
	}
	return stagesMemory(m, c, b, r, inflight, flat, unfused, split, actKind, act, dense, expert)
}

// repeatedSums returns, in buf's storage when it is large enough, x added
// to zero k times one at a time, for every k up to most: what a stage's
// activations sum to, layer by layer, when it holds k layers of one kind.
func repeatedSums(buf []float64, x float64, most int) []float64 {
	var sums []float64
	if most < cap(buf) {
		sums = buf[:most+1]
	} else {
		sums = make([]float64, most+1)
	}
	sums[0] = 0
	for k := 1; k <= most; k++ {
		sums[k] = sums[k-1] + x
	}
	return sums
}

// stagesMemory is the memory of the most loaded pipeline stage, given the
// kinds' per-layer activations and each stage's activations (of one
// in-flight micro-batch; the MTP layers are added here), dense and expert
// parameters; actStage is written to.
func stagesMemory(m *model.Model, c Config, b Batch, r Recompute, inflight float64, flat, unfused bool, split LayerSplit, actKind [2]float64, actStage, denseStage, expertStage []float64) Memory {
	mtpRank := -1
	if v := MTPStage(m, c); v >= 0 {
		// The MTP layers keep one layer's activations each, plus the
		// projection's input (two full-width tensors).
		mtpRank = v % c.PP
		k := 0
		if m.IsMoELayer(m.Layers - 1) {
			k = 1
		}
		T := float64(b.MicroBatch) * float64(b.SeqLen) / float64(c.CP)
		actStage[mtpRank] += float64(m.MTPLayers) * (actKind[k] + 2*T*float64(m.Hidden)*actBytes)
	}
	var rebuilt float64 // backward rebuilds one layer's full activations at a time
	if r == RecomputeFull {
		rebuilt = LayerActivationBytes(m, c, 0, b.MicroBatch, b.SeqLen, RecomputeNone, unfused)
	}
	var best Memory
	// What every stage computes alike, once (the same expressions).
	logits := float64(b.MicroBatch) * float64(b.SeqLen/c.CP) * float64(m.Vocab) / float64(c.TP) * 4
	mtpLogits := float64(m.MTPLayers) * float64(b.MicroBatch) * float64(b.SeqLen/c.CP) * float64(m.Vocab) / float64(c.TP) * 4
	dpDense := float64(c.DP * c.CP)
	// Expert state shards over the expert grid's data-parallel group.
	dpExpert := float64(max(c.EDP(), 1))
	// A stage that holds what an earlier one without the heads holds
	// (most do) holds no more in-flight micro-batches than it, so its
	// total is no larger (every step below is monotone in fl) and cannot
	// replace the best: it is skipped.
	var prevD, prevX, prevA float64
	havePrev := false
	for s := 0; s < c.PP; s++ {
		dense, expert, act := denseStage[s], expertStage[s], actStage[s]
		if heads := s == c.PP-1 || c.PP == 1 || s == mtpRank; !heads {
			if havePrev && dense == prevD && expert == prevX && act == prevA {
				continue
			}
			havePrev, prevD, prevX, prevA = true, dense, expert, act
		}
		// Stage s holds the most in-flight micro-batches at s = 0; later
		// stages hold fewer (1F1B: pp - s).
		fl := inflight * float64(c.PP-s) / float64(c.PP)
		if flat {
			fl = inflight
		}
		act *= fl
		if r == RecomputeFull {
			act += rebuilt
		}
		if s == c.PP-1 || c.PP == 1 {
			// fp32 logits of the output head for one micro-batch, vocab split over tp.
			act += logits
		}
		if s == mtpRank {
			// The MTP head's own logits, alive with the main head's.
			act += mtpLogits
		}
		mem := Memory{
			Weights:     (dense + expert) * weightBytes,
			Gradients:   (dense + expert) * gradBytes,
			Optimizer:   (dense + expert) * optimizerBytes,
			Activations: act,
			InFlight:    fl,
		}
		if c.Zero >= 1 {
			mem.Optimizer = (dense/dpDense + expert/dpExpert) * optimizerBytes
		}
		if c.Zero >= 2 {
			mem.Gradients = (dense/dpDense + expert/dpExpert) * gradBytes
		}
		if c.Zero >= 3 {
			// Sharded weights plus two gathered layers in flight (prefetch).
			perLayer := (dense + expert) / float64(max(1, split.PerChunk*c.VP))
			mem.Weights = (dense/dpDense+expert/dpExpert)*weightBytes + 2*perLayer*weightBytes
		}
		mem.Buffers = ReservedBytes
		mem.Total = mem.Weights + mem.Gradients + mem.Optimizer + mem.Activations + mem.Buffers
		if mem.Total > best.Total {
			best = mem
		}
	}
	return best
}
