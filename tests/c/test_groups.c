/* test_groups: fib through nested groups; n-queens through groups with nested parallel_for. */
#include <stdatomic.h>
#include "vt.h"

static veda_runtime *rt;

struct fib { int n; long result; };
static int32_t fib_task(void *ctx);
static long fib_seq(int n) { return n < 2 ? n : fib_seq(n - 1) + fib_seq(n - 2); }
static int32_t fib_task(void *ctx) {
    struct fib *f = ctx;
    if (f->n < 12) { f->result = fib_seq(f->n); return 0; }
    struct fib a = {f->n - 1, 0}, b = {f->n - 2, 0};
    veda_group *g;
    if (veda_group_create(rt, &g) != VEDA_OK) return 1;
    if (veda_group_spawn(g, fib_task, &a) != VEDA_OK) return 2;
    if (veda_group_spawn(g, fib_task, &b) != VEDA_OK) return 3;
    veda_status st = veda_group_wait(g);
    veda_group_destroy(g);
    if (st != VEDA_OK) return 4;
    f->result = a.result + b.result;
    return 0;
}

/* n-queens: the first row's columns through parallel_for, deeper rows through groups up to a
 * cut-off depth, then sequential. */
struct qctx { int n; int row; uint32_t cols, d1, d2; atomic_long *count; };
static long queens_seq(int n, int row, uint32_t cols, uint32_t d1, uint32_t d2) {
    if (row == n) return 1;
    long c = 0;
    uint32_t full = (1u << n) - 1, avail = full & ~(cols | d1 | d2);
    while (avail) {
        uint32_t bit = avail & -avail;
        avail ^= bit;
        c += queens_seq(n, row + 1, cols | bit, ((d1 | bit) << 1) & full, (d2 | bit) >> 1);
    }
    return c;
}
static int32_t queens_task(void *ctx);
static int32_t queens_row_range(void *ctx, int64_t b, int64_t e) {
    struct qctx *q = ctx;
    for (int64_t col = b; col < e; col++) {
        uint32_t bit = 1u << col;
        if ((q->cols | q->d1 | q->d2) & bit) continue;
        uint32_t full = (1u << q->n) - 1;
        struct qctx child = {q->n, q->row + 1, q->cols | bit, ((q->d1 | bit) << 1) & full, (q->d2 | bit) >> 1, q->count};
        int32_t r = queens_task(&child);
        if (r) return r;
    }
    return 0;
}
static int32_t queens_task(void *ctx) {
    struct qctx *q = ctx;
    if (q->row >= 3) {
        atomic_fetch_add(q->count, queens_seq(q->n, q->row, q->cols, q->d1, q->d2));
        return 0;
    }
    /* a group per node: one task per free column */
    uint32_t full = (1u << q->n) - 1, avail = full & ~(q->cols | q->d1 | q->d2);
    struct qctx kids[32];
    int nk = 0;
    veda_group *g;
    if (veda_group_create(rt, &g) != VEDA_OK) return 10;
    while (avail) {
        uint32_t bit = avail & -avail;
        avail ^= bit;
        kids[nk] = (struct qctx){q->n, q->row + 1, q->cols | bit, ((q->d1 | bit) << 1) & full, (q->d2 | bit) >> 1, q->count};
        if (veda_group_spawn(g, queens_task, &kids[nk]) != VEDA_OK) return 11;
        nk++;
    }
    veda_status st = veda_group_wait(g);
    veda_group_destroy(g);
    return st == VEDA_OK ? 0 : 12;
}

static int32_t failing_task(void *ctx) { return *(int *)ctx; }

int main(void) {
    static const long known[] = {1, 1, 0, 0, 2, 10, 4, 40, 92, 352, 724, 2680};
    for (int workers = 1; workers <= 2; workers++) {
        rt = vt_runtime(workers, VEDA_POLICY_ADAPTIVE);
        struct fib f = {27, 0};
        double t0 = vt_now();
        veda_group *g;
        OK(veda_group_create(rt, &g));
        OK(veda_group_spawn(g, fib_task, &f));
        OK(veda_group_wait(g));
        OK(veda_group_destroy(g));
        printf("fib(27) = %ld with %d workers in %.1f ms\n", f.result, workers, (vt_now() - t0) * 1e3);
        CHECK(f.result == 196418);

        for (int n = 4; n <= 11; n++) {
            atomic_long count = 0;
            struct qctx root = {n, 0, 0, 0, 0, &count};
            /* row 0 through parallel_for, each column then a tree of groups */
            OK(veda_parallel_for(rt, 0, n, 1, queens_row_range, &root));
            if (atomic_load(&count) != known[n]) {
                fprintf(stderr, "queens(%d) = %ld, want %ld\n", n, atomic_load(&count), known[n]);
                vt_failures++;
            }
        }

        /* A failing task: VEDA_ERR_TASK_FAILED naming the code; the others still run. */
        int codes[4] = {0, 0, 9, 0};
        OK(veda_group_create(rt, &g));
        for (int i = 0; i < 4; i++) OK(veda_group_spawn(g, failing_task, &codes[i]));
        EXPECT_ERR_MSG(veda_group_wait(g), VEDA_ERR_TASK_FAILED, "returned 9");
        /* reusable after a wait */
        OK(veda_group_spawn(g, failing_task, &codes[0]));
        OK(veda_group_wait(g));
        OK(veda_group_destroy(g));

        /* destroy with tasks never waited for runs them */
        struct fib f2 = {15, 0};
        OK(veda_group_create(rt, &g));
        OK(veda_group_spawn(g, fib_task, &f2));
        OK(veda_group_destroy(g));
        CHECK(f2.result == 610);

        /* destroying the runtime with a group spawned but never waited does not hang */
        struct fib f3 = {14, 0};
        OK(veda_group_create(rt, &g));
        OK(veda_group_spawn(g, fib_task, &f3));
        OK(veda_runtime_destroy(rt));
        CHECK(f3.result == 377);
        EXPECT_ST(veda_group_wait(g), VEDA_ERR_CLOSED);
        OK(veda_group_destroy(g));
    }
    VT_DONE("test_groups");
}
