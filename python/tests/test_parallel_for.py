import ctypes
import threading

import numpy as np
import pytest

import veda
from veda import Status, VedaError
from veda._capi import veda_range_fn


def test_python_callable_exactly_once(rt):
    n = 100_000
    hits = np.zeros(n, dtype=np.int32)

    def body(b, e):
        hits[b:e] += 1

    rt.parallel_for(0, n, body, grain=100)
    assert (hits == 1).all()


def test_offset_range_and_empty(rt):
    seen = []
    rt.parallel_for(-50, 50, lambda b, e: seen.append((b, e)))
    assert sorted(i for b, e in seen for i in range(b, e)) == list(range(-50, 50))
    rt.parallel_for(5, 5, lambda b, e: 1 / 0)  # empty: calls nothing


class MyError(Exception):
    pass


def test_exception_reraised_and_runtime_usable(rt):
    def body(b, e):
        if b <= 500 < e:
            raise MyError(f"bad chunk {b}")

    with pytest.raises(MyError, match="bad chunk"):
        rt.parallel_for(0, 1000, body, grain=10)
    with pytest.raises(KeyError):
        rt.parallel_for(0, 10, lambda b, e: {}["k"])
    total = []
    rt.parallel_for(0, 10, lambda b, e: total.append(e - b))
    assert sum(total) == 10


def test_ctypes_pointer(rt):
    n = 10_000
    arr = (ctypes.c_int64 * n)()

    @veda_range_fn
    def body(ctx, b, e):
        a = ctypes.cast(ctx, ctypes.POINTER(ctypes.c_int64))
        for i in range(b, e):
            a[i] = i * 2
        return 0

    rt.parallel_for(0, n, body, grain=500, ctx=arr)
    assert list(arr) == [2 * i for i in range(n)]
    # the same through an explicit int address
    addr = ctypes.cast(body, ctypes.c_void_p).value
    rt.parallel_for(0, n, veda.native(addr), ctx=ctypes.addressof(arr))


def test_native_failure_is_task_failed(rt):
    @veda_range_fn
    def body(ctx, b, e):
        return 7 if b == 0 else 0

    with pytest.raises(VedaError) as ei:
        rt.parallel_for(0, 100, body, grain=10)
    assert ei.value.status == Status.TASK_FAILED
    assert "7" in str(ei.value)
    rt.parallel_for(0, 100, lambda b, e: None)


@pytest.mark.parametrize("args,exc", [
    ((0, 10, None), TypeError), ((0, 10, "f"), TypeError), ((0, 10, 0), TypeError),
    ((0, 10, 42), TypeError), ((0, 10, 3.5), TypeError), ((0, 10, b"x"), TypeError),
    ((10, 0, lambda b, e: None), ValueError), ((0.0, 10, lambda b, e: None), TypeError),
    ((0, "10", lambda b, e: None), TypeError), ((0, 2**63, lambda b, e: None), ValueError),
    ((0, 10, -1), TypeError), ((0, 10, True), TypeError),
])
def test_bad_arguments(rt, args, exc):
    with pytest.raises(exc):
        rt.parallel_for(*args)


def test_bad_grain_and_ctx(rt):
    with pytest.raises(ValueError, match="grain"):
        rt.parallel_for(0, 10, lambda b, e: None, grain=-1)
    with pytest.raises(TypeError, match="grain"):
        rt.parallel_for(0, 10, lambda b, e: None, grain=1.5)
    with pytest.raises(TypeError, match="ctx"):
        rt.parallel_for(0, 10, lambda b, e: None, ctx=3)
    f = veda_range_fn(lambda c, b, e: 0)
    with pytest.raises(TypeError, match="ctx"):
        rt.parallel_for(0, 10, f, ctx="x")


def test_two_python_threads_at_once(rt):
    errors, counts = [], [0, 0]
    lock = threading.Lock()

    def caller(i):
        try:
            for _ in range(20):
                def body(b, e):
                    with lock:
                        counts[i] += e - b
                rt.parallel_for(0, 1000, body, grain=50)
        except BaseException as e:  # pragma: no cover
            errors.append(e)

    ts = [threading.Thread(target=caller, args=(i,)) for i in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not any(t.is_alive() for t in ts), "deadlock"
    assert not errors and counts == [20_000, 20_000]


def test_nested_parallel_for(rt):
    out = np.zeros((20, 50))

    def outer(b, e):
        for i in range(b, e):
            def inner(lo, hi, i=i):
                out[i, lo:hi] = i
            rt.parallel_for(0, 50, inner, grain=10)

    rt.parallel_for(0, 20, outer, grain=1)
    assert (out == np.arange(20)[:, None]).all()


def test_thread_state_pinned(rt):
    """After the first callback on a worker thread, later ones reuse its thread state: a
    threading.local value set in one callback is seen in the next on the same thread."""
    tls = threading.local()
    seen = []
    for _ in range(5):
        def body(b, e):
            seen.append((threading.get_ident(), getattr(tls, "mark", None)))
            tls.mark = threading.get_ident()
        rt.parallel_for(0, 4, body, grain=1)
    repeats = [m for ident, m in seen[len(seen) // 2:] if m is not None]
    assert repeats and all(ident == m for ident, m in seen if m is not None)


def test_native_body_runs_without_gil_in_parallel():
    """libc usleep(ctx) as the body: each chunk sleeps ctx microseconds and returns 0. Two chunks
    on two workers overlap, and a Python thread keeps running meanwhile (the GIL is free)."""
    libc = ctypes.CDLL(None)
    usleep = veda.native(ctypes.cast(libc.usleep, ctypes.c_void_p).value)
    ticks = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks[0] += 1

    with veda.Runtime(workers=2, policy="deterministic") as r:
        t = threading.Thread(target=spin)
        t.start()
        try:
            import time
            t0 = time.perf_counter()
            r.parallel_for(0, 2, usleep, grain=1, ctx=300_000)
            dt = time.perf_counter() - t0
        finally:
            stop.set()
            t.join()
    assert dt < 0.55, f"two 0.3 s chunks took {dt:.2f} s: not parallel"
    assert ticks[0] > 1000, "the GIL was held during the native loop"


def test_one_chunk_ctypes_pointer_premade_path(rt):
    # A one-chunk loop of a ctypes function pointer with small bounds takes the premade-argument
    # call (no argtypes conversion): the same chunk, the same errors as the general path.
    seen = []

    @veda_range_fn
    def body(ctx, b, e):
        seen.append((ctx, b, e))
        return 5 if b == 7 else 0

    rt.parallel_for(3, 4, body)                # one index
    rt.parallel_for(10, 13, body, grain=2)     # fewer than two grains
    rt.parallel_for(255, 256, veda.native(ctypes.cast(body, ctypes.c_void_p).value))
    rt.parallel_for(2**40, 2**40 + 1, body)    # large bounds: the general path
    assert seen == [(None, 3, 4), (None, 10, 13), (None, 255, 256), (None, 2**40, 2**40 + 1)]
    with pytest.raises(VedaError) as ei:
        rt.parallel_for(7, 8, body)
    assert ei.value.status == Status.TASK_FAILED and "5" in str(ei.value)
    with pytest.raises(ValueError, match="NULL"):
        rt.parallel_for(0, 1, veda_range_fn())  # a NULL function pointer is refused, not called
    with pytest.raises(TypeError, match="begin"):
        rt.parallel_for(False, 1, body)  # bools are not ints here, on either path
    with pytest.raises(TypeError, match="ctx"):
        rt.parallel_for(0, 1, body, ctx="x")  # a ctx takes the general path and its checks
    rt.close()
    with pytest.raises(VedaError) as ei:
        rt.parallel_for(0, 1, body)
    assert ei.value.status == Status.CLOSED
