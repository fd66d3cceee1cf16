"""Trampolines that let C call Python, and the per-thread state that keeps that cheap.

One ctypes trampoline per C callback type is created once, at import; a call's Python state is
found through the ``ctx`` pointer, which carries an integer key into a registry (never a pointer
to a Python object, so a stale key is just a missed lookup).

Thread states. VEDA runs callbacks on its own (Go) worker threads, which Python did not create.
For such a thread, a ctypes callback calls ``PyGILState_Ensure``, finds no thread state, creates
one, runs, and ``PyGILState_Release`` deletes it again: about 18 us per callback on 3.11. The
first time a trampoline runs on a thread, :func:`_pin_thread` calls ``PyGILState_Ensure`` once
more and never releases it, so the thread state survives the callback and later callbacks on
that thread only take the GIL (about 1 us). The cost is one small thread state per worker thread
for the life of the process; a worker thread never exits while its runtime lives. Set
``VEDA_PY_PIN_THREADS=0`` to turn pinning off (for measurements).

``threading.local`` is keyed by thread state, so a fresh (unpinned) thread state sees a fresh
local: "not yet pinned" is detected with no extra bookkeeping.
"""
from __future__ import annotations

import asyncio
import ctypes
import itertools
import os
import threading
from typing import Any, Callable, Dict, Optional, Protocol

from . import _capi
from ._errors import Status, VedaError
from ._future import Future

_tls = threading.local()
_PIN = os.environ.get("VEDA_PY_PIN_THREADS", "1") != "0"

_gil_ensure = ctypes.pythonapi.PyGILState_Ensure
_gil_ensure.argtypes = []
_gil_ensure.restype = ctypes.c_int

# itertools.count.__next__ is atomic under the GIL; keys start at 1 so ctx is never NULL.
_keys = itertools.count(1)
new_key: Callable[[], int] = _keys.__next__


def _pin_thread() -> None:
    """Keep this thread's thread state alive past the current callback (see module doc)."""
    _tls.pinned = True
    if _PIN:
        _gil_ensure()  # never released: holds the thread state, not the GIL


def in_callback() -> bool:
    """True while the calling thread runs a Python callback for VEDA."""
    return getattr(_tls, "depth", 0) > 0


def enter_callback() -> None:
    """Start a Python callback on this thread (a pipeline's or a graph's trampoline): pin its
    thread state on first use and count the depth that :func:`in_callback` reports."""
    if not hasattr(_tls, "pinned"):
        _pin_thread()
    _tls.depth = getattr(_tls, "depth", 0) + 1


def leave_callback() -> None:
    """End a callback started with :func:`enter_callback`."""
    _tls.depth -= 1


# ---------------------------------------------------------------------------------------------
# parallel_for with a Python callable


class RangeCall:
    """State of one parallel_for call with a Python body; lives in ``range_calls`` during it."""

    __slots__ = ("fn", "exc", "stop")

    def __init__(self, fn: Callable[[int, int], Any]):
        self.fn = fn
        self.exc: Optional[BaseException] = None
        self.stop = False  # set by the Ctrl-C watcher (any thread): start no more chunks

    def interrupt(self) -> None:
        self.stop = True


range_calls: Dict[int, RangeCall] = {}


def _range_trampoline(ctx: Optional[int], begin: int, end: int) -> int:
    if not hasattr(_tls, "pinned"):
        _pin_thread()
    call = range_calls.get(ctx)  # type: ignore[arg-type]
    if call is None:
        return -1
    if call.exc is not None or call.stop:
        return 1  # another chunk failed, or Ctrl-C: do no more work
    _tls.depth = getattr(_tls, "depth", 0) + 1
    try:
        call.fn(begin, end)
        return 0
    except BaseException as e:  # noqa: BLE001 - must never escape into ctypes
        if call.exc is None:
            call.exc = e
        return 1
    finally:
        _tls.depth -= 1


range_trampoline = _capi.veda_range_fn(_range_trampoline)
RANGE_TRAMPOLINE_ADDR: int = ctypes.cast(range_trampoline, ctypes.c_void_p).value  # type: ignore


# ---------------------------------------------------------------------------------------------
# submit


class Task:
    """State of one submitted task; lives in ``tasks`` until its completion callback ran."""

    __slots__ = ("future", "fn", "args", "kwargs", "settled")

    def __init__(self, future: "Future[Any]", fn: Callable[..., Any], args: "tuple[Any, ...]",
                 kwargs: Dict[str, Any]):
        self.future = future
        self.fn: Optional[Callable[..., Any]] = fn
        self.args = args
        self.kwargs = kwargs
        self.settled = False  # the future got its outcome (or was cancelled)


tasks: Dict[int, Task] = {}


def _task_trampoline(ctx: Optional[int]) -> int:
    if not hasattr(_tls, "pinned"):
        _pin_thread()
    task = tasks.get(ctx)  # type: ignore[arg-type]
    if task is None:
        return -1
    fut = task.future
    fn, args, kwargs = task.fn, task.args, task.kwargs
    task.fn, task.args, task.kwargs = None, (), {}  # drop references as soon as possible
    if fn is None or not fut.set_running_or_notify_cancel():  # cancelled before it started
        task.settled = True  # cancelled before it started
        return 0
    _tls.depth = getattr(_tls, "depth", 0) + 1
    try:
        value = fn(*args, **kwargs)
    except BaseException as e:  # noqa: BLE001
        task.settled = True
        fut.set_exception(e)
        return 1
    finally:
        _tls.depth -= 1
    task.settled = True
    fut.set_result(value)
    return 0


def _done_callback(user: Optional[int], status: int) -> None:
    if not hasattr(_tls, "pinned"):
        _pin_thread()
    task = tasks.pop(user, None)  # type: ignore[arg-type]
    if task is None or task.settled:
        return
    # The task never ran (deadline passed, runtime shut down): complete the future anyway.
    fut = task.future
    task.fn, task.args, task.kwargs = None, (), {}
    if fut.set_running_or_notify_cancel():
        st = status if status != Status.OK else Status.INTERNAL
        fut.set_exception(VedaError(st, f"veda: task did not run: {_capi.status_string(st)}"))


task_trampoline = _capi.veda_task_fn(_task_trampoline)
TASK_TRAMPOLINE_ADDR: int = ctypes.cast(task_trampoline, ctypes.c_void_p).value  # type: ignore
done_callback = _capi.veda_callback_fn(_done_callback)
DONE_CALLBACK_ADDR: int = ctypes.cast(done_callback, ctypes.c_void_p).value  # type: ignore


# ---------------------------------------------------------------------------------------------
# task groups (veda_group_spawn)


class GroupState(Protocol):
    """What a child needs of its group (veda._tasks.TaskGroup)."""

    failed: bool

    def _child_failed(self, exc: BaseException) -> None: ...


class Child:
    """State of one child of a task group; lives in ``children`` until it ran or was skipped."""

    __slots__ = ("group", "future", "fn", "args", "kwargs")

    def __init__(self, group: GroupState, future: "Future[Any]", fn: Callable[..., Any],
                 args: "tuple[Any, ...]", kwargs: Dict[str, Any]):
        self.group = group
        self.future = future
        self.fn = fn
        self.args = args
        self.kwargs = kwargs


children: Dict[int, Child] = {}


def _child_trampoline(ctx: Optional[int]) -> int:
    if not hasattr(_tls, "pinned"):
        _pin_thread()
    child = children.pop(ctx, None)  # type: ignore[arg-type]
    if child is None:
        return -1
    fut = child.future
    if child.group.failed:
        fut.cancel()  # a sibling failed (or Ctrl-C): do not start
        return 0
    if not fut.set_running_or_notify_cancel():
        return 0
    _tls.depth = getattr(_tls, "depth", 0) + 1
    try:
        value = child.fn(*child.args, **child.kwargs)
    except BaseException as e:  # noqa: BLE001
        fut.set_exception(e)
        child.group._child_failed(e)
        return 1
    finally:
        _tls.depth -= 1
    fut.set_result(value)
    return 0


child_trampoline = _capi.veda_task_fn(_child_trampoline)
CHILD_TRAMPOLINE_ADDR: int = ctypes.cast(child_trampoline, ctypes.c_void_p).value  # type: ignore


def source_reader(source: Any, loop: "asyncio.AbstractEventLoop") -> Callable[[], Any]:
    """The next-item function of a pipeline's or a graph's ``run_async`` source, called on worker
    threads: an async iterable's ``__anext__`` runs on ``loop`` (and its end is StopIteration),
    a plain iterable is read directly."""
    if hasattr(source, "__aiter__"):
        ait = source.__aiter__()

        async def anext_item() -> Any:
            return await ait.__anext__()

        def next_item() -> Any:
            fut = asyncio.run_coroutine_threadsafe(anext_item(), loop)
            try:
                return fut.result()
            except StopAsyncIteration:
                raise StopIteration from None

        return next_item
    plain: Callable[[], Any] = iter(source).__next__
    return plain
