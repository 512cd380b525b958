package tensor

import "sync"

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

// ParallelMACs is the size (m·k·n multiply-adds) from which the packed
// kernel splits its column panels over the kernel's workers.
const ParallelMACs = 1 << 18

// PoolMACs is the size from which MatMulPacked splits its panels over a
// Pool.
var PoolMACs = 1 << 14

// MatMulPacked computes c = a·Wᵀ for the m×k matrix a and the packed W,
// overwriting the m×N matrix c. It needs the SIMD kernel (kn.SIMD). With
// Workers > 1 and at least ParallelMACs of work, the column panels are
// split over that many goroutines.
func (kn Kernel) MatMulPacked(c, a []float32, w *Packed, m int) {
	k, n := w.K, w.N
	if m == 0 {
		return
	}
	_ = a[m*k-1]
	_ = c[m*n-1]
	if kn.Pool != nil && n >= 32 && m*k*n >= PoolMACs {
		half := 16 * (n / 32)
		kn.Pool.Run(func(part int) {
			if part == 0 {
				packedRange(kn.AVX512, c, a, w, m, 0, half)
			} else {
				packedRange(kn.AVX512, c, a, w, m, half, n)
			}
		})
		return
	}
	workers := min(kn.Workers, n/16)
	if workers <= 1 || m*k*n < ParallelMACs {
		packedRange(kn.AVX512, c, a, w, m, 0, n)
		return
	}
	var wg sync.WaitGroup
	panels := n / 16
	for q := 0; q < workers; q++ {
		lo, hi := 16*(panels*q/workers), 16*(panels*(q+1)/workers)
		if q == workers-1 {
			packedRange(kn.AVX512, c, a, w, m, lo, hi)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			packedRange(kn.AVX512, c, a, w, m, lo, hi)
		}()
	}
	wg.Wait()
}

// packedRange computes the columns lo..hi-1 (multiples of 16) of c; z
// selects the AVX-512 tile for three rows and more.
func packedRange(z bool, c, a []float32, w *Packed, m, lo, hi int) {
	k, n := w.K, w.N
	if m == 1 {
		j := lo
		for ; j+64 <= hi; j += 64 {
			gemmP1x64(&a[0], &w.data[j*k], 16*k, k, &c[j])
		}
		for ; j < hi; j += 16 {
			gemm1x16(&a[0], &w.data[j*k], 16, k, &c[j])
		}
		return
	}
	// Two rows: the 2-row kernel over 32 columns. Otherwise 4-row tiles,
	// the last one padded (a repeated row writes to scratch), all of them
	// inside the loop over 16-column panels: a panel is streamed from
	// memory once and stays in the L1 cache while every tile passes over
	// it, so a pass over m rows reads the weights once. Every kernel keeps
	// eight independent FMA chains, so a padded tile costs no more than a
	// full one.
	if m == 2 {
		a0, a1 := &a[0], &a[k]
		j := lo
		for ; j+32 <= hi; j += 32 {
			gemmP2x32(a0, a1, &w.data[j*k], 16*k, k, &c[j], &c[n+j])
		}
		for ; j < hi; j += 16 {
			gemm1x16(a0, &w.data[j*k], 16, k, &c[j])
			gemm1x16(a1, &w.data[j*k], 16, k, &c[n+j])
		}
		return
	}
	var scratch [64]float32
	j := lo
	if z {
		// Four panels (64 columns) per AVX-512 tile.
		for ; j+64 <= hi; j += 64 {
			for i := 0; i < m; i += 4 {
				var ap, cp [4]*float32
				for r := 0; r < 4; r++ {
					if i+r < m {
						ap[r], cp[r] = &a[(i+r)*k], &c[(i+r)*n+j]
					} else {
						ap[r], cp[r] = &a[i*k], &scratch[0]
					}
				}
				gemmZ4x64(&ap, &w.data[j*k], 16*k, k, &cp)
			}
		}
	}
	for ; j < hi; j += 16 {
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
