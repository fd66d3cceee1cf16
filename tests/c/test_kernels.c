/* test_kernels: deterministic bitwise reduce across 1 and 2 workers (and runs); saxpy, sum and
 * sgemm against sequential references. */
#include <math.h>
#include "vt.h"

#define N 1000003
static double *data;

static int32_t fold_f64(void *ctx, int64_t b, int64_t e, void *acc) {
    const double *x = ctx;
    double s = *(double *)acc;
    for (int64_t i = b; i < e; i++) s += x[i];
    *(double *)acc = s;
    return 0;
}
static void combine_f64(void *ctx, void *acc, const void *other) {
    (void)ctx;
    *(double *)acc += *(const double *)other;
}

/* A 24-byte accumulator (not a power of two) to exercise acc_size. */
struct stats { double sum; double max; int64_t count; };
static int32_t fold_stats(void *ctx, int64_t b, int64_t e, void *acc) {
    const double *x = ctx;
    struct stats *s = acc;
    for (int64_t i = b; i < e; i++) { s->sum += x[i]; if (x[i] > s->max) s->max = x[i]; s->count++; }
    return 0;
}
static void combine_stats(void *ctx, void *acc, const void *other) {
    (void)ctx;
    struct stats *a = acc;
    const struct stats *o = other;
    a->sum += o->sum; if (o->max > a->max) a->max = o->max; a->count += o->count;
}

static uint64_t rng = 88172645463325252ull;
static double rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (double)(rng >> 11) / 9007199254740992.0; }

int main(void) {
    data = malloc(N * sizeof *data);
    for (int i = 0; i < N; i++) data[i] = (rnd() - 0.3) * pow(10.0, (double)(i % 13) - 6);

    /* deterministic reduce: bit-identical across worker counts and runs */
    double results[6];
    int r = 0;
    for (int w = 1; w <= 2; w++) {
        veda_runtime *rt = vt_runtime(w, VEDA_POLICY_DETERMINISTIC);
        for (int run = 0; run < 3; run++) {
            double id = 0.0;
            OK(veda_parallel_reduce(rt, 0, N, 1000, sizeof(double), &id, fold_f64, combine_f64, data, &results[r++]));
        }
        OK(veda_runtime_destroy(rt));
    }
    for (int i = 1; i < 6; i++) CHECK(memcmp(&results[0], &results[i], sizeof(double)) == 0);
    double ref = 0;
    for (int i = 0; i < N; i++) ref += data[i];
    CHECK(fabs(results[0] - ref) <= 1e-9 * fabs(ref) + 1e-9);
    printf("deterministic reduce: %.17g (sequential %.17g)\n", results[0], ref);

    veda_runtime *rt = vt_runtime(2, VEDA_POLICY_ADAPTIVE);
    /* odd-sized accumulator */
    struct stats id = {0, -INFINITY, 0}, st;
    OK(veda_parallel_reduce(rt, 0, N, 0, sizeof st, &id, fold_stats, combine_stats, data, &st));
    CHECK(st.count == N);
    CHECK(fabs(st.sum - ref) <= 1e-9 * fabs(ref) + 1e-9);

    /* sum_f64: bit-identical across worker counts */
    double s1, s2;
    veda_runtime *rt1 = vt_runtime(1, VEDA_POLICY_DETERMINISTIC);
    OK(veda_sum_f64(rt1, N, data, &s1));
    OK(veda_sum_f64(rt, N, data, &s2));
    CHECK(memcmp(&s1, &s2, sizeof s1) == 0);
    CHECK(fabs(s1 - ref) <= 1e-12 * fabs(ref) + 1e-12 || fabs(s1 - ref) <= 1e-9 * fabs(ref));
    OK(veda_runtime_destroy(rt1));

    /* saxpy, odd size and misaligned pointers */
    int n = 100003;
    float *xb = malloc((n + 1) * sizeof(float)), *yb = malloc((n + 1) * sizeof(float));
    float *x = xb + 1, *y = yb + 1, *yref = malloc(n * sizeof(float));
    for (int i = 0; i < n; i++) { x[i] = (float)rnd(); y[i] = yref[i] = (float)rnd(); }
    OK(veda_saxpy_f32(rt, n, 2.5f, x, y));
    long bad = 0;
    for (int i = 0; i < n; i++) bad += fabsf(y[i] - (2.5f * x[i] + yref[i])) > 1e-6f * (1 + fabsf(yref[i]));
    CHECK(bad == 0);

    /* sgemm with leading dimensions larger than the row width */
    int m = 67, nn = 45, k = 33, lda = k + 3, ldb = nn + 1, ldc = nn + 5;
    float *A = malloc(m * lda * sizeof(float)), *B = malloc(k * ldb * sizeof(float));
    float *C = malloc(m * ldc * sizeof(float)), *Cref = malloc(m * ldc * sizeof(float));
    for (int i = 0; i < m * lda; i++) A[i] = (float)rnd() - 0.5f;
    for (int i = 0; i < k * ldb; i++) B[i] = (float)rnd() - 0.5f;
    for (int i = 0; i < m * ldc; i++) C[i] = Cref[i] = (float)rnd();
    for (int i = 0; i < m; i++)
        for (int j = 0; j < nn; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) s += (double)A[i * lda + p] * B[p * ldb + j];
            Cref[i * ldc + j] = (float)(1.5 * s + 0.5 * Cref[i * ldc + j]);
        }
    OK(veda_sgemm(rt, m, nn, k, 1.5f, A, lda, B, ldb, 0.5f, C, ldc));
    bad = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < ldc; j++) {
            float want = Cref[i * ldc + j];
            if (fabsf(C[i * ldc + j] - want) > 1e-4f * (1 + fabsf(want))) bad++;
        }
    CHECK(bad == 0);
    OK(veda_runtime_destroy(rt));
    free(xb); free(yb); free(yref); free(A); free(B); free(C); free(Cref); free(data);
    VT_DONE("test_kernels");
}
