package infer

import (
	"fmt"
	"math"

	"github.com/scaleacross/scaleacross/cost"
	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/hardware"
)

// Memory is the per-GPU memory of a served model, in bytes.
type Memory struct {
	WeightsB     float64 `json:"weights_bytes"`
	DraftB       float64 `json:"draft_bytes"`
	ReservedB    float64 `json:"reserved_bytes"`
	KVPerSeqB    float64 `json:"kv_per_sequence_bytes"`
	KVB          float64 `json:"kv_bytes"`
	CapacityB    float64 `json:"hbm_bytes"`
	MaxBatch     int     `json:"max_batch"`
	AtContext    int     `json:"at_context"`
	KVPoolB      float64 `json:"kv_pool_bytes"`
	SequencesGPU float64 `json:"sequences_per_gpu_group"`
}

// CapacityError says the batch at its context does not fit in HBM; it
// exits with code 3 (DESIGN.md section 2).
type CapacityError struct {
	Batch, Context, MaxBatch int
	Memory                   Memory
	Reason                   string
}

func (e *CapacityError) Error() string {
	if e.Reason != "" {
		return e.Reason
	}
	gib := func(b float64) float64 { return b / (1 << 30) }
	return fmt.Sprintf("batch %d at context %d does not fit: KV capacity is %d sequences at this context "+
		"(per GPU: %.1f GiB HBM, %.1f GiB weights, %.1f GiB draft, %.1f GiB reserved, %.1f GiB KV pool, %.3f GiB KV per sequence)",
		e.Batch, e.Context, e.MaxBatch, gib(e.Memory.CapacityB), gib(e.Memory.WeightsB), gib(e.Memory.DraftB),
		gib(e.Memory.ReservedB), gib(e.Memory.KVPoolB), gib(e.Memory.KVPerSeqB))
}

// Is reports the error as a job that does not fit (fault.ErrNoFit).
func (e *CapacityError) Is(target error) bool { return target == fault.ErrNoFit }

// WeightBytes is the weight memory one GPU holds: attention, dense MLPs
// and shared experts split over TP, routed experts over all GPUs,
// vocabulary-parallel BF16 embeddings and head, replicated BF16 routers.
func (c *Config) WeightBytes() float64 {
	m := c.Model
	tp, G := float64(c.TP), float64(c.stageGPUs())
	wb := c.Weights.BytesPerElement()
	bf := hardware.BF16.BytesPerElement()
	// A stage holds 1/pp of the layers (the largest share when pp does
	// not divide them).
	share := math.Ceil(float64(m.Layers)/float64(c.pp())) / float64(m.Layers)
	w := float64(m.Layers) * float64(m.AttentionParams()) * wb / tp
	moeL := float64(m.MoELayers())
	w += (float64(m.Layers) - moeL) * float64(m.DenseMLPParams()) * wb / tp
	if e := m.MoE; e != nil {
		w += moeL * float64(m.SharedExpertParams()) * wb / tp
		w += moeL * float64(e.Experts) * float64(m.ExpertParams()) * wb / G
		w += moeL * float64(m.RouterParams()) * bf
	}
	if c.mlaBMM16() {
		// The 16-bit W_UK and W_UV copies of kv_b_proj (mlaBMM16), split
		// over TP with the heads.
		a := m.MLA
		w += float64(m.Layers) * float64(a.KVLoRARank*m.Heads*(a.QKNopeHeadDim+a.VHeadDim)) * bf / tp
	}
	w *= share
	w += float64(m.EmbeddingParams()+m.HeadParams()) * bf / tp
	return w
}

// KVBytesPerSeq is one sequence's KV cache on one GPU at ctx tokens
// (chunked-attention layers keep at most their chunk).
func (c *Config) KVBytesPerSeq(ctx int) float64 {
	share := math.Ceil(float64(c.Model.Layers)/float64(c.pp())) / float64(c.Model.Layers)
	return c.Model.KVBytes(ctx, c.KV.BytesPerElement()) * cost.KVCacheShare(c.Model, c.TP) * share
}

// Capacity returns the memory picture and the largest batch that fits at
// ctx tokens per sequence, with draftBytes of draft weights per GPU and
// extraPerSeq bytes per sequence (the draft's KV cache).
func (c *Config) Capacity(ctx int, draftBytes, extraPerSeq float64) Memory {
	hbm := c.GPU.UsableBytes()
	mem := Memory{
		WeightsB:  c.WeightBytes(),
		DraftB:    draftBytes,
		ReservedB: hbm * c.Eff.ReservedMemory,
		KVPerSeqB: c.KVBytesPerSeq(ctx) + extraPerSeq,
		CapacityB: hbm,
		AtContext: ctx,
	}
	mem.KVPoolB = math.Max(0, hbm-mem.ReservedB-mem.WeightsB-mem.DraftB)
	if mem.KVPerSeqB > 0 {
		mem.SequencesGPU = math.Floor(mem.KVPoolB / mem.KVPerSeqB)
	}
	mem.MaxBatch = int(mem.SequencesGPU) * c.dp()
	return mem
}
