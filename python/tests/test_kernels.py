import tracemalloc

import numpy as np
import pytest

import veda


def _ref(x):
    return float(np.sum(x.astype(np.float64), dtype=np.float64))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("make", [
    lambda r, d: r.random(1).astype(d)[0:1],
    lambda r, d: r.random(1_000_003).astype(d),
    lambda r, d: r.random((300, 400)).astype(d),
    lambda r, d: r.random((30, 40, 50)).astype(d),
    lambda r, d: np.asfortranarray(r.random((300, 400)).astype(d)),
    lambda r, d: r.random((300, 400)).astype(d)[:, ::3],      # non-contiguous
    lambda r, d: r.random((300, 400)).astype(d).T[::2, 5:],   # transposed view
    lambda r, d: r.random(100_000).astype(d)[::-7],           # negative stride
    lambda r, d: np.zeros((0, 5), d),
    lambda r, d: np.array(3.5, dtype=d),                      # 0-d
])
def test_sum_matches_numpy(rt, dtype, make):
    x = make(np.random.default_rng(1), dtype)
    got = rt.sum(x)
    assert isinstance(got, float)
    ref = _ref(x)
    assert got == pytest.approx(ref, rel=1e-12, abs=1e-12)


def test_sum_no_copy_for_contiguous(rt):
    x = np.ones(5_000_000)  # 40 MB
    rt.sum(x)
    tracemalloc.start()
    try:
        rt.sum(x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, f"sum allocated {peak} bytes"


def test_sum_deterministic_across_runs_and_workers():
    x = np.random.default_rng(5).standard_normal(3_000_001) * 1e6
    results = set()
    for workers in (1, 2, 3):
        with veda.Runtime(workers=workers, policy="deterministic", seed=1) as r:
            for _ in range(3):
                results.add(r.sum(x).hex())
    assert len(results) == 1, results


@pytest.mark.parametrize("x,exc,name", [
    ([1.0, 2.0], TypeError, "x"), (None, TypeError, "x"), (3.0, TypeError, "x"),
    (np.arange(10), TypeError, "x"), (np.ones(3, np.complex128), TypeError, "x"),
    (np.ones(3, np.float16), TypeError, "x"),
])
def test_sum_bad_input(rt, x, exc, name):
    with pytest.raises(exc, match=name):
        rt.sum(x)


def test_saxpy_in_place(rt):
    rng = np.random.default_rng(2)
    x = rng.random(100_001, dtype=np.float32)
    y = rng.random(100_001, dtype=np.float32)
    want = np.float32(2.5) * x + y
    out = rt.saxpy(2.5, x, y)
    assert out is y
    np.testing.assert_allclose(y, want, rtol=1e-6)


def test_saxpy_views(rt):
    rng = np.random.default_rng(3)
    x = rng.random((200, 300), dtype=np.float32)[:, ::2]
    ybase = rng.random((200, 300), dtype=np.float32)
    y = ybase[::2, :150]
    want = 3 * x[::2] + y
    assert rt.saxpy(3, x[::2], y) is y
    np.testing.assert_allclose(ybase[::2, :150], want, rtol=1e-6)
    z = rng.random(10, dtype=np.float32)
    want = z + z
    rt.saxpy(1.0, z, z)  # x is y: fine
    np.testing.assert_allclose(z, want, rtol=1e-6)
    e = np.zeros(0, np.float32)
    assert rt.saxpy(1.0, e, e) is e


@pytest.mark.parametrize("args,exc,name", [
    ((1.0, np.ones(3, np.float64), np.ones(3, np.float32)), TypeError, "x"),
    ((1.0, np.ones(3, np.float32), np.ones(3, np.float64)), TypeError, "y"),
    ((1.0, np.ones(3, np.float32), np.ones(4, np.float32)), ValueError, "shape"),
    ((1.0, [1.0], np.ones(1, np.float32)), TypeError, "x"),
    (("a", np.ones(3, np.float32), np.ones(3, np.float32)), TypeError, "a"),
    ((None, np.ones(3, np.float32), np.ones(3, np.float32)), TypeError, "a"),
])
def test_saxpy_bad(rt, args, exc, name):
    with pytest.raises(exc, match=name):
        rt.saxpy(*args)


def test_saxpy_readonly(rt):
    y = np.ones(3, np.float32)
    y.flags.writeable = False
    with pytest.raises(ValueError, match="y"):
        rt.saxpy(1.0, np.ones(3, np.float32), y)


def test_sgemm(rt):
    rng = np.random.default_rng(4)
    a = rng.random((65, 33), dtype=np.float32)
    b = rng.random((33, 47), dtype=np.float32)
    c = rt.sgemm(a, b)
    assert c.shape == (65, 47) and c.dtype == np.float32
    np.testing.assert_allclose(c, a @ b, rtol=1e-4)
    c0 = rng.random((65, 47), dtype=np.float32)
    c1 = c0.copy()
    out = rt.sgemm(a, b, alpha=2.0, c=c1, beta=0.5)
    assert out is c1
    np.testing.assert_allclose(c1, 2 * (a @ b) + 0.5 * c0, rtol=1e-4)


def test_sgemm_views(rt):
    rng = np.random.default_rng(6)
    big = rng.random((80, 90), dtype=np.float32)
    a = big[:40, 10:50]          # dense rows, leading dimension 90
    b = big[::2, :30][:40]       # row stride 180
    bt = rng.random((30, 40), dtype=np.float32).T  # column-major: copied
    np.testing.assert_allclose(rt.sgemm(a, b), a @ b, rtol=1e-4)
    np.testing.assert_allclose(rt.sgemm(a, bt), a @ bt, rtol=1e-4)
    cbase = np.zeros((40, 60), np.float32)
    c = cbase[:, ::2]
    assert rt.sgemm(a, b, c=c) is c
    np.testing.assert_allclose(cbase[:, ::2], a @ b, rtol=1e-4)
    # k == 0 and empty results
    assert rt.sgemm(np.zeros((3, 0), np.float32), np.zeros((0, 4), np.float32)).tolist() == \
        np.zeros((3, 4)).tolist()
    assert rt.sgemm(np.zeros((0, 3), np.float32), np.zeros((3, 4), np.float32)).shape == (0, 4)


def test_sgemm_aliasing(rt):
    a = np.random.default_rng(7).random((20, 20), dtype=np.float32)
    want = a @ a
    assert rt.sgemm(a, a, c=a) is a
    np.testing.assert_allclose(a, want, rtol=1e-4)


@pytest.mark.parametrize("kw,exc,name", [
    (dict(a=np.ones((2, 3), np.float32), b=np.ones((4, 2), np.float32)), ValueError, "shape"),
    (dict(a=np.ones(3, np.float32), b=np.ones((3, 2), np.float32)), ValueError, "a"),
    (dict(a=np.ones((2, 3), np.float64), b=np.ones((3, 2), np.float32)), TypeError, "a"),
    (dict(a=np.ones((2, 3), np.float32), b=[[1.0]]), TypeError, "b"),
    (dict(a=np.ones((2, 3), np.float32), b=np.ones((3, 2), np.float32),
          c=np.ones((3, 3), np.float32)), ValueError, "c"),
    (dict(a=np.ones((2, 3), np.float32), b=np.ones((3, 2), np.float32),
          c=np.ones((2, 2), np.float64)), TypeError, "c"),
    (dict(a=np.ones((2, 3), np.float32), b=np.ones((3, 2), np.float32), alpha="x"),
     TypeError, "alpha"),
    (dict(a=np.ones((2, 3), np.float32), b=np.ones((3, 2), np.float32), beta=None),
     TypeError, "beta"),
])
def test_sgemm_bad(rt, kw, exc, name):
    with pytest.raises(exc, match=name):
        rt.sgemm(**kw)


def _unaligned(n, dtype):
    buf = np.zeros(n * np.dtype(dtype).itemsize + 1, dtype=np.uint8)
    x = buf[1:].view(dtype)
    assert not x.flags.aligned
    return x


def test_unaligned_arrays(rt):
    x = _unaligned(1001, np.float64)
    x[:] = np.arange(1001)
    assert rt.sum(x) == 500500.0
    xs = _unaligned(64, np.float32)
    ys = _unaligned(64, np.float32)
    xs[:] = 1
    ys[:] = 2
    assert rt.saxpy(2.0, xs, ys) is ys and (ys == 4).all()
    a = _unaligned(16, np.float32).reshape(4, 4)
    a[:] = np.eye(4)
    c = _unaligned(16, np.float32).reshape(4, 4)
    assert rt.sgemm(a, a, c=c) is c and (c == np.eye(4)).all()


@pytest.mark.parametrize("bad,why", [
    (object(), "must be a numpy.ndarray"), ("str", "must be a numpy.ndarray"),
    (b"bytes", "must be a numpy.ndarray"), (np.ones(3, ">f8"), "must have dtype"),
    (np.ones(3, object), "must have dtype"), (np.ma.masked_array([1.0, 2.0]), "masked array"),
])
def test_odd_objects_are_refused(rt, bad, why):
    # Each is refused before any C call, with a TypeError naming the argument and the problem
    # (the old test accepted any outcome, a silent success included).
    for name, call in (("x", lambda: rt.sum(bad)), ("x", lambda: rt.saxpy(1.0, bad, bad)),
                       ("a", lambda: rt.sgemm(bad, bad))):
        with pytest.raises(TypeError, match=why) as ei:
            call()
        assert str(ei.value).startswith(name + " ")
    assert rt.sum(np.ones(4)) == 4.0  # the runtime is still usable
