"""veda.runtime(): one pool per process, shared with C extensions that call veda_runtime_shared.

The extension (tests/ext/shared_ext.c) is a real shared library linked against libveda; it is
built here with the system C compiler and loaded with ctypes into this process."""
import ctypes
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

import veda
from veda import _loader

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def ext(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    libpath = Path(_loader.library_path() or "")
    if not libpath.is_file():
        pytest.skip("libveda.so not found")
    out = tmp_path_factory.mktemp("ext") / "libshared_ext.so"
    # Link by soname (libveda.so.0) as an installed extension would; the dynamic loader then
    # reuses the copy Python already loaded (same soname), so both use one Go runtime.
    subprocess.run([cc, "-shared", "-fPIC", "-O2", "-Wall", "-Werror",
                    f"-I{HERE.parent.parent / 'include'}", str(HERE / "ext" / "shared_ext.c"),
                    f"-L{libpath.parent}", f"-Wl,-rpath,{libpath.parent}", "-l:libveda.so.0",
                    "-o", str(out)], check=True)
    lib = ctypes.CDLL(str(out))
    for name, res, args in [("ext_acquire", ctypes.c_int32, []), ("ext_release", ctypes.c_int32, []),
                            ("ext_workers", ctypes.c_int32, []), ("ext_ran", ctypes.c_int64, []),
                            ("ext_submit", ctypes.c_int32, [ctypes.c_int32]),
                            ("ext_loop", ctypes.c_int64, [ctypes.c_int64])]:
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    return lib


def _loaded_veda_copies():
    with open(f"/proc/{os.getpid()}/maps") as f:
        return {line.split()[-1] for line in f if "libveda.so" in line and "/" in line}


def test_extension_and_python_share_one_pool(ext):
    rt = veda.runtime()
    try:
        assert ext.ext_acquire() == 0
        try:
            # One copy of libveda in the process, hence one Go runtime.
            copies = {os.path.realpath(p) for p in _loaded_veda_copies()}
            assert len(copies) == 1, copies
            assert ext.ext_workers() == rt.num_workers >= 1
            m0 = rt.metrics()
            ran0 = ext.ext_ran()
            assert ext.ext_submit(200) == 0
            assert ext.ext_ran() - ran0 == 200
            m1 = rt.metrics()
            # The extension's 200 tasks went through Python's runtime's injector...
            assert m1["tasks_submitted"] - m0["tasks_submitted"] == 200
            # ...and were run by its workers (counters are published when workers go idle).
            deadline = time.monotonic() + 5
            while rt.metrics()["tasks_executed"] - m0["tasks_executed"] < 200:
                assert time.monotonic() < deadline, rt.metrics()
                time.sleep(0.01)
            assert ext.ext_loop(10_000) == 10_000
        finally:
            assert ext.ext_release() == 0
    finally:
        rt.close()
    # Released references are dead handles, never a crash.
    assert ext.ext_release() == veda.Status.CLOSED
    with pytest.raises(veda.VedaError) as ei:
        rt.num_workers
    assert ei.value.status == veda.Status.CLOSED


def test_extension_keeps_pool_alive_after_python_releases(ext):
    rt = veda.runtime()
    assert ext.ext_acquire() == 0
    rt.close()
    assert ext.ext_workers() >= 1
    assert ext.ext_submit(10) == 0
    assert ext.ext_release() == 0


def test_runtime_objects_are_one_pool():
    a, b = veda.runtime(), veda.runtime()
    try:
        assert a is not b
        s0 = b.metrics()["tasks_submitted"]
        futs = [a.submit(lambda i=i: i * i) for i in range(20)]
        assert [f.result(10) for f in futs] == [i * i for i in range(20)]
        assert b.metrics()["tasks_submitted"] - s0 >= 20
        a.close()
        a.close()  # idempotent on the Python object
        assert b.num_workers >= 1  # b's reference still holds the pool
    finally:
        a.close()
        b.close()


def test_runtime_context_manager_and_module_functions():
    with veda.runtime() as rt:
        s0 = rt.metrics()["tasks_submitted"]
        x = np.arange(1000, dtype=np.float64)
        assert veda.sum(x) == x.sum()
        xf = np.arange(100, dtype=np.float32)
        assert veda.dot(xf, xf) == pytest.approx(float(np.dot(xf.astype(np.float64), xf)))
        y = np.ones(100, dtype=np.float32)
        np.testing.assert_allclose(veda.saxpy(2.0, xf, y), 2.0 * xf + 1.0)
        a = np.random.default_rng(1).random((8, 5), dtype=np.float32)
        b = np.random.default_rng(2).random((5, 3), dtype=np.float32)
        np.testing.assert_allclose(veda.sgemm(a, b), a @ b, rtol=1e-5)
        seen = []
        veda.parallel_for(0, 100, lambda lo, hi: seen.extend(range(lo, hi)))
        assert sorted(seen) == list(range(100))
        assert veda.submit(lambda: 42).result(10) == 42
        # The module-level calls ran on this very pool.
        assert rt.metrics()["tasks_submitted"] > s0
    assert rt.closed


def test_module_functions_reject_bad_input():
    with pytest.raises(TypeError):
        veda.sum([1.0, 2.0])
    with pytest.raises(TypeError):
        veda.submit(42)


def _fork_child(q):
    out = []
    for name, call in [("runtime", veda.runtime), ("sum", lambda: veda.sum(np.ones(4)))]:
        try:
            call()
            out.append((name, "no error"))
        except veda.VedaError as e:
            out.append((name, e.status.name))
    q.put(out)


@pytest.mark.slow
def test_shared_runtime_in_forked_child_is_unsupported():
    import multiprocessing as mp

    assert veda.sum(np.ones(10)) == 10.0  # the module's reference is live in the parent
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_fork_child, args=(q,))
    p.start()
    p.join(30)
    if p.is_alive():
        p.kill()
        pytest.fail("child hung after fork")
    assert q.get(timeout=5) == [("runtime", "UNSUPPORTED"), ("sum", "UNSUPPORTED")]
    assert veda.sum(np.ones(10)) == 10.0  # the parent is unaffected
