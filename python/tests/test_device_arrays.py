"""Device arrays (resident buffers), N-D and asynchronous kernel launches, against the real
library: the chain saxpy -> dot -> user kernel on PoCL with every element checked and zero copies,
CPU device arrays, order of async launches, and every bad input (as exceptions)."""
from concurrent.futures import Future

import numpy as np
import pytest

import veda
from veda import Status, VedaError


SRC = r"""
__kernel void scale_by(__global float *z, __global const float *y, __global const double *dot,
                       const long n) {
    long i = get_global_id(0);
    if (i < n) z[i] = y[i] * (float)dot[0];
}
__kernel void inc(__global float *x, const long n) {
    long i = get_global_id(0);
    if (i < n) x[i] += 1.0f;
}
__kernel void fill3d(__global int *o) {
    size_t x = get_global_id(0), y = get_global_id(1), z = get_global_id(2);
    o[(z * get_global_size(1) + y) * get_global_size(0) + x] = (int)(x + 100 * y + 10000 * z);
}
"""


def test_chain_on_device_no_transfers(rt, ocl):
    n = 50_001
    x = (np.arange(n) % 11).astype(np.float32) * 0.25
    y = (np.arange(n) % 3).astype(np.float32) - 1
    k = rt.kernel(opencl=SRC, name="scale_by")
    dx, dy = rt.to_device(x, device=ocl), rt.to_device(y, device=ocl)
    dz = rt.device_empty(n, np.float32, device=ocl)
    dd = rt.device_empty(1, np.float64, device=ocl)
    assert (dx.device, dx.dtype, dx.shape, dx.nbytes) == (ocl, np.float32, (n,), 4 * n)
    before = rt.transfers(ocl)
    rt.saxpy(0.5, dx, dy)
    rt.dot_into(dx, dy, dd)
    k(n, dz, dy, dd, np.int64(n))
    assert rt.transfers(ocl) == before
    wy = np.float32(0.5) * x + y
    gy = dy.get()
    assert np.array_equal(gy, wy)
    dot = dd.get()[0]
    ref = float(np.dot(x.astype(np.float64), wy.astype(np.float64)))
    assert abs(dot - ref) <= 1e-9 * abs(ref) + 1e-9
    assert np.array_equal(dz.get(), gy * np.float32(dot))
    assert rt.dot(dx, dy) == dot  # read back == kept on the device, bit for bit
    assert rt.sum(dy) == pytest.approx(float(wy.astype(np.float64).sum()), rel=1e-12)
    for d in (dx, dy, dz, dd):
        d.close()
    k.close()


def test_cpu_device_arrays_match_host_kernels(rt):
    x = np.arange(70_000, dtype=np.float32) % 7
    y = np.ones_like(x)
    dx, dy = rt.to_device(x, device=0), rt.to_device(y, device=0)
    rt.saxpy(2.0, dx, dy)
    y = 2 * x + 1
    assert np.array_equal(dy.get(), y)
    assert rt.dot(dx, dy) == rt.dot(x, y)
    assert rt.sum(dy) == rt.sum(y)
    fut = dy.get_async()
    assert isinstance(fut, Future)
    assert np.array_equal(fut.result(timeout=30), y)


def test_async_launches_keep_order(rt, ocl):
    k = rt.kernel(opencl=SRC, name="inc")
    start = np.arange(4096, dtype=np.float32)
    d = rt.to_device(start, device=ocl)
    futs = [k.run_async(4096, d, np.int64(4096)) for _ in range(20)]
    got = d.get_async().result(timeout=60)
    for f in futs:
        assert f.result(timeout=60) is None
    assert np.array_equal(got, start + 20)


def test_run_nd(rt, ocl):
    k = rt.kernel(opencl=SRC, name="fill3d")
    want = np.fromfunction(lambda z, y, x: x + 100 * y + 10000 * z, (3, 6, 8), dtype=np.int32)
    for local in (None, (4, 2, 1)):
        out = np.full((3, 6, 8), -1, np.int32)
        k.run((8, 6, 3), veda.Out(out), local=local)
        assert np.array_equal(out, want)
    with pytest.raises(VedaError) as e:
        k.run((8, 6, 3), veda.Out(out), local=(3, 1, 1))
    assert e.value.status == Status.INVALID_ARGUMENT and "does not divide" in str(e.value)
    with pytest.raises(VedaError) as e:
        k.run((0,), veda.Out(out))
    assert e.value.status == Status.INVALID_ARGUMENT
    with pytest.raises(ValueError):
        k.run((1, 1, 1, 1), veda.Out(out))
    with pytest.raises(ValueError):
        k.run((8, 6, 3), veda.Out(out), local=(4, 2))
    with pytest.raises(TypeError):
        k.run(8.0, veda.Out(out))


def test_bad_inputs(rt):
    ndev = len(rt.devices())
    with pytest.raises(VedaError) as e:
        rt.to_device(np.ones(4, np.float32), device=ndev)
    assert e.value.status == Status.INVALID_ARGUMENT
    with pytest.raises(ValueError):
        rt.to_device(np.ones(0, np.float32), device=0)
    with pytest.raises(VedaError) as e:
        rt.device_empty(1 << 60, np.uint8, device=0)  # more than the memory: invalid, not OOM
    assert e.value.status == Status.INVALID_ARGUMENT
    with pytest.raises(TypeError):
        rt.to_device(np.ones(4, np.float32), device="1")
    # Only numbers: an object array read back would hold raw device bytes as object pointers.
    for bad_dtype in (object, np.dtype([("a", np.float32), ("b", object)]), "U3", "S2", "M8[s]"):
        with pytest.raises(TypeError, match="number"):
            rt.device_empty(4, bad_dtype, device=0)
    for bad_x in (np.array([object(), 1], dtype=object), np.array(["ab", "c"]), [b"x"]):
        with pytest.raises(TypeError, match="numbers"):
            rt.to_device(bad_x, device=0)
    for ok_dtype in (np.bool_, np.int8, np.uint64, np.float16, np.complex64):
        rt.device_empty(3, ok_dtype, device=0).close()
    d = rt.to_device(np.ones(4, np.float32), device=0)
    with pytest.raises(ValueError):
        d.set(np.ones(5, np.float32))
    with pytest.raises(TypeError):
        rt.saxpy(1.0, d, np.ones(4, np.float32))
    d64 = rt.to_device(np.ones(4), device=0)
    with pytest.raises(TypeError):
        rt.dot(d64, d64)
    d.close()
    d.close()  # idempotent
    with pytest.raises(VedaError) as e:
        d.get()
    assert e.value.status == Status.INVALID_ARGUMENT
    with pytest.raises(VedaError):
        rt.sum(d)
    if ndev > 1:
        a = rt.to_device(np.ones(16, np.float32), device=0)
        b = rt.to_device(np.ones(16, np.float32), device=1)
        with pytest.raises(VedaError) as e:
            rt.saxpy(1.0, a, b)
        assert e.value.status == Status.INVALID_ARGUMENT and "devices" in str(e.value)
        k = rt.kernel(opencl=SRC, name="inc")
        with pytest.raises(VedaError) as e:
            k(16, a, np.int64(16))  # user kernels do not run on the CPU
        assert e.value.status == Status.UNSUPPORTED
        k.close()


def test_done_callback_may_use_the_device(rt):
    d = rt.to_device(np.arange(8, dtype=np.float32), device=0)
    got = []
    import threading
    ev = threading.Event()
    fut = d.get_async()
    fut.add_done_callback(lambda f: (got.append(d.get()), ev.set()))
    assert ev.wait(30)
    assert np.array_equal(got[0], np.arange(8, dtype=np.float32))
    assert np.array_equal(fut.result(), got[0])
    d.close()
