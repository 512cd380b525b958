package tensor

// GLUGroup is the width of the groups in which GLURows interleaves the
// gate and up projections: a 64-column tile of the AVX-512 kernels.
const GLUGroup = 64

// GLUOK reports whether ff gate (and up) rows can be interleaved.
func GLUOK(ff int) bool { return ff > 0 && ff%GLUGroup == 0 }

// GLURows stacks the gate projection w1 and the up projection w3 (each
// ff rows of k, ff a multiple of GLUGroup) with their groups of GLUGroup
// rows alternating: w1's first group, w3's first, w1's second, and so on.
// Packed, the product's every 2·GLUGroup output columns then hold the
// gate and up values of the same GLUGroup units, so that the part of a
// split product that computes them can apply the activation itself
// (MatMulPackedGLU, MatMulBF16GLU).
func GLURows(w1, w3 []float32, ff, k int) []float32 {
	out := make([]float32, 0, 2*ff*k)
	for g := 0; g < ff; g += GLUGroup {
		out = append(out, w1[g*k:(g+GLUGroup)*k]...)
		out = append(out, w3[g*k:(g+GLUGroup)*k]...)
	}
	return out
}

// MatMulPackedGLU computes the SwiGLU activation act = silu(a·W1ᵀ) ⊙
// (a·W3ᵀ) (m×ff) for the m×k matrix a and w, the packed GLURows of W1
// and W3 (N = 2·ff), with g (m×N) as scratch for the product. A split
// product applies the activation in each part, to the units of its
// columns; each entry is computed as by MatMulPacked and SiLUMul.
func (kn Kernel) MatMulPackedGLU(act, g, a []float32, w *Packed, m int) {
	n := w.N
	if m == 0 {
		return
	}
	_ = act[m*n/2-1]
	checkShapes(g, a, nil, m, w.K, n)
	if kn.splits(m, w.K, n, 2*2*GLUGroup) {
		kn.Pool.run(packedJob{z: kn.AVX512, c: g, a: a, w: w, m: m, act: act})
		return
	}
	kn.MatMulPacked(g, a, w, m)
	gluCols(kn, act, g, m, n, 0, n)
}

// MatMulBF16GLU is MatMulPackedGLU on the bfloat16 GLURows w.
func (kn Kernel) MatMulBF16GLU(act, g, a []float32, w *PackedBF16, m int) {
	n := w.N
	if m == 0 {
		return
	}
	_ = act[m*n/2-1]
	checkShapes(g, a, nil, m, w.K, n)
	if kn.SIMD && kn.splits(m, w.K, n, 2*2*GLUGroup) {
		kn.Pool.run(packedJob{z: kn.AVX512, c: g, a: a, bw: w, m: m, act: act})
		return
	}
	kn.MatMulBF16(g, a, w, m)
	gluCols(kn, act, g, m, n, 0, n)
}

// gluCols writes the activation of the units whose gate and up values
// lie in the columns lo..hi-1 (multiples of 2·GLUGroup) of g, m rows of
// n, to act (m rows of n/2).
func gluCols(kn Kernel, act, g []float32, m, n, lo, hi int) {
	ff := n / 2
	for i := 0; i < m; i++ {
		gr, ar := g[i*n:(i+1)*n], act[i*ff:(i+1)*ff]
		for j := lo; j < hi; j += 2 * GLUGroup {
			kn.SiLUMul(ar[j/2:j/2+GLUGroup], gr[j:j+GLUGroup], gr[j+GLUGroup:j+2*GLUGroup])
		}
	}
}
