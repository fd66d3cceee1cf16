/* test_cancel: veda_cancel tokens bound with veda_thread_set_cancel stop blocking calls of the
 * bound thread (parallel_for, sum_f64, future_wait) from another thread; unbound threads and
 * untriggered tokens are unaffected; bad tokens are refused. */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include "vt.h"

static atomic_long chunks;
static atomic_int gate;

static int32_t slow_body(void *ctx, int64_t b, int64_t e) {
    (void)ctx; (void)b; (void)e;
    atomic_fetch_add(&chunks, 1);
    usleep(2000); /* 2 ms per chunk */
    return 0;
}
static int32_t count_body(void *ctx, int64_t b, int64_t e) {
    (void)ctx;
    atomic_fetch_add(&chunks, e - b);
    return 0;
}
static int32_t gated_task(void *ctx) {
    (void)ctx;
    while (!atomic_load(&gate)) usleep(200);
    return 0;
}

struct trig { veda_cancel *c; int delay_us; };
static void *trigger_later(void *p) {
    struct trig *t = p;
    usleep(t->delay_us);
    veda_status st = veda_cancel_trigger(t->c);
    if (st != VEDA_OK) { fprintf(stderr, "trigger: %s\n", veda_last_error()); vt_failures++; }
    return NULL;
}

int main(void) {
    veda_runtime *rt = vt_runtime(2, VEDA_POLICY_ADAPTIVE);
    veda_cancel *c = NULL;

    /* bad input */
    EXPECT_ERR_MSG(veda_cancel_create(NULL), VEDA_ERR_INVALID_ARGUMENT, "out");
    EXPECT_ST(veda_cancel_trigger(NULL), VEDA_ERR_INVALID_ARGUMENT);
    EXPECT_ST(veda_cancel_trigger((veda_cancel *)0x1234), VEDA_ERR_INVALID_ARGUMENT);
    EXPECT_ST(veda_cancel_destroy(NULL), VEDA_ERR_INVALID_ARGUMENT);
    EXPECT_ST(veda_thread_set_cancel((veda_cancel *)(void *)rt), VEDA_ERR_INVALID_ARGUMENT);
    CHECK(veda_cancel_is_triggered(NULL) == -1);

    /* an untriggered bound token changes nothing */
    OK(veda_cancel_create(&c));
    CHECK(c != NULL);
    CHECK(veda_cancel_is_triggered(c) == 0);
    OK(veda_thread_set_cancel(c));
    atomic_store(&chunks, 0);
    OK(veda_parallel_for(rt, 0, 100000, 0, count_body, NULL));
    CHECK(atomic_load(&chunks) == 100000);

    /* a trigger 30 ms into a 1000-chunk x 2 ms loop (about 1 s) stops it within about a chunk */
    struct trig t = {c, 30000};
    pthread_t th;
    atomic_store(&chunks, 0);
    pthread_create(&th, NULL, trigger_later, &t);
    double t0 = vt_now();
    EXPECT_ST(veda_parallel_for(rt, 0, 1000, 1, slow_body, NULL), VEDA_ERR_CANCELLED);
    double took = vt_now() - t0;
    pthread_join(th, NULL);
    printf("cancelled parallel_for after %.1f ms, %ld of 1000 chunks ran\n", took * 1e3, atomic_load(&chunks));
    CHECK(took < 0.5);
    CHECK(atomic_load(&chunks) < 1000);
    CHECK(veda_cancel_is_triggered(c) == 1);
    /* a triggered token stays triggered: a new call returns CANCELLED at once */
    EXPECT_ST(veda_parallel_for(rt, 0, 10, 1, count_body, NULL), VEDA_ERR_CANCELLED);
    double x[4] = {1, 2, 3, 4}, s = 0;
    EXPECT_ST(veda_sum_f64(rt, 4, x, &s), VEDA_ERR_CANCELLED);

    /* unbinding restores normal calls; the runtime is usable */
    OK(veda_thread_set_cancel(NULL));
    OK(veda_sum_f64(rt, 4, x, &s));
    CHECK(s == 10.0);
    OK(veda_cancel_destroy(c));
    EXPECT_ST(veda_cancel_destroy(c), VEDA_ERR_INVALID_ARGUMENT);
    EXPECT_ST(veda_thread_set_cancel(c), VEDA_ERR_INVALID_ARGUMENT);

    /* future_wait: a bound, triggered token ends an unbounded wait; the task still completes */
    OK(veda_cancel_create(&c));
    OK(veda_thread_set_cancel(c));
    veda_future *f = NULL;
    OK(veda_submit(rt, gated_task, NULL, NULL, &f));
    t.c = c; t.delay_us = 20000;
    pthread_create(&th, NULL, trigger_later, &t);
    t0 = vt_now();
    EXPECT_ST(veda_future_wait(f, -1), VEDA_ERR_CANCELLED);
    took = vt_now() - t0;
    pthread_join(th, NULL);
    CHECK(took < 0.5);
    OK(veda_thread_set_cancel(NULL));
    atomic_store(&gate, 1);
    OK(veda_future_wait(f, -1));
    OK(veda_future_release(f));
    /* a token destroyed while bound binds nothing */
    OK(veda_thread_set_cancel(c));
    OK(veda_cancel_destroy(c));
    OK(veda_sum_f64(rt, 4, x, &s));
    OK(veda_thread_set_cancel(NULL));

    OK(veda_runtime_destroy(rt));
    VT_DONE("test_cancel");
}
