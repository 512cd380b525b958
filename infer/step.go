package infer

import (
	"math"

	"github.com/scaleacross/scaleacross/cost"
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/topology"
)

// Pass is one forward pass over a batch.
type Pass struct {
	// Batch is the number of sequences.
	Batch int
	// Tokens is the number of new tokens per sequence: 1 for a decode
	// step, n+1 for verifying a tree of n nodes, the prompt for prefill.
	Tokens int
	// Context is the number of committed tokens per sequence already in
	// the KV cache.
	Context int
	// Logits is the number of tokens per sequence whose next-token
	// distribution is needed (decode and verify: Tokens; prefill: 1).
	Logits int
	// Causal marks prefill: the new tokens attend each other causally.
	// Otherwise they form a short tree suffix priced by its mask (the
	// second pass of two-pass tree attention; the committed prefix is read
	// once per sequence by the first pass).
	Causal bool
}

// Breakdown is the time of one pass per GPU by component, in seconds.
type Breakdown struct {
	GEMM      float64 `json:"gemm_s"`
	Attention float64 `json:"attention_s"`
	Comm      float64 `json:"comm_s"`
	Kernels   float64 `json:"kernel_overhead_s"`
	Head      float64 `json:"head_s"`
	Total     float64 `json:"total_s"`
}

func (b *Breakdown) add(o Breakdown) {
	b.GEMM += o.GEMM
	b.Attention += o.Attention
	b.Comm += o.Comm
	b.Kernels += o.Kernels
	b.Head += o.Head
	b.Total += o.Total
}

// headKernels is the kernels of the embedding lookup, the final norm
// and the LM-head GEMM. The kernels of each layer come from its operator
// list (cost.Op.Fused: the fused decode kernels of vLLM, SGLang and
// TensorRT-LLM); collectives are counted separately.
const headKernels = 3

// attentionKernelTime is the fixed kernel cost of one attention block of
// layer l, in seconds: every kernel at kern, and with piecewise CUDA
// graphs the attention operation's own kernels launched eagerly plus the
// host time of the graph break around it, which the GPU waits for at
// decode sizes.
func (c *Config) attentionKernelTime(l *cost.Layer, kern float64) float64 {
	n, op := l.FusedKernels(cost.AttnProj, cost.AttnCore)
	t := float64(n) * kern
	if c.CUDAGraphs && c.Piecewise {
		t += float64(op)*(c.Eff.KernelEagerUs-c.Eff.KernelGraphUs)*1e-6 + c.Eff.GraphBreakUs*1e-6
	}
	return t
}

// layer is the operator list of layer i on one GPU for seqs sequences of
// tokens new tokens each, in buf: attention over TP, the experts on the
// expert grid (ep groups of stageGPUs/ep GPUs), weights at their
// precision, the router replicated.
func (c *Config) layer(buf []cost.Op, i int, seqs float64, tokens int) cost.Layer {
	return cost.BuildLayer(buf, cost.LayerInput{
		Model: c.Model, Layer: i, Seqs: int(seqs), SeqLen: tokens,
		TP: c.TP, CP: 1, EP: c.ep(), ETP: max(1, c.stageGPUs()/c.ep()),
		Prec: c.Weights, RouterReplicated: true,
	})
}

// roofline is the time of work that reads bytes and performs flops.
func roofline(bytes, bw, flops, peak float64) float64 {
	return math.Max(bytes/bw, flops/peak)
}

// allReduce is a ring all-reduce of size bytes over n GPUs on NVLink
// (DESIGN.md section 4), latency-bound for small messages.
func (c *Config) allReduce(n int, bytes float64) float64 {
	if n <= 1 {
		return 0
	}
	hops := 2 * float64(n-1)
	if c.Eff.OneShotAllReduce {
		hops = 1
	}
	alpha := (c.Eff.CollectiveFixedUs + hops*c.GPU.ScaleUpLatencyUs) * 1e-6
	bw := c.GPU.ScaleUpGBs * 1e9 * c.Eff.NVLink
	return alpha + 2*float64(n-1)/float64(n)*bytes/bw
}

// allToAll is an all-to-all of bytes per GPU over n GPUs on NVSwitch,
// or, when n spans several servers, over NVLink inside each and the
// scale-out network between them (interNode over links, the
// deployment's defaultLinks).
func (c *Config) allToAll(links []network.Link, n int, bytes float64) float64 {
	if n <= 1 {
		return 0
	}
	if node := c.nodeGPUs(); n > node {
		return c.Eff.CollectiveFixedUs*1e-6 + c.interNode(links, network.AllToAll, bytes, []int{node, n / node})
	}
	alpha := (c.Eff.CollectiveFixedUs + float64(n-1)*c.GPU.ScaleUpLatencyUs) * 1e-6
	bw := c.GPU.ScaleUpGBs * 1e9 * c.Eff.NVLink
	return alpha + float64(n-1)/float64(n)*bytes/bw
}

// decodeAttended is the mean number of cached keys a new token attends in
// layer i at a context of ctx committed tokens.
func (c *Config) decodeAttended(i, ctx int) float64 {
	m := c.Model
	if !m.IsLocalAttentionLayer(i) || ctx <= m.AttentionChunk {
		return float64(ctx)
	}
	if m.SlidingWindow {
		return float64(m.AttentionChunk)
	}
	// Fixed chunks: a token at position p attends p mod chunk earlier
	// tokens of its chunk, chunk/2 on average.
	return float64(m.AttentionChunk) / 2
}

// Forward prices one forward pass per GPU: each layer's operator list
// (cost.BuildLayer) as a roofline of its weight and KV bytes against its
// FLOPs, block by block, plus its fused kernels and collectives.
func (c *Config) Forward(p Pass) Breakdown {
	m := c.Model
	ab := c.Activations.BytesPerElement()
	kb := c.KV.BytesPerElement()
	bw := c.hbm()
	gbw := c.weightHBM()
	peak := c.peakFLOPs() * c.Eff.GEMM
	attnPeak := c.bf16FLOPs() * c.Eff.Attention
	kern := c.kernelUs() * 1e-6

	seqs := math.Ceil(float64(p.Batch) / float64(c.dp())) // per attention-DP group
	tok := seqs * float64(p.Tokens)                       // tokens through one GPU's attention and dense MLP
	allTok := float64(p.Batch * p.Tokens)                 // tokens routed to the experts
	hidden := float64(m.Hidden)

	// The deployment's network links, built once per pass where a
	// pipeline send or a cross-server all-to-all reads them.
	var lbuf [2]network.Link
	var links []network.Link
	if c.pp() > 1 || c.GPUs > c.nodeGPUs() {
		links = c.defaultLinks(lbuf[:])
	}
	// Layers of one kind (dense or MoE, local or global attention) have
	// the same operators and time: price each kind once.
	var buf [16]cost.Op
	var kinds [cost.LayerKinds]Breakdown
	var priced [cost.LayerKinds]bool
	var b Breakdown
	for i := 0; i < m.Layers; i++ {
		k := cost.LayerKind(m, i)
		if priced[k] {
			b.add(kinds[k])
			continue
		}
		lst := c.layer(buf[:0], i, seqs, p.Tokens)
		ly := &lst
		var l Breakdown
		// GEMMs block by block: the time to stream the weights (each at
		// its format's bandwidth: int4 through Marlin, the rest at HBM)
		// against the FLOPs.
		var rd, f float64
		cur := cost.AttnProj
		for j := range ly.Ops {
			o := &ly.Ops[j]
			if o.Block != cur {
				if rd > 0 {
					l.GEMM += math.Max(rd, f/peak)
				}
				rd, f, cur = 0, 0, o.Block
			}
			if o.Kind == cost.GEMMOp && o.Block != cost.AttnCore {
				prec, wbw := o.Prec, bw
				if c.mlaBMM16() && c.mlaUpProjection(o, ly) {
					prec = hardware.BF16 // W_UK and W_UV as 16-bit batched products
				}
				if prec == hardware.INT4 {
					wbw = gbw
				}
				rd += o.WeightElems() * prec.BytesPerElement() / wbw
				f += o.GEMMFLOPs()
			}
		}
		if rd > 0 {
			l.GEMM += math.Max(rd, f/peak)
		}
		// Attention core: committed prefix read once per sequence, plus
		// the new tokens' own keys.
		var keys, pairs float64 // keys read and query-key pairs per sequence
		if p.Causal {
			keys = float64(p.Context + p.Tokens)
			pairs = float64(p.Tokens) * (c.decodeAttended(i, p.Context) + m.AttendedLength(i, p.Tokens))
		} else {
			att := c.decodeAttended(i, p.Context)
			keys = att + float64(p.Tokens)
			pairs = float64(p.Tokens) * (att + float64(p.Tokens+1)/2)
		}
		kvBytes := seqs * keys * ly.KVCacheElems * kb
		attnFlops := ly.ScoreFLOPs(seqs, pairs)
		l.Attention += roofline(kvBytes, bw, attnFlops, attnPeak)
		l.Kernels += c.attentionKernelTime(ly, kern)
		n, _ := ly.FusedKernels(cost.MLP, cost.Experts, cost.Router, cost.Shared, cost.Permute)
		l.Kernels += float64(n) * kern
		// TP all-reduces around attention and the MLP or MoE block.
		tpc := float64(ly.Comm.TPCollectives) * c.allReduce(c.TP, ly.Comm.TPElems*ab)
		if ly.MoE {
			l.GEMM += c.expertGEMM(ly, allTok)
			if c.ep() > 1 || c.dp() > 1 {
				// Dispatch and combine all-to-alls of each GPU's tokens.
				l.Comm += 2 * c.allToAll(links, c.stageGPUs(), ly.Comm.EPSlots*hidden*ab)
			}
		}
		l.Comm += tpc
		l.Total = l.GEMM + l.Attention + l.Comm + l.Kernels
		kinds[k], priced[k] = l, true
		b.add(l)
	}
	// LM head in BF16 over the vocabulary, split over TP, and the logits
	// gathered for sampling.
	tp := float64(c.TP)
	hp := float64(m.Vocab) * hidden
	logitTok := seqs * float64(p.Logits)
	b.Head += roofline(hp*hardware.BF16.BytesPerElement()/tp, bw, 2*hp*logitTok/tp, peak)
	b.Head += headKernels * kern
	b.Head += c.allReduce(c.TP, 0) / 2 // all-gather of the logits: latency term
	b.Total += b.Head
	if pp := c.pp(); pp > 1 {
		// Each stage hands its tokens' hidden states to the next: pp-1
		// sends, over the scale-out network where a stage boundary is a
		// server boundary.
		// Stages smaller than a server cross one only at the servers'
		// boundaries (servers-1 of the pp-1 sends).
		msg := tok * hidden * ab
		cross := 0
		if c.GPUs > c.nodeGPUs() {
			cross = pp - 1
			if c.stageGPUs() < c.nodeGPUs() {
				cross = c.GPUs/c.nodeGPUs() - 1
			}
		}
		fixed := c.Eff.CollectiveFixedUs * 1e-6
		send := float64(pp-1-cross) * (c.interNode(links, network.P2P, msg, []int{2}) + fixed)
		if cross > 0 {
			send += float64(cross) * (c.interNode(links, network.P2P, msg, []int{1, 2}) + fixed)
		}
		b.Comm += send
		b.Total += send
	}
	return b
}

// defaultLinks writes into buf (two entries) the links of the
// deployment's default topology (an NVLink domain per server, one
// full-bisection scale-out level at the GPU's NIC bandwidth:
// topology.Default) at Eff.NVLink of line rate, and returns them.
func (c *Config) defaultLinks(buf []network.Link) []network.Link {
	t := topology.Default(c.GPU, max(c.GPUs, c.nodeGPUs()*2))
	return network.LinksInto(buf, t, nil, c.Eff.NVLink)
}

// interNode prices collective k of bytes over a group spanning factors
// (GPUs per server, servers) of links (defaultLinks) with the network
// package's alpha-beta model.
func (c *Config) interNode(links []network.Link, k network.Kind, bytes float64, factors []int) float64 {
	if len(factors) > len(links) {
		factors = factors[:len(links)]
	}
	return network.Time(k, bytes, topology.Span{Factors: factors}, links)
}

// expertGEMM is the time of one MoE layer's grouped expert GEMMs on one
// GPU for allTok routed tokens: the experts hit by the batch,
// E(1-(1-k/E)^T) for uniform routing (DESIGN.md section 4) spread over the
// EP groups, each expert's weights on this GPU (the Experts operators of
// layer l) read from HBM, against their FLOPs at the GEMM peak. The
// experts one token selects (k/ep of them on this GPU) stream at the
// grouped kernel's small-batch bandwidth and every further expert a
// larger batch or a verify pass touches at its marginal bandwidth
// (moeBandwidths). The MoE kernels' fixed costs are not included.
func (c *Config) expertGEMM(l *cost.Layer, allTok float64) float64 {
	e := c.Model.MoE
	E, k := float64(e.Experts), float64(e.TopK)
	ep := float64(c.ep())
	var perExpert, bytes float64 // weight elements and bytes of one expert on this GPU
	for j := range l.Ops {
		if o := &l.Ops[j]; o.Block == cost.Experts {
			perExpert += o.N * o.K
			bytes += o.N * o.K * o.Prec.BytesPerElement()
		}
	}
	hit := E / ep * (1 - math.Pow(1-k/E, allTok))
	first := math.Min(hit, k/ep)
	bwFirst, bwMore := c.moeBandwidths()
	read := first*bytes/bwFirst + (hit-first)*bytes/bwMore
	return math.Max(read, 2*allTok*k*perExpert/ep/(c.peakFLOPs()*c.Eff.GEMM))
}

// moeBandwidths are the bandwidths at which the grouped expert GEMMs
// stream the weights of the experts one token selects (first) and of
// every further expert (more), by kernel family: the Triton fused-MoE
// kernel of vLLM and SGLang for 16- and 8-bit weights (MoEHBM,
// MoEHBMMarginal); Marlin's W4A16 MoE kernel for int4 (AWQ, GPTQ) weights
// (Int4MoEHBM, Int4HBM); and, for other 4-bit weights run weight-only
// (MXFP4 on a GPU without FP4 tensor cores), MoEHBM for every expert, as
// no curve of those kernels over the batch is at hand. A zero field falls
// back to MoEHBM, and MoEHBM to HBM.
func (c *Config) moeBandwidths() (first, more float64) {
	e := c.Eff
	f, m := e.MoEHBM, e.MoEHBMMarginal
	switch {
	case c.Weights == hardware.INT4:
		if e.Int4MoEHBM > 0 {
			f = e.Int4MoEHBM
		}
		m = e.Int4HBM
	case c.Weights.BytesPerElement() < 1 && c.computePrecision() != c.Weights:
		m = f
	}
	if f <= 0 {
		f = e.HBM
	}
	if m <= 0 {
		m = f
	}
	bw := c.GPU.HBMBandwidthGB * 1e9
	return bw * f, bw * m
}

// mlaUpProjection says whether GEMM o of layer l is MLA's kv_b_proj (the
// latent's up-projection to the heads' keys and values), which decode runs
// absorbed as the W_UK and W_UV batched products.
func (c *Config) mlaUpProjection(o *cost.Op, l *cost.Layer) bool {
	a := c.Model.MLA
	return a != nil && o.Block == cost.AttnProj && o.K == float64(a.KVLoRARank) &&
		o.N == l.Heads*float64(a.QKNopeHeadDim+a.VHeadDim)
}

// mlaBMM16 says whether MLA's absorbed up-projection runs as 16-bit
// batched products from 16-bit copies of kv_b_proj (Eff.MLABMM16, and int4
// weights in every engine): Forward streams those copies and WeightBytes
// holds them beside the checkpoint's kv_b_proj, which prefill keeps.
func (c *Config) mlaBMM16() bool {
	return c.Model.MLA != nil && (c.Eff.MLABMM16 || c.Weights == hardware.INT4)
}

// weightHBM is the bandwidth at which the dense GEMMs stream weights of
// the serving format: HBM, or Int4HBM for int4 weights (Marlin's W4A16
// GEMM).
func (c *Config) weightHBM() float64 {
	if c.Weights == hardware.INT4 && c.Eff.Int4HBM > 0 {
		return c.GPU.HBMBandwidthGB * 1e9 * c.Eff.Int4HBM
	}
	return c.hbm()
}

// sampleTime is one sampling step over logits of tokens x vocab (FP32).
func (c *Config) sampleTime(tokens float64) float64 {
	bytes := tokens * float64(c.Model.Vocab) * 4
	return c.Eff.SampleUs*1e-6 + bytes/c.hbm()
}

// hostTime is the scheduler CPU time of one step of b sequences.
func (c *Config) hostTime(b int) float64 {
	return (c.Eff.HostStepUs + c.Eff.HostPerSeqUs*float64(b)) * 1e-6
}
