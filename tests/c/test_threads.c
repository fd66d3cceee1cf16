/* test_threads: 8 pthreads hammer one runtime with every kind of call at once; the last error
 * stays thread-local. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "vt.h"

static veda_runtime *rt;
static atomic_int thread_failures;

static int32_t add_range(void *ctx, int64_t b, int64_t e) {
    atomic_fetch_add((atomic_long *)ctx, e - b);
    return 0;
}
static int32_t fold_sum(void *ctx, int64_t b, int64_t e, void *acc) {
    (void)ctx;
    for (int64_t i = b; i < e; i++) *(int64_t *)acc += i;
    return 0;
}
static void combine_sum(void *ctx, void *acc, const void *other) {
    (void)ctx;
    *(int64_t *)acc += *(const int64_t *)other;
}
static int32_t task_inc(void *ctx) { atomic_fetch_add((atomic_long *)ctx, 1); return 0; }

#define TFAIL(cond) do { if (!(cond)) { fprintf(stderr, "thread check failed: %s (%s)\n", #cond, veda_last_error()); atomic_fetch_add(&thread_failures, 1); } } while (0)

/* fails at index 777 with a code that names the calling thread (ctx is the code) */
static int32_t fail_at_777(void *ctx, int64_t b, int64_t e) {
    return (b <= 777 && 777 < e) ? (int32_t)(intptr_t)ctx : 0;
}

static void *hammer(void *arg) {
    long id = (long)arg;
    char want[64];
    for (int it = 0; it < 200; it++) {
        atomic_long n = 0;
        TFAIL(veda_parallel_for(rt, 0, 10000 + id, 100, add_range, &n) == VEDA_OK);
        TFAIL(atomic_load(&n) == 10000 + id);
        int64_t zero = 0, sum = -1;
        TFAIL(veda_parallel_reduce(rt, 0, 1000, 10, 8, &zero, fold_sum, combine_sum, NULL, &sum) == VEDA_OK);
        TFAIL(sum == 999L * 1000 / 2);
        veda_group *g;
        atomic_long cnt = 0;
        TFAIL(veda_group_create(rt, &g) == VEDA_OK);
        for (int k = 0; k < 5; k++) TFAIL(veda_group_spawn(g, task_inc, &cnt) == VEDA_OK);
        TFAIL(veda_group_wait(g) == VEDA_OK);
        TFAIL(veda_group_destroy(g) == VEDA_OK);
        TFAIL(atomic_load(&cnt) == 5);
        veda_future *f;
        atomic_long fc = 0;
        TFAIL(veda_submit(rt, task_inc, &fc, NULL, &f) == VEDA_OK);
        TFAIL(veda_future_wait(f, -1) == VEDA_OK);
        TFAIL(veda_future_release(f) == VEDA_OK);
        TFAIL(atomic_load(&fc) == 1);
        /* A multi-chunk loop that fails on a worker: the status and a message that names this
         * thread's code, not another thread's, come back to this thread. */
        snprintf(want, sizeof want, "returned %ld for range", 1000 + id);
        TFAIL(veda_parallel_for(rt, 0, 5000, 1, fail_at_777, (void *)(intptr_t)(1000 + id)) == VEDA_ERR_TASK_FAILED);
        TFAIL(strstr(veda_last_error(), want) != NULL);
        /* a thread-specific failure: the message must be ours */
        snprintf(want, sizeof want, "grain is %ld", -id - 1);
        TFAIL(veda_parallel_for(rt, 0, 10, -id - 1, add_range, &n) == VEDA_ERR_INVALID_ARGUMENT);
        TFAIL(strstr(veda_last_error(), want) != NULL);
        if ((it & 31) == 0) {
            size_t len;
            TFAIL(veda_metrics_json(rt, NULL, 0, &len) == VEDA_OK);
        }
    }
    return NULL;
}

int main(void) {
    rt = vt_runtime(2, VEDA_POLICY_ADAPTIVE);
    pthread_t th[8];
    double t0 = vt_now();
    for (long i = 0; i < 8; i++) pthread_create(&th[i], NULL, hammer, (void *)i);
    for (int i = 0; i < 8; i++) pthread_join(th[i], NULL);
    printf("8 threads x 200 rounds in %.1f ms\n", (vt_now() - t0) * 1e3);
    CHECK(atomic_load(&thread_failures) == 0);
    OK(veda_runtime_destroy(rt));
    VT_DONE("test_threads");
}
