package cost

import (
	"strings"

	"github.com/scaleacross/scaleacross/hardware"
)

// The host side of a training step. An eager framework (PyTorch with
// Megatron-Core and Transformer Engine) issues every kernel from Python:
// each operation costs the host some microseconds (Python logic,
// PyTorch's dispatcher, allocations, the CUDA launch), and the GPU cannot
// start an operation before the host has issued it. When the GPU's
// kernels are short (fast GPUs, 8-bit GEMMs, many small experts) the host
// falls behind and the GPU idles between kernels: the GB200 DeepSeek-V3
// write-up calls its baseline host-bound ("large gaps between kernels,
// the CPU kernel launch speed cannot keep up with the kernel execution
// speed on GPU"; NVIDIA/Megatron-LM@eb0783b6d3
// docs/discussions/deepseek-v3-gb200-optimization, section 2). This file
// counts the operations the host issues per layer and pass (HostOps) and
// prices what of their host time the GPU's work cannot hide
// (ExposedHost); train's layer cost adds it to both engines.

// GraphScope is the set of a layer's parts captured in CUDA graphs
// (Megatron-Core's --cuda-graph-scope with --cuda-graph-impl
// transformer_engine): a captured part costs the host one graph launch
// per pass in place of its operations. The zero value captures nothing,
// Megatron-Core's default (no --cuda-graph-impl).
type GraphScope uint8

// The scopes, as Megatron-Core names them (write-up section 2.3).
const (
	// GraphAttn captures the attention part: projections, attention and
	// the norms and rotary around them.
	GraphAttn GraphScope = 1 << iota
	// GraphMLP captures a dense layer's MLP.
	GraphMLP
	// GraphMoERouter captures the router, and the shared experts unless
	// they overlap the dispatch.
	GraphMoERouter
	// GraphMoEPreprocess captures the dispatcher's preprocess (the token
	// counts and split sizes); Megatron-Core requires moe_router with it.
	GraphMoEPreprocess
)

// graphScopeNames are the scope names in the order of the bits.
func graphScopeNames() [4]string {
	return [4]string{"attn", "mlp", "moe_router", "moe_preprocess"}
}

// ParseGraphScope reads a scope name ("attn", "mlp", "moe_router",
// "moe_preprocess"); ok is false for any other.
func ParseGraphScope(name string) (s GraphScope, ok bool) {
	for i, n := range graphScopeNames() {
		if strings.EqualFold(strings.TrimSpace(name), n) {
			return 1 << i, true
		}
	}
	return 0, false
}

// Names lists the scopes of s in Megatron-Core's spelling.
func (s GraphScope) Names() []string {
	var out []string
	for i, n := range graphScopeNames() {
		if s&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// HostInput is what sets the operations the host issues for a layer
// besides its operator list (whose GEMMs carry their precision: an 8-bit
// GEMM also quantises its inputs): framework facts a job states or
// defaults.
type HostInput struct {
	// Dispatcher is the MoE token dispatcher: a fused one (DeepEP,
	// HybridEP) folds the preprocess into fewer kernels.
	Dispatcher Dispatcher
	// Graphs is the parts captured in CUDA graphs.
	Graphs GraphScope
	// UnfusedQuantAlloc allocates each MXFP8 tensor's four buffers
	// ({row-wise, col-wise} x {data, scaling factor}) with separate
	// PyTorch calls and swizzles each GEMM operand's scaling factors in a
	// kernel of its own: Transformer Engine before its fused allocation
	// and fused swizzle (TE PRs 1793, 1934, 2134 and 2019; write-up
	// sections 2.1.2 and 2.1.3, since enabled by default). The zero value
	// is the fused form.
	UnfusedQuantAlloc bool
	// RouterFusion runs the router's element-wise work in Transformer
	// Engine's fused kernels (--moe-router-fusion, off by default).
	RouterFusion bool
	// GroupedKernel runs each grouped expert GEMM as one kernel
	// (torchtitan's torch._grouped_mm); otherwise one GEMM per local
	// expert, each with its own quantisation (Transformer Engine's
	// GroupedLinear over multi-stream cuBLAS, which Megatron-Core's
	// --moe-grouped-gemm uses: write-up section 1, item 3; its per-GEMM
	// torch.split and torch.empty calls, NVIDIA/TransformerEngine#1499).
	GroupedKernel bool
}

// Host operation counts, each with its source. An "operation" is one
// framework call that launches a kernel (or one the host must pay as if
// it did); Params.HostOpUs prices it with its Python and PyTorch logic.
const (
	// routerUnfusedOps and routerFusedOps are the kernels of an MoE
	// router's element-wise work (routing map, scores, top-k, auxiliary
	// loss), forward: 72 unfused, 31 with --moe-router-fusion (write-up
	// section 2.1.4, TE PR 1883).
	routerUnfusedOps = 72
	routerFusedOps   = 31
	// fusedDispatchRouterOps is the router and preprocess together under
	// a fused dispatcher with router fusion: DeepEP's fused preprocess
	// "further reduc[es] the number of kernels in the router and
	// preprocess parts to 17" (write-up section 2.2.1).
	fusedDispatchRouterOps = 17
	// preprocessOps is the all-to-all dispatcher's preprocess, forward:
	// Megatron-Core's MoEAlltoAllTokenDispatcher.preprocess
	// (NVIDIA/Megatron-LM@bed33f8994
	// megatron/core/transformer/moe/token_dispatcher.py) sums the routing
	// map per expert, reshapes and sums it into the input splits, gathers
	// the counts over the tp-ep group, slices, sums per rank and per TP
	// rank and per local expert, and copies the splits and token counts
	// to the host on its DtoH stream: about twelve calls.
	preprocessOps = 12
	// linear16Fwd, linear16Bwd: a 16-bit linear is one GEMM forward and
	// two backward (data and weight gradients).
	linear16Fwd, linear16Bwd = 1, 2
	// linear8Fwd, linear8Bwd: an 8-bit linear also quantises its input
	// forward and its output gradient backward (Transformer Engine's cast
	// or cast-transpose kernels; the weights' casts are cached over the
	// micro-batches of a step).
	linear8Fwd, linear8Bwd = 2, 3
	// quantAllocOps and swizzleOps are what an unfused MXFP8 quantisation
	// adds (UnfusedQuantAlloc): four allocations per quantised tensor,
	// one swizzle per GEMM operand (write-up sections 2.1.2, 2.1.3).
	quantAllocOps, swizzleOps = 4, 1
)

// GraceHostFactor is how much longer a PyTorch operation takes the host
// on a Grace CPU (GH200, GB200 and GB300 systems) than on the x86 host of
// a DGX H100 (Xeon Platinum 8480C): a torch.nn.Linear forward costs the
// host 37.08 us on GB200 and 13.48 us on the DGX H100 with the same
// script and PyTorch (NVIDIA/TransformerEngine#2053, "High CPU overhead
// on Grace systems", its table for BF16, hidden 2048, 8192 tokens).
const GraceHostFactor = 37.08 / 13.48

// HostFactor is the host cost of one operation on g's usual host system
// relative to a DGX H100's: GraceHostFactor where the system is built on
// Grace CPUs (hardware.GPU.System), else 1.
func HostFactor(g *hardware.GPU) float64 {
	if g != nil && strings.Contains(g.System, "Grace") {
		return GraceHostFactor
	}
	return 1
}

// HostOps is the operations the host issues for one layer and one
// micro-batch.
type HostOps struct {
	// Pre and Post split the forward at the MoE layer's device-to-host
	// synchronisation (the token counts per expert the dispatcher needs
	// on the host): Pre before it (norms, attention, shared experts,
	// router, preprocess), Post after it (permutations, the dispatch and
	// combine, the routed experts). A dense layer has everything in Pre.
	Pre, Post float64
	// Backward is the backward pass's operations (no synchronisation:
	// the split sizes are kept from the forward).
	Backward float64
}

// HostOps counts the operations the host issues for layer l under in.
// A part in a CUDA graph (in.Graphs) costs one launch per pass instead.
func (l *Layer) HostOps(in HostInput) HostOps {
	var h HostOps
	linear := func(p hardware.Precision) (f, b float64) {
		if p.BytesPerElement() > 1.1 {
			return linear16Fwd, linear16Bwd
		}
		f, b = linear8Fwd, linear8Bwd
		if in.UnfusedQuantAlloc {
			// Forward: the input's quantisation allocates its four
			// buffers, both operands are swizzled. Backward: the output
			// gradient's quantisation, and both operands of both GEMMs.
			f += quantAllocOps + 2*swizzleOps
			b += quantAllocOps + 4*swizzleOps
		}
		return f, b
	}
	var graphed [4]bool // a launch per captured scope present in the layer
	add := func(pre bool, scope GraphScope, f, b float64) {
		if scope != 0 && in.Graphs&scope != 0 {
			for i := range graphed {
				if scope == 1<<i {
					graphed[i] = true
				}
			}
			return
		}
		if pre {
			h.Pre += f
		} else {
			h.Post += f
		}
		h.Backward += b
	}
	for k := range l.Ops {
		o := &l.Ops[k]
		switch o.Kind {
		case GEMMOp:
			f, b := linear(o.Prec)
			add(true, o.Block.graphScope(), f, b)
		case GroupedOp:
			f, b := linear(o.Prec)
			if !in.GroupedKernel {
				f, b = f*o.Groups, b*o.Groups
			}
			add(false, 0, f, b)
		case AttentionOp:
			add(true, GraphAttn, 1, 1)
		case MemoryOp:
			k := float64(o.Kernels)
			switch o.Block {
			case Permute:
				add(false, 0, k, k)
			case AttnCore:
				add(true, GraphAttn, k, k)
			default:
				add(true, 0, k, 2*k)
			}
		}
	}
	if l.MoE {
		r := float64(routerUnfusedOps)
		if in.RouterFusion {
			r = routerFusedOps
		}
		pre := float64(preprocessOps)
		if in.Dispatcher == DispatchFused {
			// DeepEP's preprocess is one fused kernel, and the router and
			// preprocess together are fusedDispatchRouterOps with router
			// fusion; without it the router's unfused kernels come back.
			pre = 1
			r += fusedDispatchRouterOps - pre - routerFusedOps
		}
		// The backward of the router's element-wise work: about half its
		// forward kernels carry gradients (the scores' softmax, gather and
		// auxiliary loss; the routing map and token counts do not). The
		// preprocess has no backward.
		add(true, GraphMoERouter, r, r/2)
		add(true, GraphMoEPreprocess, pre, 0)
		// The dispatch and combine: tokens and routing probabilities out,
		// tokens back (Megatron-Core's all_to_all calls); a fused
		// dispatcher sends them in one kernel each way.
		a2a := 3.0
		if in.Dispatcher == DispatchFused {
			a2a = 2
		}
		if l.Comm.ETPElems > 0 {
			a2a += 2 // the etp all-gather and reduce-scatter
		}
		add(false, 0, a2a, a2a)
	}
	tp := float64(l.Comm.TPCollectives)
	cp := 2 * float64(l.Comm.CPSteps) // a send and a receive per ring step
	add(true, 0, tp+cp, tp+cp)
	for _, g := range graphed {
		if g {
			h.Pre++
			h.Backward++
		}
	}
	return h
}

// graphScope is the CUDA-graph scope that captures a GEMM of block b, or
// zero where none does (the routed experts are dynamic in shape).
func (b Block) graphScope() GraphScope {
	switch b {
	case AttnProj, AttnCore:
		return GraphAttn
	case MLP:
		return GraphMLP
	case Router, Shared:
		return GraphMoERouter
	}
	return 0
}

// HostTime is the host time of ops operations on this device's host
// system: Params.HostOpUs each, times HostFactor.
func (d *Device) HostTime(ops float64) float64 {
	return ops * d.P.HostOpUs * 1e-6 * d.hostFactor
}

// ExposedHost is the time a pass's host work adds to its GPU work, for a
// pass that runs two phases in order after the GPU's queue has drained:
// first hA of host time issuing gA of GPU work, then hB issuing gB. The
// GPU starts an operation once the host has issued it and the GPU has
// finished the previous one; with the host's and the GPU's times spread
// evenly over each phase this is a two-machine flow shop (host, then
// GPU), whose makespan is the largest of gA+gB (the GPU never waits),
// hA+gB (it waits through the first phase) and hA+hB (through both):
// the pass's exposed host time is that makespan less gA+gB. An MoE
// layer's forward drains at its dispatcher's device-to-host
// synchronisation, so each phase pair starts empty there; a pass without
// a synchronisation (a dense layer, any backward) lets the host run ahead
// of the GPU across layers and is priced with hA = gA = 0, which is
// max(0, hB-gB).
func ExposedHost(hA, gA, hB, gB float64) float64 {
	return max(0, max(hA-gA, hA+hB-gA-gB))
}
