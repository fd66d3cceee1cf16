"""Benchmarks of the Python binding (not a test). Run: python3 python/bench_sum.py [--n 1e8]

1. Runtime.sum of n float64 against numpy.sum in the same run (median of --reps runs).
2. Per-call overhead of an empty parallel_for with a ctypes function pointer (begin == end - 1,
   so exactly one chunk runs; and begin == end, which calls nothing).
3. Per-callback cost of a Python callable run on worker threads, with thread-state pinning on
   (default) or off (VEDA_PY_PIN_THREADS=0, which this script measures in a subprocess).
"""
import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402

import veda  # noqa: E402
from veda._capi import veda_range_fn  # noqa: E402


def median_time(fn, reps):
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def bench_sum(rt, n, reps):
    x = np.random.default_rng(0).random(n)
    rt.sum(x), np.sum(x)  # warm up (page faults, threads)
    tv = median_time(lambda: rt.sum(x), reps)
    tn = median_time(lambda: np.sum(x), reps)
    return {"n": n, "veda_s": tv, "numpy_s": tn, "speedup": tn / tv,
            "veda_GBps": n * 8 / tv / 1e9, "numpy_GBps": n * 8 / tn / 1e9}


def bench_empty_pointer(rt, calls):
    libc = ctypes.CDLL(None)
    # A native no-op body: any C function with a compatible (ignored) signature would do; use a
    # tiny numba-free one: a ctypes callback would measure Python, so take libc's `abs`
    # reinterpreted as int32(void*, int64, int64) -> returns abs((int)ctx) = 0 for ctx NULL.
    addr = ctypes.cast(libc.abs, ctypes.c_void_p).value
    out = {}
    for label, (b, e) in {"one_chunk": (0, 1), "empty_range": (0, 0)}.items():
        for _ in range(1000):
            rt.parallel_for(b, e, addr)
        t0 = time.perf_counter()
        for _ in range(calls):
            rt.parallel_for(b, e, addr)
        out[label + "_us"] = (time.perf_counter() - t0) / calls * 1e6
    # the raw ctypes call, without the Python wrapper's argument checks
    lib, h = veda._capi.lib, rt._handle()
    t0 = time.perf_counter()
    for _ in range(calls):
        lib.veda_parallel_for(h, 0, 1, 0, addr, None)
    out["raw_ctypes_one_chunk_us"] = (time.perf_counter() - t0) / calls * 1e6
    t0 = time.perf_counter()
    for _ in range(calls):
        lib.veda_parallel_for(h, 0, 0, 0, addr, None)
    out["raw_ctypes_empty_range_us"] = (time.perf_counter() - t0) / calls * 1e6
    return out


def bench_callbacks(rt, chunks, reps):
    body = lambda b, e: None  # noqa: E731
    rt.parallel_for(0, chunks, body, grain=1)  # warm up: pins the worker threads
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        rt.parallel_for(0, chunks, body, grain=1)
        ts.append(time.perf_counter() - t0)
    # veda splits lazily, so count the calls actually made
    calls = [0]

    def counting(b, e):
        calls[0] += 1

    rt.parallel_for(0, chunks, counting, grain=1)
    return {"chunks": chunks, "callbacks": calls[0],
            "per_callback_us": statistics.median(ts) / max(calls[0], 1) * 1e6}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=float, default=1e8)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--only-callbacks", action="store_true")
    args = ap.parse_args()
    if args.only_callbacks:
        # policy "deterministic" cuts every grain-sized chunk (adaptive cuts only a few), and
        # the body does nothing: the time is the callback cost.
        with veda.Runtime(workers=args.workers, policy="deterministic") as rt:
            print(json.dumps(bench_callbacks(rt, 20000, args.reps)))
        return
    with veda.Runtime(workers=args.workers) as rt:
        res = {"workers": rt.num_workers, "cpus": os.cpu_count(), "version": veda.version()}
        res["sum"] = bench_sum(rt, int(args.n), args.reps)
        res["empty_parallel_for_ctypes_pointer"] = bench_empty_pointer(rt, 20000)
    with veda.Runtime(workers=args.workers, policy="deterministic") as rt:
        res["python_callback_pinned"] = bench_callbacks(rt, 20000, args.reps)
    env = dict(os.environ, VEDA_PY_PIN_THREADS="0")
    p = subprocess.run([sys.executable, __file__, "--only-callbacks", "--reps", str(args.reps)]
                       + (["--workers", str(args.workers)] if args.workers else []),
                       env=env, capture_output=True, text=True)
    res["python_callback_unpinned"] = json.loads(p.stdout) if p.returncode == 0 else p.stderr
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
