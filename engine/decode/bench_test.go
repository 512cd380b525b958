package decode

import (
	"testing"

	"github.com/scaleacross/scaleacross/engine/tensor"
	"github.com/scaleacross/scaleacross/specdec"
)

// benchGenerate times whole generations on one core, or with cores 2 on
// two (a tensor.Pool splitting the packed products of at least minRows
// rows).
func benchGenerate(b *testing.B, tree *specdec.Tree, cores, minRows int) {
	benchGenerateAt(b, tree, cores, minRows, 0)
}

// benchGenerateAt is benchGenerate at temperature temp (seed 1).
func benchGenerateAt(b *testing.B, tree *specdec.Tree, cores, minRows int, temp float64) {
	m, d, err := loadBenchPair()
	if err != nil {
		b.Fatal(err)
	}
	// The CLI's configuration: packed weights, a bfloat16 draft where the
	// CPU has SIMD (AVX-512, or AVX2 for one-row passes).
	m.Prepare()
	d.Prepare(m)
	d.UseBF16(m, true)
	if cores == 2 {
		m.Kern.Pool, m.Kern.PoolMinRows = tensor.NewPool(), minRows
		defer m.Kern.Pool.Close()
	}
	e := &Engine{T: m, D: d}
	p := make([]int, 64)
	for i, c := range []byte("And Naomi said unto her two daughters in law, Go, return each to ") {
		if i < 64 {
			p[i] = int(c)
		}
	}
	cpuLoop(b, func() {
		if _, err := e.Generate(p, Options{Tree: tree, MaxTokens: 96, Temperature: temp, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkGeneratePlain and the speculative variants generate 96 greedy
// tokens after a 64-byte prompt with the committed weights (or those in
// $SCALEACROSS_BENCH_WEIGHTS): the full
// generation, prefill, drafting, verification and bookkeeping included.
func BenchmarkGeneratePlain(b *testing.B)  { benchGenerate(b, nil, 1, 0) }
func BenchmarkGenerateChain1(b *testing.B) { benchGenerate(b, specdec.Chain(1), 1, 0) }
func BenchmarkGenerateChain2(b *testing.B) { benchGenerate(b, specdec.Chain(2), 1, 0) }
func BenchmarkGenerateChain3(b *testing.B) { benchGenerate(b, specdec.Chain(3), 1, 0) }
func BenchmarkGenerateTree(b *testing.B)   { benchGenerate(b, DefaultTree(), 1, 0) }

// BenchmarkGenerate2Cores is the same on two cores: every packed product
// split over a tensor.Pool, and for Chain2Verify only the verify passes
// (two rows and more), the one-row draft passes staying whole.
func BenchmarkGenerate2Cores(b *testing.B) {
	for _, c := range []struct {
		name    string
		tree    *specdec.Tree
		minRows int
	}{{"Plain", nil, 0}, {"Chain1", specdec.Chain(1), 0}, {"Chain2", specdec.Chain(2), 0}, {"Chain2Verify", specdec.Chain(2), 2}, {"Chain3", specdec.Chain(3), 0}} {
		b.Run(c.name, func(b *testing.B) { benchGenerate(b, c.tree, 2, c.minRows) })
	}
}

// BenchmarkGenerateSampled is BenchmarkGeneratePlain and
// BenchmarkGenerateChain2 at temperature 1: sampling's own costs (the
// tempered distributions of every target and draft row) included.
func BenchmarkGenerateSampled(b *testing.B) {
	b.Run("Plain", func(b *testing.B) { benchGenerateAt(b, nil, 1, 0, 1) })
	b.Run("Chain2", func(b *testing.B) { benchGenerateAt(b, specdec.Chain(2), 1, 0, 1) })
}
