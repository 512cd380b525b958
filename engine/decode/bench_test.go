package decode

import (
	"testing"

	"github.com/scaleacross/scaleacross/specdec"
)

func benchGenerate(b *testing.B, tree *specdec.Tree) {
	m, d, err := loadTrained()
	if err != nil {
		b.Fatal(err)
	}
	// The CLI's configuration: packed weights, a bfloat16 draft where the
	// CPU has AVX-512.
	m.Prepare()
	d.Prepare(m)
	d.UseBF16(m, true)
	e := &Engine{T: m, D: d}
	p := make([]int, 64)
	for i, c := range []byte("And Naomi said unto her two daughters in law, Go, return each to ") {
		if i < 64 {
			p[i] = int(c)
		}
	}
	cpuLoop(b, func() {
		if _, err := e.Generate(p, Options{Tree: tree, MaxTokens: 96}); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkGeneratePlain and the speculative variants generate 96 greedy
// tokens after a 64-byte prompt with the committed weights: the full
// generation, prefill, drafting, verification and bookkeeping included.
func BenchmarkGeneratePlain(b *testing.B)  { benchGenerate(b, nil) }
func BenchmarkGenerateChain1(b *testing.B) { benchGenerate(b, specdec.Chain(1)) }
func BenchmarkGenerateChain2(b *testing.B) { benchGenerate(b, specdec.Chain(2)) }
func BenchmarkGenerateChain3(b *testing.B) { benchGenerate(b, specdec.Chain(3)) }
func BenchmarkGenerateTree(b *testing.B)   { benchGenerate(b, DefaultTree()) }
