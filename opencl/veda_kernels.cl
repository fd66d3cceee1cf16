/* veda_kernels.cl: VEDA's built-in kernels in OpenCL C 1.2.
 *
 * Build options set by the host:
 *   -DVEDA_FP64=1   when the device has cl_khr_fp64: f32 sums accumulate in
 *                   double and sum_f64 exists. Without it, sums are compensated
 *                   (TwoSum) float pairs and the host combines them in double.
 * Reductions run a fixed number of work-groups (chosen by the host from n and
 * the device only) with a fixed tree inside each group; the host adds the
 * group partials in index order. A device's result is therefore the same run
 * to run. All kernels take element counts as long and handle any n. */

#ifdef VEDA_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

/* y[i] = a*x[i] + y[i] for i < n. */
__kernel void saxpy_f32(const long n, const float a, __global const float *x, __global float *y) {
    long i = get_global_id(0);
    if (i < n) y[i] = a * x[i] + y[i];
}

#ifdef VEDA_FP64

#define VEDA_REDUCE_DOUBLE(scratch, acc, out)                               \
    do {                                                                    \
        size_t lid = get_local_id(0);                                       \
        scratch[lid] = acc;                                                 \
        barrier(CLK_LOCAL_MEM_FENCE);                                       \
        for (size_t s = get_local_size(0) / 2; s > 0; s >>= 1) {            \
            if (lid < s) scratch[lid] += scratch[lid + s];                  \
            barrier(CLK_LOCAL_MEM_FENCE);                                   \
        }                                                                   \
        if (lid == 0) out[get_group_id(0)] = scratch[0];                    \
    } while (0)

/* partial[g] = sum of x over the grid-stride slice of group g, in double. */
__kernel void sum_f32(const long n, __global const float *x, __global double *partial, __local double *scratch) {
    long gs = get_global_size(0);
    double acc = 0.0;
    for (long i = get_global_id(0); i < n; i += gs) acc += (double)x[i];
    VEDA_REDUCE_DOUBLE(scratch, acc, partial);
}

__kernel void sum_f64(const long n, __global const double *x, __global double *partial, __local double *scratch) {
    long gs = get_global_size(0);
    double acc = 0.0;
    for (long i = get_global_id(0); i < n; i += gs) acc += x[i];
    VEDA_REDUCE_DOUBLE(scratch, acc, partial);
}

__kernel void dot_f32(const long n, __global const float *x, __global const float *y, __global double *partial,
                      __local double *scratch) {
    long gs = get_global_size(0);
    double acc = 0.0;
    for (long i = get_global_id(0); i < n; i += gs) acc += (double)x[i] * (double)y[i];
    VEDA_REDUCE_DOUBLE(scratch, acc, partial);
}

/* out[0] = partial[0] + ... + partial[groups-1], added in index order from 0.0 by one
 * work-item: the same additions as the host's, so a reduction whose result stays on the device
 * is bit-identical to the one read back. */
__kernel void combine_f64(const long groups, __global const double *partial, __global double *out) {
    if (get_global_id(0) != 0) return;
    double s = 0.0;
    for (long i = 0; i < groups; i++) s += partial[i];
    out[0] = s;
}

#else /* no fp64: compensated float pairs (s, e), value = s + e */

inline float2 veda_two_sum_add(float2 a, float x) {
    float t = a.x + x;
    float bp = t - a.x;
    float err = (a.x - (t - bp)) + (x - bp);
    return (float2)(t, a.y + err);
}

inline float2 veda_two_sum_merge(float2 a, float2 b) {
    float2 r = veda_two_sum_add(a, b.x);
    r.y += b.y;
    return r;
}

#define VEDA_REDUCE_PAIR(scratch, acc, out)                                 \
    do {                                                                    \
        size_t lid = get_local_id(0);                                       \
        scratch[lid] = acc;                                                 \
        barrier(CLK_LOCAL_MEM_FENCE);                                       \
        for (size_t s = get_local_size(0) / 2; s > 0; s >>= 1) {            \
            if (lid < s) scratch[lid] = veda_two_sum_merge(scratch[lid], scratch[lid + s]); \
            barrier(CLK_LOCAL_MEM_FENCE);                                   \
        }                                                                   \
        if (lid == 0) out[get_group_id(0)] = scratch[0];                    \
    } while (0)

__kernel void sum_f32(const long n, __global const float *x, __global float2 *partial, __local float2 *scratch) {
    long gs = get_global_size(0);
    float2 acc = (float2)(0.0f, 0.0f);
    for (long i = get_global_id(0); i < n; i += gs) acc = veda_two_sum_add(acc, x[i]);
    VEDA_REDUCE_PAIR(scratch, acc, partial);
}

__kernel void dot_f32(const long n, __global const float *x, __global const float *y, __global float2 *partial,
                      __local float2 *scratch) {
    long gs = get_global_size(0);
    float2 acc = (float2)(0.0f, 0.0f);
    for (long i = get_global_id(0); i < n; i += gs) {
        float p = x[i] * y[i];
        float e = fma(x[i], y[i], -p); /* exact product = p + e */
        acc = veda_two_sum_add(acc, p);
        acc.y += e;
    }
    VEDA_REDUCE_PAIR(scratch, acc, partial);
}

#endif

/* sgemm_f32: C = alpha*A*B + beta*C, row-major, A m x k (lda), B k x n (ldb),
 * C m x n (ldc). 16x16 tiles staged through local memory; global size is m and
 * n rounded up to 16 (dimension 0 = column). beta == 0 never reads C. */
#define VEDA_TS 16
__kernel __attribute__((reqd_work_group_size(VEDA_TS, VEDA_TS, 1)))
void sgemm_f32(const int m, const int n, const int k, const float alpha, __global const float *A, const int lda,
               __global const float *B, const int ldb, const float beta, __global float *C, const int ldc) {
    __local float As[VEDA_TS][VEDA_TS];
    __local float Bs[VEDA_TS][VEDA_TS + 1];
    const int col = get_global_id(0), row = get_global_id(1);
    const int lc = get_local_id(0), lr = get_local_id(1);
    float acc = 0.0f;
    for (int t = 0; t < k; t += VEDA_TS) {
        int ac = t + lc, br = t + lr;
        As[lr][lc] = (row < m && ac < k) ? A[(long)row * lda + ac] : 0.0f;
        Bs[lr][lc] = (br < k && col < n) ? B[(long)br * ldb + col] : 0.0f;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < VEDA_TS; kk++) acc += As[lr][kk] * Bs[kk][lc];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (row < m && col < n) {
        long ci = (long)row * ldc + col;
        C[ci] = (beta == 0.0f) ? alpha * acc : alpha * acc + beta * C[ci];
    }
}
