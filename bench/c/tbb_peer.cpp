// oneTBB peers for bench_kernels.c: the same sum and saxpy loops written the TBB way, run in a
// task_arena of the requested concurrency.
#include <cstdint>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>
#include <tbb/task_arena.h>

extern "C" double tbb_sum_f64(const double *x, int64_t n, int threads) {
    tbb::task_arena arena(threads);
    double s = 0;
    arena.execute([&] {
        s = tbb::parallel_reduce(
            tbb::blocked_range<int64_t>(0, n, 1 << 14), 0.0,
            [&](const tbb::blocked_range<int64_t> &r, double acc) {
                for (int64_t i = r.begin(); i < r.end(); i++) acc += x[i];
                return acc;
            },
            [](double a, double b) { return a + b; });
    });
    return s;
}

extern "C" void tbb_saxpy_f32(int64_t n, float a, const float *x, float *y, int threads) {
    tbb::task_arena arena(threads);
    arena.execute([&] {
        tbb::parallel_for(tbb::blocked_range<int64_t>(0, n, 1 << 15), [&](const tbb::blocked_range<int64_t> &r) {
            for (int64_t i = r.begin(); i < r.end(); i++) y[i] = a * x[i] + y[i];
        });
    });
}
