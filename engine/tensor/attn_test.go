package tensor

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestGemmMatchesNaive checks the strided kernel, SIMD and pure Go,
// against the triple loop on shapes that exercise the 16- and 8-column
// kernels, the scalar tail columns and short row tiles.
func TestGemmMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, s := range [][3]int{{1, 1, 1}, {4, 24, 16}, {4, 24, 128}, {3, 24, 40}, {5, 130, 24}, {16, 7, 24}, {2, 1, 13}, {7, 33, 31}, {8, 256, 24}, {1, 0, 5}} {
		m, k, n := s[0], s[1], s[2]
		lda, ldb, ldc := k+3, n+5, n+2
		a, b := randSlice(r, m*lda), randSlice(r, max(1, k)*ldb)
		want := make([]float32, m*ldc)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var sum float32
				for p := 0; p < k; p++ {
					sum += a[i*lda+p] * b[p*ldb+j]
				}
				want[i*ldc+j] = sum
			}
		}
		for _, kn := range []Kernel{{}, Detect(1)} {
			got := make([]float32, m*ldc)
			for i := range got {
				got[i] = 7 // every computed entry is overwritten; the padding is not touched
			}
			kn.Gemm(got, ldc, a, lda, b, ldb, m, k, n)
			for i := 0; i < m; i++ {
				close(t, "Gemm", got[i*ldc:i*ldc+n], want[i*ldc:i*ldc+n], k)
				for j := n; j < ldc && i*ldc+j < len(got); j++ {
					if got[i*ldc+j] != 7 {
						t.Fatalf("Gemm %v (SIMD %v) wrote the padding at row %d column %d", s, kn.SIMD, i, j)
					}
				}
			}
		}
	}
}

// avx512AndAVX2 returns this CPU's kernel and its AVX2-only variant, and
// skips the test where the CPU has no AVX-512.
func avx512AndAVX2(t *testing.T) (z, y Kernel) {
	t.Helper()
	z = Detect(1)
	if !z.AVX512 {
		t.Skip("no AVX-512")
	}
	return z, Kernel{SIMD: true}
}

// TestGemmAVX512MatchesAVX2 checks that the AVX-512 tiles of Gemm give
// the AVX2 tiles' bits (each column summed in the same order), on the
// attention's shapes and on every width the 64-, 24-, 16- and 8-column
// blocks combine to.
func TestGemmAVX512MatchesAVX2(t *testing.T) {
	z, y := avx512AndAVX2(t)
	r := rand.New(rand.NewPCG(11, 12))
	for _, s := range [][3]int{{12, 24, 128}, {4, 24, 16}, {12, 128, 24}, {5, 131, 24}, {3, 24, 144}, {7, 9, 40}, {6, 17, 56}, {2, 33, 100}, {1, 5, 8}, {9, 24, 96}} {
		m, k, n := s[0], s[1], s[2]
		lda, ldb, ldc := k+1, n+3, n+5
		a, b := randSlice(r, m*lda), randSlice(r, k*ldb)
		want, got := make([]float32, m*ldc), make([]float32, m*ldc)
		y.Gemm(want, ldc, a, lda, b, ldb, m, k, n)
		z.Gemm(got, ldc, a, lda, b, ldb, m, k, n)
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("Gemm %v: AVX-512 differs from AVX2 (-AVX2 +AVX-512):\n%s", s, d)
		}
	}
}

// TestExpShiftSum checks the softmax row kernel, SIMD and pure Go,
// against float64 arithmetic, with -Inf entries (masked keys) included.
func TestExpShiftSum(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 5, 8, 16, 17, 48, 64, 131, 144} {
		x := randSlice(r, n)
		for i := range x {
			x[i] *= 6
			if i%5 == 3 {
				x[i] = float32(math.Inf(-1))
			}
		}
		x[0] = 2 // at least one finite entry
		mx := math.Inf(-1)
		for _, v := range x {
			mx = math.Max(mx, float64(v))
		}
		var sum float64
		want := make([]float64, n)
		for i, v := range x {
			want[i] = math.Exp(float64(v) - mx)
			sum += want[i]
		}
		for _, kn := range []Kernel{{}, {SIMD: Detect(1).SIMD}, Detect(1)} {
			y := append([]float32(nil), x...)
			gm, gs := kn.ExpShiftSum(y)
			if float64(gm) != mx || math.Abs(float64(gs)-sum) > 1e-5*sum {
				t.Fatalf("n %d SIMD %v: max %g sum %g, want %g %g", n, kn.SIMD, gm, gs, mx, sum)
			}
			for i := range y {
				if math.Abs(float64(y[i])-want[i]) > 1e-6*(1+want[i]) {
					t.Fatalf("n %d SIMD %v: entry %d = %g, want %g", n, kn.SIMD, i, y[i], want[i])
				}
			}
		}
	}
}

// TestExpShiftSumBias checks that the fused mask add gives the bits of
// adding the bias first, on every kernel, for rows of whole 16-lane
// vectors (the AVX-512 pass) and others.
func TestExpShiftSumBias(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	ninf := float32(math.Inf(-1))
	for _, n := range []int{3, 16, 17, 32, 48, 64} {
		x, bias := randSlice(r, n), make([]float32, n+5)
		for i := range bias {
			if i%3 == 1 {
				bias[i] = ninf
			}
		}
		for _, kn := range []Kernel{{}, {SIMD: Detect(1).SIMD}, Detect(1)} {
			want := append([]float32(nil), x...)
			for i := range want {
				want[i] += bias[i]
			}
			wm, ws := kn.ExpShiftSum(want)
			got := append([]float32(nil), x...)
			gm, gs := kn.ExpShiftSumBias(got, bias)
			if d := cmp.Diff([]float32{wm, ws}, []float32{gm, gs}); d != "" {
				t.Fatalf("n %d AVX-512 %v: max and sum differ (-add first +fused):\n%s", n, kn.AVX512, d)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("n %d AVX-512 %v: rows differ (-add first +fused):\n%s", n, kn.AVX512, d)
			}
		}
	}
}

// BenchmarkAttnHead times the attention of one KV head of the committed
// target (head size 24, four query heads per KV head) over a 128-token
// prefix, as the engine's Layer.step runs it: the scores of R query rows
// (four per new token), a softmax row each and the weighted sum of the
// values. R = 4 is a decode step, 12 the verify pass of three tokens.
func BenchmarkAttnHead(b *testing.B) {
	const hd, n, kvd = 24, 128, 48
	r := rand.New(rand.NewPCG(9, 10))
	for _, R := range []int{4, 12} {
		b.Run("R="+string(rune('0'+R/10))+string(rune('0'+R%10)), func(b *testing.B) {
			kn := Detect(1)
			q, kt, v := randSlice(r, R*hd), randSlice(r, hd*(n+16)), randSlice(r, n*kvd)
			s, o := make([]float32, R*n), make([]float32, R*hd)
			for b.Loop() {
				kn.Gemm(s, n, q, hd, kt, n+16, R, hd, n)
				for i := 0; i < R; i++ {
					kn.ExpShiftSum(s[i*n : (i+1)*n])
				}
				kn.Gemm(o, hd, s, n, v, kvd, R, n, hd)
			}
		})
	}
}
