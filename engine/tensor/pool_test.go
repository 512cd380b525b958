package tensor

import (
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// TestPoolRunsBothParts checks that every Run calls both parts once and
// returns after both.
func TestPoolRunsBothParts(t *testing.T) {
	p := NewPool()
	defer p.Close()
	var got [2]int
	for i := 0; i < 10000; i++ {
		p.Run(func(part int) { got[part]++ })
		if got[0] != i+1 || got[1] != i+1 {
			t.Fatalf("after %d runs the parts ran %v times", i+1, got)
		}
	}
}

// TestPoolRunsWithoutWorker checks that a caller whose worker never
// takes a task (here: a Pool with no worker goroutine, as when the
// operating system has descheduled it) runs both parts itself, in order.
func TestPoolRunsWithoutWorker(t *testing.T) {
	p := &Pool{wake: make(chan struct{}, 1)}
	var got []int
	for i := 0; i < 3; i++ {
		p.Run(func(part int) { got = append(got, part) })
	}
	if want := []int{0, 1, 0, 1, 0, 1}; !slices.Equal(got, want) {
		t.Errorf("parts ran in order %v, want %v", got, want)
	}
}

// TestPoolWorkerCatchesUp checks that a worker that missed tasks (the
// caller claimed their part 1 itself, as when the worker was
// descheduled) takes the next task's part 1: part 0 below waits for part
// 1, so only the worker can run it.
func TestPoolWorkerCatchesUp(t *testing.T) {
	p := &Pool{wake: make(chan struct{}, 1)}
	for i := 0; i < 3; i++ {
		p.Run(func(int) {})
	}
	go p.work()
	defer p.Close()
	for i := 0; i < 3; i++ {
		var took atomic.Bool
		seen := false // part 1 had run before part 0 returned
		p.Run(func(part int) {
			if part == 1 {
				took.Store(true)
				return
			}
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
				if took.Load() {
					seen = true
					return
				}
			}
		})
		if !seen {
			t.Fatalf("run %d after the missed tasks: the worker did not take part 1", i)
		}
	}
}

// BenchmarkPoolRun is the cost of one empty fork-join, on average; the
// caller usually claims the empty part 1 before the worker sees it.
func BenchmarkPoolRun(b *testing.B) {
	p := NewPool()
	defer p.Close()
	f := func(int) {}
	for b.Loop() {
		p.Run(f)
	}
}

// BenchmarkPoolRunBatch times batches of 100 fork-joins of an empty
// task that the worker does take (part 0 waits until part 1 has
// started, so the caller never runs it itself) on an engaged Pool, and
// reports the fastest batch's and the median batch's time per fork-join
// (min-ns, med-ns), which other processes disturb less than the mean.
func BenchmarkPoolRunBatch(b *testing.B) {
	p := NewPool()
	defer p.Close()
	p.Engage()
	defer p.Release()
	var started atomic.Bool
	f := func(part int) {
		if part == 1 {
			started.Store(true)
			return
		}
		for !started.Load() {
		}
		started.Store(false)
	}
	var per []time.Duration
	for b.Loop() {
		t0 := time.Now()
		for i := 0; i < 100; i++ {
			p.Run(f)
		}
		per = append(per, time.Since(t0)/100)
	}
	slices.Sort(per)
	b.ReportMetric(float64(per[0]), "min-ns")
	b.ReportMetric(float64(per[len(per)/2]), "med-ns")
}

// TestPoolPackedMatchesOneCore checks that a packed product, float32 or
// bfloat16, with or without the residual add, split over a Pool gives
// bit-identical results to the one-core product and to the product
// followed by a separate add (a column split leaves every sum's order
// alone, which the engine's token identity across core counts relies
// on), honours PoolMinRows, and allocates nothing while the pool is
// engaged. The column counts include halves that end inside a 64-column
// tile (192, 288) and, for bfloat16, one that is not a multiple of 16.
func TestPoolPackedMatchesOneCore(t *testing.T) {
	one := Detect(1)
	if !one.SIMD {
		t.Skip("the packed kernel needs SIMD")
	}
	r := rand.New(rand.NewPCG(5, 6))
	p := NewPool()
	defer p.Close()
	p.Engage()
	defer p.Release()
	two := one
	two.Pool = p
	type product func(kn Kernel, c, a []float32, m int, add []float32)
	check := func(name string, n int, mul product) {
		const k = 192
		for _, m := range []int{1, 2, 3, 4, 5, 17} {
			a, add := randSlice(r, m*k), randSlice(r, m*n)
			want, got := make([]float32, m*n), make([]float32, m*n)
			mul(one, want, a, m, nil)
			for _, res := range [][]float32{nil, add} {
				mul(two, got, a, m, res)
				for i := range want {
					w := want[i]
					if res != nil {
						w += res[i]
					}
					if got[i] != w {
						t.Fatalf("%s n=%d m=%d add=%v: c[%d] = %v on two cores, %v on one", name, n, m, res != nil, i, got[i], w)
					}
				}
				if allocs := testing.AllocsPerRun(20, func() { mul(two, got, a, m, res) }); allocs != 0 {
					t.Errorf("%s n=%d m=%d: %v allocations per split product, want 0", name, n, m, allocs)
				}
			}
		}
	}
	for _, n := range []int{192, 288, 1024} {
		w := Pack(randSlice(r, n*192), n, 192)
		check("float32", n, func(kn Kernel, c, a []float32, m int, add []float32) { kn.MatMulPackedAdd(c, a, w, m, add) })
	}
	// The bfloat16 products split on AVX-512 and on AVX2 (one-row tile).
	for _, n := range []int{192, 288, 1024, 200} {
		w := PackBF16(randSlice(r, n*192), n, 192)
		check("bfloat16", n, func(kn Kernel, c, a []float32, m int, add []float32) { kn.MatMulBF16Add(c, a, w, m, add) })
	}
	// PoolMinRows 2 keeps one-row products on the calling core: the pool
	// sees no task.
	two.PoolMinRows = 2
	w := Pack(randSlice(r, 192*192), 192, 192)
	before := p.seq.Load()
	two.MatMulPacked(make([]float32, 192), randSlice(r, 192), w, 1)
	if p.seq.Load() != before {
		t.Errorf("a one-row product with PoolMinRows 2 was split")
	}
}
