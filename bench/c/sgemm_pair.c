/* sgemm_pair: one process doing reps square sgemms of order n with one implementation, for
 * whole-process comparisons (A/B in turn) of VEDA against OpenBLAS on the same thread count:
 *   sgemm_pair veda     N REPS THREADS   libveda.so's veda_sgemm (its pool of THREADS workers;
 *                                        VEDA picks its own kernel or the dlopen()ed BLAS by
 *                                        measurement, so the first calls calibrate)
 *   sgemm_pair openblas N REPS THREADS   cblas_sgemm with openblas_set_num_threads(THREADS)
 * Prints GFLOP/s of the timed reps (all but the first two) and a checksum.
 * Build: gcc -O2 bench/c/sgemm_pair.c -Iinclude -Lbuild -lveda -lopenblas -o build/bench/sgemm_pair */
#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "veda.h"

extern void openblas_set_num_threads(int);

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s veda|openblas N REPS THREADS\n", argv[0]);
        return 2;
    }
    int use_veda = strcmp(argv[1], "veda") == 0;
    int n = atoi(argv[2]), reps = atoi(argv[3]), threads = atoi(argv[4]);
    size_t nn = (size_t)n * n;
    float *a = malloc(nn * 4), *b = malloc(nn * 4), *c = malloc(nn * 4);
    for (size_t i = 0; i < nn; i++) a[i] = (float)(i % 13) * 0.1f, b[i] = (float)(i % 7) * 0.2f;
    veda_runtime *rt = NULL;
    if (use_veda) {
        veda_config cfg;
        veda_config_init(&cfg);
        cfg.num_workers = threads;
        if (veda_runtime_create(&cfg, &rt) != VEDA_OK) {
            fprintf(stderr, "veda_runtime_create: %s\n", veda_last_error());
            return 1;
        }
    } else {
        openblas_set_num_threads(threads);
    }
    double t0 = 0;
    for (int r = 0; r < reps + 2; r++) {
        if (r == 2) t0 = now();
        if (use_veda) {
            if (veda_sgemm(rt, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n) != VEDA_OK) {
                fprintf(stderr, "veda_sgemm: %s\n", veda_last_error());
                return 1;
            }
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        }
    }
    double t = now() - t0;
    double sum = 0;
    for (size_t i = 0; i < nn; i += 97) sum += c[i];
    printf("%s n=%d threads=%d: %.1f GFLOP/s (checksum %.6e)\n", argv[1], n, threads,
           2.0 * n * n * (double)n * reps / t / 1e9, sum);
    if (rt) veda_runtime_destroy(rt);
    return 0;
}
