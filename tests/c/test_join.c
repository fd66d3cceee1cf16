/* test_join: veda_join runs both functions (nested to any depth: fib), reports TASK_FAILED when
 * either fails while still running both, rejects NULL functions with nothing run, and works from
 * many application threads at once and from inside other callbacks. */
#include <pthread.h>
#include <stdatomic.h>
#include "vt.h"

static veda_runtime *rt;

typedef struct fib_arg {
    int n;
    long long r;
    veda_status st;
} fib_arg;

static long long fib_seq(int n) { return n < 2 ? n : fib_seq(n - 1) + fib_seq(n - 2); }

static int32_t fib_task(void *p) {
    fib_arg *a = p;
    if (a->n < 10) {
        a->r = fib_seq(a->n);
        return 0;
    }
    fib_arg x = {a->n - 1, 0, 0}, y = {a->n - 2, 0, 0};
    veda_status st = veda_join(rt, fib_task, &x, fib_task, &y);
    if (st != VEDA_OK) return (int32_t)st;
    a->r = x.r + y.r;
    return 0;
}

static _Atomic int ran;
static int32_t ok_task(void *p) { (void)p; atomic_fetch_add(&ran, 1); return 0; }
static int32_t bad_task(void *p) { atomic_fetch_add(&ran, 1); return (int32_t)(intptr_t)p; }

static void *thread_fib(void *p) {
    fib_arg *a = p;
    a->st = veda_join(rt, fib_task, a, ok_task, NULL);
    return NULL;
}

/* A parallel_for body that joins inside each chunk (join nested in another kind of task). */
static int32_t body(void *ctx, int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) {
        fib_arg x = {15, 0, 0};
        if (veda_join(rt, fib_task, &x, ok_task, NULL) != VEDA_OK || x.r != 610) return 1;
        atomic_fetch_add((_Atomic long long *)ctx, 1);
    }
    return 0;
}

int main(void) {
    rt = vt_runtime(2, VEDA_POLICY_ADAPTIVE);

    /* fib from the main thread, checked against the sequential result. */
    for (int n = 0; n <= 27; n += 9) {
        fib_arg a = {n, 0, 0};
        double t0 = vt_now();
        OK(veda_join(rt, fib_task, &a, ok_task, NULL));
        double dt = vt_now() - t0;
        CHECK(a.r == fib_seq(n));
        if (n == 27) printf("fib(27) via veda_join: %.2f ms\n", dt * 1e3);
    }

    /* NULL functions: INVALID_ARGUMENT and nothing runs. */
    ran = 0;
    EXPECT_ERR_MSG(veda_join(rt, NULL, NULL, ok_task, NULL), VEDA_ERR_INVALID_ARGUMENT, "fa is NULL");
    EXPECT_ERR_MSG(veda_join(rt, ok_task, NULL, NULL, NULL), VEDA_ERR_INVALID_ARGUMENT, "fb is NULL");
    CHECK(ran == 0);

    /* Failures: TASK_FAILED with the code in the message; both still ran. */
    ran = 0;
    EXPECT_ERR_MSG(veda_join(rt, bad_task, (void *)7, ok_task, NULL), VEDA_ERR_TASK_FAILED, "returned 7");
    CHECK(ran == 2);
    ran = 0;
    EXPECT_ERR_MSG(veda_join(rt, ok_task, NULL, bad_task, (void *)9), VEDA_ERR_TASK_FAILED, "returned 9");
    CHECK(ran == 2);
    ran = 0;
    EXPECT_ST(veda_join(rt, bad_task, (void *)3, bad_task, (void *)4), VEDA_ERR_TASK_FAILED);
    CHECK(ran == 2);

    /* Bad handles. */
    EXPECT_ST(veda_join(NULL, ok_task, NULL, ok_task, NULL), VEDA_ERR_INVALID_ARGUMENT);
    EXPECT_ST(veda_join((veda_runtime *)(uintptr_t)0x1234, ok_task, NULL, ok_task, NULL),
              VEDA_ERR_INVALID_ARGUMENT);

    /* Many application threads at once. */
    enum { T = 6 };
    pthread_t th[T];
    fib_arg args[T];
    for (int i = 0; i < T; i++) {
        args[i] = (fib_arg){20 + i, 0, -1};
        CHECK(pthread_create(&th[i], NULL, thread_fib, &args[i]) == 0);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        CHECK(args[i].st == VEDA_OK && args[i].r == fib_seq(20 + i));
    }

    /* Joins inside parallel_for chunks. */
    _Atomic long long done = 0;
    OK(veda_parallel_for(rt, 0, 64, 1, body, (void *)&done));
    CHECK(done == 64);

    /* The shared runtime works too. */
    veda_runtime *own = rt;
    OK(veda_runtime_shared(&rt));
    fib_arg s = {22, 0, 0};
    OK(veda_join(rt, fib_task, &s, ok_task, NULL));
    CHECK(s.r == fib_seq(22));
    OK(veda_runtime_destroy(rt));
    rt = own;

    OK(veda_runtime_destroy(rt));
    EXPECT_ST(veda_join(rt, ok_task, NULL, ok_task, NULL), VEDA_ERR_CLOSED);
    VT_DONE("test_join");
}
