"""The process-wide shared runtime (``veda_runtime_shared``) and the module-level calls on it.

Every caller in a process gets the same pool: ``veda.runtime()`` here, C extensions that call
``veda_runtime_shared``, and goveda code inside libveda.so. The pool is reference-counted; it
stops when the last reference is released.
"""
from __future__ import annotations

import os
import threading
from ctypes import byref, c_void_p
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar

import numpy as np

from ._capi import check, lib
from ._errors import Status, VedaError
from ._future import Future
from ._runtime import RangeBody, Runtime

if TYPE_CHECKING:
    from typing_extensions import ParamSpec
    P = ParamSpec("P")
T = TypeVar("T")

__all__ = ["runtime", "parallel_for", "sum", "dot", "saxpy", "sgemm", "submit"]


def runtime() -> Runtime:
    """Return the process-wide shared runtime as a :class:`Runtime` holding one new reference.

    Its :meth:`~Runtime.close` (or leaving a ``with`` block) releases that reference; the pool
    stops when the last holder in the process (Python or C) has released its own. Each call
    returns a new object; all of them drive the same workers. VedaError(Status.UNSUPPORTED) in a
    child created by fork(). Thread-safe.
    """
    out = c_void_p()
    check(lib.veda_runtime_shared(byref(out)))
    if out.value is None:
        raise VedaError(Status.INTERNAL, "veda: veda_runtime_shared returned OK and no runtime")
    return Runtime._adopt(out.value, "adaptive")


_module_lock = threading.Lock()
_module_rt: Optional[Runtime] = None


def _rt() -> Runtime:
    """The reference the module-level functions use, taken on first use and kept (it is released
    at interpreter exit with every live runtime). In a forked child a new one is asked for, which
    raises VedaError(Status.UNSUPPORTED)."""
    global _module_rt
    r = _module_rt
    if r is not None and not r.closed and r._pid == os.getpid():
        return r
    with _module_lock:
        r = _module_rt
        if r is None or r.closed or r._pid != os.getpid():
            r = _module_rt = runtime()
        return r


def parallel_for(begin: int, end: int, fn: RangeBody, grain: int = 0, ctx: Any = None) -> None:
    """:meth:`Runtime.parallel_for` on the shared runtime."""
    _rt().parallel_for(begin, end, fn, grain, ctx)


def sum(x: np.ndarray) -> float:  # noqa: A001 (mirrors Runtime.sum)
    """:meth:`Runtime.sum` on the shared runtime."""
    return _rt().sum(x)


def dot(x: np.ndarray, y: np.ndarray) -> float:
    """:meth:`Runtime.dot` on the shared runtime."""
    return _rt().dot(x, y)


def saxpy(a: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """:meth:`Runtime.saxpy` on the shared runtime."""
    return _rt().saxpy(a, x, y)


def sgemm(a: np.ndarray, b: np.ndarray, alpha: float = 1.0, c: Optional[np.ndarray] = None,
          beta: float = 0.0) -> np.ndarray:
    """:meth:`Runtime.sgemm` on the shared runtime."""
    return _rt().sgemm(a, b, alpha, c, beta)


def submit(fn: "Callable[P, T]", /, *args: "P.args", **kwargs: "P.kwargs") -> Future[T]:
    """:meth:`Runtime.submit` on the shared runtime."""
    return _rt().submit(fn, *args, **kwargs)
