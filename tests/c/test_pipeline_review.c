/* test_pipeline_review: review tests for issue 12's C contract, for rules test_pipeline.c does not
 * check: a stage that changes *bytes (the next stage's preset is the new size, and the byte budget
 * follows it), a single item larger than max_bytes_in_flight admitted alone, a veda_cancel token
 * bound to the calling thread cancelling veda_pipeline_run (a promise of the header), and a
 * stress of veda_pipeline_add_stage racing the start of veda_pipeline_run (a stage must pass its
 * *out on whatever the stage count was when it was added: capi/pipeline.go once decided "last
 * stage" from a count read at call time). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>
#include "vt.h"

/* ---- *bytes changed by a stage ---------------------------------------------------------- */
static _Atomic int64_t produced, finished, bad_preset;

static int32_t src_n(void *ctx, int64_t seq, void **out, uint64_t *bytes) {
    if (seq >= *(int64_t *)ctx) return 0;
    *out = (void *)(intptr_t)(seq + 1);
    *bytes = 10;
    atomic_fetch_add(&produced, 1);
    return 1;
}
/* Stage 0 triples the size (10 -> 30); stage 1 must see 30 preset; stage 1 halves it to 15;
 * stage 2 (last) must see 15. */
static int32_t triple(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)seq; (void)p; (void)out;
    if (*bytes != 10) atomic_fetch_add(&bad_preset, 1);
    *bytes = 30;
    usleep(50);
    return 0;
}
static int32_t halve(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)seq; (void)p; (void)out;
    if (*bytes != 30) atomic_fetch_add(&bad_preset, 1);
    *bytes = 15;
    return 0;
}
static int32_t last15(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)seq; (void)p; (void)out;
    if (*bytes != 15) atomic_fetch_add(&bad_preset, 1);
    atomic_fetch_add(&finished, 1);
    return 0;
}

static void test_bytes_change(veda_runtime *rt) {
    veda_pipeline_options o;
    veda_pipeline_options_init(&o);
    o.max_in_flight = 8;
    o.max_bytes_in_flight = 1000;
    veda_pipeline *p = NULL;
    OK(veda_pipeline_create(rt, &o, &p));
    OK(veda_pipeline_add_stage(p, VEDA_STAGE_PARALLEL, triple, NULL));
    OK(veda_pipeline_add_stage(p, VEDA_STAGE_SERIAL_OUT_OF_ORDER, halve, NULL));
    OK(veda_pipeline_add_stage(p, VEDA_STAGE_SERIAL_IN_ORDER, last15, NULL));
    int64_t n = 500;
    OK(veda_pipeline_run(p, src_n, &n));
    CHECK(atomic_load(&bad_preset) == 0);
    CHECK(atomic_load(&finished) == 500);
    OK(veda_pipeline_destroy(p));
}

/* ---- an oversized item is admitted alone -------------------------------------------------- */
static _Atomic int64_t alive, alone_violations, big_seen;
static int32_t src_big(void *ctx, int64_t seq, void **out, uint64_t *bytes) {
    (void)ctx;
    if (seq >= 200) return 0;
    *out = (void *)(intptr_t)(seq + 1);
    *bytes = (seq % 50 == 25) ? 5000 : 40; /* budget 100: items 25, 75, ... are oversized */
    atomic_fetch_add(&alive, 1);
    return 1;
}
static int32_t enter_check(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)p; (void)out;
    if (*bytes > 100) {
        atomic_fetch_add(&big_seen, 1);
        /* alive counts from the source's return to the end of the last stage: a little early
         * at the end, so a violation is never reported falsely. */
        if (atomic_load(&alive) != 1) {
            fprintf(stderr, "oversized item %lld runs with %lld items alive\n", (long long)seq, (long long)atomic_load(&alive));
            atomic_fetch_add(&alone_violations, 1);
        }
    }
    if (seq % 3 == 0) usleep(30);
    return 0;
}
static int32_t end_alive(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)seq; (void)p; (void)out; (void)bytes;
    atomic_fetch_sub(&alive, 1);
    return 0;
}
static void test_oversized_alone(veda_runtime *rt) {
    atomic_store(&alive, 0);
    atomic_store(&big_seen, 0);
    veda_pipeline_options o;
    veda_pipeline_options_init(&o);
    o.max_in_flight = 16;
    o.max_bytes_in_flight = 100;
    veda_pipeline *p = NULL;
    OK(veda_pipeline_create(rt, &o, &p));
    OK(veda_pipeline_add_stage(p, VEDA_STAGE_PARALLEL, enter_check, NULL));
    OK(veda_pipeline_add_stage(p, VEDA_STAGE_SERIAL_IN_ORDER, end_alive, NULL));
    OK(veda_pipeline_run(p, src_big, NULL));
    CHECK(atomic_load(&big_seen) == 4);
    CHECK(atomic_load(&alone_violations) == 0);
    OK(veda_pipeline_destroy(p));
}

/* ---- a thread-bound veda_cancel token cancels the run ------------------------------------- */
static veda_cancel *tok;
static int32_t endless(void *ctx, int64_t seq, void **out, uint64_t *bytes) {
    (void)ctx; (void)bytes;
    *out = (void *)(intptr_t)(seq + 1);
    return 1;
}
static int32_t slowish(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)p; (void)out; (void)bytes;
    if (seq == 100) veda_cancel_trigger(tok);
    usleep(20);
    return 0;
}
static _Atomic int64_t dropped_tok;
static void drop_count(void *ctx, int64_t seq, void *p) {
    (void)ctx; (void)seq; (void)p;
    atomic_fetch_add(&dropped_tok, 1);
}
static void test_thread_cancel_token(veda_runtime *rt) {
    veda_pipeline_options o;
    veda_pipeline_options_init(&o);
    o.max_in_flight = 8;
    o.drop = drop_count;
    veda_pipeline *p = NULL;
    OK(veda_pipeline_create(rt, &o, &p));
    OK(veda_pipeline_add_stage(p, VEDA_STAGE_PARALLEL, slowish, NULL));
    OK(veda_pipeline_add_stage(p, VEDA_STAGE_SERIAL_IN_ORDER, slowish, NULL));
    OK(veda_cancel_create(&tok));
    OK(veda_thread_set_cancel(tok));
    double t0 = vt_now();
    EXPECT_ST(veda_pipeline_run(p, endless, NULL), VEDA_ERR_CANCELLED);
    CHECK(vt_now() - t0 < 10.0);
    CHECK(atomic_load(&dropped_tok) >= 1);
    OK(veda_thread_set_cancel(NULL));
    OK(veda_cancel_destroy(tok));
    OK(veda_pipeline_destroy(p));
}

/* ---- add_stage racing the start of a run -------------------------------------------------- */
#define REPLACED 1000000
static _Atomic int64_t race_stale, race_two_stage_runs;
static int32_t replace(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)seq; (void)bytes;
    *out = (void *)((intptr_t)p + REPLACED);
    return 0;
}
static int32_t expect_replaced(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)seq; (void)out; (void)bytes;
    atomic_fetch_add(&race_two_stage_runs, 1);
    if ((intptr_t)p < REPLACED) atomic_fetch_add(&race_stale, 1); /* stage 0's *out was ignored */
    return 0;
}
static int32_t one_item(void *ctx, int64_t seq, void **out, uint64_t *bytes) {
    (void)ctx; (void)bytes;
    if (seq > 0) return 0;
    *out = (void *)(intptr_t)1;
    return 1;
}
static veda_pipeline *race_p;
static _Atomic int race_go;
static void *adder(void *arg) {
    (void)arg;
    atomic_store(&race_go, 1); /* the main thread starts its run now too */
    veda_pipeline_add_stage(race_p, VEDA_STAGE_PARALLEL, expect_replaced, NULL);
    return NULL;
}
static void test_add_stage_races_run(veda_runtime *rt) {
    for (int i = 0; i < 1500; i++) {
        OK(veda_pipeline_create(rt, NULL, &race_p));
        OK(veda_pipeline_add_stage(race_p, VEDA_STAGE_PARALLEL, replace, NULL));
        atomic_store(&race_go, 0);
        pthread_t th;
        pthread_create(&th, NULL, adder, NULL);
        while (!atomic_load(&race_go)) {
        }
        if (i % 2) usleep(i % 7); /* vary the offset */
        veda_status st = veda_pipeline_run(race_p, one_item, NULL);
        CHECK(st == VEDA_OK);
        pthread_join(th, NULL);
        OK(veda_pipeline_destroy(race_p));
    }
    fprintf(stderr, "add_stage vs run: %lld two-stage runs, %lld saw stage 0's *out ignored\n",
            (long long)atomic_load(&race_two_stage_runs), (long long)atomic_load(&race_stale));
    CHECK(atomic_load(&race_stale) == 0);
}

int main(void) {
    veda_runtime *rt = vt_runtime(2, VEDA_POLICY_ADAPTIVE);
    veda_runtime *rt4 = vt_runtime(4, VEDA_POLICY_FIXED);
    test_bytes_change(rt4);
    test_oversized_alone(rt4);
    test_oversized_alone(rt);
    test_thread_cancel_token(rt);
    test_add_stage_races_run(rt);
    OK(veda_runtime_destroy(rt));
    OK(veda_runtime_destroy(rt4));
    if (vt_failures) {
        fprintf(stderr, "test_pipeline_review: %d failures\n", vt_failures);
        return 1;
    }
    printf("test_pipeline_review: ok\n");
    return 0;
}
