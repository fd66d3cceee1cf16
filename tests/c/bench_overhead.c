/* bench_overhead: the cost of an empty veda_parallel_for call (begin == end, and a one-chunk
 * range with an empty body) and the cost per chunk callback.
 * Usage: bench_overhead [--check]  (--check fails if the targets are missed by 5x or more; the
 * machine is shared, so CTest only guards against gross regressions) */
#include "vt.h"

static int32_t empty(void *ctx, int64_t b, int64_t e) { (void)ctx; (void)b; (void)e; return 0; }

int main(int argc, char **argv) {
    int check = argc > 1 && strcmp(argv[1], "--check") == 0;
    veda_runtime *rt = vt_runtime(2, VEDA_POLICY_ADAPTIVE);
    /* warm up the calling thread (its first call into Go costs microseconds) */
    for (int i = 0; i < 1000; i++) veda_parallel_for(rt, 0, 1, 1, empty, NULL);

    int iters = 200000;
    double t0 = vt_now();
    for (int i = 0; i < iters; i++) veda_parallel_for(rt, 0, 0, 1, empty, NULL);
    double empty_call = (vt_now() - t0) / iters * 1e9;

    iters = 20000;
    t0 = vt_now();
    for (int i = 0; i < iters; i++) veda_parallel_for(rt, 0, 1, 1, empty, NULL);
    double one_chunk = (vt_now() - t0) / iters * 1e9;

    /* per chunk: many grain-1 chunks, fixed policy (no lazy merging), so chunks == range */
    veda_runtime *rf = vt_runtime(2, VEDA_POLICY_FIXED);
    int64_t chunks = 4000000;
    veda_parallel_for(rf, 0, 100000, 1, empty, NULL);
    t0 = vt_now();
    veda_parallel_for(rf, 0, chunks, 1, empty, NULL);
    double wall = vt_now() - t0;
    int w = veda_runtime_num_workers(rf);
    double per_chunk = wall * w / chunks * 1e9; /* worker-time per chunk */
    double per_chunk_wall = wall / chunks * 1e9;

    printf("empty veda_parallel_for (begin == end):        %8.1f ns/call   (target <= 1000 ns)\n", empty_call);
    printf("veda_parallel_for, one chunk, empty body:      %8.1f ns/call\n", one_chunk);
    printf("per chunk callback (grain 1, %d workers):       %8.1f ns worker-time/chunk (%.1f ns wall)  (target <= 100 ns)\n",
           w, per_chunk, per_chunk_wall);
    OK(veda_runtime_destroy(rt));
    OK(veda_runtime_destroy(rf));
    if (check) {
        CHECK(empty_call <= 5000);
        CHECK(per_chunk <= 500);
    }
    VT_DONE("bench_overhead");
}
