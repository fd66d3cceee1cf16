/* test_args: argument checks name the argument; begin == end calls nothing; callback errors. */
#include <stdatomic.h>
#include "vt.h"

static atomic_long calls;
static int32_t count_range(void *ctx, int64_t b, int64_t e) {
    (void)ctx; (void)b; (void)e;
    atomic_fetch_add(&calls, 1);
    return 0;
}
static int32_t fold_count(void *ctx, int64_t b, int64_t e, void *acc) {
    (void)ctx; (void)b; (void)e; (void)acc;
    atomic_fetch_add(&calls, 1);
    return 0;
}
static void combine_add(void *ctx, void *acc, const void *other) {
    (void)ctx;
    *(int64_t *)acc += *(const int64_t *)other;
}
static int32_t fail_at_500(void *ctx, int64_t b, int64_t e) {
    (void)ctx;
    return (b <= 500 && 500 < e) ? 42 : 0;
}
static int32_t fold_fail(void *ctx, int64_t b, int64_t e, void *acc) {
    (void)ctx; (void)acc;
    return (b <= 7 && 7 < e) ? -3 : 0;
}
static int32_t task_ok(void *ctx) { (void)ctx; return 0; }

int main(void) {
    veda_runtime *rt = vt_runtime(2, VEDA_POLICY_ADAPTIVE);
    int64_t id = 0, out = 0;
    float x[16] = {0}, y[16] = {0}, c[16] = {0};
    double d[4] = {1, 2, 3, 4}, s = -1;

    /* parallel_for */
    EXPECT_ERR_MSG(veda_parallel_for(rt, 0, 10, 1, NULL, NULL), VEDA_ERR_INVALID_ARGUMENT, "fn");
    EXPECT_ERR_MSG(veda_parallel_for(rt, 10, 9, 1, count_range, NULL), VEDA_ERR_INVALID_ARGUMENT, "end");
    EXPECT_ERR_MSG(veda_parallel_for(rt, 0, 10, -1, count_range, NULL), VEDA_ERR_INVALID_ARGUMENT, "grain");
    atomic_store(&calls, 0);
    OK(veda_parallel_for(rt, 5, 5, 1, count_range, NULL));
    OK(veda_parallel_for(rt, -7, -7, 0, count_range, NULL));
    CHECK(atomic_load(&calls) == 0);
    OK(veda_parallel_for(rt, -100, 100, 0, count_range, NULL)); /* negative indices are fine */
    CHECK(atomic_load(&calls) >= 1);

    /* parallel_reduce */
    EXPECT_ERR_MSG(veda_parallel_reduce(rt, 0, 10, 1, 0, &id, fold_count, combine_add, NULL, &out), VEDA_ERR_INVALID_ARGUMENT, "acc_size");
    EXPECT_ERR_MSG(veda_parallel_reduce(rt, 0, 10, 1, 8, NULL, fold_count, combine_add, NULL, &out), VEDA_ERR_INVALID_ARGUMENT, "identity");
    EXPECT_ERR_MSG(veda_parallel_reduce(rt, 0, 10, 1, 8, &id, NULL, combine_add, NULL, &out), VEDA_ERR_INVALID_ARGUMENT, "fold");
    EXPECT_ERR_MSG(veda_parallel_reduce(rt, 0, 10, 1, 8, &id, fold_count, NULL, NULL, &out), VEDA_ERR_INVALID_ARGUMENT, "combine");
    EXPECT_ERR_MSG(veda_parallel_reduce(rt, 0, 10, 1, 8, &id, fold_count, combine_add, NULL, NULL), VEDA_ERR_INVALID_ARGUMENT, "out");
    EXPECT_ERR_MSG(veda_parallel_reduce(rt, 3, 2, 1, 8, &id, fold_count, combine_add, NULL, &out), VEDA_ERR_INVALID_ARGUMENT, "end");
    EXPECT_ERR_MSG(veda_parallel_reduce(rt, 0, 10, -5, 8, &id, fold_count, combine_add, NULL, &out), VEDA_ERR_INVALID_ARGUMENT, "grain");
    atomic_store(&calls, 0);
    id = 77;
    OK(veda_parallel_reduce(rt, 4, 4, 1, 8, &id, fold_count, combine_add, NULL, &out));
    CHECK(out == 77 && atomic_load(&calls) == 0);

    /* groups and futures */
    veda_group *g;
    OK(veda_group_create(rt, &g));
    EXPECT_ERR_MSG(veda_group_spawn(g, NULL, NULL), VEDA_ERR_INVALID_ARGUMENT, "fn");
    OK(veda_group_wait(g)); /* empty group */
    OK(veda_group_destroy(g));
    veda_future *f = (veda_future *)0x1;
    veda_task_options o;
    veda_task_options_init(&o);
    EXPECT_ERR_MSG(veda_submit(rt, NULL, NULL, NULL, &f), VEDA_ERR_INVALID_ARGUMENT, "fn");
    CHECK(f == NULL);
    EXPECT_ERR_MSG(veda_submit(rt, task_ok, NULL, NULL, NULL), VEDA_ERR_INVALID_ARGUMENT, "out");
    o.priority = 5;
    EXPECT_ERR_MSG(veda_submit(rt, task_ok, NULL, &o, &f), VEDA_ERR_INVALID_ARGUMENT, "priority");
    o.priority = -1;
    EXPECT_ERR_MSG(veda_submit(rt, task_ok, NULL, &o, &f), VEDA_ERR_INVALID_ARGUMENT, "priority");
    veda_task_options_init(&o);
    o.deadline_ns = -1;
    EXPECT_ERR_MSG(veda_submit(rt, task_ok, NULL, &o, &f), VEDA_ERR_INVALID_ARGUMENT, "deadline_ns");
    veda_task_options_init(&o);
    o.struct_size = 4;
    EXPECT_ERR_MSG(veda_submit(rt, task_ok, NULL, &o, &f), VEDA_ERR_INVALID_ARGUMENT, "struct_size");
    veda_task_options_init(&o);
    OK(veda_submit(rt, task_ok, NULL, &o, &f));
    EXPECT_ERR_MSG(veda_future_then(f, NULL, NULL), VEDA_ERR_INVALID_ARGUMENT, "cb");
    OK(veda_future_wait(f, -1));
    OK(veda_future_release(f));

    /* kernels */
    EXPECT_ERR_MSG(veda_saxpy_f32(rt, -1, 1.0f, x, y), VEDA_ERR_INVALID_ARGUMENT, "n");
    EXPECT_ERR_MSG(veda_saxpy_f32(rt, 4, 1.0f, NULL, y), VEDA_ERR_INVALID_ARGUMENT, "x");
    EXPECT_ERR_MSG(veda_saxpy_f32(rt, 4, 1.0f, x, NULL), VEDA_ERR_INVALID_ARGUMENT, "y");
    OK(veda_saxpy_f32(rt, 0, 1.0f, NULL, NULL));
    EXPECT_ERR_MSG(veda_sum_f64(rt, -2, d, &s), VEDA_ERR_INVALID_ARGUMENT, "n");
    EXPECT_ERR_MSG(veda_sum_f64(rt, 4, NULL, &s), VEDA_ERR_INVALID_ARGUMENT, "x");
    EXPECT_ERR_MSG(veda_sum_f64(rt, 4, d, NULL), VEDA_ERR_INVALID_ARGUMENT, "out");
    OK(veda_sum_f64(rt, 0, NULL, &s));
    CHECK(s == 0.0);
    OK(veda_sum_f64(rt, 4, d, &s));
    CHECK(s == 10.0);
    EXPECT_ERR_MSG(veda_sgemm(rt, -1, 2, 2, 1, x, 2, y, 2, 0, c, 2), VEDA_ERR_INVALID_ARGUMENT, "m");
    EXPECT_ERR_MSG(veda_sgemm(rt, 2, -1, 2, 1, x, 2, y, 2, 0, c, 2), VEDA_ERR_INVALID_ARGUMENT, "n");
    EXPECT_ERR_MSG(veda_sgemm(rt, 2, 2, -1, 1, x, 2, y, 2, 0, c, 2), VEDA_ERR_INVALID_ARGUMENT, "k");
    EXPECT_ERR_MSG(veda_sgemm(rt, 2, 2, 3, 1, x, 2, y, 2, 0, c, 2), VEDA_ERR_INVALID_ARGUMENT, "lda");
    EXPECT_ERR_MSG(veda_sgemm(rt, 2, 3, 2, 1, x, 2, y, 2, 0, c, 3), VEDA_ERR_INVALID_ARGUMENT, "ldb");
    EXPECT_ERR_MSG(veda_sgemm(rt, 2, 3, 2, 1, x, 2, y, 3, 0, c, 2), VEDA_ERR_INVALID_ARGUMENT, "ldc");
    EXPECT_ERR_MSG(veda_sgemm(rt, 2, 2, 2, 1, NULL, 2, y, 2, 0, c, 2), VEDA_ERR_INVALID_ARGUMENT, "a");
    EXPECT_ERR_MSG(veda_sgemm(rt, 2, 2, 2, 1, x, 2, NULL, 2, 0, c, 2), VEDA_ERR_INVALID_ARGUMENT, "b");
    EXPECT_ERR_MSG(veda_sgemm(rt, 2, 2, 2, 1, x, 2, y, 2, 0, NULL, 2), VEDA_ERR_INVALID_ARGUMENT, "c");
    EXPECT_ERR_MSG(veda_sgemm(rt, INT64_MAX, 2, 2, 1, x, INT64_MAX, y, 2, 0, c, 2), VEDA_ERR_INVALID_ARGUMENT, "too large");
    OK(veda_sgemm(rt, 0, 2, 2, 1, NULL, 2, NULL, 2, 0, NULL, 2));
    c[0] = 3;
    OK(veda_sgemm(rt, 1, 1, 0, 1, NULL, 1, NULL, 1, 2.0f, c, 1)); /* k == 0: C = beta*C */
    CHECK(c[0] == 6.0f);
    /* veda.h's rules exactly: lda >= max(1, k) even when k == 0 (and ldb, ldc >= max(1, n)); A and
     * B are not read when alpha == 0, so they may be NULL then: C = beta*C. */
    EXPECT_ERR_MSG(veda_sgemm(rt, 1, 1, 0, 1, NULL, 0, NULL, 1, 2.0f, c, 1), VEDA_ERR_INVALID_ARGUMENT, "lda is 0, must be >= max(1, k) = 1");
    EXPECT_ERR_MSG(veda_sgemm(rt, 1, 0, 1, 1, x, 1, y, 0, 0, c, 1), VEDA_ERR_INVALID_ARGUMENT, "ldb is 0");
    c[0] = 1; c[1] = 2; c[2] = 3; c[3] = 4;
    OK(veda_sgemm(rt, 2, 2, 2, 0.0f, NULL, 2, NULL, 2, 0.5f, c, 2));
    CHECK(c[0] == 0.5f && c[1] == 1.0f && c[2] == 1.5f && c[3] == 2.0f);
    CHECK(strstr(veda_last_error(), "Sgemm") == NULL); /* no Go name in C messages */
    EXPECT_ERR_MSG(veda_sgemm(rt, 2, 2, 2, 0.0f, NULL, 2, NULL, 2, 0.5f, NULL, 2), VEDA_ERR_INVALID_ARGUMENT, "c is NULL");
    EXPECT_ST(veda_sgemm(rt, 2, 2, 3, 1, x, 2, y, 2, 0, c, 2), VEDA_ERR_INVALID_ARGUMENT);
    CHECK(strstr(veda_last_error(), "Sgemm") == NULL && strstr(veda_last_error(), "max(1, k) = 3") != NULL);

    /* Callback errors: VEDA_ERR_TASK_FAILED naming the code and the range; runtime still usable. */
    EXPECT_ERR_MSG(veda_parallel_for(rt, 0, 1000, 10, fail_at_500, NULL), VEDA_ERR_TASK_FAILED, "returned 42");
    CHECK(strstr(veda_last_error(), "[") != NULL && strstr(veda_last_error(), ")") != NULL);
    {
        /* the message's range contains 500 */
        long lo = -1, hi = -1;
        const char *p = strstr(veda_last_error(), "range [");
        CHECK(p != NULL && sscanf(p, "range [%ld, %ld)", &lo, &hi) == 2 && lo <= 500 && 500 < hi);
    }
    id = 0;
    EXPECT_ERR_MSG(veda_parallel_reduce(rt, 0, 100, 1, 8, &id, fold_fail, combine_add, NULL, &out), VEDA_ERR_TASK_FAILED, "returned -3");
    atomic_store(&calls, 0);
    OK(veda_parallel_for(rt, 0, 1000, 10, count_range, NULL));
    CHECK(atomic_load(&calls) >= 1);
    /* ctx values are opaque: small integers are fine (a Go unsafe.Pointer holding one made the Go
     * runtime throw during stack copies; found by fuzz_args, fixed by passing ctx as uintptr_t) */
    for (int i = 0; i < 200; i++) {
        id = 0;
        OK(veda_parallel_reduce(rt, 0, 10000, 1, 8, &id, fold_count, combine_add, (void *)(intptr_t)5, &out));
        OK(veda_parallel_for(rt, 0, 10000, 1, count_range, (void *)(intptr_t)(i + 1)));
    }
    OK(veda_runtime_destroy(rt));
    VT_DONE("test_args");
}
