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
// Pool. It puts every packed product of the engine's decode step (the
// smallest, 192x192, has 37K multiply-adds) on the pool. A fork-join
// that the worker takes costs 70-110 ns when both threads are running
// (BenchmarkPoolRunBatch, fastest batch of 100) and about 0.5 µs at the
// median batch on the loaded shared machine, against 0.3 µs for such a
// product at 116 GFLOP/s; the decode step's larger products (its fused
// QKV, W1|W3 and W2 and the 256-way head) take 2-10 µs each.
const PoolMACs = 1 << 14

// MatMulPacked computes c = a·Wᵀ for the m×k matrix a and the packed W,
// overwriting the m×N matrix c. It needs the SIMD kernel (kn.SIMD). With
// Workers > 1 and at least ParallelMACs of work, the column panels are
// split over that many goroutines.
func (kn Kernel) MatMulPacked(c, a []float32, w *Packed, m int) {
	kn.MatMulPackedAdd(c, a, w, m, nil)
}

// MatMulPackedAdd is MatMulPacked followed by c += add (m×N, the residual
// connection of a layer; nil adds nothing): each part of a split product
// adds its own columns. Each entry is the product's sum plus add's, as
// in a separate pass.
func (kn Kernel) MatMulPackedAdd(c, a []float32, w *Packed, m int, add []float32) {
	k, n := w.K, w.N
	if m == 0 {
		return
	}
	checkShapes(c, a, add, m, k, n)
	if kn.splits(m, k, n, 32) {
		kn.Pool.run(packedJob{z: kn.AVX512, c: c, a: a, w: w, m: m, add: add})
		return
	}
	workers := min(kn.Workers, n/16)
	if workers <= 1 || m*k*n < ParallelMACs {
		packedRange(kn.AVX512, c, a, w, m, 0, n)
		addCols(true, c, add, m, n, 0, n)
		return
	}
	defer addCols(true, c, add, m, n, 0, n)
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
// selects the AVX-512 tiles for two rows and more.
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
	// Every tile below runs inside the loop over column panels: a panel is
	// streamed from memory once and stays in the L1 cache while every row
	// tile passes over it, so a pass over m rows reads the weights once.
	var scratch [64]float32
	j := lo
	if z {
		// AVX-512: four panels (64 columns) per tile, four rows at a time
		// and a last tile of three or two rows, so that a pass costs what
		// its rows need. A row count of 4q+1 ends in tiles of three and
		// two rows rather than a lone row: the one-row case repeats its
		// row into scratch and so costs a two-row tile.
		full := m &^ 3
		if m%4 == 1 && m > 4 {
			full -= 4
		}
		for ; j+64 <= hi; j += 64 {
			panel := &w.data[j*k]
			i := 0
			for ; i < full; i += 4 {
				ap := [4]*float32{&a[i*k], &a[(i+1)*k], &a[(i+2)*k], &a[(i+3)*k]}
				cp := [4]*float32{&c[i*n+j], &c[(i+1)*n+j], &c[(i+2)*n+j], &c[(i+3)*n+j]}
				gemmZ4(&ap, panel, 16*k, k, &cp, 64)
			}
			if m-i == 5 {
				ap := [3]*float32{&a[i*k], &a[(i+1)*k], &a[(i+2)*k]}
				cp := [3]*float32{&c[i*n+j], &c[(i+1)*n+j], &c[(i+2)*n+j]}
				gemmZ3x64(&ap, panel, 16*k, k, &cp)
				i += 3
			}
			switch m - i {
			case 3:
				ap := [3]*float32{&a[i*k], &a[(i+1)*k], &a[(i+2)*k]}
				cp := [3]*float32{&c[i*n+j], &c[(i+1)*n+j], &c[(i+2)*n+j]}
				gemmZ3x64(&ap, panel, 16*k, k, &cp)
			case 2:
				ap := [2]*float32{&a[i*k], &a[(i+1)*k]}
				cp := [2]*float32{&c[i*n+j], &c[(i+1)*n+j]}
				gemmZ2x64(&ap, panel, 16*k, k, &cp)
			case 1:
				ap := [2]*float32{&a[i*k], &a[i*k]}
				cp := [2]*float32{&c[i*n+j], &scratch[0]}
				gemmZ2x64(&ap, panel, 16*k, k, &cp)
			}
		}
		// A remainder of 32 or 48 columns, the half of a split 192- or
		// 288-column product, takes 32-column tiles of four rows, the
		// last one padded (a repeated row writes to scratch), where three
		// rows or more remain to pass over it.
		if j+32 <= hi && m >= 3 {
			for i := 0; i < m; i += 4 {
				var ap, cp [4]*float32
				for r := 0; r < 4; r++ {
					if i+r < m {
						ap[r], cp[r] = &a[(i+r)*k], &c[(i+r)*n+j]
					} else {
						ap[r], cp[r] = &a[i*k], &scratch[0]
					}
				}
				gemmZ4(&ap, &w.data[j*k], 16*k, k, &cp, 32)
			}
			j += 32
		}
	}
	// AVX2: two rows over 32 columns; three and more below. Every kernel
	// keeps at least eight independent FMA chains (the FMA latency times
	// the two FMA pipes).
	if m == 2 {
		a0, a1 := &a[0], &a[k]
		for ; j+32 <= hi; j += 32 {
			gemmP2x32(a0, a1, &w.data[j*k], 16*k, k, &c[j], &c[n+j])
		}
		for ; j < hi; j += 16 {
			gemm1x16(a0, &w.data[j*k], 16, k, &c[j])
			gemm1x16(a1, &w.data[j*k], 16, k, &c[n+j])
		}
		return
	}
	// Three rows and more: 32-column blocks (two panels) with row tiles
	// of four (two 4x16 tiles), three (gemmP3x32, twelve chains) and two
	// (gemmP2x32), so that no tile computes a padded row: a count of
	// 4q+3 ends in a three-row tile, 4q+2 in a two-row one and 4q+1 in
	// one of each (a three-row pass padded to four cost what four rows
	// do, and five rows what eight do).
	full := m &^ 3
	if m%4 == 1 {
		full -= 4
	}
	for ; j+32 <= hi; j += 32 {
		p0, p1 := &w.data[j*k], &w.data[(j+16)*k]
		i := 0
		for ; i < full; i += 4 {
			a0, a1, a2, a3 := &a[i*k], &a[(i+1)*k], &a[(i+2)*k], &a[(i+3)*k]
			c0, c1, c2, c3 := &c[i*n+j], &c[(i+1)*n+j], &c[(i+2)*n+j], &c[(i+3)*n+j]
			gemm4x16(a0, a1, a2, a3, p0, 16, k, c0, c1, c2, c3)
			c0, c1, c2, c3 = &c[i*n+j+16], &c[(i+1)*n+j+16], &c[(i+2)*n+j+16], &c[(i+3)*n+j+16]
			gemm4x16(a0, a1, a2, a3, p1, 16, k, c0, c1, c2, c3)
		}
		if m-i == 5 || m-i == 3 {
			ap := [3]*float32{&a[i*k], &a[(i+1)*k], &a[(i+2)*k]}
			cp := [3]*float32{&c[i*n+j], &c[(i+1)*n+j], &c[(i+2)*n+j]}
			gemmP3x32(&ap, p0, 16*k, k, &cp)
			i += 3
		}
		if m-i == 2 {
			gemmP2x32(&a[i*k], &a[(i+1)*k], p0, 16*k, k, &c[i*n+j], &c[(i+1)*n+j])
		}
	}
	// A last 16-column panel: 4-row tiles, the last one padded.
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

// checkShapes panics, as an index out of range, unless a holds m rows
// of k and c and add (where set) m rows of n: the assembly kernels check
// no bounds, so every product checks its operands before it starts.
func checkShapes(c, a, add []float32, m, k, n int) {
	_ = a[m*k-1]
	_ = c[m*n-1]
	if add != nil {
		_ = add[m*n-1]
	}
}

// splits reports whether a product of m rows of k inputs and n outputs
// (at least minN) goes over kn.Pool: PoolMACs of work or more, and at
// least PoolMinRows rows.
func (kn Kernel) splits(m, k, n, minN int) bool {
	return kn.Pool != nil && n >= minN && m*k*n >= PoolMACs && m >= kn.PoolMinRows
}

// addCols adds the columns lo..hi-1 of add to those of c (both m rows of
// n); a nil add adds nothing. simd selects the AVX2 add (each entry is
// the same float32 sum either way).
func addCols(simd bool, c, add []float32, m, n, lo, hi int) {
	if add == nil {
		return
	}
	for i := 0; i < m; i++ {
		cr, ar := c[i*n+lo:i*n+hi], add[i*n+lo:i*n+hi]
		j := 0
		if n8 := len(ar) &^ 7; simd && n8 > 0 {
			addVec(&cr[0], &ar[0], n8)
			j = n8
		}
		for ; j < len(ar); j++ {
			cr[j] += ar[j]
		}
	}
}
