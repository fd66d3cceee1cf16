"""User kernels: OpenCL C / CUDA C source compiled by libveda.so and launched over a 1-D range.

Made by :meth:`veda.Runtime.kernel`; see its docstring for the argument rules.
"""
from __future__ import annotations

import ctypes
import threading
from ctypes import byref, c_void_p
from ._future import Future
from typing import Any, List, Optional, cast

import numpy as np

from . import _capi
from ._capi import check, lib
from ._device import DeviceArray, future_of
from ._errors import Status, VedaError
from ._interrupt import blocking

__all__ = ["Kernel", "In", "Out", "InOut"]

_INT64_MAX = 2**63 - 1


class _Buffer:
    """A numpy array passed to a kernel as a buffer of a chosen kind."""

    kind = -1
    __slots__ = ("array",)

    def __init__(self, array: Any) -> None:
        if not isinstance(array, np.ndarray):
            raise TypeError(f"{type(self).__name__}() takes a numpy.ndarray, not {type(array).__name__}")
        self.array = array

    def __repr__(self) -> str:
        return f"veda.{type(self).__name__}(<{self.array.dtype} array, shape {self.array.shape}>)"


class In(_Buffer):
    """Pass ``array`` as an input buffer: copied to the device before the launch, never written
    back (a ``__global const T*`` parameter). A non-contiguous array is copied first."""

    kind = _capi.ARG_IN
    __slots__ = ()


class Out(_Buffer):
    """Pass ``array`` as an output buffer: not copied in; after the launch the device buffer is
    copied into it (every element, so the kernel should write them all). Must be C-contiguous
    and writeable."""

    kind = _capi.ARG_OUT
    __slots__ = ()


class InOut(_Buffer):
    """Pass ``array`` in and copy it back after the launch. Must be C-contiguous and writeable."""

    kind = _capi.ARG_INOUT
    __slots__ = ()


# numpy scalar types accepted as kernel scalars (the C type of the kernel parameter must match).
_SCALAR_TYPES = (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64,
                 np.uint64, np.float16, np.float32, np.float64)


def _argument(i: int, a: Any, keep: List[Any]) -> "tuple[int, int, int]":
    """(kind, address, bytes) for kernel argument i; appends what must stay alive to keep.
    TypeError/ValueError name the argument."""
    where = f"argument {i}"
    if isinstance(a, DeviceArray):  # resident: passed in place (VEDA_ARG_BUFFER), nothing copied
        keep.append(a)
        return _capi.ARG_BUFFER, a._handle(), 0
    if isinstance(a, _Buffer):
        kind, arr = a.kind, a.array
    elif isinstance(a, np.ndarray):
        # A plain array: read-only -> In, writeable -> InOut (the safe default; wrap it in
        # veda.In / veda.Out to save the copy you do not need).
        arr = a
        kind = _capi.ARG_INOUT if a.flags.writeable else _capi.ARG_IN
    elif isinstance(a, (bool, np.bool_)):
        raise TypeError(f"{where}: a bool is ambiguous as a kernel scalar; pass np.int32(...) or "
                        f"np.uint8(...)")
    elif isinstance(a, _SCALAR_TYPES):
        v = np.array(a)  # 0-d array owning a copy of the value
        keep.append(v)
        return _capi.ARG_SCALAR, v.ctypes.data, v.itemsize
    elif isinstance(a, (int, float)):
        raise TypeError(f"{where}: a Python {type(a).__name__} has no fixed C type; pass a numpy "
                        f"scalar matching the kernel parameter, e.g. np.int32({a!r}) for int, "
                        f"np.int64 for long, np.float32 for float, np.float64 for double")
    else:
        raise TypeError(f"{where} must be a numpy array, veda.In/Out/InOut(array) or a numpy "
                        f"scalar (np.int32, np.float32, ...), not {type(a).__name__}")
    if isinstance(arr, np.ma.MaskedArray):
        raise TypeError(f"{where}: a masked array cannot be passed to a kernel")
    if arr.dtype.hasobject:
        raise TypeError(f"{where}: an array of Python objects cannot be passed to a kernel")
    if kind == _capi.ARG_IN:
        if not arr.flags.c_contiguous:
            arr = np.ascontiguousarray(arr)
    else:
        name = "veda.Out" if kind == _capi.ARG_OUT else "veda.InOut"
        if not arr.flags.writeable:
            raise ValueError(f"{where} ({name}) must be writeable")
        if not arr.flags.c_contiguous:
            raise ValueError(f"{where} ({name}) must be C-contiguous (results could not be written "
                             f"back into a strided view); use np.ascontiguousarray and copy back")
    keep.append(arr)
    return kind, (arr.ctypes.data if arr.nbytes else 0), arr.nbytes


class Kernel:
    """A compiled user kernel; call it as ``k(n, *args)``. Made by :meth:`Runtime.kernel`.

    Calls may come from several threads at once (the GIL is released while the kernel runs).
    :meth:`close` (or leaving a ``with`` block) frees it; a kernel also frees itself when garbage
    collected.
    """

    def __init__(self, runtime: Any, handle: int, name: str) -> None:
        self._rt = runtime  # keeps the runtime object alive while the kernel is
        self._h: Optional[int] = handle
        self._name = name
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The kernel function's name."""
        return self._name

    def __call__(self, n: int, *args: Any) -> None:
        """Launch the kernel over [0, n) (OpenCL: n work-items) with ``args`` in the kernel's
        parameter order, and block until output buffers hold the results.

        Raises TypeError/ValueError naming the argument for bad arguments (before any C call),
        VedaError for failures in the library (UNSUPPORTED when the runtime is pinned to a device
        without this kernel, DEVICE for launch failures, CLOSED after close).
        """
        h = self._h
        if h is None:
            raise VedaError(Status.CLOSED, f"veda: kernel {self._name!r} is closed")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"n must be an int, not {type(n).__name__}")
        n = int(n)
        if not 0 <= n <= _INT64_MAX:
            raise ValueError(f"n is {n}, must be >= 0")
        keep: List[Any] = []
        cargs = (_capi.veda_arg * max(len(args), 1))()
        for i, a in enumerate(args):
            kind, addr, nbytes = _argument(i, a, keep)
            cargs[i].struct_size = ctypes.sizeof(_capi.veda_arg)
            cargs[i].kind = kind
            cargs[i].ptr = addr or None
            cargs[i].bytes = nbytes
        with blocking():
            check(lib.veda_kernel_run_1d(h, n, cargs, len(args)))
        del keep

    def _launch(self, global_size: Any, args: "tuple[Any, ...]", local: Any, want_future: bool) -> Any:
        h = self._h
        if h is None:
            raise VedaError(Status.CLOSED, f"veda: kernel {self._name!r} is closed")
        g = _shape("global_size", global_size)
        lp = None
        if local is not None:
            loc = _shape("local", local)
            if len(loc) != len(g):
                raise ValueError(f"local has {len(loc)} dimensions, global_size {len(g)}")
            lp = (ctypes.c_int64 * len(loc))(*loc)
        gp = (ctypes.c_int64 * len(g))(*g)
        keep: List[Any] = []
        cargs = (_capi.veda_arg * max(len(args), 1))()
        for i, a in enumerate(args):
            kind, addr, nbytes = _argument(i, a, keep)
            cargs[i].struct_size = ctypes.sizeof(_capi.veda_arg)
            cargs[i].kind = kind
            cargs[i].ptr = addr or None
            cargs[i].bytes = nbytes
        if not want_future:
            with blocking():
                check(lib.veda_kernel_run(h, len(g), gp, lp, cargs, len(args)))
            return None
        fh = c_void_p()
        check(lib.veda_kernel_run_async(h, len(g), gp, lp, cargs, len(args), byref(fh)))
        return future_of(fh.value, lambda: None, (keep, self))

    def run(self, global_size: Any, *args: Any, local: Any = None) -> None:
        """Launch over a global range of 1 to 3 dimensions (an int or a tuple) in work-groups
        (OpenCL) / blocks (CUDA) of ``local`` (a tuple of the same length; None: the driver
        chooses), and block until done. Arguments as ``k(n, ...)``, plus device arrays (passed
        in place: the kernel runs on their device, with no copy; all must be on one device).

        The library checks the shape against the device first (VedaError(INVALID_ARGUMENT):
        extents < 1, too many work-items, a local size over the device limits or, on OpenCL,
        not dividing the global size) and then nothing runs.
        """
        self._launch(global_size, args, local, False)

    def run_async(self, global_size: Any, *args: Any, local: Any = None) -> "Future[None]":
        """``run`` returning a ``concurrent.futures.Future`` at once (result None). Launches on
        device arrays keep their order in the device's queue. Host arrays passed must not be
        changed until the future is done (they are kept alive until then)."""
        return cast("Future[None]", self._launch(global_size, args, local, True))

    def close(self) -> None:
        """Wait for runs in flight and free the compiled kernel. Idempotent."""
        with self._lock:
            h, self._h = self._h, None
        if h is not None:
            lib.veda_kernel_destroy(h)

    @property
    def closed(self) -> bool:
        return self._h is None

    def __enter__(self) -> "Kernel":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"<veda.Kernel {self._name!r}{' closed' if self._h is None else ''}>"


def _shape(name: str, v: Any) -> "tuple[int, ...]":
    """A 1..3-D extent tuple from an int or a sequence of ints."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
        t: "tuple[int, ...]" = (int(v),)
    elif isinstance(v, (tuple, list)):
        if not all(isinstance(e, (int, np.integer)) and not isinstance(e, (bool, np.bool_)) for e in v):
            raise TypeError(f"{name} must hold ints, got {v!r}")
        t = tuple(int(e) for e in v)
    else:
        raise TypeError(f"{name} must be an int or a tuple of 1 to 3 ints, not {type(v).__name__}")
    if not 1 <= len(t) <= 3:
        raise ValueError(f"{name} has {len(t)} dimensions, want 1 to 3")
    if any(not -2**63 <= e < 2**63 for e in t):
        raise ValueError(f"{name} {t} does not fit int64")
    return t


def create(runtime: Any, h: int, opencl: Optional[str], cuda: Optional[str], name: str) -> Kernel:
    """veda_kernel_create on runtime handle h; the argument types were checked by the caller."""
    out = c_void_p()
    check(lib.veda_kernel_create(h, opencl.encode() if opencl is not None else None,
                                 cuda.encode() if cuda is not None else None, name.encode(),
                                 byref(out)))
    if out.value is None:
        raise VedaError(Status.INTERNAL, "veda: veda_kernel_create returned OK and no kernel")
    return Kernel(runtime, out.value, name)
