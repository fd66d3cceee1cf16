// Package cpukern is a thin cgo layer over the per-chunk C kernels in csrc/cpu_kernels.c.
//
// Each function makes exactly one C call (about 45 ns) and trusts its arguments: lengths, ranges
// and leading dimensions are checked by the caller (package goveda). Callers pass chunks, never
// single elements. Every function may run on any number of goroutines at once on disjoint
// outputs. Slices handed to C are only read or written during the call (cgo pointer rules hold:
// they contain no Go pointers).
package cpukern

/*
#cgo CFLAGS: -O3 -fvisibility=hidden -Wno-psabi
#include "../../../csrc/cpu_kernels.h"
*/
import "C"

import "unsafe"

// Sgemm blocking constants of the C kernel (elements).
const (
	SgemmMR = C.CK_SGEMM_MR
	SgemmNR = C.CK_SGEMM_NR
	SgemmMC = C.CK_SGEMM_MC
	SgemmKC = C.CK_SGEMM_KC
	SgemmNC = C.CK_SGEMM_NC
)

// MaxDims is the most dimensions SumStrided takes (CK_MAX_DIMS of the C kernel).
const MaxDims = C.CK_MAX_DIMS

// Element kinds for SumStrided.
const (
	KindF32 = C.CK_F32
	KindF64 = C.CK_F64
)

// ISA reports which copy of the kernels runs: 1 for AVX2+FMA, 0 for the baseline ISA.
func ISA() int { return int(C.ck_isa()) }

// ForceISA overrides the cpuid choice (0 baseline, 1 AVX2+FMA when available, -1 cpuid).
// Tests only; do not call while kernels run.
func ForceISA(level int) { C.ck_force_isa(C.int(level)) }

// Saxpy computes y[i] = a*x[i] + y[i] for i < len(y); len(x) >= len(y).
func Saxpy(a float32, x, y []float32) {
	if len(y) == 0 {
		return
	}
	C.ck_saxpy_f32(C.int64_t(len(y)), C.float(a), (*C.float)(unsafe.Pointer(&x[0])), (*C.float)(unsafe.Pointer(&y[0])))
}

// SumF64Blocks writes the compensated sums of blocks [b0, b1) of x (blocks of block elements;
// the last may be shorter) as hi[i] + lo[i], i = b - b0. len(hi), len(lo) >= b1 - b0.
func SumF64Blocks(x []float64, block, b0, b1 int, hi, lo []float64) {
	if b1 <= b0 {
		return
	}
	C.ck_sum_f64_blocks((*C.double)(unsafe.Pointer(&x[0])), C.int64_t(len(x)), C.int64_t(block),
		C.int64_t(b0), C.int64_t(b1), (*C.double)(unsafe.Pointer(&hi[0])), (*C.double)(unsafe.Pointer(&lo[0])))
}

// SumF32Blocks is SumF64Blocks for float32 input (accumulated in float64).
func SumF32Blocks(x []float32, block, b0, b1 int, hi, lo []float64) {
	if b1 <= b0 {
		return
	}
	C.ck_sum_f32_blocks((*C.float)(unsafe.Pointer(&x[0])), C.int64_t(len(x)), C.int64_t(block),
		C.int64_t(b0), C.int64_t(b1), (*C.double)(unsafe.Pointer(&hi[0])), (*C.double)(unsafe.Pointer(&lo[0])))
}

// DotF32Blocks is SumF64Blocks over the exact float64 products x[i]*y[i]; len(y) >= len(x).
func DotF32Blocks(x, y []float32, block, b0, b1 int, hi, lo []float64) {
	if b1 <= b0 {
		return
	}
	C.ck_dot_f32_blocks((*C.float)(unsafe.Pointer(&x[0])), (*C.float)(unsafe.Pointer(&y[0])), C.int64_t(len(x)),
		C.int64_t(block), C.int64_t(b0), C.int64_t(b1), (*C.double)(unsafe.Pointer(&hi[0])), (*C.double)(unsafe.Pointer(&lo[0])))
}

// SumStrided returns the compensated sum hi + lo of the logical elements [start, end) (C order)
// of the array at base with the given shape and byte strides (1 <= len(shape) <= 32). base may
// point to C or Go memory; the caller keeps it alive and valid for every addressed element.
func SumStrided(base unsafe.Pointer, kind int, shape, strides []int64, start, end int) (hi, lo float64) {
	if end <= start {
		return 0, 0
	}
	var h, l C.double
	C.ck_sum_strided(base, C.int(kind), C.int(len(shape)), (*C.int64_t)(unsafe.Pointer(&shape[0])),
		(*C.int64_t)(unsafe.Pointer(&strides[0])), C.int64_t(start), C.int64_t(end), &h, &l)
	return float64(h), float64(l)
}

// SgemmTile computes rows [i0, i1) x columns [j0, j1) of row-major C = alpha*A*B + beta*C with
// inner dimension k. It returns false only if the packing buffers could not be allocated (C is
// then unchanged). a and b may be empty when alpha == 0 or k == 0.
func SgemmTile(k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32,
	c []float32, ldc int, i0, i1, j0, j1 int) bool {
	if i1 <= i0 || j1 <= j0 {
		return true
	}
	var ap, bp *C.float
	if len(a) > 0 {
		ap = (*C.float)(unsafe.Pointer(&a[0]))
	}
	if len(b) > 0 {
		bp = (*C.float)(unsafe.Pointer(&b[0]))
	}
	return C.ck_sgemm_tile(C.int64_t(k), C.float(alpha), ap, C.int64_t(lda), bp, C.int64_t(ldb), C.float(beta),
		(*C.float)(unsafe.Pointer(&c[0])), C.int64_t(ldc), C.int64_t(i0), C.int64_t(i1), C.int64_t(j0), C.int64_t(j1)) == 0
}

// SgemmNaive is the reference triple loop (tests and benchmarks only).
func SgemmNaive(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	var ap, bp *C.float
	if len(a) > 0 {
		ap = (*C.float)(unsafe.Pointer(&a[0]))
	}
	if len(b) > 0 {
		bp = (*C.float)(unsafe.Pointer(&b[0]))
	}
	C.ck_sgemm_naive(C.int64_t(m), C.int64_t(n), C.int64_t(k), C.float(alpha), ap, C.int64_t(lda), bp, C.int64_t(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.int64_t(ldc))
}
