/* work.c: the loop bodies of bench/peers/samecode, built once into libsamework.so, so that VEDA
 * and OpenMP call the same machine code and the comparison measures the runtimes only. */
#include "../workloads.h"

long long work_nq(int64_t b, int64_t e) {
    long long c = 0;
    for (int64_t t = b; t < e; t++) c += nq_task(NQ_N, (int)t);
    return c;
}

void work_tri(double *o, int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) o[i] = tri_row(i);
}
