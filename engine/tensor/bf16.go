package tensor

import "math"

// PackedBF16 is a weight matrix W (n outputs × k inputs) rounded to
// bfloat16 (the top 16 bits of a float32, 8 bits of mantissa) and packed
// like Packed in 16-column panels of its transpose, with 48 columns of
// zeros after the last panel. Inside a panel the k rows go in pairs: the
// 32-bit lane c of pair-row q holds w(2q, c) in its low half and
// w(2q+1, c) in its high half (an odd k ends in a pair whose high halves
// are zero), so that a kernel widens 32 weights to float32 with one load,
// a shift and a mask, where widening loads take a shuffle per 16. Half the bytes
// of a float32 matrix, it halves the memory traffic of the one- and
// two-row products, which the memory system bounds; it is meant for the
// draft head, whose products only propose tokens (the target verifies
// every one in float32, so the output stays the target's).
type PackedBF16 struct {
	K, N int
	data []uint16 // ceil(N/16)+3 panels of kPad()×16
}

// kPad is K rounded up to a whole number of row pairs.
func (w *PackedBF16) kPad() int { return w.K + w.K&1 }

// at returns the bfloat16 bits of W(j, p): column j, input p.
func (w *PackedBF16) at(j, p int) uint16 {
	return w.data[(j&^15)*w.kPad()+(p>>1)*32+(j&15)*2+p&1]
}

// BF16 rounds v to the nearest bfloat16 (ties to even) and returns its
// bits.
func BF16(v float32) uint16 {
	b := math.Float32bits(v)
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}

// BF16Value is the float32 value of bfloat16 bits h.
func BF16Value(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// PackBF16 packs the n×k row-major matrix w in bfloat16.
func PackBF16(w []float32, n, k int) *PackedBF16 {
	// A last tile of 64 columns may start at any 16-column panel of a
	// split product (Pool), so 48 zero columns follow the last one.
	np := (n+15)&^15 + 48
	kp := k + k&1
	p := &PackedBF16{K: k, N: n, data: make([]uint16, np*kp)}
	for j := 0; j < n; j += 16 {
		panel := p.data[j*kp : (j+16)*kp]
		for q := 0; q < k; q++ {
			for c := 0; c < 16 && j+c < n; c++ {
				panel[(q>>1)*32+c*2+q&1] = BF16(w[(j+c)*k+q])
			}
		}
	}
	return p
}

// MatMulBF16 computes c = a·Wᵀ for the m×k matrix a and the bfloat16
// W, overwriting the m×N matrix c: with the AVX-512 kernels where the
// kernel has them (one, two or four rows per tile, 64 columns at a
// time, the last group of columns through scratch), the AVX2 one-row
// tile on other SIMD kernels, in pure Go otherwise. Either way each product is summed in float32 in order of p.
func (kn Kernel) MatMulBF16(c, a []float32, w *PackedBF16, m int) {
	kn.MatMulBF16Add(c, a, w, m, nil)
}

// MatMulBF16Add is MatMulBF16 followed by c += add, as MatMulPackedAdd.
func (kn Kernel) MatMulBF16Add(c, a []float32, w *PackedBF16, m int, add []float32) {
	k, n := w.K, w.N
	if m == 0 {
		return
	}
	checkShapes(c, a, add, m, k, n)
	if !kn.SIMD {
		matMulBF16Go(c, a, w, m)
		addCols(kn.SIMD, c, add, m, n, 0, n)
		return
	}
	if kn.splits(m, k, n, 32) {
		kn.Pool.run(packedJob{z: kn.AVX512, c: c, a: a, bw: w, m: m, add: add})
		return
	}
	bf16Range(kn.AVX512, c, a, w, m, 0, n)
	addCols(true, c, add, m, n, 0, n)
}

// bf16Range computes the columns lo..hi-1 of c (lo a multiple of 16) on
// the AVX-512 kernels (z) or the AVX2 one: 64 columns per tile, a last
// short tile through scratch (PackBF16 pads the panels so that it may
// read past N). AVX2 has the one-row tile only (bf16Y1x64, the same
// sums as bf16Z1x64): a pass of several rows runs it once per row inside
// the loop over 64-column blocks, whose bfloat16 weights (k·128 bytes)
// stay in the L1 or L2 cache for the rows after the first.
func bf16Range(z bool, c, a []float32, w *PackedBF16, m, lo, hi int) {
	k, n := w.K, w.N
	var scratch [4][64]float32
	ps := 16 * w.kPad()
	for j := lo; j < hi; j += 64 {
		full := j+64 <= hi
		panel := &w.data[j*w.kPad()]
		col := func(r int) *float32 {
			if full {
				return &c[r*n+j]
			}
			return &scratch[r%4][0]
		}
		flush := func(r0, rows int) {
			if full {
				return
			}
			for r := r0; r < r0+rows; r++ {
				copy(c[r*n+j:r*n+hi], scratch[r%4][:hi-j])
			}
		}
		switch {
		case !z:
			for r := 0; r < m; r++ {
				bf16Y1x64(&a[r*k], panel, ps, k, col(r), 0)
				flush(r, 1)
			}
		case m == 1:
			bf16Z1x64(&a[0], panel, ps, k, col(0))
			flush(0, 1)
		case m == 2:
			bf16Z2x64(&a[0], &a[k], panel, ps, k, col(0), col(1))
			flush(0, 2)
		default:
			var junk [64]float32
			for i := 0; i < m; i += 4 {
				var ap, cp [4]*float32
				for r := 0; r < 4; r++ {
					if i+r < m {
						ap[r], cp[r] = &a[(i+r)*k], col(i+r)
					} else {
						ap[r], cp[r] = &a[i*k], &junk[0]
					}
				}
				bf16Z4x64(&ap, panel, ps, k, &cp)
				flush(i, min(4, m-i))
			}
		}
	}
}

// SplitBF16OK reports whether the kernel runs MatMulBF16Inputs: the
// AVX2 and pure-Go kernels (the AVX-512 tiles have no variant that
// continues sums).
func (kn Kernel) SplitBF16OK() bool { return !kn.AVX512 }

// MatMulBF16Inputs computes, for one row, the part of c = a·Wᵀ that the
// inputs p0..p1-1 of W contribute (a holds those p1-p0 inputs; p0 is
// even): c gets the sums over them, or with acc the sums continue from
// c's entries, so that a call on inputs 0..p0-1 followed by one on
// p0..K-1 with acc gives the bits of MatMulBF16 on the whole row (each
// sum runs in order of p, one FMA per term). The draft's input
// projection takes its token-embedding half from a table made this way
// (model.Draft.UseBF16). It needs SplitBF16OK.
func (kn Kernel) MatMulBF16Inputs(c, a []float32, w *PackedBF16, p0, p1 int, acc bool) {
	k, n := p1-p0, w.N
	if k <= 0 || p0&1 != 0 || p1 > w.K || kn.AVX512 {
		panic("tensor: MatMulBF16Inputs of an odd or empty input range, or on AVX-512")
	}
	_ = a[k-1]
	_ = c[n-1]
	if !kn.SIMD {
		for j := 0; j < n; j++ {
			var s float32
			if acc {
				s = c[j]
			}
			for q, v := range a[:k] {
				s += v * BF16Value(w.at(j, p0+q))
			}
			c[j] = s
		}
		return
	}
	ac := 0
	if acc {
		ac = 1
	}
	ps := 16 * w.kPad()
	var scratch [64]float32
	for j := 0; j < n; j += 64 {
		panel := &w.data[j*w.kPad()+(p0>>1)*32]
		if j+64 <= n {
			bf16Y1x64(&a[0], panel, ps, k, &c[j], ac)
			continue
		}
		copy(scratch[:], c[j:n])
		bf16Y1x64(&a[0], panel, ps, k, &scratch[0], ac)
		copy(c[j:n], scratch[:n-j])
	}
}

// matMulBF16Go is MatMulBF16 in pure Go.
func matMulBF16Go(c, a []float32, w *PackedBF16, m int) {
	k, n := w.K, w.N
	for i := 0; i < m; i++ {
		x := a[i*k : i*k+k]
		for j := 0; j < n; j++ {
			var s float32
			for p, v := range x {
				s += v * BF16Value(w.at(j, p))
			}
			c[i*n+j] = s
		}
	}
}
