//go:build !purego

package tensor

// The AVX2/FMA kernels of kernel_amd64.s.

//go:noescape
func cpuidAVX2FMA() bool

//go:noescape
func tile4x2(a *float32, lda int, b *float32, ldb int, k8 int, out *[8]float32)

//go:noescape
func tile1x4(x *float32, w *float32, ldw int, k8 int, out *[4]float32)

// haveSIMD reports whether the AVX2/FMA kernels can run on this CPU.
func haveSIMD() bool { return cpuidAVX2FMA() }

//go:noescape
func gemm4x16(a0, a1, a2, a3 *float32, bt *float32, ldb int, k int, c0, c1, c2, c3 *float32)

//go:noescape
func gemm4x24(a0, a1, a2, a3 *float32, bt *float32, ldb int, k int, c0, c1, c2, c3 *float32)

//go:noescape
func gemm1x32(a *float32, bt *float32, ldb int, k int, c *float32)

//go:noescape
func gemm1x16(a *float32, bt *float32, ldb int, k int, c *float32)

//go:noescape
func gemm1x64(a *float32, bt *float32, ldb int, k int, c *float32)

//go:noescape
func dotRows(q *float32, k *float32, ldk int, n int, hd8 int, out *float32)

//go:noescape
func axpyRows(w *float32, v *float32, ldv int, n int, hd8 int, acc *float32)

//go:noescape
func gemmP1x64(a *float32, p *float32, pstride int, k int, c *float32)

//go:noescape
func gemmP2x32(a0, a1 *float32, p *float32, pstride int, k int, c0, c1 *float32)

//go:noescape
func expVec(x *float32, n8 int)

//go:noescape
func gemm4x8(a0, a1, a2, a3 *float32, bt *float32, ldb int, k int, c0, c1, c2, c3 *float32)

//go:noescape
func maxVec(x *float32, n8 int) float32

//go:noescape
func expSubSum(x *float32, n8 int, sub float32) float32

//go:noescape
func cpuidAVX512() bool

//go:noescape
func gemmZ4(ap *[4]*float32, p *float32, pstride int, k int, cp *[4]*float32, cols int)

// haveAVX512 reports whether the AVX-512 kernels can run on this CPU.
func haveAVX512() bool { return cpuidAVX2FMA() && cpuidAVX512() }

//go:noescape
func siluMul(a, b, out *float32, n8 int)

//go:noescape
func sumSq(x *float32, n8 int) float32

//go:noescape
func scaleMul(out, x, gain *float32, scale float32, n8 int)

//go:noescape
func bf16Z1x64(a *float32, p *uint16, pstride int, k int, c *float32)

//go:noescape
func bf16Z2x64(a0, a1 *float32, p *uint16, pstride int, k int, c0, c1 *float32)

//go:noescape
func bf16Z4x64(ap *[4]*float32, p *uint16, pstride int, k int, cp *[4]*float32)

//go:noescape
func gemmZ3x64(ap *[3]*float32, p *float32, pstride int, k int, cp *[3]*float32)

//go:noescape
func gemmZ2x64(ap *[2]*float32, p *float32, pstride int, k int, cp *[2]*float32)

//go:noescape
func gemmZ4s(ap *[4]*float32, b *float32, ldb int, k int, cp *[4]*float32, cols int)

//go:noescape
func expShiftSumZ(x, bias *float32, n16 int) (mx, sum float32)

//go:noescape
func addVec(dst, src *float32, n8 int)

//go:noescape
func siluMulZ(a, b, out *float32, n32 int)

//go:noescape
func gemmP3x32(ap *[3]*float32, p *float32, pstride int, k int, cp *[3]*float32)

//go:noescape
func bf16Y1x64(a *float32, p *uint16, pstride int, k int, c *float32, acc int)

//go:noescape
func ropeScale(dst, src, cs, sn *float32, w int, n int, scale float32)
