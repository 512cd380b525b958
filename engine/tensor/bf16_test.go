package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestBF16Rounding checks round-to-nearest-even on exact halfway values
// and the relative error bound of bfloat16 (half a unit in the 8th
// significant bit, 2^-8).
func TestBF16Rounding(t *testing.T) {
	for _, c := range []struct {
		in   uint32
		want uint16
	}{{0x3f808000, 0x3f80}, {0x3f818000, 0x3f82}, {0x3f808001, 0x3f81}, {0x3f800000, 0x3f80}} {
		if got := BF16(math.Float32frombits(c.in)); got != c.want {
			t.Errorf("BF16(%#x) = %#x, want %#x", c.in, got, c.want)
		}
	}
	r := rand.New(rand.NewPCG(13, 14))
	for i := 0; i < 1000; i++ {
		v := float32(r.NormFloat64())
		if d := math.Abs(float64(BF16Value(BF16(v)) - v)); d > math.Abs(float64(v))/256 {
			t.Fatalf("BF16(%g) = %g, off by %g", v, BF16Value(BF16(v)), d)
		}
	}
}

// TestMatMulBF16MatchesRounded checks the AVX-512 bf16 kernels and the
// pure-Go path against the triple loop on the rounded weights, for one,
// two and several rows, column counts that are not multiples of 64 and
// odd input counts (a last half-filled row pair).
func TestMatMulBF16MatchesRounded(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, s := range [][3]int{{1, 192, 288}, {2, 384, 192}, {3, 192, 1024}, {4, 512, 192}, {7, 192, 256}, {1, 8, 16}, {5, 24, 80}, {1, 7, 16}, {2, 193, 64}, {4, 25, 80}, {3, 1, 48}, {6, 3, 200}} {
		m, k, n := s[0], s[1], s[2]
		a, w := randSlice(r, m*k), randSlice(r, n*k)
		rounded := make([]float32, len(w))
		for i, v := range w {
			rounded[i] = BF16Value(BF16(v))
		}
		want := make([]float32, m*n)
		MatMulTNaive(want, a, rounded, m, k, n)
		p := PackBF16(w, n, k)
		for _, kn := range []Kernel{{}, Detect(1), {SIMD: Detect(1).SIMD}} {
			got := make([]float32, m*n)
			kn.MatMulBF16(got, a, p, m)
			close(t, "MatMulBF16", got, want, k)
		}
	}
}

// TestMatMulBF16InputsMatchesWhole checks that a one-row product done
// in two calls over input ranges (the second continuing the first's
// sums) gives the bits of MatMulBF16 on the whole row, on the AVX2 and
// pure-Go kernels, for column counts that are not multiples of 64 and an
// odd last range.
func TestMatMulBF16InputsMatchesWhole(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	simd := Detect(1)
	for _, kn := range []Kernel{{}, {SIMD: simd.SIMD}} {
		for _, s := range [][3]int{{384, 192, 192}, {384, 192, 200}, {25, 10, 80}, {8, 2, 16}} {
			k, p0, n := s[0], s[1], s[2]
			a, w := randSlice(r, k), randSlice(r, n*k)
			p := PackBF16(w, n, k)
			want := make([]float32, n)
			kn.MatMulBF16(want, a, p, 1)
			got := make([]float32, n)
			kn.MatMulBF16Inputs(got, a[:p0], p, 0, p0, false)
			kn.MatMulBF16Inputs(got, a[p0:], p, p0, k, true)
			for j := range want {
				if got[j] != want[j] {
					t.Fatalf("simd %v, k %d split at %d, n %d: column %d = %g, want %g", kn.SIMD, k, p0, n, j, got[j], want[j])
				}
			}
		}
	}
}

// BenchmarkBF16vsF32 compares the float32 and bfloat16 packed products
// on a 6 MB (float32) matrix, past the L2 cache like a whole model's
// weights, for one, two and four rows, on the AVX-512 kernels or, where
// the CPU lacks them, the AVX2 ones.
func BenchmarkBF16vsF32(b *testing.B) {
	kn := Detect(1)
	if !kn.SIMD {
		b.Skip("no SIMD kernel")
	}
	r := rand.New(rand.NewPCG(1, 1))
	const k, n = 384, 4096
	w := randSlice(r, n*k)
	pf, pb := Pack(w, n, k), PackBF16(w, n, k)
	for _, m := range []int{1, 2, 4} {
		a, c := randSlice(r, m*k), make([]float32, m*n)
		flops := 2 * float64(m*k*n)
		b.Run(fmt.Sprintf("f32/m=%d", m), func(b *testing.B) {
			best := reportBest(b, func() { kn.MatMulPacked(c, a, pf, m) })
			b.ReportMetric(flops/best.Seconds()/1e9, "best-GFLOP/s")
		})
		b.Run(fmt.Sprintf("bf16/m=%d", m), func(b *testing.B) {
			best := reportBest(b, func() { kn.MatMulBF16(c, a, pb, m) })
			b.ReportMetric(flops/best.Seconds()/1e9, "best-GFLOP/s")
		})
	}
}
