/* omp_same.c: the same loops with OpenMP (dynamic schedules), bodies in libsamework.so. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include "../workloads.h"

long long work_nq(int64_t b, int64_t e);
void work_tri(double *o, int64_t b, int64_t e);

int main(int argc, char **argv) {
    int runs = argc > 2 ? atoi(argv[2]) : 31;
    if (runs < 1 || runs > 1000) runs = 31;
    double *o = calloc(TRI_N, sizeof *o), *t = calloc(runs, sizeof *t), *u = calloc(runs, sizeof *u);
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    for (int r = 0; r < runs; r++) {
        long long tot = 0;
        double t0 = bench_now();
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : tot)
        for (int i = 0; i < NQ_N * NQ_N; i++) tot += work_nq(i, i + 1);
        t[r] = bench_now() - t0;
        t0 = bench_now();
#pragma omp parallel for schedule(dynamic)
        for (int i = 0; i < TRI_N; i++) work_tri(o, i, i + 1);
        u[r] = bench_now() - t0;
        if (tot != 73712) return 1;
    }
    getrusage(RUSAGE_SELF, &r1);
    printf("openmp  nqueens13 %8.2f ms   triangular %8.1f ms   context switches %ld\n", bench_median(t, runs) * 1e3,
           bench_median(u, runs) * 1e3, (r1.ru_nvcsw + r1.ru_nivcsw) - (r0.ru_nvcsw + r0.ru_nivcsw));
    return 0;
}
