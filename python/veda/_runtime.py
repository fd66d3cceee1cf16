"""veda.Runtime: a pool of workers (and devices) in libveda.so, driven from Python."""
from __future__ import annotations

import atexit
import concurrent.futures
import ctypes
import json
import math
import numbers
import operator
import os
import threading
import time
import weakref
from ctypes import byref, c_double, c_size_t, c_void_p
from typing import (TYPE_CHECKING, Any, Callable, Dict, Iterable, Iterator, List, Optional,
                    Sequence, Tuple, TypeVar, Union, cast)

import numpy as np

from . import _callbacks as cb
from . import _capi
from . import _device
from . import _kernel
from . import trace as _trace
from ._capi import SMALL_I64 as _SMALL_I64
from ._capi import check, lib
from ._capi import veda_parallel_for_premade as _pf_premade
from ._errors import Status, VedaError
from ._device import DeviceArray
from ._future import Future
from ._interrupt import blocking
from ._kernel import Kernel
from ._native import NativeFunction, native_address
from ._tasks import ChunkResult, Deadline, TaskGroup, TaskOptions, deadline_ns, run_chunk
from ._types import Decision, DeviceInfo, Metrics

if TYPE_CHECKING:
    from typing_extensions import ParamSpec, Self
    from ._pipeline import Pipeline
    from ._graph import Graph
    P = ParamSpec("P")

__all__ = ["Runtime", "version"]

T = TypeVar("T")
A = TypeVar("A")
_CFuncPtr = ctypes._CFuncPtr  # type: ignore[attr-defined]  # ctypes function pointer objects
#: The ctypes function pointer classes seen so far (every CFUNCTYPE and every CDLL has its own):
#: parallel_for's one-chunk fast path checks a body's class with one set lookup, since
#: isinstance(fn, _CFuncPtr) costs about 1.5 us more once caches went cold (measured with
#: bench/peers/ctypes_latency.py's 2 ms pause before each call).
_PREMADE_TYPES: "set[type]" = set()


def _premade_type(fn: Any) -> bool:
    """Whether fn is a ctypes function pointer; its class then joins _PREMADE_TYPES."""
    if isinstance(fn, _CFuncPtr):
        _PREMADE_TYPES.add(type(fn))
        return True
    return False


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_live: "weakref.WeakSet[Runtime]" = weakref.WeakSet()
_MISSING: Any = object()

#: What parallel_for accepts as a body: a Python callable fn(begin, end), or explicit native code.
#: (ctypes function pointers and numba cfuncs are callables too: they are recognised as native.)
RangeBody = Union[Callable[[int, int], Any], NativeFunction]


def version() -> str:
    """Return the loaded library's version, "MAJOR.MINOR.PATCH" (``veda_version()``)."""
    return str(lib.veda_version().decode("ascii"))


def _int_arg(name: str, value: Any, lo: int = _INT64_MIN, hi: int = _INT64_MAX) -> int:
    """Return value as an int in [lo, hi]; TypeError (not an integer) or ValueError (range)."""
    if type(value) is int and lo <= value <= hi:  # the common case, on every call's path
        return value
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    v = operator.index(value)
    if not lo <= v <= hi:
        raise ValueError(f"{name} is {v}, must be in [{lo}, {hi}]")
    return v


def _float_arg(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, not {type(value).__name__}")
    return float(value)


def _array_arg(name: str, x: Any, dtypes: "tuple[Any, ...]",
               ndim: Optional[int] = None) -> "np.ndarray[Any, Any]":
    """Check that x is a numpy array of one of dtypes (and ndim); TypeError/ValueError naming it."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, not {type(x).__name__}")
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(f"{name} must be a plain numpy.ndarray, not a masked array")
    if x.dtype not in dtypes:
        want = " or ".join(np.dtype(d).name for d in dtypes)
        raise TypeError(f"{name} must have dtype {want}, not {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {x.shape}")
    return x


def _addr(x: "np.ndarray[Any, Any]") -> int:
    return int(x.__array_interface__["data"][0])


def _is_contiguous(x: "np.ndarray[Any, Any]") -> bool:
    """True if x's elements occupy one dense, element-aligned block (C or Fortran order)."""
    return bool((x.flags.c_contiguous or x.flags.f_contiguous) and x.flags.aligned)


def _dense(x: "np.ndarray[Any, Any]", dtype: Any = None) -> "np.ndarray[Any, Any]":
    """x itself if it is dense, aligned and of dtype; else an aligned C-order copy."""
    if (dtype is None or x.dtype == dtype) and _is_contiguous(x):
        return x
    return np.array(x, dtype=dtype or x.dtype, order="C", copy=True)


def _row_major_ld(x: "np.ndarray[Any, Any]") -> Optional[int]:
    """For a 2-D array whose rows are dense and ascending in memory, the row stride in elements
    (>= number of columns); None if it cannot be passed as (pointer, leading dimension)."""
    rows, cols = x.shape
    item = x.itemsize
    if not x.flags.aligned:
        return None
    if rows == 0 or cols == 0:
        return max(int(cols), 1)
    if cols > 1 and x.strides[1] != item:
        return None
    if rows == 1:
        return max(int(cols), 1)
    s0 = x.strides[0]
    if s0 <= 0 or s0 % item:
        return None
    ld = s0 // item
    return int(ld) if ld >= cols else None


def _ctx_pointer(ctx: Any) -> Optional[int]:
    """The void* passed to a native body: None, an int address, a numpy array (its data
    pointer) or a ctypes object (its address)."""
    if ctx is None:
        return None
    if isinstance(ctx, np.ndarray):
        return _addr(ctx)
    if isinstance(ctx, (ctypes._SimpleCData, ctypes.Structure, ctypes.Union, ctypes.Array)):
        return ctypes.addressof(ctx)
    if isinstance(ctx, (int, np.integer)) and not isinstance(ctx, bool):
        return _int_arg("ctx", ctx, 0, 2**64 - 1) or None
    raise TypeError(f"ctx must be None, an int address, a numpy array or a ctypes object, "
                    f"not {type(ctx).__name__}")


class Runtime(concurrent.futures.Executor):
    """A VEDA runtime: a pool of CPU workers (and the devices it found).

    A ``concurrent.futures.Executor``: :meth:`submit` (returning a :class:`veda.Future`),
    :meth:`map` and :meth:`shutdown` work as for ThreadPoolExecutor, and so does
    ``loop.run_in_executor(rt, fn, *args)``. Task options go through :meth:`options` or
    :meth:`submit_with`, never through ``submit``'s keyword arguments (those are ``fn``'s).

    ``workers``: number of CPU workers, None for automatic (from the hardware profile).
    ``policy``: "adaptive" (default), "fixed", "deterministic", "energy-efficient" or
    "low-latency" ("energy_efficient" and "low_latency" are accepted too). ``seed``: an int in [0, 2**64) for the deterministic policy and victim choice.

    Device dispatch: ``strategy`` (None = default, else "earliest-finish", "round-robin",
    "least-loaded", "weighted-capacity" or "adaptive-throughput"), ``gpu_threshold`` (bytes from
    which an uncalibrated kernel call may go to a GPU; None = default), ``disable_gpu`` (True:
    CPU only) and ``record_decisions`` (True: record dispatch decisions from the start, see
    :meth:`decisions`).

    Energy: ``max_power_watts`` and ``max_temp_celsius`` (policy "energy_efficient" only; 0 or
    None = no budget) lower the active workers above the power budget or near the temperature
    limit and raise them back with hysteresis; ``energy_weight`` (seconds of makespan one joule
    is worth) makes kernel placement minimise finish + weight x joules. ``pin_workers`` (True)
    pins each worker to one CPU of its NUMA node. See :meth:`energy`.

    A context manager: leaving the ``with`` block calls :meth:`close`. Thread-safe: any number of
    Python threads may use one runtime at once. Methods release the GIL while they run in C.
    Bad arguments raise ValueError or TypeError before any C call.
    """

    def __init__(self, workers: Optional[int] = None, policy: str = "adaptive",
                 seed: Optional[int] = None, *, strategy: Optional[str] = None,
                 gpu_threshold: Optional[int] = None, disable_gpu: bool = False,
                 record_decisions: bool = False, max_power_watts: Optional[float] = None,
                 max_temp_celsius: Optional[float] = None, energy_weight: Optional[float] = None,
                 pin_workers: bool = False) -> None:
        self._h: Optional[int] = None
        self._hc: Optional[c_void_p] = None  # _h as a premade ctypes argument (parallel_for)
        nw = 0 if workers is None else _int_arg("workers", workers, 1, 2**31 - 1)
        if not isinstance(policy, str):
            raise TypeError(f"policy must be a str, not {type(policy).__name__}")
        policy = _capi.POLICY_ALIASES.get(policy, policy)
        if policy not in _capi.POLICIES:
            raise ValueError(f"policy must be one of {', '.join(map(repr, _capi.POLICIES))}, "
                             f"not {policy!r}")
        sd = 0 if seed is None else _int_arg("seed", seed, 0, 2**64 - 1)
        if strategy is not None:
            if not isinstance(strategy, str):
                raise TypeError(f"strategy must be a str or None, not {type(strategy).__name__}")
            strategy = strategy.replace("_", "-")  # "earliest_finish" is accepted, as in Go
            if strategy not in _capi.STRATEGIES:
                raise ValueError(f"strategy must be one of {', '.join(map(repr, _capi.STRATEGIES))}, "
                                 f"not {strategy!r}")
        gt = 0 if gpu_threshold is None else _int_arg("gpu_threshold", gpu_threshold, 1, 2**64 - 1)
        energy_args = {}
        for name, val in (("max_power_watts", max_power_watts), ("max_temp_celsius", max_temp_celsius),
                          ("energy_weight", energy_weight)):
            v = 0.0 if val is None else _float_arg(name, val)
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"{name} is {v}, must be a finite number >= 0")
            energy_args[name] = v
        if (energy_args["max_power_watts"] > 0 or energy_args["max_temp_celsius"] > 0) and \
                policy != "energy-efficient":  # the canonical name, after the alias mapping
            raise ValueError("max_power_watts and max_temp_celsius need policy='energy-efficient', "
                             f"not {policy!r}")
        for name, flag in (("disable_gpu", disable_gpu), ("record_decisions", record_decisions),
                           ("pin_workers", pin_workers)):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"{name} must be a bool, not {type(flag).__name__}")
        cfg = _capi.veda_config()
        lib.veda_config_init(byref(cfg))
        cfg.num_workers, cfg.policy, cfg.seed = nw, _capi.POLICIES[policy], sd
        cfg.strategy = strategy.encode() if strategy is not None else None
        cfg.gpu_threshold = gt
        cfg.disable_gpu, cfg.record_decisions = int(bool(disable_gpu)), int(bool(record_decisions))
        cfg.max_power_watts = energy_args["max_power_watts"]
        cfg.max_temp_celsius = energy_args["max_temp_celsius"]
        cfg.energy_weight = energy_args["energy_weight"]
        cfg.pin_workers = int(bool(pin_workers))
        out = c_void_p()
        check(lib.veda_runtime_create(byref(cfg), byref(out)))
        self._h = out.value
        self._hc = c_void_p(self._h)
        self._pid = os.getpid()
        self._policy = policy
        self._lock = threading.Lock()
        self._shutdown = False
        self._futures: "weakref.WeakSet[Future[Any]]" = weakref.WeakSet()
        _live.add(self)

    @classmethod
    def _adopt(cls, handle: int, policy: str) -> "Runtime":
        """A Runtime object owning ``handle``, a reference from ``veda_runtime_shared`` (see
        :func:`veda.runtime`): :meth:`close` releases that reference."""
        self = cls.__new__(cls)
        self._h = handle
        self._hc = c_void_p(handle)
        self._pid = os.getpid()
        self._policy = policy
        self._lock = threading.Lock()
        self._shutdown = False
        self._futures = weakref.WeakSet()
        _live.add(self)
        return self

    # -- lifecycle ------------------------------------------------------------------------------

    def _handle(self) -> int:
        h = self._h
        if h is None:
            raise VedaError(Status.CLOSED, "veda: runtime is closed")
        return h

    def close(self) -> None:
        """Wait for in-flight work, stop the workers and free the runtime. Idempotent; afterwards
        every method raises VedaError(Status.CLOSED). Must not be called from a body or task
        running on this runtime."""
        lock = getattr(self, "_lock", None)
        if lock is None:
            return
        with lock:
            h, self._h, self._hc = self._h, None, None
        if h is None:
            return
        _live.discard(self)
        st = lib.veda_runtime_destroy(h)
        if st not in (Status.OK, Status.CLOSED, Status.UNSUPPORTED):  # a forked child: nothing to free
            check(st)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._h is None

    def __enter__(self) -> "Self":
        self._handle()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """The Executor protocol: accept no more tasks (``submit``/``map`` then raise
        RuntimeError), cancel the tasks that have not started if ``cancel_futures``, and, with
        ``wait``, wait for the rest and :meth:`close` the runtime. With ``wait=False`` it returns
        at once and a background thread closes the runtime when the tasks are done. Idempotent.
        Must not be called from a task of this runtime with ``wait=True``."""
        if not isinstance(wait, (bool, np.bool_)):
            raise TypeError(f"wait must be a bool, not {type(wait).__name__}")
        if not isinstance(cancel_futures, (bool, np.bool_)):
            raise TypeError(f"cancel_futures must be a bool, not {type(cancel_futures).__name__}")
        self._shutdown = True
        if cancel_futures:
            for f in list(self._futures):
                f.cancel()
        if self._h is None:
            return
        if wait:
            self.close()
        else:
            threading.Thread(target=self.close, name="veda-shutdown", daemon=True).start()

    def __del__(self) -> None:
        # Never from inside a VEDA callback (destroy would wait for the very work running it).
        try:
            if getattr(self, "_h", None) is not None and not cb.in_callback():
                self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        if self._h is None:
            return "<veda.Runtime closed>"
        return f"<veda.Runtime workers={self.num_workers} policy={self._policy!r}>"

    # -- properties -----------------------------------------------------------------------------

    @property
    def num_workers(self) -> int:
        """The number of CPU workers (>= 1)."""
        n = lib.veda_runtime_num_workers(self._handle())
        if n < 0:
            self._raise_int32_failure()
        return int(n)

    @property
    def policy(self) -> str:
        """The scheduling policy name given at creation."""
        return self._policy

    @property
    def device_count(self) -> int:
        """The number of devices kernels can run on (>= 1; device 0 is the CPU)."""
        n = lib.veda_device_count(self._handle())
        if n < 0:
            self._raise_int32_failure()
        return int(n)

    def devices(self) -> List[DeviceInfo]:
        """Return every device of the runtime, CPU first (index 0), as dicts with the keys
        ``index``, ``kind`` ("cpu", "opencl" or "cuda"), ``name``, ``vendor``, ``platform``,
        ``driver_version``, ``memory_bytes``, ``compute_units``, ``max_work_group_size``,
        ``fp64`` (bool) and ``stats``: a dict of the dispatch statistics ``dispatched``,
        ``completed``, ``failed``, ``queue_depth``, ``ema_throughput``, ``peak_throughput``,
        ``bandwidth`` (bytes/s), ``bytes_to_device``, ``bytes_from_device``, ``busy_ns``.
        The first call discovers the devices."""
        h = self._handle()
        out: List[DeviceInfo] = []
        for i in range(self.device_count):
            d = _capi.veda_device_info()
            lib.veda_device_info_init(byref(d))
            check(lib.veda_device_info_get(h, i, byref(d)))
            def text(b: bytes) -> str:
                return b.decode("utf-8", "replace")

            out.append({
                "index": d.index,
                "kind": _capi.DEVICE_KINDS.get(d.kind, str(d.kind)),
                "name": text(d.name),
                "vendor": text(d.vendor),
                "platform": text(d.platform),
                "driver_version": text(d.driver_version),
                "memory_bytes": d.memory_bytes,
                "compute_units": d.compute_units,
                "max_work_group_size": d.max_work_group_size,
                "fp64": bool(d.fp64),
                "stats": {
                    "dispatched": d.dispatched,
                    "completed": d.completed,
                    "failed": d.failed,
                    "queue_depth": d.queue_depth,
                    "ema_throughput": d.ema_throughput,
                    "peak_throughput": d.peak_throughput,
                    "bandwidth": d.bandwidth,
                    "bytes_to_device": d.bytes_to_device,
                    "bytes_from_device": d.bytes_from_device,
                    "busy_ns": d.busy_ns,
                },
            })
        return out

    def pin_device(self, index: Optional[int]) -> None:
        """Run every later kernel call (built-in and user kernels) on device ``index``, with no
        fallback; ``-1`` or None restores automatic placement. TypeError if index is not an int,
        ValueError if no such device exists."""
        h = self._handle()
        if index is None:
            index = -1
        i = _int_arg("index", index)
        n = self.device_count
        if not -1 <= i < n:
            raise ValueError(f"index is {i}: no such device (devices 0..{n - 1}, or -1 for "
                             f"automatic)")
        check(lib.veda_runtime_pin_device(h, i))

    def _raise_int32_failure(self) -> None:
        # int32_t-returning calls give -1 without a status; recover it.
        if os.getpid() != self._pid:
            raise VedaError(Status.UNSUPPORTED, _capi.last_error() or
                            "veda: the runtime does not survive fork(); use the spawn start method")
        if self._h is None:
            raise VedaError(Status.CLOSED, "veda: runtime is closed")
        raise VedaError(Status.INVALID_ARGUMENT, _capi.last_error())

    # -- pipelines (issue 12) -----------------------------------------------------------------

    def pipeline(self, max_in_flight: Optional[int] = None, max_bytes: Optional[int] = None,
                 priority: str = "normal", name: Optional[str] = None) -> "Pipeline":
        """A new, empty pipeline on this runtime (see :class:`veda.Pipeline`): at most
        ``max_in_flight`` items and ``max_bytes`` declared bytes in flight (None: the runtime
        profile's in-flight segments and memory budget), its tasks at ``priority``, labelled
        ``name`` in the metrics (None: ``pipeline-<n>``). Add stages with
        ``p.stage(fn, mode=..., name=...)``, then ``for out in p.run(iterable)``."""
        from ._pipeline import Pipeline

        self._handle()
        return Pipeline(self, max_in_flight=max_in_flight, max_bytes=max_bytes, priority=priority, name=name)

    def graph(self, max_in_flight: Optional[int] = None, max_bytes: Optional[int] = None,
              priority: str = "normal", copy: Optional[Callable[[Any], Any]] = None,
              name: Optional[str] = None) -> "Graph":
        """A new pipeline graph with only its source (see :class:`veda.Graph`): at most
        ``max_in_flight`` items (all copies of an item count as one) and ``max_bytes`` declared
        bytes in flight (None: the profile's), its tasks at ``priority``. At a fan-out every
        branch gets the same object, unless ``copy`` is given (called once per extra branch).
        ``name`` labels it in the metrics (None: ``pipeline-<n>``).
        Add nodes with ``g.node(fn, after=...)`` and sinks with ``g.sink(...)``, then
        ``g.run(iterable)``."""
        from ._graph import Graph

        self._handle()
        return Graph(self, max_in_flight=max_in_flight, max_bytes=max_bytes, priority=priority, copy=copy,
                     name=name)

    # -- parallel loops -------------------------------------------------------------------------

    def parallel_for(self, begin: int, end: int, fn: RangeBody, grain: int = 0,
                     ctx: Any = None) -> None:
        """Call ``fn`` over disjoint ranges that together cover [begin, end) exactly once, in
        parallel, and block until all have run. ``grain`` is the smallest chunk (0 = automatic).

        ``fn`` is one of:

        * a Python callable ``fn(b, e)``. Chunks run on worker threads, one at a time under the
          GIL (about 1 us of overhead per chunk). If it raises, no new chunks start and the first
          exception is re-raised here with its type, message and traceback; the runtime stays
          usable.
        * explicit native code with the C signature
          ``int32_t (void *ctx, int64_t begin, int64_t end)`` (0 = ok): ``veda.native(address)``,
          a ctypes function pointer or a numba ``@cfunc`` object. Runs in parallel without the
          GIL; ``ctx`` (None, an int address, a numpy array's data or a ctypes object's address)
          is passed through and kept alive for the call. A non-zero return raises
          VedaError(TASK_FAILED).

        A bare int is refused with TypeError (it would be taken as a code address), as is any
        other non-callable, before anything runs. Ctrl-C in the main thread stops the loop (no
        new chunk starts; running chunks finish) and raises KeyboardInterrupt. A native loop of
        one chunk (one index, or fewer than ``2 * grain``) runs to its end first, as a running
        chunk does: it usually runs on the calling thread, in about a microsecond.
        """
        hc = self._hc
        if (hc is not None and ctx is None
                and (type(fn) in _PREMADE_TYPES or _premade_type(fn))
                and type(begin) is int and type(end) is int and type(grain) is int
                and 0 <= begin < end < 256 and 0 <= grain < 256
                and (end - begin == 1 or end - begin < 2 * grain) and fn):
            # One chunk of a non-NULL ctypes function pointer with small bounds: the call below,
            # with premade arguments that ctypes passes as they are (_capi's
            # veda_parallel_for_premade; a Python call costs 15 us instead of 30 once caches
            # went cold). No blocking() block, as for any one-chunk native loop below.
            st = _pf_premade(hc, _SMALL_I64[begin], _SMALL_I64[end], _SMALL_I64[grain], fn, None)
            if st:
                check(st)
            return
        h = self._handle()
        b = _int_arg("begin", begin)
        e = _int_arg("end", end)
        g = _int_arg("grain", grain, 0)
        if e < b:
            raise ValueError(f"end ({e}) must be >= begin ({b})")
        addr = native_address(fn)
        if addr is not None:
            ctx_ptr = _ctx_pointer(ctx)  # ctx (and fn) stay referenced by this frame
            n = e - b
            if n == 1 or n < 2 * g:
                # One chunk: nothing for Ctrl-C to stop (a running chunk always finishes), so
                # no blocking() block (3 us); libveda runs it on this thread when a slot is free
                # (about 1 us through ctypes). A KeyboardInterrupt comes right after it.
                check(lib.veda_parallel_for(h, b, e, g, addr, ctx_ptr))
                return
            with blocking():
                check(lib.veda_parallel_for(h, b, e, g, addr, ctx_ptr))
            return
        if ctx is not None:
            raise TypeError("ctx is only for native bodies; bind state into the Python callable")
        call = cb.RangeCall(cast(Callable[[int, int], Any], fn))
        key = cb.new_key()
        cb.range_calls[key] = call
        try:
            with blocking(call.interrupt):
                st = lib.veda_parallel_for(h, b, e, g, cb.RANGE_TRAMPOLINE_ADDR, key)
                if call.exc is not None:
                    exc, call.exc = call.exc, None
                    raise exc
                check(st)
        finally:
            del cb.range_calls[key]

    # -- kernels --------------------------------------------------------------------------------

    def sum(self, x: "np.ndarray[Any, Any]") -> float:
        """Return the sum of all elements of a float32 or float64 array of any shape and strides,
        accumulated in float64, in parallel.

        Nothing is copied: contiguous, aligned input (C or Fortran order) goes to
        ``veda_sum_f64``/``veda_sum_f32`` (which the dispatcher may run on a GPU), and
        non-contiguous views (slices with steps, transposes, negative strides) to the strided C
        sums, which read the view in place on the CPU. Only unaligned input is copied first. On
        the CPU the result is bit-identical across runs and worker counts for the same layout.
        """
        h = self._handle()
        if isinstance(x, DeviceArray):  # resident: runs on its device, nothing copied
            return self._reduce_device(h, x, None)
        x = _array_arg("x", x, (np.float64, np.float32))
        if x.size == 0:
            return 0.0
        f32 = x.dtype == np.float32
        out = c_double()
        if not x.flags.aligned:
            x = _dense(x)
        if _is_contiguous(x):
            fn = lib.veda_sum_f32 if f32 else lib.veda_sum_f64
            with blocking():
                check(fn(h, x.size, _addr(x), byref(out)))
        else:
            nd = x.ndim
            shape = (ctypes.c_int64 * nd)(*x.shape)
            strides = (ctypes.c_int64 * nd)(*x.strides)
            fn = lib.veda_sum_f32_strided if f32 else lib.veda_sum_f64_strided
            with blocking():
                check(fn(h, _addr(x), nd, shape, strides, byref(out)))
        return float(out.value)

    def dot(self, x: "np.ndarray[Any, Any]", y: "np.ndarray[Any, Any]") -> float:
        """Return ``sum(x*y)`` for float32 arrays of the same shape, with exact float64 products
        summed in float64 (``veda_dot_f32``). Non-contiguous operands are copied first."""
        h = self._handle()
        if isinstance(x, DeviceArray) or isinstance(y, DeviceArray):
            return self._reduce_device(h, x, y)
        x = _array_arg("x", x, (np.float32,))
        y = _array_arg("y", y, (np.float32,))
        if x.shape != y.shape:
            raise ValueError(f"x and y must have the same shape, got {x.shape} and {y.shape}")
        if x.size == 0:
            return 0.0
        xc = x if x.flags.c_contiguous else np.ascontiguousarray(x)
        yc = y if y.flags.c_contiguous else np.ascontiguousarray(y)
        out = c_double()
        with blocking():
            check(lib.veda_dot_f32(h, xc.size, _addr(xc), _addr(yc), byref(out)))
        return float(out.value)

    def distribute_sum(self, arrays: "Sequence[np.ndarray[Any, Any]]") -> List[float]:
        """Sum each float32 array of ``arrays`` (any shapes) as one batch spread over all devices
        (``veda_distribute_sum_f32``); return the sums in order, as floats accumulated in
        float64. Non-contiguous arrays are copied first. If items fail in the library, VedaError
        is raised with the first failed item's status; its message names the failed items."""
        h = self._handle()
        if isinstance(arrays, np.ndarray) or not isinstance(arrays, (list, tuple)):
            raise TypeError(f"arrays must be a list or tuple of numpy arrays, "
                            f"not {type(arrays).__name__}")
        if len(arrays) > 2**31 - 1:
            raise ValueError(f"arrays has {len(arrays)} items, at most 2**31-1 are supported")
        items = [_dense(_array_arg(f"arrays[{i}]", a, (np.float32,)))
                 for i, a in enumerate(arrays)]
        k = len(items)
        if k == 0:
            return []
        ptrs = (c_void_p * k)(*[_addr(a) if a.size else None for a in items])
        lens = (ctypes.c_int64 * k)(*[a.size for a in items])
        sums = (c_double * k)()
        with blocking():
            check(lib.veda_distribute_sum_f32(h, k, ptrs, lens, sums, None))
        return list(sums)

    # -- user kernels -----------------------------------------------------------------------------

    def kernel(self, opencl: Optional[str] = None, cuda: Optional[str] = None, *,
               name: str) -> Kernel:
        """Compile a user kernel from OpenCL C (``opencl``) and/or CUDA C (``cuda``) source for
        every device with a source in its language; return a callable :class:`veda.Kernel`.

        ``k(n, *args)`` launches the kernel ``name`` over [0, n) (OpenCL: n work-items; CUDA:
        blocks of 256 threads, so pass n and bound-check it) and blocks until done. ``args``, in
        the kernel's parameter order, are:

        * numpy arrays, passed as device buffers of their raw bytes. Choose the direction with
          ``veda.In(a)`` (copied in only), ``veda.Out(a)`` (copied back only) or
          ``veda.InOut(a)``; a plain array is InOut when writeable and In when read-only. Out and
          InOut arrays must be C-contiguous; In arrays are made contiguous if needed.
        * numpy scalars (``np.int32``, ``np.int64``, ``np.float32``, ``np.float64``, ...),
          passed by value; the type must match the kernel parameter (int -> np.int32,
          long -> np.int64, float -> np.float32, double -> np.float64). Plain Python ints and
          floats are refused (TypeError): their C size would be a guess.

        Raises TypeError/ValueError for bad arguments, VedaError(Status.DEVICE) when the source
        does not compile (the message carries the compiler's build log), and
        VedaError(Status.UNSUPPORTED) when no device can run it (e.g. no GPU backend for the
        languages given; the CPU does not run user kernels).
        """
        h = self._handle()
        for arg, v in (("opencl", opencl), ("cuda", cuda)):
            if v is not None and not isinstance(v, str):
                raise TypeError(f"{arg} must be a str or None, not {type(v).__name__}")
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, not {type(name).__name__}")
        if not name.strip():
            raise ValueError("name must name the kernel function, not be empty")
        if not opencl and not cuda:
            raise ValueError("give the kernel source: opencl=..., cuda=... or both")
        for arg, v in (("opencl", opencl), ("cuda", cuda), ("name", name)):
            if v is not None and "\0" in v:
                raise ValueError(f"{arg} contains a NUL character")
        return _kernel.create(self, h, opencl or None, cuda or None, name)

    def saxpy(self, a: float, x: "np.ndarray[Any, Any]",
              y: "np.ndarray[Any, Any]") -> "np.ndarray[Any, Any]":
        """Compute ``y = a*x + y`` in place on float32 arrays of the same shape; return ``y``.

        Any strides are accepted; non-contiguous operands go through contiguous copies (and the
        result is written back into ``y``).
        """
        h = self._handle()
        af = _float_arg("a", a)
        if isinstance(x, DeviceArray) or isinstance(y, DeviceArray):
            if not (isinstance(x, DeviceArray) and isinstance(y, DeviceArray)):
                raise TypeError("x and y must both be device arrays, or both numpy arrays")
            n = _device.check_f32("x", x)
            if _device.check_f32("y", y) != n:
                raise ValueError(f"x and y must have the same size, got {x.size} and {y.size}")
            if n:
                check(lib.veda_saxpy_buffer(h, af, x._handle(), y._handle(), n))
            return y
        x = _array_arg("x", x, (np.float32,))
        y = _array_arg("y", y, (np.float32,))
        if x.shape != y.shape:
            raise ValueError(f"x and y must have the same shape, got {x.shape} and {y.shape}")
        if not y.flags.writeable:
            raise ValueError("y must be writeable")
        if y.size == 0:
            return y
        yc = y if y.flags.c_contiguous and y.flags.aligned else y.copy(order="C")
        xc = x if x.flags.c_contiguous and x.flags.aligned else x.copy(order="C")
        if xc is not yc and _addr(xc) != _addr(yc) and np.may_share_memory(xc, yc):
            xc = xc.copy()  # partial overlap: the kernel needs disjoint or identical operands
        with blocking():
            check(lib.veda_saxpy_f32(h, yc.size, af, _addr(xc), _addr(yc)))
        if yc is not y:
            y[...] = yc
        return y

    def sgemm(self, a: "np.ndarray[Any, Any]", b: "np.ndarray[Any, Any]", alpha: float = 1.0,
              c: "Optional[np.ndarray[Any, Any]]" = None,
              beta: float = 0.0) -> "np.ndarray[Any, Any]":
        """Matrix product ``C = alpha*A@B + beta*C`` for float32 2-D arrays A (m x k) and B (k x n).

        When ``c`` is None a new (m x n) result is allocated (``beta`` is then irrelevant).
        Otherwise ``c`` (float32, m x n, writeable) is updated in place and returned. Arrays whose
        rows are dense (e.g. column slices) are passed with their leading dimension, others are
        copied first.
        """
        h = self._handle()
        al = _float_arg("alpha", alpha)
        be = _float_arg("beta", beta)
        a = _array_arg("a", a, (np.float32,), 2)
        b = _array_arg("b", b, (np.float32,), 2)
        m, k = a.shape
        k2, n = b.shape
        if k != k2:
            raise ValueError(f"a and b shapes do not match for a matrix product: {a.shape} @ {b.shape}")
        if c is None:
            c = np.zeros((m, n), dtype=np.float32)
            be = 0.0
        else:
            c = _array_arg("c", c, (np.float32,), 2)
            if c.shape != (m, n):
                raise ValueError(f"c must have shape {(m, n)}, got {c.shape}")
            if not c.flags.writeable:
                raise ValueError("c must be writeable")
        if c.size == 0:
            return c
        ldc = _row_major_ld(c)
        cc = c if ldc is not None else np.array(c, order="C", copy=True)
        if ldc is None:
            ldc = max(n, 1)
        ops: "List[Tuple[np.ndarray[Any, Any], int]]" = []
        for name, arr in (("a", a), ("b", b)):
            ld = _row_major_ld(arr)
            if ld is None or np.may_share_memory(arr, cc):
                arr = np.array(arr, order="C", copy=True)
                ld = max(arr.shape[1], 1)
            ops.append((arr, ld))
        (ac, lda), (bc, ldb) = ops
        with blocking():
            check(lib.veda_sgemm(h, m, n, k, al, _addr(ac) if ac.size else None, lda,
                                 _addr(bc) if bc.size else None, ldb, be, _addr(cc), ldc))
        if cc is not c:
            c[...] = cc
        return c

    # -- device arrays (resident buffers) -------------------------------------------------------

    def to_device(self, x: Any, device: int = 1) -> DeviceArray:
        """Copy the numpy array ``x`` to device index ``device`` (0 is the CPU; see
        :meth:`devices`) and return a :class:`veda.DeviceArray` (``.get()``, ``.nbytes``,
        ``.dtype``, ``.device``). ``rt.saxpy``, ``rt.dot``, ``rt.sum`` and user kernels take
        device arrays: a call whose arrays are all on one device runs there with no copy.

        Raises VedaError(INVALID_ARGUMENT) for a device that does not exist or an empty or too
        large array, VedaError(OUT_OF_MEMORY) when the device has no room (never a CPU fallback).
        """
        return _device.to_device(self, self._handle(), x, device)

    def device_empty(self, shape: Any, dtype: Any = np.float32, device: int = 1) -> DeviceArray:
        """A new device array of ``shape`` and ``dtype`` on ``device``, contents undefined."""
        return _device.empty(self, self._handle(), shape, dtype, device)

    def transfers(self, device: int) -> Dict[str, int]:
        """The host<->device copies device ``device`` made so far (``h2d_copies``,
        ``h2d_bytes``, ``d2h_copies``, ``d2h_bytes``); a chain of calls on device arrays adds
        nothing."""
        return _device.transfers(self._handle(), device)

    def _reduce_device(self, h: int, x: Any, y: Any, out: Optional[DeviceArray] = None) -> float:
        """sum (y is None) or dot of float32 device arrays."""
        if not isinstance(x, DeviceArray) or (y is not None and not isinstance(y, DeviceArray)):
            raise TypeError("pass device arrays only, or numpy arrays only")
        n = _device.check_f32("x", x)
        if y is not None and _device.check_f32("y", y) != n:
            raise ValueError(f"x and y must have the same size, got {x.size} and {y.size}")
        if n == 0:
            return 0.0
        res = c_double()
        if y is None:
            check(lib.veda_sum_f32_buffer(h, x._handle(), n, None, byref(res)))
        else:
            check(lib.veda_dot_f32_buffer(h, x._handle(), y._handle(), n, None, byref(res)))
        return res.value

    def dot_into(self, x: DeviceArray, y: DeviceArray, out: DeviceArray) -> DeviceArray:
        """``dot(x, y)`` of float32 device arrays with the result kept on the device: stored as a
        float64 in ``out`` (a float64 device array of the same device, at least 1 element), with
        nothing copied back. Returns ``out``."""
        h = self._handle()
        for name, d in (("x", x), ("y", y), ("out", out)):
            if not isinstance(d, DeviceArray):
                raise TypeError(f"{name} must be a device array, not {type(d).__name__}")
        if out.dtype != np.float64 or out.size < 1:
            raise TypeError("out must be a float64 device array with at least one element")
        n = _device.check_f32("x", x)
        if _device.check_f32("y", y) != n:
            raise ValueError(f"x and y must have the same size, got {x.size} and {y.size}")
        check(lib.veda_dot_f32_buffer(h, x._handle(), y._handle(), n, out._handle(), None))
        return out

    # -- tasks ----------------------------------------------------------------------------------

    def submit(self, fn: "Callable[P, T]", /, *args: "P.args",
               **kwargs: "P.kwargs") -> Future[T]:
        """Run ``fn(*args, **kwargs)`` as a task on the runtime; return a :class:`veda.Future`
        (a ``concurrent.futures.Future[T]``) for its result.

        Every keyword argument goes to ``fn``; task options go through :meth:`submit_with` or
        :meth:`options`. ``future.result(timeout)`` and ``asyncio.wrap_future(future)`` work; an
        exception raised by ``fn`` is set on the future with its type. ``future.cancel()``
        succeeds while the task has not started. fn, args and kwargs are kept alive until the
        task ran. TypeError if fn is not callable; RuntimeError after :meth:`shutdown`.
        """
        return self._submit(fn, args, kwargs, _capi.PRIORITIES["normal"], 0)

    def submit_with(self, fn: Callable[..., T], /, *args: Any, priority: str = "normal",
                    deadline: Optional[Deadline] = None) -> Future[T]:
        """Run ``fn(*args)`` as a task with options: ``priority`` ("realtime", "high", "normal",
        "low", "background") and ``deadline`` (seconds from now, or a timedelta: a task not
        started by then never runs and its future fails with VedaError(TIMEOUT)). ``fn`` gets no
        keyword arguments here (bind them with functools.partial, or use
        ``rt.options(...).submit(fn, *args, **kwargs)``)."""
        opts = TaskOptions(self, priority, deadline)
        return self._submit(fn, args, {}, opts._priority, opts._deadline)

    def options(self, *, priority: str = "normal",
                deadline: Optional[Deadline] = None) -> TaskOptions:
        """Return a :class:`veda.TaskOptions` whose ``submit(fn, *args, **kwargs)`` and
        ``map(...)`` use these options; see :meth:`submit_with` for their meaning."""
        return TaskOptions(self, priority, deadline)

    def _submit(self, fn: Callable[..., T], args: "tuple[Any, ...]", kwargs: Dict[str, Any],
                priority: int, deadline: int) -> Future[T]:
        if not callable(fn):
            raise TypeError(f"fn must be callable, not {type(fn).__name__}")
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")
        h = self._handle()
        fut: Future[T] = Future()
        task = cb.Task(fut, fn, args, kwargs)
        key = cb.new_key()
        cb.tasks[key] = task
        fh = c_void_p()
        if priority == _capi.PRIORITIES["normal"] and deadline == 0:
            opts = None
        else:
            o = _capi.veda_task_options()
            lib.veda_task_options_init(byref(o))
            o.priority, o.deadline_ns = priority, deadline
            opts = byref(o)
        st = lib.veda_submit(h, cb.TASK_TRAMPOLINE_ADDR, key, opts, byref(fh))
        if st != Status.OK:
            cb.tasks.pop(key, None)
            check(st)
        try:
            st = lib.veda_future_then(fh, cb.DONE_CALLBACK_ADDR, key)
            if st != Status.OK:  # the task still runs and settles the future itself
                cb.tasks.pop(key, None)
        finally:
            lib.veda_future_release(fh)
        self._futures.add(fut)
        return fut

    def map(self, fn: Callable[..., T], *iterables: Iterable[Any], timeout: Optional[float] = None,
            chunksize: Optional[int] = None) -> Iterator[T]:
        """``concurrent.futures.Executor.map``: ``fn(*args)`` for each args of
        ``zip(*iterables)``, in parallel; returns an iterator over the results in order.

        The iterables are consumed at once. Items run in chunks of ``chunksize`` items, one task
        per chunk (None: about 8 chunks per worker, which keeps the per-item cost near that of a
        plain loop; 1: one task per item). A chunk stops at its first exception, which the
        iterator raises when it reaches that item. ``timeout`` (seconds, from this call): the
        iterator raises ``TimeoutError`` if a result is not ready in time. Leaving the iterator
        early (or Ctrl-C) cancels the chunks that have not started, and a running chunk stops
        before its next item.
        """
        return self._map(fn, iterables, timeout, chunksize, _capi.PRIORITIES["normal"], 0)

    def _map(self, fn: Callable[..., T], iterables: "tuple[Iterable[Any], ...]",
             timeout: Optional[float], chunksize: Optional[int], priority: int,
             deadline: int) -> Iterator[T]:
        if not callable(fn):
            raise TypeError(f"fn must be callable, not {type(fn).__name__}")
        if timeout is not None:
            timeout = _float_arg("timeout", timeout)
        cs = None if chunksize is None else _int_arg("chunksize", chunksize, 1)
        end = None if timeout is None else time.monotonic() + timeout
        items = list(zip(*iterables))
        n = len(items)
        if cs is None:
            cs = max(1, math.ceil(n / (8 * self.num_workers)))
        stop = [False]  # set when the iterator is left: running chunks stop at their next item
        futs = [self._submit(run_chunk, (fn, items[i:i + cs], stop), {}, priority, deadline)
                for i in range(0, n, cs)]
        return self._results(futs, end, stop)

    @staticmethod
    def _results(futs: "List[Future[ChunkResult]]", end: Optional[float],
                 stop: List[bool]) -> Iterator[Any]:
        try:
            futs.reverse()
            while futs:
                f = futs[-1]
                r = f.result() if end is None else f.result(max(0.0, end - time.monotonic()))
                futs.pop()
                yield from r.values
                if r.exc is not None:
                    raise r.exc
        finally:
            stop[0] = bool(futs)
            for f in futs:
                f.cancel()

    def map_reduce(self, fn: Callable[[Any], A], iterable: Iterable[Any],
                   combine: Callable[[A, A], A], *, initial: Any = _MISSING,
                   chunksize: Optional[int] = None) -> A:
        """Return ``combine``-reduction of ``fn(x)`` for x in ``iterable``, computed in
        parallel: each chunk (at least ``chunksize`` items; None lets the runtime cut them) folds
        its items left to right, then the chunk results are combined in item order. ``combine`` must be associative (it need not be commutative); with
        ``initial``, the result is ``combine(initial, ...)``. An empty iterable returns
        ``initial`` or raises TypeError without it (as functools.reduce). The first exception
        of ``fn`` or ``combine`` stops the rest and is raised here; Ctrl-C too."""
        if not callable(fn):
            raise TypeError(f"fn must be callable, not {type(fn).__name__}")
        if not callable(combine):
            raise TypeError(f"combine must be callable, not {type(combine).__name__}")
        cs = None if chunksize is None else _int_arg("chunksize", chunksize, 1)
        items = list(iterable)
        n = len(items)
        if n == 0:
            if initial is _MISSING:
                raise TypeError("map_reduce() of an empty iterable with no initial value")
            return cast(A, initial)
        partial: Dict[int, A] = {}

        def body(b: int, e: int) -> None:
            acc = fn(items[b])
            for i in range(b + 1, e):
                acc = combine(acc, fn(items[i]))
            partial[b] = acc  # dict stores are atomic under the GIL

        self.parallel_for(0, n, body, grain=cs or 0)  # 0: the runtime sizes the chunks
        keys = sorted(partial)
        acc = partial[keys[0]] if initial is _MISSING else combine(initial, partial[keys[0]])
        for k in keys[1:]:
            acc = combine(acc, partial[k])
        return acc

    def group(self) -> TaskGroup:
        """Return a new :class:`veda.TaskGroup` (use it as ``with rt.group() as g:``)."""
        self._handle()
        return TaskGroup(self)

    # -- telemetry ------------------------------------------------------------------------------

    def _text(self, fn: Any) -> str:
        h = self._handle()
        need = c_size_t(0)
        check(fn(h, None, 0, byref(need)))
        while True:
            cap = need.value + 256  # metrics may grow between the two calls
            buf = ctypes.create_string_buffer(cap)
            check(fn(h, buf, cap, byref(need)))
            if need.value <= cap:
                return buf.value.decode("utf-8", "replace")

    def metrics(self) -> Metrics:
        """Return the runtime's metrics as a dict (``tasks_executed``, ``tasks_stolen``,
        ``workers``, latency percentiles, ...)."""
        return cast(Metrics, json.loads(self._text(lib.veda_metrics_json)))

    def energy(self) -> Dict[str, Any]:
        """Return the energy used since the runtime started as a dict: ``devices`` (each with
        ``device``, ``name``, ``joules``, ``average_watts`` and ``source``: "rapl", "nvml" or
        "estimated"), ``total_joules``, ``average_watts``, ``estimated``, ``sensors`` (each
        available, or unavailable with ``reason`` and ``fix``), ``temperatures``, ``worker_cap``
        and ``resizes`` (each change of the energy policy's worker cap with its ``reason``)."""
        return cast(Dict[str, Any], json.loads(self._text(lib.veda_energy_json)))

    def prometheus(self) -> str:
        """Return the metrics in the Prometheus text exposition format
        (``veda_tasks_executed_total``, ...)."""
        return self._text(lib.veda_metrics_prometheus)

    def record_decisions(self, on: bool = True) -> None:
        """Turn the recording of dispatch decisions on or off (about 80 ns per kernel call)."""
        if not isinstance(on, (bool, np.bool_)):
            raise TypeError(f"on must be a bool, not {type(on).__name__}")
        check(lib.veda_runtime_record_decisions(self._handle(), int(bool(on))))

    def decisions(self) -> List[Decision]:
        """Return the recorded dispatch decisions, oldest first (at most the last 1024), as
        dicts with the keys ``seq``, ``kernel``, ``bytes``, ``device``, ``kind``, ``reason``,
        ``candidates``, ... Empty unless recording is on (``record_decisions``)."""
        return cast(List[Decision], json.loads(self._text(lib.veda_decisions_json)))

    # ---- timeline traces and live metrics ----------------------------------------------------

    def trace(self, path: "str | os.PathLike[str]") -> "_trace.Tracing":
        """Trace the runtime into the file ``path`` (Chrome trace-event JSON; open it in
        ui.perfetto.dev, or read it with :mod:`veda.trace`). Use as a context manager::

            with rt.trace("out.json"):
                rt.parallel_for(0, n, body)

        The file is created at once, so an unwritable path raises here; it is written when the
        ``with`` block ends (also on an exception). Starting a second trace raises VedaError."""
        return _trace.Tracing(self, os.fspath(path))

    def serve_metrics(self, addr: "str | None" = None) -> None:
        """Serve the Prometheus metrics at ``http://addr/metrics``; ``addr`` is ``"host:port"``,
        default ``"127.0.0.1:9464"`` (loopback only). A taken address raises VedaError now."""
        if addr is not None and not isinstance(addr, str):
            raise TypeError(f"addr must be a str or None, not {type(addr).__name__}")
        check(lib.veda_metrics_serve(self._handle(), None if addr is None else addr.encode()))

    def stop_metrics(self) -> None:
        """Stop the metrics servers of this runtime (VedaError if none is running)."""
        check(lib.veda_metrics_stop(self._handle()))


@atexit.register
def _close_all() -> None:
    """Close every live runtime before the interpreter finalizes, so that no worker thread calls
    into Python after that."""
    for rt in list(_live):
        try:
            rt.close()
        except Exception:
            pass
