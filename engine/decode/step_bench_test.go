package decode

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/scaleacross/scaleacross/engine/model"
	"github.com/scaleacross/scaleacross/engine/tensor"
	"github.com/scaleacross/scaleacross/internal/cputime"
)

// benchWeightsEnv names the environment variable that points the
// benchmarks (not the tests, whose token counts belong to the committed
// pair) at another weight directory, such as an untrained deeper target
// made with engine train --steps 1 --draft-steps 1 --layers 8: the pass
// costs do not depend on the weights' values.
const benchWeightsEnv = "SCALEACROSS_BENCH_WEIGHTS"

// loadBenchPair loads the pair the benchmarks time: the directory in
// $SCALEACROSS_BENCH_WEIGHTS, or the committed pair.
func loadBenchPair() (*model.Target, *model.Draft, error) {
	if dir := os.Getenv(benchWeightsEnv); dir != "" {
		return model.LoadPair(dir)
	}
	return loadTrained()
}

// stepSetup loads the committed pair (or $SCALEACROSS_BENCH_WEIGHTS) and fills both caches with a
// 128-byte committed prefix, the middle of a bench generation (64-byte
// prompts, 96 generated tokens).
func stepSetup(b *testing.B) (*model.Target, *model.Draft, *model.Cache, *model.Cache) {
	b.Helper()
	m, d, err := loadBenchPair()
	if err != nil {
		b.Fatal(err)
	}
	m.Prepare()
	d.Prepare(m)
	const n = 128
	tok, pos := make([]int, n), make([]int, n)
	for i := range tok {
		tok[i], pos[i] = int("And Naomi said unto her two daughters in law, Go, return each to "[i%64]), i
	}
	tc, dc := model.NewCache(m.Cfg, m.Cfg.Layers), model.NewCache(m.Cfg, 1)
	feat, _, err := m.Step(tok, pos, model.CausalMask(n), tc)
	if err != nil {
		b.Fatal(err)
	}
	tc.Commit(pos)
	if _, _, err := d.Step(m, feat, tok, pos, model.CausalMask(n), dc); err != nil {
		b.Fatal(err)
	}
	dc.Commit(pos)
	return m, d, tc, dc
}

// BenchmarkTargetStep times one target pass of m tokens on a 128-token
// cache with the committed weights: m = 1 is a plain decode step, m > 1
// the verify pass of a chain of m-1 drafts (the cost does not depend on
// the mask's shape).
func BenchmarkTargetStep(b *testing.B) {
	for _, m := range []int{1, 2, 3, 4, 5, 8, 17} {
		b.Run(fmt.Sprintf("m=%d", m), func(b *testing.B) { benchTargetStep(b, m, false) })
	}
}

// BenchmarkTargetStepWorkers2 is BenchmarkTargetStep with the packed
// products split over two cores (tensor.Pool): plain decoding's other
// configuration, which the engine does not use by default.
func BenchmarkTargetStepWorkers2(b *testing.B) {
	for _, m := range []int{1, 2, 3, 4, 5, 8, 17} {
		b.Run(fmt.Sprintf("m=%d", m), func(b *testing.B) { benchTargetStep(b, m, true) })
	}
}

func benchTargetStep(b *testing.B, m int, pool bool) {
	t, _, tc, _ := stepSetup(b)
	if pool {
		usePool(b, t)
	}
	tok, pos := make([]int, m), make([]int, m)
	for i := range pos {
		tok[i], pos[i] = 'a', tc.Len+i
	}
	mask := model.CausalMask(m)
	cpuLoop(b, func() {
		if _, _, err := t.Step(tok, pos, mask, tc); err != nil {
			b.Fatal(err)
		}
		tc.Commit(nil)
	})
}

// usePool gives the target's kernel an engaged Pool (its products and
// attention split over two cores) until the benchmark ends.
func usePool(b *testing.B, t *model.Target) {
	p := tensor.NewPool()
	p.Engage()
	t.Kern.Pool = p
	b.Cleanup(func() {
		p.Release()
		p.Close()
	})
}

// BenchmarkDraftStep times one draft-head pass of m inputs (a tree level
// or the catch-up over an accepted path) on a 128-token draft cache, with
// the bfloat16 draft where the CPU has SIMD (the engine's default; on AVX2 its one-row passes);
// BenchmarkDraftStepFP32 keeps the draft in float32.
func BenchmarkDraftStep(b *testing.B)     { benchDraftStep(b, true, false, false) }
func BenchmarkDraftStepFP32(b *testing.B) { benchDraftStep(b, false, false, false) }

// BenchmarkDraftStepWorkers2 is BenchmarkDraftStep with the products and
// the attention split over two cores (tensor.Pool).
func BenchmarkDraftStepWorkers2(b *testing.B) { benchDraftStep(b, true, false, true) }

// BenchmarkDraftCatchUp times the catch-up pass over an accepted path of
// m inputs (Draft.StepLast: attention and the MLP for the last input
// only, the others append their keys and values).
func BenchmarkDraftCatchUp(b *testing.B) { benchDraftStep(b, true, true, false) }

func benchDraftStep(b *testing.B, bf, last, pool bool) {
	for _, m := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("m=%d", m), func(b *testing.B) {
			t, d, _, dc := stepSetup(b)
			d.UseBF16(t, bf)
			if pool {
				usePool(b, t)
			}
			tok, pos := make([]int, m), make([]int, m)
			for i := range pos {
				tok[i], pos[i] = 'a', dc.Len+i
			}
			feat := make([]float32, m*t.Cfg.Dim)
			mask := model.CausalMask(m)
			cpuLoop(b, func() {
				step := d.Step
				if last {
					step = d.StepLast
				}
				if _, _, err := step(t, feat, tok, pos, mask, dc); err != nil {
					b.Fatal(err)
				}
				dc.Commit(nil)
			})
		})
	}
}

// cpuLoop runs body b.N times and reports, besides the wall-clock
// ns/op, the process CPU time per iteration (cpu-ns/op) and the fastest
// single iteration (min-ns/op), which other jobs on a shared machine
// disturb less.
func cpuLoop(b *testing.B, body func()) {
	b.Helper()
	c0, _ := cputime.Process()
	n := 0
	fastest := time.Duration(1 << 62)
	for b.Loop() {
		t0 := time.Now()
		body()
		fastest = min(fastest, time.Since(t0))
		n++
	}
	b.ReportMetric(float64(cputime.Since(c0))/float64(n), "cpu-ns/op")
	b.ReportMetric(float64(fastest.Nanoseconds()), "min-ns/op")
}

// BenchmarkPrefill times the prefill of a 64-byte prompt, the bench's
// prompt length: the target's causal pass with every token's feature
// (target, speculation's) or the last token's (target-last, plain
// decoding's: the last layer runs attention and the MLP on that token
// alone) or the last DefaultDraftPrefill tokens' (target-window, the
// CLI's speculation), all with the last token's logits only, and the
// draft head's pass over the target's features of every token (draft)
// or of the window's (draft-window); the -workers2 variants are the
// target's on two cores (tensor.Pool), the prefill of a two-core
// generation.
func BenchmarkPrefill(b *testing.B) {
	const n = 64
	tok, pos := make([]int, n), make([]int, n)
	for i := range tok {
		tok[i], pos[i] = int("And Naomi said unto her two daughters in law, Go, return each to "[i]), i
	}
	mask := model.CausalMask(n)
	for _, c := range []struct {
		name string
		from int
		pool bool
	}{{"target", 0, false}, {"target-last", n - 1, false}, {"target-window", n - DefaultDraftPrefill, false}, {"target-workers2", 0, true}, {"target-last-workers2", n - 1, true}, {"target-window-workers2", n - DefaultDraftPrefill, true}} {
		b.Run(c.name, func(b *testing.B) {
			t, _, tc, _ := stepSetup(b)
			if c.pool {
				usePool(b, t)
			}
			cpuLoop(b, func() {
				tc.Reset()
				if _, _, err := t.Prefill(tok, pos, tc, c.from); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
	for _, c := range []struct {
		name string
		from int
	}{{"draft", 0}, {"draft-window", n - DefaultDraftPrefill}} {
		b.Run(c.name, func(b *testing.B) {
			t, d, tc, dc := stepSetup(b)
			d.UseBF16(t, true)
			tc.Reset()
			feat, _, err := t.Step(tok, pos, mask, tc)
			if err != nil {
				b.Fatal(err)
			}
			w := n - c.from
			wf, wmask := feat[c.from*t.Cfg.Dim:], model.CausalMask(w)
			cpuLoop(b, func() {
				dc.Reset()
				if _, _, err := d.StepLast(t, wf, tok[c.from:], pos[c.from:], wmask, dc); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
