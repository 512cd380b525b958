//go:build !amd64 || purego

package tensor

func haveSIMD() bool { return false }

func tile4x2(a *float32, lda int, b *float32, ldb int, k8 int, out *[8]float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func tile1x4(x *float32, w *float32, ldw int, k8 int, out *[4]float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func gemm4x16(a *float32, lda int, bt *float32, ldb int, k int, c *float32, ldc int) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func gemm1x32(a *float32, bt *float32, ldb int, k int, c *float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func gemm1x16(a *float32, bt *float32, ldb int, k int, c *float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}
