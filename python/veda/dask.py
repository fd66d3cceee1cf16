"""Scale-out on Dask: each Dask worker process drives its own shared veda runtime.

>>> from distributed import Client, LocalCluster
>>> import dask.array as da, veda.dask
>>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1))   # doctest: +SKIP
>>> veda.dask.register(client)                                          # doctest: +SKIP
>>> veda.dask.sum(da.random.random(10**7, chunks=10**6))                # doctest: +SKIP

**Sizing.** A worker process's veda runtime is the process-wide shared one
(:func:`veda.runtime`), and its worker count is fixed when it starts, from ``VEDA_NUM_WORKERS``
in the process environment (libveda.so reads its environment once, when it is loaded). So the
size is decided by :class:`VedaNannyPlugin` in each nanny, before the worker process is
spawned, by this handshake, first match wins (:func:`worker_threads`):

1. an explicit ``workers=`` argument;
2. ``VEDA_NUM_WORKERS`` in the worker's environment;
3. ``OMP_NUM_THREADS`` in the worker's environment (Dask's nanny sets it to 1 by default through
   ``distributed.nanny.pre-spawn-environ``; Ray sets it per task to the task's CPUs);
4. the worker's share of the host's cores: ``cores * nthreads // (threads of all workers on the
   host)``, at least 1 (cores: the CPUs this process may run on).

The nanny plugin restarts the workers once so that they start with that environment.
:class:`VedaWorkerPlugin`, in each worker process, then takes a reference on the shared
runtime, checks its size, and reports the worker's accelerators as Dask resources ``GPU``
(CUDA devices and OpenCL GPUs) and ``VEDA_DEVICES`` (every non-CPU device, PoCL included), so
that ``client.submit(fn, resources={"GPU": 1})`` lands on a worker that has one.
:func:`register` registers both.

**Helpers.** :func:`map_blocks` runs a function on every block with the worker's runtime;
:func:`sum` is the exact compensated sum of a dask array: each block is summed by veda
(compensated, float64, bit-identical for the same block), and the block sums are combined with
``math.fsum`` (exactly rounded), so the result depends only on the data and the chunking, never
on which worker ran which block or in what order.
"""
from __future__ import annotations

import math
import os
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, TypedDict

import numpy as np

import dask.array as da
from dask.delayed import delayed
from distributed import NannyPlugin, WorkerPlugin, get_worker

from . import _shared
from ._runtime import Runtime, _int_arg
from ._types import Metrics

__all__ = ["worker_threads", "VedaNannyPlugin", "VedaWorkerPlugin", "register", "map_blocks",
           "sum", "worker_info", "WorkerInfo"]

#: Where a worker's size came from (worker_threads' second result).
SOURCES = ("explicit", "VEDA_NUM_WORKERS", "OMP_NUM_THREADS", "dask-share")


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _positive_env(env: Mapping[str, str], name: str) -> Optional[int]:
    v = env.get(name)
    if v is None or str(v).strip() == "":
        return None
    try:
        n = int(str(v).strip())
    except ValueError:
        raise ValueError(f"veda.dask: {name}={v!r} is not a positive integer") from None
    if n < 1:
        raise ValueError(f"veda.dask: {name}={v!r} is not a positive integer")
    return n


def worker_threads(explicit: Optional[int] = None, *, env: Optional[Mapping[str, str]] = None,
                   nthreads: int = 1, host_threads: Optional[int] = None,
                   cores: Optional[int] = None) -> Tuple[int, str]:
    """The thread-count handshake: return ``(n, source)`` for one worker process.

    ``explicit`` > ``VEDA_NUM_WORKERS`` > ``OMP_NUM_THREADS`` (both read from ``env``, default
    ``os.environ``) > the Dask share ``cores * nthreads // host_threads`` (``host_threads``: the
    threads of all Dask workers on this host, default ``nthreads``; ``cores``: default the CPUs
    this process may use), never below 1. ``source`` names the rule that decided (one of
    :data:`SOURCES`). TypeError/ValueError for a bad explicit value or a bad variable.
    """
    if explicit is not None:
        return _int_arg("workers", explicit, 1, 2**31 - 1), "explicit"
    env = os.environ if env is None else env
    for name in ("VEDA_NUM_WORKERS", "OMP_NUM_THREADS"):
        n = _positive_env(env, name)
        if n is not None:
            return n, name
    nt = _int_arg("nthreads", nthreads, 1)
    ht = nt if host_threads is None else _int_arg("host_threads", host_threads, 1)
    c = _cores() if cores is None else _int_arg("cores", cores, 1)
    return max(1, c * nt // max(ht, nt)), "dask-share"


class VedaNannyPlugin(NannyPlugin):
    """Sizes each worker process's shared veda runtime before the process starts: sets
    ``VEDA_NUM_WORKERS`` (and ``VEDA_DASK_SIZING``, the rule that decided) in the nanny's
    environment for its worker, by :func:`worker_threads`, and restarts the worker once.
    ``workers``: an explicit size for every worker (None: the handshake decides)."""

    name = "veda-nanny"
    restart = True
    idempotent = False

    def __init__(self, workers: Optional[int] = None) -> None:
        if workers is not None:
            _int_arg("workers", workers, 1, 2**31 - 1)
        self.workers = workers

    async def setup(self, nanny: Any) -> None:
        env: Dict[str, str] = {**os.environ, **{k: str(v) for k, v in nanny.pre_spawn_env.items()},
                               **{k: str(v) for k, v in nanny.env.items()}}
        host_threads: Optional[int] = None
        try:  # the threads of all workers on this host, from the scheduler
            ident = await nanny.scheduler.identity()
            host = nanny.ip
            mine = [w for w in ident.get("workers", {}).values() if w.get("host") == host]
            if mine:
                host_threads = max(nanny.nthreads, int(np.sum([w["nthreads"] for w in mine])))
        except Exception:  # noqa: BLE001 - the share then assumes this worker is alone
            host_threads = None
        n, source = worker_threads(self.workers, env=env, nthreads=nanny.nthreads,
                                   host_threads=host_threads)
        for d in (nanny.env, nanny.pre_spawn_env):  # pre_spawn_env: set when the process starts
            d["VEDA_NUM_WORKERS"] = str(n)
            d["VEDA_DASK_SIZING"] = source


def _gpu_counts(rt: Runtime) -> Tuple[int, int]:
    """(GPUs, non-CPU devices) of rt. An OpenCL device counts as a GPU unless it computes on
    the host's cores (PoCL's "pthread"/"cpu" devices)."""
    gpus = accel = 0
    for d in rt.devices():
        if d["kind"] == "cpu":
            continue
        accel += 1
        name = d["name"].lower()
        on_host = d["kind"] == "opencl" and (name.startswith(("pthread", "cpu")) or
                                             "portable computing language" in d["platform"].lower())
        if not on_host:
            gpus += 1
    return gpus, accel


class VedaWorkerPlugin(WorkerPlugin):
    """In each worker process: take a reference on the shared runtime (released at teardown),
    record its size and the sizing rule, and publish the devices as Dask resources ``GPU`` and
    ``VEDA_DEVICES``. If the runtime's size differs from ``VEDA_NUM_WORKERS`` (the library was
    loaded before the variable was set: register :class:`VedaNannyPlugin` first, or start the
    workers with the variable), :func:`worker_info` shows it (``expected`` vs ``workers``)."""

    name = "veda"

    def __init__(self, report_resources: bool = True) -> None:
        self.report_resources = report_resources
        self.rt: Optional[Runtime] = None

    async def setup(self, worker: Any) -> None:
        self.rt = _shared._rt()  # the module-level reference: veda.sum etc. use the same one
        if self.report_resources:
            gpus, accel = _gpu_counts(self.rt)
            await worker.set_resources(GPU=float(gpus), VEDA_DEVICES=float(accel))

    def teardown(self, worker: Any) -> None:
        self.rt = None  # the module reference lives until the process exits


def register(client: Any, workers: Optional[int] = None, *, resources: bool = True) -> None:
    """Register :class:`VedaNannyPlugin` (restarting the workers so they start sized) and
    :class:`VedaWorkerPlugin` on ``client``'s cluster. Workers that join later get both.
    Blocks until the workers are back."""
    client.register_plugin(VedaNannyPlugin(workers))
    client.wait_for_workers(len(client.scheduler_info()["workers"]) or 1)
    client.register_plugin(VedaWorkerPlugin(resources))


class WorkerInfo(TypedDict):
    """What :func:`worker_info` reports for one worker process."""

    pid: int
    workers: int  # the shared runtime's worker count
    expected: Optional[int]  # VEDA_NUM_WORKERS of the process, if set
    source: Optional[str]  # VEDA_DASK_SIZING: the handshake rule, if the nanny plugin ran
    nthreads: int  # the Dask worker's threads
    cores: int
    metrics: Metrics


def _info(dask_worker: Any = None) -> WorkerInfo:
    rt = _shared._rt()
    w = dask_worker if dask_worker is not None else get_worker()  # client.run passes dask_worker
    exp = os.environ.get("VEDA_NUM_WORKERS")
    return {"pid": os.getpid(), "workers": rt.num_workers,
            "expected": int(exp) if exp and exp.strip().isdigit() else None,
            "source": os.environ.get("VEDA_DASK_SIZING"), "nthreads": int(w.state.nthreads),
            "cores": _cores(), "metrics": rt.metrics()}


def worker_info(client: Any) -> Dict[str, WorkerInfo]:
    """Each worker's veda runtime: size, sizing rule, Dask threads and the runtime's metrics
    (``metrics["tasks_executed"]`` shows the work it ran), by worker address."""
    out: Dict[str, WorkerInfo] = client.run(_info)
    return out


def _block_apply(block: Any, fn: Callable[..., Any], args: Tuple[Any, ...],
                 kwargs: Dict[str, Any]) -> Any:
    return fn(_shared._rt(), block, *args, **kwargs)


def map_blocks(fn: Callable[..., Any], x: Any, *args: Any, dtype: Any = None,
               chunks: Any = None, drop_axis: Any = None, new_axis: Any = None,
               **kwargs: Any) -> Any:
    """``dask.array.map_blocks`` with the worker's veda runtime: each block ``b`` becomes
    ``fn(rt, b, *args, **kwargs)``, where ``rt`` is the shared runtime of the worker process
    that runs the block (so ``fn`` can call ``rt.saxpy``, ``rt.parallel_for``, a user kernel,
    ...). ``dtype``, ``chunks``, ``drop_axis`` and ``new_axis`` are map_blocks'. Lazy: returns
    a dask array. TypeError if fn is not callable or x is not a dask array."""
    if not callable(fn):
        raise TypeError(f"fn must be callable, not {type(fn).__name__}")
    if not isinstance(x, da.Array):
        raise TypeError(f"x must be a dask.array.Array, not {type(x).__name__}")
    extra: Dict[str, Any] = {}
    for k, v in (("chunks", chunks), ("drop_axis", drop_axis), ("new_axis", new_axis)):
        if v is not None:
            extra[k] = v
    return da.map_blocks(  # type: ignore[no-untyped-call]
        _block_apply, x, fn=fn, args=args, kwargs=kwargs,
        dtype=x.dtype if dtype is None else dtype, **extra)


def _block_sum(block: Any) -> float:
    b = np.asarray(block)
    if b.dtype.kind not in "fiub":
        raise TypeError(f"veda.dask.sum needs a real dtype, not {b.dtype}")
    if b.dtype not in (np.float32, np.float64):
        b = b.astype(np.float64)
    return _shared._rt().sum(b)


def sum(x: Any, *, compute: bool = True) -> Any:  # noqa: A001 - mirrors veda.sum
    """The exact compensated sum of a dask array, as a Python float.

    Every block is summed on its worker by veda's compensated float64 sum (float32 and float64
    blocks are read in place; other real dtypes are converted to float64 first); the block sums
    are combined in block order with ``math.fsum``, which rounds their exact sum once. The
    result is deterministic: the same data and chunking give the same float, whichever workers
    ran the blocks. ``compute=False`` returns the dask.delayed value instead. TypeError for
    non-dask or complex input."""
    if not isinstance(x, da.Array):
        raise TypeError(f"x must be a dask.array.Array, not {type(x).__name__}")
    if x.dtype.kind not in "fiub":
        raise TypeError(f"veda.dask.sum needs a real dtype, not {x.dtype}")
    blocks = x.to_delayed().ravel()  # type: ignore[no-untyped-call]
    parts = [delayed(_block_sum, pure=True)(b) for b in blocks]
    total = delayed(math.fsum, pure=True)(parts)
    return total.compute() if compute else total
