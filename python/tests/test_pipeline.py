"""rt.pipeline: order and modes, exceptions at their position with a clean prefix, exactly-once
release of items, bounds (peak counters from the runtime's metrics), early break, async runs,
nested parallel_for in a stage, Ctrl-C within 100 ms, bad input."""
import asyncio
import contextlib
import gc
import threading
import time
import weakref

import numpy as np
import pytest

import veda
from _testutil import CTRL_C_ARM, CTRL_C_PRELUDE, Item, newest_pipeline, run_child


def test_order_and_modes(rt):
    seen_serial, seen_unordered = [], []
    busy = {"serial": 0, "unordered": 0}
    lock = threading.Lock()

    def serial(x):
        with lock:
            busy["serial"] += 1
            assert busy["serial"] == 1
        seen_serial.append(x)  # state: in source order
        with lock:
            busy["serial"] -= 1
        return x

    def unordered(x):
        with lock:
            busy["unordered"] += 1
            assert busy["unordered"] == 1
        seen_unordered.append(x)
        with lock:
            busy["unordered"] -= 1
        return x + 1

    p = rt.pipeline(max_in_flight=8)
    p.stage(lambda x: x * 3).stage(unordered, mode="serial_unordered").stage(serial, mode="serial")
    out = list(p.run(range(2000)))
    assert out == [3 * i + 1 for i in range(2000)]
    assert seen_serial == out
    assert sorted(seen_unordered) == [3 * i for i in range(2000)]
    # Runs again; accepts the C-style mode names too.
    p2 = rt.pipeline().stage(str, mode="serial_in_order").stage(len, mode="serial_out_of_order")
    assert list(p2.run(range(12))) == [1] * 10 + [2, 2]
    assert list(p.run([])) == []


def test_exception_at_position_and_exactly_once(rt):
    for fail_at in (0, 1, 37, 299):
        def stage(it, fail_at=fail_at):
            if it.i == fail_at:
                raise KeyError(f"item {it.i}")
            time.sleep(0.0001 * (it.i % 3))
            return it

        p = rt.pipeline(max_in_flight=16).stage(stage).stage(lambda it: it, mode="serial")
        got = []
        with pytest.raises(KeyError, match=f"item {fail_at}"):
            for x in p.run(Item(i) for i in range(300)):
                got.append(x.i)
                x = None
        assert got == list(range(fail_at))
    gc.collect()
    assert Item.alive == 0  # every item was released exactly once (dropped or passed)


def test_source_raises(rt):
    def src():
        yield from range(10)
        raise ValueError("source broke")

    p = rt.pipeline().stage(lambda x: x)
    got = []
    with pytest.raises(ValueError, match="source broke"):
        for v in p.run(src()):
            got.append(v)
    assert got == list(range(10))


def test_break_cancels_and_pipeline_is_reusable(rt):
    read = []

    def endless():
        i = 0
        while True:
            read.append(i)
            yield i
            i += 1

    p = rt.pipeline(max_in_flight=4).stage(lambda x: x + 1)
    for v in p.run(endless()):
        if v == 20:
            break
    assert len(read) < 40  # backpressure: the endless source was not drained
    assert list(p.run(range(5))) == [1, 2, 3, 4, 5]


def test_bounds_items_and_bytes(rt):
    alive = {"n": 0, "peak": 0}
    lock = threading.Lock()

    def src():
        for i in range(300):
            with lock:
                alive["n"] += 1
                alive["peak"] = max(alive["peak"], alive["n"])
            yield np.full(1000, i, dtype=np.float64)  # 8000 bytes each

    def slow(a):
        time.sleep(0.0002)
        return a

    p = rt.pipeline(max_in_flight=8, max_bytes=40_000).stage(slow).stage(lambda a: a, mode="serial")
    n = 0
    for a in p.run(src()):
        assert a[0] == n
        n += 1
        with lock:
            alive["n"] -= 1
    assert n == 300
    assert alive["peak"] <= 8
    st = newest_pipeline(rt)
    assert st["peak_in_flight"] <= 8 and st["peak_bytes_in_flight"] <= 40_000
    assert st["items_passed"] == 300 and st["peak_bytes_in_flight"] >= 8000


def test_bytes_from_len_and_nbytes():
    from veda._pipeline import nbytes
    assert nbytes(b"abc") == 3 and nbytes(bytearray(5)) == 5
    assert nbytes(np.zeros(7, dtype=np.float32)) == 28
    assert nbytes(memoryview(b"abcd")) == 4
    assert nbytes("text") == 0 and nbytes(object()) == 0
    import array
    assert nbytes(array.array("d", [1.0, 2.0, 3.0])) == 24  # bytes, not len() (3 elements)


def test_numpy_stages_release_the_gil(rt):
    p = rt.pipeline(max_in_flight=8).stage(lambda a: np.sqrt(a)).stage(lambda a: float(a.sum()), mode="serial")
    out = list(p.run(np.full(10_000, float(i * i)) for i in range(50)))
    assert out == [10_000.0 * i for i in range(50)]


def test_nested_parallel_for_in_a_stage():
    with veda.Runtime(workers=1) as rt:
        def stage(x):
            acc = []
            rt.parallel_for(0, 100, lambda b, e: acc.append(sum(range(b, e))), grain=10)
            return x + sum(acc)

        p = rt.pipeline(max_in_flight=4).stage(stage).stage(stage, mode="serial")
        assert list(p.run(range(20))) == [i + 2 * 4950 for i in range(20)]


def test_run_async(rt):
    async def agen():
        for i in range(50):
            await asyncio.sleep(0)
            yield i

    p = rt.pipeline(max_in_flight=4).stage(lambda x: x * x).stage(lambda x: x, mode="serial")

    async def main():
        a = [v async for v in p.run_async(agen())]
        b = [v async for v in p.run_async(range(5))]  # a plain iterable works too
        got = []
        async with contextlib.aclosing(p.run_async(agen())) as results:  # break closes the run
            async for v in results:
                got.append(v)
                if v == 9:
                    break
        c = [v async for v in p.run_async(range(3))]
        return a, b, got, c

    a, b, got, c = asyncio.run(main())
    assert a == [i * i for i in range(50)] and b == [0, 1, 4, 9, 16] and got == [0, 1, 4, 9] and c == [0, 1, 4]

    def boom(x):
        if x == 3:
            raise RuntimeError("three")
        return x

    q = rt.pipeline().stage(boom)

    async def failing():
        got = []
        with pytest.raises(RuntimeError, match="three"):
            async for v in q.run_async(range(10)):
                got.append(v)
        return got

    assert asyncio.run(failing()) == [0, 1, 2]


def test_bad_input(rt):
    p = rt.pipeline()
    with pytest.raises(veda.VedaError) as ei:
        list(p.run(range(3)))
    assert ei.value.status == veda.Status.INVALID_ARGUMENT and "no stage" in str(ei.value)
    with pytest.raises(ValueError):
        p.stage(lambda x: x, mode="sideways")
    with pytest.raises(TypeError):
        p.stage(42)
    with pytest.raises(ValueError):
        rt.pipeline(priority="urgent")
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError):
            rt.pipeline(max_in_flight=bad)
        with pytest.raises(ValueError):
            rt.pipeline(max_bytes=bad)
    # A second run while one is in progress.
    q = rt.pipeline(max_in_flight=2).stage(lambda x: x)
    it = q.run(range(100))
    assert next(it) == 0
    with pytest.raises(veda.VedaError) as ei:
        list(q.run(range(3)))
    assert ei.value.status == veda.Status.INVALID_ARGUMENT
    with pytest.raises(veda.VedaError):
        q.stage(lambda x: x)
    assert list(it) == list(range(1, 100))
    assert list(q.run(range(3))) == [0, 1, 2]
    # A closed runtime.
    r = veda.Runtime(workers=1)
    p3 = r.pipeline().stage(lambda x: x)
    r.close()
    with pytest.raises(veda.VedaError):
        list(p3.run(range(3)))


CTRL_C = CTRL_C_PRELUDE + r'''
p = rt.pipeline(max_in_flight=8).stage(slow).stage(lambda x: x, mode="serial")
''' + CTRL_C_ARM + r'''
out = {}
n = 0
try:
    for v in p.run(endless()):
        n += 1
    out["error"] = "no KeyboardInterrupt"
except KeyboardInterrupt:
    out["latency_ms"] = (time.perf_counter() - box["t"]) * 1e3
    out["items"] = n
# The runtime and the pipeline are usable afterwards.
time.sleep(0.1)
out["again"] = list(p.run(range(5)))
print(json.dumps(out))
'''


def test_ctrl_c_stops_within_100ms(repo):
    out = run_child(repo, CTRL_C)
    assert "error" not in out, out
    assert out["latency_ms"] < 100, out
    assert out["items"] > 0 and out["again"] == [0, 1, 2, 3, 4]


NESTED = r'''
import json
import veda
out = {}
with veda.Runtime(workers=1) as rt:
    def inner():
        p = rt.pipeline(max_in_flight=4).stage(lambda x: x * 2).stage(lambda x: x + 1, mode="serial")
        return list(p.run(range(200)))
    out["in_task"] = rt.submit(inner).result(timeout=30) == [2 * i + 1 for i in range(200)]

    def stage(x):
        q = rt.pipeline(max_in_flight=2).stage(lambda y: y + x)
        return sum(q.run(range(3)))
    p = rt.pipeline(max_in_flight=4).stage(stage).stage(stage, mode="serial")
    out["in_stage"] = list(p.run(range(10)))
print(json.dumps(out))
'''


def test_pipeline_nested_in_a_task_and_a_stage_one_worker(repo):
    """A pipeline run from a task, and from a stage of another pipeline, on a one-worker runtime:
    the run happens on the calling worker (which takes part), so nothing deadlocks. Before, the
    task waited in Python for a helper thread whose run needed the only worker. In a child
    process with a timeout, so that a deadlock fails the test instead of hanging the suite."""
    out = run_child(repo, NESTED)
    assert out["in_task"] is True
    # stage(x) = sum(y + x for y in 0..2) = 3 + 3x; applied twice: 3 + 3 * (3 + 3x)
    assert out["in_stage"] == [3 + 3 * (3 + 3 * i) for i in range(10)]
