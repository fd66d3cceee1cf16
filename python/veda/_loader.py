"""All loading of libveda.so happens here, and nowhere else.

Search order (the first that loads wins):

1. ``$VEDA_LIBRARY``: an explicit path to a libveda.so (an error if it is set and fails).
2. The copy bundled in the package: ``veda/_lib/libveda.so`` (put there by ``pip install``).
3. The repository's ``build/libveda.so`` (for a source checkout: ``make lib``), found relative
   to this file (``python/veda/../../build``).
4. The system: ``ctypes.util.find_library("veda")``, then ``libveda.so.0`` by soname.

When nothing loads, :class:`LibraryNotFoundError` lists every path tried with the loader's
message for each.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from pathlib import Path
from typing import List, Optional, Tuple

__all__ = ["LibraryNotFoundError", "load_library", "candidate_paths"]

_PKG_DIR = Path(__file__).resolve().parent
_LIB_NAME = "libveda.so"


class LibraryNotFoundError(OSError):
    """libveda.so could not be loaded from any location; ``tried`` lists (path, reason)."""

    def __init__(self, tried: List[Tuple[str, str]]):
        self.tried = tried
        lines = ["veda: could not load libveda.so; tried:"]
        lines += [f"  {path}: {why}" for path, why in tried]
        lines.append(
            "Build it with `make lib` (or `go build -buildmode=c-shared -o build/libveda.so ./capi/libveda`), "
            "reinstall the package with `pip install ./python`, or set VEDA_LIBRARY to its path."
        )
        super().__init__("\n".join(lines))


def candidate_paths() -> List[Tuple[str, str]]:
    """Return the (label, path) pairs in search order, without loading anything."""
    out: List[Tuple[str, str]] = []
    env = os.environ.get("VEDA_LIBRARY")
    if env:
        out.append(("VEDA_LIBRARY", env))
    out.append(("bundled", str(_PKG_DIR / "_lib" / _LIB_NAME)))
    out.append(("repository build/", str(_PKG_DIR.parent.parent / "build" / _LIB_NAME)))
    found = ctypes.util.find_library("veda")
    if found:
        out.append(("system", found))
    out.append(("system", "libveda.so.0"))
    return out


_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None
_lib_path: Optional[str] = None


def load_library() -> ctypes.CDLL:
    """Load libveda.so once per process (thread-safe) and return the ``ctypes.CDLL``.

    ``ctypes.CDLL`` (not ``PyDLL``) is deliberate: every call releases the GIL.
    Raises :class:`LibraryNotFoundError` naming every path tried.
    """
    global _lib, _lib_path
    with _lock:
        if _lib is not None:
            return _lib
        tried: List[Tuple[str, str]] = []
        for label, path in candidate_paths():
            is_file_path = os.sep in path
            if is_file_path and not os.path.exists(path):
                tried.append((f"{path} ({label})", "no such file"))
                if label == "VEDA_LIBRARY":
                    raise LibraryNotFoundError(tried)
                continue
            try:
                lib = ctypes.CDLL(path, mode=ctypes.DEFAULT_MODE)
            except OSError as e:  # the dynamic loader's message (dlerror)
                tried.append((f"{path} ({label})", str(e)))
                if label == "VEDA_LIBRARY":
                    raise LibraryNotFoundError(tried) from None
                continue
            _lib, _lib_path = lib, path
            return lib
        raise LibraryNotFoundError(tried)


def library_path() -> Optional[str]:
    """The path libveda.so was loaded from, or None before :func:`load_library` succeeded."""
    return _lib_path
