package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func close(t *testing.T, what string, got, want []float32, k int) {
	t.Helper()
	tol := 1e-5 * float64(k)
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > tol*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("%s: element %d = %g, want %g", what, i, got[i], want[i])
		}
	}
}

// TestMatMulTMatchesNaive checks the blocked kernel (serial and parallel)
// and MatVec against the triple loop on shapes that exercise every tail.
func TestMatMulTMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range [][3]int{{1, 1, 1}, {1, 7, 5}, {3, 5, 2}, {4, 8, 2}, {5, 9, 7}, {17, 33, 13}, {16, 192, 256}, {64, 130, 129}, {17, 192, 512}, {1, 384, 192}, {2, 8, 9}, {6, 15, 6}, {128, 96, 200}} {
		m, k, n := s[0], s[1], s[2]
		a, b := randSlice(r, m*k), randSlice(r, n*k)
		want := make([]float32, m*n)
		MatMulTNaive(want, a, b, m, k, n)
		got := make([]float32, m*n)
		MatMulT(got, a, b, m, k, n)
		close(t, "MatMulT", got, want, k)
		for i := range got {
			got[i] = 0
		}
		ParMatMulT(2, got, a, b, m, k, n)
		close(t, "ParMatMulT", got, want, k)
		for _, kn := range []Kernel{Detect(1), Detect(2)} {
			for i := range got {
				got[i] = 0
			}
			kn.MatMulT(got, a, b, m, k, n)
			close(t, "Kernel.MatMulT", got, want, k)
		}
		if m == 1 {
			y := make([]float32, n)
			MatVec(y, b, a, k, n)
			close(t, "MatVec", y, want, k)
		}
	}
}

func TestTranspose(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	a := randSlice(r, 37*21)
	tr := make([]float32, len(a))
	Transpose(tr, a, 37, 21)
	for i := 0; i < 37; i++ {
		for j := 0; j < 21; j++ {
			if tr[j*37+i] != a[i*21+j] {
				t.Fatalf("transpose [%d][%d] wrong", i, j)
			}
		}
	}
}

const benchK, benchN = 192, 512

// TestDetect logs which kernel this machine runs.
func TestDetect(t *testing.T) { t.Logf("SIMD kernel: %v", Detect(1).SIMD) }

// BenchmarkMatVec is one decode token through a 256x704 layer.
func BenchmarkMatVec(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	w, x, y := randSlice(r, benchK*benchN), randSlice(r, benchK), make([]float32, benchN)
	b.SetBytes(int64(4 * len(w)))
	kn := Detect(1)
	for b.Loop() {
		kn.MatVec(y, w, x, benchK, benchN)
	}
	b.ReportMetric(2*benchK*benchN*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func benchMatMul(b *testing.B, m int) {
	r := rand.New(rand.NewPCG(1, 1))
	w, x, y := randSlice(r, benchK*benchN), randSlice(r, m*benchK), make([]float32, m*benchN)
	kn := Detect(1)
	for b.Loop() {
		kn.MatMulT(y, x, w, m, benchK, benchN)
	}
	b.ReportMetric(2*float64(m)*benchK*benchN*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkMatMul4 and BenchmarkMatMul17 verify 4 and 17 tokens (a
// 16-node tree and its root) at once.
func BenchmarkMatMul4(b *testing.B)  { benchMatMul(b, 4) }
func BenchmarkMatMul17(b *testing.B) { benchMatMul(b, 17) }

// BenchmarkMatVecPureGo is the pure-Go fallback of BenchmarkMatVec.
func BenchmarkMatVecPureGo(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	w, x, y := randSlice(r, benchK*benchN), randSlice(r, benchK), make([]float32, benchN)
	for b.Loop() {
		MatVec(y, w, x, benchK, benchN)
	}
	b.ReportMetric(2*benchK*benchN*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkMatMul17PureGo is the pure-Go fallback of BenchmarkMatMul17.
func BenchmarkMatMul17PureGo(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	w, x, y := randSlice(r, benchK*benchN), randSlice(r, 17*benchK), make([]float32, 17*benchN)
	for b.Loop() {
		MatMulT(y, x, w, 17, benchK, benchN)
	}
	b.ReportMetric(2*17*benchK*benchN*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// TestMatMulMatchesNaive checks the outer-product kernel, SIMD and pure
// Go, against the triple loop on a transposed b.
func TestMatMulMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, s := range [][3]int{{1, 1, 1}, {1, 7, 16}, {1, 192, 48}, {3, 5, 2}, {4, 8, 32}, {5, 9, 40}, {17, 192, 512}, {17, 384, 192}, {6, 33, 17}, {9, 16, 256}, {1, 192, 512}, {1, 64, 112}, {2, 192, 48}, {3, 40, 80}} {
		m, k, n := s[0], s[1], s[2]
		a, b := randSlice(r, m*k), randSlice(r, n*k)
		want := make([]float32, m*n)
		MatMulTNaive(want, a, b, m, k, n)
		bt := make([]float32, k*n)
		Transpose(bt, b, n, k)
		for _, kn := range []Kernel{{}, Detect(1)} {
			got := make([]float32, m*n)
			for i := range got {
				got[i] = 7 // MatMul must overwrite
			}
			kn.MatMul(got, a, bt, m, k, n)
			close(t, "MatMul", got, want, k)
		}
	}
}

func benchGemm(b *testing.B, kn Kernel, m int) {
	r := rand.New(rand.NewPCG(1, 1))
	w, x, y := randSlice(r, benchK*benchN), randSlice(r, m*benchK), make([]float32, m*benchN)
	for b.Loop() {
		kn.MatMul(y, x, w, m, benchK, benchN)
	}
	b.ReportMetric(2*float64(m)*benchK*benchN*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkGemm1 is one decode token (matrix-vector) on the inference
// kernel, BenchmarkGemm17 a verify pass of 17 tokens; the PureGo
// variants run the fallback.
func BenchmarkGemm1(b *testing.B)        { benchGemm(b, Detect(1), 1) }
func BenchmarkGemm17(b *testing.B)       { benchGemm(b, Detect(1), 17) }
func BenchmarkGemm1PureGo(b *testing.B)  { benchGemm(b, Kernel{}, 1) }
func BenchmarkGemm17PureGo(b *testing.B) { benchGemm(b, Kernel{}, 17) }

func TestAttentionRowsMatchGo(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, hd := range []int{8, 24, 7} {
		for _, n := range []int{1, 2, 3, 17, 100} {
			ld := hd*2 + 8
			q, rows, w := randSlice(r, hd), randSlice(r, n*ld), randSlice(r, n)
			want, got := make([]float32, n), make([]float32, n)
			Kernel{}.DotRows(want, q, rows, ld, n)
			Detect(1).DotRows(got, q, rows, ld, n)
			close(t, "DotRows", got, want, hd)
			accW, accG := randSlice(r, hd), make([]float32, hd)
			copy(accG, accW)
			Kernel{}.AxpyRows(accW, w, rows, ld, n)
			Detect(1).AxpyRows(accG, w, rows, ld, n)
			close(t, "AxpyRows", accG, accW, n)
		}
	}
}

func BenchmarkGemm2(b *testing.B) { benchGemm(b, Detect(1), 2) }
func BenchmarkGemm4(b *testing.B) { benchGemm(b, Detect(1), 4) }
func BenchmarkGemm5(b *testing.B) { benchGemm(b, Detect(1), 5) }

func TestMatMulPackedMatchesNaive(t *testing.T) {
	kn := Detect(1)
	if !kn.SIMD {
		t.Skip("no SIMD kernel on this machine")
	}
	r := rand.New(rand.NewPCG(9, 10))
	for _, s := range [][3]int{{1, 192, 512}, {1, 192, 48}, {1, 384, 192}, {2, 192, 256}, {5, 512, 192}, {17, 192, 64}, {4, 8, 16}, {17, 512, 192}, {8, 192, 512}, {2, 192, 48}, {3, 192, 48}, {6, 64, 80}, {7, 32, 32}, {9, 16, 48}, {10, 24, 512}, {4, 192, 288}, {3, 192, 1024}, {13, 40, 208}} {
		m, k, n := s[0], s[1], s[2]
		a, b := randSlice(r, m*k), randSlice(r, n*k)
		want, got := make([]float32, m*n), make([]float32, m*n)
		MatMulTNaive(want, a, b, m, k, n)
		kn.MatMulPacked(got, a, Pack(b, n, k), m)
		close(t, "MatMulPacked", got, want, k)
		clear(got)
		Kernel{SIMD: true, Workers: 1}.MatMulPacked(got, a, Pack(b, n, k), m) // AVX2 tiles only
		close(t, "MatMulPacked on AVX2", got, want, k)
		clear(got)
		Detect(2).MatMulPacked(got, a, Pack(b, n, k), m)
		close(t, "MatMulPacked on 2 workers", got, want, k)
	}
}

func benchPacked(b *testing.B, m int) {
	kn := Detect(1)
	if !kn.SIMD {
		b.Skip("no SIMD kernel")
	}
	r := rand.New(rand.NewPCG(1, 1))
	w, x, y := randSlice(r, benchK*benchN), randSlice(r, m*benchK), make([]float32, m*benchN)
	p := Pack(w, benchN, benchK)
	flops := 2 * float64(m) * benchK * benchN
	best := reportBest(b, func() { kn.MatMulPacked(y, x, p, m) })
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(flops/best.Seconds()/1e9, "best-GFLOP/s")
}

// reportBest runs f b.N times and returns its fastest single run, which
// other jobs on a shared machine disturb least.
func reportBest(b *testing.B, f func()) time.Duration {
	best := time.Duration(1 << 62)
	for b.Loop() {
		t0 := time.Now()
		f()
		best = min(best, time.Since(t0))
	}
	return best
}

// BenchmarkPacked1 is a decode token, BenchmarkPacked4/5/17 verify passes,
// on the packed-weight kernel that the engine's inference uses.
func BenchmarkPacked1(b *testing.B)  { benchPacked(b, 1) }
func BenchmarkPacked4(b *testing.B)  { benchPacked(b, 4) }
func BenchmarkPacked5(b *testing.B)  { benchPacked(b, 5) }
func BenchmarkPacked17(b *testing.B) { benchPacked(b, 17) }

// BenchmarkPacked4Workers2 and BenchmarkPacked17Workers2 split the
// product over two cores the way the engine does (a Pool's spinning
// worker, engaged as during a generation); the Goroutines variants start
// a goroutine per product (Kernel.Workers, the training path), which
// costs more than a four-row product saves.
func BenchmarkPacked4Workers2(b *testing.B)     { benchPackedW(b, 4, true) }
func BenchmarkPacked17Workers2(b *testing.B)    { benchPackedW(b, 17, true) }
func BenchmarkPacked4Goroutines2(b *testing.B)  { benchPackedW(b, 4, false) }
func BenchmarkPacked17Goroutines2(b *testing.B) { benchPackedW(b, 17, false) }

func benchPackedW(b *testing.B, m int, pool bool) {
	kn := Detect(2)
	if !kn.SIMD {
		b.Skip("no SIMD kernel")
	}
	if pool {
		kn.Pool = NewPool()
		defer kn.Pool.Close()
		kn.Pool.Engage()
		defer kn.Pool.Release()
	}
	r := rand.New(rand.NewPCG(1, 1))
	w, x, y := randSlice(r, benchK*benchN), randSlice(r, m*benchK), make([]float32, m*benchN)
	p := Pack(w, benchN, benchK)
	flops := 2 * float64(m) * benchK * benchN
	best := reportBest(b, func() { kn.MatMulPacked(y, x, p, m) })
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(flops/best.Seconds()/1e9, "best-GFLOP/s")
}

func BenchmarkPacked2(b *testing.B)  { benchPacked(b, 2) }
func BenchmarkPacked3(b *testing.B)  { benchPacked(b, 3) }
func BenchmarkPacked8(b *testing.B)  { benchPacked(b, 8) }
func BenchmarkPacked16(b *testing.B) { benchPacked(b, 16) }

// TestAddCols checks the residual add, AVX2 and pure Go, on column
// ranges with and without a tail past the last 8 lanes.
func TestAddCols(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for _, s := range [][3]int{{3, 0, 24}, {2, 5, 18}, {1, 0, 7}, {4, 16, 41}} {
		m, lo, hi := s[0], s[1], s[2]
		const n = 48
		c0, add := randSlice(r, m*n), randSlice(r, m*n)
		want := append([]float32(nil), c0...)
		for i := 0; i < m; i++ {
			for j := lo; j < hi; j++ {
				want[i*n+j] += add[i*n+j]
			}
		}
		for _, simd := range []bool{false, Detect(1).SIMD} {
			got := append([]float32(nil), c0...)
			addCols(simd, got, add, m, n, lo, hi)
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("addCols %v simd %v (-want +got):\n%s", s, simd, d)
			}
		}
	}
}

// TestPackedRowsMatchOneRow checks that every row of a packed product of
// m rows has the bits of the same row's one-row product (the decode
// step's mat-vec), on the AVX2 tiles and the AVX-512 ones where the CPU
// has them, float32 and bfloat16: the tiles of 4, 3 and 2 rows sum each
// entry in order of p with one FMA per term, as the mat-vec does, which
// keeps a verify pass's logits those of decoding the same tokens.
func TestPackedRowsMatchOneRow(t *testing.T) {
	d := Detect(1)
	if !d.SIMD {
		t.Skip("no SIMD kernel on this machine")
	}
	kerns := []Kernel{{SIMD: true}}
	if d.AVX512 {
		kerns = append(kerns, d)
	}
	r := rand.New(rand.NewPCG(21, 22))
	for _, s := range [][2]int{{192, 288}, {512, 192}, {192, 1024}, {40, 208}, {7, 48}} {
		k, n := s[0], s[1]
		w := randSlice(r, n*k)
		p, pb := Pack(w, n, k), PackBF16(w, n, k)
		for m := 1; m <= 17; m++ {
			a := randSlice(r, m*k)
			for _, kn := range kerns {
				got, gotb := make([]float32, m*n), make([]float32, m*n)
				kn.MatMulPacked(got, a, p, m)
				kn.MatMulBF16(gotb, a, pb, m)
				one := make([]float32, n)
				for i := 0; i < m; i++ {
					kn.MatMulPacked(one, a[i*k:(i+1)*k], p, 1)
					if d := cmp.Diff(one, got[i*n:(i+1)*n]); d != "" {
						t.Fatalf("k %d n %d m %d avx512 %v: row %d differs from its one-row product (-one +row):\n%s", k, n, m, kn.AVX512, i, d)
					}
					kn.MatMulBF16(one, a[i*k:(i+1)*k], pb, 1)
					if d := cmp.Diff(one, gotb[i*n:(i+1)*n]); d != "" {
						t.Fatalf("bf16 k %d n %d m %d avx512 %v: row %d differs from its one-row product (-one +row):\n%s", k, n, m, kn.AVX512, i, d)
					}
				}
			}
		}
	}
}
