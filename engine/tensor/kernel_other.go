//go:build !amd64 || purego

package tensor

func haveSIMD() bool { return false }

func tile4x2(a *float32, lda int, b *float32, ldb int, k8 int, out *[8]float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func tile1x4(x *float32, w *float32, ldw int, k8 int, out *[4]float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func gemm4x16(a0, a1, a2, a3 *float32, bt *float32, ldb int, k int, c0, c1, c2, c3 *float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func gemm1x32(a *float32, bt *float32, ldb int, k int, c *float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func gemm1x16(a *float32, bt *float32, ldb int, k int, c *float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func gemm1x64(a *float32, bt *float32, ldb int, k int, c *float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func dotRows(q *float32, k *float32, ldk int, n int, hd8 int, out *float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func axpyRows(w *float32, v *float32, ldv int, n int, hd8 int, acc *float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func gemmP1x64(a *float32, p *float32, pstride int, k int, c *float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func gemmP2x32(a0, a1 *float32, p *float32, pstride int, k int, c0, c1 *float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func expVec(x *float32, n8 int) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func gemm4x8(a0, a1, a2, a3 *float32, bt *float32, ldb int, k int, c0, c1, c2, c3 *float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func maxVec(x *float32, n8 int) float32 {
	panic("tensor: SIMD kernel called without SIMD support")
}

func expSubSum(x *float32, n8 int, sub float32) float32 {
	panic("tensor: SIMD kernel called without SIMD support")
}

func haveAVX512() bool { return false }

func gemmZ4(ap *[4]*float32, p *float32, pstride int, k int, cp *[4]*float32, cols int) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func siluMul(a, b, out *float32, n8 int) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func sumSq(x *float32, n8 int) float32 {
	panic("tensor: SIMD kernel called without SIMD support")
}

func scaleMul(out, x, gain *float32, scale float32, n8 int) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func bf16Z1x64(a *float32, p *uint16, pstride int, k int, c *float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func bf16Z2x64(a0, a1 *float32, p *uint16, pstride int, k int, c0, c1 *float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func bf16Z4x64(ap *[4]*float32, p *uint16, pstride int, k int, cp *[4]*float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func gemmZ3x64(ap *[3]*float32, p *float32, pstride int, k int, cp *[3]*float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func gemmZ2x64(ap *[2]*float32, p *float32, pstride int, k int, cp *[2]*float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func gemmZ4s(ap *[4]*float32, b *float32, ldb int, k int, cp *[4]*float32, cols int) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func expShiftSumZ(x, bias *float32, n16 int) (mx, sum float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func addVec(dst, src *float32, n8 int) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func siluMulZ(a, b, out *float32, n32 int) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func gemmP3x32(ap *[3]*float32, p *float32, pstride int, k int, cp *[3]*float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func bf16Y1x64(a *float32, p *uint16, pstride int, k int, c *float32, acc int) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func ropeScale(dst, src, cs, sn *float32, w int, n int, scale float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}

func gemm4x24(a0, a1, a2, a3 *float32, bt *float32, ldb int, k int, c0, c1, c2, c3 *float32) {
	panic("tensor: SIMD kernel called without SIMD support")
}
