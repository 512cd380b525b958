//go:build !purego

#include "textflag.h"

// func cpuidAVX2FMA() bool
// Reports AVX2 and FMA support with the YMM state enabled by the OS.
TEXT ·cpuidAVX2FMA(SB), NOSPLIT, $0-1
	MOVL $1, AX
	XORL CX, CX
	CPUID
	// ECX bit 12 FMA, bit 27 OSXSAVE, bit 28 AVX.
	MOVL CX, R8
	ANDL $0x18001000, R8
	CMPL R8, $0x18001000
	JNE  no
	XORL CX, CX
	XGETBV
	ANDL $6, AX
	CMPL AX, $6
	JNE  no
	MOVL $7, AX
	XORL CX, CX
	CPUID
	// EBX bit 5 AVX2.
	ANDL $0x20, BX
	JZ   no
	MOVB $1, ret+0(FP)
	RET
no:
	MOVB $0, ret+0(FP)
	RET

#define REDUCE(Y, X, OFF) \
	VEXTRACTF128 $1, Y, X15 \
	VADDPS       X15, X, X  \
	VHADDPS      X, X, X    \
	VHADDPS      X, X, X    \
	VMOVSS       X, OFF(DX)

// func tile4x2(a *float32, lda int, b *float32, ldb int, k8 int, out *[8]float32)
// out[2i+j] = dot(row i of a, row j of b) over the first k8 elements,
// k8 a multiple of 8; lda and ldb are row strides in elements.
TEXT ·tile4x2(SB), NOSPLIT, $0-48
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	SHLQ $2, R8
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), R9
	SHLQ $2, R9
	MOVQ k8+32(FP), CX
	SHLQ $2, CX
	MOVQ out+40(FP), DX
	LEAQ (SI)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	LEAQ (R11)(R8*1), R12
	LEAQ (DI)(R9*1), R13
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ AX, AX
loop4x2:
	CMPQ AX, CX
	JGE  done4x2
	VMOVUPS     (DI)(AX*1), Y8
	VMOVUPS     (R13)(AX*1), Y9
	VMOVUPS     (SI)(AX*1), Y10
	VFMADD231PS Y8, Y10, Y0
	VFMADD231PS Y9, Y10, Y1
	VMOVUPS     (R10)(AX*1), Y11
	VFMADD231PS Y8, Y11, Y2
	VFMADD231PS Y9, Y11, Y3
	VMOVUPS     (R11)(AX*1), Y12
	VFMADD231PS Y8, Y12, Y4
	VFMADD231PS Y9, Y12, Y5
	VMOVUPS     (R12)(AX*1), Y13
	VFMADD231PS Y8, Y13, Y6
	VFMADD231PS Y9, Y13, Y7
	ADDQ        $32, AX
	JMP         loop4x2
done4x2:
	REDUCE(Y0, X0, 0)
	REDUCE(Y1, X1, 4)
	REDUCE(Y2, X2, 8)
	REDUCE(Y3, X3, 12)
	REDUCE(Y4, X4, 16)
	REDUCE(Y5, X5, 20)
	REDUCE(Y6, X6, 24)
	REDUCE(Y7, X7, 28)
	VZEROUPPER
	RET

// func tile1x4(x *float32, w *float32, ldw int, k8 int, out *[4]float32)
// out[j] = dot(x, row j of w) over the first k8 elements (a multiple of 8).
TEXT ·tile1x4(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ w+8(FP), DI
	MOVQ ldw+16(FP), R9
	SHLQ $2, R9
	MOVQ k8+24(FP), CX
	SHLQ $2, CX
	MOVQ out+32(FP), DX
	LEAQ (DI)(R9*1), R10
	LEAQ (R10)(R9*1), R11
	LEAQ (R11)(R9*1), R12
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ AX, AX
loop1x4:
	CMPQ AX, CX
	JGE  done1x4
	VMOVUPS     (SI)(AX*1), Y8
	VFMADD231PS (DI)(AX*1), Y8, Y0
	VFMADD231PS (R10)(AX*1), Y8, Y1
	VFMADD231PS (R11)(AX*1), Y8, Y2
	VFMADD231PS (R12)(AX*1), Y8, Y3
	ADDQ        $32, AX
	JMP         loop1x4
done1x4:
	REDUCE(Y0, X0, 0)
	REDUCE(Y1, X1, 4)
	REDUCE(Y2, X2, 8)
	REDUCE(Y3, X3, 12)
	VZEROUPPER
	RET

// func gemm4x16(a0, a1, a2, a3 *float32, bt *float32, ldb int, k int, c0, c1, c2, c3 *float32)
// c_r[j] = sum_p a_r[p]·bt[p][j] for the four rows r and columns j < 16:
// the outer-product form, broadcasting one element of each a row against
// two 8-wide vectors of a bt row. ldb is in elements. Callers with fewer
// than four rows repeat a row and point its output at scratch.
TEXT ·gemm4x16(SB), NOSPLIT, $0-88
	MOVQ a0+0(FP), SI
	MOVQ a1+8(FP), R10
	MOVQ a2+16(FP), R11
	MOVQ a3+24(FP), R12
	MOVQ bt+32(FP), DI
	MOVQ ldb+40(FP), R9
	SHLQ $2, R9
	MOVQ k+48(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ AX, AX
loopg4:
	CMPQ AX, CX
	JGE  doneg4
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9
	VBROADCASTSS (SI)(AX*4), Y10
	VFMADD231PS  Y8, Y10, Y0
	VFMADD231PS  Y9, Y10, Y1
	VBROADCASTSS (R10)(AX*4), Y11
	VFMADD231PS  Y8, Y11, Y2
	VFMADD231PS  Y9, Y11, Y3
	VBROADCASTSS (R11)(AX*4), Y12
	VFMADD231PS  Y8, Y12, Y4
	VFMADD231PS  Y9, Y12, Y5
	VBROADCASTSS (R12)(AX*4), Y13
	VFMADD231PS  Y8, Y13, Y6
	VFMADD231PS  Y9, Y13, Y7
	ADDQ         R9, DI
	INCQ         AX
	JMP          loopg4
doneg4:
	MOVQ    c0+56(FP), DX
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	MOVQ    c1+64(FP), DX
	VMOVUPS Y2, (DX)
	VMOVUPS Y3, 32(DX)
	MOVQ    c2+72(FP), DX
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	MOVQ    c3+80(FP), DX
	VMOVUPS Y6, (DX)
	VMOVUPS Y7, 32(DX)
	VZEROUPPER
	RET

// func gemm4x24(a0, a1, a2, a3 *float32, bt *float32, ldb int, k int, c0, c1, c2, c3 *float32)
// gemm4x16 for 24 columns: twelve accumulators (independent FMA chains,
// where gemm4x16 and gemm4x8 over the same 24 columns keep eight and
// four), each column summed in order of p like gemm4x16, so the bits are
// the same. The attention's output product, whose columns are a head's
// 24 dimensions, takes it.
TEXT ·gemm4x24(SB), NOSPLIT, $0-88
	MOVQ a0+0(FP), SI
	MOVQ a1+8(FP), R10
	MOVQ a2+16(FP), R11
	MOVQ a3+24(FP), R12
	MOVQ bt+32(FP), DI
	MOVQ ldb+40(FP), R9
	SHLQ $2, R9
	MOVQ k+48(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	XORQ AX, AX
loopg424:
	CMPQ AX, CX
	JGE  doneg424
	VMOVUPS      (DI), Y12
	VMOVUPS      32(DI), Y13
	VMOVUPS      64(DI), Y14
	VBROADCASTSS (SI)(AX*4), Y15
	VFMADD231PS  Y12, Y15, Y0
	VFMADD231PS  Y13, Y15, Y1
	VFMADD231PS  Y14, Y15, Y2
	VBROADCASTSS (R10)(AX*4), Y15
	VFMADD231PS  Y12, Y15, Y3
	VFMADD231PS  Y13, Y15, Y4
	VFMADD231PS  Y14, Y15, Y5
	VBROADCASTSS (R11)(AX*4), Y15
	VFMADD231PS  Y12, Y15, Y6
	VFMADD231PS  Y13, Y15, Y7
	VFMADD231PS  Y14, Y15, Y8
	VBROADCASTSS (R12)(AX*4), Y15
	VFMADD231PS  Y12, Y15, Y9
	VFMADD231PS  Y13, Y15, Y10
	VFMADD231PS  Y14, Y15, Y11
	ADDQ         R9, DI
	INCQ         AX
	JMP          loopg424
doneg424:
	MOVQ    c0+56(FP), DX
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	MOVQ    c1+64(FP), DX
	VMOVUPS Y3, (DX)
	VMOVUPS Y4, 32(DX)
	VMOVUPS Y5, 64(DX)
	MOVQ    c2+72(FP), DX
	VMOVUPS Y6, (DX)
	VMOVUPS Y7, 32(DX)
	VMOVUPS Y8, 64(DX)
	MOVQ    c3+80(FP), DX
	VMOVUPS Y9, (DX)
	VMOVUPS Y10, 32(DX)
	VMOVUPS Y11, 64(DX)
	VZEROUPPER
	RET

// func gemm1x32(a *float32, bt *float32, ldb int, k int, c *float32)
// c[j] = sum_p a[p]·bt[p][j] for columns j < 32: the decode (matrix-vector)
// form of gemm4x16.
TEXT ·gemm1x32(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ bt+8(FP), DI
	MOVQ ldb+16(FP), R9
	SHLQ $2, R9
	MOVQ k+24(FP), CX
	MOVQ c+32(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ AX, AX
loopg1:
	CMPQ AX, CX
	JGE  doneg1
	VBROADCASTSS (SI)(AX*4), Y10
	VFMADD231PS  (DI), Y10, Y0
	VFMADD231PS  32(DI), Y10, Y1
	VFMADD231PS  64(DI), Y10, Y2
	VFMADD231PS  96(DI), Y10, Y3
	ADDQ         R9, DI
	INCQ         AX
	JMP          loopg1
doneg1:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VMOVUPS Y3, 96(DX)
	VZEROUPPER
	RET

// func gemm1x16(a *float32, bt *float32, ldb int, k int, c *float32)
TEXT ·gemm1x16(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ bt+8(FP), DI
	MOVQ ldb+16(FP), R9
	SHLQ $2, R9
	MOVQ k+24(FP), CX
	MOVQ c+32(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	XORQ AX, AX
loopg16:
	CMPQ AX, CX
	JGE  doneg16
	VBROADCASTSS (SI)(AX*4), Y10
	VFMADD231PS  (DI), Y10, Y0
	VFMADD231PS  32(DI), Y10, Y1
	ADDQ         R9, DI
	INCQ         AX
	JMP          loopg16
doneg16:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VZEROUPPER
	RET

// func gemm1x64(a *float32, bt *float32, ldb int, k int, c *float32)
// c[j] = sum_p a[p]·bt[p][j] for columns j < 64, eight independent
// accumulators so the FMA latency is hidden.
TEXT ·gemm1x64(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ bt+8(FP), DI
	MOVQ ldb+16(FP), R9
	SHLQ $2, R9
	MOVQ k+24(FP), CX
	MOVQ c+32(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ AX, AX
loopg64:
	CMPQ AX, CX
	JGE  doneg64
	VBROADCASTSS (SI)(AX*4), Y10
	VFMADD231PS  (DI), Y10, Y0
	VFMADD231PS  32(DI), Y10, Y1
	VFMADD231PS  64(DI), Y10, Y2
	VFMADD231PS  96(DI), Y10, Y3
	VFMADD231PS  128(DI), Y10, Y4
	VFMADD231PS  160(DI), Y10, Y5
	VFMADD231PS  192(DI), Y10, Y6
	VFMADD231PS  224(DI), Y10, Y7
	ADDQ         R9, DI
	INCQ         AX
	JMP          loopg64
doneg64:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VMOVUPS Y3, 96(DX)
	VMOVUPS Y4, 128(DX)
	VMOVUPS Y5, 160(DX)
	VMOVUPS Y6, 192(DX)
	VMOVUPS Y7, 224(DX)
	VZEROUPPER
	RET

// func dotRows(q *float32, k *float32, ldk int, n int, hd8 int, out *float32)
// out[u] = q·k_u over hd8 elements (a multiple of 8) for the n rows k_u
// of stride ldk elements: the attention scores of one query.
TEXT ·dotRows(SB), NOSPLIT, $0-48
	MOVQ q+0(FP), SI
	MOVQ k+8(FP), DI
	MOVQ ldk+16(FP), R9
	SHLQ $2, R9
	MOVQ n+24(FP), CX
	MOVQ hd8+32(FP), R8
	SHLQ $2, R8
	MOVQ out+40(FP), DX
	XORQ BX, BX
looprow:
	CMPQ BX, CX
	JGE  donerows
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	XORQ AX, AX
loopel:
	CMPQ AX, R8
	JGE  doneel
	VMOVUPS     (SI)(AX*1), Y8
	VFMADD231PS (DI)(AX*1), Y8, Y0
	ADDQ        $32, AX
	JMP         loopel
doneel:
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VMOVSS       X0, (DX)(BX*4)
	ADDQ         R9, DI
	INCQ         BX
	JMP          looprow
donerows:
	VZEROUPPER
	RET

// func axpyRows(w *float32, v *float32, ldv int, n int, hd8 int, acc *float32)
// acc[e] += sum_u w[u]·v_u[e] for e < hd8 (a multiple of 8) over the n rows
// v_u of stride ldv elements: the attention-weighted sum of values. Two
// partial sums per 8 lanes (even and odd rows) halve the FMA chain.
TEXT ·axpyRows(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), SI
	MOVQ v+8(FP), DI
	MOVQ ldv+16(FP), R9
	SHLQ $2, R9
	MOVQ n+24(FP), CX
	MOVQ hd8+32(FP), R8
	MOVQ acc+40(FP), DX
	XORQ R10, R10          // lane offset in bytes
	SHLQ $2, R8
loopchunk:
	CMPQ R10, R8
	JGE  donechunk
	VMOVUPS (DX)(R10*1), Y0
	VXORPS  Y1, Y1, Y1
	MOVQ    DI, R11
	ADDQ    R10, R11       // &v_0[chunk]
	XORQ    BX, BX
looppair:
	LEAQ 1(BX), R12
	CMPQ R12, CX
	JGE  lastrow
	VBROADCASTSS (SI)(BX*4), Y8
	VFMADD231PS  (R11), Y8, Y0
	ADDQ         R9, R11
	VBROADCASTSS 4(SI)(BX*4), Y9
	VFMADD231PS  (R11), Y9, Y1
	ADDQ         R9, R11
	ADDQ         $2, BX
	JMP          looppair
lastrow:
	CMPQ BX, CX
	JGE  sumchunk
	VBROADCASTSS (SI)(BX*4), Y8
	VFMADD231PS  (R11), Y8, Y0
sumchunk:
	VADDPS  Y1, Y0, Y0
	VMOVUPS Y0, (DX)(R10*1)
	ADDQ    $32, R10
	JMP     loopchunk
donechunk:
	VZEROUPPER
	RET

// func gemmP1x64(a *float32, p *float32, pstride int, k int, c *float32)
// The decode kernel on packed weights: four consecutive 16-column panels,
// each k×16 contiguous and pstride elements apart, give c[j] for j < 64.
TEXT ·gemmP1x64(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ p+8(FP), DI
	MOVQ pstride+16(FP), R9
	SHLQ $2, R9
	MOVQ k+24(FP), CX
	MOVQ c+32(FP), DX
	LEAQ (DI)(R9*1), R10
	LEAQ (R10)(R9*1), R11
	LEAQ (R11)(R9*1), R12
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ AX, AX
loopp64:
	CMPQ AX, CX
	JGE  donep64
	VBROADCASTSS (SI)(AX*4), Y10
	VFMADD231PS  (DI), Y10, Y0
	VFMADD231PS  32(DI), Y10, Y1
	VFMADD231PS  (R10), Y10, Y2
	VFMADD231PS  32(R10), Y10, Y3
	VFMADD231PS  (R11), Y10, Y4
	VFMADD231PS  32(R11), Y10, Y5
	VFMADD231PS  (R12), Y10, Y6
	VFMADD231PS  32(R12), Y10, Y7
	ADDQ         $64, DI
	ADDQ         $64, R10
	ADDQ         $64, R11
	ADDQ         $64, R12
	INCQ         AX
	JMP          loopp64
donep64:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VMOVUPS Y3, 96(DX)
	VMOVUPS Y4, 128(DX)
	VMOVUPS Y5, 160(DX)
	VMOVUPS Y6, 192(DX)
	VMOVUPS Y7, 224(DX)
	VZEROUPPER
	RET

// func gemmP2x32(a0, a1 *float32, p *float32, pstride int, k int, c0, c1 *float32)
// Two rows against two consecutive packed 16-column panels (pstride
// elements apart): c_r[j] for j < 32, eight independent accumulators.
TEXT ·gemmP2x32(SB), NOSPLIT, $0-56
	MOVQ a0+0(FP), SI
	MOVQ a1+8(FP), R8
	MOVQ p+16(FP), DI
	MOVQ pstride+24(FP), R9
	SHLQ $2, R9
	MOVQ k+32(FP), CX
	LEAQ (DI)(R9*1), R10
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ AX, AX
loopp2:
	CMPQ AX, CX
	JGE  donep2
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9
	VMOVUPS      (R10), Y10
	VMOVUPS      32(R10), Y11
	VBROADCASTSS (SI)(AX*4), Y12
	VFMADD231PS  Y8, Y12, Y0
	VFMADD231PS  Y9, Y12, Y1
	VFMADD231PS  Y10, Y12, Y2
	VFMADD231PS  Y11, Y12, Y3
	VBROADCASTSS (R8)(AX*4), Y13
	VFMADD231PS  Y8, Y13, Y4
	VFMADD231PS  Y9, Y13, Y5
	VFMADD231PS  Y10, Y13, Y6
	VFMADD231PS  Y11, Y13, Y7
	ADDQ         $64, DI
	ADDQ         $64, R10
	INCQ         AX
	JMP          loopp2
donep2:
	MOVQ    c0+40(FP), DX
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VMOVUPS Y3, 96(DX)
	MOVQ    c1+48(FP), DX
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	VMOVUPS Y6, 64(DX)
	VMOVUPS Y7, 96(DX)
	VZEROUPPER
	RET

DATA expc<>+0(SB)/4, $0x3fb8aa3b   // log2(e)
DATA expc<>+4(SB)/4, $0x3f317218   // ln(2)
DATA expc<>+8(SB)/4, $0xc2ae0000   // -87
DATA expc<>+12(SB)/4, $0x42b00000  // 88
DATA expc<>+16(SB)/4, $0x3f800000  // 1
DATA expc<>+20(SB)/4, $0x3f000000  // 1/2
DATA expc<>+24(SB)/4, $0x3e2aaaab  // 1/6
DATA expc<>+28(SB)/4, $0x3d2aaaab  // 1/24
DATA expc<>+32(SB)/4, $0x3c088889  // 1/120
DATA expc<>+36(SB)/4, $0x3ab60b61  // 1/720
DATA expc<>+40(SB)/4, $127
GLOBL expc<>(SB), RODATA|NOPTR, $44

// func expVec(x *float32, n8 int)
// x[i] = e^x[i] for i < n8 (a multiple of 8), in place, by the same
// method and coefficients as the Go expf: 2^round(x·log2 e) times a
// degree-6 polynomial in the remainder; inputs below -87 give 0.
TEXT ·expVec(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), SI
	MOVQ n8+8(FP), CX
	VBROADCASTSS expc<>+0(SB), Y15
	VBROADCASTSS expc<>+4(SB), Y14
	VBROADCASTSS expc<>+8(SB), Y13
	VBROADCASTSS expc<>+12(SB), Y12
	VBROADCASTSS expc<>+16(SB), Y11
	VBROADCASTSS expc<>+20(SB), Y10
	VBROADCASTSS expc<>+24(SB), Y9
	VBROADCASTSS expc<>+28(SB), Y8
	VBROADCASTSS expc<>+32(SB), Y7
	VBROADCASTSS expc<>+36(SB), Y6
	VPBROADCASTD expc<>+40(SB), Y5
	XORQ AX, AX
loopexp:
	CMPQ AX, CX
	JGE  doneexp
	VMOVUPS    (SI)(AX*4), Y0
	VCMPPS     $1, Y13, Y0, Y4      // mask: x < -87
	VMINPS     Y12, Y0, Y0          // x = min(x, 88)
	VMULPS     Y15, Y0, Y1          // t = x·log2e
	VROUNDPS   $0, Y1, Y2           // n = round(t)
	VSUBPS     Y2, Y1, Y1           // f = t - n
	VMULPS     Y14, Y1, Y1          // y = f·ln2
	VMOVAPS    Y6, Y3               // p = 1/720
	VFMADD213PS Y7, Y1, Y3          // p = p·y + 1/120
	VFMADD213PS Y8, Y1, Y3          // + 1/24
	VFMADD213PS Y9, Y1, Y3          // + 1/6
	VFMADD213PS Y10, Y1, Y3         // + 1/2
	VFMADD213PS Y11, Y1, Y3         // + 1
	VFMADD213PS Y11, Y1, Y3         // + 1
	VCVTPS2DQ  Y2, Y2               // n as int32
	VPADDD     Y5, Y2, Y2
	VPSLLD     $23, Y2, Y2          // 2^n
	VMULPS     Y2, Y3, Y3
	VANDNPS    Y3, Y4, Y3           // zero where x < -87
	VMOVUPS    Y3, (SI)(AX*4)
	ADDQ       $8, AX
	JMP        loopexp
doneexp:
	VZEROUPPER
	RET

// func gemm4x8(a0, a1, a2, a3 *float32, bt *float32, ldb int, k int, c0, c1, c2, c3 *float32)
// gemm4x16 for 8 columns (k >= 1): c_r[j] = sum_p a_r[p]·bt[p][j] for the
// four rows r and j < 8, summed in order of p like gemm4x16.
TEXT ·gemm4x8(SB), NOSPLIT, $0-88
	MOVQ a0+0(FP), SI
	MOVQ a1+8(FP), R10
	MOVQ a2+16(FP), R11
	MOVQ a3+24(FP), R12
	MOVQ bt+32(FP), DI
	MOVQ ldb+40(FP), R9
	SHLQ $2, R9
	MOVQ k+48(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ AX, AX
loopg48:
	CMPQ AX, CX
	JGE  doneg48
	VMOVUPS      (DI), Y8
	VBROADCASTSS (SI)(AX*4), Y10
	VFMADD231PS  Y8, Y10, Y0
	VBROADCASTSS (R10)(AX*4), Y11
	VFMADD231PS  Y8, Y11, Y1
	VBROADCASTSS (R11)(AX*4), Y12
	VFMADD231PS  Y8, Y12, Y2
	VBROADCASTSS (R12)(AX*4), Y13
	VFMADD231PS  Y8, Y13, Y3
	ADDQ         R9, DI
	INCQ         AX
	JMP          loopg48
doneg48:
	MOVQ    c0+56(FP), DX
	VMOVUPS Y0, (DX)
	MOVQ    c1+64(FP), DX
	VMOVUPS Y1, (DX)
	MOVQ    c2+72(FP), DX
	VMOVUPS Y2, (DX)
	MOVQ    c3+80(FP), DX
	VMOVUPS Y3, (DX)
	VZEROUPPER
	RET

// func maxVec(x *float32, n8 int) float32
// The largest of x[0..n8), n8 a positive multiple of 8.
TEXT ·maxVec(SB), NOSPLIT, $0-20
	MOVQ    x+0(FP), SI
	MOVQ    n8+8(FP), CX
	VMOVUPS (SI), Y0
	MOVQ    $8, AX
loopmax:
	CMPQ   AX, CX
	JGE    donemax
	VMAXPS (SI)(AX*4), Y0, Y0
	ADDQ   $8, AX
	JMP    loopmax
donemax:
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X1, X0, X0
	VMOVSS       X0, ret+16(FP)
	VZEROUPPER
	RET

DATA negc<>+0(SB)/4, $0xc2ae0000
DATA negc<>+4(SB)/4, $0xc2ae0000
DATA negc<>+8(SB)/4, $0xc2ae0000
DATA negc<>+12(SB)/4, $0xc2ae0000
DATA negc<>+16(SB)/4, $0xc2ae0000
DATA negc<>+20(SB)/4, $0xc2ae0000
DATA negc<>+24(SB)/4, $0xc2ae0000
DATA negc<>+28(SB)/4, $0xc2ae0000
GLOBL negc<>(SB), RODATA|NOPTR, $32

// func expSubSum(x *float32, n8 int, sub float32) float32
// x[i] = e^(x[i]-sub) for i < n8 (a multiple of 8), in place, by expVec's
// method (arguments below -87, -Inf included, give 0; no upper clamp,
// since sub is the maximum), and returns the sum of the results.
TEXT ·expSubSum(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ n8+8(FP), CX
	VBROADCASTSS sub+16(FP), Y12
	VBROADCASTSS expc<>+0(SB), Y15
	VBROADCASTSS expc<>+4(SB), Y14
	VBROADCASTSS expc<>+16(SB), Y11
	VBROADCASTSS expc<>+20(SB), Y10
	VBROADCASTSS expc<>+24(SB), Y9
	VBROADCASTSS expc<>+28(SB), Y8
	VBROADCASTSS expc<>+32(SB), Y7
	VBROADCASTSS expc<>+36(SB), Y6
	VPBROADCASTD expc<>+40(SB), Y5
	VXORPS Y13, Y13, Y13
	XORQ AX, AX
loopes:
	CMPQ AX, CX
	JGE  donees
	VMOVUPS     (SI)(AX*4), Y0
	VSUBPS      Y12, Y0, Y0
	VCMPPS      $1, negc<>(SB), Y0, Y4
	VMULPS      Y15, Y0, Y1
	VROUNDPS    $0, Y1, Y2
	VSUBPS      Y2, Y1, Y1
	VMULPS      Y14, Y1, Y1
	VMOVAPS     Y6, Y3
	VFMADD213PS Y7, Y1, Y3
	VFMADD213PS Y8, Y1, Y3
	VFMADD213PS Y9, Y1, Y3
	VFMADD213PS Y10, Y1, Y3
	VFMADD213PS Y11, Y1, Y3
	VFMADD213PS Y11, Y1, Y3
	VCVTPS2DQ   Y2, Y2
	VPADDD      Y5, Y2, Y2
	VPSLLD      $23, Y2, Y2
	VMULPS      Y2, Y3, Y3
	VANDNPS     Y3, Y4, Y3
	VMOVUPS     Y3, (SI)(AX*4)
	VADDPS      Y3, Y13, Y13
	ADDQ        $8, AX
	JMP         loopes
donees:
	VEXTRACTF128 $1, Y13, X1
	VADDPS       X1, X13, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VMOVSS       X0, ret+24(FP)
	VZEROUPPER
	RET

// func cpuidAVX512() bool
// Reports AVX-512F support with the opmask and ZMM state enabled by the OS.
TEXT ·cpuidAVX512(SB), NOSPLIT, $0-1
	MOVL $1, AX
	XORL CX, CX
	CPUID
	ANDL $0x08000000, CX // OSXSAVE
	JZ   noz
	XORL CX, CX
	XGETBV
	ANDL $0xe6, AX
	CMPL AX, $0xe6
	JNE  noz
	MOVL $7, AX
	XORL CX, CX
	CPUID
	ANDL $0x10000, BX // AVX512F
	JZ   noz
	MOVB $1, ret+0(FP)
	RET
noz:
	MOVB $0, ret+0(FP)
	RET

// Macros of the 4-row, 64-column AVX-512 tiles (gemmZ4, gemmZ4s,
// bf16Z4x64): Z16_ZERO clears the sixteen accumulators Z0-Z15,
// B4_BCAST(off) broadcasts the four rows' entries at AX (plus off
// bytes) into Z20-Z23, B4_FMAS adds them times the four weight vectors
// w0-w3 (row r, vector c into Z(4r+c)), and Z16_STORE writes the
// accumulators to the four output rows whose pointers AX points to.
#define Z16_ZERO \
	VPXORD Z0, Z0, Z0; VPXORD Z1, Z1, Z1; VPXORD Z2, Z2, Z2; VPXORD Z3, Z3, Z3 \
	VPXORD Z4, Z4, Z4; VPXORD Z5, Z5, Z5; VPXORD Z6, Z6, Z6; VPXORD Z7, Z7, Z7 \
	VPXORD Z8, Z8, Z8; VPXORD Z9, Z9, Z9; VPXORD Z10, Z10, Z10; VPXORD Z11, Z11, Z11 \
	VPXORD Z12, Z12, Z12; VPXORD Z13, Z13, Z13; VPXORD Z14, Z14, Z14; VPXORD Z15, Z15, Z15

#define B4_BCAST(off) \
	VBROADCASTSS off(SI)(AX*4), Z20 \
	VBROADCASTSS off(R10)(AX*4), Z21 \
	VBROADCASTSS off(R11)(AX*4), Z22 \
	VBROADCASTSS off(R12)(AX*4), Z23

#define B4_FMAS(w0, w1, w2, w3) \
	VFMADD231PS w0, Z20, Z0; VFMADD231PS w1, Z20, Z1; VFMADD231PS w2, Z20, Z2; VFMADD231PS w3, Z20, Z3 \
	VFMADD231PS w0, Z21, Z4; VFMADD231PS w1, Z21, Z5; VFMADD231PS w2, Z21, Z6; VFMADD231PS w3, Z21, Z7 \
	VFMADD231PS w0, Z22, Z8; VFMADD231PS w1, Z22, Z9; VFMADD231PS w2, Z22, Z10; VFMADD231PS w3, Z22, Z11 \
	VFMADD231PS w0, Z23, Z12; VFMADD231PS w1, Z23, Z13; VFMADD231PS w2, Z23, Z14; VFMADD231PS w3, Z23, Z15

#define Z16_STORE \
	MOVQ    0(AX), DX \
	VMOVUPS Z0, (DX); VMOVUPS Z1, 64(DX); VMOVUPS Z2, 128(DX); VMOVUPS Z3, 192(DX) \
	MOVQ    8(AX), DX \
	VMOVUPS Z4, (DX); VMOVUPS Z5, 64(DX); VMOVUPS Z6, 128(DX); VMOVUPS Z7, 192(DX) \
	MOVQ    16(AX), DX \
	VMOVUPS Z8, (DX); VMOVUPS Z9, 64(DX); VMOVUPS Z10, 128(DX); VMOVUPS Z11, 192(DX) \
	MOVQ    24(AX), DX \
	VMOVUPS Z12, (DX); VMOVUPS Z13, 64(DX); VMOVUPS Z14, 128(DX); VMOVUPS Z15, 192(DX)

// ROWS4_STORE2 writes two vectors to each of the four output rows whose
// pointers AX points to: a_r at the row's start and b_r 64 bytes on.
#define ROWS4_STORE2(a0, b0, a1, b1, a2, b2, a3, b3) \
	MOVQ 0(AX), DX; VMOVUPS a0, (DX); VMOVUPS b0, 64(DX) \
	MOVQ 8(AX), DX; VMOVUPS a1, (DX); VMOVUPS b1, 64(DX) \
	MOVQ 16(AX), DX; VMOVUPS a2, (DX); VMOVUPS b2, 64(DX) \
	MOVQ 24(AX), DX; VMOVUPS a3, (DX); VMOVUPS b3, 64(DX)

// func gemmZ4(ap *[4]*float32, p *float32, pstride int, k int, cp *[4]*float32, cols int)
// Four rows against four consecutive packed 16-column panels (pstride
// elements apart) with AVX-512: c_r[j] for j < 64 in sixteen 16-wide
// accumulators, each column summed in order of p like gemm4x16. With
// cols 32 it takes two panels in eight accumulators: the tail of a split
// product whose half is not a multiple of 64 columns (a padded row
// repeats a row into scratch). ZH_ROW broadcasts row pointer r's k-th
// entry into z and adds it times both panels to a0 and a1.
#define ZH_ROW(r, z, a0, a1) VBROADCASTSS (r)(AX*4), z; VFMADD231PS Z16, z, a0; VFMADD231PS Z17, z, a1
TEXT ·gemmZ4(SB), NOSPLIT, $0-48
	MOVQ ap+0(FP), AX
	MOVQ 0(AX), SI
	MOVQ 8(AX), R10
	MOVQ 16(AX), R11
	MOVQ 24(AX), R12
	MOVQ p+8(FP), DI
	MOVQ pstride+16(FP), R9
	SHLQ $2, R9
	MOVQ k+24(FP), CX
	LEAQ (DI)(R9*1), R13
	LEAQ (R13)(R9*1), BX
	LEAQ (BX)(R9*1), DX
	CMPQ cols+40(FP), $64
	JNE  narrow4
	Z16_ZERO
	XORQ AX, AX
loopz4:
	CMPQ AX, CX
	JGE  donez4
	VMOVUPS      (DI), Z16
	VMOVUPS      (R13), Z17
	VMOVUPS      (BX), Z18
	VMOVUPS      (DX), Z19
	B4_BCAST(0)
	B4_FMAS(Z16, Z17, Z18, Z19)
	ADDQ         $64, DI
	ADDQ         $64, R13
	ADDQ         $64, BX
	ADDQ         $64, DX
	INCQ         AX
	JMP          loopz4
donez4:
	MOVQ cp+32(FP), AX
	Z16_STORE
	VZEROUPPER
	RET
narrow4:
	VPXORD Z0, Z0, Z0; VPXORD Z1, Z1, Z1; VPXORD Z2, Z2, Z2; VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4; VPXORD Z5, Z5, Z5; VPXORD Z6, Z6, Z6; VPXORD Z7, Z7, Z7
	XORQ AX, AX
loopz4n:
	CMPQ AX, CX
	JGE  donez4n
	VMOVUPS (DI), Z16
	VMOVUPS (R13), Z17
	ZH_ROW(SI, Z20, Z0, Z1)
	ZH_ROW(R10, Z21, Z2, Z3)
	ZH_ROW(R11, Z22, Z4, Z5)
	ZH_ROW(R12, Z23, Z6, Z7)
	ADDQ $64, DI
	ADDQ $64, R13
	INCQ AX
	JMP  loopz4n
donez4n:
	MOVQ cp+32(FP), AX
	ROWS4_STORE2(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7)
	VZEROUPPER
	RET

// func siluMul(a, b, out *float32, n8 int)
// out[i] = a[i]·b[i] / (1 + e^(-a[i])) for i < n8 (a multiple of 8): the
// SwiGLU activation, e^x by expVec's method (exponent arguments below
// -87 give 0; above 88 they saturate).
TEXT ·siluMul(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), R8
	MOVQ out+16(FP), DI
	MOVQ n8+24(FP), CX
	VBROADCASTSS expc<>+0(SB), Y15
	VBROADCASTSS expc<>+4(SB), Y14
	VBROADCASTSS expc<>+12(SB), Y12
	VBROADCASTSS expc<>+16(SB), Y11
	VBROADCASTSS expc<>+20(SB), Y10
	VBROADCASTSS expc<>+24(SB), Y9
	VBROADCASTSS expc<>+28(SB), Y8
	VBROADCASTSS expc<>+32(SB), Y7
	VBROADCASTSS expc<>+36(SB), Y6
	VPBROADCASTD expc<>+40(SB), Y5
	VXORPS Y13, Y13, Y13
	XORQ AX, AX
loopsm:
	CMPQ AX, CX
	JGE  donesm
	VMOVUPS     (SI)(AX*4), Y0
	VSUBPS      Y0, Y13, Y0          // x = -a
	VCMPPS      $1, negc<>(SB), Y0, Y4
	VMINPS      Y12, Y0, Y0
	VMULPS      Y15, Y0, Y1
	VROUNDPS    $0, Y1, Y2
	VSUBPS      Y2, Y1, Y1
	VMULPS      Y14, Y1, Y1
	VMOVAPS     Y6, Y3
	VFMADD213PS Y7, Y1, Y3
	VFMADD213PS Y8, Y1, Y3
	VFMADD213PS Y9, Y1, Y3
	VFMADD213PS Y10, Y1, Y3
	VFMADD213PS Y11, Y1, Y3
	VFMADD213PS Y11, Y1, Y3
	VCVTPS2DQ   Y2, Y2
	VPADDD      Y5, Y2, Y2
	VPSLLD      $23, Y2, Y2
	VMULPS      Y2, Y3, Y3
	VANDNPS     Y3, Y4, Y3           // e^(-a)
	VADDPS      Y11, Y3, Y3          // 1 + e^(-a)
	VMOVUPS     (SI)(AX*4), Y0
	VMULPS      (R8)(AX*4), Y0, Y0   // a·b
	VDIVPS      Y3, Y0, Y0
	VMOVUPS     Y0, (DI)(AX*4)
	ADDQ        $8, AX
	JMP         loopsm
donesm:
	VZEROUPPER
	RET

// func sumSq(x *float32, n8 int) float32
// The sum of x[i]² for i < n8 (a multiple of 8), in two 8-lane partial
// sums.
TEXT ·sumSq(SB), NOSPLIT, $0-20
	MOVQ   x+0(FP), SI
	MOVQ   n8+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	XORQ   AX, AX
loopss:
	LEAQ        8(AX), DX
	CMPQ        DX, CX
	JGE         lastss
	VMOVUPS     (SI)(AX*4), Y2
	VFMADD231PS Y2, Y2, Y0
	VMOVUPS     32(SI)(AX*4), Y3
	VFMADD231PS Y3, Y3, Y1
	ADDQ        $16, AX
	JMP         loopss
lastss:
	CMPQ        AX, CX
	JGE         donss
	VMOVUPS     (SI)(AX*4), Y2
	VFMADD231PS Y2, Y2, Y0
donss:
	VADDPS       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VMOVSS       X0, ret+16(FP)
	VZEROUPPER
	RET

// func scaleMul(out, x, gain *float32, scale float32, n8 int)
// out[i] = x[i]·scale·gain[i] for i < n8 (a multiple of 8): RMSNorm's output.
TEXT ·scaleMul(SB), NOSPLIT, $0-40
	MOVQ         out+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         gain+16(FP), R8
	VBROADCASTSS scale+24(FP), Y1
	MOVQ         n8+32(FP), CX
	XORQ         AX, AX
loopsc:
	CMPQ    AX, CX
	JGE     donesc
	VMULPS  (SI)(AX*4), Y1, Y0
	VMULPS  (R8)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     loopsc
donesc:
	VZEROUPPER
	RET

// The bf16 kernels read packed weights stored as bfloat16 (the top half
// of a float32), two k-rows interleaved per 32-bit lane (BF16PAIR), and
// widen them to their exact float32 value in registers. Rows of a and c
// stay float32, and every column is summed in order of p.

// BF16PAIR loads two k-rows of a bf16 panel stored as pairs (PackBF16:
// dword c of pair-row q holds w(2q, c) in its low half and w(2q+1, c) in
// its high half) and widens them exactly to float32: lo = the low
// halves shifted up, hi = the high halves with the low bits cleared (Z31
// holds 0xffff0000 in every lane). One load and two integer operations
// give 32 weights, where a widening load (a shuffle) gives 16.
#define BF16PAIR(base, lo, hi) \
	VMOVDQU32 (base), hi \
	VPSLLD    $16, hi, lo \
	VPANDD    Z31, hi, hi

#define BF16MASK VPTERNLOGD $0xff, Z31, Z31, Z31; VPSLLD $16, Z31, Z31

// BF16PAIRS4 loads a row pair of four panels: lo halves into Z16-Z19,
// hi halves into Z24-Z27. FMA4 adds four weight vectors times the
// broadcast b into four accumulators.
#define BF16PAIRS4(p0, p1, p2, p3) \
	BF16PAIR(p0, Z16, Z24); BF16PAIR(p1, Z17, Z25); BF16PAIR(p2, Z18, Z26); BF16PAIR(p3, Z19, Z27)

#define FMA4(w0, w1, w2, w3, b, a0, a1, a2, a3) \
	VFMADD231PS w0, b, a0; VFMADD231PS w1, b, a1; VFMADD231PS w2, b, a2; VFMADD231PS w3, b, a3

// func bf16Z1x64(a *float32, p *uint16, pstride int, k int, c *float32)
// One row against four consecutive bf16 panels (pstride elements apart),
// two k-rows per iteration and a last single row where k is odd; each
// column is one FMA chain in order of p.
TEXT ·bf16Z1x64(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ p+8(FP), DI
	MOVQ pstride+16(FP), R9
	SHLQ $1, R9
	MOVQ k+24(FP), CX
	MOVQ c+32(FP), DX
	LEAQ (DI)(R9*1), R10
	LEAQ (R10)(R9*1), R11
	LEAQ (R11)(R9*1), R12
	BF16MASK
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	MOVQ CX, R8
	ANDQ $~1, R8
	XORQ AX, AX
loopb1:
	CMPQ AX, R8
	JGE  tailb1
	BF16PAIRS4(DI, R10, R11, R12)
	VBROADCASTSS (SI)(AX*4), Z20
	VBROADCASTSS 4(SI)(AX*4), Z21
	FMA4(Z16, Z17, Z18, Z19, Z20, Z0, Z1, Z2, Z3)
	FMA4(Z24, Z25, Z26, Z27, Z21, Z0, Z1, Z2, Z3)
	ADDQ         $64, DI
	ADDQ         $64, R10
	ADDQ         $64, R11
	ADDQ         $64, R12
	ADDQ         $2, AX
	JMP          loopb1
tailb1:
	CMPQ AX, CX
	JGE  doneb1
	BF16PAIRS4(DI, R10, R11, R12)
	VBROADCASTSS (SI)(AX*4), Z20
	FMA4(Z16, Z17, Z18, Z19, Z20, Z0, Z1, Z2, Z3)
doneb1:
	VMOVUPS Z0, (DX)
	VMOVUPS Z1, 64(DX)
	VMOVUPS Z2, 128(DX)
	VMOVUPS Z3, 192(DX)
	VZEROUPPER
	RET

// func bf16Z2x64(a0, a1 *float32, p *uint16, pstride int, k int, c0, c1 *float32)
// Two rows against four consecutive bf16 panels.
TEXT ·bf16Z2x64(SB), NOSPLIT, $0-56
	MOVQ a0+0(FP), SI
	MOVQ a1+8(FP), R8
	MOVQ p+16(FP), DI
	MOVQ pstride+24(FP), R9
	SHLQ $1, R9
	MOVQ k+32(FP), CX
	LEAQ (DI)(R9*1), R10
	LEAQ (R10)(R9*1), R11
	LEAQ (R11)(R9*1), R12
	BF16MASK
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	MOVQ CX, R13
	ANDQ $~1, R13
	XORQ AX, AX
loopb2:
	CMPQ AX, R13
	JGE  tailb2
	BF16PAIRS4(DI, R10, R11, R12)
	VBROADCASTSS (SI)(AX*4), Z20
	VBROADCASTSS (R8)(AX*4), Z21
	VBROADCASTSS 4(SI)(AX*4), Z22
	VBROADCASTSS 4(R8)(AX*4), Z23
	FMA4(Z16, Z17, Z18, Z19, Z20, Z0, Z1, Z2, Z3)
	FMA4(Z16, Z17, Z18, Z19, Z21, Z4, Z5, Z6, Z7)
	FMA4(Z24, Z25, Z26, Z27, Z22, Z0, Z1, Z2, Z3)
	FMA4(Z24, Z25, Z26, Z27, Z23, Z4, Z5, Z6, Z7)
	ADDQ         $64, DI
	ADDQ         $64, R10
	ADDQ         $64, R11
	ADDQ         $64, R12
	ADDQ         $2, AX
	JMP          loopb2
tailb2:
	CMPQ AX, CX
	JGE  doneb2
	BF16PAIRS4(DI, R10, R11, R12)
	VBROADCASTSS (SI)(AX*4), Z20
	VBROADCASTSS (R8)(AX*4), Z21
	FMA4(Z16, Z17, Z18, Z19, Z20, Z0, Z1, Z2, Z3)
	FMA4(Z16, Z17, Z18, Z19, Z21, Z4, Z5, Z6, Z7)
doneb2:
	MOVQ    c0+40(FP), DX
	VMOVUPS Z0, (DX)
	VMOVUPS Z1, 64(DX)
	VMOVUPS Z2, 128(DX)
	VMOVUPS Z3, 192(DX)
	MOVQ    c1+48(FP), DX
	VMOVUPS Z4, (DX)
	VMOVUPS Z5, 64(DX)
	VMOVUPS Z6, 128(DX)
	VMOVUPS Z7, 192(DX)
	VZEROUPPER
	RET

// func bf16Z4x64(ap *[4]*float32, p *uint16, pstride int, k int, cp *[4]*float32)
// Four rows against four consecutive bf16 panels: gemmZ4 on bf16 pairs.
TEXT ·bf16Z4x64(SB), NOSPLIT, $0-40
	MOVQ ap+0(FP), AX
	MOVQ 0(AX), SI
	MOVQ 8(AX), R10
	MOVQ 16(AX), R11
	MOVQ 24(AX), R12
	MOVQ p+8(FP), DI
	MOVQ pstride+16(FP), R9
	SHLQ $1, R9
	MOVQ k+24(FP), CX
	LEAQ (DI)(R9*1), R13
	LEAQ (R13)(R9*1), BX
	LEAQ (BX)(R9*1), DX
	BF16MASK
	Z16_ZERO
	MOVQ CX, R8
	ANDQ $~1, R8
	XORQ AX, AX
loopb4:
	CMPQ AX, R8
	JGE  tailb4
	BF16PAIRS4(DI, R13, BX, DX)
	B4_BCAST(0)
	B4_FMAS(Z16, Z17, Z18, Z19)
	B4_BCAST(4)
	B4_FMAS(Z24, Z25, Z26, Z27)
	ADDQ $64, DI
	ADDQ $64, R13
	ADDQ $64, BX
	ADDQ $64, DX
	ADDQ $2, AX
	JMP  loopb4
tailb4:
	CMPQ AX, CX
	JGE  doneb4
	BF16PAIRS4(DI, R13, BX, DX)
	B4_BCAST(0)
	B4_FMAS(Z16, Z17, Z18, Z19)
doneb4:
	MOVQ cp+32(FP), AX
	Z16_STORE
	VZEROUPPER
	RET

// func gemmZ3x64(ap *[3]*float32, p *float32, pstride int, k int, cp *[3]*float32)
// gemmZ4 (64 columns) for 3 rows.
TEXT ·gemmZ3x64(SB), NOSPLIT, $0-40
	MOVQ ap+0(FP), AX
	MOVQ 0(AX), SI
	MOVQ 8(AX), R10
	MOVQ 16(AX), R11
	MOVQ p+8(FP), DI
	MOVQ pstride+16(FP), R9
	SHLQ $2, R9
	MOVQ k+24(FP), CX
	LEAQ (DI)(R9*1), R13
	LEAQ (R13)(R9*1), BX
	LEAQ (BX)(R9*1), DX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	XORQ AX, AX
loopz3:
	CMPQ AX, CX
	JGE  donez3
	VMOVUPS      (DI), Z16
	VMOVUPS      (R13), Z17
	VMOVUPS      (BX), Z18
	VMOVUPS      (DX), Z19
	VBROADCASTSS (SI)(AX*4), Z20
	VBROADCASTSS (R10)(AX*4), Z21
	VBROADCASTSS (R11)(AX*4), Z22
	VFMADD231PS  Z16, Z20, Z0
	VFMADD231PS  Z17, Z20, Z1
	VFMADD231PS  Z18, Z20, Z2
	VFMADD231PS  Z19, Z20, Z3
	VFMADD231PS  Z16, Z21, Z4
	VFMADD231PS  Z17, Z21, Z5
	VFMADD231PS  Z18, Z21, Z6
	VFMADD231PS  Z19, Z21, Z7
	VFMADD231PS  Z16, Z22, Z8
	VFMADD231PS  Z17, Z22, Z9
	VFMADD231PS  Z18, Z22, Z10
	VFMADD231PS  Z19, Z22, Z11
	ADDQ         $64, DI
	ADDQ         $64, R13
	ADDQ         $64, BX
	ADDQ         $64, DX
	INCQ         AX
	JMP          loopz3
donez3:
	MOVQ    cp+32(FP), AX
	MOVQ    0(AX), DX
	VMOVUPS Z0, (DX)
	VMOVUPS Z1, 64(DX)
	VMOVUPS Z2, 128(DX)
	VMOVUPS Z3, 192(DX)
	MOVQ    8(AX), DX
	VMOVUPS Z4, (DX)
	VMOVUPS Z5, 64(DX)
	VMOVUPS Z6, 128(DX)
	VMOVUPS Z7, 192(DX)
	MOVQ    16(AX), DX
	VMOVUPS Z8, (DX)
	VMOVUPS Z9, 64(DX)
	VMOVUPS Z10, 128(DX)
	VMOVUPS Z11, 192(DX)
	VZEROUPPER
	RET

// func gemmZ2x64(ap *[2]*float32, p *float32, pstride int, k int, cp *[2]*float32)
// gemmZ4 (64 columns) for 2 rows.
TEXT ·gemmZ2x64(SB), NOSPLIT, $0-40
	MOVQ ap+0(FP), AX
	MOVQ 0(AX), SI
	MOVQ 8(AX), R10
	MOVQ p+8(FP), DI
	MOVQ pstride+16(FP), R9
	SHLQ $2, R9
	MOVQ k+24(FP), CX
	LEAQ (DI)(R9*1), R13
	LEAQ (R13)(R9*1), BX
	LEAQ (BX)(R9*1), DX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	XORQ AX, AX
loopz2:
	CMPQ AX, CX
	JGE  donez2
	VMOVUPS      (DI), Z16
	VMOVUPS      (R13), Z17
	VMOVUPS      (BX), Z18
	VMOVUPS      (DX), Z19
	VBROADCASTSS (SI)(AX*4), Z20
	VBROADCASTSS (R10)(AX*4), Z21
	VFMADD231PS  Z16, Z20, Z0
	VFMADD231PS  Z17, Z20, Z1
	VFMADD231PS  Z18, Z20, Z2
	VFMADD231PS  Z19, Z20, Z3
	VFMADD231PS  Z16, Z21, Z4
	VFMADD231PS  Z17, Z21, Z5
	VFMADD231PS  Z18, Z21, Z6
	VFMADD231PS  Z19, Z21, Z7
	ADDQ         $64, DI
	ADDQ         $64, R13
	ADDQ         $64, BX
	ADDQ         $64, DX
	INCQ         AX
	JMP          loopz2
donez2:
	MOVQ    cp+32(FP), AX
	MOVQ    0(AX), DX
	VMOVUPS Z0, (DX)
	VMOVUPS Z1, 64(DX)
	VMOVUPS Z2, 128(DX)
	VMOVUPS Z3, 192(DX)
	MOVQ    8(AX), DX
	VMOVUPS Z4, (DX)
	VMOVUPS Z5, 64(DX)
	VMOVUPS Z6, 128(DX)
	VMOVUPS Z7, 192(DX)
	VZEROUPPER
	RET


// func gemmZ4s(ap *[4]*float32, b *float32, ldb int, k int, cp *[4]*float32, cols int)
// Four rows of a against the row-major k×cols block b (rows ldb elements
// apart) with AVX-512: c_r[j] = sum_p a_r[p]·b[p][j] for j < cols, where
// cols is 64, 24 or 16, each column summed in order of p like
// gemm4x16 (one FMA chain per entry), so that every width gives the same
// bits. It is the attention's Gemm: the scores of a query group against
// the transposed keys (64- and 16-column blocks) and the softmax weights
// against the values (24 columns, one head).
#define ZS_ROW1(r, z, a0) VBROADCASTSS (r)(AX*4), z; VFMADD231PS Z16, z, a0
TEXT ·gemmZ4s(SB), NOSPLIT, $0-48
	MOVQ ap+0(FP), AX
	MOVQ 0(AX), SI; MOVQ 8(AX), R10; MOVQ 16(AX), R11; MOVQ 24(AX), R12
	MOVQ b+8(FP), DI
	MOVQ ldb+16(FP), R9
	SHLQ $2, R9
	MOVQ k+24(FP), CX
	MOVQ cols+40(FP), DX
	XORQ AX, AX
	CMPQ DX, $64
	JEQ  zs64
	CMPQ DX, $24
	JEQ  zs24
	// 16 columns: four accumulators.
	VPXORD Z0, Z0, Z0; VPXORD Z1, Z1, Z1; VPXORD Z2, Z2, Z2; VPXORD Z3, Z3, Z3
zs16loop:
	CMPQ AX, CX
	JGE  zs16done
	VMOVUPS (DI), Z16
	ZS_ROW1(SI, Z20, Z0)
	ZS_ROW1(R10, Z21, Z1)
	ZS_ROW1(R11, Z22, Z2)
	ZS_ROW1(R12, Z23, Z3)
	ADDQ R9, DI
	INCQ AX
	JMP  zs16loop
zs16done:
	MOVQ cp+32(FP), AX
	MOVQ 0(AX), DX; VMOVUPS Z0, (DX); MOVQ 8(AX), DX; VMOVUPS Z1, (DX)
	MOVQ 16(AX), DX; VMOVUPS Z2, (DX); MOVQ 24(AX), DX; VMOVUPS Z3, (DX)
	VZEROUPPER
	RET
zs24:
	// 24 columns: a 16-wide and an 8-wide accumulator per row.
	VPXORD Z0, Z0, Z0; VPXORD Z1, Z1, Z1; VPXORD Z2, Z2, Z2; VPXORD Z3, Z3, Z3
	VXORPS Y4, Y4, Y4; VXORPS Y5, Y5, Y5; VXORPS Y6, Y6, Y6; VXORPS Y7, Y7, Y7
zs24loop:
	CMPQ AX, CX
	JGE  zs24done
	VMOVUPS (DI), Z16; VMOVUPS 64(DI), Y17
	B4_BCAST(0)
	VFMADD231PS Z16, Z20, Z0; VFMADD231PS Y17, Y20, Y4; VFMADD231PS Z16, Z21, Z1; VFMADD231PS Y17, Y21, Y5
	VFMADD231PS Z16, Z22, Z2; VFMADD231PS Y17, Y22, Y6; VFMADD231PS Z16, Z23, Z3; VFMADD231PS Y17, Y23, Y7
	ADDQ         R9, DI
	INCQ         AX
	JMP          zs24loop
zs24done:
	MOVQ cp+32(FP), AX
	ROWS4_STORE2(Z0, Y4, Z1, Y5, Z2, Y6, Z3, Y7)
	VZEROUPPER
	RET
zs64:
	Z16_ZERO
zs64loop:
	CMPQ AX, CX
	JGE  zs64done
	VMOVUPS      (DI), Z16
	VMOVUPS      64(DI), Z17
	VMOVUPS      128(DI), Z18
	VMOVUPS      192(DI), Z19
	B4_BCAST(0)
	B4_FMAS(Z16, Z17, Z18, Z19)
	ADDQ         R9, DI
	INCQ         AX
	JMP          zs64loop
zs64done:
	MOVQ cp+32(FP), AX
	Z16_STORE
	VZEROUPPER
	RET

// EXPC_Z broadcasts the exponential's constants (expc) for 16 lanes:
// log2 e into Z15, ln 2 into Z14, the polynomial's 1 ... 1/720 into
// Z11-Z6 and the exponent bias into Z5.
#define EXPC_Z \
	VBROADCASTSS expc<>+0(SB), Z15; VBROADCASTSS expc<>+4(SB), Z14 \
	VBROADCASTSS expc<>+16(SB), Z11; VBROADCASTSS expc<>+20(SB), Z10; VBROADCASTSS expc<>+24(SB), Z9 \
	VBROADCASTSS expc<>+28(SB), Z8; VBROADCASTSS expc<>+32(SB), Z7; VBROADCASTSS expc<>+36(SB), Z6 \
	VPBROADCASTD expc<>+40(SB), Z5

// func expShiftSumZ(x, bias *float32, n16 int) (mx, sum float32)
// ExpShiftSum on AVX-512 for a row of n16 entries (a positive multiple
// of 16) in one call: x += bias first where bias is not nil (the
// attention mask as additive scores), the maximum, then x[i] = e^(x[i]-max) in place by
// expSubSum's method and coefficients, two vectors per iteration
// (arguments below -87, -Inf included, give 0), and the sum of the
// results.
TEXT ·expShiftSumZ(SB), NOSPLIT, $0-32
	MOVQ    x+0(FP), SI
	MOVQ    bias+8(FP), DI
	MOVQ    n16+16(FP), CX
	TESTQ   DI, DI
	JNZ     zbias
	VMOVUPS (SI), Z0
	MOVQ    $16, AX
zmaxloop:
	CMPQ   AX, CX
	JGE    zmaxdone
	VMAXPS (SI)(AX*4), Z0, Z0
	ADDQ   $16, AX
	JMP    zmaxloop
zbias:
	// x += bias while taking the maximum.
	VMOVUPS (SI), Z0
	VADDPS  (DI), Z0, Z0
	VMOVUPS Z0, (SI)
	MOVQ    $16, AX
zbiasloop:
	CMPQ    AX, CX
	JGE     zmaxdone
	VMOVUPS (SI)(AX*4), Z1
	VADDPS  (DI)(AX*4), Z1, Z1
	VMOVUPS Z1, (SI)(AX*4)
	VMAXPS  Z1, Z0, Z0
	ADDQ    $16, AX
	JMP     zbiasloop
zmaxdone:
	VEXTRACTF64X4 $1, Z0, Y1
	VMAXPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VMAXPS        X1, X0, X0
	VPERMILPS     $0x4e, X0, X1
	VMAXPS        X1, X0, X0
	VPERMILPS     $0xb1, X0, X1
	VMAXPS        X1, X0, X0
	VMOVSS        X0, mx+24(FP)
	VBROADCASTSS  X0, Z12
	EXPC_Z
	VBROADCASTSS  negc<>+0(SB), Z4
	VPXORD        Z13, Z13, Z13
	VPXORD        Z29, Z29, Z29
	XORQ          AX, AX
	// Two vectors per iteration while 32 entries remain.
	MOVQ CX, DX
	ANDQ $~31, DX
zexploop2:
	CMPQ AX, DX
	JGE  zexptail
	VMOVUPS     (SI)(AX*4), Z0
	VMOVUPS     64(SI)(AX*4), Z16
	VSUBPS      Z12, Z0, Z0
	VSUBPS      Z12, Z16, Z16
	VCMPPS      $1, Z4, Z0, K1
	VCMPPS      $1, Z4, Z16, K2
	VMULPS      Z15, Z0, Z1
	VMULPS      Z15, Z16, Z17
	VRNDSCALEPS $0, Z1, Z2
	VRNDSCALEPS $0, Z17, Z18
	VSUBPS      Z2, Z1, Z1
	VSUBPS      Z18, Z17, Z17
	VMULPS      Z14, Z1, Z1
	VMULPS      Z14, Z17, Z17
	VMOVAPS     Z6, Z3
	VMOVAPS     Z6, Z19
	VFMADD213PS Z7, Z1, Z3
	VFMADD213PS Z7, Z17, Z19
	VFMADD213PS Z8, Z1, Z3
	VFMADD213PS Z8, Z17, Z19
	VFMADD213PS Z9, Z1, Z3
	VFMADD213PS Z9, Z17, Z19
	VFMADD213PS Z10, Z1, Z3
	VFMADD213PS Z10, Z17, Z19
	VFMADD213PS Z11, Z1, Z3
	VFMADD213PS Z11, Z17, Z19
	VFMADD213PS Z11, Z1, Z3
	VFMADD213PS Z11, Z17, Z19
	VCVTPS2DQ   Z2, Z2
	VCVTPS2DQ   Z18, Z18
	VPADDD      Z5, Z2, Z2
	VPADDD      Z5, Z18, Z18
	VPSLLD      $23, Z2, Z2
	VPSLLD      $23, Z18, Z18
	VMULPS      Z2, Z3, Z3
	VMULPS      Z18, Z19, Z19
	VPXORD      Z3, Z3, K1, Z3
	VPXORD      Z19, Z19, K2, Z19
	VMOVUPS     Z3, (SI)(AX*4)
	VMOVUPS     Z19, 64(SI)(AX*4)
	VADDPS      Z3, Z13, Z13
	VADDPS      Z19, Z29, Z29
	ADDQ        $32, AX
	JMP         zexploop2
zexptail:
	CMPQ AX, CX
	JGE  zexpdone
	VMOVUPS     (SI)(AX*4), Z0
	VSUBPS      Z12, Z0, Z0
	VCMPPS      $1, Z4, Z0, K1
	VMULPS      Z15, Z0, Z1
	VRNDSCALEPS $0, Z1, Z2
	VSUBPS      Z2, Z1, Z1
	VMULPS      Z14, Z1, Z1
	VMOVAPS     Z6, Z3
	VFMADD213PS Z7, Z1, Z3
	VFMADD213PS Z8, Z1, Z3
	VFMADD213PS Z9, Z1, Z3
	VFMADD213PS Z10, Z1, Z3
	VFMADD213PS Z11, Z1, Z3
	VFMADD213PS Z11, Z1, Z3
	VCVTPS2DQ   Z2, Z2
	VPADDD      Z5, Z2, Z2
	VPSLLD      $23, Z2, Z2
	VMULPS      Z2, Z3, Z3
	VPXORD      Z3, Z3, K1, Z3
	VMOVUPS     Z3, (SI)(AX*4)
	VADDPS      Z3, Z13, Z13
	ADDQ        $16, AX
	JMP         zexptail
zexpdone:
	VADDPS        Z29, Z13, Z13
	VEXTRACTF64X4 $1, Z13, Y1
	VADDPS        Y1, Y13, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	VHADDPS       X0, X0, X0
	VHADDPS       X0, X0, X0
	VMOVSS        X0, sum+28(FP)
	VZEROUPPER
	RET

// func addVec(dst, src *float32, n8 int)
// dst[i] += src[i] for i < n8 (a multiple of 8): the residual add.
TEXT ·addVec(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI; MOVQ src+8(FP), SI; MOVQ n8+16(FP), CX
	XORQ AX, AX
loopadd:
	CMPQ    AX, CX
	JGE     doneadd
	VMOVUPS (DI)(AX*4), Y0
	VADDPS  (SI)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     loopadd
doneadd:
	VZEROUPPER
	RET

// SILU_Z computes siluMul's result for 16 lanes of a (za), b at boff(R8)
// and writes it at off(DI): the same operations, in the same order, as
// the AVX2 loop, so each entry is the same bits. Constants as set up by
// siluMulZ; t1-t4 are scratch and k the mask register.
#define SILU_Z(off, za, t1, t2, t3, t4, k) \
	VSUBPS      za, Z13, t4 \
	VCMPPS      $1, Z4, t4, k \
	VMINPS      Z12, t4, t4 \
	VMULPS      Z15, t4, t1 \
	VRNDSCALEPS $0, t1, t2 \
	VSUBPS      t2, t1, t1 \
	VMULPS      Z14, t1, t1 \
	VMOVAPS     Z6, t3 \
	VFMADD213PS Z7, t1, t3 \
	VFMADD213PS Z8, t1, t3 \
	VFMADD213PS Z9, t1, t3 \
	VFMADD213PS Z10, t1, t3 \
	VFMADD213PS Z11, t1, t3 \
	VFMADD213PS Z11, t1, t3 \
	VCVTPS2DQ   t2, t2 \
	VPADDD      Z5, t2, t2 \
	VPSLLD      $23, t2, t2 \
	VMULPS      t2, t3, t3 \
	VPXORD      t3, t3, k, t3 \
	VADDPS      Z11, t3, t3 \
	VMULPS      off(R8)(AX*4), za, za \
	VDIVPS      t3, za, za \
	VMOVUPS     za, off(DI)(AX*4)

// func siluMulZ(a, b, out *float32, n32 int)
// siluMul on AVX-512 for n32 entries (a multiple of 32), two vectors per
// iteration.
TEXT ·siluMulZ(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), SI; MOVQ b+8(FP), R8; MOVQ out+16(FP), DI; MOVQ n32+24(FP), CX
	EXPC_Z
	VBROADCASTSS expc<>+12(SB), Z12
	VBROADCASTSS negc<>+0(SB), Z4
	VPXORD       Z13, Z13, Z13
	XORQ         AX, AX
loopsmz:
	CMPQ    AX, CX
	JGE     donesmz
	VMOVUPS (SI)(AX*4), Z0
	VMOVUPS 64(SI)(AX*4), Z16
	SILU_Z(0, Z0, Z1, Z2, Z3, Z17, K1)
	SILU_Z(64, Z16, Z18, Z19, Z20, Z21, K2)
	ADDQ    $32, AX
	JMP     loopsmz
donesmz:
	VZEROUPPER
	RET

// func gemmP3x32(ap *[3]*float32, p *float32, pstride int, k int, cp *[3]*float32)
// Three rows against two consecutive packed 16-column panels (pstride
// elements apart) on AVX2: twelve accumulators, each panel vector loaded
// once and used by the three rows, so that a three-row pass does not pad
// to the four-row tile (gemm4x16), whose fourth row would be wasted. Each
// sum runs in order of p with one FMA per term, as in every packed tile.
TEXT ·gemmP3x32(SB), NOSPLIT, $0-40
	MOVQ ap+0(FP), AX
	MOVQ 0(AX), SI
	MOVQ 8(AX), R10
	MOVQ 16(AX), R11
	MOVQ p+8(FP), DI
	MOVQ pstride+16(FP), R9
	SHLQ $2, R9
	MOVQ k+24(FP), CX
	LEAQ (DI)(R9*1), R13
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	XORQ AX, AX
	TESTQ CX, CX
	JLE  donep3
loopp3:
	VBROADCASTSS (SI)(AX*4), Y13
	VBROADCASTSS (R10)(AX*4), Y14
	VBROADCASTSS (R11)(AX*4), Y15
	VMOVUPS      (DI), Y12
	VFMADD231PS  Y12, Y13, Y0
	VFMADD231PS  Y12, Y14, Y4
	VFMADD231PS  Y12, Y15, Y8
	VMOVUPS      32(DI), Y12
	VFMADD231PS  Y12, Y13, Y1
	VFMADD231PS  Y12, Y14, Y5
	VFMADD231PS  Y12, Y15, Y9
	VMOVUPS      (R13), Y12
	VFMADD231PS  Y12, Y13, Y2
	VFMADD231PS  Y12, Y14, Y6
	VFMADD231PS  Y12, Y15, Y10
	VMOVUPS      32(R13), Y12
	VFMADD231PS  Y12, Y13, Y3
	VFMADD231PS  Y12, Y14, Y7
	VFMADD231PS  Y12, Y15, Y11
	ADDQ         $64, DI
	ADDQ         $64, R13
	INCQ         AX
	CMPQ         AX, CX
	JLT          loopp3
donep3:
	MOVQ    cp+32(FP), AX
	MOVQ    0(AX), DX
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VMOVUPS Y3, 96(DX)
	MOVQ    8(AX), DX
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	VMOVUPS Y6, 64(DX)
	VMOVUPS Y7, 96(DX)
	MOVQ    16(AX), DX
	VMOVUPS Y8, (DX)
	VMOVUPS Y9, 32(DX)
	VMOVUPS Y10, 64(DX)
	VMOVUPS Y11, 96(DX)
	VZEROUPPER
	RET

// BF16Y widens the pair-row at off(base) of a bfloat16 panel half (8
// lanes, columns c..c+7) into the float32 rows 2q (lo) and 2q+1 (hi):
// the low halves shifted up, the high halves masked (Y15 holds
// 0xffff0000 in every lane).
#define BF16Y(base, off, lo, hi) \
	VMOVDQU off(base), lo \
	VPAND   lo, Y15, hi   \
	VPSLLD  $16, lo, lo

// BF16Y_PANEL multiplies one pair-row of a panel (16 columns) by the
// broadcasts Y12 (row 2q) and Y13 (row 2q+1) into a0 (columns 0..7) and
// a1 (8..15), row 2q's term first.
#define BF16Y_PANEL(base, a0, a1) \
	BF16Y(base, 0, Y8, Y9)      \
	BF16Y(base, 32, Y10, Y11)   \
	VFMADD231PS Y8, Y12, a0     \
	VFMADD231PS Y10, Y12, a1    \
	VFMADD231PS Y9, Y13, a0     \
	VFMADD231PS Y11, Y13, a1

// func bf16Y1x64(a *float32, p *uint16, pstride int, k int, c *float32, acc int)
// One row against four consecutive bfloat16 panels (pstride elements
// apart) on AVX2: the one-row draft pass, bound by the memory traffic
// that bfloat16 halves. Each sum runs in order of p with one FMA per
// term, as bf16Z1x64 does, so the two give the same bits. With acc
// nonzero the sums start from c's entries instead of 0: the rest of a
// product whose first inputs' partial sums c already holds, with the
// bits of the whole product in one call.
TEXT ·bf16Y1x64(SB), NOSPLIT, $0-48
	MOVQ a+0(FP), SI
	MOVQ p+8(FP), DI
	MOVQ pstride+16(FP), R9
	SHLQ $1, R9
	MOVQ k+24(FP), CX
	MOVQ c+32(FP), DX
	LEAQ (DI)(R9*1), R10
	LEAQ (R10)(R9*1), R11
	LEAQ (R11)(R9*1), R12
	VPCMPEQD Y15, Y15, Y15
	VPSLLD   $16, Y15, Y15
	MOVQ acc+40(FP), AX
	TESTQ AX, AX
	JZ   zeroy1
	VMOVUPS (DX), Y0
	VMOVUPS 32(DX), Y1
	VMOVUPS 64(DX), Y2
	VMOVUPS 96(DX), Y3
	VMOVUPS 128(DX), Y4
	VMOVUPS 160(DX), Y5
	VMOVUPS 192(DX), Y6
	VMOVUPS 224(DX), Y7
	JMP  starty1
zeroy1:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
starty1:
	MOVQ CX, R8
	ANDQ $~1, R8
	XORQ AX, AX
loopy1:
	CMPQ AX, R8
	JGE  taily1
	VBROADCASTSS (SI)(AX*4), Y12
	VBROADCASTSS 4(SI)(AX*4), Y13
	BF16Y_PANEL(DI, Y0, Y1)
	BF16Y_PANEL(R10, Y2, Y3)
	BF16Y_PANEL(R11, Y4, Y5)
	BF16Y_PANEL(R12, Y6, Y7)
	ADDQ         $64, DI
	ADDQ         $64, R10
	ADDQ         $64, R11
	ADDQ         $64, R12
	ADDQ         $2, AX
	JMP          loopy1
taily1:
	CMPQ AX, CX
	JGE  doney1
	// An odd k: the last pair's high halves are zero; only row 2q adds.
	VBROADCASTSS (SI)(AX*4), Y12
	BF16Y(DI, 0, Y8, Y9)
	BF16Y(DI, 32, Y10, Y11)
	VFMADD231PS Y8, Y12, Y0
	VFMADD231PS Y10, Y12, Y1
	BF16Y(R10, 0, Y8, Y9)
	BF16Y(R10, 32, Y10, Y11)
	VFMADD231PS Y8, Y12, Y2
	VFMADD231PS Y10, Y12, Y3
	BF16Y(R11, 0, Y8, Y9)
	BF16Y(R11, 32, Y10, Y11)
	VFMADD231PS Y8, Y12, Y4
	VFMADD231PS Y10, Y12, Y5
	BF16Y(R12, 0, Y8, Y9)
	BF16Y(R12, 32, Y10, Y11)
	VFMADD231PS Y8, Y12, Y6
	VFMADD231PS Y10, Y12, Y7
doney1:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VMOVUPS Y3, 96(DX)
	VMOVUPS Y4, 128(DX)
	VMOVUPS Y5, 160(DX)
	VMOVUPS Y6, 192(DX)
	VMOVUPS Y7, 224(DX)
	VZEROUPPER
	RET

// func ropeScale(dst, src, cs, sn *float32, w int, n int, scale float32)
// RopeScale's vector path: n heads of w floats (w a positive multiple of
// 8), 8 floats (4 pairs) a step. x·cs gives (a·c, b·c), the pair-swapped
// x times sn gives (b·s, a·s), VADDSUBPS subtracts in the even lanes and
// adds in the odd ones, and the result is scaled: each operation rounded
// as in the scalar code.
TEXT ·ropeScale(SB), NOSPLIT, $0-52
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         cs+16(FP), R8
	MOVQ         sn+24(FP), R9
	MOVQ         w+32(FP), CX
	MOVQ         n+40(FP), DX
	VBROADCASTSS scale+48(FP), Y7
	SHLQ         $2, CX
ropehead:
	TESTQ DX, DX
	JZ    ropedone
	XORQ  AX, AX
ropeloop:
	VMOVUPS   (SI)(AX*1), Y0
	VPERMILPS $0xb1, Y0, Y1
	VMULPS    (R8)(AX*1), Y0, Y0
	VMULPS    (R9)(AX*1), Y1, Y1
	VADDSUBPS Y1, Y0, Y0
	VMULPS    Y7, Y0, Y0
	VMOVUPS   Y0, (DI)(AX*1)
	ADDQ      $32, AX
	CMPQ      AX, CX
	JL        ropeloop
	ADDQ      CX, SI
	ADDQ      CX, DI
	DECQ      DX
	JMP       ropehead
ropedone:
	VZEROUPPER
	RET
