package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRopeScaleBitIdentical checks the SIMD rotation against the scalar
// formula bit for bit (both round every product, sum and scaling), on
// widths that take the vector path (8, 24) and the scalar one (6), one
// head and several, with a scale of 1 and of 1/sqrt(24).
func TestRopeScaleBitIdentical(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, w := range []int{6, 8, 24} {
		for _, n := range []int{1, 4} {
			for _, scale := range []float32{1, float32(1 / math.Sqrt(24))} {
				src := randSlice(r, n*w)
				cs, sn := make([]float32, w), make([]float32, w)
				for u := 0; u < w; u += 2 {
					ang := r.Float64() * 6
					cs[u], cs[u+1] = float32(math.Cos(ang)), float32(math.Cos(ang))
					sn[u], sn[u+1] = float32(math.Sin(ang)), float32(math.Sin(ang))
				}
				want := make([]float32, n*w)
				for h := 0; h < n; h++ {
					for u := 0; u < w; u += 2 {
						a, b, c, s := src[h*w+u], src[h*w+u+1], cs[u], sn[u]
						ac, bs, as, bc := a*c, b*s, a*s, b*c
						want[h*w+u], want[h*w+u+1] = (ac-bs)*scale, (as+bc)*scale
					}
				}
				for _, kn := range []Kernel{{}, Detect(1)} {
					got := make([]float32, n*w)
					kn.RopeScale(got, src, cs, sn, scale)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("RopeScale w=%d n=%d scale=%v SIMD %v: entry %d = %v, want %v", w, n, scale, kn.SIMD, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}
