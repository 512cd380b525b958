package tensor

import "math"

// DotRows writes out[u] = q·rows[u·ld : u·ld+len(q)] for u < n: the
// attention scores of one query against n cached keys of stride ld.
func (kn Kernel) DotRows(out, q, rows []float32, ld, n int) {
	hd := len(q)
	if n == 0 {
		return
	}
	_ = rows[(n-1)*ld+hd-1]
	_ = out[n-1]
	if kn.SIMD && hd%8 == 0 && hd > 0 {
		dotRows(&q[0], &rows[0], ld, n, hd, &out[0])
		return
	}
	for u := 0; u < n; u++ {
		out[u] = Dot(q, rows[u*ld:u*ld+hd])
	}
}

// AxpyRows adds sum_u w[u]·rows[u·ld : u·ld+len(acc)] for u < n to acc:
// the attention-weighted sum of n cached values of stride ld.
func (kn Kernel) AxpyRows(acc, w, rows []float32, ld, n int) {
	hd := len(acc)
	if n == 0 {
		return
	}
	_ = rows[(n-1)*ld+hd-1]
	_ = w[n-1]
	if kn.SIMD && hd%8 == 0 && hd > 0 {
		axpyRows(&w[0], &rows[0], ld, n, hd, &acc[0])
		return
	}
	for u := 0; u < n; u++ {
		Axpy(w[u], rows[u*ld:u*ld+hd], acc)
	}
}

// Gemm computes the m×n matrix c = a·b for the m×k matrix a and the k×n
// matrix b, each row-major with its own row stride (ldc, lda, ldb), and
// overwrites c. It is the attention kernel: with a the query rows of one
// KV head's group and b the head's transposed keys it gives the scores,
// and with a the softmax weights and b the cached values the outputs, so
// that the group's queries share every key and value loaded. On the SIMD
// path it runs the register-tiled gemm4x16 and gemm4x8 over 4-row tiles
// (a short last tile repeats a row into scratch), each column summed in
// the order of p; the rest of the columns, and every column in pure Go,
// take the same order in scalar code.
func (kn Kernel) Gemm(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	_ = a[(m-1)*lda+k-1]
	_ = b[(k-1)*ldb+n-1]
	_ = c[(m-1)*ldc+n-1]
	lo := 0
	if kn.AVX512 {
		lo = gemmZ(c, ldc, a, lda, b, ldb, m, k, n)
	} else if kn.SIMD {
		n16, n8 := n&^15, n&^7
		var scratch [24]float32
		for i := 0; i < m; i += 4 {
			var ap [4]*float32
			var cp [4]int
			for r := 0; r < 4; r++ {
				ap[r], cp[r] = &a[min(i+r, m-1)*lda], (i+r)*ldc
			}
			out := func(r, j int) *float32 {
				if i+r < m {
					return &c[cp[r]+j]
				}
				return &scratch[0]
			}
			// A last 8 columns after 16 or more go with the 16 before
			// them into one 24-column tile (twelve FMA chains rather
			// than eight and then four).
			j24 := n16
			if n8 > n16 && n16 >= 16 {
				j24 = n16 - 16
			}
			for j := 0; j < j24; j += 16 {
				gemm4x16(ap[0], ap[1], ap[2], ap[3], &b[j], ldb, k, out(0, j), out(1, j), out(2, j), out(3, j))
			}
			switch {
			case j24 < n16:
				gemm4x24(ap[0], ap[1], ap[2], ap[3], &b[j24], ldb, k, out(0, j24), out(1, j24), out(2, j24), out(3, j24))
			case n8 > n16:
				gemm4x8(ap[0], ap[1], ap[2], ap[3], &b[n16], ldb, k, out(0, n16), out(1, n16), out(2, n16), out(3, n16))
			}
		}
		lo = n8
	}
	if lo == n {
		return
	}
	for i := 0; i < m; i++ {
		ci := c[i*ldc+lo : i*ldc+n]
		clear(ci)
		for p := 0; p < k; p++ {
			Axpy(a[i*lda+p], b[p*ldb+lo:p*ldb+n], ci)
		}
	}
}

// gemmZ is Gemm's AVX-512 path: 4-row tiles (a short last tile repeats
// a row and writes it to scratch) over 64-column blocks, then blocks of
// 24 or 16 columns (gemmZ4s) and one of 8 (gemm4x8), every column
// summed in the order of p as on the AVX2 tiles, so that both paths give
// the same bits. It returns the first column it left to the caller
// (fewer than 8 remain).
func gemmZ(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int) int {
	var scratch [64]float32
	end := 0
	for i := 0; i < m; i += 4 {
		var ap, cp [4]*float32
		set := func(j int) {
			for r := 0; r < 4; r++ {
				if i+r < m {
					ap[r], cp[r] = &a[(i+r)*lda], &c[(i+r)*ldc+j]
				} else {
					ap[r], cp[r] = &a[i*lda], &scratch[0]
				}
			}
		}
		j := 0
		for n-j >= 16 {
			w := 16
			switch r := n - j; {
			case r >= 64:
				w = 64
			case r >= 24:
				w = 24
			}
			set(j)
			gemmZ4s(&ap, &b[j], ldb, k, &cp, w)
			j += w
		}
		if n-j >= 8 {
			set(j)
			gemm4x8(ap[0], ap[1], ap[2], ap[3], &b[j], ldb, k, cp[0], cp[1], cp[2], cp[3])
			j += 8
		}
		end = j
	}
	return end
}

// ExpShiftSum replaces x by e^(x - max(x)) (Expf; entries of -Inf give 0)
// and returns the maximum and the sum of the results: one softmax row
// before its normalisation. At least one entry must be finite.
func (kn Kernel) ExpShiftSum(x []float32) (mx, sum float32) {
	return kn.ExpShiftSumBias(x, nil)
}

// ExpShiftSumBias is ExpShiftSum after x += bias (the attention mask as
// additive scores, 0 or -Inf; nil adds nothing), in the same pass on the
// AVX-512 kernel: bias, when set, is at least as long as x.
func (kn Kernel) ExpShiftSumBias(x, bias []float32) (mx, sum float32) {
	if bias != nil {
		bias = bias[:len(x)]
	}
	if kn.AVX512 && len(x) > 0 && len(x)%16 == 0 {
		var bp *float32
		if bias != nil {
			bp = &bias[0]
		}
		return expShiftSumZ(&x[0], bp, len(x))
	}
	n8 := 0
	if kn.SIMD {
		n8 = len(x) &^ 7
	}
	if bias != nil {
		// The same float32 sums, eight at a time on the SIMD path.
		u := 0
		if n8 > 0 {
			addVec(&x[0], &bias[0], n8)
			u = n8
		}
		for ; u < len(x); u++ {
			x[u] += bias[u]
		}
	}
	mx = float32(math.Inf(-1))
	if n8 > 0 {
		mx = maxVec(&x[0], n8)
	}
	for _, v := range x[n8:] {
		mx = max(mx, v)
	}
	if n8 > 0 {
		sum = expSubSum(&x[0], n8, mx)
	}
	for i := n8; i < len(x); i++ {
		e := Expf(x[i] - mx)
		x[i] = e
		sum += e
	}
	return mx, sum
}
