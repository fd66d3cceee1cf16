/* cpu_kernels.c: per-chunk CPU kernels (see cpu_kernels.h for the contract of each function).
 *
 * Layout of this file:
 *   1. ISA dispatch: every hot kernel body is an always-inline function; two thin wrappers
 *      instantiate it, one plain (baseline ISA) and one with target("avx2,fma"); ck_isa picks one
 *      with cpuid once. GCC vector extensions (not intrinsics) keep one body for both copies.
 *   2. Compensated block sums (sum f64/f32, dot f32) and the strided sum.
 *   3. Saxpy.
 *   4. Sgemm: BLIS-style loops (jc by NC, pc by KC with B packed, ic by MC with A packed, then
 *      6x16 micro-tiles), the micro-kernel holding 12 8-float accumulators.
 *
 * Build: -O3, no -ffast-math (it would delete the TwoSum compensation). No -march flag.
 */
#include "cpu_kernels.h"

#include <stdlib.h>
#include <string.h>

#define CK_INLINE static inline __attribute__((always_inline))

#if defined(__x86_64__) || defined(__i386__)
#define CK_HAVE_AVX2_COPY 1
#define CK_TARGET_AVX2 __attribute__((target("avx2,fma")))
#else
#define CK_HAVE_AVX2_COPY 0
#endif

/* ---------------------------------------------------------------- 1. ISA dispatch */

/* ck_level: -1 = not probed yet, 0 = baseline, 1 = AVX2+FMA. Relaxed atomics: every prober
 * computes the same value, so a racing first probe is harmless. */
static int ck_level = -1;
static int ck_forced = -1;

CK_HIDDEN int ck_isa(void) {
    int f = __atomic_load_n(&ck_forced, __ATOMIC_RELAXED);
    int l = __atomic_load_n(&ck_level, __ATOMIC_RELAXED);
    if (l < 0) {
#if CK_HAVE_AVX2_COPY
        __builtin_cpu_init();
        l = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
        l = 0;
#endif
        __atomic_store_n(&ck_level, l, __ATOMIC_RELAXED);
    }
    if (f >= 0 && f < l) {
        return f;
    }
    return l;
}

CK_HIDDEN void ck_force_isa(int level) { __atomic_store_n(&ck_forced, level, __ATOMIC_RELAXED); }

/* CK_INSTANCES defines name_avx2 and name_base, both instances of name_body; CK_PICK(name)
 * chooses one for this CPU. */
#if CK_HAVE_AVX2_COPY
#define CK_INSTANCES(ret, name, params, args)                                                    \
    CK_TARGET_AVX2 static ret name##_avx2 params { return name##_body args; }                  \
    static ret name##_base params { return name##_body args; }
#define CK_INSTANCES_VOID(name, params, args)                                                    \
    CK_TARGET_AVX2 static void name##_avx2 params { name##_body args; }                        \
    static void name##_base params { name##_body args; }
#define CK_PICK(name) (ck_isa() ? name##_avx2 : name##_base)
#else
#define CK_INSTANCES(ret, name, params, args)                                                    \
    static ret name##_base params { return name##_body args; }
#define CK_INSTANCES_VOID(name, params, args) static void name##_base params { name##_body args; }
#define CK_PICK(name) (name##_base)
#endif

/* ---------------------------------------------------------------- 2. compensated sums */

typedef double v4d __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));
typedef float v8f __attribute__((vector_size(32)));

CK_INLINE v4d load4d(const double *p) {
    v4d v;
    memcpy(&v, p, sizeof v);
    return v;
}

CK_INLINE v4d load4f(const float *p) {
    v4f v;
    memcpy(&v, p, sizeof v);
    return __builtin_convertvector(v, v4d);
}

/* TwoSum (Knuth): s + v = t + e exactly; e is added to the lane's error term c. 6 flops, no
 * branches, exact for any rounding-to-nearest inputs without overflow. */
#define CK_TWOSUM_ACC(s, c, v)                                                                   \
    do {                                                                                         \
        v4d t_ = (s) + (v);                                                                      \
        v4d bp_ = t_ - (s);                                                                      \
        (c) += ((s) - (t_ - bp_)) + ((v) - bp_);                                                 \
        (s) = t_;                                                                                \
    } while (0)

/* dd: a double-double accumulator hi + lo. */
typedef struct {
    double hi, lo;
} dd;

CK_INLINE void dd_add1(dd *a, double x) {
    double t = a->hi + x;
    double bp = t - a->hi;
    a->lo += (a->hi - (t - bp)) + (x - bp);
    a->hi = t;
}

CK_INLINE void dd_add(dd *a, double hi, double lo) {
    dd_add1(a, hi);
    a->lo += lo;
}

/* dd_norm returns a with |lo| <= ulp(hi)/2 (FastTwoSum of hi and lo). */
CK_INLINE dd dd_norm(dd a) {
    dd r;
    r.hi = a.hi + a.lo;
    r.lo = a.lo - (r.hi - a.hi);
    return r;
}

/* lanes_fold folds 16 lane sums s[] and errors c[] in a fixed order. */
CK_INLINE dd lanes_fold(const v4d s[4], const v4d c[4]) {
    dd a = {0.0, 0.0};
    double err = 0.0;
    for (int v = 0; v < 4; v++) {
        for (int l = 0; l < 4; l++) {
            dd_add1(&a, s[v][l]);
            err += c[v][l];
        }
    }
    a.lo += err;
    return a;
}

/* CK_BLOCK_SUM_BODY: the 16-lane compensated loop; LOAD(i) yields the v4d of elements i..i+3 and
 * ELEM(i) the scalar element i. Result in the dd named acc. */
#define CK_BLOCK_SUM_BODY(n, LOAD, ELEM)                                                         \
    v4d s_[4] = {{0}}, c_[4] = {{0}};                                                            \
    int64_t i_ = 0;                                                                              \
    for (; i_ + 16 <= (n); i_ += 16) {                                                           \
        v4d x0 = LOAD(i_), x1 = LOAD(i_ + 4), x2 = LOAD(i_ + 8), x3 = LOAD(i_ + 12);           \
        CK_TWOSUM_ACC(s_[0], c_[0], x0);                                                         \
        CK_TWOSUM_ACC(s_[1], c_[1], x1);                                                         \
        CK_TWOSUM_ACC(s_[2], c_[2], x2);                                                         \
        CK_TWOSUM_ACC(s_[3], c_[3], x3);                                                         \
    }                                                                                            \
    dd acc = lanes_fold(s_, c_);                                                                 \
    for (; i_ < (n); i_++) {                                                                     \
        dd_add1(&acc, ELEM(i_));                                                                 \
    }                                                                                            \
    acc = dd_norm(acc);

#define CK_LD_F64(i) load4d(x + (i))
#define CK_EL_F64(i) x[i]
#define CK_LD_F32(i) load4f(x + (i))
#define CK_EL_F32(i) ((double)x[i])
#define CK_LD_DOT(i) (load4f(x + (i)) * load4f(y + (i)))
#define CK_EL_DOT(i) ((double)x[i] * (double)y[i])

CK_INLINE dd sum_f64_block_body(const double *x, int64_t n) {
    CK_BLOCK_SUM_BODY(n, CK_LD_F64, CK_EL_F64)
    return acc;
}
CK_INLINE dd sum_f32_block_body(const float *x, int64_t n) {
    CK_BLOCK_SUM_BODY(n, CK_LD_F32, CK_EL_F32)
    return acc;
}
/* Products of two floats are exact in double, so contracting them into an FMA changes nothing. */
CK_INLINE dd dot_f32_block_body(const float *x, const float *y, int64_t n) {
    CK_BLOCK_SUM_BODY(n, CK_LD_DOT, CK_EL_DOT)
    return acc;
}

CK_INSTANCES(dd, sum_f64_block, (const double *x, int64_t n), (x, n))
CK_INSTANCES(dd, sum_f32_block, (const float *x, int64_t n), (x, n))
CK_INSTANCES(dd, dot_f32_block, (const float *x, const float *y, int64_t n), (x, y, n))

CK_HIDDEN void ck_sum_f64_blocks(const double *x, int64_t n, int64_t block, int64_t b0, int64_t b1,
                                 double *hi, double *lo) {
    dd (*f)(const double *, int64_t) = CK_PICK(sum_f64_block);
    for (int64_t b = b0; b < b1; b++) {
        int64_t s = b * block, e = s + block < n ? s + block : n;
        dd r = f(x + s, e - s);
        hi[b - b0] = r.hi;
        lo[b - b0] = r.lo;
    }
}

CK_HIDDEN void ck_sum_f32_blocks(const float *x, int64_t n, int64_t block, int64_t b0, int64_t b1,
                                 double *hi, double *lo) {
    dd (*f)(const float *, int64_t) = CK_PICK(sum_f32_block);
    for (int64_t b = b0; b < b1; b++) {
        int64_t s = b * block, e = s + block < n ? s + block : n;
        dd r = f(x + s, e - s);
        hi[b - b0] = r.hi;
        lo[b - b0] = r.lo;
    }
}

CK_HIDDEN void ck_dot_f32_blocks(const float *x, const float *y, int64_t n, int64_t block,
                                 int64_t b0, int64_t b1, double *hi, double *lo) {
    dd (*f)(const float *, const float *, int64_t) = CK_PICK(dot_f32_block);
    for (int64_t b = b0; b < b1; b++) {
        int64_t s = b * block, e = s + block < n ? s + block : n;
        dd r = f(x + s, y + s, e - s);
        hi[b - b0] = r.hi;
        lo[b - b0] = r.lo;
    }
}

/* strided_run sums len elements starting at p, stride bytes apart (4 scalar TwoSum lanes). */
static dd strided_run(const char *p, int kind, int64_t len, int64_t stride) {
    double s[4] = {0, 0, 0, 0}, c[4] = {0, 0, 0, 0};
    int64_t i = 0;
#define CK_ELEM(q) (kind == CK_F64 ? *(const double *)(q) : (double)*(const float *)(q))
    for (; i + 4 <= len; i += 4) {
        for (int l = 0; l < 4; l++) {
            double v = CK_ELEM(p + (i + l) * stride);
            double t = s[l] + v, bp = t - s[l];
            c[l] += (s[l] - (t - bp)) + (v - bp);
            s[l] = t;
        }
    }
    dd acc = {0.0, 0.0};
    for (int l = 0; l < 4; l++) {
        dd_add(&acc, s[l], c[l]);
    }
    for (; i < len; i++) {
        dd_add1(&acc, CK_ELEM(p + i * stride));
    }
#undef CK_ELEM
    return acc;
}

CK_HIDDEN void ck_sum_strided(const void *base, int kind, int ndim, const int64_t *shape,
                              const int64_t *strides, int64_t start, int64_t end, double *hi,
                              double *lo) {
    int64_t idx[CK_MAX_DIMS];
    int last = ndim - 1;
    int64_t esize = kind == CK_F64 ? 8 : 4;
    dd acc = {0.0, 0.0};
    if (ndim < 1 || ndim > CK_MAX_DIMS || start >= end) {
        *hi = 0.0;
        *lo = 0.0;
        return;
    }
    for (int64_t r = start, d = last; d >= 0; d--) { /* unravel start, C order */
        idx[d] = r % shape[d];
        r /= shape[d];
    }
    dd (*f64)(const double *, int64_t) = CK_PICK(sum_f64_block);
    dd (*f32)(const float *, int64_t) = CK_PICK(sum_f32_block);
    int64_t pos = start;
    while (pos < end) {
        const char *p = (const char *)base;
        for (int d = 0; d <= last; d++) {
            p += idx[d] * strides[d];
        }
        int64_t len = shape[last] - idx[last];
        if (len > end - pos) {
            len = end - pos;
        }
        dd r;
        if (strides[last] == esize) {
            r = kind == CK_F64 ? f64((const double *)p, len) : f32((const float *)p, len);
        } else {
            r = strided_run(p, kind, len, strides[last]);
        }
        dd_add(&acc, r.hi, r.lo);
        pos += len;
        idx[last] += len;
        for (int d = last; d > 0 && idx[d] >= shape[d]; d--) { /* carry */
            idx[d] = 0;
            idx[d - 1]++;
        }
    }
    acc = dd_norm(acc);
    *hi = acc.hi;
    *lo = acc.lo;
}

/* ---------------------------------------------------------------- 3. saxpy */

CK_INLINE void saxpy_body(int64_t n, float a, const float *restrict x, float *restrict y) {
    for (int64_t i = 0; i < n; i++) {
        y[i] = a * x[i] + y[i];
    }
}
/* x == y is allowed (y = (a+1)*y): the separate in-place instance keeps restrict honest. */
CK_INLINE void saxpy_alias_body(int64_t n, float a, float *y) {
    for (int64_t i = 0; i < n; i++) {
        y[i] = a * y[i] + y[i];
    }
}
CK_INSTANCES_VOID(saxpy, (int64_t n, float a, const float *restrict x, float *restrict y),
                  (n, a, x, y))
CK_INSTANCES_VOID(saxpy_alias, (int64_t n, float a, float *y), (n, a, y))

CK_HIDDEN void ck_saxpy_f32(int64_t n, float a, const float *x, float *y) {
    if (n <= 0) {
        return;
    }
    if (x == y) {
        CK_PICK(saxpy_alias)(n, a, y);
        return;
    }
    CK_PICK(saxpy)(n, a, x, y);
}

/* ---------------------------------------------------------------- 4. sgemm */

enum { MR = CK_SGEMM_MR, NR = CK_SGEMM_NR, MC = CK_SGEMM_MC, KC = CK_SGEMM_KC, NC = CK_SGEMM_NC };

/* pack_a copies A[0:mc, 0:kc] (row stride lda) into MR-row slivers: sliver s holds, for each p,
 * the MR values A[s*MR + r][p] side by side; rows past mc are zero. */
CK_INLINE void pack_a(int64_t mc, int64_t kc, const float *a, int64_t lda, float *ap) {
    for (int64_t ir = 0; ir < mc; ir += MR) {
        int64_t mr = mc - ir < MR ? mc - ir : MR;
        const float *as = a + ir * lda;
        if (mr == MR) {
            for (int64_t p = 0; p < kc; p++) {
                for (int r = 0; r < MR; r++) {
                    ap[r] = as[r * lda + p];
                }
                ap += MR;
            }
        } else {
            for (int64_t p = 0; p < kc; p++) {
                for (int r = 0; r < MR; r++) {
                    ap[r] = r < mr ? as[r * lda + p] : 0.0f;
                }
                ap += MR;
            }
        }
    }
}

/* pack_b copies B[0:kc, 0:nc] (row stride ldb) into NR-column slivers: sliver s holds, for each
 * p, B[p][s*NR .. s*NR+NR); columns past nc are zero. */
CK_INLINE void pack_b(int64_t kc, int64_t nc, const float *b, int64_t ldb, float *bp) {
    for (int64_t jr = 0; jr < nc; jr += NR) {
        int64_t nr = nc - jr < NR ? nc - jr : NR;
        const float *bs = b + jr;
        if (nr == NR) {
            for (int64_t p = 0; p < kc; p++) {
                memcpy(bp, bs + p * ldb, NR * sizeof(float));
                bp += NR;
            }
        } else {
            for (int64_t p = 0; p < kc; p++) {
                int64_t c = 0;
                for (; c < nr; c++) {
                    bp[c] = bs[p * ldb + c];
                }
                for (; c < NR; c++) {
                    bp[c] = 0.0f;
                }
                bp += NR;
            }
        }
    }
}

CK_INLINE v8f load8(const float *p) {
    v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}
CK_INLINE void store8(float *p, v8f v) { memcpy(p, &v, sizeof v); }

/* ukernel: C[0:mr, 0:nr] += alpha * Ap(sliver) * Bp(sliver) over kc. ap and bp are packed
 * slivers (bp 64-byte aligned). 12 accumulators of 8 floats; with FMA, 12 fused multiply-adds,
 * 2 loads and 6 broadcasts per p. */
CK_INLINE void ukernel(int64_t kc, const float *restrict ap, const float *restrict bp, float *c,
                       int64_t ldc, float alpha, int64_t mr, int64_t nr) {
    v8f c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};
    v8f c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
    for (int64_t p = 0; p < kc; p++) {
        v8f b0 = *(const v8f *)bp, b1 = *(const v8f *)(bp + 8);
        v8f a;
        a = (v8f){0} + ap[0];
        c00 += a * b0;
        c01 += a * b1;
        a = (v8f){0} + ap[1];
        c10 += a * b0;
        c11 += a * b1;
        a = (v8f){0} + ap[2];
        c20 += a * b0;
        c21 += a * b1;
        a = (v8f){0} + ap[3];
        c30 += a * b0;
        c31 += a * b1;
        a = (v8f){0} + ap[4];
        c40 += a * b0;
        c41 += a * b1;
        a = (v8f){0} + ap[5];
        c50 += a * b0;
        c51 += a * b1;
        ap += MR;
        bp += NR;
    }
    v8f acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    v8f va = (v8f){0} + alpha;
    if (mr == MR && nr == NR) {
        for (int r = 0; r < MR; r++) {
            float *cr = c + r * ldc;
            store8(cr, load8(cr) + va * acc[r][0]);
            store8(cr + 8, load8(cr + 8) + va * acc[r][1]);
        }
        return;
    }
    float tmp[MR][NR];
    for (int r = 0; r < MR; r++) {
        store8(&tmp[r][0], va * acc[r][0]);
        store8(&tmp[r][8], va * acc[r][1]);
    }
    for (int64_t r = 0; r < mr; r++) {
        for (int64_t j = 0; j < nr; j++) {
            c[r * ldc + j] += tmp[r][j];
        }
    }
}

CK_INLINE void sgemm_panels_body(int64_t k, float alpha, const float *a, int64_t lda,
                                 const float *b, int64_t ldb, float *c, int64_t ldc, int64_t i0,
                                 int64_t i1, int64_t j0, int64_t j1, float *ap, float *bp) {
    for (int64_t jc = j0; jc < j1; jc += NC) {
        int64_t nc = j1 - jc < NC ? j1 - jc : NC;
        for (int64_t pc = 0; pc < k; pc += KC) {
            int64_t kc = k - pc < KC ? k - pc : KC;
            pack_b(kc, nc, b + pc * ldb + jc, ldb, bp);
            for (int64_t ic = i0; ic < i1; ic += MC) {
                int64_t mc = i1 - ic < MC ? i1 - ic : MC;
                pack_a(mc, kc, a + ic * lda + pc, lda, ap);
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    int64_t nr = nc - jr < NR ? nc - jr : NR;
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        int64_t mr = mc - ir < MR ? mc - ir : MR;
                        ukernel(kc, ap + ir * kc, bp + jr * kc, c + (ic + ir) * ldc + jc + jr, ldc,
                                alpha, mr, nr);
                    }
                }
            }
        }
    }
}
CK_INSTANCES_VOID(sgemm_panels,
             (int64_t k, float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
              float *c, int64_t ldc, int64_t i0, int64_t i1, int64_t j0, int64_t j1, float *ap,
              float *bp),
             (k, alpha, a, lda, b, ldb, c, ldc, i0, i1, j0, j1, ap, bp))

static void scale_tile(float beta, float *c, int64_t ldc, int64_t i0, int64_t i1, int64_t j0,
                       int64_t j1) {
    if (beta == 1.0f) {
        return;
    }
    for (int64_t i = i0; i < i1; i++) {
        float *cr = c + i * ldc;
        if (beta == 0.0f) {
            memset(cr + j0, 0, (size_t)(j1 - j0) * sizeof(float)); /* NaN in C is overwritten */
        } else {
            for (int64_t j = j0; j < j1; j++) {
                cr[j] *= beta;
            }
        }
    }
}

CK_HIDDEN int ck_sgemm_tile(int64_t k, float alpha, const float *a, int64_t lda, const float *b,
                            int64_t ldb, float beta, float *c, int64_t ldc, int64_t i0, int64_t i1,
                            int64_t j0, int64_t j1) {
    if (i1 <= i0 || j1 <= j0) {
        return 0;
    }
    if (alpha == 0.0f || k <= 0) {
        scale_tile(beta, c, ldc, i0, i1, j0, j1);
        return 0;
    }
    int64_t nt = j1 - j0 < NC ? j1 - j0 : NC;
    nt = (nt + NR - 1) / NR * NR;
    int64_t kt = k < KC ? k : KC;
    int64_t mt = i1 - i0 < MC ? i1 - i0 : MC;
    mt = (mt + MR - 1) / MR * MR;
    void *ap = NULL, *bp = NULL;
    if (posix_memalign(&ap, 64, (size_t)(mt * kt) * sizeof(float)) != 0) {
        return -1;
    }
    if (posix_memalign(&bp, 64, (size_t)(nt * kt) * sizeof(float)) != 0) {
        free(ap);
        return -1;
    }
    scale_tile(beta, c, ldc, i0, i1, j0, j1);
    CK_PICK(sgemm_panels)(k, alpha, a, lda, b, ldb, c, ldc, i0, i1, j0, j1, (float *)ap, (float *)bp);
    free(ap);
    free(bp);
    return 0;
}

CK_HIDDEN void ck_sgemm_naive(int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                              int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                              int64_t ldc) {
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < n; j++) {
            float acc = 0.0f;
            for (int64_t p = 0; p < k; p++) {
                acc += a[i * lda + p] * b[p * ldb + j];
            }
            float v = alpha * acc;
            c[i * ldc + j] = beta == 0.0f ? v : v + beta * c[i * ldc + j];
        }
    }
}
