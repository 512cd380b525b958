// Package model is the engine's Llama-architecture decoder (RMSNorm,
// rotary positions, grouped-query attention, SwiGLU, tied or untied head)
// and its EAGLE draft head, with a KV cache for inference, a hand-written
// backward pass for training, and the weight file format.
//
// Tokens are bytes: the vocabulary is the 256 byte values, so any UTF-8
// text is its own token sequence.
package model

import (
	"fmt"

	"github.com/scaleacross/scaleacross/engine/tensor"
)

// Config is the shape of a target model. The draft head shares Dim,
// Heads, KVHeads, FF, Vocab and Context with its target.
type Config struct {
	Dim     int  `json:"dim"`
	Layers  int  `json:"layers"`
	Heads   int  `json:"heads"`
	KVHeads int  `json:"kv_heads"`
	FF      int  `json:"ff"`
	Vocab   int  `json:"vocab"`
	Context int  `json:"context"`
	Tied    bool `json:"tied"`
	// RopeBase is the rotary base (10000 in Llama 2).
	RopeBase float64 `json:"rope_base"`
}

// HeadDim is the width of one attention head.
func (c Config) HeadDim() int { return c.Dim / c.Heads }

// KVDim is the width of the keys (and values) of all KV heads.
func (c Config) KVDim() int { return c.KVHeads * c.HeadDim() }

// Validate checks that the shape is usable.
func (c Config) Validate() error {
	switch {
	case c.Dim < 2 || c.Dim > 4096:
		return fmt.Errorf("model config: dim %d outside 2..4096", c.Dim)
	case c.Layers < 1 || c.Layers > 64:
		return fmt.Errorf("model config: layers %d outside 1..64", c.Layers)
	case c.Heads < 1 || c.Dim%c.Heads != 0:
		return fmt.Errorf("model config: %d heads do not divide dim %d", c.Heads, c.Dim)
	case c.HeadDim()%2 != 0:
		return fmt.Errorf("model config: head width %d is odd; rotary positions need pairs", c.HeadDim())
	case c.KVHeads < 1 || c.Heads%c.KVHeads != 0:
		return fmt.Errorf("model config: %d KV heads do not divide %d heads", c.KVHeads, c.Heads)
	case c.FF < 1 || c.FF > 65536:
		return fmt.Errorf("model config: ff %d outside 1..65536", c.FF)
	case c.Vocab < 2 || c.Vocab > 65536:
		return fmt.Errorf("model config: vocab %d outside 2..65536", c.Vocab)
	case c.Context < 2 || c.Context > 1<<16:
		return fmt.Errorf("model config: context %d outside 2..65536", c.Context)
	case !(c.RopeBase > 1):
		return fmt.Errorf("model config: rope_base %g must exceed 1", c.RopeBase)
	}
	return nil
}

// Param is one named weight tensor with its gradient.
type Param struct {
	Name  string
	Shape []int
	W     []float32
	G     []float32
	// packed caches the matrix packed for the SIMD inference kernel. It
	// is built on first use; training never reads it, and code that
	// changes W after inference must call the model's Invalidate.
	packed *tensor.Packed
}

// pack returns the cached packed matrix.
func (p *Param) pack() *tensor.Packed {
	if p.packed == nil {
		p.packed = tensor.Pack(p.W, p.Shape[0], p.Shape[1])
	}
	return p.packed
}

// Invalidate drops the cached packed copy after W changed.
func (p *Param) Invalidate() { p.packed = nil }

func newParam(name string, shape ...int) *Param {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return &Param{Name: name, Shape: shape, W: make([]float32, n), G: make([]float32, n)}
}

// ZeroGrad clears the gradients of ps.
func ZeroGrad(ps []*Param) {
	for _, p := range ps {
		clear(p.G)
	}
}

// Count returns the number of weights in ps.
func Count(ps []*Param) int {
	n := 0
	for _, p := range ps {
		n += len(p.W)
	}
	return n
}
