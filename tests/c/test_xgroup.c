/* test_xgroup: the group fast path (capi.c), groups created inside C tasks that workers run.
 *
 * Such a group lives in C (its token is of capi.c's table) and its spawns go on the worker's
 * join deque. Checked against sequential results and exact run counts, with 1, 2 and 4 workers:
 * fib and a spawn-many tree through groups made in tasks; failures (the first code, reported
 * once, the group reusable); destroy without a wait; a group made in a task and then waited,
 * spawned into and destroyed from the main thread and from other threads (more records than a
 * group holds inline, more than a deque holds); spawns from a task of another runtime; records
 * left on the deque under a veda_join; two waits at once; 400-deep nesting; a runtime destroyed
 * with tasks still queued; and every handle rule: stale, forged, NULL fn, the token refused as
 * any other kind of handle. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include "vt.h"

static veda_runtime *rt;

/* in_task runs fn(ctx) as a task of r (on a worker) and returns its result status. */
static veda_status in_task(veda_runtime *r, veda_task_fn fn, void *ctx) {
    veda_future *f = NULL;
    veda_status st = veda_submit(r, fn, ctx, NULL, &f);
    if (st != VEDA_OK) return st;
    st = veda_future_wait(f, -1);
    veda_future_release(f);
    return st;
}

/* A token of capi.c's table: its salt (top 16 bits) differs from the Go tables' (a runtime's). */
static int c_side(veda_runtime *r, veda_group *g) { return ((uintptr_t)g >> 48) != ((uintptr_t)r >> 48); }

/* ---- fib through a group per call ---- */
typedef struct { int n; long r; } fib_arg;
static long fib_seq(int n) { return n < 2 ? n : fib_seq(n - 1) + fib_seq(n - 2); }
static atomic_int go_side_groups; /* groups made in tasks that were not C-side (must stay 0) */
static int32_t fib_group(void *p) {
    fib_arg *a = p;
    if (a->n < 8) { a->r = fib_seq(a->n); return 0; }
    fib_arg x = {a->n - 1, 0}, y = {a->n - 2, 0};
    veda_group *g;
    if (veda_group_create(rt, &g) != VEDA_OK) return 1;
    if (!c_side(rt, g)) atomic_fetch_add(&go_side_groups, 1);
    if (veda_group_spawn(g, fib_group, &x) != VEDA_OK) return 2;
    if (veda_group_spawn(g, fib_group, &y) != VEDA_OK) return 3;
    veda_status st = veda_group_wait(g);
    if (veda_group_destroy(g) != VEDA_OK) return 4;
    a->r = x.r + y.r;
    return st != VEDA_OK;
}

/* spawns made by fib_group(n): two per call with n >= 8 */
static long long spawns_of(int n) { return n < 8 ? 0 : 2 + spawns_of(n - 1) + spawns_of(n - 2); }

/* ---- a wide tree: each node spawns `width` children into one group ---- */
typedef struct { int depth; atomic_long *leaves; } tree_arg;
static int32_t tree_node(void *p) {
    tree_arg *a = p;
    if (a->depth == 0) { atomic_fetch_add(a->leaves, 1); return 0; }
    enum { WIDTH = 40 }; /* more than a group's 32 inline records */
    tree_arg kids[WIDTH];
    veda_group *g;
    if (veda_group_create(rt, &g) != VEDA_OK) return 1;
    for (int i = 0; i < WIDTH; i++) {
        kids[i] = (tree_arg){a->depth - 1, a->leaves};
        if (veda_group_spawn(g, tree_node, &kids[i]) != VEDA_OK) return 2;
    }
    veda_status st = veda_group_wait(g);
    veda_group_destroy(g);
    return st != VEDA_OK;
}

/* ---- failures ---- */
static int32_t code_task(void *ctx) { return *(int *)ctx; }
static atomic_int counter;
static int32_t count_task(void *ctx) { (void)ctx; atomic_fetch_add(&counter, 1); return 0; }
typedef struct { veda_status first, again, reuse; char msg[256]; } fail_res;
static int32_t failures_in_task(void *p) {
    fail_res *r = p;
    static int codes[5] = {0, 0, 9, 0, 0};
    veda_group *g;
    if (veda_group_create(rt, &g) != VEDA_OK) return 1;
    for (int i = 0; i < 5; i++) veda_group_spawn(g, code_task, &codes[i]);
    r->first = veda_group_wait(g);
    snprintf(r->msg, sizeof r->msg, "%s", veda_last_error());
    r->again = veda_group_wait(g); /* reported once */
    veda_group_spawn(g, count_task, NULL);
    r->reuse = veda_group_wait(g);
    return veda_group_destroy(g) != VEDA_OK;
}

/* ---- destroy without a wait runs the tasks first ---- */
static int32_t destroy_unwaited(void *p) {
    (void)p;
    veda_group *g;
    if (veda_group_create(rt, &g) != VEDA_OK) return 1;
    for (int i = 0; i < 10; i++) veda_group_spawn(g, count_task, NULL);
    if (veda_group_destroy(g) != VEDA_OK) return 2;
    return atomic_load(&counter) == 10 ? 0 : 3;
}

/* ---- a group made in a task and handed out ---- */
enum { PER_THREAD = 3000, THREADS = 4, MADE = 300 };
static atomic_int runs[THREADS + 1][PER_THREAD];
static int32_t mark(void *ctx) { atomic_fetch_add((atomic_int *)ctx, 1); return 0; }
static veda_group *shared_g;
static int32_t make_and_leave(void *p) {
    (void)p;
    if (veda_group_create(rt, &shared_g) != VEDA_OK) return 1;
    if (!c_side(rt, shared_g)) return 2;
    /* 300 spawns: 32 inline records on the deque, the rest (and a full deque) through Go */
    for (int i = 0; i < MADE; i++)
        if (veda_group_spawn(shared_g, mark, &runs[THREADS][i]) != VEDA_OK) return 3;
    return 0; /* returns without waiting: the records stay queued */
}
static void *spawner(void *arg) {
    int k = (int)(intptr_t)arg;
    for (int i = 0; i < PER_THREAD; i++)
        if (veda_group_spawn(shared_g, mark, &runs[k][i]) != VEDA_OK) abort();
    return NULL;
}
static void check_runs(int threads, int per, int made) {
    long bad = 0;
    for (int k = 0; k < THREADS; k++)
        for (int i = 0; i < PER_THREAD; i++) bad += atomic_load(&runs[k][i]) != (k < threads && i < per);
    for (int i = 0; i < PER_THREAD; i++) bad += atomic_load(&runs[THREADS][i]) != (i < made);
    if (bad) fprintf(stderr, "%ld tasks ran not exactly once\n", bad);
    CHECK(bad == 0);
}

/* ---- spawns from a task of another runtime ---- */
static veda_runtime *other;
static int32_t spawn_from_other(void *p) {
    (void)p;
    for (int i = 0; i < 100; i++)
        if (veda_group_spawn(shared_g, mark, &runs[0][i]) != VEDA_OK) return 1;
    return 0;
}

/* ---- records left under a veda_join ---- */
static veda_group *left_g;
static int32_t join_a(void *p) {
    (void)p;
    if (veda_group_create(rt, &left_g) != VEDA_OK) return 1;
    for (int i = 0; i < 5; i++) veda_group_spawn(left_g, count_task, NULL);
    return 0; /* leaves five records on top of the join's own */
}
static int32_t join_b(void *p) { (void)p; atomic_fetch_add(&counter, 100); return 0; }
static int32_t join_leaving_records(void *p) {
    (void)p;
    if (veda_join(rt, join_a, NULL, join_b, NULL) != VEDA_OK) return 1;
    if (veda_group_wait(left_g) != VEDA_OK) return 2;
    if (veda_group_destroy(left_g) != VEDA_OK) return 3;
    return atomic_load(&counter) == 105 ? 0 : 4;
}

/* ---- deep nesting: a chain of groups, one child each ---- */
static int32_t chain(void *p) {
    int n = (int)(intptr_t)p;
    if (n == 0) { atomic_fetch_add(&counter, 1); return 0; }
    veda_group *g;
    if (veda_group_create(rt, &g) != VEDA_OK) return 1;
    veda_group_spawn(g, chain, (void *)(intptr_t)(n - 1));
    atomic_fetch_add(&counter, 1);
    veda_status st = veda_group_wait(g);
    veda_group_destroy(g);
    return st != VEDA_OK;
}

/* ---- two waits at once (veda.h: one at a time; it must still not hang) ---- */
static int32_t slow(void *p) {
    (void)p;
    vt_sleep_ms(2);
    atomic_fetch_add(&counter, 1);
    return 0;
}
static int32_t make_slow(void *p) {
    (void)p;
    if (veda_group_create(rt, &shared_g) != VEDA_OK) return 1;
    for (int i = 0; i < 20; i++) veda_group_spawn(shared_g, slow, NULL);
    return 0;
}
static int32_t wait_shared(void *p) { (void)p; return veda_group_wait(shared_g) != VEDA_OK; }
static void *wait_thread(void *p) {
    *(veda_status *)p = veda_group_wait(shared_g);
    return NULL;
}

/* ---- bad input inside a task ---- */
typedef struct { veda_status spawn_null, stale_spawn, stale_wait, stale_destroy, forged_gen, forged_slot,
                 as_future, as_runtime_call, create_null_out, create_forged_rt, create_dead_rt;
                 veda_group *null_out_left; char stale_msg[256], destroy_msg[256], forged_msg[256], null_msg[256],
                 out_msg[256]; } bad_res;
static veda_runtime *dead_rt; /* a destroyed runtime's token */
static int32_t bad_input(void *p) {
    bad_res *r = p;
    veda_group *g;
    /* create inside a task: NULL out, a forged runtime token (a runtime tag), a destroyed one */
    r->create_null_out = veda_group_create(rt, NULL);
    snprintf(r->out_msg, sizeof r->out_msg, "%s", veda_last_error());
    g = (veda_group *)(uintptr_t)1;
    r->create_forged_rt = veda_group_create((veda_runtime *)(uintptr_t)0x12349, &g);
    r->null_out_left = g; /* cleared on failure */
    r->create_dead_rt = veda_group_create(dead_rt, &g);
    if (veda_group_create(rt, &g) != VEDA_OK) return 1;
    r->spawn_null = veda_group_spawn(g, NULL, NULL);
    snprintf(r->null_msg, sizeof r->null_msg, "%s", veda_last_error());
    uintptr_t tok = (uintptr_t)g;
    /* the same slot one generation on, and a slot never handed out */
    veda_group *gen_next = (veda_group *)(tok + ((uintptr_t)1 << 26));
    veda_group *far_slot = (veda_group *)((tok & ~(((uintptr_t)1 << 26) - 1)) | ((uintptr_t)0x3FFFFF << 4) | 0xA);
    r->forged_gen = veda_group_wait(gen_next);
    snprintf(r->forged_msg, sizeof r->forged_msg, "%s", veda_last_error());
    r->forged_slot = veda_group_spawn(far_slot, count_task, NULL);
    r->as_future = veda_future_wait((veda_future *)g, 0);
    r->as_runtime_call = veda_runtime_num_workers((veda_runtime *)g) == -1 ? VEDA_ERR_INVALID_ARGUMENT : VEDA_OK;
    if (veda_group_destroy(g) != VEDA_OK) return 2;
    r->stale_spawn = veda_group_spawn(g, count_task, NULL);
    snprintf(r->stale_msg, sizeof r->stale_msg, "%s", veda_last_error());
    r->stale_wait = veda_group_wait(g);
    r->stale_destroy = veda_group_destroy(g);
    snprintf(r->destroy_msg, sizeof r->destroy_msg, "%s", veda_last_error());
    return 0;
}

/* ---- the same handles from several threads while they are destroyed and their slots reused:
   a task creates, uses and destroys groups in a loop while two threads spawn into and wait on
   whatever token it published last (live, or destroyed: INVALID_ARGUMENT). Every spawn that
   returned OK ran exactly once, nothing hangs. */
static _Atomic uintptr_t published;
static atomic_int churn_done;
static atomic_long churn_ok_spawns, churn_ran;
static int32_t churn_count(void *p) { (void)p; atomic_fetch_add(&churn_ran, 1); return 0; }
static int32_t churn(void *p) {
    (void)p;
    for (int i = 0; i < 4000; i++) {
        veda_group *g;
        if (veda_group_create(rt, &g) != VEDA_OK) return 1;
        atomic_store(&published, (uintptr_t)g);
        if (veda_group_spawn(g, churn_count, NULL) != VEDA_OK) return 2;
        atomic_fetch_add(&churn_ok_spawns, 1);
        if (veda_group_wait(g) != VEDA_OK) return 3;
        if (veda_group_destroy(g) != VEDA_OK) return 4;
    }
    return 0;
}
static void *churn_user(void *p) {
    long bad = 0;
    while (!atomic_load(&churn_done)) {
        veda_group *g = (veda_group *)atomic_load(&published);
        if (g == NULL) continue;
        veda_status st = veda_group_spawn(g, churn_count, NULL);
        if (st == VEDA_OK) atomic_fetch_add(&churn_ok_spawns, 1);
        else if (st != VEDA_ERR_INVALID_ARGUMENT) bad++;
        st = veda_group_wait(g);
        if (st != VEDA_OK && st != VEDA_ERR_INVALID_ARGUMENT) bad++;
    }
    *(long *)p = bad;
    return NULL;
}

/* ---- a wait that, helping, runs a task which destroys the same group (found by the second
   review: the destroy waited for that wait, further down its own stack, forever). Needs two
   workers: the group's task is stolen, so the wait goes to Go and helps. ---- */
static veda_group *nd_g;
static atomic_int nd_phase;
static int32_t nd_slow(void *p) {
    (void)p;
    atomic_store(&nd_phase, 1);
    vt_sleep_ms(50);
    return 0;
}
static int32_t nd_destroyer(void *p) { (void)p; return veda_group_destroy(nd_g) != VEDA_OK; }
static int32_t nd_waiter(void *p) {
    (void)p;
    atomic_store(&nd_phase, 0);
    if (veda_group_create(rt, &nd_g) != VEDA_OK) return 1;
    if (veda_group_spawn(nd_g, nd_slow, NULL) != VEDA_OK) return 2;
    for (int i = 0; i < 2000000 && atomic_load(&nd_phase) == 0; i++) sched_yield(); /* stolen */
    veda_future *f;
    if (veda_submit(rt, nd_destroyer, NULL, NULL, &f) != VEDA_OK) return 3;
    veda_status st = veda_group_wait(nd_g); /* OK, or INVALID_ARGUMENT if the destroy came first */
    veda_status fs = veda_future_wait(f, 10000000000LL);
    veda_future_release(f);
    return (st == VEDA_OK || st == VEDA_ERR_INVALID_ARGUMENT) && fs == VEDA_OK ? 0 : 4;
}

/* ---- a runtime destroyed while a task's C-side groups still spawn and wait: they work until
   its Close returned, as on the Go path (found by review: they got CLOSED, and the task returned
   while children using its frame were still queued) ---- */
static int32_t fib_root(void *p) { return fib_group(p); }

/* ---- a runtime destroyed with tasks of a C-side group still queued ---- */
static int32_t make_queued(void *p) {
    (void)p;
    if (veda_group_create(rt, &shared_g) != VEDA_OK) return 1;
    for (int i = 0; i < 30; i++) veda_group_spawn(shared_g, slow, NULL);
    return 0;
}

int main(void) {
    for (int workers = 1; workers <= 4; workers *= 2) {
        rt = vt_runtime(workers, VEDA_POLICY_ADAPTIVE);

        atomic_store(&go_side_groups, 0); /* (groups made while a runtime is destroyed are Go groups) */
        for (int n = 8; n <= 24; n += 4) {
            fib_arg f = {n, 0};
            OK(in_task(rt, fib_group, &f));
            if (f.r != fib_seq(n)) { fprintf(stderr, "fib(%d) = %ld, want %ld\n", n, f.r, fib_seq(n)); vt_failures++; }
        }
        CHECK(atomic_load(&go_side_groups) == 0);
        /* every task of a C-side group is a task in the metrics, run by its owner or stolen
           (the counters are published when workers go idle, so poll a little) */
        long long before = vt_metric(rt, "tasks_executed"), want = spawns_of(20), got = 0;
        fib_arg m = {20, 0};
        OK(in_task(rt, fib_group, &m));
        for (int i = 0; i < 200; i++) {
            got = vt_metric(rt, "tasks_executed") - before;
            if (got >= want + 1) break;
            vt_sleep_ms(10);
        }
        if (!(got >= want + 1 && got <= want + 16)) printf("tasks_executed grew by %lld for %lld spawns + 1 task\n", got, want);
        CHECK(got >= want + 1 && got <= want + 16);

        atomic_long leaves = 0;
        tree_arg root = {3, &leaves};
        OK(in_task(rt, tree_node, &root));
        CHECK(atomic_load(&leaves) == 40 * 40 * 40);

        fail_res fr;
        memset(&fr, 0, sizeof fr);
        OK(in_task(rt, failures_in_task, &fr));
        CHECK(fr.first == VEDA_ERR_TASK_FAILED && strstr(fr.msg, "veda_group_wait") && strstr(fr.msg, "returned 9"));
        CHECK(fr.again == VEDA_OK);
        CHECK(fr.reuse == VEDA_OK);

        atomic_store(&counter, 0);
        OK(in_task(rt, destroy_unwaited, NULL));

        /* Made in a task, left with 300 queued records; then the main thread and four threads
           spawn into it (each spawn from outside the pool goes through Go) and the main thread
           waits: every task ran exactly once. */
        memset(runs, 0, sizeof runs);
        OK(in_task(rt, make_and_leave, NULL));
        pthread_t th[THREADS];
        for (int k = 1; k < THREADS; k++) pthread_create(&th[k], NULL, spawner, (void *)(intptr_t)k);
        spawner((void *)(intptr_t)0);
        for (int k = 1; k < THREADS; k++) pthread_join(th[k], NULL);
        OK(veda_group_wait(shared_g));
        check_runs(THREADS, PER_THREAD, MADE);
        /* spawned from a task of another runtime: through Go as well */
        memset(runs, 0, sizeof runs);
        other = vt_runtime(1, VEDA_POLICY_ADAPTIVE);
        OK(in_task(other, spawn_from_other, NULL));
        OK(veda_group_wait(shared_g));
        check_runs(1, 100, 0);
        OK(veda_runtime_destroy(other));
        OK(veda_group_destroy(shared_g));
        EXPECT_ERR_MSG(veda_group_wait(shared_g), VEDA_ERR_INVALID_ARGUMENT, "g was destroyed");

        atomic_store(&counter, 0);
        OK(in_task(rt, join_leaving_records, NULL));

        atomic_store(&counter, 0);
        OK(in_task(rt, chain, (void *)(intptr_t)400));
        CHECK(atomic_load(&counter) == 401);

        /* two waits at once, from a task and from another thread; then the main thread */
        atomic_store(&counter, 0);
        OK(in_task(rt, make_slow, NULL));
        veda_status ws = VEDA_ERR_INTERNAL;
        pthread_t wt;
        pthread_create(&wt, NULL, wait_thread, &ws);
        OK(in_task(rt, wait_shared, NULL));
        pthread_join(wt, NULL);
        OK(ws);
        CHECK(atomic_load(&counter) == 20);
        OK(veda_group_destroy(shared_g));

        dead_rt = vt_runtime(1, VEDA_POLICY_ADAPTIVE);
        OK(veda_runtime_destroy(dead_rt));
        bad_res br;
        memset(&br, 0, sizeof br);
        OK(in_task(rt, bad_input, &br));
        CHECK(br.spawn_null == VEDA_ERR_INVALID_ARGUMENT && strstr(br.null_msg, "fn is NULL"));
        CHECK(br.forged_gen == VEDA_ERR_INVALID_ARGUMENT && strstr(br.forged_msg, "not a group handle"));
        CHECK(br.forged_slot == VEDA_ERR_INVALID_ARGUMENT);
        CHECK(br.as_future == VEDA_ERR_INVALID_ARGUMENT);
        CHECK(br.as_runtime_call == VEDA_ERR_INVALID_ARGUMENT);
        CHECK(br.stale_spawn == VEDA_ERR_INVALID_ARGUMENT && strstr(br.stale_msg, "veda_group_spawn: veda: invalid argument: g was destroyed"));
        CHECK(br.stale_wait == VEDA_ERR_INVALID_ARGUMENT);
        CHECK(br.stale_destroy == VEDA_ERR_INVALID_ARGUMENT && strstr(br.destroy_msg, "already destroyed"));
        CHECK(br.create_null_out == VEDA_ERR_INVALID_ARGUMENT && strstr(br.out_msg, "out is NULL"));
        CHECK(br.create_forged_rt == VEDA_ERR_INVALID_ARGUMENT && br.null_out_left == NULL);
        CHECK(br.create_dead_rt == VEDA_ERR_CLOSED);

        if (workers >= 2) OK(in_task(rt, nd_waiter, NULL));

        atomic_store(&published, 0);
        atomic_store(&churn_done, 0);
        atomic_store(&churn_ok_spawns, 0);
        atomic_store(&churn_ran, 0);
        long ubad[2] = {0, 0};
        pthread_t ut[2];
        for (int k = 0; k < 2; k++) pthread_create(&ut[k], NULL, churn_user, &ubad[k]);
        OK(in_task(rt, churn, NULL));
        atomic_store(&churn_done, 1);
        for (int k = 0; k < 2; k++) pthread_join(ut[k], NULL);
        CHECK(ubad[0] == 0 && ubad[1] == 0);
        CHECK(atomic_load(&churn_ran) == atomic_load(&churn_ok_spawns));

        /* destroy the runtime with 30 slow tasks still queued: it runs them all first; then the
           group reports CLOSED and can still be destroyed */
        atomic_store(&counter, 0);
        OK(in_task(rt, make_queued, NULL));
        OK(veda_runtime_destroy(rt));
        CHECK(atomic_load(&counter) == 30);
        EXPECT_ERR_MSG(veda_group_spawn(shared_g, count_task, NULL), VEDA_ERR_CLOSED, "runtime was destroyed");
        EXPECT_ST(veda_group_wait(shared_g), VEDA_ERR_CLOSED);
        OK(veda_group_destroy(shared_g));
        EXPECT_ERR_MSG(veda_group_destroy(shared_g), VEDA_ERR_INVALID_ARGUMENT, "already destroyed");
        /* a destroy in the middle of fib through groups made in tasks: the right result */
        rt = vt_runtime(workers, VEDA_POLICY_ADAPTIVE);
        fib_arg big = {27, 0};
        veda_future *bf;
        OK(veda_submit(rt, fib_root, &big, NULL, &bf));
        vt_sleep_ms(3);
        OK(veda_runtime_destroy(rt));
        veda_future_release(bf);
        CHECK(big.r == fib_seq(27));
        printf("%d worker(s): ok\n", workers);
    }
    VT_DONE("test_xgroup");
}
