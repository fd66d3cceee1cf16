/* test_parallel: every index of 1e7 visited exactly once (several grains and policies), and
 * nested veda_parallel_for from inside callbacks. */
#include <stdatomic.h>
#include "vt.h"

#define N 10000000L
static unsigned char *hits;
static atomic_long chunks;

static int32_t mark(void *ctx, int64_t b, int64_t e) {
    (void)ctx;
    atomic_fetch_add(&chunks, 1);
    for (int64_t i = b; i < e; i++) hits[i]++;
    return 0;
}

struct nest { veda_runtime *rt; atomic_long total; };
static int32_t inner(void *ctx, int64_t b, int64_t e) {
    struct nest *n = ctx;
    atomic_fetch_add(&n->total, e - b);
    return 0;
}
static int32_t outer(void *ctx, int64_t b, int64_t e) {
    struct nest *n = ctx;
    for (int64_t i = b; i < e; i++) {
        veda_status st = veda_parallel_for(n->rt, 0, 1000, 10, inner, n);
        if (st != VEDA_OK) return 100 + st;
    }
    return 0;
}

int main(void) {
    hits = calloc(N, 1);
    int policies[] = {VEDA_POLICY_ADAPTIVE, VEDA_POLICY_FIXED, VEDA_POLICY_DETERMINISTIC};
    int64_t grains[] = {0, 1000, 77777};
    for (int p = 0; p < 3; p++) {
        veda_runtime *rt = vt_runtime(2, policies[p]);
        for (int gi = 0; gi < 3; gi++) {
            memset(hits, 0, N);
            atomic_store(&chunks, 0);
            double t0 = vt_now();
            OK(veda_parallel_for(rt, 0, N, grains[gi], mark, NULL));
            double t1 = vt_now();
            long bad = 0;
            for (long i = 0; i < N; i++) bad += hits[i] != 1;
            CHECK(bad == 0);
            printf("policy %d grain %ld: %ld chunks, %.1f ms\n", policies[p], (long)grains[gi],
                   atomic_load(&chunks), (t1 - t0) * 1e3);
        }
        /* nested */
        struct nest n = {rt, 0};
        OK(veda_parallel_for(rt, 0, 64, 1, outer, &n));
        CHECK(atomic_load(&n.total) == 64L * 1000);
        OK(veda_runtime_destroy(rt));
    }
    /* one worker: nesting must not deadlock either */
    veda_runtime *rt1 = vt_runtime(1, VEDA_POLICY_ADAPTIVE);
    struct nest n1 = {rt1, 0};
    OK(veda_parallel_for(rt1, 0, 16, 1, outer, &n1));
    CHECK(atomic_load(&n1.total) == 16L * 1000);
    OK(veda_runtime_destroy(rt1));
    free(hits);
    VT_DONE("test_parallel");
}
