/* veda_peer: the bench/peers workloads through libveda.so (the C ABI), one process.
 * usage: veda_peer THREADS REPS */
#include <stdatomic.h>
#include <sys/resource.h>
#include "veda.h"
#include "workloads.h"

static veda_runtime *rt;

typedef struct fib_arg {
    int n;
    long long r;
} fib_arg;

static int32_t fib_join(void *p) {
    fib_arg *a = p;
    if (a->n < FIB_CUTOFF) {
        a->r = fib_seq(a->n);
        return 0;
    }
    fib_arg x = {a->n - 1, 0}, y = {a->n - 2, 0};
    if (veda_join(rt, fib_join, &x, fib_join, &y) != VEDA_OK) return 1;
    a->r = x.r + y.r;
    return 0;
}

static int32_t fib_group(void *p) {
    fib_arg *a = p;
    if (a->n < FIB_CUTOFF) {
        a->r = fib_seq(a->n);
        return 0;
    }
    fib_arg x = {a->n - 1, 0}, y = {a->n - 2, 0};
    veda_group *g;
    if (veda_group_create(rt, &g) != VEDA_OK) return 1;
    veda_group_spawn(g, fib_group, &x);
    veda_group_spawn(g, fib_group, &y);
    veda_status st = veda_group_wait(g);
    veda_group_destroy(g);
    a->r = x.r + y.r;
    return st != VEDA_OK;
}

static _Atomic long long nq_total;
static int32_t nq_body(void *ctx, int64_t b, int64_t e) {
    (void)ctx;
    long long c = 0;
    for (int64_t t = b; t < e; t++) c += nq_task(NQ_N, (int)t);
    atomic_fetch_add(&nq_total, c);
    return 0;
}

static int32_t sqrt_fold(void *ctx, int64_t b, int64_t e, void *acc) {
    (void)ctx;
    double s = *(double *)acc;
    for (int64_t i = b; i < e; i++) s += sqrt((double)i);
    *(double *)acc = s;
    return 0;
}
static void sqrt_combine(void *ctx, void *acc, const void *other) {
    (void)ctx;
    *(double *)acc += *(const double *)other;
}

static double *tri_out;
static int32_t tri_body(void *ctx, int64_t b, int64_t e) {
    (void)ctx;
    for (int64_t i = b; i < e; i++) tri_out[i] = tri_row(i);
    return 0;
}

static int32_t noop(void *ctx, int64_t b, int64_t e) {
    (void)ctx; (void)b; (void)e;
    return 0;
}

#define MUST(call)                                                                      \
    do {                                                                                \
        veda_status st_ = (call);                                                       \
        if (st_ != VEDA_OK) {                                                           \
            fprintf(stderr, "%s: %s: %s\n", #call, veda_status_string(st_), veda_last_error()); \
            exit(1);                                                                    \
        }                                                                               \
    } while (0)

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2, reps = argc > 2 ? atoi(argv[2]) : 1;
    veda_config cfg;
    veda_config_init(&cfg);
    cfg.num_workers = threads;
    cfg.disable_gpu = 1;
    MUST(veda_runtime_create(&cfg, &rt));
    for (int r = -1; r < reps; r++) { /* r == -1: warm-up, not reported */
        double t0 = bench_now();
        fib_arg a = {FIB_N, 0};
        MUST(fib_join(&a) ? VEDA_ERR_TASK_FAILED : VEDA_OK);
        double t1 = bench_now();
        if (r >= 0) bench_result("fib32", "veda_join", t1 - t0, (double)a.r);

        t0 = bench_now();
        fib_arg g = {FIB_N, 0};
        MUST(fib_group(&g) ? VEDA_ERR_TASK_FAILED : VEDA_OK);
        t1 = bench_now();
        if (r >= 0) bench_result("fib32", "veda_group", t1 - t0, (double)g.r);

        nq_total = 0;
        t0 = bench_now();
        MUST(veda_parallel_for(rt, 0, NQ_N * NQ_N, 1, nq_body, NULL));
        t1 = bench_now();
        if (r >= 0) bench_result("nqueens13", "veda", t1 - t0, (double)nq_total);

        double zero = 0, s = 0;
        t0 = bench_now();
        MUST(veda_parallel_reduce(rt, 0, SQRT_N, 0, sizeof(double), &zero, sqrt_fold, sqrt_combine, NULL, &s));
        t1 = bench_now();
        if (r >= 0) bench_result("sum_sqrt_2e8", "veda", t1 - t0, s);

        tri_out = calloc(TRI_N, sizeof *tri_out);
        t0 = bench_now();
        MUST(veda_parallel_for(rt, 0, TRI_N, 1, tri_body, NULL));
        t1 = bench_now();
        double chk = 0;
        for (int i = 0; i < TRI_N; i++) chk += tri_out[i];
        free(tri_out);
        if (r >= 0) bench_result("triangular", "veda", t1 - t0, chk);

        double lat[LAT_CALLS];
        for (int i = 0; i < LAT_CALLS; i++) {
            bench_sleep_us(LAT_IDLE_US);
            double u0 = bench_now();
            MUST(veda_parallel_for(rt, 0, 1, 1, noop, NULL));
            lat[i] = bench_now() - u0;
        }
        if (r >= 0) bench_result("one_chunk_latency", "veda", bench_median(lat, LAT_CALLS), 0);

        /* Idle pool: the process's CPU time over 1 s with nothing to do (after 100 ms to park). */
        bench_sleep_us(100000);
        struct rusage u0, u1;
        getrusage(RUSAGE_SELF, &u0);
        double w0 = bench_now();
        bench_sleep_us(1000000);
        getrusage(RUSAGE_SELF, &u1);
        double cpu = (u1.ru_utime.tv_sec - u0.ru_utime.tv_sec) + (u1.ru_stime.tv_sec - u0.ru_stime.tv_sec) +
                     1e-6 * ((u1.ru_utime.tv_usec - u0.ru_utime.tv_usec) + (u1.ru_stime.tv_usec - u0.ru_stime.tv_usec));
        if (r >= 0) bench_result("idle_pool_cpu", "veda", cpu / (bench_now() - w0), 0);
    }
    MUST(veda_runtime_destroy(rt));
    return 0;
}
