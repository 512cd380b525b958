package tensor

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestActivationsMatchFloat64 checks SiLUMul and RMSNorm, SIMD and pure
// Go, against float64 arithmetic on lengths with and without a tail.
func TestActivationsMatchFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{3, 8, 24, 77, 512} {
		a, b, g := randSlice(r, 2*n), randSlice(r, 2*n), randSlice(r, n)
		for i := range a {
			a[i] *= 5
		}
		for _, kn := range []Kernel{{}, Detect(1)} {
			out := make([]float32, 2*n)
			kn.SiLUMul(out, a, b)
			for i := range out {
				x := float64(a[i])
				want := x * float64(b[i]) / (1 + math.Exp(-x))
				if math.Abs(float64(out[i])-want) > 1e-5*(1+math.Abs(want)) {
					t.Fatalf("SiLUMul n %d SIMD %v: %d = %g, want %g", n, kn.SIMD, i, out[i], want)
				}
			}
			kn.RMSNorm(out, a, g, 2, n, 1e-5)
			for row := 0; row < 2; row++ {
				var ss float64
				for _, v := range a[row*n : row*n+n] {
					ss += float64(v) * float64(v)
				}
				rr := 1 / math.Sqrt(ss/float64(n)+1e-5)
				for i := 0; i < n; i++ {
					want := float64(a[row*n+i]) * rr * float64(g[i])
					if math.Abs(float64(out[row*n+i])-want) > 1e-5*(1+math.Abs(want)) {
						t.Fatalf("RMSNorm n %d SIMD %v: row %d entry %d = %g, want %g", n, kn.SIMD, row, i, out[row*n+i], want)
					}
				}
			}
		}
	}
}

// TestSiLUMulAVX512MatchesAVX2 checks that the AVX-512 SwiGLU pass gives
// the AVX2 pass's bits (the same operations per lane), with large
// negative inputs (the exponential's cutoff) and tails past 32 and 8
// entries included.
func TestSiLUMulAVX512MatchesAVX2(t *testing.T) {
	z, y := avx512AndAVX2(t)
	r := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{32, 64, 77, 512, 1030} {
		a, b := randSlice(r, n), randSlice(r, n)
		for i := range a {
			a[i] *= 30
			if i%17 == 5 {
				a[i] = -100
			}
		}
		want, got := make([]float32, n), make([]float32, n)
		y.SiLUMul(want, a, b)
		z.SiLUMul(got, a, b)
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("n %d: AVX-512 differs from AVX2 (-AVX2 +AVX-512):\n%s", n, d)
		}
	}
}

// TestArgmax checks the lowest index among ties and negative entries.
func TestArgmax(t *testing.T) {
	for _, c := range []struct {
		z    []float32
		want int
	}{
		{[]float32{1, 3, 2}, 1},
		{[]float32{5, 5, 1}, 0},
		{[]float32{-2, -1, -1}, 1},
		{[]float32{7}, 0},
	} {
		if got := Argmax(c.z); got != c.want {
			t.Errorf("Argmax(%v) = %d, want %d", c.z, got, c.want)
		}
	}
}
