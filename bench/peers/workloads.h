/* workloads.h: the sequential kernels and sizes every peer of bench/peers shares (C and C++; the
 * Rust and Go peers carry the same code). Each program prints one line per timed run:
 *   RESULT <workload> <impl> <seconds> <checksum>
 * bench/peers/table.py turns the lines of all peers into one table. */
#ifndef VEDA_BENCH_WORKLOADS_H
#define VEDA_BENCH_WORKLOADS_H
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIB_N 32
#define FIB_CUTOFF 10 /* calls with n >= FIB_CUTOFF fork; 75,024 of them for fib(32) */
#define NQ_N 13       /* tasks on the first two rows: 13 x 13 = 169 */
#define SQRT_N 200000000LL
#define TRI_N 20000 /* row i does i units of work: 2e8 in all */
#define LAT_CALLS 200
#define LAT_IDLE_US 2000 /* pause before each one-chunk call: the pool has parked by then */

static inline double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void bench_sleep_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static inline long long fib_seq(int n) { return n < 2 ? n : fib_seq(n - 1) + fib_seq(n - 2); }

/* Solutions of n-queens below a partial placement (bitmasks of attacked columns). */
static inline long long nq_solve(int n, uint32_t cols, uint32_t d1, uint32_t d2) {
    uint32_t all = (1u << n) - 1;
    if (cols == all) return 1;
    long long c = 0;
    uint32_t avail = all & ~(cols | d1 | d2);
    while (avail) {
        uint32_t bit = avail & -avail;
        avail ^= bit;
        c += nq_solve(n, cols | bit, ((d1 | bit) << 1) & all, (d2 | bit) >> 1);
    }
    return c;
}

/* Task t of the 169 (queen of row 0 in column t / n, of row 1 in column t % n): its solutions. */
static inline long long nq_task(int n, int t) {
    uint32_t all = (1u << n) - 1;
    uint32_t b0 = 1u << (t / n), b1 = 1u << (t % n);
    uint32_t cols = b0, d1 = (b0 << 1) & all, d2 = b0 >> 1;
    if (b1 & (cols | d1 | d2)) return 0;
    return nq_solve(n, cols | b1, ((d1 | b1) << 1) & all, (d2 | b1) >> 1);
}

/* Row i of the triangular loop: i units of work. */
static inline double tri_row(int64_t i) {
    double acc = 0;
    for (int64_t j = 0; j < i; j++) acc += sqrt((double)(i + j));
    return acc;
}

static inline void bench_result(const char *workload, const char *impl, double seconds, double check) {
    printf("RESULT %s %s %.9f %.17g\n", workload, impl, seconds, check);
    fflush(stdout);
}

static int bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of n samples (sorts them). */
static inline double bench_median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
#endif
