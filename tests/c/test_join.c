/* test_join: veda_join runs both functions (nested to any depth: fib), reports TASK_FAILED when
 * either fails while still running both, rejects NULL functions with nothing run, and works from
 * many application threads at once and from inside other callbacks. Joins made inside a task
 * that a worker runs take the C-side fast path (capi.c, sched/ext.go): the same rules are
 * checked there, with records stolen and owners parked (more workers than cores), past the
 * deque's capacity, and with other runtimes' handles, live and destroyed. */
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

/* ---- inside workers: the fast path ---- */

/* Joins made by fib_task when it runs on a worker (every level below the root). */
static long long joins_of(int n) { return n < 10 ? 0 : 1 + joins_of(n - 1) + joins_of(n - 2); }

/* A join inside a task: its halves fail or not as asked and run for a while (fa 300 us, fb 1 ms:
 * long enough for the parked second worker to be woken by the push and steal fb, and for the
 * owner to wait for it, parked, until the thief is done). Records which thread ran each half. */
typedef struct {
    int32_t code;
    double spin_s;
    pthread_t ran_on;
} half;
typedef struct {
    half a, b;
    veda_status st; /* veda_join's status */
    char msg[128];  /* veda_last_error() right after it, on the same thread */
    pthread_t joiner;
} inner_join;

static _Atomic long long halves;
static int32_t coded(void *p) {
    half *h = p;
    atomic_fetch_add(&halves, 1);
    h->ran_on = pthread_self();
    for (double t0 = vt_now(); vt_now() - t0 < h->spin_s;) {}
    return h->code;
}
static int32_t inner_task(void *p) {
    inner_join *j = p;
    j->joiner = pthread_self();
    j->st = veda_join(rt, coded, &j->a, coded, &j->b);
    snprintf(j->msg, sizeof j->msg, "%s", veda_last_error());
    return 0;
}

/* fib that fails at every leaf n == 10 on the left spine (fa side); counts every leaf run. */
static _Atomic long long leaves;
static int32_t fib_fail(void *p) {
    fib_arg *a = p;
    if (a->n < 10) {
        atomic_fetch_add(&leaves, 1);
        a->r = fib_seq(a->n);
        return 0;
    }
    if (a->n == 10) { atomic_fetch_add(&leaves, 1); return 5; }
    fib_arg x = {a->n - 1, 0, 0}, y = {a->n - 2, 0, 0};
    veda_status st = veda_join(rt, fib_fail, &x, fib_fail, &y);
    if (st != VEDA_OK) return 6;
    a->r = x.r + y.r;
    return 0;
}
static long long leaves_of(int n) { return n <= 10 ? 1 : leaves_of(n - 1) + leaves_of(n - 2); }

/* A chain of nested joins deeper than the deque (256 records): the rest take the Go path. */
static int32_t chain(void *p) {
    intptr_t n = (intptr_t)p;
    if (n == 0) return 0;
    return veda_join(rt, chain, (void *)(n - 1), ok_task, NULL) == VEDA_OK ? 0 : 1;
}

/* A join made inside a task with the handle and functions given (bad input on the fast path):
 * its status and veda_last_error() on the task's thread. */
typedef struct {
    veda_runtime *h;
    veda_task_fn fa, fb;
    veda_status st;
    char msg[128];
} join_on_arg;
static int32_t join_on(void *p) {
    join_on_arg *j = p;
    j->st = veda_join(j->h, j->fa, NULL, j->fb, NULL);
    snprintf(j->msg, sizeof j->msg, "%s", veda_last_error());
    return 0;
}
/* Runs join_on inside a task of rt; the outer join's own ok_task adds 1 to ran. */
static join_on_arg join_inside(veda_runtime *h, veda_task_fn fa, veda_task_fn fb) {
    join_on_arg j = {h, fa, fb, -1, ""};
    OK(veda_join(rt, join_on, &j, ok_task, NULL));
    return j;
}

/* Joins inside a task of rt on another runtime's handle (live: works; destroyed: refused). */
static veda_runtime *other;
static int32_t fib_other(void *p) {
    fib_arg *a = p;
    if (a->n < 10) { a->r = fib_seq(a->n); return 0; }
    fib_arg x = {a->n - 1, 0, 0}, y = {a->n - 2, 0, 0};
    if (veda_join(other, fib_other, &x, fib_other, &y) != VEDA_OK) return 1;
    a->r = x.r + y.r;
    return 0;
}



/* Joins inside a reduce fold and inside a pipeline stage (both run on workers). */
static int32_t fib_fold(void *ctx, int64_t b, int64_t e, void *acc) {
    (void)ctx;
    for (int64_t i = b; i < e; i++) {
        fib_arg x = {18, 0, 0};
        if (veda_join(rt, fib_task, &x, ok_task, NULL) != VEDA_OK) return 1;
        *(long long *)acc += x.r;
    }
    return 0;
}
static void add_ll(void *ctx, void *acc, const void *other) {
    (void)ctx;
    *(long long *)acc += *(const long long *)other;
}
static int32_t seq_src(void *ctx, int64_t seq, void **out, uint64_t *bytes) {
    (void)bytes;
    if (seq >= *(int64_t *)ctx) return 0;
    *out = (void *)(intptr_t)(seq + 1);
    return 1;
}
static _Atomic long long stage_sum;
static int32_t fib_stage(void *ctx, int64_t seq, void *item, void **out, uint64_t *bytes) {
    (void)ctx; (void)seq; (void)out; (void)bytes;
    fib_arg x = {10 + (int)((intptr_t)item % 8), 0, 0};
    if (veda_join(rt, fib_task, &x, ok_task, NULL) != VEDA_OK || x.r != fib_seq(x.n)) return 1;
    atomic_fetch_add(&stage_sum, x.r);
    return 0;
}

static void fast_path_checks(void) {
    /* In a fold and in a stage. */
    long long zero = 0, total = -1;
    OK(veda_parallel_reduce(rt, 0, 32, 1, sizeof total, &zero, fib_fold, add_ll, NULL, &total));
    CHECK(total == 32 * fib_seq(18));
    veda_pipeline *pl = NULL;
    OK(veda_pipeline_create(rt, NULL, &pl));
    OK(veda_pipeline_add_stage(pl, VEDA_STAGE_PARALLEL, fib_stage, NULL));
    int64_t items = 200;
    stage_sum = 0;
    OK(veda_pipeline_run(pl, seq_src, &items));
    long long want_sum = 0;
    for (int64_t i = 1; i <= items; i++) want_sum += fib_seq(10 + (int)(i % 8));
    CHECK(stage_sum == want_sum);
    OK(veda_pipeline_destroy(pl));

    /* Results with stealing and parking: 8 workers on this machine's cores, 4 submitters. */
    veda_runtime *keep = rt;
    rt = vt_runtime(8, VEDA_POLICY_ADAPTIVE);
    for (int round = 0; round < 20; round++) {
        enum { T = 4 };
        pthread_t th[T];
        fib_arg args[T];
        for (int i = 0; i < T; i++) {
            args[i] = (fib_arg){18 + (round + i) % 7, 0, -1};
            CHECK(pthread_create(&th[i], NULL, thread_fib, &args[i]) == 0);
        }
        for (int i = 0; i < T; i++) {
            pthread_join(th[i], NULL);
            CHECK(args[i].st == VEDA_OK && args[i].r == fib_seq(args[i].n));
        }
    }
    OK(veda_runtime_destroy(rt));
    rt = keep;

    /* Failures inside a worker: TASK_FAILED with the code (fa's first), both halves ran, whether
       fb ran on the joining worker or was stolen (then the owner waited for the thief). */
    const int32_t codes[4][2] = {{0, 0}, {7, 0}, {0, 9}, {3, 4}};
    int stolen = 0;
    for (int rep = 0; rep < 10; rep++) {
        for (int c = 0; c < 4; c++) {
            inner_join j = {{codes[c][0], 300e-6, 0}, {codes[c][1], 1e-3, 0}, -1, "", 0};
            halves = 0;
            OK(veda_join(rt, inner_task, &j, ok_task, NULL));
            CHECK(halves == 2);
            CHECK(pthread_equal(j.a.ran_on, j.joiner));
            stolen += !pthread_equal(j.b.ran_on, j.joiner);
            if (c == 0) {
                CHECK(j.st == VEDA_OK);
            } else {
                char want[32];
                snprintf(want, sizeof want, "returned %d", codes[c][0] ? codes[c][0] : codes[c][1]);
                CHECK(j.st == VEDA_ERR_TASK_FAILED && strstr(j.msg, want) != NULL);
            }
        }
    }
    printf("inner joins whose fb was stolen: %d of 40\n", stolen);
    CHECK(stolen > 0); /* the push woke the parked worker, which took the record */

    /* A failing leaf deep in the tree: the root fails, and every leaf still ran exactly once. */
    for (int rep = 0; rep < 10; rep++) {
        fib_arg a = {22, 0, 0};
        leaves = 0;
        EXPECT_ST(veda_join(rt, fib_fail, &a, ok_task, NULL), VEDA_ERR_TASK_FAILED);
        CHECK(leaves == leaves_of(22));
    }

    /* Deeper than the deque: the joins past 256 take the Go path; nothing breaks. */
    OK(veda_join(rt, chain, (void *)(intptr_t)600, ok_task, NULL));

    /* Another live runtime's handle inside rt's task: its own pool runs the joins. */
    other = vt_runtime(2, VEDA_POLICY_ADAPTIVE);
    fib_arg o = {20, 0, 0};
    OK(veda_join(rt, fib_other, &o, ok_task, NULL));
    CHECK(o.r == fib_seq(20));
    ran = 0;
    CHECK(join_inside(other, ok_task, ok_task).st == VEDA_OK);
    CHECK(ran == 3);
    /* Bad input inside a task, refused as on the Go path, and nothing of it runs: a destroyed
       handle, a forged one with a runtime token's tag, NULL functions. */
    OK(veda_runtime_destroy(other));
    ran = 0;
    join_on_arg j = join_inside(other, ok_task, ok_task);
    CHECK(j.st == VEDA_ERR_CLOSED && strstr(j.msg, "destroyed") != NULL);
    j = join_inside((veda_runtime *)(uintptr_t)0x12349, ok_task, ok_task);
    CHECK(j.st == VEDA_ERR_INVALID_ARGUMENT);
    j = join_inside(rt, NULL, ok_task);
    CHECK(j.st == VEDA_ERR_INVALID_ARGUMENT && strstr(j.msg, "fa is NULL") != NULL);
    j = join_inside(rt, ok_task, NULL);
    CHECK(j.st == VEDA_ERR_INVALID_ARGUMENT && strstr(j.msg, "fb is NULL") != NULL);
    CHECK(ran == 4); /* the four outer joins' ok_task only */

    /* Every join is a task in the metrics, fast path or not (the counters are published when
       workers go idle, so poll a little). */
    fib_arg m = {24, 0, 0};
    long long before = vt_metric(rt, "tasks_executed");
    OK(veda_join(rt, fib_task, &m, ok_task, NULL));
    CHECK(m.r == fib_seq(24));
    long long want = joins_of(24), got = 0;
    for (int i = 0; i < 200; i++) {
        got = vt_metric(rt, "tasks_executed") - before;
        if (got >= want) break;
        vt_sleep_ms(10);
    }
    if (!(got >= want && got <= want + 16))
        printf("tasks_executed grew by %lld for %lld joins\n", got, want);
    CHECK(got >= want && got <= want + 16);
}

/* NULL and freed gate entries: runtime token slot 0 is freed, then NULL handles are refused. */
static int32_t one_body(void *ctx, int64_t b, int64_t e) { (void)ctx; (void)b; (void)e; atomic_fetch_add(&ran, 1); return 0; }

static void null_handle_checks(void) {
    veda_runtime *a = NULL, *b = NULL;
    OK(veda_runtime_shared(&a)); /* the process's first handle: gate entry 0 */
    OK(veda_runtime_shared(&b));
    OK(veda_runtime_destroy(a)); /* entry 0 free again */
    rt = b;
    ran = 0;
    join_on_arg j = join_inside(NULL, ok_task, ok_task);
    CHECK(j.st == VEDA_ERR_INVALID_ARGUMENT && strstr(j.msg, "NULL") != NULL);
    CHECK(ran == 1); /* the outer ok_task only */
    ran = 0;
    EXPECT_ST(veda_parallel_for(NULL, 0, 1, 1, one_body, NULL), VEDA_ERR_INVALID_ARGUMENT);
    CHECK(ran == 0);
    OK(veda_runtime_destroy(b));
    rt = NULL;
}

/* A worker that waits inside fa (a helping wait: veda_future_wait) while its own record fb is on
 * its deque must run fb itself when nobody else can: here the other worker is held by F, which
 * waits for the flag that fb sets (it gives up after 5 s, which fails the check below). */
static veda_future *held;
static _Atomic int flag;
static int32_t hold_until_flag(void *p) {
    (void)p;
    for (double t0 = vt_now(); !atomic_load(&flag);) {
        if (vt_now() - t0 > 5) return 1;
        vt_sleep_ms(1);
    }
    return 0;
}
static int32_t wait_held(void *p) { (void)p; return veda_future_wait(held, -1); }
static int32_t set_flag(void *p) { (void)p; atomic_store(&flag, 1); return 0; }
static int32_t join_wait_set(void *p) { (void)p; return veda_join(rt, wait_held, NULL, set_flag, NULL); }

static void own_record_checks(void) {
    veda_runtime *keep = rt;
    veda_config c;
    veda_config_init(&c);
    c.num_workers = 2;
    c.policy = VEDA_POLICY_FIXED;
    c.disable_gpu = 1;
    OK(veda_runtime_create(&c, &rt));
    flag = 0;
    OK(veda_submit(rt, hold_until_flag, NULL, NULL, &held));
    vt_sleep_ms(20); /* F runs on one worker */
    OK(veda_join(rt, join_wait_set, NULL, ok_task, NULL));
    CHECK(flag == 1);
    OK(veda_future_wait(held, -1)); /* F saw the flag before giving up */
    OK(veda_future_release(held));
    OK(veda_runtime_destroy(rt));
    rt = keep;
}

int main(void) {
    null_handle_checks();
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

    fast_path_checks();
    own_record_checks();

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
