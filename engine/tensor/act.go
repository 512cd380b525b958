package tensor

import "math"

// SiLUMul writes out[i] = silu(a[i])·b[i] = a[i]·b[i] / (1 + e^(-a[i])),
// the SwiGLU activation: 32 entries at a time on AVX-512, then eight at a
// time on AVX2, by the same operations (the same bits either way).
func (kn Kernel) SiLUMul(out, a, b []float32) {
	n := len(out)
	a, b = a[:n], b[:n]
	i := 0
	if kn.AVX512 {
		if n32 := n &^ 31; n32 > 0 {
			siluMulZ(&a[0], &b[0], &out[0], n32)
			i = n32
		}
	}
	if kn.SIMD && i < n {
		if n8 := (n - i) &^ 7; n8 > 0 {
			siluMul(&a[i], &b[i], &out[i], n8)
			i += n8
		}
	}
	for ; i < n; i++ {
		out[i] = a[i] * b[i] / (1 + Expf(-a[i]))
	}
}

// RMSNorm writes g ⊙ x / rms(x) for each of the m rows of x (d wide)
// into y, with rms(x) = sqrt(mean(x²) + eps). The SIMD kernel sums the
// squares in float32 over 16 lanes; the pure-Go path sums in float64.
func (kn Kernel) RMSNorm(y, x, g []float32, m, d int, eps float64) {
	g = g[:d]
	for t := 0; t < m; t++ {
		row, out := x[t*d:t*d+d], y[t*d:t*d+d]
		d8 := 0
		if kn.SIMD {
			d8 = d &^ 7
		}
		var ss float64
		if d8 > 0 {
			ss = float64(sumSq(&row[0], d8))
		}
		for _, v := range row[d8:] {
			ss += float64(v) * float64(v)
		}
		r := float32(1 / math.Sqrt(ss/float64(d)+eps))
		if d8 > 0 {
			scaleMul(&out[0], &row[0], &g[0], r, d8)
		}
		for i := d8; i < d; i++ {
			out[i] = row[i] * r * g[i]
		}
	}
}

// Argmax returns the index of the largest entry of z, the lowest on
// ties (0 for an empty z): greedy decoding's token.
func Argmax(z []float32) int {
	b := 0
	for i, v := range z {
		if v > z[b] {
			b = i
		}
	}
	return b
}
