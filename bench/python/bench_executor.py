"""Python binding benchmarks (issue 15), each against its peer in the same run; medians of --reps.

1. Executor.map throughput with a trivial fn over range(n): veda.Runtime.map (automatic chunks,
   and chunksize=1: one task per item) vs concurrent.futures.ThreadPoolExecutor.map, same worker
   count. Items per second.
2. A numpy body that releases the GIL (np.sqrt + np.sin on float64 slices, written in place):
   rt.parallel_for over [0, n) on the workers vs the same body over the whole range in one call
   on the calling thread (serial). Speed-up = serial time / parallel time.
3. The cost of the Ctrl-C machinery on a main-thread call: a one-chunk native parallel_for
   (a numba cfunc that returns 0) from the main thread (wakeup fd + cancel token) vs from a second
   thread (no wrapper), microseconds per call.

Run: python3 bench/python/bench_executor.py [--workers 2] [--reps 5] [--quick]
"""
import argparse
import concurrent.futures as cf
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
import numpy as np  # noqa: E402

import veda  # noqa: E402


def med(fn, reps):
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def trivial(x):
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    w = a.workers
    n = 100_000
    rt = veda.Runtime(workers=w, policy="adaptive")

    print(f"== Executor.map of a trivial fn over range({n}), {w} workers, median of {a.reps}")
    list(rt.map(trivial, range(1000)))
    t_auto = med(lambda: list(rt.map(trivial, range(n))), a.reps)
    t_one = med(lambda: list(rt.map(trivial, range(n // 10), chunksize=1)), max(1, a.reps // 2)) * 10
    with cf.ThreadPoolExecutor(w) as ex:
        list(ex.map(trivial, range(1000)))
        t_tpe = med(lambda: list(ex.map(trivial, range(n))), a.reps)
    print(f"  {'veda rt.map (auto chunks)':34s} {n / t_auto:12,.0f} items/s   {t_tpe / t_auto:6.1f}x TPE")
    print(f"  {'veda rt.map (chunksize=1)':34s} {n / t_one:12,.0f} items/s   {t_tpe / t_one:6.2f}x TPE")
    print(f"  {'ThreadPoolExecutor.map':34s} {n / t_tpe:12,.0f} items/s   1.00x")

    m = 4_000_000 if a.quick else 16_000_000
    print(f"== numpy body releasing the GIL (sqrt+sin in place) over {m:,} float64, {w} workers")
    x = np.random.default_rng(0).random(m)

    def body(b, e):
        s = x[b:e]
        np.sqrt(s, out=s)
        np.sin(s, out=s)

    body(0, m)
    rt.parallel_for(0, m, body, grain=65536)
    sers, pars = [], []
    for _ in range(a.reps):  # alternate, so that drifting machine load hits both alike
        sers.append(med(lambda: body(0, m), 1))
        pars.append(med(lambda: rt.parallel_for(0, m, body, grain=65536), 1))
    t_ser, t_par = statistics.median(sers), statistics.median(pars)
    ratio = statistics.median(s / p for s, p in zip(sers, pars))
    print(f"  serial (one call)        {t_ser * 1e3:8.1f} ms")
    print(f"  rt.parallel_for          {t_par * 1e3:8.1f} ms   speed-up {ratio:4.2f}x "
          f"(median of {a.reps} paired runs)")

    print("== one-chunk native parallel_for: main thread (Ctrl-C wrapper) vs another thread")
    try:  # a real native no-op (a ctypes callback into Python would measure the GIL instead)
        from numba import cfunc, types
        fn = cfunc(types.int32(types.voidptr, types.int64, types.int64))(lambda c, b, e: 0)
    except ImportError:
        print("  (numba missing: skipped)")
        rt.close()
        return
    calls = 2000

    def loop():
        for _ in range(calls):
            rt.parallel_for(0, 1, fn)

    loop()
    t_main = med(loop, a.reps) / calls
    res = []
    th = threading.Thread(target=lambda: res.append(med(loop, a.reps) / calls))
    th.start()
    th.join()
    print(f"  main thread              {t_main * 1e6:8.1f} us/call")
    print(f"  other thread             {res[0] * 1e6:8.1f} us/call   wrapper cost "
          f"{(t_main - res[0]) * 1e6:+.1f} us")
    rt.close()


if __name__ == "__main__":
    main()
