"""Runtime as a concurrent.futures.Executor: submit/map/shutdown, asyncio, options that never
reach fn's kwargs, map_reduce and task groups."""
import asyncio
import concurrent.futures as cf
import functools
import operator
import threading
import time

import pytest

import veda
from veda import Status, VedaError


def test_is_executor(rt):
    assert isinstance(rt, cf.Executor)
    f = rt.submit(operator.add, 1, 2)
    assert isinstance(f, veda.Future) and isinstance(f, cf.Future)
    assert f.result(10) == 3


def test_submit_kwargs_go_to_fn(rt):
    """The reported bug: submit(fn, priority="high") passed priority on to fn. It still does,
    as the Executor protocol says: options have their own calls."""
    def fn(a, priority=None, deadline=None):
        return a, priority, deadline

    assert rt.submit(fn, 1, priority="high", deadline=3).result(10) == (1, "high", 3)
    assert rt.options(priority="high", deadline=5.0).submit(fn, 2, priority="p").result(10) == \
        (2, "p", None)
    assert rt.submit_with(fn, 3, priority="low").result(10) == (3, None, None)
    with pytest.raises(TypeError):
        rt.submit_with(fn, 3, priority="low", other=1)  # fn's kwargs are not taken here


@pytest.mark.parametrize("kw,exc", [
    ({"priority": "urgent"}, ValueError), ({"priority": 1}, TypeError),
    ({"deadline": -1}, ValueError), ({"deadline": 0}, ValueError),
    ({"deadline": "soon"}, TypeError), ({"deadline": float("nan")}, ValueError),
    ({"deadline": True}, TypeError),
])
def test_bad_options(rt, kw, exc):
    with pytest.raises(exc):
        rt.options(**kw)
    with pytest.raises(exc):
        rt.submit_with(print, **kw)


def test_priority_order():
    """With the worker blocked, queued high-priority tasks start before low ones. One worker, so
    the order of the appends is the order the queue handed the tasks out (with two, the two
    first tasks race for the GIL and may append in either order)."""
    with veda.Runtime(workers=1) as rt:
        _priority_order(rt)


def _priority_order(rt):
    gate = threading.Event()
    order = []
    blockers = [rt.submit(gate.wait, 10) for _ in range(rt.num_workers)]
    time.sleep(0.05)
    low = [rt.submit_with(order.append, ("low", i), priority="background") for i in range(5)]
    high = [rt.options(priority="realtime").submit(order.append, ("high", i)) for i in range(5)]
    gate.set()
    for f in blockers + low + high:
        f.result(10)
    assert [k for k, _ in order[:5]] == ["high"] * 5, order


def test_deadline_passed_task_never_runs(rt):
    gate = threading.Event()
    blockers = [rt.submit(gate.wait, 10) for _ in range(rt.num_workers)]
    time.sleep(0.05)
    ran = []
    f = rt.submit_with(ran.append, 1, deadline=0.01)
    time.sleep(0.1)
    gate.set()
    with pytest.raises(VedaError) as ei:
        f.result(10)
    assert ei.value.status == Status.TIMEOUT
    assert ran == []
    for b in blockers:
        b.result(10)


def test_map_like_threadpool(rt):
    data = list(range(1000))
    with cf.ThreadPoolExecutor(2) as ex:
        want = list(ex.map(pow, data, [3] * 1000))
    for cs in (None, 1, 7, 5000):
        assert list(rt.map(pow, data, [3] * 1000, chunksize=cs)) == want
    assert list(rt.map(pow, [], [])) == []
    assert list(rt.map(pow, range(5), range(3))) == [1, 1, 4]  # zip: shortest wins


def test_map_exception_in_order(rt):
    it = rt.map(lambda x: 10 // (x - 5), range(10), chunksize=3)
    got = []
    with pytest.raises(ZeroDivisionError):
        for v in it:
            got.append(v)
    assert got == [10 // (x - 5) for x in range(5)]


def test_map_timeout(rt):
    it = rt.map(time.sleep, [0.3] * 4, timeout=0.05, chunksize=1)
    t0 = time.monotonic()
    with pytest.raises(cf.TimeoutError):
        list(it)
    assert time.monotonic() - t0 < 0.25


def test_map_bad_args(rt):
    with pytest.raises(TypeError):
        rt.map(42, [1])
    with pytest.raises(ValueError):
        rt.map(abs, [1], chunksize=0)
    with pytest.raises(TypeError):
        rt.map(abs, [1], chunksize=1.5)
    with pytest.raises(TypeError):
        rt.map(abs, [1], timeout="1")


def test_shutdown_cancel_futures():
    rt = veda.Runtime(workers=1)
    gate = threading.Event()
    running = rt.submit(gate.wait, 10)
    time.sleep(0.05)
    queued = [rt.submit(time.sleep, 0) for _ in range(20)]
    threading.Timer(0.1, gate.set).start()
    rt.shutdown(wait=True, cancel_futures=True)
    assert running.result(0) is True
    assert all(f.cancelled() for f in queued)
    assert rt.closed
    with pytest.raises(RuntimeError, match="shutdown"):
        rt.submit(print)
    rt.shutdown()  # idempotent


def test_shutdown_no_wait_and_with():
    rt = veda.Runtime(workers=2)
    fs = [rt.submit(time.sleep, 0.01) for _ in range(10)]
    rt.shutdown(wait=False)
    with pytest.raises(RuntimeError):
        rt.submit(print)
    for f in fs:
        f.result(10)
    with veda.Runtime(workers=1) as r2:
        assert r2.submit(abs, -3).result(10) == 3
    assert r2.closed


def test_run_in_executor(rt):
    async def main():
        loop = asyncio.get_running_loop()
        return await asyncio.gather(*[loop.run_in_executor(rt, pow, 2, i) for i in range(20)])

    assert asyncio.run(main()) == [2**i for i in range(20)]


def test_map_reduce(rt):
    assert rt.map_reduce(lambda x: x * x, range(10_000), operator.add) == \
        sum(x * x for x in range(10_000))
    # associative, not commutative: order is kept
    words = [str(i) for i in range(500)]
    assert rt.map_reduce(str.upper, words, operator.add, chunksize=7) == "".join(words)
    assert rt.map_reduce(abs, [], operator.add, initial=5) == 5
    assert rt.map_reduce(abs, [-2], operator.add, initial=5) == 7
    with pytest.raises(TypeError, match="empty"):
        rt.map_reduce(abs, [], operator.add)
    with pytest.raises(ZeroDivisionError):
        rt.map_reduce(lambda x: 1 // x, range(-50, 50), operator.add)
    with pytest.raises(TypeError):
        rt.map_reduce(abs, [1], 3)
    assert rt.map_reduce(abs, range(10), max) == 9  # usable after the failures


def test_group_results(rt):
    with rt.group() as g:
        fs = [g.spawn(pow, 2, i) for i in range(50)]
        nested = g.spawn(lambda: sum(rt.map(abs, range(-10, 0))))
    assert [f.result(0) for f in fs] == [2**i for i in range(50)]
    assert nested.result(0) == 55


class Boom(Exception):
    pass


def test_group_failure_cancels_rest(rt):
    ran = []

    def child(i):
        if i == 0:
            raise Boom("child 0")
        time.sleep(0.002)
        ran.append(i)

    with pytest.raises(Boom, match="child 0"):
        with rt.group() as g:
            fs = [g.spawn(child, i) for i in range(300)]
            assert g.spawn(abs, 1) is not None
    assert g.cancelled
    cancelled = sum(f.cancelled() for f in fs)
    assert cancelled > 0, "no child was cancelled"
    assert cancelled + len(ran) == 299
    assert all(f.done() for f in fs)
    # a spawn after the failure never runs
    with pytest.raises(RuntimeError):
        g.spawn(abs, 1)
    with rt.group() as g2:
        f = g2.spawn(abs, -1)
    assert f.result(0) == 1


def test_group_body_exception_propagates(rt):
    with pytest.raises(KeyError):
        with rt.group() as g:
            fs = [g.spawn(time.sleep, 0.002) for _ in range(200)]
            raise KeyError("body")
    assert all(f.done() for f in fs)
    assert any(f.cancelled() for f in fs)


def test_group_bad_args(rt):
    with rt.group() as g:
        with pytest.raises(TypeError):
            g.spawn(42)
    with pytest.raises(RuntimeError):
        rt.group().spawn(abs, 1)


def test_future_generic_and_partial(rt):
    f: "veda.Future[int]" = rt.submit(functools.partial(int, base=2), "101")
    assert f.result(10) == 5
    assert veda.Future[int] is not None
