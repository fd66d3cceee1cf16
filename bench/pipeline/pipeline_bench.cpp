// pipeline_bench: VEDA's pipeline (through the C ABI, libveda.so) against oneTBB parallel_pipeline
// on the same stages, and a bounded-memory streaming check.
//
//   pipeline_bench tbb THREADS [N] [ROUNDS]
//     A serial in-order source of N items (default 1e5), a parallel stage spinning W us, a serial
//     in-order sink that checks the order; tokens (max in flight) = 4 x THREADS; W = 0, 5, 50.
//     Each round runs VEDA then TBB (alternating order between rounds); medians of ROUNDS (5),
//     the veda/tbb ratio, wall ns per item, and the per-item overhead in CPU ns: the process's
//     CPU time during the run (every thread, CLOCK_PROCESS_CPUTIME_ID) minus the stage work N x W,
//     per item. A pause before each run (SETTLE_US, default 2000 us) lets the last run's spinning
//     threads settle, so neither peer is charged for the other's.
//   pipeline_bench mem [TOTAL_MIB] [ITEM_MIB] [BUDGET_MIB]
//     Streams TOTAL (4096) MiB through ITEM (64) MiB items with max_bytes_in_flight = BUDGET
//     (256) MiB: the source mallocs and fills each item, a parallel stage checksums it, the in-order
//     sink checks and frees it and then sleeps 250 ms (a slow writer: items pile up in its stash
//     until the byte budget stops the source). Prints the peak RSS above the baseline (the process after
//     creating the runtime) and whether it stayed within BUDGET + ITEM.
#include <tbb/global_control.h>
#include <tbb/parallel_pipeline.h>

#include <sys/resource.h>
#include <unistd.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "veda.h"

static double now() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void spin_us(double us) {
    if (us <= 0) return;
    double end = now() + us * 1e-6;
    while (now() < end) {
    }
}

static double cpu_now() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// settle pauses between runs (not timed): threads of the last run that spin before they sleep
// stop, so their CPU time is not counted in the next run.
static void settle() {
    static long us = getenv("SETTLE_US") ? atol(getenv("SETTLE_US")) : 2000;
    if (us <= 0) return;
    timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, nullptr);
}

// A run's wall and process CPU seconds.
struct timing {
    double wall, cpu;
};

static double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct run_ctx {
    int64_t n;
    double w;
    int64_t expect;
    int ok;
};

static int32_t v_source(void *ctx, int64_t seq, void **item, uint64_t *bytes) {
    run_ctx *c = (run_ctx *)ctx;
    if (seq >= c->n) return 0;
    *item = (void *)(intptr_t)(seq + 1);
    *bytes = 0;
    return 1;
}
static int32_t v_spin(void *ctx, int64_t, void *, void **, uint64_t *) {
    spin_us(((run_ctx *)ctx)->w);
    return 0;
}
static int32_t v_sink(void *ctx, int64_t seq, void *item, void **, uint64_t *) {
    run_ctx *c = (run_ctx *)ctx;
    if ((intptr_t)item != c->expect + 1 || seq != c->expect) c->ok = 0;
    c->expect++;
    return 0;
}

static timing run_veda(veda_runtime *rt, int64_t tokens, run_ctx *c) {
    veda_pipeline_options o;
    veda_pipeline_options_init(&o);
    o.max_in_flight = tokens;
    veda_pipeline *p = nullptr;
    if (veda_pipeline_create(rt, &o, &p) != VEDA_OK || veda_pipeline_add_stage(p, VEDA_STAGE_PARALLEL, v_spin, c) != VEDA_OK ||
        veda_pipeline_add_stage(p, VEDA_STAGE_SERIAL_IN_ORDER, v_sink, c) != VEDA_OK) {
        fprintf(stderr, "veda: %s\n", veda_last_error());
        exit(1);
    }
    c->expect = 0;
    c->ok = 1;
    settle();
    double t0 = now(), c0 = cpu_now();
    veda_status st = veda_pipeline_run(p, v_source, c);
    timing t = {now() - t0, cpu_now() - c0};
    if (st != VEDA_OK || !c->ok || c->expect != c->n) {
        fprintf(stderr, "veda run: %s %s (ok %d, %lld items)\n", veda_status_string(st), veda_last_error(), c->ok, (long long)c->expect);
        exit(1);
    }
    veda_pipeline_destroy(p);
    return t;
}

static timing run_tbb(int64_t tokens, run_ctx *c) {
    int64_t i = 0;
    c->expect = 0;
    c->ok = 1;
    settle();
    double t0 = now(), c0 = cpu_now();
    tbb::parallel_pipeline(
        (size_t)tokens,
        tbb::make_filter<void, int64_t>(tbb::filter_mode::serial_in_order,
                                        [&](tbb::flow_control &fc) -> int64_t {
                                            if (i >= c->n) {
                                                fc.stop();
                                                return 0;
                                            }
                                            return ++i;
                                        }) &
            tbb::make_filter<int64_t, int64_t>(tbb::filter_mode::parallel,
                                               [&](int64_t x) {
                                                   spin_us(c->w);
                                                   return x;
                                               }) &
            tbb::make_filter<int64_t, void>(tbb::filter_mode::serial_in_order, [&](int64_t x) {
                if (x != c->expect + 1) c->ok = 0;
                c->expect++;
            }));
    timing t = {now() - t0, cpu_now() - c0};
    if (!c->ok || c->expect != c->n) {
        fprintf(stderr, "tbb run: order broken\n");
        exit(1);
    }
    return t;
}

static int bench_tbb(int threads, int64_t n, int rounds) {
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, threads);
    veda_config cfg;
    veda_config_init(&cfg);
    cfg.num_workers = threads;
    veda_runtime *rt = nullptr;
    if (veda_runtime_create(&cfg, &rt) != VEDA_OK) {
        fprintf(stderr, "veda_runtime_create: %s\n", veda_last_error());
        return 1;
    }
    int64_t tokens = 4 * threads;
    printf("pipeline vs oneTBB parallel_pipeline: %lld items, %d threads, tokens %lld, medians of %d\n",
           (long long)n, threads, (long long)tokens, rounds);
    printf("%-6s %12s %12s %8s %14s %14s %16s %16s\n", "W(us)", "veda(ms)", "tbb(ms)", "ratio", "veda ns/item",
           "tbb ns/item", "veda cpu ovh/item", "tbb cpu ovh/item");
    const double ws[] = {0, 5, 50};
    for (double w : ws) {
        run_ctx c = {n, w, 0, 1};
        // Warm-up (thread start, first-call costs).
        run_veda(rt, tokens, &c);
        run_tbb(tokens, &c);
        std::vector<double> tv, tt, cv, ct, ratios;
        for (int r = 0; r < rounds; r++) {
            timing a, b;
            if (r % 2 == 0) {
                a = run_veda(rt, tokens, &c);
                b = run_tbb(tokens, &c);
            } else {
                b = run_tbb(tokens, &c);
                a = run_veda(rt, tokens, &c);
            }
            tv.push_back(a.wall);
            tt.push_back(b.wall);
            cv.push_back(a.cpu);
            ct.push_back(b.cpu);
            ratios.push_back(a.wall / b.wall);
        }
        double mv = median(tv), mt = median(tt);
        double ovv = (median(cv) - n * w * 1e-6) / n * 1e9, ovt = (median(ct) - n * w * 1e-6) / n * 1e9;
        printf("%-6.0f %12.2f %12.2f %8.3f %14.0f %14.0f %16.0f %16.0f\n", w, mv * 1e3, mt * 1e3, median(ratios),
               mv / n * 1e9, mt / n * 1e9, ovv, ovt);
        fflush(stdout);
    }
    veda_runtime_destroy(rt);
    return 0;
}

// ---- memory ------------------------------------------------------------------------------------

struct mem_ctx {
    int64_t items;
    size_t item_bytes;
    int64_t expect;
    int ok;
};

static long rss_kib() {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static int32_t m_source(void *ctx, int64_t seq, void **item, uint64_t *bytes) {
    mem_ctx *c = (mem_ctx *)ctx;
    if (seq >= c->items) return 0;
    unsigned char *p = (unsigned char *)malloc(c->item_bytes);
    if (!p) return -12;
    memset(p, (int)(seq & 0xff), c->item_bytes);  // touch every page
    *item = p;
    *bytes = c->item_bytes;
    return 1;
}
static int32_t m_check(void *ctx, int64_t seq, void *item, void **, uint64_t *) {
    mem_ctx *c = (mem_ctx *)ctx;
    const unsigned char *p = (const unsigned char *)item;
    uint64_t sum = 0;
    for (size_t i = 0; i < c->item_bytes; i += 64) sum += p[i];  // every cache line
    if (sum != (uint64_t)(seq & 0xff) * (c->item_bytes / 64)) return 1;
    return 0;
}
static int32_t m_sink(void *ctx, int64_t seq, void *item, void **, uint64_t *) {
    mem_ctx *c = (mem_ctx *)ctx;
    if (seq != c->expect) c->ok = 0;
    c->expect++;
    free(item);
    struct timespec ts = {0, 250000000};  // a slow writer (250 ms per item): items pile up in the
    nanosleep(&ts, nullptr);              // reorder stash until the byte budget stops the source
    return 0;
}
static void m_drop(void *, int64_t, void *item) { free(item); }

static long peak_rss_kib;
static volatile int sampling = 1;
#include <pthread.h>
static void *sampler(void *) {
    while (sampling) {
        long r = rss_kib();
        if (r > peak_rss_kib) peak_rss_kib = r;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, nullptr);
    }
    return nullptr;
}

static int bench_mem(int64_t total_mib, int64_t item_mib, int64_t budget_mib) {
    // The default (adaptive) policy: a worker blocked in the slow writer's sleep (a C call)
    // counts as busy, and work queued meanwhile wakes the second worker.
    veda_config cfg;
    veda_config_init(&cfg);
    veda_runtime *rt = nullptr;
    if (veda_runtime_create(&cfg, &rt) != VEDA_OK) return 1;
    mem_ctx c = {total_mib / item_mib, (size_t)item_mib << 20, 0, 1};
    veda_pipeline_options o;
    veda_pipeline_options_init(&o);
    o.max_bytes_in_flight = (uint64_t)budget_mib << 20;
    o.drop = m_drop;
    veda_pipeline *p = nullptr;
    veda_pipeline_create(rt, &o, &p);
    veda_pipeline_add_stage(p, VEDA_STAGE_PARALLEL, m_check, &c);
    veda_pipeline_add_stage(p, VEDA_STAGE_SERIAL_IN_ORDER, m_sink, &c);
    long base = rss_kib();
    peak_rss_kib = base;
    pthread_t th;
    pthread_create(&th, nullptr, sampler, nullptr);
    double t0 = now();
    veda_status st = veda_pipeline_run(p, m_source, &c);
    double t = now() - t0;
    sampling = 0;
    pthread_join(th, nullptr);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long peak = std::max(peak_rss_kib, (long)ru.ru_maxrss);
    long above = peak - base;
    long limit = (budget_mib + item_mib) << 10;
    printf("memory: %lld MiB through %lld MiB items, max_bytes_in_flight %lld MiB: %.2f s (%.0f MiB/s), status %s, order %s\n",
           (long long)total_mib, (long long)item_mib, (long long)budget_mib, t, total_mib / t, veda_status_string(st),
           c.ok && c.expect == c.items ? "ok" : "BROKEN");
    printf("memory: baseline RSS %ld MiB, peak RSS %ld MiB, above baseline %ld MiB (limit budget + item = %ld MiB): %s\n",
           base >> 10, peak >> 10, above >> 10, limit >> 10, above <= limit ? "within" : "OVER");
    veda_pipeline_destroy(p);
    veda_runtime_destroy(rt);
    return st == VEDA_OK && above <= limit && c.ok ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "tbb") == 0) {
        int threads = atoi(argv[2]);
        int64_t n = argc > 3 ? atoll(argv[3]) : 100000;
        int rounds = argc > 4 ? atoi(argv[4]) : 5;
        return bench_tbb(threads, n, rounds);
    }
    if (argc >= 2 && strcmp(argv[1], "mem") == 0) {
        return bench_mem(argc > 2 ? atoll(argv[2]) : 4096, argc > 3 ? atoll(argv[3]) : 64, argc > 4 ? atoll(argv[4]) : 256);
    }
    fprintf(stderr, "usage: pipeline_bench tbb THREADS [N] [ROUNDS] | mem [TOTAL_MIB] [ITEM_MIB] [BUDGET_MIB]\n");
    return 2;
}
