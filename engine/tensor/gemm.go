package tensor

// MatMul computes c = a·bt where a is m×k and bt is k×n (a weight matrix
// stored transposed, one input per row), all row-major, overwriting c.
// This outer-product form is the inference kernel: on the SIMD path it
// keeps a 4-row × 16-column tile of c in eight vector registers, and it
// walks bt in 16-column panels that stay in the L1 cache while all rows
// of a pass over them, so a verify pass over m tokens reads the weights
// from memory once, as a single-row decode step does.
func (kn Kernel) MatMul(c, a, bt []float32, m, k, n int) {
	if m == 0 || n == 0 {
		return
	}
	_ = a[m*k-1]
	_ = bt[k*n-1]
	_ = c[m*n-1]
	if !kn.SIMD || k == 0 {
		matMulGo(c, a, bt, m, k, n, 0, n)
		return
	}
	// Column panels outermost: the k×16 panel of bt stays in the L1 cache
	// while every row tile of a passes over it, so the weights stream
	// from memory once per call whatever m is.
	n16 := n &^ 15
	if m == 1 {
		j := 0
		for ; j+64 <= n16; j += 64 {
			gemm1x64(&a[0], &bt[j], n, k, &c[j])
		}
		for ; j+32 <= n16; j += 32 {
			gemm1x32(&a[0], &bt[j], n, k, &c[j])
		}
		for ; j < n16; j += 16 {
			gemm1x16(&a[0], &bt[j], n, k, &c[j])
		}
	} else {
		// A last tile of one to three rows repeats its first row into
		// the missing ones and writes them to scratch: the 4-row tile has
		// eight independent FMA chains, so a short tile costs no more than
		// a full one, and far less than the latency-bound single-row
		// kernel.
		var scratch [16]float32
		for j := 0; j < n16; j += 16 {
			for i := 0; i < m; i += 4 {
				var ap [4]*float32
				var cp [4]*float32
				for r := 0; r < 4; r++ {
					if i+r < m {
						ap[r], cp[r] = &a[(i+r)*k], &c[(i+r)*n+j]
					} else {
						ap[r], cp[r] = &a[i*k], &scratch[0]
					}
				}
				gemm4x16(ap[0], ap[1], ap[2], ap[3], &bt[j], n, k, cp[0], cp[1], cp[2], cp[3])
			}
		}
	}
	if n16 < n {
		matMulGoCols(c, a, bt, m, k, n, n16, n)
	}
}

// matMulGo is the pure-Go MatMul over columns lo..hi-1: four rows of a at a
// time, each bt row scaled into four rows of c.
func matMulGo(c, a, bt []float32, m, k, n, lo, hi int) {
	i := 0
	for ; i+4 <= m; i += 4 {
		c0 := c[i*n+lo : i*n+hi]
		c1 := c[(i+1)*n+lo : (i+1)*n+hi]
		c2 := c[(i+2)*n+lo : (i+2)*n+hi]
		c3 := c[(i+3)*n+lo : (i+3)*n+hi]
		clear(c0)
		clear(c1)
		clear(c2)
		clear(c3)
		for p := 0; p < k; p++ {
			x0, x1, x2, x3 := a[i*k+p], a[(i+1)*k+p], a[(i+2)*k+p], a[(i+3)*k+p]
			row := bt[p*n+lo : p*n+hi]
			c0, c1, c2, c3 := c0[:len(row)], c1[:len(row)], c2[:len(row)], c3[:len(row)]
			for j, v := range row {
				c0[j] += x0 * v
				c1[j] += x1 * v
				c2[j] += x2 * v
				c3[j] += x3 * v
			}
		}
	}
	for ; i < m; i++ {
		ci := c[i*n+lo : i*n+hi]
		clear(ci)
		for p := 0; p < k; p++ {
			Axpy(a[i*k+p], bt[p*n+lo:p*n+hi], ci)
		}
	}
}

func matMulGoCols(c, a, bt []float32, m, k, n, lo, hi int) { matMulGo(c, a, bt, m, k, n, lo, hi) }
