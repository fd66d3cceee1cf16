"""VEDA: a hybrid CPU/GPU parallel runtime, from Python.

>>> import numpy as np, veda
>>> with veda.Runtime(policy="deterministic") as rt:
...     rt.sum(np.ones(1000))
1000.0

The package binds libveda.so through ctypes (see :mod:`veda._loader` for where it is found).
"""
from ._errors import Status, VedaError
from ._loader import LibraryNotFoundError
from ._device import DeviceArray
from ._kernel import In, InOut, Kernel, Out
from ._runtime import Runtime, version
from ._shared import dot, parallel_for, runtime, saxpy, sgemm, submit, sum
# issue 15: explicit native code, the Executor's futures, options and groups, typed results
from ._future import Future
from ._native import NativeFunction, native
from ._tasks import TaskGroup, TaskOptions
from ._pipeline import Pipeline  # issue 12
from ._graph import Graph, GraphNode, GraphRunStats  # issue 12: pipeline graphs
from ._types import Candidate, Decision, DeviceInfo, DeviceMetrics, DeviceStats, Metrics

__all__ = ["Runtime", "Kernel", "In", "Out", "InOut", "DeviceArray", "Status", "VedaError",
           "LibraryNotFoundError", "version", "__version__",
           "runtime", "parallel_for", "sum", "dot", "saxpy", "sgemm", "submit",
           "native", "NativeFunction", "Future", "TaskOptions", "TaskGroup",
           "Pipeline", "Graph", "GraphNode", "GraphRunStats", "DeviceInfo", "DeviceStats", "DeviceMetrics", "Metrics", "Decision", "Candidate"]
__version__ = "0.1.0"
