"""Device arrays: numpy data resident on one device of a runtime (``veda_buffer``).

Made by :meth:`veda.Runtime.to_device` / :meth:`veda.Runtime.device_empty`. The built-in kernels
(``rt.saxpy``, ``rt.dot``, ``rt.sum``) and user kernels take device arrays: a call whose array
arguments are all device arrays of one device runs there, with no copy and no dispatch.
This module only translates to the C ABI; every rule is the library's.
"""
from __future__ import annotations

import ctypes
import threading
from ._future import Future
from ctypes import byref, c_int32, c_uint64, c_void_p
from typing import Any, Callable, Dict, Optional, Tuple, cast

import numpy as np

from . import _callbacks as cb
from . import _capi
from ._capi import check, lib
from ._errors import Status, VedaError

__all__ = ["DeviceArray"]


class DeviceArray:
    """An array resident on one device (``.device``; 0 is the CPU). ``.get()`` copies it back
    into a new numpy array; ``.nbytes``, ``.dtype``, ``.shape``, ``.size`` describe it.

    Thread-safe: operations on the arrays of one device run in the order they were called.
    ``close()`` (or leaving a ``with`` block, or garbage collection) frees the device memory.
    """

    def __init__(self, runtime: Any, handle: int, device: int, shape: Tuple[int, ...],
                 dtype: np.dtype) -> None:
        self._rt = runtime  # keeps the runtime object alive while the array is
        self._h: Optional[int] = handle
        self._device = device
        self._shape = shape
        self._dtype = np.dtype(dtype)
        self._lock = threading.Lock()

    @property
    def device(self) -> int:
        """Index of the device the data is on (as in ``Runtime.devices()``)."""
        return self._device

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def shape(self) -> Tuple[int, ...]:
        return self._shape

    @property
    def size(self) -> int:
        return int(np.prod(self._shape, dtype=np.int64))

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def nbytes(self) -> int:
        return self.size * self._dtype.itemsize

    def _handle(self) -> int:
        h = self._h
        if h is None:
            raise VedaError(Status.INVALID_ARGUMENT, "veda: device array was closed")
        return h

    def get(self) -> np.ndarray:
        """Copy the data back to the host; return it as a new numpy array of this shape/dtype.
        Waits for the operations queued on the device before it."""
        out = np.empty(self._shape, self._dtype)
        if out.nbytes:
            check(lib.veda_buffer_read(self._handle(), 0, out.ctypes.data, out.nbytes))
        return out

    def get_async(self) -> "Future[Any]":
        """``get`` returning a :class:`veda.Future` for the array at once."""
        out = np.empty(self._shape, self._dtype)
        fh = c_void_p()
        check(lib.veda_buffer_read_async(self._handle(), 0, out.ctypes.data or None, out.nbytes,
                                         byref(fh)))
        return future_of(fh.value, lambda: out, (out, self))

    def set(self, x: Any) -> None:
        """Overwrite the data with ``x`` (converted to this dtype and shape)."""
        a = np.ascontiguousarray(np.asarray(x, dtype=self._dtype))
        if a.shape != self._shape:
            raise ValueError(f"x has shape {a.shape}, the device array {self._shape}")
        if a.nbytes:
            check(lib.veda_buffer_write(self._handle(), 0, a.ctypes.data, a.nbytes))

    def close(self) -> None:
        """Free the device memory (after the operations queued before). Idempotent."""
        with self._lock:
            h, self._h = self._h, None
        if h is not None:
            lib.veda_buffer_destroy(h)

    @property
    def closed(self) -> bool:
        return self._h is None

    def __enter__(self) -> "DeviceArray":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __len__(self) -> int:
        if not self._shape:
            raise TypeError("len() of a 0-d device array")
        return self._shape[0]

    def __repr__(self) -> str:
        state = " closed" if self._h is None else ""
        return f"<veda.DeviceArray {self._dtype} {self._shape} on device {self._device}{state}>"


# numpy dtype kinds a device array may hold: bool, signed and unsigned integers, floats, complex
# (plain bytes; no object references, strings or structured records).
NUMBER_KINDS = "biufc"


def empty(runtime: Any, h: int, shape: Any, dtype: Any, device: int) -> DeviceArray:
    """veda_buffer_create for an array of shape and dtype on device."""
    if isinstance(device, bool) or not isinstance(device, (int, np.integer)):
        raise TypeError(f"device must be an int, not {type(device).__name__}")
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, (bool, np.bool_)):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"shape must be an int or a tuple of ints, not {type(shape).__name__}")
    for s_ in shape:
        if isinstance(s_, (bool, np.bool_)) or not isinstance(s_, (int, np.integer)):
            raise TypeError(f"shape must hold ints, not {type(s_).__name__}")
    shp = tuple(int(s_) for s_ in shape)
    if any(s < 0 for s in shp):
        raise ValueError(f"shape {shp} has a negative extent")
    dt = np.dtype(dtype)
    if dt.kind not in NUMBER_KINDS:
        # An object dtype would read raw device bytes back as PyObject pointers (a crash).
        raise TypeError(f"dtype {dt} is not a number type; device arrays hold bool, integer, "
                        "float or complex numbers")
    nbytes = int(np.prod(shp, dtype=np.int64)) * dt.itemsize
    if nbytes == 0:
        raise ValueError("a device array needs at least one byte (the library refuses empty buffers)")
    out = c_void_p()
    check(lib.veda_buffer_create(h, int(device), nbytes, byref(out)))
    return DeviceArray(runtime, cast(int, out.value), int(device), shp, dt)  # OK: non-NULL


def to_device(runtime: Any, h: int, x: Any, device: int) -> DeviceArray:
    """Copy the numpy array x (made C-contiguous) to a new device array on device."""
    if isinstance(x, DeviceArray):
        raise TypeError("x is already a device array; use .get() to bring it back first")
    a = np.ascontiguousarray(x)
    if a.dtype.kind not in NUMBER_KINDS:
        raise TypeError(f"x has dtype {a.dtype}; device arrays hold numbers "
                        "(bool, integer, float or complex)")
    d = empty(runtime, h, a.shape, a.dtype, device)
    try:
        check(lib.veda_buffer_write(d._handle(), 0, a.ctypes.data, a.nbytes))
    except BaseException:
        d.close()
        raise
    return d


def check_f32(name: str, d: DeviceArray) -> int:
    """The element count of a float32 device array argument."""
    if d.dtype != np.float32:
        raise TypeError(f"{name} must be a float32 device array, not {d.dtype}")
    return d.size


# ---------------------------------------------------------------------------------------------
# Futures of asynchronous operations (veda_future -> concurrent.futures.Future)

_pending: Dict[int, Tuple["Future[Any]", int, Callable[[], Any], Any]] = {}
_pending_lock = threading.Lock()
_next_key = [0]


def _settled(user: Optional[int], status: int) -> None:
    if not hasattr(cb._tls, "pinned"):
        cb._pin_thread()
    with _pending_lock:
        entry = _pending.pop(user or 0, None)
    if entry is None:
        return
    fut, fh, value, _keep = entry
    err: Optional[VedaError] = None
    if status != Status.OK:
        # The future is done: waiting returns at once and leaves its message on this thread.
        st = lib.veda_future_wait(fh, 0)
        err = VedaError(st if st != Status.OK else status, _capi.last_error() or _capi.status_string(status))
    lib.veda_future_release(fh)
    if not fut.set_running_or_notify_cancel():
        return
    if err is not None:
        fut.set_exception(err)
    else:
        try:
            fut.set_result(value())
        except BaseException as e:  # noqa: BLE001
            fut.set_exception(e)


_settled_cb = _capi.veda_callback_fn(_settled)
_SETTLED_ADDR: int = ctypes.cast(_settled_cb, c_void_p).value  # type: ignore[assignment]


def future_of(fh: Optional[int], value: Callable[[], Any], keep: Any) -> "Future[Any]":
    """A Future settled when the veda_future fh completes: value() on success, VedaError with
    the library's message otherwise. keep (host arrays, device arrays) is held until then.
    Takes ownership of fh."""
    fut: "Future[Any]" = Future()
    with _pending_lock:
        _next_key[0] += 1
        key = _next_key[0]
        _pending[key] = (fut, cast(int, fh), value, keep)  # fh: from an OK call, non-NULL
    st = lib.veda_future_then(fh, _SETTLED_ADDR, key)
    if st != Status.OK:
        with _pending_lock:
            _pending.pop(key, None)
        lib.veda_future_release(fh)
        check(st)
    return fut


def transfers(h: int, device: int) -> Dict[str, int]:
    """veda_device_transfers as a dict."""
    if isinstance(device, (bool, np.bool_)) or not isinstance(device, (int, np.integer)):
        raise TypeError(f"device must be an int, not {type(device).__name__}")
    t = _capi.veda_transfer_stats()
    t.struct_size = ctypes.sizeof(t)
    check(lib.veda_device_transfers(h, int(device), byref(t)))
    return {"h2d_copies": t.h2d_copies, "h2d_bytes": t.h2d_bytes,
            "d2h_copies": t.d2h_copies, "d2h_bytes": t.d2h_bytes}


def info(d: DeviceArray) -> Tuple[int, int]:
    """(device, bytes) as the library sees d."""
    dev, nb = c_int32(), c_uint64()
    check(lib.veda_buffer_info(d._handle(), byref(dev), byref(nb)))
    return dev.value, nb.value
