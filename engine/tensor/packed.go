package tensor

// Packed is a weight matrix W (n outputs × k inputs) stored for the SIMD
// inference kernel: its transpose cut into 16-column panels, each panel's
// k×16 block contiguous, so that every kernel streams the weights
// sequentially (the packing of BLIS-style GEMMs).
type Packed struct {
	K, N int
	data []float32 // N/16 panels of K×16
}

// Pack packs the n×k row-major matrix w; n must be a multiple of 16
// (PackOK).
func Pack(w []float32, n, k int) *Packed {
	p := &Packed{K: k, N: n, data: make([]float32, n*k)}
	for j := 0; j < n; j += 16 {
		panel := p.data[j*k : (j+16)*k]
		for q := 0; q < k; q++ {
			for c := 0; c < 16; c++ {
				panel[q*16+c] = w[(j+c)*k+q]
			}
		}
	}
	return p
}

// PackOK reports whether an n-output matrix can be packed.
func PackOK(n int) bool { return n > 0 && n%16 == 0 }

// MatMulPacked computes c = a·Wᵀ for the m×k matrix a and the packed W,
// overwriting the m×N matrix c. It needs the SIMD kernel (kn.SIMD).
func (kn Kernel) MatMulPacked(c, a []float32, w *Packed, m int) {
	k, n := w.K, w.N
	if m == 0 {
		return
	}
	_ = a[m*k-1]
	_ = c[m*n-1]
	if m == 1 {
		j := 0
		for ; j+64 <= n; j += 64 {
			gemmP1x64(&a[0], &w.data[j*k], 16*k, k, &c[j])
		}
		for ; j < n; j += 16 {
			gemm1x16(&a[0], &w.data[j*k], 16, k, &c[j])
		}
		return
	}
	var scratch [16]float32
	for j := 0; j < n; j += 16 {
		panel := &w.data[j*k]
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
			gemm4x16(ap[0], ap[1], ap[2], ap[3], panel, 16, k, cp[0], cp[1], cp[2], cp[3])
		}
	}
}
