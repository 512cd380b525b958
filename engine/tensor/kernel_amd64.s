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

// func gemm4x16(a *float32, lda int, bt *float32, ldb int, k int, c *float32, ldc int)
// c[i][j] = sum_p a[i][p]·bt[p][j] for rows i < 4 and columns j < 16: the
// outer-product form, broadcasting one element of each a row against two
// 8-wide vectors of a bt row. Strides are in elements.
TEXT ·gemm4x16(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	SHLQ $2, R8
	MOVQ bt+16(FP), DI
	MOVQ ldb+24(FP), R9
	SHLQ $2, R9
	MOVQ k+32(FP), CX
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R13
	SHLQ $2, R13
	LEAQ (SI)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	LEAQ (R11)(R8*1), R12
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
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	ADDQ    R13, DX
	VMOVUPS Y2, (DX)
	VMOVUPS Y3, 32(DX)
	ADDQ    R13, DX
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	ADDQ    R13, DX
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
