"""rt.graph: the founding example on 4 workers (every item's contributions, in merge order),
the same object on every branch (or copy=), validation errors with nothing run, exactly-once per
copy with random failures (prefix, exception type and note), cancellation (another thread, a
node), Ctrl-C within 100 ms, async runs, nesting, bad input."""
import asyncio
import copy
import gc
import itertools
import random
import sys
import threading
import time

import numpy as np
import pytest

import veda
from _testutil import CTRL_C_ARM, CTRL_C_PRELUDE, Item, newest_pipeline, run_child


def founding(rt, n):
    """The founding design's graph; returns (graph, the sink's contributions in arrival order)."""
    got = []
    state = {"sum": 0}

    def add(x):
        state["sum"] += x
        got.append(x)

    g = rt.graph(max_in_flight=16)
    a1 = g.node(lambda x: (2 * x, x), after=g.source, mode="parallel", name="a1")
    a2 = g.node(lambda t: t[0] - t[1], after=a1, name="a2")
    b = g.node(lambda x: -x, after=g.source, name="b")
    g.sink(add, after=[a2, b], mode="serial", name="sum")  # paths: 0 by a2, 1 by b
    return g, got, state


def test_founding_example():
    with veda.Runtime(workers=4, policy="fixed") as rt:
        n = 3000
        g, got, state = founding(rt, n)
        for _ in range(2):  # a graph runs again
            got.clear()
            state["sum"] = 0
            assert g.run(range(n)) is None
            assert state["sum"] == 0
            # Every item contributed x by branch A, then -x by branch B (the serial sink sees
            # item 0 by every path, then item 1, ...).
            assert got == [v for x in range(n) for v in (x, -x)]
            st = g.last_run
            assert (st.read, st.copies, st.passed, st.dropped) == (n, n, 2 * n, 0)
        p = newest_pipeline(rt)
        assert sorted(s["name"] for s in p["stages"]) == ["a1", "a2", "b", "sum"]
        assert p["peak_in_flight"] <= 16
        g.close()
        g.close()  # idempotent


def test_same_object_on_every_branch_or_copy(rt):
    items = [object() for _ in range(50)]
    seen = {"a": [], "b": []}
    g = rt.graph()
    a = g.node(lambda o: seen["a"].append(o) or o, after=g.source, mode="serial")
    b = g.node(lambda o: seen["b"].append(o) or o, after=g.source, mode="serial")
    g.sink(lambda o: None, after=[a, b])
    g.run(items)
    assert all(x is y for x, y in zip(seen["a"], items)) and len(seen["a"]) == 50
    assert all(x is y for x, y in zip(seen["b"], items)) and len(seen["b"]) == 50

    # copy=: the first successor gets the object itself, each other one a copy; nodes may then
    # mutate their item in place.
    lists = [[i] for i in range(50)]
    got = []
    g = rt.graph(copy=copy.copy)
    a = g.node(lambda l: l.append("a") or l, after=g.source)
    b = g.node(lambda l: l.append("b") or l, after=g.source)
    g.sink(got.append, after=[a, b], mode="serial")
    g.run(lists)
    assert got == [[i, t] for i in range(50) for t in ("a", "b")]
    assert all(got[2 * i] is lists[i] for i in range(50))


def test_copy_that_raises(rt):
    def cp(x):
        if x == 3:
            raise OSError("cannot copy 3")
        return x

    passed = []
    g = rt.graph(copy=cp)
    a = g.node(lambda x: x, after=g.source, name="a")
    b = g.node(lambda x: x, after=g.source, name="b")
    g.sink(passed.append, after=[a, b], mode="serial")
    with pytest.raises(OSError, match="cannot copy 3") as ei:
        g.run(range(10))
    if sys.version_info >= (3, 11):
        assert "the copy for node 'b' failed at item 3" in "".join(ei.value.__notes__)
    assert passed[:6] == [0, 0, 1, 1, 2, 2] and len(passed) <= 7
    st = g.last_run
    assert st.passed + st.dropped == st.read + st.copies


def test_validation_errors_run_nothing(rt):
    ran = []

    def src():
        ran.append("source")
        yield 1

    def fn(x):
        ran.append("node")
        return x

    def expect(g, text):
        with pytest.raises(veda.VedaError) as ei:
            g.validate()
        assert ei.value.status == veda.Status.INVALID_ARGUMENT and text in str(ei.value), ei.value
        with pytest.raises(veda.VedaError) as ei:
            g.run(src())
        assert ei.value.status == veda.Status.INVALID_ARGUMENT and text in str(ei.value), ei.value
        assert ran == []

    expect(rt.graph(), "the source has no edge")
    # A cycle.
    g = rt.graph()
    a = g.node(fn, after=g.source, name="a")
    b = g.node(fn, after=a, name="b")
    g.edge(b, a)
    g.sink(fn, after=b, name="s")
    expect(g, 'cycle "a" -> "b" -> "a"')
    # A branch without a sink.
    g = rt.graph()
    a = g.node(fn, after=g.source, name="a")
    g.sink(fn, after=a, name="s")
    dead = g.node(fn, after=a, name="dead")
    expect(g, 'branch through "dead" ends there without reaching a sink')
    g.sink(fn, after=dead)  # fixed: now it runs
    g.run(src())
    assert ran.count("node") == 4
    ran.clear()
    # A node not reachable from the source.
    g = rt.graph()
    s = g.sink(fn, after=g.source, name="s")
    lonely = g.sink(fn, name="lonely")
    expect(g, 'node "lonely" is not reachable from the source')
    # Bad edges, unknown nodes, duplicate names: refused at once.
    for call, text in [
        (lambda: g.edge(s, lonely), "out of the sink"),
        (lambda: g.edge(lonely, g.source), "into the source"),
        (lambda: g.edge(g.source, s), "added twice"),
        (lambda: g.edge(g.source, veda.GraphNode(g, 99, "ghost", False)), "no such node"),
        (lambda: g.node(fn, name="s"), 'two nodes are named "s"'),
        (lambda: g.node(fn, name=""), "name"),
    ]:
        with pytest.raises(veda.VedaError) as ei:
            call()
        assert ei.value.status == veda.Status.INVALID_ARGUMENT and text in str(ei.value), (text, ei.value)
    other = rt.graph()
    with pytest.raises(ValueError):
        g.edge(other.source, s)
    with pytest.raises(ValueError):
        g.node(fn, after=other.source)
    with pytest.raises(TypeError):
        g.edge("source", s)
    with pytest.raises(TypeError):
        g.node(fn, after=["source"])
    with pytest.raises(ValueError):
        g.node(fn, mode="sideways")
    with pytest.raises(ValueError):
        g.node(fn, priority="urgent")
    with pytest.raises(TypeError):
        g.node(42)
    with pytest.raises(TypeError):
        g.node(fn, name=7)
    assert ran == []


def test_exactly_once_with_random_failures_and_cancels(rt):
    rng = random.Random(7)
    for it in range(24):
        n = rng.randrange(1, 200)
        kind = rng.choice(["none", "node", "source", "cancel"])
        fail_at = rng.randrange(n)
        fail_node = rng.choice(["x", "y", "z1", "z2", "sink"])
        sink_mode = rng.choice(["serial", "parallel"])
        got = []
        lock = threading.Lock()

        def body(tag, fail_here):
            def f(v):
                obj = v[1] if isinstance(v, tuple) else v
                if kind == "node" and fail_here and obj.i == fail_at:
                    raise KeyError(f"{tag} at {obj.i}")
                if obj.i % 7 == 0:
                    time.sleep(0.0001)
                return (tag, obj) if tag != "z1" else obj
            return f

        def sink(v):
            tag, obj = v
            if kind == "node" and fail_node == "sink" and obj.i == fail_at:
                raise KeyError(f"sink at {obj.i}")
            if kind == "cancel" and obj.i == fail_at:
                g.cancel()  # from a node: every alive copy is dropped
            with lock:
                got.append((obj.i, tag))

        def src():
            for i in range(n):
                if kind == "source" and i == fail_at:
                    raise ValueError(f"source at {i}")
                yield Item(i)

        g = rt.graph(max_in_flight=rng.randrange(1, 17))
        x = g.node(body("x", fail_node == "x"), after=g.source, name="x")
        y = g.node(body("y", fail_node == "y"), after=g.source, mode="serial_unordered", name="y")
        z1 = g.node(body("z1", fail_node == "z1"), after=g.source, name="z1")
        z2 = g.node(body("z", fail_node == "z2"), after=z1, mode="serial", name="z2", priority="high")
        g.sink(sink, after=[y, z2, x], mode=sink_mode, name="sink")  # paths: 0 y, 1 z, 2 x
        expected = [(i, t) for i in range(n) for t in ("y", "z", "x")]
        what = (it, n, kind, fail_at, fail_node, sink_mode)
        if kind == "cancel":
            try:
                g.run(src())
            except veda.VedaError as e:
                assert e.status == veda.Status.CANCELLED, (what, e)
        elif kind == "none":
            g.run(src())
            assert sorted(got) == sorted(expected), what
            if sink_mode == "serial":
                assert got == expected, what
        else:
            exc_type = KeyError if kind == "node" else ValueError
            with pytest.raises(exc_type) as ei:
                g.run(src())
            assert f"at {fail_at}" in str(ei.value), (what, ei.value)
            if sys.version_info >= (3, 11):
                where = f"node '{fail_node}'" if kind == "node" else "the source"
                assert f"veda: graph: {where} failed at item {fail_at}" in "".join(ei.value.__notes__), what
            # The prefix: every copy of the items before fail_at passed.
            before = [e for e in got if e[0] < fail_at]
            assert sorted(before) == sorted(expected[:3 * fail_at]), what
            if sink_mode == "serial":
                assert got == expected[:len(got)] and len(got) <= 3 * fail_at + 2, what
        st = g.last_run
        assert st.passed + st.dropped == st.read + st.copies, (what, st)
        assert st.passed == len(got), (what, st)
        g.close()
        ei = None  # the traceback holds frames that hold items
    gc.collect()
    assert Item.alive == 0  # every copy was released (passed or dropped) and nothing leaked


def test_cancel_from_another_thread_and_from_a_node(rt):
    def slow(x):
        time.sleep(0.001)
        return x

    g = rt.graph(max_in_flight=8)
    a = g.node(slow, after=g.source)
    b = g.node(slow, after=g.source, mode="serial")
    g.sink(lambda x: x, after=[a, b])
    threading.Timer(0.1, g.cancel).start()
    t0 = time.perf_counter()
    with pytest.raises(veda.VedaError) as ei:
        g.run(itertools.count())
    assert ei.value.status == veda.Status.CANCELLED
    assert time.perf_counter() - t0 < 5
    st = g.last_run
    assert st.passed > 0 and st.passed + st.dropped == st.read + st.copies
    g.cancel()  # not running: a no-op
    # From a node of the graph itself.
    g2 = rt.graph()

    def stopper(x):
        if x == 50:
            g2.cancel()
        return x

    g2.sink(stopper, after=g2.source, mode="serial")
    with pytest.raises(veda.VedaError) as ei:
        g2.run(itertools.count())
    assert ei.value.status == veda.Status.CANCELLED
    # Both run again afterwards.
    g.run(range(5))
    assert g.last_run.passed == 10
    got = []
    g3 = rt.graph()
    g3.sink(got.append, after=g3.source, mode="serial")
    g3.run(range(5))
    assert got == [0, 1, 2, 3, 4]


def test_bad_input_during_a_run(rt):
    g = rt.graph(max_in_flight=2)
    inner = {}
    gate = threading.Event()
    entered = threading.Event()

    def first(x):
        if x == 0:
            for name, call in [("run", lambda: g.run(range(3))),
                               ("node", lambda: g.node(lambda v: v, after=g.source)),
                               ("edge", lambda: g.edge(g.source, s)),
                               ("close", g.close)]:
                try:
                    call()
                    inner[name] = None
                except veda.VedaError as e:
                    inner[name] = e.status
            entered.set()
            gate.wait(10)
        return x

    a = g.node(first, after=g.source, mode="serial", name="first")
    s = g.sink(lambda x: x, after=a, name="s")
    th = threading.Thread(target=g.run, args=(range(20),))
    th.start()
    assert entered.wait(10)
    assert inner == {k: veda.Status.INVALID_ARGUMENT for k in ("run", "node", "edge", "close")}, inner
    assert g.running
    for call in (lambda: g.run(range(3)), lambda: g.sink(lambda v: v, name="late"), g.close, g.validate):
        try:
            call()
            assert call == g.validate  # validating during a run is allowed
        except veda.VedaError as e:
            assert e.status == veda.Status.INVALID_ARGUMENT
    gate.set()
    th.join(10)
    assert not g.running and g.last_run.passed == 20
    g.run(range(3))  # unchanged, runs again
    assert g.last_run.passed == 3
    # Bad arguments to rt.graph.
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError):
            rt.graph(max_in_flight=bad)
        with pytest.raises(ValueError):
            rt.graph(max_bytes=bad)
    with pytest.raises(ValueError):
        rt.graph(priority="urgent")
    with pytest.raises(TypeError):
        rt.graph(copy=42)
    # A closed graph, a closed runtime.
    g.close()
    with pytest.raises(veda.VedaError):
        g.node(lambda v: v)
    with pytest.raises(veda.VedaError):
        g.run(range(3))
    r = veda.Runtime(workers=1)
    g = r.graph()
    g.sink(lambda v: v, after=g.source)
    r.close()
    with pytest.raises(veda.VedaError) as ei:
        g.run(range(3))
    assert ei.value.status == veda.Status.CLOSED
    with pytest.raises(veda.VedaError):
        r.graph()


def test_nesting_with_one_worker():
    with veda.Runtime(workers=1, policy="fixed") as rt:
        inner = rt.graph()
        got = []
        inner.sink(got.append, after=inner.node(lambda v: v * 10, after=inner.source), mode="serial")
        sums = []

        def node(x):
            inner.run(range(x))  # a graph run inside a node: the worker helps, no deadlock
            return float(rt.sum(np.ones(1000))) + x

        outer = rt.graph()
        # The node is serial: while it waits for the inner run, its worker helps and may pick up
        # outer work, but not a second call of this node (which would run inner twice at once).
        outer.sink(sums.append, after=outer.node(node, after=outer.source, mode="serial"), mode="serial")
        outer.run(range(1, 6))
        assert sums == [1001.0, 1002.0, 1003.0, 1004.0, 1005.0]
        assert got == [v * 10 for x in range(1, 6) for v in range(x)]


def test_run_async(rt):
    async def agen():
        for i in range(30):
            await asyncio.sleep(0)
            yield i

    out = []
    g = rt.graph()
    a = g.node(lambda x: x + 1, after=g.source)
    b = g.node(lambda x: -(x + 1), after=g.source)
    g.sink(out.append, after=[a, b], mode="serial")

    async def main():
        await g.run_async(agen())
        return list(out)

    assert asyncio.run(main()) == [v for x in range(30) for v in (x + 1, -(x + 1))]
    out.clear()
    assert asyncio.run(main()) and g.last_run.passed == 60

    def boom(x):
        if x == 5:
            raise RuntimeError("boom")
        return x

    g2 = rt.graph()
    g2.sink(boom, after=g2.source, mode="serial")
    with pytest.raises(RuntimeError, match="boom"):
        asyncio.run(g2.run_async(range(10)))

    # Cancelling the awaiting task cancels the run.
    def slow(x):
        time.sleep(0.001)
        return x

    g3 = rt.graph(max_in_flight=4)
    g3.sink(slow, after=g3.source)

    async def cancel_it():
        task = asyncio.ensure_future(g3.run_async(itertools.count()))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_it())
    st = g3.last_run
    assert not g3.running and st.passed > 0 and st.passed + st.dropped == st.read + st.copies


CTRL_C = CTRL_C_PRELUDE + r'''
got = []
g = rt.graph(max_in_flight=8)
a = g.node(slow, after=g.source, name="a")
b = g.node(lambda x: -x, after=g.source, name="b")
g.sink(got.append, after=[a, b], mode="serial", name="s")
''' + CTRL_C_ARM + r'''
out = {}
try:
    g.run(endless())
    out["error"] = "no KeyboardInterrupt"
except KeyboardInterrupt:
    out["latency_ms"] = (time.perf_counter() - box["t"]) * 1e3
    out["items"] = len(got)
# The runtime and the graph are usable at once afterwards.
got.clear()
g.run(range(5))
out["again"] = [v for v in got if abs(v) < 5]  # (a sink call of the interrupted run may land late)
print(json.dumps(out))
'''


def test_ctrl_c_stops_within_100ms(repo):
    out = run_child(repo, CTRL_C)
    assert "error" not in out, out
    assert out["latency_ms"] < 100, out
    assert out["items"] > 0 and out["again"] == [0, 0, 1, -1, 2, -2, 3, -3, 4, -4]
