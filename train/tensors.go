package train

import (
	"fmt"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/topology"
)

// Gradient synchronisation modes (Config.GradSync).
const (
	// GradSyncBucketed is the default: ZeRO-0/1 gradients reduced in
	// buckets as the last backward of each chunk produces them, overlapped
	// with it (Megatron-LM's overlap_grad_reduce, PyTorch DDP).
	GradSyncBucketed = ""
	// GradSyncPerTensor all-reduces every parameter tensor of a stage in
	// turn, one collective each on one stream, once the stage's whole
	// backward is done, with nothing overlapped (DS3Lab's AllReduceDP,
	// DS3Lab/Decentralized_FM_alpha data_parallel/dist_dp_allreduce.py:
	// the dp stream waits on the backward-ready event, then calls NCCL's
	// allReduce on each para.grad of module.parameters()). Each tensor
	// pays its collective's latency: a sequence of small all-reduces over
	// a slow link is latency-bound, which one bucket would not be.
	GradSyncPerTensor = "per-tensor"
)

// ZeRO-3 gathering modes (Config.ZeRO3Gather).
const (
	// ZeRO3Prefetched is the default: each micro-batch's parameters are
	// all-gathered ahead of its forward and again ahead of its backward,
	// and its gradients reduce-scattered, all prefetched under compute
	// (Megatron-LM's and PyTorch FSDP's overlap); what compute cannot
	// cover stalls the stage.
	ZeRO3Prefetched = ""
	// ZeRO3FlatRoot is one FSDP unit holding all of a stage's parameters
	// as one flat tensor, as fairscale's FullyShardedDataParallel wraps a
	// whole model: one all-gather before each forward, the parameters kept
	// for the backward (the root instance sets reshard_after_forward =
	// False in _lazy_init: "those params will be needed immediately after
	// for the backward pass"), one reduce-scatter after it, and nothing to
	// overlap them with (there is no other unit's compute). The default
	// flatten_parameters=True makes each one collective.
	ZeRO3FlatRoot = "flat-root"
)

// checkZeRO3Gather refuses a ZeRO-3 gathering mode c cannot run.
func checkZeRO3Gather(c *Config) error {
	switch c.ZeRO3Gather {
	case ZeRO3Prefetched:
		return nil
	case ZeRO3FlatRoot:
		if c.Parallel.Zero != 3 {
			return fault.BadInput(fmt.Errorf("a flat-root ZeRO-3 unit needs zero 3 (got zero %d)", c.Parallel.Zero))
		}
		return nil
	}
	return fault.BadInput(fmt.Errorf("unknown ZeRO-3 gathering %q; use %q (prefetched) or %q", c.ZeRO3Gather, ZeRO3Prefetched, ZeRO3FlatRoot))
}

// checkGradSync refuses a gradient synchronisation mode c cannot run.
func checkGradSync(c *Config) error {
	switch c.GradSync {
	case GradSyncBucketed:
		return nil
	case GradSyncPerTensor:
		if c.Parallel.Zero != 0 {
			return fault.BadInput(fmt.Errorf("per-tensor gradient all-reduce needs zero 0 (got zero %d): sharded gradients are reduce-scattered", c.Parallel.Zero))
		}
		if c.Model.MoE != nil || c.Model.MLA != nil {
			return fault.BadInput(fmt.Errorf("per-tensor gradient all-reduce lists the tensors of dense layers with multi-head attention; %s has MoE or MLA layers", c.Model.ID))
		}
		return nil
	}
	return fault.BadInput(fmt.Errorf("unknown gradient synchronisation %q; use %q (bucketed) or %q", c.GradSync, GradSyncBucketed, GradSyncPerTensor))
}

// LayerTensors lists the parameter tensors of one dense decoder layer
// of m, in elements, as a module with separate query, key, value and
// output projections holds them (DS3Lab's GPT layers: 16 tensors with
// biases and LayerNorm): the four projection matrices and their biases,
// the two norms' weights and biases, the MLP's matrices and biases. They
// add up to the layer's parameters as model counts them
// (AttentionParams + NormParams + DenseMLPParams; TestLayerTensorsAddUp).
func LayerTensors(m *model.Model) []float64 {
	h := float64(m.Hidden)
	q := float64(m.Heads * m.HeadDim)
	kv := float64(m.KVHeads * m.HeadDim)
	f := float64(m.FFN)
	out := []float64{h * q, h * kv, h * kv, q * h}
	if m.Bias || m.AttentionBias {
		out = append(out, q, kv, kv, h)
	}
	if m.AttentionSinks {
		out = append(out, float64(m.Heads))
	}
	norm := []float64{h, h}
	if m.Bias || m.NormBias {
		norm = append(norm, h, h)
	}
	out = append(out, norm...)
	if m.QKNorm {
		out = append(out, float64(m.HeadDim), float64(m.HeadDim))
	}
	mats := 2
	if m.Act.Gated() {
		mats = 3
	}
	for range mats {
		out = append(out, h*f)
	}
	if m.Bias || m.MLPBias {
		if m.Act.Gated() {
			out = append(out, f)
		}
		out = append(out, f, h)
	}
	return out
}

// perTensorAllReduce is the time of GradSyncPerTensor over a stage that
// holds layers decoder layers and denseParams parameters per GPU: each
// layer's tensors (LayerTensors, split over tp) and the rest of what it
// holds (the token embedding as one tensor where it is there, the
// position embedding, head and final norm as another) all-reduced one
// after the other over the data-parallel group, each priced by
// network.Time on the group's links (so each pays its algorithm's
// latency: NCCL's ring or tree where the level runs network.NCCL), and
// the sequence once the start-up of connections left idle through the
// pipeline (network.Link.StartupS).
func (e *evaluator) perTensorAllReduce(layers int, denseParams float64) float64 {
	c := e.c
	p := c.Parallel
	span := e.dpSpan(p.DP * p.CP)
	if span.Size() <= 1 || denseParams <= 0 {
		return 0
	}
	dl := e.linksOf(topology.DP)
	gb := e.gradBytes()
	tp := float64(p.TP)
	var layerT, layerN float64
	for _, t := range LayerTensors(c.Model) {
		layerT += network.Time(network.AllReduce, t/tp*gb, span, dl)
		layerN += t / tp
	}
	// The data-parallel connections sat idle through the pipeline, longer
	// than TCP's retransmission timeout, so the first transfer ramps its
	// window again (network.Link.StartupS; zero on cluster fabrics).
	total := float64(layers)*layerT + dl[max(span.Outermost(), 0)].StartupS
	rest := denseParams - float64(layers)*layerN
	if tok := float64(c.Model.Vocab) * float64(c.Model.Hidden) / tp; rest >= tok*(1-1e-9) {
		total += network.Time(network.AllReduce, tok*gb, span, dl)
		rest -= tok
	}
	if rest > 1e-6*denseParams {
		total += network.Time(network.AllReduce, rest*gb, span, dl)
	}
	return total
}
