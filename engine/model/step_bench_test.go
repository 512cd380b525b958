package model

import (
	"math/rand/v2"
	"testing"
)

// benchConfig is the shape of the committed trained target.
func benchConfig() Config {
	return Config{Dim: 192, Layers: 4, Heads: 8, KVHeads: 2, FF: 512, Vocab: 256, Context: 256, Tied: true, RopeBase: 10000}
}

// benchStep times one target pass of m new tokens after a 64-token
// committed prefix: m = 1 is a decode step, m = 17 the verify pass of a
// 16-node tree (a chain mask; the cost does not depend on the mask shape).
func benchStep(b *testing.B, m int) {
	cfg := benchConfig()
	t, err := NewTarget(cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	c := NewCache(cfg, cfg.Layers)
	pre := make([]int, 64)
	pos := make([]int, 64)
	for i := range pre {
		pre[i], pos[i] = i%256, i
	}
	if _, _, err := t.Step(pre, pos, CausalMask(64), c); err != nil {
		b.Fatal(err)
	}
	c.Commit(pos)
	tok := make([]int, m)
	tp := make([]int, m)
	for i := range tp {
		tp[i] = 64 + i
	}
	mask := CausalMask(m)
	for b.Loop() {
		if _, _, err := t.Step(tok, tp, mask, c); err != nil {
			b.Fatal(err)
		}
		c.Commit(nil)
	}
}

func BenchmarkDecodeStep(b *testing.B)   { benchStep(b, 1) }
func BenchmarkVerifyStep5(b *testing.B)  { benchStep(b, 5) }
func BenchmarkVerifyStep17(b *testing.B) { benchStep(b, 17) }
