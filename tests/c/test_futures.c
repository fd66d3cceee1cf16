/* test_futures: wait with timeout, then (exactly once; at once if done), priority, release. */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include "vt.h"

static atomic_int gate;          /* tasks block until gate != 0 */
static atomic_int then_calls;
static atomic_int then_status = -1;
static atomic_int order_pos;
static int order[16];

static int32_t blocked_task(void *ctx) {
    (void)ctx;
    while (!atomic_load(&gate)) usleep(200);
    return 0;
}
static int32_t fail_task(void *ctx) { (void)ctx; return 13; }
static void on_done(void *user, veda_status st) {
    atomic_fetch_add(&then_calls, 1);
    atomic_store(&then_status, st);
    *(pthread_t *)user = pthread_self();
}
static int32_t record_task(void *ctx) {
    order[atomic_fetch_add(&order_pos, 1)] = (int)(intptr_t)ctx;
    return 0;
}

int main(void) {
    veda_runtime *rt = vt_runtime(1, VEDA_POLICY_ADAPTIVE);
    veda_future *f;
    pthread_t cb_thread;

    /* timeout while running, then completion */
    OK(veda_submit(rt, blocked_task, NULL, NULL, &f));
    CHECK(veda_future_is_done(f) == 0);
    double t0 = vt_now();
    EXPECT_ERR_MSG(veda_future_wait(f, 20 * 1000 * 1000), VEDA_ERR_TIMEOUT, "not finished");
    double waited = vt_now() - t0;
    CHECK(waited >= 0.015 && waited < 2.0);
    EXPECT_ST(veda_future_wait(f, 0), VEDA_ERR_TIMEOUT);
    OK(veda_future_then(f, on_done, &cb_thread)); /* registered before completion */
    CHECK(atomic_load(&then_calls) == 0);
    atomic_store(&gate, 1);
    OK(veda_future_wait(f, -1));
    CHECK(veda_future_is_done(f) == 1);
    OK(veda_future_wait(f, 0));
    for (int i = 0; i < 1000 && atomic_load(&then_calls) == 0; i++) usleep(1000);
    CHECK(atomic_load(&then_calls) == 1);
    CHECK(atomic_load(&then_status) == VEDA_OK);
    /* then on a finished future: at once, on this thread */
    OK(veda_future_then(f, on_done, &cb_thread));
    CHECK(atomic_load(&then_calls) == 2);
    CHECK(pthread_equal(cb_thread, pthread_self()));
    OK(veda_future_release(f));
    usleep(20000);
    CHECK(atomic_load(&then_calls) == 2); /* exactly once each */

    /* failing task: status to wait and to then */
    OK(veda_submit(rt, fail_task, NULL, NULL, &f));
    EXPECT_ERR_MSG(veda_future_wait(f, -1), VEDA_ERR_TASK_FAILED, "returned 13");
    OK(veda_future_then(f, on_done, &cb_thread));
    CHECK(atomic_load(&then_status) == VEDA_ERR_TASK_FAILED);
    OK(veda_future_release(f));

    /* release before completion: the task still runs and its then-callback still fires */
    atomic_store(&gate, 0);
    atomic_store(&then_calls, 0);
    OK(veda_submit(rt, blocked_task, NULL, NULL, &f));
    OK(veda_future_then(f, on_done, &cb_thread));
    OK(veda_future_release(f));
    atomic_store(&gate, 1);
    for (int i = 0; i < 1000 && atomic_load(&then_calls) == 0; i++) usleep(1000);
    CHECK(atomic_load(&then_calls) == 1);

    /* priority: with the single worker blocked, queue LOW, NORMAL, HIGH, REALTIME tasks; when it
     * is released, higher priorities run first. */
    atomic_store(&gate, 0);
    veda_future *blocker, *fs[4];
    OK(veda_submit(rt, blocked_task, NULL, NULL, &blocker));
    usleep(20000); /* let the worker pick up the blocker */
    int prios[4] = {VEDA_PRIORITY_LOW, VEDA_PRIORITY_NORMAL, VEDA_PRIORITY_HIGH, VEDA_PRIORITY_REALTIME};
    for (int i = 0; i < 4; i++) {
        veda_task_options o;
        veda_task_options_init(&o);
        o.priority = prios[i];
        OK(veda_submit(rt, record_task, (void *)(intptr_t)prios[i], &o, &fs[i]));
    }
    atomic_store(&gate, 1);
    OK(veda_future_wait(blocker, -1));
    for (int i = 0; i < 4; i++) { OK(veda_future_wait(fs[i], -1)); OK(veda_future_release(fs[i])); }
    OK(veda_future_release(blocker));
    printf("priority order:");
    for (int i = 0; i < 4; i++) printf(" %d", order[i]);
    printf("\n");
    CHECK(order[0] == VEDA_PRIORITY_REALTIME);
    CHECK(order[3] == VEDA_PRIORITY_LOW);

    OK(veda_runtime_destroy(rt));
    VT_DONE("test_futures");
}
