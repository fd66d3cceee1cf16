/* bench_kernels.c: VEDA's CPU kernels against peers measured in the same run.
 *
 *   sgemm GFLOP/s: our C kernel on one thread, libveda's veda_sgemm (its worker pool), a naive
 *                  triple loop, OpenBLAS cblas_sgemm on 1 thread and on the pool's thread count;
 *   sum of f64 and saxpy (GB/s): our C kernel on one thread, a plain loop, libveda, OpenMP and
 *                  oneTBB on the same thread count.
 *
 * Each figure is the median of REPS runs after one warm-up; ratios are against the named peer.
 * libveda.so is loaded with dlopen (path in argv[1]); without it, its column says why it is absent.
 * Build and run: bench/run.sh (gcc -O3 -fopenmp, g++ for tbb_peer.cpp, -lopenblas -ltbb).
 * Usage: bench_kernels [libveda.so] [threads] [quick]
 */
#define _GNU_SOURCE
#include "../../csrc/cpu_kernels.c"

#include <cblas.h>
#include <dlfcn.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <time.h>

extern void openblas_set_num_threads(int);
double tbb_sum_f64(const double *x, int64_t n, int threads);
void tbb_saxpy_f32(int64_t n, float a, const float *x, float *y, int threads);

/* --- libveda through dlopen (types mirror include/veda.h) */
typedef struct {
    uint32_t struct_size;
    int32_t num_workers;
    int32_t policy;
    uint64_t seed;
    char pad[256]; /* later fields */
} vcfg;
static struct {
    void *rt;
    void (*config_init)(vcfg *);
    int (*create)(const vcfg *, void **);
    int (*destroy)(void *);
    int (*sgemm)(void *, int64_t, int64_t, int64_t, float, const float *, int64_t, const float *,
                 int64_t, float, float *, int64_t);
    int (*sum)(void *, int64_t, const double *, double *);
    int (*saxpy)(void *, int64_t, float, const float *, float *);
    int (*workers)(void *);
} veda;

static const char *veda_open(const char *path, int threads) {
    static char why[512];
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(why, sizeof why, "%s", dlerror());
        return why;
    }
    veda.config_init = dlsym(h, "veda_config_init");
    veda.create = dlsym(h, "veda_runtime_create");
    veda.destroy = dlsym(h, "veda_runtime_destroy");
    veda.sgemm = dlsym(h, "veda_sgemm");
    veda.sum = dlsym(h, "veda_sum_f64");
    veda.saxpy = dlsym(h, "veda_saxpy_f32");
    veda.workers = dlsym(h, "veda_runtime_num_workers");
    if (!veda.config_init || !veda.create || !veda.sgemm || !veda.sum || !veda.saxpy) {
        return "a veda_* symbol is missing";
    }
    vcfg cfg;
    memset(&cfg, 0, sizeof cfg);
    veda.config_init(&cfg);
    cfg.num_workers = threads;
    if (veda.create(&cfg, &veda.rt) != 0) {
        return "veda_runtime_create failed";
    }
    return NULL;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int REPS = 5;
static volatile double sink;

/* TIME(stmt) evaluates to the median seconds of REPS runs of stmt, after one warm-up. */
#define TIME(stmt)                                                                               \
    ({                                                                                           \
        double ts_[64];                                                                          \
        stmt;                                                                                    \
        for (int r_ = 0; r_ < REPS; r_++) {                                                      \
            double t0_ = now();                                                                  \
            stmt;                                                                                \
            ts_[r_] = now() - t0_;                                                               \
        }                                                                                        \
        qsort(ts_, REPS, sizeof(double), cmpd);                                                  \
        ts_[REPS / 2];                                                                           \
    })

static void fill(float *p, int64_t n, unsigned seed) {
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)((seed >> 8) & 0xffff) / 65536.0f - 0.5f;
    }
}

static void ours_sgemm_1t(int n, const float *a, const float *b, float *c) {
    ck_sgemm_tile(n, 1.0f, a, n, b, n, 0.0f, c, n, 0, n, 0, n);
}

static double maxdiff(const float *x, const float *y, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)x[i] - (double)y[i]);
        m = d > m ? d : m;
    }
    return m;
}

static void bench_sgemm(int n, int threads, const char *noveda, int quick) {
    int64_t nn = (int64_t)n * n;
    float *a = malloc(nn * 4), *b = malloc(nn * 4), *c = malloc(nn * 4), *ref = malloc(nn * 4);
    fill(a, nn, 1);
    fill(b, nn, 2);
    double fl = 2.0 * n * n * n;
    int reps = REPS;
    double t_veda = NAN, err = 0;
    if (!noveda) { /* first, before OpenBLAS's threads start spinning */
        /* calibration: libveda measures its own kernel and the vendor BLAS (twice each per size
         * bucket) and then keeps the faster; the timed runs are what a calibrated process gets */
        for (int i = 0; i < 6; i++) veda.sgemm(veda.rt, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        t_veda = TIME(veda.sgemm(veda.rt, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n));
    }
    openblas_set_num_threads(1);
    double t_blas1 = TIME(cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, ref, n));
    openblas_set_num_threads(threads);
    double t_blasT = TIME(cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, ref, n));
    /* libveda dlopen()ed this same libopenblas.so.0 and runs it one thread per worker: give the
     * library back the one thread it had before the peer's runs */
    openblas_set_num_threads(1);
    if (!noveda) {
        err = maxdiff(c, ref, nn); /* veda's result vs OpenBLAS's */
    }
    double t_ours = TIME(ours_sgemm_1t(n, a, b, c));
    double e2 = maxdiff(c, ref, nn);
    err = e2 > err ? e2 : err;
    double t_naive = NAN;
    if (!quick || n <= 512) {
        REPS = n > 512 ? 1 : 3;
        t_naive = TIME(ck_sgemm_naive(n, n, n, 1.0f, a, n, b, n, 0.0f, c, n));
        REPS = reps;
    }
    if (isnan(t_naive)) printf("# naive %d x %d skipped in quick mode (BENCH_QUICK=0 runs it once)\n", n, n);
    printf("sgemm %4d  ours-1t %7.1f  veda-%dw %7.1f  naive %6.2f  openblas-1t %7.1f  openblas-%dt %7.1f GFLOP/s"
           "  | ours/naive %6.1fx  ours-1t/openblas-1t %.2f  veda/openblas-%dt %.2f  (max |diff| vs openblas %.1e)\n",
           n, fl / t_ours / 1e9, threads, fl / t_veda / 1e9, fl / t_naive / 1e9, fl / t_blas1 / 1e9, threads,
           fl / t_blasT / 1e9, t_naive / t_ours, t_blas1 / t_ours, threads, t_blasT / t_veda, err);
    free(a), free(b), free(c), free(ref);
}

static double plain_sum(const double *x, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += x[i];
    return s;
}
static double omp_sum(const double *x, int64_t n, int threads) {
    double s = 0;
#pragma omp parallel for reduction(+ : s) num_threads(threads) schedule(static)
    for (int64_t i = 0; i < n; i++) s += x[i];
    return s;
}
static double ours_sum_1t(const double *x, int64_t n) {
    enum { B = 1 << 14 };
    static double hi[1 << 16], lo[1 << 16];
    int64_t nb = (n + B - 1) / B;
    ck_sum_f64_blocks(x, n, B, 0, nb, hi, lo);
    double s = 0;
    for (int64_t i = 0; i < nb; i++) s += hi[i] + lo[i];
    return s;
}
static void plain_saxpy(int64_t n, float a, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = a * x[i] + y[i];
}
static void omp_saxpy(int64_t n, float a, const float *x, float *y, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < n; i++) y[i] = a * x[i] + y[i];
}

static void bench_streams(int64_t n, int threads, const char *noveda) {
    double *x = malloc(n * 8);
    for (int64_t i = 0; i < n; i++) x[i] = 1.0 / (double)(i + 1);
    double gb = n * 8 / 1e9, vs = 0;
    double t_veda = NAN; /* first: OpenMP's and TBB's threads spin for a while after their runs */
    if (!noveda) t_veda = TIME(veda.sum(veda.rt, n, x, &vs));
    double t_plain = TIME(sink = plain_sum(x, n));
    double t_ours = TIME(sink = ours_sum_1t(x, n));
    double t_omp = TIME(sink = omp_sum(x, n, threads));
    double t_tbb = TIME(sink = tbb_sum_f64(x, n, threads));
    printf("sum_f64 n=%.0e  plain %.1f  ours-1t %.1f  veda-%dw %.1f  openmp-%dt %.1f  tbb-%dt %.1f GB/s"
           "  | veda/plain %.2fx  veda/openmp %.2f  veda/tbb %.2f  ours-1t/plain %.2f\n",
           (double)n, gb / t_plain, gb / t_ours, threads, gb / t_veda, threads, gb / t_omp, threads, gb / t_tbb,
           t_plain / t_veda, t_omp / t_veda, t_tbb / t_veda, t_plain / t_ours);
    free(x);

    int64_t m = n / 2;
    float *xf = malloc(m * 4), *yf = malloc(m * 4);
    fill(xf, m, 3);
    fill(yf, m, 4);
    gb = m * 12 / 1e9;
    t_veda = NAN;
    if (!noveda) t_veda = TIME(veda.saxpy(veda.rt, m, 1.0001f, xf, yf));
    t_plain = TIME(plain_saxpy(m, 1.0001f, xf, yf));
    t_ours = TIME(ck_saxpy_f32(m, 1.0001f, xf, yf));
    t_omp = TIME(omp_saxpy(m, 1.0001f, xf, yf, threads));
    t_tbb = TIME(tbb_saxpy_f32(m, 1.0001f, xf, yf, threads));
    printf("saxpy   n=%.0e  plain %.1f  ours-1t %.1f  veda-%dw %.1f  openmp-%dt %.1f  tbb-%dt %.1f GB/s"
           "  | veda/plain %.2fx  veda/openmp %.2f  veda/tbb %.2f\n",
           (double)m, gb / t_plain, gb / t_ours, threads, gb / t_veda, threads, gb / t_omp, threads, gb / t_tbb,
           t_plain / t_veda, t_omp / t_veda, t_tbb / t_veda);
    free(xf), free(yf);
}

int main(int argc, char **argv) {
    const char *lib = argc > 1 ? argv[1] : "build/libveda.so";
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    int quick = argc > 3 && strcmp(argv[3], "quick") == 0;
    if (quick) REPS = 3;
    const char *noveda = veda_open(lib, threads);
    printf("# cpu kernels: %s copy; %d threads for the parallel columns; median of %d runs\n",
           ck_isa() ? "AVX2+FMA" : "baseline", threads, REPS);
    if (!noveda && veda.workers) printf("# libveda runtime: %d workers\n", veda.workers(veda.rt));
    if (noveda) printf("# libveda column skipped: %s\n", noveda);
    bench_sgemm(512, threads, noveda, quick);
    bench_sgemm(1024, threads, noveda, quick);
    bench_streams(quick ? 50000000 : 100000000, threads, noveda);
    if (!noveda && veda.destroy) veda.destroy(veda.rt);
    return 0;
}
