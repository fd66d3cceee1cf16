/* shared_ext.c: a stand-in for a third-party C extension that links libveda and uses the
 * process-wide runtime (veda_runtime_shared). Built and loaded with ctypes by test_shared.py. */
#include <stdatomic.h>
#include <stdint.h>
#include "veda.h"

static veda_runtime *held; /* a reference kept between ext_acquire and ext_release */
static _Atomic int64_t ran;

int32_t ext_acquire(void) { return veda_runtime_shared(&held); }
int32_t ext_release(void) { return veda_runtime_destroy(held); }
int32_t ext_workers(void) { return veda_runtime_num_workers(held); }
int64_t ext_ran(void) { return atomic_load(&ran); }

static int32_t task(void *ctx) {
    (void)ctx;
    atomic_fetch_add(&ran, 1);
    return 0;
}

/* Submits n tasks to the shared runtime and waits for all; returns the first failure. */
int32_t ext_submit(int32_t n) {
    veda_future *fs[256];
    if (n < 0 || n > 256) return VEDA_ERR_INVALID_ARGUMENT;
    for (int32_t i = 0; i < n; i++) {
        veda_status st = veda_submit(held, task, NULL, NULL, &fs[i]);
        if (st != VEDA_OK) return st;
    }
    veda_status first = VEDA_OK;
    for (int32_t i = 0; i < n; i++) {
        veda_status st = veda_future_wait(fs[i], -1);
        if (st != VEDA_OK && first == VEDA_OK) first = st;
        veda_future_release(fs[i]);
    }
    return first;
}

static int32_t count(void *ctx, int64_t b, int64_t e) {
    atomic_fetch_add((_Atomic int64_t *)ctx, e - b);
    return 0;
}

/* A parallel loop on a fresh reference taken and released inside the call; returns the number
 * of iterations run, or a negative status. */
int64_t ext_loop(int64_t n) {
    veda_runtime *rt = NULL;
    veda_status st = veda_runtime_shared(&rt);
    if (st != VEDA_OK) return -st;
    _Atomic int64_t seen = 0;
    st = veda_parallel_for(rt, 0, n, 1, count, (void *)&seen);
    veda_runtime_destroy(rt);
    return st == VEDA_OK ? atomic_load(&seen) : -st;
}
