/* test_pipeline: veda_pipeline_* — order and modes, bounds, exactly-once with random failures and
 * cancellations (items are malloc'd: under ASan a double drop is a double free and a lost item a
 * leak), the clean prefix after a failure, cancellation from another thread, nested
 * veda_parallel_for in a stage with one worker, and every bad input of the contract. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>
#include "vt.h"

#define MAXN 4096

typedef struct item {
    int64_t seq;
    int64_t value;
} item;

typedef struct run_state {
    int64_t n;             /* items the source produces (-1: endless) */
    int64_t fail_seq;      /* item that fails (-1: none) */
    int fail_stage;        /* stage it fails in; -1: the source fails at fail_seq */
    int64_t cancel_seq;    /* item at which the last stage calls veda_pipeline_cancel (-1: none) */
    int nstages;
    int modes[8];
    veda_pipeline *p;
    uint64_t item_bytes;
    _Atomic int64_t produced;
    _Atomic int64_t finished; /* passed the last stage or dropped */
    _Atomic int64_t max_alive;
    _Atomic int64_t alive_bytes, max_alive_bytes;
    _Atomic int passed[MAXN];
    _Atomic int dropped[MAXN];
    _Atomic int in_serial[8];
    int64_t next_in_order[8];
    int64_t max_in_flight;
} run_state;

static void amax(_Atomic int64_t *a, int64_t v) {
    int64_t c = atomic_load(a);
    while (v > c && !atomic_compare_exchange_weak(a, &c, v)) {
    }
}

static int32_t src(void *ctx, int64_t seq, void **out, uint64_t *bytes) {
    run_state *s = ctx;
    if (s->fail_stage == -1 && seq == s->fail_seq) return -3;
    if (s->n >= 0 && seq >= s->n) return 0;
    if (seq >= MAXN) return 0;
    int64_t alive = atomic_load(&s->produced) - atomic_load(&s->finished);
    if (alive >= s->max_in_flight) {
        fprintf(stderr, "source called with %lld items alive (max %lld)\n", (long long)alive, (long long)s->max_in_flight);
        vt_failures++;
    }
    item *it = malloc(sizeof *it);
    it->seq = seq;
    it->value = seq;
    *out = it;
    *bytes = s->item_bytes;
    atomic_fetch_add(&s->produced, 1);
    amax(&s->max_alive, alive + 1);
    amax(&s->max_alive_bytes, atomic_fetch_add(&s->alive_bytes, (int64_t)s->item_bytes) + (int64_t)s->item_bytes);
    return 1;
}

static void drop(void *ctx, int64_t seq, void *p) {
    run_state *s = ctx;
    item *it = p;
    if (it->seq != seq) {
        fprintf(stderr, "drop: item %lld given as seq %lld\n", (long long)it->seq, (long long)seq);
        vt_failures++;
    }
    atomic_fetch_add(&s->dropped[seq], 1);
    atomic_fetch_sub(&s->alive_bytes, (int64_t)s->item_bytes);
    free(it);
    atomic_fetch_add(&s->finished, 1);
}

typedef struct stage_ctx {
    run_state *s;
    int k;
} stage_ctx;

static int32_t stage(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    stage_ctx *c = ctx;
    run_state *s = c->s;
    item *it = p;
    if (*out != p || *bytes != s->item_bytes || it->seq != seq) {
        fprintf(stderr, "stage %d: presets wrong for item %lld\n", c->k, (long long)seq);
        vt_failures++;
    }
    int mode = s->modes[c->k];
    if (mode != VEDA_STAGE_PARALLEL && atomic_fetch_add(&s->in_serial[c->k], 1) != 0) {
        fprintf(stderr, "stage %d: two items in a serial stage at once\n", c->k);
        vt_failures++;
    }
    if (mode == VEDA_STAGE_SERIAL_IN_ORDER) {
        if (seq != s->next_in_order[c->k]) {
            fprintf(stderr, "stage %d: in-order saw %lld, want %lld\n", c->k, (long long)seq, (long long)s->next_in_order[c->k]);
            vt_failures++;
        }
        s->next_in_order[c->k] = seq + 1;
    }
    if (seq % 11 == 0) usleep(20);
    int32_t rc = 0;
    if (c->k == s->fail_stage && seq == s->fail_seq) rc = 7;
    if (rc == 0 && c->k % 2 == 1) {
        /* Odd stages replace the item with a new allocation (the old one is freed here). */
        item *n = malloc(sizeof *n);
        *n = *it;
        n->value += 1;
        free(it);
        *out = n;
    }
    if (mode != VEDA_STAGE_PARALLEL) atomic_fetch_sub(&s->in_serial[c->k], 1);
    if (rc == 0 && c->k == s->nstages - 1) {
        if (seq == s->cancel_seq) OK(veda_pipeline_cancel(s->p));
        atomic_fetch_add(&s->passed[seq], 1);
        atomic_fetch_sub(&s->alive_bytes, (int64_t)s->item_bytes);
        free(*out);
        atomic_fetch_add(&s->finished, 1);
    }
    return rc;
}

static veda_runtime *rt1, *rt2, *rt4;

/* one_run builds a pipeline for s and runs it; returns the status. */
static veda_status one_run(veda_runtime *rt, run_state *s, int64_t max_in_flight, uint64_t max_bytes) {
    veda_pipeline_options o;
    veda_pipeline_options_init(&o);
    o.max_in_flight = max_in_flight;
    o.max_bytes_in_flight = max_bytes;
    o.drop = drop;
    o.drop_ctx = s;
    s->max_in_flight = max_in_flight;
    OK(veda_pipeline_create(rt, &o, &s->p));
    stage_ctx ctxs[8];
    for (int k = 0; k < s->nstages; k++) {
        ctxs[k].s = s;
        ctxs[k].k = k;
        OK(veda_pipeline_add_stage(s->p, s->modes[k], stage, &ctxs[k]));
    }
    veda_status st = veda_pipeline_run(s->p, src, s);
    OK(veda_pipeline_destroy(s->p));
    return st;
}

static void check_once(run_state *s, const char *what) {
    int64_t n = atomic_load(&s->produced);
    for (int64_t i = 0; i < n; i++) {
        int p = atomic_load(&s->passed[i]), d = atomic_load(&s->dropped[i]);
        if (p + d != 1) {
            fprintf(stderr, "%s: item %lld passed %d, dropped %d\n", what, (long long)i, p, d);
            vt_failures++;
            return;
        }
    }
    if (atomic_load(&s->finished) != n) {
        fprintf(stderr, "%s: %lld produced, %lld finished\n", what, (long long)n, (long long)atomic_load(&s->finished));
        vt_failures++;
    }
}

static void test_order_and_modes(void) {
    veda_runtime *rts[] = {rt1, rt2, rt4};
    for (int r = 0; r < 3; r++) {
        run_state *s = calloc(1, sizeof *s);
        s->n = 3000;
        s->fail_seq = -1;
        s->fail_stage = -2;
        s->cancel_seq = -1;
        s->nstages = 4;
        int modes[] = {VEDA_STAGE_PARALLEL, VEDA_STAGE_SERIAL_OUT_OF_ORDER, VEDA_STAGE_PARALLEL, VEDA_STAGE_SERIAL_IN_ORDER};
        memcpy(s->modes, modes, sizeof modes);
        s->item_bytes = 100;
        OK(one_run(rts[r], s, 8, 350));
        check_once(s, "order");
        for (int64_t i = 0; i < s->n; i++) CHECK(atomic_load(&s->passed[i]) == 1);
        CHECK(atomic_load(&s->max_alive) <= 8);
        CHECK(atomic_load(&s->max_alive_bytes) <= 400); /* 3 admitted + at most one waiting at the gate */
        free(s);
    }
}

static unsigned rng_state = 12345;
static unsigned rnd(unsigned n) {
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 8) % n;
}

static void test_random_exactly_once(void) {
    veda_runtime *rts[] = {rt1, rt2, rt4};
    for (int iter = 0; iter < 150; iter++) {
        run_state *s = calloc(1, sizeof *s);
        s->n = 1 + rnd(400);
        s->nstages = 1 + rnd(4);
        for (int k = 0; k < s->nstages; k++) s->modes[k] = (int)rnd(3);
        s->modes[s->nstages - 1] = rnd(2) ? VEDA_STAGE_SERIAL_IN_ORDER : s->modes[s->nstages - 1];
        int kind = (int)rnd(4); /* 0 none, 1 stage failure, 2 source failure, 3 cancel */
        s->fail_seq = kind == 1 || kind == 2 ? (int64_t)rnd((unsigned)s->n) : -1;
        s->fail_stage = kind == 1 ? (int)rnd((unsigned)s->nstages) : kind == 2 ? -1 : -2;
        s->cancel_seq = kind == 3 ? (int64_t)rnd((unsigned)s->n) : -1;
        s->item_bytes = rnd(3) * 10;
        int64_t maxin = 1 + rnd(16);
        veda_status st = one_run(rts[iter % 3], s, maxin, 1 + rnd(100));
        char what[128];
        snprintf(what, sizeof what, "iter %d kind %d n %lld fail %lld@%d", iter, kind, (long long)s->n, (long long)s->fail_seq, s->fail_stage);
        check_once(s, what);
        CHECK(atomic_load(&s->max_alive) <= maxin);
        if (kind == 0) EXPECT_ST(st, VEDA_OK);
        if (kind == 1 || kind == 2) {
            EXPECT_ST(st, VEDA_ERR_TASK_FAILED);
            char want[96];
            snprintf(want, sizeof want, "failed at item %lld", (long long)s->fail_seq);
            CHECK(strstr(veda_last_error(), want) != NULL);
            CHECK(strstr(veda_last_error(), kind == 1 ? "returned 7" : "the source returned -3") != NULL);
            if (kind == 1) {
                snprintf(want, sizeof want, "stage %d", s->fail_stage);
                CHECK(strstr(veda_last_error(), want) != NULL);
            }
            for (int64_t i = 0; i < s->fail_seq; i++) CHECK(atomic_load(&s->passed[i]) == 1);
            if (s->modes[s->nstages - 1] == VEDA_STAGE_SERIAL_IN_ORDER)
                for (int64_t i = s->fail_seq; i < atomic_load(&s->produced); i++) CHECK(atomic_load(&s->dropped[i]) == 1);
            if (kind == 2) CHECK(atomic_load(&s->produced) == s->fail_seq);
        }
        if (kind == 3 && st != VEDA_OK) EXPECT_ST(st, VEDA_ERR_CANCELLED);
        if (vt_failures) {
            fprintf(stderr, "%s\n", what);
            free(s);
            return;
        }
        free(s);
    }
}

/* The prefix after a failure: an in-order writer wrote exactly items 0..s-1. */
static int64_t written[MAXN];
static int64_t nwritten;
static int32_t fail_at_40(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)p; (void)out; (void)bytes;
    if (seq % 3 == 0) usleep(30);
    return seq == 40 ? 5 : 0;
}
static int32_t writer(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)p; (void)out; (void)bytes;
    written[nwritten++] = seq;
    return 0;
}
static int32_t count_src(void *ctx, int64_t seq, void **out, uint64_t *bytes) {
    (void)bytes;
    if (seq >= *(int64_t *)ctx) return 0;
    *out = (void *)(intptr_t)(seq + 1);
    return 1;
}
static _Atomic int64_t ndropped;
static void count_drop(void *ctx, int64_t seq, void *p) {
    (void)ctx;
    if ((intptr_t)p != seq + 1) vt_failures++;
    atomic_fetch_add(&ndropped, 1);
}

static void test_prefix(void) {
    veda_pipeline_options o;
    veda_pipeline_options_init(&o);
    o.max_in_flight = 16;
    o.drop = count_drop;
    veda_pipeline *p = NULL;
    OK(veda_pipeline_create(rt4, &o, &p));
    OK(veda_pipeline_add_stage(p, VEDA_STAGE_PARALLEL, fail_at_40, NULL));
    OK(veda_pipeline_add_stage(p, VEDA_STAGE_SERIAL_IN_ORDER, writer, NULL));
    int64_t n = 1000;
    EXPECT_ERR_MSG(veda_pipeline_run(p, count_src, &n), VEDA_ERR_TASK_FAILED, "stage 0 (\"stage-0\") failed at item 40: the stage function returned 5");
    CHECK(nwritten == 40);
    for (int64_t i = 0; i < nwritten; i++) CHECK(written[i] == i);
    CHECK(atomic_load(&ndropped) >= 1);
    /* Run again: the pipeline is reusable. */
    nwritten = 0;
    n = 30;
    OK(veda_pipeline_run(p, count_src, &n));
    CHECK(nwritten == 30);
    OK(veda_pipeline_destroy(p));
}

/* Cancellation from another thread on an endless source. */
static int32_t slow(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)seq; (void)p; (void)out; (void)bytes;
    usleep(100);
    return 0;
}
static void *canceller(void *p) {
    usleep(20000);
    veda_status st = veda_pipeline_cancel((veda_pipeline *)p);
    return (void *)(intptr_t)st;
}
static void test_cancel_thread(void) {
    veda_pipeline_options o;
    veda_pipeline_options_init(&o);
    o.max_in_flight = 8;
    o.drop = count_drop;
    atomic_store(&ndropped, 0);
    veda_pipeline *p = NULL;
    OK(veda_pipeline_create(rt2, &o, &p));
    OK(veda_pipeline_add_stage(p, VEDA_STAGE_PARALLEL, slow, NULL));
    OK(veda_pipeline_add_stage(p, VEDA_STAGE_SERIAL_IN_ORDER, writer, NULL));
    nwritten = 0;
    pthread_t th;
    pthread_create(&th, NULL, canceller, p);
    int64_t n = INT64_MAX;
    double t0 = vt_now();
    EXPECT_ST(veda_pipeline_run(p, count_src, &n), VEDA_ERR_CANCELLED);
    void *rc;
    pthread_join(th, &rc);
    CHECK((veda_status)(intptr_t)rc == VEDA_OK);
    CHECK(vt_now() - t0 < 5.0);
    CHECK(nwritten > 0);
    OK(veda_pipeline_cancel(p)); /* no run: a no-op */
    OK(veda_pipeline_destroy(p));
}

/* Nested veda_parallel_for inside a stage, with one worker: no deadlock. */
static _Atomic int64_t nested_sum;
static int32_t nested_body(void *ctx, int64_t b, int64_t e) {
    (void)ctx;
    for (int64_t i = b; i < e; i++) atomic_fetch_add(&nested_sum, i);
    return 0;
}
static veda_runtime *nest_rt;
static int32_t nested_stage(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)seq; (void)p; (void)out; (void)bytes;
    return (int32_t)veda_parallel_for(nest_rt, 0, 100, 5, nested_body, NULL);
}
static void test_nested(void) {
    veda_runtime *rts[] = {rt1, rt2};
    for (int r = 0; r < 2; r++) {
        nest_rt = rts[r];
        atomic_store(&nested_sum, 0);
        veda_pipeline *p = NULL;
        OK(veda_pipeline_create(nest_rt, NULL, &p));
        OK(veda_pipeline_add_stage(p, VEDA_STAGE_PARALLEL, nested_stage, NULL));
        OK(veda_pipeline_add_stage(p, VEDA_STAGE_SERIAL_IN_ORDER, nested_stage, NULL));
        int64_t n = 50;
        OK(veda_pipeline_run(p, count_src, &n));
        CHECK(atomic_load(&nested_sum) == 2 * 50 * 4950);
        OK(veda_pipeline_destroy(p));
    }
}

/* Bad input inside a run: the stage runs its own pipeline, adds a stage, destroys it. */
static veda_status inner_run, inner_add, inner_destroy;
static int32_t noop(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)seq; (void)p; (void)out; (void)bytes;
    return 0;
}
static int32_t self_stage(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)seq; (void)p; (void)out; (void)bytes;
    veda_pipeline *self = ctx;
    int64_t n = 1;
    inner_run = veda_pipeline_run(self, count_src, &n);
    inner_add = veda_pipeline_add_stage(self, VEDA_STAGE_PARALLEL, noop, NULL);
    inner_destroy = veda_pipeline_destroy(self);
    return 0;
}
static int32_t self_src(void *ctx, int64_t seq, void **out, uint64_t *bytes) {
    (void)bytes;
    if (seq > 0) return 0;
    int64_t n = 1;
    inner_run = veda_pipeline_run((veda_pipeline *)ctx, count_src, &n);
    *out = NULL;
    return 1;
}

static void test_bad_input(void) {
    veda_pipeline *p = NULL;
    EXPECT_ST(veda_pipeline_create(rt2, NULL, NULL), VEDA_ERR_INVALID_ARGUMENT);
    EXPECT_ST(veda_pipeline_create(NULL, NULL, &p), VEDA_ERR_INVALID_ARGUMENT);
    CHECK(p == NULL);
    veda_pipeline_options o;
    veda_pipeline_options_init(&o);
    CHECK(o.struct_size == sizeof o && o.priority == VEDA_PRIORITY_NORMAL && o.max_in_flight == 0 &&
          o.max_bytes_in_flight == 0 && o.drop == NULL && o.drop_ctx == NULL);
    veda_pipeline_options_init(NULL);
    o.struct_size = 8;
    EXPECT_ERR_MSG(veda_pipeline_create(rt2, &o, &p), VEDA_ERR_INVALID_ARGUMENT, "struct_size");
    veda_pipeline_options_init(&o);
    o.priority = 5;
    EXPECT_ERR_MSG(veda_pipeline_create(rt2, &o, &p), VEDA_ERR_INVALID_ARGUMENT, "priority");
    veda_pipeline_options_init(&o);
    o.max_in_flight = -1;
    EXPECT_ERR_MSG(veda_pipeline_create(rt2, &o, &p), VEDA_ERR_INVALID_ARGUMENT, "max_in_flight");
    CHECK(p == NULL);

    OK(veda_pipeline_create(rt2, NULL, &p));
    int64_t n = 3;
    EXPECT_ERR_MSG(veda_pipeline_run(p, count_src, &n), VEDA_ERR_INVALID_ARGUMENT, "no stage");
    EXPECT_ERR_MSG(veda_pipeline_add_stage(p, VEDA_STAGE_PARALLEL, NULL, NULL), VEDA_ERR_INVALID_ARGUMENT, "fn is NULL");
    EXPECT_ERR_MSG(veda_pipeline_add_stage(p, 3, noop, NULL), VEDA_ERR_INVALID_ARGUMENT, "mode");
    EXPECT_ERR_MSG(veda_pipeline_add_stage(p, -1, noop, NULL), VEDA_ERR_INVALID_ARGUMENT, "mode");
    OK(veda_pipeline_add_stage(p, VEDA_STAGE_SERIAL_OUT_OF_ORDER, self_stage, p));
    EXPECT_ERR_MSG(veda_pipeline_run(p, NULL, NULL), VEDA_ERR_INVALID_ARGUMENT, "source is NULL");
    n = 2;
    OK(veda_pipeline_run(p, count_src, &n));
    EXPECT_ST(inner_run, VEDA_ERR_INVALID_ARGUMENT);
    EXPECT_ST(inner_add, VEDA_ERR_INVALID_ARGUMENT);
    EXPECT_ST(inner_destroy, VEDA_ERR_INVALID_ARGUMENT);
    inner_run = VEDA_OK;
    OK(veda_pipeline_run(p, self_src, p));
    EXPECT_ST(inner_run, VEDA_ERR_INVALID_ARGUMENT);
    OK(veda_pipeline_destroy(p));
    /* Destroyed and forged handles. */
    EXPECT_ERR_MSG(veda_pipeline_destroy(p), VEDA_ERR_INVALID_ARGUMENT, "destroyed");
    EXPECT_ST(veda_pipeline_run(p, count_src, &n), VEDA_ERR_INVALID_ARGUMENT);
    EXPECT_ST(veda_pipeline_add_stage(p, 0, noop, NULL), VEDA_ERR_INVALID_ARGUMENT);
    EXPECT_ST(veda_pipeline_cancel(p), VEDA_ERR_INVALID_ARGUMENT);
    veda_pipeline *forged[] = {NULL, (veda_pipeline *)(uintptr_t)0x1, (veda_pipeline *)(uintptr_t)0xdeadbeef,
                               (veda_pipeline *)&o, (veda_pipeline *)rt2, (veda_pipeline *)((uintptr_t)p + 16)};
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        EXPECT_ST(veda_pipeline_run(forged[i], count_src, &n), VEDA_ERR_INVALID_ARGUMENT);
        EXPECT_ST(veda_pipeline_add_stage(forged[i], 0, noop, NULL), VEDA_ERR_INVALID_ARGUMENT);
        EXPECT_ST(veda_pipeline_cancel(forged[i]), VEDA_ERR_INVALID_ARGUMENT);
        EXPECT_ST(veda_pipeline_destroy(forged[i]), VEDA_ERR_INVALID_ARGUMENT);
    }
    /* A pipeline whose runtime was destroyed. */
    veda_runtime *r = vt_runtime(1, VEDA_POLICY_FIXED);
    OK(veda_pipeline_create(r, NULL, &p));
    OK(veda_pipeline_add_stage(p, VEDA_STAGE_PARALLEL, noop, NULL));
    OK(veda_runtime_destroy(r));
    EXPECT_ST(veda_pipeline_run(p, count_src, &n), VEDA_ERR_CLOSED);
    OK(veda_pipeline_destroy(p));
    EXPECT_ST(veda_pipeline_create(r, NULL, &p), VEDA_ERR_CLOSED);
}

/* A second concurrent run from another thread. */
static _Atomic int gate_open;
static int32_t wait_gate(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)seq; (void)p; (void)out; (void)bytes;
    while (!atomic_load(&gate_open)) usleep(100);
    return 0;
}
static void *run_thread(void *p) {
    int64_t n = 1;
    return (void *)(intptr_t)veda_pipeline_run((veda_pipeline *)p, count_src, &n);
}
static void test_concurrent_run(void) {
    veda_pipeline *p = NULL;
    OK(veda_pipeline_create(rt2, NULL, &p));
    OK(veda_pipeline_add_stage(p, VEDA_STAGE_PARALLEL, wait_gate, NULL));
    pthread_t th;
    pthread_create(&th, NULL, run_thread, p);
    usleep(20000);
    int64_t n = 1;
    EXPECT_ERR_MSG(veda_pipeline_run(p, count_src, &n), VEDA_ERR_INVALID_ARGUMENT, "in progress");
    EXPECT_ERR_MSG(veda_pipeline_destroy(p), VEDA_ERR_INVALID_ARGUMENT, "running");
    EXPECT_ST(veda_pipeline_add_stage(p, 0, noop, NULL), VEDA_ERR_INVALID_ARGUMENT);
    atomic_store(&gate_open, 1);
    void *rc;
    pthread_join(th, &rc);
    CHECK((veda_status)(intptr_t)rc == VEDA_OK);
    OK(veda_pipeline_destroy(p));
}

int main(void) {
    rt1 = vt_runtime(1, VEDA_POLICY_FIXED);
    rt2 = vt_runtime(2, VEDA_POLICY_ADAPTIVE);
    rt4 = vt_runtime(4, VEDA_POLICY_FIXED);
    test_order_and_modes();
    test_random_exactly_once();
    test_prefix();
    test_cancel_thread();
    test_nested();
    test_bad_input();
    test_concurrent_run();
    OK(veda_runtime_destroy(rt1));
    OK(veda_runtime_destroy(rt2));
    OK(veda_runtime_destroy(rt4));
    if (vt_failures) {
        fprintf(stderr, "test_pipeline: %d failures\n", vt_failures);
        return 1;
    }
    printf("test_pipeline: ok\n");
    return 0;
}
