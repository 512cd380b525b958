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
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	XORQ AX, AX
loopz4:
	CMPQ AX, CX
	JGE  donez4
	VMOVUPS      (DI), Z16
	VMOVUPS      (R13), Z17
	VMOVUPS      (BX), Z18
	VMOVUPS      (DX), Z19
	VBROADCASTSS (SI)(AX*4), Z20
	VBROADCASTSS (R10)(AX*4), Z21
	VBROADCASTSS (R11)(AX*4), Z22
	VBROADCASTSS (R12)(AX*4), Z23
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
	VFMADD231PS  Z16, Z23, Z12
	VFMADD231PS  Z17, Z23, Z13
	VFMADD231PS  Z18, Z23, Z14
	VFMADD231PS  Z19, Z23, Z15
	ADDQ         $64, DI
	ADDQ         $64, R13
	ADDQ         $64, BX
	ADDQ         $64, DX
	INCQ         AX
	JMP          loopz4
donez4:
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
	MOVQ    24(AX), DX
	VMOVUPS Z12, (DX)
	VMOVUPS Z13, 64(DX)
	VMOVUPS Z14, 128(DX)
	VMOVUPS Z15, 192(DX)
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
	MOVQ    cp+32(FP), AX
	MOVQ    0(AX), DX
	VMOVUPS Z0, (DX); VMOVUPS Z1, 64(DX)
	MOVQ    8(AX), DX
	VMOVUPS Z2, (DX); VMOVUPS Z3, 64(DX)
	MOVQ    16(AX), DX
	VMOVUPS Z4, (DX); VMOVUPS Z5, 64(DX)
	MOVQ    24(AX), DX
	VMOVUPS Z6, (DX); VMOVUPS Z7, 64(DX)
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
// of a float32): VPMOVZXWD widens 16 of them to 32-bit lanes and VPSLLD
// shifts them into place, which is their exact float32 value. Rows of a
// and c stay float32, and every column is summed in order of p.

#define BF16LOAD(off, base, Z) \
	VPMOVZXWD off(base), Z \
	VPSLLD    $16, Z, Z

// func bf16Z1x64(a *float32, p *uint16, pstride int, k int, c *float32)
// One row against four consecutive bf16 panels (pstride elements apart).
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
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	XORQ AX, AX
loopb1:
	CMPQ AX, CX
	JGE  doneb1
	BF16LOAD(0, DI, Z16)
	BF16LOAD(0, R10, Z17)
	BF16LOAD(0, R11, Z18)
	BF16LOAD(0, R12, Z19)
	VBROADCASTSS (SI)(AX*4), Z20
	VFMADD231PS  Z16, Z20, Z0
	VFMADD231PS  Z17, Z20, Z1
	VFMADD231PS  Z18, Z20, Z2
	VFMADD231PS  Z19, Z20, Z3
	ADDQ         $32, DI
	ADDQ         $32, R10
	ADDQ         $32, R11
	ADDQ         $32, R12
	INCQ         AX
	JMP          loopb1
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
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	XORQ AX, AX
loopb2:
	CMPQ AX, CX
	JGE  doneb2
	BF16LOAD(0, DI, Z16)
	BF16LOAD(0, R10, Z17)
	BF16LOAD(0, R11, Z18)
	BF16LOAD(0, R12, Z19)
	VBROADCASTSS (SI)(AX*4), Z20
	VBROADCASTSS (R8)(AX*4), Z21
	VFMADD231PS  Z16, Z20, Z0
	VFMADD231PS  Z17, Z20, Z1
	VFMADD231PS  Z18, Z20, Z2
	VFMADD231PS  Z19, Z20, Z3
	VFMADD231PS  Z16, Z21, Z4
	VFMADD231PS  Z17, Z21, Z5
	VFMADD231PS  Z18, Z21, Z6
	VFMADD231PS  Z19, Z21, Z7
	ADDQ         $32, DI
	ADDQ         $32, R10
	ADDQ         $32, R11
	ADDQ         $32, R12
	INCQ         AX
	JMP          loopb2
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
// Four rows against four consecutive bf16 panels: gemmZ4 on bf16.
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
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	XORQ AX, AX
loopb4:
	CMPQ AX, CX
	JGE  doneb4
	BF16LOAD(0, DI, Z16)
	BF16LOAD(0, R13, Z17)
	BF16LOAD(0, BX, Z18)
	BF16LOAD(0, DX, Z19)
	VBROADCASTSS (SI)(AX*4), Z20
	VBROADCASTSS (R10)(AX*4), Z21
	VBROADCASTSS (R11)(AX*4), Z22
	VBROADCASTSS (R12)(AX*4), Z23
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
	VFMADD231PS  Z16, Z23, Z12
	VFMADD231PS  Z17, Z23, Z13
	VFMADD231PS  Z18, Z23, Z14
	VFMADD231PS  Z19, Z23, Z15
	ADDQ         $32, DI
	ADDQ         $32, R13
	ADDQ         $32, BX
	ADDQ         $32, DX
	INCQ         AX
	JMP          loopb4
doneb4:
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
	MOVQ    24(AX), DX
	VMOVUPS Z12, (DX)
	VMOVUPS Z13, 64(DX)
	VMOVUPS Z14, 128(DX)
	VMOVUPS Z15, 192(DX)
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

