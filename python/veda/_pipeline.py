"""Pipelines from Python: ``rt.pipeline(...)``, ``p.stage(fn, mode=...)``, ``p.run(iterable)``.

This module only translates to the C ABI (``veda_pipeline_*`` in include/veda.h, whose rules are
goveda's): Python objects travel through the C pipeline as integer keys (``seq + 1``) into the
run's item table, and the trampolines below look the objects up. A Python pipeline owns one C
pipeline (built at its first run, again only if stages were added since): the user's stages plus
one serial in-order stage, "consumer", that hands finished items to the ``for`` loop through a
bounded hand-off, so a slow consumer is backpressure too (its busy time in the metrics is time
spent waiting for the loop). Its runs accumulate in the metrics under one pipeline name. The C
run itself happens on a helper thread while the consumer waits.

GIL: every stage is called with the GIL held. Stages that release it (numpy, native kernels, I/O)
run in parallel on the runtime's workers; pure-Python stages serialise on the GIL (they still
overlap with GIL-free work of other stages, but one Python bytecode stream runs at a time).

Who calls what: the trampolines run on worker threads (the source and each serial stage on one
thread at a time); ``Pipeline.run``/``run_async`` on the consumer's thread.
"""
from __future__ import annotations

import asyncio
import collections
import ctypes
import itertools
import sys
import threading
import weakref
from typing import Any, AsyncIterable, AsyncIterator, Callable, Deque, Dict, Iterable, Iterator, \
    List, Optional, Tuple, Union

from . import _capi
from . import _callbacks as cb
from ._capi import lib
from ._errors import Status, VedaError

__all__ = ["Pipeline", "MODES"]

# Python names of the stage modes (VEDA_STAGE_*); the C-style names are accepted too.
MODES = {
    "parallel": _capi.STAGE_PARALLEL,
    "serial": _capi.STAGE_SERIAL_IN_ORDER,
    "serial_unordered": _capi.STAGE_SERIAL_OUT_OF_ORDER,
    "serial_in_order": _capi.STAGE_SERIAL_IN_ORDER,
    "serial_out_of_order": _capi.STAGE_SERIAL_OUT_OF_ORDER,
}

_POLL = 0.02  # seconds between checks for Ctrl-C and cancellation while waiting


def nbytes(obj: Any) -> int:
    """An item's declared size: ``nbytes`` of numpy arrays and memoryviews, ``len()`` of bytes and
    bytearray, the buffer's size in bytes for other buffer-protocol objects (``array.array``,
    ``mmap``), else 0 (unknown)."""
    nb = getattr(obj, "nbytes", None)
    if isinstance(nb, int):
        return nb
    if isinstance(obj, (bytes, bytearray)):
        return len(obj)
    if isinstance(obj, (str, int, float, type(None))):
        return 0  # the common non-buffer items: skip the memoryview attempt
    try:
        with memoryview(obj) as m:
            return m.nbytes
    except TypeError:
        return 0


class _Done:
    """The finished "run thread" of an inline run (see Pipeline._start)."""

    def join(self, timeout: Optional[float] = None) -> None:
        pass


class _Run:
    """One run's state, shared by the trampolines (worker threads) and the consumer."""

    def __init__(self, next_item: Callable[[], Any], cap: int):
        self.next_item = next_item
        self.items: Dict[int, Any] = {}  # key (seq + 1) -> the item's current object
        self.exc: Optional[BaseException] = None  # the failure with the smallest seq
        self.exc_seq = -1
        self.lock = threading.Lock()  # guards exc, exc_seq, out
        self.out: Deque[Any] = collections.deque()  # finished items, in order
        self.slots = threading.Semaphore(cap)  # free places in the hand-off
        self.stopping = False  # the consumer left or cancelled: the sink refuses items
        self.done = threading.Event()  # veda_pipeline_run returned
        self.status = Status.OK
        self.message = ""
        self.wake: Callable[[], None] = lambda: None  # tells the consumer to look again
        self.key = 0  # its key in _runs
        self.dev_exc: Dict[int, BaseException] = {}  # seq -> a hybrid stage's device failure
        self.specs: List[Any] = []  # the run's stages (_StageSpec), by index

    def fail(self, seq: int, exc: BaseException) -> None:
        with self.lock:
            if self.exc is None or seq < self.exc_seq:
                self.exc, self.exc_seq = exc, seq


class _CPipeline:
    """The C pipeline of a Python pipeline, reused by its runs: the trampolines reach the run in
    progress through ``cur`` (one run at a time). Freed by :meth:`destroy` (a finalizer of the
    Python pipeline, or a rebuild), never while a run is in progress."""

    def __init__(self, h: int, nstages: int):
        self.h = h
        self.nstages = nstages  # the user's stages it was built with
        self.keys: List[int] = []  # its keys in _stages and _owners
        self.cur: Optional[_Run] = None  # the run in progress

    def destroy(self) -> None:
        for k in self.keys:
            _stages.pop(k, None)
            _owners.pop(k, None)
        self.keys = []
        if self.h:
            lib.veda_pipeline_destroy(self.h)
            self.h = 0


# A stage's entry: its C pipeline and the stage's index (-1: the consumer hand-off). The user's
# functions are reached through the run in progress (_Run.specs), so that nothing module-level
# holds them between runs (a stage that refers to its pipeline would keep it alive forever).
_StageEntry = Tuple[_CPipeline, int]

_runs: Dict[int, _Run] = {}
_stages: Dict[int, _StageEntry] = {}
_owners: Dict[int, _CPipeline] = {}  # drop_ctx -> its C pipeline
_keys = itertools.count(1)


_enter = cb.enter_callback
_leave = cb.leave_callback


def _source(ctx: Optional[int], seq: int, item: Any, size: Any) -> int:
    _enter()
    try:
        run = _runs.get(ctx)  # type: ignore[arg-type]
        if run is None or run.stopping:
            return 0
        try:
            obj = run.next_item()
        except StopIteration:
            return 0
        except BaseException as e:  # noqa: BLE001 - must never escape into ctypes
            run.fail(seq, e)
            return -1
        key = seq + 1
        run.items[key] = obj
        item[0] = key
        size[0] = nbytes(obj)
        return 1
    finally:
        _leave()


def _run_of(ctx: Optional[int]) -> Tuple[Optional[_Run], int]:
    """The run in progress of the stage whose key is ctx, and the stage's index (-1: the hand-off)."""
    entry = _stages.get(ctx)  # type: ignore[arg-type]
    if entry is None:
        return None, 0
    return entry[0].cur, entry[1]


def _stage(ctx: Optional[int], seq: int, item: Optional[int], out: Any, size: Any) -> int:
    _enter()
    try:
        run, i = _run_of(ctx)
        if run is None or item is None:
            return -1
        if i < 0:
            return _sink(run, seq, item)
        fn = run.specs[i].fn
        try:
            new = fn(run.items[item])
        except BaseException as e:  # noqa: BLE001
            run.fail(seq, e)
            return 1
        run.items[item] = new
        if run.dev_exc:
            run.dev_exc.pop(seq, None)  # a hybrid stage's CPU body ran it after a device failure
        size[0] = nbytes(new)
        return 0  # *out stays the key: the object behind it changed
    finally:
        _leave()


def _device_stage(ctx: Optional[int], device: int, seq: int, item: Optional[int], out: Any, size: Any) -> int:
    _enter()
    try:
        run, i = _run_of(ctx)
        if run is None or item is None:
            return -1
        dev = run.specs[i].device
        try:
            new = dev(device, run.items[item])
        except BaseException as e:  # noqa: BLE001 - a device failure: the runtime tries the next candidate
            run.dev_exc[seq] = e  # raised if the item fails (pinned; no candidate left)
            return 1
        run.items[item] = new
        size[0] = nbytes(new)
        return 0
    finally:
        _leave()


def _sink(run: _Run, seq: int, key: int) -> int:
    # Wait for a free place in the hand-off (the GIL is released while waiting).
    while not run.slots.acquire(timeout=_POLL):
        if run.stopping:
            return 2  # the item fails, so it is dropped (and freed by _drop)
    if run.stopping:
        run.slots.release()
        return 2
    obj = run.items.pop(key)
    with run.lock:
        was_empty = not run.out
        run.out.append(obj)
    if was_empty:
        run.wake()  # the consumer looks again (it drains everything before it waits)
    return 0


def _drop(ctx: Optional[int], seq: int, item: Optional[int]) -> None:
    owner = _owners.get(ctx)  # type: ignore[arg-type]
    run = owner.cur if owner is not None else None
    if run is not None and item is not None:
        run.items.pop(item, None)


_source_fn = _capi.veda_source_fn(_source)
_stage_fn = _capi.veda_stage_fn(_stage)
_device_stage_fn = _capi.veda_device_stage_fn(_device_stage)
_drop_fn = _capi.veda_drop_fn(_drop)
_SOURCE = ctypes.cast(_source_fn, ctypes.c_void_p).value
_STAGE = ctypes.cast(_stage_fn, ctypes.c_void_p).value
_DEVICE_STAGE = ctypes.cast(_device_stage_fn, ctypes.c_void_p).value
_DROP = ctypes.cast(_drop_fn, ctypes.c_void_p).value


# The consumer hand-off stage's name (the last stage of every Python pipeline's C pipeline).
_CONSUMER = "consumer"


class _StageSpec:
    """One stage as the user added it."""

    __slots__ = ("fn", "mode", "name", "device")

    def __init__(self, fn: Optional[Callable[[Any], Any]], mode: int, name: Optional[str],
                 device: Optional[Callable[[int, Any], Any]]):
        self.fn, self.mode, self.name, self.device = fn, mode, name, device


def _check_name(what: str, name: Any) -> None:
    if name is not None and (not isinstance(name, str) or "\0" in name):
        raise TypeError(f"{what} must be a str without NUL characters or None, not {name!r}")


def _handoff_cap(max_in_flight: int) -> int:
    """The hand-off's places: a quarter of max_in_flight (at least 1), or 16 without a bound."""
    return max(1, max_in_flight // 4) if max_in_flight else 16


class Pipeline:
    """A linear pipeline of stages on a runtime (see :meth:`veda.Runtime.pipeline`).

    ``p.stage(fn, mode=...)`` appends a stage; ``p.run(iterable)`` yields the final outputs in
    source order; ``p.run_async(aiterable)`` is the ``async for`` form. Modes:

    * ``"parallel"``: any number of items at once, in any order;
    * ``"serial"``: one item at a time, in source order (the stage may keep state);
    * ``"serial_unordered"``: one item at a time, in any order.

    Items may be any object (each travels as itself: a stage gets the object the previous stage
    returned). The byte budget counts ``len()`` of bytes and bytearray items and ``nbytes`` of
    numpy arrays and memoryviews (other objects count 0). Bounds: at most ``max_in_flight``
    items exist between reading them from the iterable and handing them to the loop (with
    ``max_in_flight=1``, one more finished output may wait for the loop); ``max_bytes`` bounds the
    declared bytes of the items inside the stages (a single larger item runs alone); the
    iterable is not read while the bounds are full. Admission uses an item's size as read; a
    stage that returns a larger object adds the growth (the count can go over the budget by the
    growth of the items in flight), and the iterable waits until it is back under. When a stage raises for item s (or the iterable raises at s), the items
    before s are still yielded, then the exception is raised with its own type; items after s
    are dropped. Breaking out of the loop cancels the run. Ctrl-C (in the main thread) stops a
    running pipeline within 100 ms and raises KeyboardInterrupt.

    Stages run on the runtime's worker threads with the GIL held: stages that release the GIL
    (numpy, native kernels) run in parallel, pure-Python stages serialise on the GIL. A pipeline
    runs once at a time; a stage must not run its own pipeline.
    """

    def __init__(self, rt: Any, max_in_flight: Optional[int] = None, max_bytes: Optional[int] = None,
                 priority: str = "normal", name: Optional[str] = None):
        if priority not in _capi.PRIORITIES:
            raise ValueError(f"priority must be one of {sorted(_capi.PRIORITIES)}, not {priority!r}")
        _check_name("name", name)
        for what, v in (("max_in_flight", max_in_flight), ("max_bytes", max_bytes)):
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
                raise ValueError(f"{what} must be a positive int or None, not {v!r}")
        self._rt = rt
        self._max_in_flight = max_in_flight or 0
        self._max_bytes = max_bytes or 0
        self._priority = _capi.PRIORITIES[priority]
        self._name = name or None
        self._stages: List[_StageSpec] = []
        self._lock = threading.Lock()  # guards _stages, _c and _running (claimed by _start, one run at a time)
        self._running = False
        self._c: Optional[_CPipeline] = None  # the C pipeline, built by the first run
        self._free: "Optional[weakref.finalize[[_CPipeline], Pipeline]]" = None  # destroys _c when this pipeline is collected

    def stage(self, fn: Callable[[Any], Any], mode: str = "parallel", *, name: Optional[str] = None,
              device: Optional[Callable[[int, Any], Any]] = None) -> "Pipeline":
        """Append a stage ``fn(item) -> item`` (see the class doc for the modes); returns self.

        ``name`` labels the stage in the metrics and in errors (default ``"stage-<index>"``);
        names are unique within a pipeline. ``device``, if given, makes it a hybrid stage:
        ``device(index, item) -> item`` does what ``fn`` does on device ``index`` (>= 1, as in
        ``rt.devices()``), for example with ``rt.to_device(x, device=index)`` and the device
        kernels; for each item the runtime's dispatcher picks the CPU (``fn``) or a device, as for
        a kernel call, from the item's declared bytes (a pinned runtime runs every item on its
        device). Each pick is a recorded decision (``rt.decisions()``, kernel
        ``"pipeline:<pipeline>/<stage>"``), and the stage's metrics count the items per device.
        An exception from ``device`` counts as a failure of that device: the item runs on the
        next candidate, ``fn`` last; if none is left (pinned), the exception is raised at the
        item's position as a stage's would be."""
        if not callable(fn):
            raise TypeError(f"a stage must be callable, not {type(fn).__name__}")
        if device is not None and not callable(device):
            raise TypeError(f"device must be callable or None, not {type(device).__name__}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {sorted(MODES)}, not {mode!r}")
        _check_name("name", name)
        with self._lock:
            if self._running:
                raise VedaError(Status.INVALID_ARGUMENT, "veda: invalid argument: stage added during a run")
            label = name or f"stage-{len(self._stages)}"
            for i, other in enumerate(self._stages):
                if (other.name or f"stage-{i}") == label:
                    raise VedaError(Status.INVALID_ARGUMENT,
                                    f"veda: invalid argument: stage name {label!r} is taken by stage {i} "
                                    "(metrics label stages by name)")
            if label == _CONSUMER:
                raise VedaError(Status.INVALID_ARGUMENT,
                                f"veda: invalid argument: stage name {_CONSUMER!r} is the loop's hand-off")
            self._stages.append(_StageSpec(fn, MODES[mode], name or None, device))
        return self

    @property
    def name(self) -> Optional[str]:
        """The name given to ``rt.pipeline(name=...)``, or None (the library's ``pipeline-<n>``)."""
        return self._name

    def close(self) -> None:
        """Free the C pipeline now instead of when this pipeline is collected; a later run builds
        a new one. Raises VedaError(INVALID_ARGUMENT) during a run."""
        with self._lock:
            if self._running:
                raise VedaError(Status.INVALID_ARGUMENT, "veda: invalid argument: close during a run")
            self._drop_c()

    def _drop_c(self) -> None:
        # Caller holds _lock and no run is in progress.
        if self._free is not None:
            self._free()  # runs _CPipeline.destroy once
            self._free = None
        self._c = None

    def _build_c(self, stages: List["_StageSpec"]) -> _CPipeline:
        """The C pipeline for stages (the user's, then the consumer hand-off). Caller claimed the run."""
        opts = _capi.veda_pipeline_options()
        lib.veda_pipeline_options_init(ctypes.byref(opts))
        opts.priority = self._priority
        # Finished outputs waiting for the loop count against max_in_flight: the hand-off takes
        # a quarter of it (at least 1) and the C pipeline the rest (at least 1).
        m = self._max_in_flight
        opts.max_in_flight = max(1, m - _handoff_cap(m)) if m else 0
        opts.max_bytes_in_flight = self._max_bytes
        owner_key = next(_keys)
        opts.drop = _DROP
        opts.drop_ctx = owner_key
        h = ctypes.c_void_p()
        name = self._name.encode() if self._name else None
        _capi.check(lib.veda_pipeline_create_named(self._rt._handle(), name, ctypes.byref(opts), ctypes.byref(h)))
        cp = _CPipeline(h.value or 0, len(stages))
        cp.keys.append(owner_key)
        _owners[owner_key] = cp
        try:
            consumer = _StageSpec(None, _capi.STAGE_SERIAL_IN_ORDER, _CONSUMER, None)
            for i, spec in enumerate(stages + [consumer]):
                k = next(_keys)
                _stages[k] = (cp, i if spec is not consumer else -1)
                cp.keys.append(k)
                sname = spec.name.encode() if spec.name else None
                if spec.device is not None:
                    _capi.check(lib.veda_pipeline_add_hybrid_stage(cp.h, sname, spec.mode, _STAGE, k, _DEVICE_STAGE, k))
                else:
                    _capi.check(lib.veda_pipeline_add_named_stage(cp.h, sname, spec.mode, _STAGE, k))
        except BaseException:
            cp.destroy()
            raise
        return cp

    # -- running ---------------------------------------------------------------------------

    def _start(self, next_item: Callable[[], Any],
               inline: bool = False) -> Tuple[_Run, int, Any]:
        # Check and claim the run in one step: two threads starting a run at once must not both
        # pass the check (the ctypes calls below release the GIL).
        with self._lock:
            if not self._stages:
                raise VedaError(Status.INVALID_ARGUMENT, "veda: invalid argument: the pipeline has no stage")
            if self._running:
                raise VedaError(Status.INVALID_ARGUMENT,
                                "veda: invalid argument: the pipeline is already running (one run at a time)")
            self._running = True
            stages = list(self._stages)
        try:
            return self._start_claimed(next_item, inline, stages)
        except BaseException:
            self._running = False
            raise

    def _start_claimed(self, next_item: Callable[[], Any], inline: bool,
                       stages: List["_StageSpec"]) -> Tuple[_Run, int, Any]:
        cp = self._c
        if cp is None or cp.nstages != len(stages):
            # First run, or stages were added since the last build (the consumer hand-off must
            # stay the last stage): a new C pipeline.
            with self._lock:
                self._drop_c()
            cp = self._build_c(stages)
            with self._lock:
                self._c = cp
                self._free = weakref.finalize(self, _CPipeline.destroy, cp)
        h = cp.h
        # Inline (called on a worker thread): nobody consumes while the run goes on, so the
        # hand-off must take every output.
        run = _Run(next_item, sys.maxsize if inline else _handoff_cap(self._max_in_flight))
        run.specs = stages
        run_key = run.key = next(_keys)
        cp.cur = run
        _runs[run_key] = run

        def body() -> None:
            st = lib.veda_pipeline_run(h, _SOURCE, run_key)
            run.status, run.message = st, (_capi.last_error() if st != Status.OK else "")
            run.done.set()
            run.wake()

        if inline:
            # On a worker thread (a task or a stage of this or another pipeline): run here, so
            # this worker takes part (libveda's waits help) instead of blocking in Python while
            # a helper thread waits for a worker, which deadlocks when every worker does so.
            body()
            return run, h, _Done()
        th = threading.Thread(target=body, name="veda-pipeline-run", daemon=True)
        th.start()
        return run, h, th

    def _stop(self, run: _Run, h: int, th: Any, wait: bool) -> None:
        """Cancel (if still running), release the sink, join the run thread, free everything."""
        if not run.done.is_set():
            run.stopping = True
            lib.veda_pipeline_cancel(h)
        if wait or run.done.is_set():
            th.join()
            self._finish(run)
        else:
            # Ctrl-C: the source is stopped and every item will be dropped; free the rest when
            # the run thread ends (stages already running finish first).
            def cleanup() -> None:
                th.join()
                self._finish(run)

            threading.Thread(target=cleanup, daemon=True).start()
            th.join(0.05)

    def _finish(self, run: _Run) -> None:
        _runs.pop(run.key, None)
        cp = self._c
        if cp is not None and cp.cur is run:
            cp.cur = None
        self._running = False

    def _take(self, run: _Run) -> Tuple[bool, Any]:
        with run.lock:
            if run.out:
                obj = run.out.popleft()
                run.slots.release()
                return True, obj
        return False, None

    def _outcome(self, run: _Run) -> None:
        """Raise what the finished run ended with, if anything."""
        if run.exc is not None:
            exc, run.exc = run.exc, None
            raise exc
        if run.status == Status.TASK_FAILED and run.dev_exc:
            # A hybrid stage's device function failed and no candidate was left (a pinned
            # runtime): its exception, at its position, as a stage's would be.
            raise run.dev_exc[min(run.dev_exc)]
        if run.status != Status.OK:
            raise VedaError(run.status, run.message or _capi.status_string(run.status))

    def run(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """Run the pipeline on ``iterable`` and yield the final outputs in source order.

        The iterable is read on worker threads (one at a time) as the bounds allow. Bad input
        (no stage, a run in progress) raises VedaError(INVALID_ARGUMENT) before anything runs.

        Called from a worker thread (inside a task, a stage or a node of this runtime), the run
        happens on the calling worker, which takes part in it: nesting never deadlocks, even on
        one worker. Its outputs are then collected until the run ends, and yielded after.
        """
        it = iter(iterable)
        run, h, th = self._start(it.__next__, inline=cb.in_callback())
        return self._consume(run, h, th)

    def _consume(self, run: _Run, h: int, th: Any) -> Iterator[Any]:
        ready = threading.Event()
        run.wake = ready.set
        clean = stopped = False
        try:
            while True:
                ok, obj = self._take(run)
                if ok:
                    yield obj
                    continue
                if run.done.is_set():
                    ok, obj = self._take(run)
                    if ok:
                        yield obj
                        continue
                    break
                ready.wait(_POLL)
                ready.clear()
            clean = True
            th.join()
            self._finish(run)
            self._outcome(run)
        except KeyboardInterrupt:
            if not clean:
                stopped = True
                self._stop(run, h, th, wait=False)
            raise
        finally:
            if not clean and not stopped:
                self._stop(run, h, th, wait=True)  # an early break: the pipeline is reusable after

    async def run_async(self, source: Union[AsyncIterable[Any], Iterable[Any]]) -> AsyncIterator[Any]:
        """``async for out in p.run_async(source)``: as :meth:`run`, for an async iterable (or a
        plain one). The source's ``__anext__`` runs on the event loop; the stages on workers."""
        loop = asyncio.get_running_loop()
        next_item = cb.source_reader(source, loop)
        run, h, th = self._start(next_item)
        ready = asyncio.Event()
        def wake() -> None:
            loop.call_soon_threadsafe(ready.set)

        run.wake = wake
        clean = False
        # One waiter task at a time, awaited through asyncio.wait: asyncio.wait_for (3.11) can
        # swallow the task's cancellation when the event is set in the same loop turn, and Ctrl-C
        # under asyncio.run is such a cancellation (it was lost in about one run in three).
        waiter: "Optional[asyncio.Task[Any]]" = None
        try:
            while True:
                ok, obj = self._take(run)
                if ok:
                    yield obj
                    continue
                if run.done.is_set():
                    ok, obj = self._take(run)
                    if ok:
                        yield obj
                        continue
                    break
                if waiter is None:
                    waiter = loop.create_task(ready.wait())
                await asyncio.wait((waiter,), timeout=_POLL)
                if waiter.done():
                    waiter = None
                ready.clear()
            clean = True
            await loop.run_in_executor(None, th.join)
            self._finish(run)
            self._outcome(run)
        finally:
            if waiter is not None:
                waiter.cancel()
            if not clean:
                if not run.done.is_set():
                    run.stopping = True
                    lib.veda_pipeline_cancel(h)
                await loop.run_in_executor(None, th.join)
                if self._running:
                    self._finish(run)
