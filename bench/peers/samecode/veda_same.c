/* veda_same.c: nqueens 13 and the triangular loop through veda_parallel_for, bodies in
 * libsamework.so. usage: veda_same THREADS RUNS; prints medians (ms) and the context switches. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include "veda.h"
#include "../workloads.h"

long long work_nq(int64_t b, int64_t e);
void work_tri(double *o, int64_t b, int64_t e);

static _Atomic long long total;
static int32_t nq_body(void *ctx, int64_t b, int64_t e) { (void)ctx; atomic_fetch_add(&total, work_nq(b, e)); return 0; }
static int32_t tri_body(void *ctx, int64_t b, int64_t e) { work_tri(ctx, b, e); return 0; }

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2, runs = argc > 2 ? atoi(argv[2]) : 31;
    if (runs < 1 || runs > 1000) runs = 31;
    veda_config cfg;
    veda_config_init(&cfg);
    cfg.num_workers = threads;
    cfg.disable_gpu = 1;
    veda_runtime *rt;
    if (veda_runtime_create(&cfg, &rt) != VEDA_OK) { fprintf(stderr, "%s\n", veda_last_error()); return 1; }
    double *o = calloc(TRI_N, sizeof *o), *t = calloc(runs, sizeof *t), *u = calloc(runs, sizeof *u);
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    for (int r = 0; r < runs; r++) {
        double t0 = bench_now();
        if (veda_parallel_for(rt, 0, NQ_N * NQ_N, 1, nq_body, NULL) != VEDA_OK) return 1;
        t[r] = bench_now() - t0;
        t0 = bench_now();
        if (veda_parallel_for(rt, 0, TRI_N, 1, tri_body, o) != VEDA_OK) return 1;
        u[r] = bench_now() - t0;
    }
    getrusage(RUSAGE_SELF, &r1);
    printf("veda    nqueens13 %8.2f ms   triangular %8.1f ms   context switches %ld\n", bench_median(t, runs) * 1e3,
           bench_median(u, runs) * 1e3, (r1.ru_nvcsw + r1.ru_nivcsw) - (r0.ru_nvcsw + r0.ru_nivcsw));
    veda_runtime_destroy(rt);
    return 0;
}
