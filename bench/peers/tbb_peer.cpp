// tbb_peer: the bench/peers workloads with oneTBB, one process, in a task_arena of THREADS.
// usage: tbb_peer THREADS REPS
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_invoke.h>
#include <tbb/parallel_reduce.h>
#include <tbb/parallel_sort.h>
#include <tbb/task_arena.h>

#include <atomic>
#include <vector>

#include "workloads.h"

static long long fib_tbb(int n) {
    if (n < FIB_CUTOFF) return fib_seq(n);
    long long x, y;
    tbb::parallel_invoke([&] { x = fib_tbb(n - 1); }, [&] { y = fib_tbb(n - 2); });
    return x + y;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2, reps = argc > 2 ? atoi(argv[2]) : 1;
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, threads);
    tbb::task_arena arena(threads);
    for (int r = -1; r < reps; r++) {
        double t0 = bench_now();
        long long f = 0;
        arena.execute([&] { f = fib_tbb(FIB_N); });
        double t1 = bench_now();
        if (r >= 0) bench_result("fib32", "onetbb", t1 - t0, (double)f);
        // The same fib(32) on this thread alone, no tasks: table.py subtracts it to get each
        // runtime's cost per task apart from its compiler's code for the leaves.
        volatile int fn = FIB_N;
        t0 = bench_now();
        f = fib_seq(fn);
        t1 = bench_now();
        if (r >= 0) bench_result("fib32", "seq_c_1thread", t1 - t0, (double)f);

        std::atomic<long long> nq{0};
        t0 = bench_now();
        arena.execute([&] {
            tbb::parallel_for(tbb::blocked_range<int>(0, NQ_N * NQ_N, 1), [&](const tbb::blocked_range<int> &rg) {
                long long c = 0;
                for (int t = rg.begin(); t < rg.end(); t++) c += nq_task(NQ_N, t);
                nq += c;
            });
        });
        t1 = bench_now();
        if (r >= 0) bench_result("nqueens13", "onetbb", t1 - t0, (double)nq.load());

        double s = 0;
        t0 = bench_now();
        arena.execute([&] {
            s = tbb::parallel_reduce(
                tbb::blocked_range<int64_t>(0, SQRT_N), 0.0,
                [](const tbb::blocked_range<int64_t> &rg, double acc) {
                    for (int64_t i = rg.begin(); i < rg.end(); i++) acc += sqrt((double)i);
                    return acc;
                },
                [](double a, double b) { return a + b; });
        });
        t1 = bench_now();
        if (r >= 0) bench_result("sum_sqrt_2e8", "onetbb", t1 - t0, s);

        std::vector<double> out(TRI_N);
        t0 = bench_now();
        arena.execute([&] {
            tbb::parallel_for(tbb::blocked_range<int64_t>(0, TRI_N, 1), [&](const tbb::blocked_range<int64_t> &rg) {
                for (int64_t i = rg.begin(); i < rg.end(); i++) out[i] = tri_row(i);
            });
        });
        t1 = bench_now();
        double chk = 0;
        for (double v : out) chk += v;
        if (r >= 0) bench_result("triangular", "onetbb", t1 - t0, chk);

        double lat[LAT_CALLS];
        std::atomic<int> sink{0};
        for (int i = 0; i < LAT_CALLS; i++) {
            bench_sleep_us(LAT_IDLE_US);
            double u0 = bench_now();
            arena.execute([&] {
                tbb::parallel_for(tbb::blocked_range<int>(0, 1, 1), [&](const tbb::blocked_range<int> &) { sink++; });
            });
            lat[i] = bench_now() - u0;
        }
        if (r >= 0) bench_result("one_chunk_latency", "onetbb", bench_median(lat, LAT_CALLS), 0);
    }
    return 0;
}
