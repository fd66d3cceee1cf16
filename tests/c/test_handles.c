/* test_handles: forged, never-created, stale (destroyed) and double-destroyed handles of every
 * kind, and use after destroy, get VEDA_ERR_INVALID_ARGUMENT (VEDA_ERR_CLOSED for a destroyed
 * runtime), never a crash. */
#include "vt.h"

static int32_t noop_task(void *ctx) { (void)ctx; return 0; }
static int32_t noop_range(void *ctx, int64_t b, int64_t e) { (void)ctx; (void)b; (void)e; return 0; }
static void noop_cb(void *u, veda_status s) { (void)u; (void)s; }
static int32_t noop_fold(void *ctx, int64_t b, int64_t e, void *acc) { (void)ctx; (void)b; (void)e; (void)acc; return 0; }
static void noop_combine(void *ctx, void *acc, const void *o) { (void)ctx; (void)acc; (void)o; }

/* Every runtime-taking call with handle rt must return want. */
static void all_rt_calls(veda_runtime *rt, veda_status want) {
    veda_group *g = NULL;
    veda_future *f = NULL;
    float x[4] = {0}, y[4] = {0};
    double d[4] = {0}, out = 0;
    size_t len;
    char idt[8] = {0}, acc[8];
    EXPECT_ST(veda_parallel_for(rt, 0, 10, 1, noop_range, NULL), want);
    EXPECT_ST(veda_parallel_reduce(rt, 0, 10, 1, 8, idt, noop_fold, noop_combine, NULL, acc), want);
    EXPECT_ST(veda_group_create(rt, &g), want);
    CHECK(g == NULL);
    EXPECT_ST(veda_submit(rt, noop_task, NULL, NULL, &f), want);
    CHECK(f == NULL);
    EXPECT_ST(veda_saxpy_f32(rt, 4, 1.0f, x, y), want);
    EXPECT_ST(veda_sum_f64(rt, 4, d, &out), want);
    EXPECT_ST(veda_sgemm(rt, 1, 1, 1, 1.0f, x, 1, y, 1, 0.0f, x, 1), want);
    EXPECT_ST(veda_metrics_json(rt, NULL, 0, &len), want);
    EXPECT_ST(veda_metrics_prometheus(rt, NULL, 0, &len), want);
    CHECK(veda_runtime_num_workers(rt) == -1);
    CHECK(veda_device_count(rt) == -1);
}

static void all_group_calls(veda_group *g, veda_status want) {
    EXPECT_ST(veda_group_spawn(g, noop_task, NULL), want);
    EXPECT_ST(veda_group_wait(g), want);
}

static void all_future_calls(veda_future *f, veda_status want) {
    EXPECT_ST(veda_future_wait(f, 0), want);
    EXPECT_ST(veda_future_wait(f, -1), want);
    EXPECT_ST(veda_future_then(f, noop_cb, NULL), want);
    CHECK(veda_future_is_done(f) == -1);
}

int main(void) {
    /* NULL and forged runtime handles. */
    all_rt_calls(NULL, VEDA_ERR_INVALID_ARGUMENT);
    CHECK(strstr(veda_last_error(), "rt") != NULL);
    veda_runtime *forged[] = {(veda_runtime *)0x1, (veda_runtime *)0x19, (veda_runtime *)0xdeadbeef,
                              (veda_runtime *)&forged, (veda_runtime *)(uintptr_t)-1,
                              (veda_runtime *)(uintptr_t)(1ull << 4 | 0x9), (veda_runtime *)(uintptr_t)(2ull << 4 | 0x9)};
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        all_rt_calls(forged[i], VEDA_ERR_INVALID_ARGUMENT);
        EXPECT_ST(veda_runtime_destroy(forged[i]), VEDA_ERR_INVALID_ARGUMENT);
    }
    EXPECT_ST(veda_runtime_destroy(NULL), VEDA_ERR_INVALID_ARGUMENT);

    /* A destroyed runtime: use after destroy and double destroy get VEDA_ERR_CLOSED. */
    veda_runtime *rt = vt_runtime(2, VEDA_POLICY_ADAPTIVE);
    veda_runtime *live = vt_runtime(1, VEDA_POLICY_ADAPTIVE);
    veda_group *g = NULL, *g_on_dead = NULL;
    veda_future *f = NULL;
    /* a token shaped like a real one but never handed out */
    all_rt_calls((veda_runtime *)((uintptr_t)live + 16 * 1000), VEDA_ERR_INVALID_ARGUMENT);
    OK(veda_group_create(rt, &g_on_dead));
    OK(veda_runtime_destroy(rt));
    all_rt_calls(rt, VEDA_ERR_CLOSED);
    EXPECT_ERR_MSG(veda_runtime_destroy(rt), VEDA_ERR_CLOSED, "destroyed");
    EXPECT_ST(veda_group_spawn(g_on_dead, noop_task, NULL), VEDA_ERR_CLOSED);
    EXPECT_ST(veda_group_wait(g_on_dead), VEDA_ERR_CLOSED);
    OK(veda_group_destroy(g_on_dead));

    /* Groups: NULL, forged, a runtime token passed as a group, destroyed, double destroyed. */
    all_group_calls(NULL, VEDA_ERR_INVALID_ARGUMENT);
    all_group_calls((veda_group *)0x1234, VEDA_ERR_INVALID_ARGUMENT);
    all_group_calls((veda_group *)live, VEDA_ERR_INVALID_ARGUMENT);
    EXPECT_ST(veda_group_destroy((veda_group *)live), VEDA_ERR_INVALID_ARGUMENT);
    OK(veda_group_create(live, &g));
    OK(veda_group_spawn(g, noop_task, NULL));
    OK(veda_group_destroy(g));
    all_group_calls(g, VEDA_ERR_INVALID_ARGUMENT);
    EXPECT_ERR_MSG(veda_group_destroy(g), VEDA_ERR_INVALID_ARGUMENT, "already destroyed");
    EXPECT_ST(veda_group_destroy(NULL), VEDA_ERR_INVALID_ARGUMENT);
    EXPECT_ERR_MSG(veda_group_create(live, NULL), VEDA_ERR_INVALID_ARGUMENT, "out");

    /* Futures: NULL, forged, other kinds, released, double released. */
    all_future_calls(NULL, VEDA_ERR_INVALID_ARGUMENT);
    all_future_calls((veda_future *)0x99, VEDA_ERR_INVALID_ARGUMENT);
    all_future_calls((veda_future *)live, VEDA_ERR_INVALID_ARGUMENT);
    EXPECT_ST(veda_future_release((veda_future *)live), VEDA_ERR_INVALID_ARGUMENT);
    OK(veda_submit(live, noop_task, NULL, NULL, &f));
    OK(veda_future_wait(f, -1));
    OK(veda_future_release(f));
    all_future_calls(f, VEDA_ERR_INVALID_ARGUMENT);
    EXPECT_ERR_MSG(veda_future_release(f), VEDA_ERR_INVALID_ARGUMENT, "already released");
    EXPECT_ST(veda_future_release(NULL), VEDA_ERR_INVALID_ARGUMENT);

    /* The live runtime is unharmed by all of that. */
    OK(veda_parallel_for(live, 0, 100, 1, noop_range, NULL));
    OK(veda_runtime_destroy(live));
    VT_DONE("test_handles");
}
