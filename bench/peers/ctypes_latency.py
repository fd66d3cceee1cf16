"""The one-chunk call latency through ctypes: veda.Runtime.parallel_for(0, 1, native body) from
the Python main thread of an idle pool (a 2 ms pause before each call), median of 200 calls.
usage: python3 ctypes_latency.py NOOP_SO THREADS REPS  (prints RESULT lines as workloads.h)"""
import ctypes
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
import veda  # noqa: E402

so, threads, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
body = ctypes.CDLL(so).bench_noop
with veda.Runtime(workers=threads, disable_gpu=True) as rt:
    for r in range(-1, reps):
        lat = []
        for _ in range(200):
            time.sleep(0.002)
            t0 = time.perf_counter()
            rt.parallel_for(0, 1, body)
            lat.append(time.perf_counter() - t0)
        # The floor under the same pause: a bare ctypes call of the same C function, no veda.
        # After 2 ms asleep it costs about 10 us here where a warm one costs 0.5 us (the
        # interpreter's and ctypes' paths went cold); veda's own part, timed in C inside this
        # process by a throwaway C helper (not kept), is about 1.2 us.
        floor = []
        for _ in range(200):
            time.sleep(0.002)
            t0 = time.perf_counter()
            body(None, 0, 1)
            floor.append(time.perf_counter() - t0)
        if r >= 0:
            print(f"RESULT one_chunk_latency veda_ctypes {statistics.median(lat):.9f} 0", flush=True)
            print(f"RESULT one_chunk_latency bare_ctypes_noop {statistics.median(floor):.9f} 0", flush=True)
