"""Task options (``rt.options(...)``, ``rt.submit_with``) and task groups (``rt.group()``)."""
from __future__ import annotations

import datetime
import threading
from ctypes import byref, c_void_p
from typing import (TYPE_CHECKING, Any, Callable, Dict, Iterable, Iterator, List, Optional,
                    TypeVar, Union)

from . import _callbacks as cb
from . import _capi
from ._capi import check, lib
from ._errors import Status
from ._future import Future
from ._interrupt import blocking

if TYPE_CHECKING:
    from ._runtime import Runtime

if TYPE_CHECKING:
    from typing_extensions import ParamSpec, Self
    P = ParamSpec("P")

__all__ = ["TaskOptions", "TaskGroup", "Deadline", "priority_value", "deadline_ns"]

T = TypeVar("T")
Deadline = Union[float, int, datetime.timedelta]


def priority_value(priority: Any) -> int:
    """The VEDA_PRIORITY_* value of a priority name; TypeError/ValueError otherwise."""
    if not isinstance(priority, str):
        raise TypeError(f"priority must be a str, not {type(priority).__name__}")
    try:
        return _capi.PRIORITIES[priority]
    except KeyError:
        raise ValueError(f"priority must be one of {', '.join(map(repr, _capi.PRIORITIES))}, "
                         f"not {priority!r}") from None


def deadline_ns(deadline: Any) -> int:
    """Nanoseconds from now for a deadline given in seconds (int/float > 0) or as a
    ``datetime.timedelta``; 0 for None (no deadline)."""
    if deadline is None:
        return 0
    if isinstance(deadline, datetime.timedelta):
        seconds = deadline.total_seconds()
    elif isinstance(deadline, bool) or not isinstance(deadline, (int, float)):
        raise TypeError(f"deadline must be seconds from now (a number) or a datetime.timedelta, "
                        f"not {type(deadline).__name__}")
    else:
        seconds = float(deadline)
    if not seconds > 0 or seconds != seconds:
        raise ValueError(f"deadline must be > 0 seconds from now, not {deadline!r}")
    ns = int(seconds * 1e9)
    return min(max(ns, 1), 2**63 - 1)


class TaskOptions:
    """Options for the tasks submitted through it: ``rt.options(priority="high",
    deadline=0.5).submit(fn, *args, **kwargs)``. The options are never passed to ``fn``; every
    keyword argument of ``submit`` is. Made by :meth:`veda.Runtime.options`; reusable and
    thread-safe.

    ``priority``: "realtime", "high", "normal" (default), "low" or "background": among tasks
    queued at the same time, higher priorities start first. ``deadline``: seconds from each
    submission (or a ``timedelta``); a task not started by then never runs, and its future
    fails with VedaError(Status.TIMEOUT).
    """

    __slots__ = ("_rt", "_priority", "_deadline", "priority", "deadline")

    def __init__(self, rt: "Runtime", priority: str = "normal",
                 deadline: Optional[Deadline] = None) -> None:
        self._rt = rt
        self._priority = priority_value(priority)
        self._deadline = deadline_ns(deadline)
        self.priority: str = priority
        self.deadline: Optional[Deadline] = deadline

    def submit(self, fn: "Callable[P, T]", /, *args: "P.args", **kwargs: "P.kwargs") -> Future[T]:
        """Run ``fn(*args, **kwargs)`` as a task with these options; see
        :meth:`veda.Runtime.submit`."""
        return self._rt._submit(fn, args, kwargs, self._priority, self._deadline)

    def map(self, fn: Callable[..., T], *iterables: Iterable[Any], timeout: Optional[float] = None,
            chunksize: Optional[int] = None) -> Iterator[T]:
        """:meth:`veda.Runtime.map` with these options for every chunk task."""
        return self._rt._map(fn, iterables, timeout, chunksize, self._priority, self._deadline)

    def __repr__(self) -> str:
        return f"<veda.TaskOptions priority={self.priority!r} deadline={self.deadline!r}>"


class TaskGroup:
    """A group of child tasks that succeed or fail together: ``with rt.group() as g:
    g.spawn(fn, *args, **kwargs)``.

    Leaving the ``with`` block waits for every child. The first exception a child raises
    cancels the rest (children that have not started never start; their futures are
    cancelled) and is raised at the exit of the block with its type and traceback. An exception
    in the block itself also cancels the children that have not started, and propagates.
    Ctrl-C while the block waits does the same and raises KeyboardInterrupt. A running Python
    child is never stopped from outside: long children can poll :attr:`cancelled`.

    Built on ``veda_group_*`` (goveda scopes): children run on the runtime's workers, and a
    worker that waits helps. ``spawn`` may be called from the block and from children, by any
    thread, until the block is left.
    """

    def __init__(self, rt: "Runtime") -> None:
        self._rt = rt
        self._h: Optional[int] = None
        self._lock = threading.Lock()
        self._keys: List[int] = []
        self._exc: Optional[BaseException] = None
        self._closed = False
        self.failed = False  # read by the child trampoline without the lock (a bool store)

    @property
    def cancelled(self) -> bool:
        """True once a child failed, the block raised or Ctrl-C came: no new child starts."""
        return self.failed

    def _child_failed(self, exc: BaseException) -> None:
        """A child raised (called on its worker thread): remember the first, cancel the rest."""
        with self._lock:
            if self._exc is None:
                self._exc = exc
        self._cancel()

    def _cancel(self) -> None:
        self.failed = True
        for key in list(self._keys):
            child = cb.children.get(key)
            if child is not None:
                child.future.cancel()

    def __enter__(self) -> "Self":
        h = self._rt._handle()
        out = c_void_p()
        check(lib.veda_group_create(h, byref(out)))
        self._h = out.value
        return self

    def spawn(self, fn: "Callable[P, T]", /, *args: "P.args", **kwargs: "P.kwargs") -> Future[T]:
        """Start ``fn(*args, **kwargs)`` as a child; return its future. After a failure the
        child is not started and its future is already cancelled. RuntimeError outside the
        block; TypeError if fn is not callable."""
        if not callable(fn):
            raise TypeError(f"fn must be callable, not {type(fn).__name__}")
        with self._lock:
            h = self._h
            if h is None or self._closed:
                raise RuntimeError("veda: TaskGroup.spawn outside its with block")
        fut: Future[T] = Future()
        if self.failed:
            fut.cancel()
            return fut
        key = cb.new_key()
        cb.children[key] = cb.Child(self, fut, fn, args, kwargs)
        with self._lock:
            self._keys.append(key)
        st = lib.veda_group_spawn(h, cb.CHILD_TRAMPOLINE_ADDR, key)
        if st != Status.OK:
            cb.children.pop(key, None)
            check(st)
        return fut

    def __exit__(self, et: Any, ev: Optional[BaseException], tb: Any) -> Optional[bool]:
        if ev is not None:
            self._cancel()
        h = self._h
        assert h is not None
        try:
            with blocking(self._cancel):
                st = lib.veda_group_wait(h)
        finally:
            with self._lock:
                self._closed = True
                keys, self._keys = self._keys, []
            lib.veda_group_destroy(h)
            self._h = None
            for key in keys:  # children the group skipped after a failure
                child = cb.children.pop(key, None)
                if child is not None:
                    child.future.cancel()
        if ev is not None:
            return None
        if self._exc is not None:
            exc, self._exc = self._exc, None
            raise exc
        if st not in (Status.OK, Status.TASK_FAILED):
            check(st)
        return None

    def __repr__(self) -> str:
        state = "cancelled" if self.failed else ("closed" if self._closed else "open")
        return f"<veda.TaskGroup {state}>"


def run_chunk(fn: Callable[..., Any], items: List[Any], stop: List[bool]) -> "ChunkResult":
    """Body of one map chunk task: fn(*args) for each args tuple, stopping at the first
    exception (as ProcessPoolExecutor's chunks do), or before the next item once stop[0] is
    set (the map's iterator was left or interrupted: nobody reads the rest)."""
    out: List[Any] = []
    try:
        for args in items:
            if stop[0]:  # a plain list cell: set once by the iterator, read under the GIL
                break
            out.append(fn(*args))
    except BaseException as e:  # noqa: BLE001 - re-raised by the map iterator, in order
        return ChunkResult(out, e)
    return ChunkResult(out, None)


class ChunkResult:
    __slots__ = ("values", "exc")

    def __init__(self, values: List[Any], exc: Optional[BaseException]) -> None:
        self.values = values
        self.exc = exc


Children = Dict[int, Any]
