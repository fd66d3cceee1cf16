"""Pipeline graphs from Python: ``rt.graph(...)``, ``g.node(fn, after=...)``, ``g.sink(...)``,
``g.run(iterable)``.

This module only translates to the C ABI (``veda_graph_*`` in include/veda.h, "Pipeline graphs",
whose rules are goveda's: validation, the order at merges, copies per branch, exactly once, the
failure prefix). The C graph is built as the Python one is (each ``node``/``sink``/``edge`` call
is one C call, so its errors come at once), and lives until :meth:`Graph.close` (or garbage
collection). Python objects travel through the C graph as integer keys into the run's item
table: the source stores each item under a fresh key, the copy trampoline stores the same object
(or ``copy(obj)``) under another key for each extra branch, a node replaces the object behind its
key, and a sink or the drop trampoline removes the key. Nothing is left in the table after a run.

GIL: every node is called with the GIL held, on the runtime's worker threads; nodes that release
it (numpy, native kernels, I/O) run in parallel, pure-Python nodes serialise on the GIL.

Who calls what: the trampolines run on worker threads (the source and each serial node on one
thread at a time); every Graph method may be called from any thread.
"""
from __future__ import annotations

import asyncio
import ctypes
import itertools
import threading
from typing import Any, AsyncIterable, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from . import _capi
from . import _callbacks as cb
from ._capi import lib
from ._errors import Status, VedaError
from ._pipeline import MODES, nbytes

__all__ = ["Graph", "GraphNode", "GraphRunStats"]

_POLL = 0.02  # seconds between checks for Ctrl-C while the main thread waits


class GraphNode:
    """A node of a :class:`Graph` (``g.source``, or what ``g.node``/``g.sink`` returned): pass it
    as ``after=`` or to :meth:`Graph.edge`. ``id`` is the C ABI's node id (0: the source)."""

    __slots__ = ("graph", "id", "name", "is_sink")

    def __init__(self, graph: "Graph", id: int, name: str, is_sink: bool):
        self.graph = graph
        self.id = id
        self.name = name
        self.is_sink = is_sink

    def __repr__(self) -> str:
        kind = "source" if self.id == 0 else "sink" if self.is_sink else "node"
        return f"<veda.GraphNode {kind} {self.id} {self.name!r}>"


class _CopyFailed:
    """Stands in the item table for a copy whose ``copy`` function raised; the node that gets
    it fails the item with that exception (the C copy callback cannot fail)."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException):
        self.exc = exc


class _GRun:
    """One run's state, shared by the trampolines (worker threads) and the caller."""

    def __init__(self, next_item: Callable[[], Any]):
        self.next_item = next_item
        self.items: Dict[int, Any] = {}  # key -> the copy's current object
        self.new_key: Callable[[], int] = itertools.count(1).__next__  # atomic under the GIL
        self.lock = threading.Lock()  # guards exc*, and the counters
        self.exc: Optional[BaseException] = None  # the failure with the smallest seq
        self.exc_seq = -1
        self.exc_where = ""
        self.read = self.copies = self.passed = self.dropped = 0
        self.stopping = False  # Ctrl-C: the source ends, nodes fail their copies at once
        self.done = threading.Event()  # veda_graph_run returned
        self.status = Status.OK
        self.message = ""

    def fail(self, seq: int, where: str, exc: BaseException) -> None:
        with self.lock:
            if self.exc is None or seq < self.exc_seq:
                self.exc, self.exc_seq, self.exc_where = exc, seq, where


class _GState:
    """What the trampolines find through a graph's ctx key: the copy function and the run."""

    __slots__ = ("copy", "run", "key")

    def __init__(self, copy: Optional[Callable[[Any], Any]], key: int):
        self.copy = copy
        self.run: Optional[_GRun] = None
        self.key = key


_MISSING = object()
_graphs: Dict[int, _GState] = {}  # source, copy and drop ctx -> the graph's state
_nodes: Dict[int, Tuple[_GState, Callable[[Any], Any], bool, str]] = {}  # node ctx -> (state, fn, sink, name)
_keys = itertools.count(1)


_enter = cb.enter_callback
_leave = cb.leave_callback


def _source(ctx: Optional[int], seq: int, item: Any, size: Any) -> int:
    _enter()
    try:
        st = _graphs.get(ctx)  # type: ignore[arg-type]
        run = st.run if st is not None else None
        if run is None or run.stopping:
            return 0
        try:
            obj = run.next_item()
        except StopIteration:
            return 0
        except BaseException as e:  # noqa: BLE001 - must never escape into ctypes
            run.fail(seq, "the source", e)
            return -1
        key = run.new_key()
        run.items[key] = obj
        with run.lock:
            run.read += 1
        item[0] = key
        size[0] = nbytes(obj)
        return 1
    finally:
        _leave()


def _copy(ctx: Optional[int], seq: int, item: Optional[int]) -> int:
    _enter()
    try:
        st = _graphs.get(ctx)  # type: ignore[arg-type]
        run = st.run if st is not None else None
        if st is None or run is None or item is None:
            return 0  # cannot happen while the graph runs; 0 is a key no object has
        obj = run.items.get(item)
        if st.copy is not None and not isinstance(obj, _CopyFailed):
            try:
                obj = st.copy(obj)
            except BaseException as e:  # noqa: BLE001
                obj = _CopyFailed(e)
        key = run.new_key()
        run.items[key] = obj  # the same object, unless a copy function is set
        with run.lock:
            run.copies += 1
        return key
    finally:
        _leave()


def _node(ctx: Optional[int], seq: int, item: Optional[int], out: Any, size: Any) -> int:
    _enter()
    try:
        entry = _nodes.get(ctx)  # type: ignore[arg-type]
        if entry is None or item is None:
            return -1
        st, fn, sink, name = entry
        run = st.run
        if run is None:
            return -1
        if run.stopping:
            return 2  # Ctrl-C: the copy fails at once (it is dropped), no Python runs
        obj = run.items.get(item, _MISSING)
        if obj is _MISSING:
            return -1  # cannot happen: every copy the C graph carries has its key in the table
        if isinstance(obj, _CopyFailed):
            run.fail(seq, f"the copy for node {name!r}", obj.exc)
            return 1
        try:
            new = fn(obj)
        except BaseException as e:  # noqa: BLE001
            run.fail(seq, f"node {name!r}", e)
            return 1
        if sink:
            run.items.pop(item, None)  # the copy is finished (the sink's result is ignored)
            with run.lock:
                run.passed += 1
            return 0
        run.items[item] = new
        size[0] = nbytes(new)
        return 0  # *out stays the key: the object behind it changed
    finally:
        _leave()


def _drop(ctx: Optional[int], seq: int, item: Optional[int]) -> None:
    st = _graphs.get(ctx)  # type: ignore[arg-type]
    run = st.run if st is not None else None
    if run is not None and item is not None:
        run.items.pop(item, None)
        with run.lock:
            run.dropped += 1


_source_fn = _capi.veda_source_fn(_source)
_copy_fn = _capi.veda_copy_fn(_copy)
_node_fn = _capi.veda_stage_fn(_node)
_drop_fn = _capi.veda_drop_fn(_drop)
_SOURCE = ctypes.cast(_source_fn, ctypes.c_void_p).value
_COPY = ctypes.cast(_copy_fn, ctypes.c_void_p).value
_NODE = ctypes.cast(_node_fn, ctypes.c_void_p).value
_DROP = ctypes.cast(_drop_fn, ctypes.c_void_p).value

After = Union[None, GraphNode, Sequence[GraphNode]]


class GraphRunStats:
    """Counts of one run (:attr:`Graph.last_run`): ``read`` items from the iterable, ``copies``
    made for extra branches, ``passed`` copies that passed a sink, ``dropped`` copies that did
    not (failure, cancellation). Exactly once: ``passed + dropped == read + copies``."""

    __slots__ = ("read", "copies", "passed", "dropped")

    def __init__(self, read: int, copies: int, passed: int, dropped: int):
        self.read, self.copies, self.passed, self.dropped = read, copies, passed, dropped

    def __repr__(self) -> str:
        return (f"GraphRunStats(read={self.read}, copies={self.copies}, passed={self.passed}, "
                f"dropped={self.dropped})")


class Graph:
    """A pipeline graph on a runtime (see :meth:`veda.Runtime.graph`): nodes are functions
    ``fn(item) -> item``; an item fans out to every successor of a node and branches merge into
    one node again; every branch ends at a sink.

    >>> g = rt.graph()
    >>> a1 = g.node(lambda x: (2 * x, x), after=g.source, name="a1")
    >>> a2 = g.node(lambda t: t[0] - t[1], after=a1, name="a2")
    >>> b = g.node(lambda x: -x, after=g.source, name="b")
    >>> total = [0]
    >>> s = g.sink(lambda x: total.__setitem__(0, total[0] + x), after=[a2, b], mode="serial")
    >>> g.run(range(100))   # blocks; total[0] == 0

    Modes as for :meth:`veda.Pipeline.stage`: ``"parallel"``, ``"serial"`` (one at a time, in
    order: at a merge the copies come ordered by (item, path), item 0 by every path first, the
    paths numbered in the order the node's in-edges were added: the order of ``after``, then of
    later ``edge`` calls), ``"serial_unordered"``.

    Fan-out: **every branch gets the same object** (nothing is copied) unless ``copy`` was given
    to :meth:`veda.Runtime.graph`, which is then called once per extra branch (``copy.copy``,
    ``copy.deepcopy``, ``bytes``...). With shared objects, a node that mutates its item in place
    is seen by the other branches: return a new object instead. A node's return value goes on to
    its successors; a sink's return value is ignored.

    Validation: :meth:`validate` (and :meth:`run`, before it reads anything) raises
    ``VedaError(INVALID_ARGUMENT)`` naming the problem: a cycle, a node that is not reachable
    from the source, a branch that ends without a sink, a source without an edge. ``node``,
    ``sink`` and ``edge`` raise at once for a duplicate name, an unknown mode, an edge into the
    source, out of a sink, added twice, or a change while the graph runs.

    Failure: when a node raises for item s (or the iterable raises at s), every copy of the
    items before s still passes its sinks, the copies of the later items are dropped, and
    :meth:`run` raises that exception with its own type and traceback (a note, on Python 3.11+,
    names the node and s). Bounds, priorities and cancellation as for pipelines; Ctrl-C (main
    thread) stops a running graph within 100 ms and raises KeyboardInterrupt. A graph runs once
    at a time; a node must not run its own graph.
    """

    def __init__(self, rt: Any, max_in_flight: Optional[int] = None, max_bytes: Optional[int] = None,
                 priority: str = "normal", copy: Optional[Callable[[Any], Any]] = None,
                 name: Optional[str] = None):
        if priority not in _capi.PRIORITIES:
            raise ValueError(f"priority must be one of {sorted(_capi.PRIORITIES)}, not {priority!r}")
        for what, v in (("max_in_flight", max_in_flight), ("max_bytes", max_bytes)):
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
                raise ValueError(f"{what} must be a positive int or None, not {v!r}")
        if name is not None and (not isinstance(name, str) or "\0" in name):
            raise TypeError(f"name must be a str without NUL characters or None, not {name!r}")
        if copy is not None and not callable(copy):
            raise TypeError(f"copy must be callable or None, not {type(copy).__name__}")
        self._rt = rt
        self._lock = threading.Lock()  # guards _h, _cleanup and the state's run
        self._node_keys: List[int] = []
        self._cleanup: Optional[threading.Thread] = None  # frees a run interrupted by Ctrl-C
        self.last_run: Optional[GraphRunStats] = None
        key = next(_keys)
        self._state = _GState(copy, key)
        opts = _capi.veda_pipeline_options()
        lib.veda_pipeline_options_init(ctypes.byref(opts))
        opts.priority = _capi.PRIORITIES[priority]
        opts.max_in_flight = max_in_flight or 0
        opts.max_bytes_in_flight = max_bytes or 0
        opts.drop = _DROP
        opts.drop_ctx = key
        h = ctypes.c_void_p()
        _capi.check(lib.veda_graph_create_named(rt._handle(), name.encode() if name else None, ctypes.byref(opts),
                                                _COPY, key, ctypes.byref(h)))
        self._h: Optional[int] = h.value
        _graphs[key] = self._state
        self.source = GraphNode(self, _capi.GRAPH_SOURCE, "source", False)
        self._count = 0  # nodes added (ids are 1, 2, ... in that order)

    # -- building --------------------------------------------------------------------------

    def _handle(self) -> int:
        h = self._h
        if h is None:
            raise VedaError(Status.INVALID_ARGUMENT, "veda: invalid argument: the graph is closed")
        return h

    def _add(self, fn: Callable[[Any], Any], after: After, mode: str, name: Optional[str],
             priority: Optional[str], sink: bool) -> GraphNode:
        if not callable(fn):
            raise TypeError(f"a node must be callable, not {type(fn).__name__}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {sorted(MODES)}, not {mode!r}")
        if priority is not None and priority not in _capi.PRIORITIES:
            raise ValueError(f"priority must be one of {sorted(_capi.PRIORITIES)} or None, not {priority!r}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a str or None, not {type(name).__name__}")
        preds = self._nodes_of(after)
        h = self._handle()
        if name is None:
            name = f"{'sink' if sink else 'node'}-{self._count + 1}"
        key = next(_keys)
        _nodes[key] = (self._state, fn, sink, name)
        out = ctypes.c_int32()
        add = lib.veda_graph_add_sink if sink else lib.veda_graph_add_node
        try:
            _capi.check(add(h, name.encode("utf-8"), MODES[mode], _NODE, key, ctypes.byref(out)))
        except BaseException:
            _nodes.pop(key, None)
            raise
        self._node_keys.append(key)
        self._count += 1
        node = GraphNode(self, out.value, name, sink)
        if priority is not None:
            _capi.check(lib.veda_graph_set_node_priority(h, node.id, _capi.PRIORITIES[priority]))
        for p in preds:
            self.edge(p, node)
        return node

    def _nodes_of(self, after: After) -> List[GraphNode]:
        if after is None:
            return []
        nodes = [after] if isinstance(after, GraphNode) else list(after)
        for n in nodes:
            if not isinstance(n, GraphNode):
                raise TypeError(f"after must be a GraphNode or a list of them, not {type(n).__name__}")
            if n.graph is not self:
                raise ValueError(f"{n!r} belongs to another graph")
        return nodes

    def node(self, fn: Callable[[Any], Any], after: After = None, mode: str = "parallel",
             name: Optional[str] = None, priority: Optional[str] = None) -> GraphNode:
        """Add a node ``fn(item) -> item`` and connect each node of ``after`` (a node or a list;
        in that order) to it. ``name`` (default ``"node-<id>"``) labels it in errors and
        metrics; ``priority`` (default: the graph's) is a task priority name. Raises ValueError
        or TypeError for a bad mode, priority or argument, VedaError(INVALID_ARGUMENT) for what
        the library refuses (a duplicate name, a run in progress; an edge of ``after`` that is
        refused leaves the node added but not connected by it)."""
        return self._add(fn, after, mode, name, priority, False)

    def sink(self, fn: Callable[[Any], Any], after: After = None, mode: str = "parallel",
             name: Optional[str] = None, priority: Optional[str] = None) -> GraphNode:
        """Add a sink: as :meth:`node`, but branches end here (no edge may leave it) and the
        return value of ``fn`` is ignored. Default name ``"sink-<id>"``."""
        return self._add(fn, after, mode, name, priority, True)

    def edge(self, src: GraphNode, dst: GraphNode) -> None:
        """Connect ``src`` to ``dst``: items that passed ``src`` go on to ``dst`` (each extra
        successor of a node gets its own copy: the same object unless ``copy`` was given).
        Raises VedaError(INVALID_ARGUMENT) for an edge into the source, out of a sink, added
        twice, or during a run."""
        for n in (src, dst):
            if not isinstance(n, GraphNode):
                raise TypeError(f"edge takes GraphNodes, not {type(n).__name__}")
            if n.graph is not self:
                raise ValueError(f"{n!r} belongs to another graph")
        _capi.check(lib.veda_graph_add_edge(self._handle(), src.id, dst.id))

    def validate(self) -> None:
        """Check the graph (see the class doc); raises VedaError(INVALID_ARGUMENT) naming the
        problem, runs nothing."""
        _capi.check(lib.veda_graph_validate(self._handle()))

    # -- running ---------------------------------------------------------------------------

    def _begin(self, next_item: Callable[[], Any]) -> Tuple[_GRun, int]:
        cleanup = self._cleanup
        if cleanup is not None and not cb.in_callback():
            cleanup.join()  # a run interrupted by Ctrl-C is still draining: wait for it
        with self._lock:
            h = self._handle()
            if self._state.run is not None:
                raise VedaError(Status.INVALID_ARGUMENT,
                                "veda: invalid argument: the graph is already running (one run at a time; "
                                "a node must not run its own graph)")
            run = _GRun(next_item)
            self._state.run = run
            return run, h

    def _end(self, run: _GRun) -> None:
        with self._lock:
            if self._state.run is run:
                self._state.run = None
            self._cleanup = None
        with run.lock:
            self.last_run = GraphRunStats(run.read, run.copies, run.passed, run.dropped)
        run.items.clear()  # empty after every complete run; cleared for interrupted ones

    def _call(self, run: _GRun, h: int) -> None:
        """veda_graph_run on this thread; records its outcome in run."""
        st = lib.veda_graph_run(h, _SOURCE, self._state.key)
        run.status, run.message = Status(st), (_capi.last_error() if st != Status.OK else "")
        run.done.set()

    @staticmethod
    def _outcome(run: _GRun) -> None:
        """Raise what the finished run ended with, if anything."""
        if run.status == Status.OK:
            return
        exc = run.exc
        if exc is not None and run.status == Status.TASK_FAILED:
            run.exc = None
            note = f"veda: graph: {run.exc_where} failed at item {run.exc_seq}"
            if hasattr(exc, "add_note"):
                exc.add_note(note)
            raise exc
        raise VedaError(run.status, run.message or _capi.status_string(run.status))

    def run(self, iterable: Iterable[Any]) -> None:
        """Run the graph on ``iterable``; blocks until every copy of every item passed its sinks
        (then returns None; :attr:`last_run` has the counts) or the run failed (raises, see the
        class doc) or was cancelled (:meth:`cancel`: VedaError(CANCELLED)). The iterable is read
        on worker threads, one item at a time, as the bounds allow. Bad input (a graph that does
        not validate, a run in progress, a closed graph or runtime) raises VedaError before
        anything runs.

        Called from the main thread, the run happens on a helper thread and the main thread
        waits so that Ctrl-C stops it within 100 ms (KeyboardInterrupt; the nodes still running
        finish in the background and the graph can be run again). From any other thread
        (a node of another graph or pipeline included) it runs on the calling thread, which
        helps the runtime's workers while it waits, so graphs nest without deadlock.
        """
        it = iter(iterable)
        run, h = self._begin(it.__next__)
        if threading.current_thread() is not threading.main_thread() or cb.in_callback():
            try:
                self._call(run, h)
            finally:
                self._end(run)
            self._outcome(run)
            return
        th = threading.Thread(target=self._call, args=(run, h), name="veda-graph-run", daemon=True)
        th.start()
        try:
            while not run.done.wait(_POLL):
                pass
        except BaseException:  # KeyboardInterrupt (or another signal handler's exception)
            self._interrupt(run, h, th)
            raise
        th.join()
        self._end(run)
        self._outcome(run)

    def _interrupt(self, run: _GRun, h: int, th: threading.Thread) -> None:
        """Ctrl-C: stop the run and free it in the background when it ended."""
        lib.veda_graph_cancel(h)  # first: a copy failed by stopping must not be the run's error
        run.stopping = True

        def cleanup() -> None:
            th.join()
            self._end(run)

        c = threading.Thread(target=cleanup, name="veda-graph-cleanup", daemon=True)
        with self._lock:
            self._cleanup = c
        c.start()
        th.join(0.05)

    async def run_async(self, source: Union[AsyncIterable[Any], Iterable[Any]]) -> None:
        """``await g.run_async(source)``: as :meth:`run`, without blocking the event loop, for an
        async iterable (its ``__anext__`` runs on the loop) or a plain one. Cancelling the
        awaiting task cancels the run (the task gets CancelledError once the run ended)."""
        loop = asyncio.get_running_loop()
        next_item = cb.source_reader(source, loop)
        run, h = self._begin(next_item)
        done: "asyncio.Future[None]" = loop.create_future()

        def settle() -> None:
            if not done.done():
                done.set_result(None)

        def body() -> None:
            self._call(run, h)
            loop.call_soon_threadsafe(settle)

        th = threading.Thread(target=body, name="veda-graph-run", daemon=True)
        th.start()
        try:
            await asyncio.shield(done)
        except BaseException:
            lib.veda_graph_cancel(h)
            run.stopping = True
            await loop.run_in_executor(None, th.join)
            self._end(run)
            raise
        await loop.run_in_executor(None, th.join)
        self._end(run)
        self._outcome(run)

    def cancel(self) -> None:
        """Cancel the run in progress (any thread, a node included; returns at once): the
        iterable is not read again, every alive copy is dropped, and :meth:`run` raises
        VedaError(CANCELLED). A no-op when the graph is not running."""
        h = self._h
        if h is not None:
            _capi.check(lib.veda_graph_cancel(h))

    @property
    def running(self) -> bool:
        """True while a run is in progress (a snapshot)."""
        return self._state.run is not None

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Free the C graph (the graph cannot be used afterwards). Raises
        VedaError(INVALID_ARGUMENT) while it runs. Idempotent; also done by garbage collection."""
        cleanup = self._cleanup
        if cleanup is not None and not cb.in_callback():
            cleanup.join()
        with self._lock:
            h = self._h
            if h is None:
                return
            if self._state.run is not None:
                raise VedaError(Status.INVALID_ARGUMENT,
                                "veda: invalid argument: the graph is running (close it after run returned)")
            _capi.check(lib.veda_graph_destroy(h))
            self._h = None
        for k in self._node_keys:
            _nodes.pop(k, None)
        _graphs.pop(self._state.key, None)

    def __enter__(self) -> "Graph":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if getattr(self, "_h", None) is not None and self._state.run is None:
                self.close()
        except Exception:  # noqa: BLE001 - never raise from a finalizer
            pass
