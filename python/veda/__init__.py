"""VEDA: a hybrid CPU/GPU parallel runtime, from Python.

>>> import numpy as np, veda
>>> with veda.Runtime(policy="deterministic") as rt:
...     rt.sum(np.ones(1000))
1000.0

The package binds libveda.so through ctypes (see :mod:`veda._loader` for where it is found).
"""
from ._errors import Status, VedaError
from ._loader import LibraryNotFoundError
from ._kernel import In, InOut, Kernel, Out
from ._runtime import Runtime, version
from ._shared import dot, parallel_for, runtime, saxpy, sgemm, submit, sum

__all__ = ["Runtime", "Kernel", "In", "Out", "InOut", "Status", "VedaError",
           "LibraryNotFoundError", "version", "__version__",
           "runtime", "parallel_for", "sum", "dot", "saxpy", "sgemm", "submit"]
__version__ = "0.1.0"
