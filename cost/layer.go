package cost

import (
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
)

// OpKind says how an operator is priced.
type OpKind uint8

// The operator kinds.
const (
	// GEMMOp is a dense (M x K) by (K x N) product (Device.GEMM).
	GEMMOp OpKind = iota
	// GroupedOp is Groups products of M tokens per expert
	// (Device.GroupedGEMM).
	GroupedOp
	// AttentionOp is the fused score and value products (Device.Attention).
	AttentionOp
	// MemoryOp is element-wise work bound by HBM bandwidth
	// (Device.MemoryBound).
	MemoryOp
)

// Block names the part of a layer an operator belongs to. Consecutive
// operators of one block are priced together.
type Block uint8

// The blocks of a layer, in the order Layer lists them.
const (
	AttnProj    Block = iota // query, key, value and output projections
	AttnCore                 // the attention operation itself
	MLP                      // the dense MLP
	Experts                  // the routed experts' grouped GEMMs
	Router                   // the MoE router GEMM
	Shared                   // the shared experts
	Elementwise              // norms, residuals, rotary, activation, casts
	Permute                  // MoE router passes and token (un)permutation
)

// Op is one operator of a layer on one GPU, forward. The backward of a
// GEMM is two GEMMs of the same shape (input and weight gradients); that
// of attention is BackwardFLOPs; that of element-wise work moves
// BackwardBytes.
type Op struct {
	Kind  OpKind
	Block Block
	// M, N, K are a GEMM's shape on this GPU (M tokens, N outputs, K
	// inputs); for a grouped GEMM M is the tokens per expert.
	M, N, K float64
	// Groups is the experts a grouped GEMM runs on this GPU.
	Groups float64
	// Prec is the GEMM's precision (the router stays BF16).
	Prec hardware.Precision
	// FLOPs is the attention operation's forward FLOPs (GEMMs: FLOPs).
	FLOPs float64
	// Bytes and BackwardBytes are an element-wise operator's HBM traffic
	// forward and backward; Kernels is the kernels it launches forward
	// (backward launches twice as many where BackwardBytes doubles).
	Bytes, BackwardBytes float64
	Kernels              int
	// Fused is the number of kernels this operator accounts for in the
	// fused inference graphs of vLLM, SGLang and TensorRT-LLM, its fused
	// neighbours (norms, rotary, activation) included; Eager is how many
	// of them piecewise CUDA graphs leave outside the graphs.
	Fused, Eager int
}

// GEMMFLOPs is a GEMM's forward FLOPs (zero for other kinds).
func (o *Op) GEMMFLOPs() float64 {
	switch o.Kind {
	case GEMMOp:
		return 2 * o.M * o.N * o.K
	case GroupedOp:
		return 2 * o.Groups * o.M * o.N * o.K
	}
	return 0
}

// BackwardFLOPs is the backward pass's FLOPs: a GEMM's input and weight
// gradients (twice its forward), and fused attention's 2.5 times the
// forward, which recomputes the scores (Dao 2023, arXiv 2307.08691).
func (o *Op) BackwardFLOPs() float64 {
	if o.Kind == AttentionOp {
		return AttentionBackward * o.FLOPs
	}
	return 2 * o.GEMMFLOPs()
}

// WeightGradFLOPs is the weight-gradient share of BackwardFLOPs (the W
// pass a zero-bubble schedule defers); attention has no weights.
func (o *Op) WeightGradFLOPs() float64 { return o.GEMMFLOPs() }

// AttentionBackward is the ratio of fused attention's backward FLOPs to
// its forward: the backward recomputes the scores (Dao 2023, arXiv
// 2307.08691).
const AttentionBackward = 2.5

// WeightElems is the weight elements a GEMM reads on this GPU.
func (o *Op) WeightElems() float64 {
	switch o.Kind {
	case GEMMOp:
		return o.N * o.K
	case GroupedOp:
		return o.Groups * o.N * o.K
	}
	return 0
}

// Comm is the communication a layer implies per parallel dimension, per
// GPU, forward (backward mirrors it: the gradients of the same tensors).
type Comm struct {
	// TPElems is the activation elements of one TP collective (the full
	// sequence on this GPU times the hidden width); TPCollectives is how
	// many the forward runs (an all-reduce each, or an all-gather and a
	// reduce-scatter under SP).
	TPElems       float64
	TPCollectives int
	// CPElems is the K and V elements one context-parallel ring step
	// sends; CPSteps the ring's steps (cp-1).
	CPElems float64
	CPSteps int
	// EPSlots is the token slots this GPU dispatches to the experts (its
	// tokens times top-k, its TP share) and, at Hidden elements each,
	// combines back: one all-to-all each way over the ep group.
	EPSlots float64
	// ETPElems is the elements the expert tensor-parallel group gathers
	// after the dispatch and reduce-scatters before the combine.
	ETPElems float64
	// Hidden is the model width.
	Hidden float64
}

// LayerInput is what shapes one layer's operators on one GPU.
type LayerInput struct {
	Model *model.Model
	// Layer is the layer index: it selects dense or MoE and local or
	// global attention.
	Layer int
	// Seqs is the sequences in flight on this GPU (the micro-batch) and
	// SeqLen their length: the tokens through the layer are
	// Seqs x SeqLen / CP.
	Seqs, SeqLen int
	// TP, CP, EP and ETP are the degrees that shard the layer; SP says
	// whether the tensor-parallel group also shards the sequence outside
	// attention and the MLP.
	TP, CP, EP, ETP int
	SP              bool
	// Prec is the GEMM precision.
	Prec hardware.Precision
	// Unfused prices attention as batched GEMMs over the whole score
	// square with the softmax in HBM.
	Unfused bool
	// Dispatcher is the MoE token dispatcher, which sets the permutation
	// passes around the expert all-to-all (moeElementwise).
	Dispatcher Dispatcher
	// RouterReplicated runs the router GEMM over all the layer's tokens
	// on every TP rank, as serving engines do (vLLM's and SGLang's
	// replicated gate); otherwise each TP rank routes its 1/tp share of
	// the tokens, as Megatron-Core's MoE layer does (it requires
	// sequence parallelism with TP).
	RouterReplicated bool
}

// Dispatcher names how an MoE layer moves its tokens to the experts and
// back: the permutation passes it runs around the all-to-all.
type Dispatcher uint8

// The dispatchers.
const (
	// DispatchAllToAll is Megatron-Core's all-to-all dispatcher over NCCL
	// (--moe-token-dispatcher-type alltoall, its default): an explicit
	// global permute before the all-to-all, a local sort by expert after
	// it, and their mirrors on the combine side.
	DispatchAllToAll Dispatcher = iota
	// DispatchFused is a dispatcher whose communication kernels fuse the
	// global permute and the weighted combine (DeepEP and HybridEP behind
	// Megatron-Core's flex dispatcher, AutoModel's and torchtitan's DeepEP
	// paths, DeepSeek-V3's own kernels): one permute by local expert after
	// the dispatch and its inverse before the combine remain.
	DispatchFused
	// DispatchTorch is torchtitan's default expert parallelism in PyTorch
	// operators: the all-to-all dispatcher's four passes, plus the routing
	// scores multiplied into the expert output and the scatter-add that
	// returns the top-k slots to their tokens.
	DispatchTorch
)

// Layer is the operator list of one layer on one GPU.
type Layer struct {
	Ops  []Op
	Comm Comm
	// Tokens is the tokens through the layer on this GPU.
	Tokens float64
	// Heads is the query heads on this GPU, QKDim and VDim their widths.
	Heads, QKDim, VDim float64
	// KVCacheElems is the KV-cache elements per token this GPU holds:
	// KV heads split over TP and replicated where TP exceeds them, MLA's
	// latent replicated.
	KVCacheElems float64
	// AttentionFLOPs is the fused attention operation's forward FLOPs
	// (also when Unfused prices it as GEMMs: context parallelism hides
	// its ring behind it).
	AttentionFLOPs float64
	// MoE marks an MoE layer.
	MoE bool
}

// Fused attention kernel counts per block (serving; collectives are
// counted separately). GQA: rmsnorm(+residual), QKV GEMM, rotary
// (+qk-norm), KV-cache write, attention, output GEMM; the KV-cache write
// and the attention kernel are the attention operation, which piecewise
// CUDA graphs leave outside the graphs. MLA (DeepSeek-V2/V3) in absorbed
// decode form: rmsnorm(+residual), fused q_a/kv_a GEMM, q_a and kv_a
// rmsnorms, q_b GEMM, rotary, the W_UK absorption bmm, query concat,
// latent KV-cache write, attention (split-KV decode and its combine), the
// W_UV bmm, output GEMM (the order of vLLM's MLACommonImpl and SGLang's
// DeepseekV2AttentionMLA); the attention operation keeps the W_UK and
// W_UV bmms, the query concat, the cache write, attention and the
// combine (vLLM V1's unified attention and MLA custom ops).
const (
	attnFused, attnEager = 6, 2
	mlaFused, mlaEager   = 13, 6
)

// elementwiseKernels is the kernels of a layer's element-wise work in
// training: two norms, two residual adds, rotary on q and k, the
// activation, and the casts and bias/dropout passes around them
// (Megatron-Core with Transformer Engine's fused kernels).
const elementwiseKernels = 10

// BuildLayer appends the operators of layer in.Layer to ops[:0] and
// returns the list; ops is the caller's buffer, so that a caller pricing
// many layers allocates once.
func BuildLayer(ops []Op, in LayerInput) Layer {
	m := in.Model
	t := float64(in.TP)
	T := float64(in.Seqs) * float64(in.SeqLen) / float64(in.CP)
	h := float64(m.Hidden)
	outside := T * h
	if in.SP {
		outside /= t
	}
	heads := float64(m.Heads) / t
	qk, vd := float64(m.HeadDim), float64(m.HeadDim)
	kvHeads := float64(m.KVHeads)
	if a := m.MLA; a != nil {
		qk, vd = float64(a.QKNopeHeadDim+a.QKRopeHeadDim), float64(a.VHeadDim)
	}
	kvPer := max(kvHeads/t, 1)
	prec := in.Prec
	ops = ops[:0]
	gemm := func(b Block, m, n, k float64, p hardware.Precision, fused int) {
		ops = append(ops, Op{Kind: GEMMOp, Block: b, M: m, N: n, K: k, Prec: p, Fused: fused})
	}

	// Attention projections (their fused kernels are counted on the
	// attention operation, below).
	if a := m.MLA; a != nil {
		// The down-projections q_a and kv_a are replicated over TP.
		qr := float64(a.QLoRARank)
		if qr > 0 {
			gemm(AttnProj, T, qr, h, prec, 0)
			gemm(AttnProj, T, heads*qk, qr, prec, 0)
		} else {
			gemm(AttnProj, T, heads*qk, h, prec, 0)
		}
		kr := float64(a.KVLoRARank)
		gemm(AttnProj, T, kr+float64(a.QKRopeHeadDim), h, prec, 0)
		gemm(AttnProj, T, heads*(float64(a.QKNopeHeadDim)+vd), kr, prec, 0)
		gemm(AttnProj, T, h, heads*vd, prec, 0)
	} else {
		gemm(AttnProj, T, (heads+2*kvPer)*qk, h, prec, 0)
		gemm(AttnProj, T, h, heads*vd, prec, 0)
	}

	// Attention operation: 4*T*s_eff*d per head forward; backward
	// AttentionBackward times that.
	fused, eager := attnFused, attnEager
	if m.MLA != nil {
		fused, eager = mlaFused, mlaEager
	}
	l := Layer{Tokens: T, Heads: heads, QKDim: qk, VDim: vd, Comm: Comm{Hidden: h}}
	af := l.ScoreFLOPs(T, m.AttendedLength(in.Layer, in.SeqLen))
	l.AttentionFLOPs = af
	if in.Unfused {
		// Scores and values as batched GEMMs over the whole s x s square
		// (the causal mask is applied, not skipped), softmax and dropout
		// in HBM: ~9 bytes per score forward, ~11 backward.
		s := float64(in.SeqLen) / float64(in.CP)
		bh := float64(in.Seqs) * heads
		gemm(AttnCore, bh*s, s, qk, prec, 0)
		gemm(AttnCore, bh*s, vd, s, prec, 0)
		ops = append(ops, Op{Kind: MemoryOp, Block: AttnCore, Bytes: bh * s * s * 9, BackwardBytes: bh * s * s * 11, Kernels: 2, Fused: fused, Eager: eager})
	} else {
		ops = append(ops, Op{Kind: AttentionOp, Block: AttnCore, FLOPs: af, Fused: fused, Eager: eager})
	}

	mats := 3.0
	if !m.Act.Gated() {
		mats = 2
	}
	var ffnElems float64 // intermediate activations per token on this GPU
	var moeBytes float64
	var moeKernels int
	moeSP := false // an MoE layer without shared experts under SP: no TP collective around it
	if m.IsMoELayer(in.Layer) {
		l.MoE = true
		x := m.MoE
		// Megatron-Core's expert grid (MoE parallel folding, reference/moe.md
		// section 1): this GPU holds E/ep experts at ffn/etp width. Each GPU
		// dispatches its own token slots over the ep group; the etp group
		// then gathers them, so every etp member computes its slice for
		// the tokens routed to its experts from all etp members.
		etp := float64(in.ETP)
		routed := T * float64(x.TopK) / t // token-slots per GPU before dispatch (TP share)
		local := float64(x.Experts) / float64(in.EP)
		perExpert := routed * etp * float64(in.EP) / float64(x.Experts)
		f := float64(x.ExpertFFN) / etp
		// Fused MoE kernels: rmsnorm, router GEMM, top-k (router); token
		// permute and un-permute with the combine (permutation); grouped
		// gate/up GEMM with its activation, grouped down GEMM.
		ops = append(ops,
			Op{Kind: GroupedOp, Block: Experts, M: perExpert, N: (mats - 1) * f, K: h, Groups: local, Prec: prec, Fused: 2},
			Op{Kind: GroupedOp, Block: Experts, M: perExpert, N: h, K: f, Groups: local, Prec: prec, Fused: 1})
		rt := T / t
		if in.RouterReplicated {
			rt = T
		}
		gemm(Router, rt, float64(x.Experts), h, hardware.BF16, 3)
		ffnElems += routed * etp * f
		moeBytes, moeKernels = moeElementwise(T/t, float64(x.Experts), routed, etp, h, in.Dispatcher)
		if x.SharedExperts > 0 {
			// Shared experts: gate/up GEMM with its activation, down GEMM.
			sf := float64(x.SharedExperts*x.SharedFFN) / t
			gemm(Shared, T, (mats-1)*sf, h, prec, 2)
			gemm(Shared, T, h, sf, prec, 1)
			ffnElems += T * sf
		}
		moeSP = in.SP && x.SharedExperts == 0
		l.Comm.EPSlots = routed
		if in.ETP > 1 {
			l.Comm.ETPElems = routed * etp * h
		}
	} else {
		// Dense MLP: rmsnorm, gate/up GEMM and activation; down GEMM.
		f := float64(m.FFN) / t
		gemm(MLP, T, (mats-1)*f, h, prec, 3)
		gemm(MLP, T, h, f, prec, 1)
		ffnElems += T * f
	}

	// Element-wise work: two norms and two residual adds on the full
	// width (split by tp under SP), rotary on q and k, the activation
	// function on the intermediate, casts for low-precision GEMM inputs;
	// backward moves about twice the bytes.
	bytes := 2*outside*2*2 + 2*outside*3*2 // norms (read+write), residuals (2 reads + write)
	bytes += T * (heads + kvPer) * qk * 2 * 2
	actRW := 3.0
	if !m.Act.Gated() {
		actRW = 2
	}
	bytes += ffnElems * actRW * 2
	if m.Bias {
		bytes += 2 * outside * 3 * 2 // bias + dropout + residual fused, twice
	}
	if prec != hardware.BF16 && prec != hardware.FP16 {
		// Quantise GEMM inputs: read 2 bytes, write 1, for the four GEMM inputs.
		bytes += (4*T*h/t + ffnElems) * 3
	}
	ops = append(ops, Op{Kind: MemoryOp, Block: Elementwise, Bytes: bytes, BackwardBytes: 2 * bytes, Kernels: elementwiseKernels})
	if moeBytes > 0 {
		// Router and token (un)permutation: backward moves the same bytes
		// (the gradient of a permutation is the inverse permutation; the
		// softmax/top-k gradient reads and writes the logits once more).
		ops = append(ops, Op{Kind: MemoryOp, Block: Permute, Bytes: moeBytes, BackwardBytes: moeBytes, Kernels: moeKernels, Fused: 2})
	}

	// Tensor parallelism: with SP, all-gather + reduce-scatter around
	// attention and the MLP; without, one all-reduce each. The MoE block
	// of a layer without shared experts takes its input
	// sequence-parallel and gathers routed tokens over the etp group
	// instead.
	if in.TP > 1 {
		l.Comm.TPElems = T * h
		l.Comm.TPCollectives = 2
		if moeSP {
			l.Comm.TPCollectives = 1
		}
	}
	// Context parallelism: ring exchange of K and V.
	if in.CP > 1 {
		l.Comm.CPElems = T * kvPer * (qk + vd)
		l.Comm.CPSteps = in.CP - 1
	}
	l.KVCacheElems = float64(m.KVElementsPerTokenLayer()) * KVCacheShare(m, in.TP)
	l.Ops = ops
	return l
}

// ScoreFLOPs is the forward FLOPs of the score and value products over
// a x b query-key pairs (a queries attending b keys each, or a sequences
// of b pairs each) on this GPU's heads, 2 FLOPs per multiply-add. Training
// and serving both count attention with it.
func (l *Layer) ScoreFLOPs(a, b float64) float64 {
	return 2 * a * b * l.Heads * (l.QKDim + l.VDim)
}

// KVCacheShare is the fraction of a layer's KV cache one GPU of a TP
// group of tp holds: KV heads split over TP, replicated when TP exceeds
// them (as vLLM's and Megatron's QKV projections replicate them); MLA's
// latent is replicated on every rank.
func KVCacheShare(m *model.Model, tp int) float64 {
	if m.MLA != nil {
		return 1
	}
	kv := float64(m.KVHeads)
	return max(1, kv/float64(tp)) / kv
}

// FusedKernels is the kernels the operators of the given blocks account
// for in fused inference graphs, and how many of them piecewise CUDA
// graphs leave outside the graphs (Op.Fused, Op.Eager).
func (l *Layer) FusedKernels(blocks ...Block) (fused, eager int) {
	for k := range l.Ops {
		o := &l.Ops[k]
		for _, b := range blocks {
			if o.Block == b {
				fused += o.Fused
				eager += o.Eager
			}
		}
	}
	return fused, eager
}

// moeElementwise is the memory-bound work of one MoE layer's router and
// token permutation for one micro-batch on one GPU, forward: the bytes
// moved and the kernels launched. tokens is the tokens this GPU routes
// (its sequence-parallel share), experts the router's width, routed the
// token slots it dispatches (tokens times top-k), etp the expert
// tensor-parallel group that gathers them and h the hidden width.
//
// Router: the logits in fp32 (Megatron-Core computes routing in fp32)
// are written by the router GEMM and read and written by the softmax or
// sigmoid, read by top-k, read by the auxiliary load-balancing loss and
// the score gather: about five fp32 passes, 20 bytes per logit, in about
// six kernels unfused (softmax, top-k, gather, aux-loss reductions);
// Megatron-Core's router fusion merges them, which the GB200 DeepSeek-V3
// write-up measured as worth 529.55 -> 540.00 TFLOPS/GPU, about 2% of the
// step (reference/moe.md section 4).
//
// Permutation: the all-to-all dispatcher (DispatchAllToAll) permutes
// tokens before the all-to-all (global permute) and sorts the received
// chunks by local expert after it (after the etp all-gather where etp >
// 1), and mirrors both on the combine side (unsort, then unpermute with
// the routing probabilities): four passes, each reading and writing every
// 16-bit token slot it touches (MCore MoE README, "alltoall: needs
// explicit global + local permute"; reference/moe.md section 4). The
// permute fusion merges kernels (up to 10x unit speed-up) but cannot drop
// the bytes. A fused dispatcher (DispatchFused: DeepEP, HybridEP) does
// the global permute inside its dispatch kernel and the weighted
// reduction inside its combine, "eliminating the need to explicitly copy
// the tokens top-k times, but still requires a permute kernel to copy and
// rearrange the tokens distributed to different local experts after EP
// communication" (NVIDIA/Megatron-LM@eb0783b6d3
// docs/discussions/deepseek-v3-gb200-optimization, section 2.1.1): the two
// passes over the received slots remain. torchtitan's default expert
// parallelism (DispatchTorch, pytorch/torchtitan@2a642d022d
// torchtitan/distributed/expert_parallel.py and models/moe: the tokens
// gathered in expert order before the all-to-all, _permute after it,
// _unpermute before the combine, the routing scores multiplied into the
// output and a scatter_add back to the tokens) adds those last two
// passes over the slots.
func moeElementwise(tokens, experts, routed, etp, h float64, d Dispatcher) (bytes float64, kernels int) {
	const routerPasses = 5 // fp32 passes over the logits, see above
	bytes = tokens * experts * 4 * routerPasses
	local := 2 * routed * etp // the local sort after the dispatch and its inverse
	slots := 2*routed + local // plus the global permute and unpermute
	kernels = 6 + 4
	switch d {
	case DispatchFused:
		slots, kernels = local, 6+2
	case DispatchTorch:
		slots, kernels = slots+2*routed, 6+6
	}
	bytes += slots * h * 2 * 2 // read and write, 16-bit
	return bytes, kernels
}

// LayerKinds is the number of layer kinds LayerKind tells apart.
const LayerKinds = 4

// LayerKind tells apart the layers whose operator lists differ: dense or
// MoE, global or local attention. Layers of one kind have the same list,
// so a caller pricing a model lists each kind once.
func LayerKind(m *model.Model, i int) int {
	var k int
	if m.IsMoELayer(i) {
		k |= 1
	}
	if m.IsLocalAttentionLayer(i) {
		k |= 2
	}
	return k
}

// MTPOps appends to ops[:0] the operators one multi-token-prediction
// module adds around its decoder layer (DeepSeek-V3 report, arXiv
// 2412.19437 section 2.2; Megatron-Core's MTP block) for tokens tokens of
// width h on a GPU of a TP group of tp: the norms of the hidden state and
// of the next tokens' embedding (one read and write each, 16-bit, two
// kernels), and the 2h x h projection of their concatenation, split over
// TP. The decoder layer is BuildLayer's; the output head and loss are the
// main head's, run a second time.
func MTPOps(ops []Op, tokens, h float64, tp int, prec hardware.Precision) []Op {
	return append(ops[:0],
		Op{Kind: GEMMOp, Block: MLP, M: tokens, N: h / float64(tp), K: 2 * h, Prec: prec},
		Op{Kind: MemoryOp, Block: Elementwise, Bytes: 2 * tokens * h * 2 * 2, BackwardBytes: 2 * tokens * h * 2 * 2, Kernels: 2})
}
