"""Native function pointers: what may be passed where VEDA calls C code directly.

A native body must be explicit: ``veda.native(address)``, a ctypes function pointer or a numba
``@cfunc`` object. A bare ``int`` is refused (TypeError), because an integer taken as a code
address by mistake (``rt.parallel_for(0, 10, 42)``) jumps to address 42 and kills the process;
nothing can check an address, so the caller must say that it is one.
"""
from __future__ import annotations

import ctypes
from typing import Any, Optional

import numpy as np

__all__ = ["NativeFunction", "native", "native_address"]

_ADDR_MAX = 2**64 - 1


def _is_numba_cfunc(fn: Any) -> bool:
    return (type(fn).__module__.startswith("numba")
            and isinstance(getattr(fn, "address", None), int)
            and hasattr(fn, "ctypes"))


class NativeFunction:
    """A C function address the caller vouches for; made by :func:`native`.

    ``address`` is the int address. ``keep`` holds an object that owns the code (a ctypes
    function pointer, a numba cfunc), so the code stays alive as long as this object does.
    VEDA cannot check the signature: passing an address of a function with another signature
    is undefined behaviour, as it is in C.
    """

    __slots__ = ("address", "_keep")

    def __init__(self, address: int, keep: Any = None) -> None:
        self.address: int = address
        self._keep = keep

    def __repr__(self) -> str:
        return f"veda.native(0x{self.address:x})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NativeFunction) and other.address == self.address

    def __hash__(self) -> int:
        return hash(("veda.native", self.address))


def _cfunc_address(fn: Any) -> int:
    """The code address held by a ctypes function pointer object (its buffer is that pointer):
    what ``ctypes.cast(fn, c_void_p).value`` gives, in a sixth of the time (it is on the path of
    every native call)."""
    return ctypes.c_void_p.from_address(ctypes.addressof(fn)).value or 0


def native(fn: Any) -> NativeFunction:
    """Mark ``fn`` as native code for VEDA to call directly: an int address (> 0, < 2**64), a
    ctypes function pointer or a numba ``@cfunc`` object. The body of
    :meth:`veda.Runtime.parallel_for` must have the C signature
    ``int32_t (void *ctx, int64_t begin, int64_t end)``.

    TypeError for anything else (bools, floats, strings, Python callables), ValueError for a
    NULL or out-of-range address. Nothing is called.
    """
    if isinstance(fn, NativeFunction):
        return fn
    if isinstance(fn, ctypes._CFuncPtr):  # type: ignore[attr-defined]
        addr = _cfunc_address(fn)
        if addr == 0:
            raise ValueError("veda.native: the ctypes function pointer is NULL")
        return NativeFunction(addr, fn)
    if _is_numba_cfunc(fn):
        return NativeFunction(int(fn.address), fn)
    if isinstance(fn, (bool, np.bool_)) or not isinstance(fn, (int, np.integer)):
        raise TypeError(f"veda.native takes an int address, a ctypes function pointer or a numba "
                        f"cfunc, not {type(fn).__name__}")
    addr = int(fn)
    if addr == 0:
        raise ValueError("veda.native: address 0 is a NULL function pointer")
    if not 0 < addr <= _ADDR_MAX:
        raise ValueError(f"veda.native: address {addr} is outside [1, 2**64)")
    return NativeFunction(addr)


def native_address(fn: Any, what: str = "fn") -> Optional[int]:
    """The C address of ``fn`` if it is explicit native code (:class:`NativeFunction`, ctypes
    function pointer, numba cfunc); None for a Python callable. TypeError for a bare int (with
    the fix in the message) and for any other non-callable. ValueError for a NULL pointer."""
    if isinstance(fn, NativeFunction):
        return fn.address
    if isinstance(fn, ctypes._CFuncPtr):  # type: ignore[attr-defined]
        addr = _cfunc_address(fn)
        if addr == 0:
            raise ValueError("veda.native: the ctypes function pointer is NULL")
        return addr
    if _is_numba_cfunc(fn):
        return native(fn).address
    if isinstance(fn, (int, np.integer)) and not isinstance(fn, (bool, np.bool_)):
        raise TypeError(f"{what} is a bare int ({int(fn)}): an address must be explicit, "
                        f"pass veda.native({int(fn)}) if it is one")
    if not callable(fn):
        raise TypeError(f"{what} must be a callable, veda.native(address), a ctypes function "
                        f"pointer or a numba cfunc, not {type(fn).__name__}")
    return None
