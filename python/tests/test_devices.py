"""Devices, pinning, user kernels, decisions and the float32/strided/distributed sums, against the
real library. The OpenCL parts run on PoCL here; without an OpenCL device they are skipped,
unless VEDA_REQUIRE_OPENCL=1 (set by the test runner where PoCL is installed) or PoCL's ICD file
is present, in which case a missing device fails."""
import ctypes
import os
import tracemalloc

import numpy as np
import pytest

import veda
from veda import _capi

POCL = os.path.exists("/etc/OpenCL/vendors/pocl.icd") or os.environ.get("VEDA_REQUIRE_OPENCL") == "1"
GPU_OFF = os.environ.get("VEDA_DISABLE_GPU") == "1"

AXPY = r"""
__kernel void axpy(__global const float *x, __global float *y, __global float *z,
                   const float a, const int n, const long off) {
    int i = get_global_id(0);
    if (i >= n) return;
    z[i] = a * x[i] + y[i] + (float)off;
    y[i] = y[i] * 2.0f;
}
__kernel void scale64(__global double *v, const double s) {
    v[get_global_id(0)] *= s;
}
"""


def test_header_structs_match_ctypes():
    # ctypes' layout equals the C layout of veda.h for these structs (the C tests check the C
    # side; here the sizes a C compiler would give on x86-64 / aarch64 Linux).
    assert ctypes.sizeof(_capi.veda_config) == 80  # grew with the energy policy fields
    assert ctypes.sizeof(_capi.veda_arg) == 24
    assert _capi.veda_device_info.compute_units.offset == 216
    d = _capi.veda_device_info()
    _capi.lib.veda_device_info_init(ctypes.byref(d))
    assert d.struct_size == ctypes.sizeof(_capi.veda_device_info)


def test_devices(rt):
    devs = rt.devices()
    assert len(devs) == rt.device_count >= 1
    cpu = devs[0]
    assert cpu["index"] == 0 and cpu["kind"] == "cpu" and cpu["name"]
    assert cpu["compute_units"] >= 1 and cpu["fp64"] is True
    keys = {"index", "kind", "name", "vendor", "platform", "driver_version", "memory_bytes",
            "compute_units", "max_work_group_size", "fp64", "stats"}
    stats = {"dispatched", "completed", "failed", "queue_depth", "ema_throughput",
             "peak_throughput", "bandwidth", "bytes_to_device", "bytes_from_device", "busy_ns"}
    for i, d in enumerate(devs):
        assert set(d) == keys
        assert set(d["stats"]) == stats
        assert d["index"] == i
        assert d["kind"] in ("cpu", "opencl", "cuda")
        assert (d["kind"] == "cpu") == (i == 0)
    if POCL and not GPU_OFF:
        assert any(d["kind"] == "opencl" for d in devs)


def test_disable_gpu():
    with veda.Runtime(workers=1, disable_gpu=True) as r:
        assert [d["kind"] for d in r.devices()] == ["cpu"]


def test_config_args():
    with pytest.raises(ValueError, match="strategy"):
        veda.Runtime(strategy="fastest")
    with pytest.raises(TypeError, match="strategy"):
        veda.Runtime(strategy=3)
    with pytest.raises(TypeError, match="disable_gpu"):
        veda.Runtime(disable_gpu="yes")
    with pytest.raises(ValueError, match="gpu_threshold"):
        veda.Runtime(gpu_threshold=0)
    with veda.Runtime(workers=1, strategy="round-robin", gpu_threshold=1 << 20,
                      record_decisions=True) as r:
        r.sum(np.ones(10, np.float32))
        assert r.decisions() and r.decisions()[-1]["kernel"] == "sum_f32"


def test_pin_device(rt):
    n = rt.device_count
    for bad in (n, -2, 10**6):
        with pytest.raises(ValueError, match="index"):
            rt.pin_device(bad)
    for bad in (1.0, "0", True, [0]):
        with pytest.raises(TypeError, match="index"):
            rt.pin_device(bad)
    rt.pin_device(0)
    assert rt.sum(np.arange(5, dtype=np.float32)) == 10.0
    rt.pin_device(None)
    rt.pin_device(-1)
    rt.close()
    with pytest.raises(veda.VedaError) as ei:
        rt.pin_device(0)
    assert ei.value.status == veda.Status.CLOSED


def test_user_kernel_every_element(rt, ocl):
    rt.pin_device(ocl)
    k = rt.kernel(opencl=AXPY, name="axpy")
    assert isinstance(k, veda.Kernel) and k.name == "axpy"
    rng = np.random.default_rng()
    for n in (1, 13, 4096, 300_001):
        x = rng.standard_normal(n).astype(np.float32)
        y = rng.standard_normal(n).astype(np.float32)
        z = np.full(n, np.nan, np.float32)
        a = np.float32(rng.standard_normal())
        y0 = y.copy()
        k(n, veda.In(x), veda.InOut(y), veda.Out(z), a, np.int32(n), np.int64(3))
        want = a * x + y0 + np.float32(3)
        np.testing.assert_allclose(z, want, rtol=1e-5, atol=1e-5)
        assert np.array_equal(y, y0 * np.float32(2))
    # Plain arrays: writeable -> InOut, read-only -> In; misaligned (offset) views work too.
    n = 1000
    raw = np.zeros(4 * n + 1, np.uint8)
    xm = raw[1:].view(np.float32)  # misaligned float32 view
    xm[:] = rng.standard_normal(n).astype(np.float32)
    xm.flags.writeable = False
    y = np.ones(n, np.float32)
    z = np.zeros(n, np.float32)
    k(n, xm, y, z, np.float32(2), np.int32(n), np.int64(0))
    np.testing.assert_allclose(z, 2 * xm + 1, rtol=1e-6)
    assert np.all(y == 2)
    # double arguments
    s = rt.kernel(opencl=AXPY, name="scale64")
    v = rng.standard_normal(777)
    v0 = v.copy()
    s(777, v, np.float64(-0.5))
    assert np.array_equal(v, v0 * -0.5)
    ds = rt.devices()[ocl]["stats"]
    assert ds["completed"] >= 6 and ds["bytes_from_device"] > 0
    k.close()
    k.close()
    with pytest.raises(veda.VedaError) as ei:
        k(1, z)
    assert ei.value.status == veda.Status.CLOSED


def test_user_kernel_not_on_cpu(rt, ocl):
    k = rt.kernel(opencl=AXPY, name="scale64")
    rt.pin_device(0)
    with pytest.raises(veda.VedaError) as ei:
        k(4, np.ones(4), np.float64(2))
    assert ei.value.status == veda.Status.UNSUPPORTED
    rt.pin_device(-1)
    v = np.ones(4)
    k(4, v, np.float64(2))  # automatic: only the OpenCL device has it
    assert np.all(v == 2)


def test_compile_error(rt, ocl):
    with pytest.raises(veda.VedaError) as ei:
        rt.kernel(opencl="__kernel void f(__global float *x) { x[0] = nope_undefined; }", name="f")
    assert ei.value.status == veda.Status.DEVICE
    assert "build log" in str(ei.value) and "nope_undefined" in str(ei.value)


def test_compiler_output_goes_into_the_exception(rt, ocl, capfd):
    """PoCL's compiler prints "N error(s) generated." on the process's stderr (fd 2); the
    binding's build error carries it instead, and nothing reaches stderr."""
    import uuid
    src = f"/* {uuid.uuid4()} */ __kernel void f(__global float *x) {{ x[0] = undefined_y; }}"
    with pytest.raises(veda.VedaError) as ei:
        rt.kernel(opencl=src, name="f")
    err = capfd.readouterr().err
    assert "generated" not in err and "undefined_y" not in err, err
    msg = str(ei.value)
    assert "undefined_y" in msg and "compiler output:" in msg and "error generated" in msg, msg
    assert rt.sum(np.ones(4)) == 4.0


def test_kernel_without_a_device():
    with veda.Runtime(workers=1, disable_gpu=True) as r:
        with pytest.raises(veda.VedaError) as ei:
            r.kernel(opencl=AXPY, name="axpy")
        assert ei.value.status == veda.Status.UNSUPPORTED


@pytest.mark.parametrize("kwargs,exc,word", [
    (dict(opencl=AXPY, name=""), ValueError, "name"),
    (dict(opencl=AXPY, name=5), TypeError, "name"),
    (dict(name="axpy"), ValueError, "source"),
    (dict(opencl=b"src", name="axpy"), TypeError, "opencl"),
    (dict(cuda=1, name="axpy"), TypeError, "cuda"),
    (dict(opencl="a\0b", name="axpy"), ValueError, "opencl"),
])
def test_kernel_create_bad_args(rt, kwargs, exc, word):
    with pytest.raises(exc, match=word):
        rt.kernel(**kwargs)


def test_kernel_run_bad_args(rt, ocl):
    k = rt.kernel(opencl=AXPY, name="scale64")
    v = np.ones(8)
    with pytest.raises(ValueError, match="n is -1"):
        k(-1, v, np.float64(1))
    with pytest.raises(TypeError, match="n must be an int"):
        k(2.0, v, np.float64(1))
    with pytest.raises(TypeError, match="argument 1: a Python float"):
        k(8, v, 1.5)
    with pytest.raises(TypeError, match="argument 1: a Python int"):
        k(8, v, 2)
    with pytest.raises(TypeError, match="argument 1: a bool"):
        k(8, v, True)
    with pytest.raises(TypeError, match="argument 0 must be"):
        k(8, [1.0] * 8, np.float64(1))
    with pytest.raises(ValueError, match="argument 0 .*C-contiguous"):
        k(4, veda.InOut(np.ones(8)[::2]), np.float64(1))
    ro = np.ones(8)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="argument 0 .*writeable"):
        k(8, veda.Out(ro), np.float64(1))
    with pytest.raises(TypeError, match="numpy.ndarray"):
        veda.In([1, 2])
    k(0, v, np.float64(3))  # n == 0 launches nothing
    assert np.all(v == 1)


def test_decisions(ocl):
    with veda.Runtime(workers=2) as r:
        assert r.decisions() == []
        r.record_decisions(True)
        r.sum(np.ones(100, np.float32))
        r.pin_device(ocl)
        r.sum(np.ones(100, np.float32))
        r.record_decisions(False)
        r.sum(np.ones(100, np.float32))
        ds = r.decisions()
        assert [d["kernel"] for d in ds] == ["sum_f32", "sum_f32"]
        assert ds[1]["device"] == ocl and ds[1]["kind"] == "opencl" and "pinned" in ds[1]["reason"]
        assert ds[0]["seq"] < ds[1]["seq"]
        with pytest.raises(TypeError, match="on"):
            r.record_decisions(1)


def test_sum_f32_and_strided_no_copy(rt):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((600, 700)).astype(np.float32)
    ref = lambda v: float(np.sum(v.astype(np.float64)))  # noqa: E731
    assert rt.sum(a) == pytest.approx(ref(a), rel=1e-12)
    views = [a[:, ::3], a.T, a[::-2, 5:], a[::7, ::-1]]
    b = rng.standard_normal((600, 700))
    views += [b[::2, ::3], b.T[::-1]]
    for v in views:
        rt.sum(v)
        tracemalloc.start()
        try:
            got = rt.sum(v)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 100_000, f"sum of a view allocated {peak} bytes"
        assert got == pytest.approx(ref(v), rel=1e-12)


def test_dot(rt):
    rng = np.random.default_rng(4)
    x = rng.standard_normal(100_003).astype(np.float32)
    y = rng.standard_normal(100_003).astype(np.float32)
    assert rt.dot(x, y) == pytest.approx(float(np.dot(x.astype(np.float64), y)), rel=1e-12)
    with pytest.raises(ValueError, match="shape"):
        rt.dot(x, y[:5])
    with pytest.raises(TypeError, match="y"):
        rt.dot(x, y.astype(np.float64))


def test_distribute_sum(rt):
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal(n).astype(np.float32) for n in (0, 1, 1000, 250_000, 77)]
    arrays.append(rng.standard_normal((30, 40)).astype(np.float32)[:, ::2])  # non-contiguous
    got = rt.distribute_sum(arrays)
    assert len(got) == len(arrays)
    for g, a in zip(got, arrays):
        assert g == pytest.approx(float(np.sum(a.astype(np.float64))), rel=1e-9, abs=1e-9)
    assert rt.distribute_sum([]) == []
    with pytest.raises(TypeError, match=r"arrays\[1\]"):
        rt.distribute_sum([arrays[0], np.ones(3)])
    with pytest.raises(TypeError, match=r"arrays\[0\]"):
        rt.distribute_sum([[1.0]])
    with pytest.raises(TypeError, match="arrays"):
        rt.distribute_sum(np.ones((2, 3), np.float32))
