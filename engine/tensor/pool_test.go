package tensor

import (
	"math/rand/v2"
	"testing"
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

// BenchmarkPoolRun is the cost of one empty fork-join.
func BenchmarkPoolRun(b *testing.B) {
	p := NewPool()
	defer p.Close()
	f := func(int) {}
	for b.Loop() {
		p.Run(f)
	}
}

// TestPoolPackedMatchesOneCore checks that a packed product split over a
// Pool gives bit-identical results to the one-core product (a column
// split leaves every sum's order alone, which the engine's token
// identity across core counts relies on), honours PoolMinRows, and
// allocates nothing while the pool is engaged.
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
	for _, n := range []int{192, 288, 1024} {
		const k = 192
		w := Pack(randSlice(r, n*k), n, k)
		for _, m := range []int{1, 2, 3, 4, 5, 17} {
			a := randSlice(r, m*k)
			want, got := make([]float32, m*n), make([]float32, m*n)
			one.MatMulPacked(want, a, w, m)
			two := one
			two.Pool = p
			two.MatMulPacked(got, a, w, m)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("n=%d m=%d: c[%d] = %v on two cores, %v on one", n, m, i, got[i], want[i])
				}
			}
			if allocs := testing.AllocsPerRun(20, func() { two.MatMulPacked(got, a, w, m) }); allocs != 0 {
				t.Errorf("n=%d m=%d: %v allocations per split product, want 0", n, m, allocs)
			}
		}
	}
	// PoolMinRows 2 keeps one-row products on the calling core: the pool
	// sees no task.
	two := one
	two.Pool, two.PoolMinRows = p, 2
	w := Pack(randSlice(r, 192*192), 192, 192)
	before := p.seq.Load()
	two.MatMulPacked(make([]float32, 192), randSlice(r, 192), w, 1)
	if p.seq.Load() != before {
		t.Errorf("a one-row product with PoolMinRows 2 was split")
	}
}
