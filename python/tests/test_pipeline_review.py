"""Review tests for issue 12 (Python pipelines): rules the other tests check only loosely.

* GIL-releasing stages run in parallel (test_numpy_stages_release_the_gil checks results only).
* ``bytes`` from ``len()`` reaches the C byte budget (test_bytes_from_len_and_nbytes checks the
  helper only; the bounds test uses numpy arrays).
* "A pipeline runs once at a time": two threads that start ``p.run`` at the same moment.
"""
import threading
import time

import pytest

import veda
from _testutil import CTRL_C_ARM, CTRL_C_PRELUDE, newest_pipeline, run_child


def test_gil_releasing_stages_run_in_parallel(rt):
    """A parallel stage that releases the GIL (time.sleep does) runs on both workers at once."""
    lock = threading.Lock()
    box = {"now": 0, "peak": 0}

    def stage(x):
        with lock:
            box["now"] += 1
            box["peak"] = max(box["peak"], box["now"])
        time.sleep(0.005)  # releases the GIL
        with lock:
            box["now"] -= 1
        return x

    p = rt.pipeline(max_in_flight=8).stage(stage).stage(lambda x: x, mode="serial")
    assert list(p.run(range(40))) == list(range(40))
    assert box["peak"] >= 2, box  # the runtime has 2 workers


def test_bytes_items_count_len_in_the_byte_budget(rt):
    """bytes items of 8000 bytes with max_bytes=20000: the C run's peak of declared bytes is at
    least one item and at most the budget (so len() reached it)."""
    def slow(b):
        time.sleep(0.0005)
        return b

    p = rt.pipeline(max_in_flight=16, max_bytes=20_000).stage(slow).stage(lambda b: b, mode="serial")
    out = list(p.run(bytes([i % 256]) * 8000 for i in range(100)))
    assert [b[0] for b in out] == [i % 256 for i in range(100)]
    st = newest_pipeline(rt)
    assert 8000 <= st["peak_bytes_in_flight"] <= 20_000, st
    assert st["max_bytes_in_flight"] == 20_000, st


def test_two_threads_starting_run_at_once(rt):
    """Two threads call p.run at the same moment. "A pipeline runs once at a time": one run must
    be refused with VedaError(INVALID_ARGUMENT), or the two runs must not overlap. Each thread
    runs its own range (a: 0..49, b: 1000..1049); the stage logs the order of its calls, and an
    overlap is a call of one run between the first and the last call of the other."""
    log = []
    lock = threading.Lock()

    def stage(x):
        with lock:
            log.append(x >= 1000)
        time.sleep(0.0005)
        return x

    p = rt.pipeline(max_in_flight=4).stage(stage)
    for _ in range(6):  # more stages: a wider window between the check and the claim in _start
        p.stage(lambda x: x)
    results = {}
    barrier = threading.Barrier(2)

    def one(name, base):
        barrier.wait()
        try:
            results[name] = ("ok", list(p.run(range(base, base + 50))))
        except veda.VedaError as e:
            results[name] = ("refused", e.status)

    for attempt in range(40):
        results.clear()
        log.clear()
        barrier.reset()
        ths = [threading.Thread(target=one, args=a) for a in (("a", 0), ("b", 1000))]
        for th in ths:
            th.start()
        for th in ths:
            th.join(30)
        kinds = sorted(r[0] for r in results.values())
        if kinds == ["ok", "ok"]:
            first_b, last_b = log.index(True), len(log) - 1 - log[::-1].index(True)
            a_inside_b = any(not v for v in log[first_b:last_b + 1])
            assert not a_inside_b, (
                f"attempt {attempt}: both runs were accepted and ran at the same time "
                f"(stage call order, True = run b: {log})")
        else:
            assert kinds == ["ok", "refused"], results


CTRL_C_ASYNC = CTRL_C_PRELUDE + r'''
import asyncio
p = rt.pipeline(max_in_flight=8).stage(slow).stage(lambda x: x, mode="serial")
''' + CTRL_C_ARM + r'''
async def agen():
    for i in endless():
        await asyncio.sleep(0)
        yield i
async def main():
    async for v in p.run_async(agen()):
        pass
out = {}
try:
    asyncio.run(main())
    out["error"] = "no KeyboardInterrupt"
except KeyboardInterrupt:
    out["latency_ms"] = (time.perf_counter() - box["t"]) * 1e3
time.sleep(0.1)
out["again"] = list(p.run(range(5)))
print(json.dumps(out))
'''


def test_ctrl_c_stops_run_async_within_100ms(repo):
    """The Ctrl-C rule for ``async for ... in p.run_async(...)`` under asyncio.run (the suite
    checks it for ``p.run`` only)."""
    out = run_child(repo, CTRL_C_ASYNC)
    assert "error" not in out, out
    assert out["latency_ms"] < 100, out
    assert out["again"] == [0, 1, 2, 3, 4]
