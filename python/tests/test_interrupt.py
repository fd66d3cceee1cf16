"""Ctrl-C (SIGINT) during blocking calls stops the work within 100 ms, raises KeyboardInterrupt
in the main thread, and leaves the runtime usable. Each case runs in a child process that sends
itself SIGINT from a timer thread 0.3 s into a call that would run for seconds."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = r'''
import ctypes, json, os, signal, sys, threading, time
import numpy as np
import veda

rt = veda.Runtime(workers=2)
case = sys.argv[1]

def pybody(b, e):
    time.sleep(0.001 * (e - b))            # 10 s of work in all

def native_body():
    from numba import cfunc, types
    @cfunc(types.int32(types.voidptr, types.int64, types.int64))
    def spin(ctx, b, e):
        x = 0.0
        for i in range(b, e):
            for j in range(20000):
                x += (i ^ j) * 1e-9
        return 0 if x >= 0 else 1
    return spin

def group():
    with rt.group() as g:
        for _ in range(1000):
            g.spawn(time.sleep, 0.01)

cases = {
    "parallel_for_python": lambda: rt.parallel_for(0, 10_000, pybody, grain=1),
    "parallel_for_native": lambda s=native_body() if case == "parallel_for_native" else None:
        rt.parallel_for(0, 10**6, s, grain=1),
    "sum_huge": lambda: rt.sum(np.broadcast_to(np.float64(1.0), (2**34,))),  # stride 0: no memory
    "future_result": lambda: rt.submit(time.sleep, 5).result(),
    "group_exit": group,
    "map": lambda: list(rt.map(time.sleep, [0.01] * 1000, chunksize=1)),
    # default chunking: 16 chunks of 5 s each; the running ones must stop at their next item
    "map_default_chunks": lambda: list(rt.map(time.sleep, [0.01] * 8000)),
    "map_reduce": lambda: rt.map_reduce(lambda x: time.sleep(0.001), range(10_000), lambda a, b: a),
}
fn = cases[case]
box = {}
def fire():
    box["t"] = time.perf_counter()
    os.kill(os.getpid(), signal.SIGINT)
t0 = time.perf_counter()
threading.Timer(0.3, fire).start()
out = {"case": case}
try:
    fn()
    out["error"] = "no KeyboardInterrupt; the call ended after %.2f s" % (time.perf_counter() - t0)
except KeyboardInterrupt:
    out["latency_ms"] = (time.perf_counter() - box["t"]) * 1e3
# usable afterwards, from the main thread and from tasks
out["after_sum"] = rt.sum(np.arange(1000, dtype=np.float64))
acc = []
rt.parallel_for(0, 1000, lambda b, e: acc.append(e - b))
out["after_pf"] = sum(acc)
out["after_submit"] = rt.submit(abs, -4).result(10)
out["after_ms"] = (time.perf_counter() - box["t"]) * 1e3   # the workers are free again
rt.close()
print(json.dumps(out))
'''

CASES = ["parallel_for_python", "parallel_for_native", "sum_huge", "future_result",
         "group_exit", "map", "map_default_chunks", "map_reduce"]


@pytest.mark.parametrize("case", CASES)
def test_ctrl_c_stops_blocking_call(case, repo, tmp_path):
    if case == "parallel_for_native":
        pytest.importorskip("numba")
    script = tmp_path / "interrupt.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(Path(repo) / "python"))
    p = subprocess.run([sys.executable, str(script), case], capture_output=True, text=True,
                       timeout=120, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert "error" not in out, out
    assert out["latency_ms"] < 100, out
    assert out["after_sum"] == 499500.0
    assert out["after_pf"] == 1000
    assert out["after_submit"] == 4
    if case.startswith("map"):
        # no map item starts after Ctrl-C, so the pool is free after the running items (10 ms)
        assert out["after_ms"] < 2000, out
