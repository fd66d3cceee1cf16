/* omp_peer: the bench/peers workloads with OpenMP (libgomp), one process.
 * usage: omp_peer THREADS REPS */
#include <omp.h>
#include "workloads.h"

static long long fib_omp(int n) {
    if (n < FIB_CUTOFF) return fib_seq(n);
    long long x, y;
#pragma omp task shared(x) firstprivate(n)
    x = fib_omp(n - 1);
    y = fib_omp(n - 2);
#pragma omp taskwait
    return x + y;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2, reps = argc > 2 ? atoi(argv[2]) : 1;
    omp_set_num_threads(threads);
    for (int r = -1; r < reps; r++) {
        double t0 = bench_now();
        long long f = 0;
#pragma omp parallel
#pragma omp single
        f = fib_omp(FIB_N);
        double t1 = bench_now();
        if (r >= 0) bench_result("fib32", "openmp", t1 - t0, (double)f);

        long long nq = 0;
        t0 = bench_now();
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : nq)
        for (int t = 0; t < NQ_N * NQ_N; t++) nq += nq_task(NQ_N, t);
        t1 = bench_now();
        if (r >= 0) bench_result("nqueens13", "openmp", t1 - t0, (double)nq);

        double s = 0;
        t0 = bench_now();
#pragma omp parallel for schedule(static) reduction(+ : s)
        for (int64_t i = 0; i < SQRT_N; i++) s += sqrt((double)i);
        t1 = bench_now();
        if (r >= 0) bench_result("sum_sqrt_2e8", "openmp", t1 - t0, s);

        double *out = calloc(TRI_N, sizeof *out);
        t0 = bench_now();
#pragma omp parallel for schedule(dynamic)
        for (int64_t i = 0; i < TRI_N; i++) out[i] = tri_row(i);
        t1 = bench_now();
        double chk = 0;
        for (int i = 0; i < TRI_N; i++) chk += out[i];
        free(out);
        if (r >= 0) bench_result("triangular", "openmp", t1 - t0, chk);

        double lat[LAT_CALLS];
        volatile int sink = 0;
        for (int i = 0; i < LAT_CALLS; i++) {
            bench_sleep_us(LAT_IDLE_US);
            double u0 = bench_now();
#pragma omp parallel for schedule(dynamic, 1)
            for (int k = 0; k < 1; k++) sink += k;
            lat[i] = bench_now() - u0;
        }
        if (r >= 0) bench_result("one_chunk_latency", "openmp", bench_median(lat, LAT_CALLS), 0);
    }
    return 0;
}
