// Package tensor holds the float32 matrix kernels of the engine.
//
// Every matrix is a dense row-major []float32. Inference runs on weights
// packed once into 16-column panels of their transpose (Packed): the
// Go-assembly kernels, chosen at run time, stream a panel sequentially
// while a register tile of rows accumulates against it, inside the loop
// over panels, so that a pass over m tokens reads every weight once.
// AVX-512 CPUs get tiles of 4, 3 or 2 rows by 64 columns, AVX2 CPUs
// 4 rows by 16 (and 2 by 32), and one row takes a mat-vec tile that the
// memory system bounds. PackedBF16 is the same layout in bfloat16, for
// the draft head's short passes. Gemm is the strided product of the
// attention (scores against transposed keys, weights against values),
// and SiLUMul, RMSNorm, ExpShiftSum the vectorised element-wise work.
// Every kernel has a pure-Go path (the zero Kernel, the purego build tag,
// other CPUs), tested against the assembly. MatMulT is the training
// kernel on unpacked weights, row-blocked over four rows of a and two of
// b. Pool splits a product over two cores with a persistent worker.
package tensor

import "sync"

// Kernel chooses how the matrix products run: with the AVX2/FMA
// assembly kernels when SIMD is true (amd64 only; see Detect), otherwise
// in pure Go, and on up to Workers goroutines for large products. The
// zero Kernel is the serial pure-Go path.
type Kernel struct {
	SIMD bool
	// AVX512 (with SIMD) runs the multi-row packed products on the
	// 16-wide AVX-512 tile where the CPU has it.
	AVX512  bool
	Workers int
	// Pool, when set, splits the larger packed products and the
	// attention of a step over the caller and the pool's worker.
	Pool *Pool
	// PoolMinRows, when above 1, keeps products of fewer rows on the
	// calling core: with 2 the pool splits only the verify passes
	// (matrix-matrix products) and leaves the one-row decode and draft
	// passes, whose halves are too short to pay for a fork-join, whole.
	PoolMinRows int
}

// Detect returns the fastest kernel this CPU supports, with workers
// goroutines. Building with the purego tag forces the pure-Go path.
func Detect(workers int) Kernel {
	simd := haveSIMD()
	return Kernel{SIMD: simd, AVX512: simd && haveAVX512(), Workers: max(1, workers)}
}

// MatMulT computes c = a·bᵀ where a is m×k, b is n×k and c is m×n, all
// row-major. It overwrites c. The caller guarantees the slice lengths.
func MatMulT(c, a, b []float32, m, k, n int) {
	matMulTRange(false, c, a, b, m, k, n, 0, n)
}

// ParMatMulT is the pure-Go MatMulT on up to workers goroutines.
func ParMatMulT(workers int, c, a, b []float32, m, k, n int) {
	Kernel{Workers: workers}.MatMulT(c, a, b, m, k, n)
}

// MatMulT computes c = a·bᵀ as the package function does, split over up
// to kn.Workers goroutines by column blocks of c (rows of b). Products
// below about a million multiply-adds run on the calling goroutine: the
// goroutine start-up would cost more than it saves.
func (kn Kernel) MatMulT(c, a, b []float32, m, k, n int) {
	workers := kn.Workers
	if workers <= 1 || m*k*n < 1<<20 || n < 8 {
		matMulTRange(kn.SIMD, c, a, b, m, k, n, 0, n)
		return
	}
	workers = min(workers, n/4)
	var wg sync.WaitGroup
	step := (n + workers - 1) / workers
	step = (step + 3) &^ 3 // keep the b-row tiles aligned
	for lo := 0; lo < n; lo += step {
		hi := min(n, lo+step)
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			matMulTRange(kn.SIMD, c, a, b, m, k, n, lo, hi)
		}(lo, hi)
	}
	wg.Wait()
}

// matMulTRange computes the columns lo..hi-1 of c = a·bᵀ.
func matMulTRange(simd bool, c, a, b []float32, m, k, n, lo, hi int) {
	if simd && k >= 8 {
		matMulTSIMD(c, a, b, m, k, n, lo, hi)
		return
	}
	i := 0
	for ; i+4 <= m; i += 4 {
		a0 := a[i*k : i*k+k]
		a1 := a[(i+1)*k : (i+1)*k+k]
		a2 := a[(i+2)*k : (i+2)*k+k]
		a3 := a[(i+3)*k : (i+3)*k+k]
		j := lo
		for ; j+2 <= hi; j += 2 {
			b0 := b[j*k : j*k+k]
			b1 := b[(j+1)*k : (j+1)*k+k]
			var s00, s01, s10, s11, s20, s21, s30, s31 float32
			for p := range b0 {
				x0, x1 := b0[p], b1[p]
				y := a0[p]
				s00 += y * x0
				s01 += y * x1
				y = a1[p]
				s10 += y * x0
				s11 += y * x1
				y = a2[p]
				s20 += y * x0
				s21 += y * x1
				y = a3[p]
				s30 += y * x0
				s31 += y * x1
			}
			c[i*n+j], c[i*n+j+1] = s00, s01
			c[(i+1)*n+j], c[(i+1)*n+j+1] = s10, s11
			c[(i+2)*n+j], c[(i+2)*n+j+1] = s20, s21
			c[(i+3)*n+j], c[(i+3)*n+j+1] = s30, s31
		}
		for ; j < hi; j++ {
			b0 := b[j*k : j*k+k]
			var s0, s1, s2, s3 float32
			for p, x := range b0 {
				s0 += a0[p] * x
				s1 += a1[p] * x
				s2 += a2[p] * x
				s3 += a3[p] * x
			}
			c[i*n+j], c[(i+1)*n+j], c[(i+2)*n+j], c[(i+3)*n+j] = s0, s1, s2, s3
		}
	}
	for ; i < m; i++ {
		matVecRange(c[i*n:i*n+n], a[i*k:i*k+k], b, k, lo, hi)
	}
}

// matMulTSIMD is matMulTRange on the assembly tiles: 4 rows of a against
// 2 rows of b, or one row of a against 4 rows of b, over the first
// multiple of 8 of k, with the remaining columns of k added in Go.
func matMulTSIMD(c, a, b []float32, m, k, n, lo, hi int) {
	k8 := k &^ 7
	var out8 [8]float32
	var out4 [4]float32
	tail := func(i, j int) float32 {
		var s float32
		for p := k8; p < k; p++ {
			s += a[i*k+p] * b[j*k+p]
		}
		return s
	}
	i := 0
	for ; i+4 <= m; i += 4 {
		_ = a[(i+3)*k+k-1]
		j := lo
		for ; j+2 <= hi; j += 2 {
			_ = b[(j+1)*k+k-1]
			tile4x2(&a[i*k], k, &b[j*k], k, k8, &out8)
			for r := 0; r < 4; r++ {
				c[(i+r)*n+j] = out8[2*r] + tail(i+r, j)
				c[(i+r)*n+j+1] = out8[2*r+1] + tail(i+r, j+1)
			}
		}
		for ; j < hi; j++ {
			for r := 0; r < 4; r++ {
				c[(i+r)*n+j] = Dot(a[(i+r)*k:(i+r)*k+k], b[j*k:j*k+k])
			}
		}
	}
	for ; i < m; i++ {
		_ = a[i*k+k-1]
		j := lo
		for ; j+4 <= hi; j += 4 {
			_ = b[(j+3)*k+k-1]
			tile1x4(&a[i*k], &b[j*k], k, k8, &out4)
			for r := 0; r < 4; r++ {
				c[i*n+j+r] = out4[r] + tail(i, j+r)
			}
		}
		for ; j < hi; j++ {
			c[i*n+j] = Dot(a[i*k:i*k+k], b[j*k:j*k+k])
		}
	}
}

// MatVec computes y = W·x for W of n rows and k columns: the single-token
// decode step of a linear layer. It overwrites y.
func MatVec(y, w, x []float32, k, n int) {
	matVecRange(y, x, w, k, 0, n)
}

// MatVec is MatVec on the kernel's path.
func (kn Kernel) MatVec(y, w, x []float32, k, n int) {
	kn.MatMulT(y, x, w, 1, k, n)
}

// matVecRange computes y[j] = w_j·x for j in lo..hi-1, four rows of w at a
// time so that each element of x is loaded once per four products.
func matVecRange(y, x, w []float32, k, lo, hi int) {
	x = x[:k]
	j := lo
	for ; j+4 <= hi; j += 4 {
		w0 := w[j*k : j*k+k]
		w1 := w[(j+1)*k : (j+1)*k+k]
		w2 := w[(j+2)*k : (j+2)*k+k]
		w3 := w[(j+3)*k : (j+3)*k+k]
		var s0, s1, s2, s3 float32
		for p, v := range x {
			s0 += w0[p] * v
			s1 += w1[p] * v
			s2 += w2[p] * v
			s3 += w3[p] * v
		}
		y[j], y[j+1], y[j+2], y[j+3] = s0, s1, s2, s3
	}
	for ; j < hi; j++ {
		y[j] = Dot(w[j*k:j*k+k], x)
	}
}

// MatMulTNaive is the reference triple loop for MatMulT, used by tests.
func MatMulTNaive(c, a, b []float32, m, k, n int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				s += a[i*k+p] * b[j*k+p]
			}
			c[i*n+j] = s
		}
	}
}

// Dot returns the inner product of a and b (len(b) >= len(a)).
func Dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1 float32
	i := 0
	for ; i+2 <= len(a); i += 2 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1
}

// Axpy computes y += alpha·x.
func Axpy(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

// Transpose writes the n×m transpose of the m×n matrix a into t.
func Transpose(t, a []float32, m, n int) {
	const bs = 16
	for i0 := 0; i0 < m; i0 += bs {
		for j0 := 0; j0 < n; j0 += bs {
			for i := i0; i < min(m, i0+bs); i++ {
				for j := j0; j < min(n, j0+bs); j++ {
					t[j*m+i] = a[i*n+j]
				}
			}
		}
	}
}
