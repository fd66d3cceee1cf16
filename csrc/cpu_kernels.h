/* cpu_kernels.h: per-chunk CPU kernels behind the built-in VEDA kernels.
 *
 * Callers (goveda/internal/cpukern through cgo, and bench/c) call each function once per chunk
 * of work, never once per element: a Go->C call costs about 45 ns. The parallel split, the
 * argument checks and the combination of partial results are the caller's job; these functions
 * trust their arguments.
 *
 * Every symbol here is hidden (never exported from libveda.so) and none is named veda_*: that
 * prefix is reserved for the public ABI in include/veda.h.
 *
 * Portability: the library runs on any x86-64 (and any other GCC/Clang target). Hot loops are
 * compiled twice, once for the baseline ISA and once with target("avx2,fma") on x86-64, and
 * the AVX2+FMA copy is chosen at run time with cpuid. There is no global -march flag.
 *
 * Determinism: the block sums use a fixed lane structure (16 lanes, compensated with TwoSum)
 * that does not depend on the ISA copy, so a block's result is bit-identical on every machine.
 *
 * Thread-safety: every function is reentrant and may run on any number of threads at once on
 * disjoint outputs. Cost notes are per element unless stated.
 */
#ifndef VEDA_CPU_KERNELS_H
#define VEDA_CPU_KERNELS_H

#include <stdint.h>

#if defined(__GNUC__)
#define CK_HIDDEN __attribute__((visibility("hidden")))
#else
#define CK_HIDDEN
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Element kinds for the strided sums. */
enum { CK_F32 = 0, CK_F64 = 1 };

/* ck_isa returns 1 when the AVX2+FMA copies run, 0 for the baseline copies. Any thread.
 * ck_force_isa(level) overrides the cpuid choice (tests only: 0 = baseline, 1 = AVX2+FMA if the
 * CPU has it, -1 = back to cpuid); not safe while kernels run on other threads. */
CK_HIDDEN int ck_isa(void);
CK_HIDDEN void ck_force_isa(int level);

/* ck_saxpy_f32 computes y[i] = a*x[i] + y[i] for i in [0, n). x and y may be unaligned; they must
 * not overlap unless x == y. n <= 0 does nothing. */
CK_HIDDEN void ck_saxpy_f32(int64_t n, float a, const float *x, float *y);

/* Block sums. The range [0, n) of x is cut into blocks of `block` elements (the last block may be
 * shorter); for each block b in [b0, b1) the compensated sum is written as a double-double
 * hi[b-b0] + lo[b-b0] (|lo| <= ulp(hi)/2). Within a block: 16 lanes, each a TwoSum (Knuth)
 * running sum plus an error term, combined in a fixed order. f32 inputs are widened to f64
 * (exactly) first. The error of a block is about eps*|sum| + block*eps^2*sum|x|. */
CK_HIDDEN void ck_sum_f64_blocks(const double *x, int64_t n, int64_t block, int64_t b0, int64_t b1,
                                 double *hi, double *lo);
CK_HIDDEN void ck_sum_f32_blocks(const float *x, int64_t n, int64_t block, int64_t b0, int64_t b1,
                                 double *hi, double *lo);

/* ck_dot_f32_blocks is ck_sum_f64_blocks over the exact f64 products x[i]*y[i]. */
CK_HIDDEN void ck_dot_f32_blocks(const float *x, const float *y, int64_t n, int64_t block,
                                 int64_t b0, int64_t b1, double *hi, double *lo);

/* CK_MAX_DIMS is the most dimensions ck_sum_strided takes: the one source of that limit (goveda's
 * MaxStridedDims and the C ABI's check read it through cgo; veda.h documents it). */
enum { CK_MAX_DIMS = 32 };

/* ck_sum_strided sums the logical elements [start, end) (C order) of an ndim-dimensional array at
 * base with the given shape and byte strides (any sign), elements of kind CK_F32 or CK_F64,
 * compensated as above, into *hi + *lo. ndim in [1, CK_MAX_DIMS]. A run along the last dimension whose
 * stride equals the element size uses the vector block kernel. */
CK_HIDDEN void ck_sum_strided(const void *base, int kind, int ndim, const int64_t *shape,
                              const int64_t *strides, int64_t start, int64_t end, double *hi,
                              double *lo);

/* Sgemm blocking (elements). The caller splits C into tiles; any tile shape works, but tiles whose
 * rows are a multiple of CK_SGEMM_MR and columns a multiple of CK_SGEMM_NR waste no lanes. */
#define CK_SGEMM_MR 6
#define CK_SGEMM_NR 16
#define CK_SGEMM_MC 144
#define CK_SGEMM_KC 256
#define CK_SGEMM_NC 2048

/* ck_sgemm_tile computes the tile rows [i0, i1) x columns [j0, j1) of row-major
 * C = alpha*A*B + beta*C (A is m x k with row stride lda, B is k x n with row stride ldb, C has row
 * stride ldc). beta == 0 overwrites C (NaN included) without reading it; alpha == 0 or k == 0
 * leaves A and B unread. Packs A and B panels into malloc'ed buffers (about 2.2 MB) and runs a
 * 6x16 register-blocked micro-kernel. Returns 0, or -1 if the packing buffers could not be
 * allocated (C is then unchanged). Cost: 2*(i1-i0)*(j1-j0)*k flops. */
CK_HIDDEN int ck_sgemm_tile(int64_t k, float alpha, const float *a, int64_t lda, const float *b,
                            int64_t ldb, float beta, float *c, int64_t ldc, int64_t i0, int64_t i1,
                            int64_t j0, int64_t j1);

/* ck_sgemm_naive is the reference triple loop (tests and benchmarks only). */
CK_HIDDEN void ck_sgemm_naive(int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                              int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                              int64_t ldc);

#ifdef __cplusplus
}
#endif

#endif /* VEDA_CPU_KERNELS_H */
