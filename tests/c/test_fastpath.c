/* test_fastpath.c: the one-chunk fast path of veda_parallel_for (capi.c, goveda/foreign.go).
 * A one-chunk call runs on the caller's thread without entering Go when an execution slot is
 * free. Every rule of the ordinary path must still hold: Workers is a hard cap on bodies running
 * at once (many C threads, the peak is counted), nested calls from a fast-path body work with
 * one worker (no deadlock: the body lends its slot while it waits), failures give the same error,
 * destroyed and forged handles are refused, a bound cancel token is honoured (a live one does
 * not stop the fast path, a triggered one cancels), shared-runtime
 * tokens work, and a destroy while other threads call one-chunk loops neither crashes nor loses a
 * call. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "vt.h"

static veda_runtime *rt;

/* ---- the cap: peak concurrent bodies <= workers ------------------------------------------ */
static atomic_int running, peak;
static atomic_long calls;

static int32_t counted(void *ctx, int64_t b, int64_t e) {
    (void)ctx;
    int now = atomic_fetch_add(&running, 1) + 1;
    int p = atomic_load(&peak);
    while (now > p && !atomic_compare_exchange_weak(&peak, &p, now)) {
    }
    for (volatile int i = 0; i < 200; i++) {
    }
    atomic_fetch_add(&calls, e - b);
    atomic_fetch_sub(&running, 1);
    return 0;
}

#define SUBMITTERS 8
#define PER_THREAD 3000

static void *submitter(void *arg) {
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        veda_status st = veda_parallel_for(rt, i, i + 1, 0, counted, NULL);
        if (st != VEDA_OK) {
            fprintf(stderr, "submitter: %s\n", veda_last_error());
            atomic_fetch_add(&calls, -1000000);
        }
        if (i % 500 == 0) usleep(200); /* let workers park, so slots come free */
    }
    return NULL;
}

static void test_cap(int workers) {
    rt = vt_runtime(workers, VEDA_POLICY_ADAPTIVE);
    atomic_store(&peak, 0);
    atomic_store(&calls, 0);
    pthread_t th[SUBMITTERS];
    for (int i = 0; i < SUBMITTERS; i++) pthread_create(&th[i], NULL, submitter, NULL);
    /* ordinary multi-chunk work at the same time, so workers and fast calls compete for slots */
    for (int k = 0; k < 20; k++) OK(veda_parallel_for(rt, 0, 4000, 1, counted, NULL));
    for (int i = 0; i < SUBMITTERS; i++) pthread_join(th[i], NULL);
    CHECK(atomic_load(&calls) == (long)SUBMITTERS * PER_THREAD + 20 * 4000);
    CHECK(atomic_load(&peak) <= workers);
    if (atomic_load(&peak) > workers) fprintf(stderr, "peak %d > workers %d\n", atomic_load(&peak), workers);
    OK(veda_runtime_destroy(rt));
}

/* ---- nesting with one worker -------------------------------------------------------------- */
static atomic_long nested_sum;

static int32_t add_range(void *ctx, int64_t b, int64_t e) {
    (void)ctx;
    long s = 0;
    for (int64_t i = b; i < e; i++) s += i;
    atomic_fetch_add(&nested_sum, s);
    return 0;
}

static int32_t half(void *ctx) {
    (void)ctx;
    return veda_parallel_for(rt, 0, 100, 1, add_range, NULL) == VEDA_OK ? 0 : 1;
}

static int32_t outer_body(void *ctx, int64_t b, int64_t e) {
    (void)ctx; (void)b; (void)e;
    /* a many-chunk loop (needs the worker, which needs our slot), a join, a one-chunk loop */
    if (veda_parallel_for(rt, 0, 1000, 1, add_range, NULL) != VEDA_OK) return 1;
    if (veda_join(rt, half, NULL, half, NULL) != VEDA_OK) return 2;
    if (veda_parallel_for(rt, 5, 6, 0, add_range, NULL) != VEDA_OK) return 3;
    return 0;
}

/* depth levels of one-chunk calls, each nested in the last (deeper than the fast path's own
   limit of 8, so the ordinary path takes over below it) */
static int32_t deep(void *ctx, int64_t b, int64_t e) {
    (void)e;
    intptr_t depth = (intptr_t)ctx;
    atomic_fetch_add(&nested_sum, 1);
    if (depth == 0) return veda_parallel_for(rt, 0, 64, 1, add_range, NULL) == VEDA_OK ? 0 : 1;
    return veda_parallel_for(rt, b, b + 1, 0, deep, (void *)(depth - 1)) == VEDA_OK ? 0 : 1;
}

static void test_nested_one_worker(void) {
    rt = vt_runtime(1, VEDA_POLICY_ADAPTIVE);
    for (int round = 0; round < 50; round++) {
        atomic_store(&nested_sum, 0);
        OK(veda_parallel_for(rt, 0, 1, 0, outer_body, NULL));
        CHECK(atomic_load(&nested_sum) == 499500 + 2 * 4950 + 5);
        if (round % 10 == 0) usleep(2000); /* the worker parks: its slot is free */
    }
    atomic_store(&nested_sum, 0);
    OK(veda_parallel_for(rt, 0, 1, 0, deep, (void *)(intptr_t)12));
    CHECK(atomic_load(&nested_sum) == 13 + 2016);
    OK(veda_runtime_destroy(rt));
}

/* ---- errors --------------------------------------------------------------------------------- */
static int32_t fail7(void *ctx, int64_t b, int64_t e) {
    (void)ctx; (void)b; (void)e;
    return 7;
}

static void test_errors(void) {
    rt = vt_runtime(2, VEDA_POLICY_ADAPTIVE);
    usleep(5000);
    for (int i = 0; i < 20; i++) {
        EXPECT_ERR_MSG(veda_parallel_for(rt, 3, 4, 0, fail7, NULL), VEDA_ERR_TASK_FAILED,
                       "veda_parallel_for: veda: task failed: callback returned 7 for range [3, 4)");
        EXPECT_ERR_MSG(veda_parallel_for(rt, 10, 15, 10, fail7, NULL), VEDA_ERR_TASK_FAILED,
                       "callback returned 7 for range [10, 15)");
    }
    /* the argument rules still hold on one-chunk shapes */
    EXPECT_ST(veda_parallel_for(rt, 0, 1, 0, NULL, NULL), VEDA_ERR_INVALID_ARGUMENT);
    EXPECT_ST(veda_parallel_for(rt, 0, 1, -1, counted, NULL), VEDA_ERR_INVALID_ARGUMENT);
    OK(veda_parallel_for(rt, 4, 4, 0, fail7, NULL)); /* empty: nothing runs */
    EXPECT_ST(veda_parallel_for(NULL, 0, 1, 0, counted, NULL), VEDA_ERR_INVALID_ARGUMENT);
    EXPECT_ST(veda_parallel_for((veda_runtime *)(uintptr_t)0x1238, 0, 1, 0, counted, NULL),
              VEDA_ERR_INVALID_ARGUMENT);
    /* a triggered cancel token bound to the thread: cancelled, the body does not run */
    veda_cancel *c = NULL;
    OK(veda_cancel_create(&c));
    OK(veda_thread_set_cancel(c));
    atomic_store(&nested_sum, 0);
    OK(veda_parallel_for(rt, 2, 3, 0, add_range, NULL)); /* bound, not triggered: runs */
    CHECK(atomic_load(&nested_sum) == 2);
    OK(veda_cancel_trigger(c));
    EXPECT_ST(veda_parallel_for(rt, 0, 1, 0, fail7, NULL), VEDA_ERR_CANCELLED);
    EXPECT_ST(veda_parallel_for(rt, 0, 1, 0, fail7, NULL), VEDA_ERR_CANCELLED);
    OK(veda_thread_set_cancel(NULL));
    OK(veda_cancel_destroy(c));
    /* a token destroyed while bound is no token (as on the ordinary path) */
    OK(veda_cancel_create(&c));
    OK(veda_thread_set_cancel(c));
    OK(veda_cancel_trigger(c));
    OK(veda_cancel_destroy(c));
    OK(veda_parallel_for(rt, 0, 1, 0, add_range, NULL));
    OK(veda_thread_set_cancel(NULL));
    OK(veda_parallel_for(rt, 0, 1, 0, add_range, NULL));
    veda_runtime *dead = rt;
    OK(veda_runtime_destroy(rt));
    veda_status st = veda_parallel_for(dead, 0, 1, 0, counted, NULL);
    CHECK(st == VEDA_ERR_INVALID_ARGUMENT || st == VEDA_ERR_CLOSED);
}

/* ---- one-chunk calls are counted in the metrics (tasks_executed), whichever path ran them ---- */
static unsigned long long tasks_executed(veda_runtime *r) {
    long long n = vt_metric(r, "tasks_executed");
    return n < 0 ? 0 : (unsigned long long)n; /* 0 when unreadable, as before */
}

static void test_counted(void) {
    rt = vt_runtime(2, VEDA_POLICY_ADAPTIVE);
    usleep(20000); /* the workers park: their slots are free */
    unsigned long long before = tasks_executed(rt);
    for (int i = 0; i < 100; i++) {
        OK(veda_parallel_for(rt, i, i + 1, 0, add_range, NULL));
        if (i % 25 == 0) usleep(2000);
    }
    unsigned long long after = tasks_executed(rt);
    CHECK(after >= before + 100);
    OK(veda_runtime_destroy(rt));
}

/* ---- shared-runtime tokens --------------------------------------------------------------------- */
static void test_shared(void) {
    veda_runtime *a = NULL, *b = NULL;
    OK(veda_runtime_shared(&a));
    OK(veda_runtime_shared(&b));
    atomic_store(&nested_sum, 0);
    rt = a;
    OK(veda_parallel_for(a, 7, 8, 0, add_range, NULL));
    OK(veda_parallel_for(b, 8, 9, 0, add_range, NULL));
    CHECK(atomic_load(&nested_sum) == 15);
    OK(veda_runtime_destroy(a));
    veda_status st = veda_parallel_for(a, 0, 1, 0, add_range, NULL); /* a released token */
    CHECK(st == VEDA_ERR_INVALID_ARGUMENT || st == VEDA_ERR_CLOSED);
    OK(veda_parallel_for(b, 9, 10, 0, add_range, NULL)); /* the other reference still works */
    CHECK(atomic_load(&nested_sum) == 24);
    OK(veda_runtime_destroy(b));
}

/* ---- destroy while other threads call one-chunk loops ------------------------------------------ */
static atomic_long ran, refused;
static atomic_int go_on;

static int32_t tick(void *ctx, int64_t b, int64_t e) {
    (void)ctx; (void)b; (void)e;
    atomic_fetch_add(&ran, 1);
    return 0;
}

static void *hammer(void *arg) {
    veda_runtime *r = arg;
    while (atomic_load(&go_on)) {
        veda_status st = veda_parallel_for(r, 0, 1, 0, tick, NULL);
        if (st == VEDA_OK) continue;
        if (st != VEDA_ERR_INVALID_ARGUMENT && st != VEDA_ERR_CLOSED) {
            fprintf(stderr, "hammer: unexpected %s: %s\n", veda_status_string(st), veda_last_error());
            atomic_fetch_add(&refused, 1000000);
        }
        atomic_fetch_add(&refused, 1);
    }
    return NULL;
}

static void test_destroy_under_load(void) {
    for (int round = 0; round < 10; round++) {
        veda_runtime *r = vt_runtime(2, VEDA_POLICY_ADAPTIVE);
        atomic_store(&go_on, 1);
        atomic_store(&refused, 0);
        pthread_t th[4];
        for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, hammer, r);
        usleep(3000);
        OK(veda_runtime_destroy(r));
        usleep(1000);
        atomic_store(&go_on, 0);
        for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
        CHECK(atomic_load(&refused) < 1000000);
    }
    CHECK(atomic_load(&ran) > 0);
}

int main(void) {
    test_cap(1);
    test_cap(2);
    test_cap(3);
    test_nested_one_worker();
    test_errors();
    test_counted();
    test_shared();
    test_destroy_under_load();
    if (vt_failures) {
        fprintf(stderr, "test_fastpath: %d failures\n", vt_failures);
        return 1;
    }
    puts("test_fastpath: ok");
    return 0;
}
