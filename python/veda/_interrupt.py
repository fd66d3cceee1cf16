"""Ctrl-C during blocking calls.

Python runs signal handlers only in the main thread, between bytecodes; while the main thread
waits inside libveda.so (the GIL released), a SIGINT only sets a flag, and the
KeyboardInterrupt would come when the call ends. To stop the call instead:

1. The main thread has a ``veda_cancel`` token bound to it (``veda_thread_set_cancel``), so its
   blocking calls run under that token's goveda context (see include/veda.h, "Cancellation").
2. Around each blocking call (:func:`blocking`), the main thread points Python's signal wakeup
   fd (``signal.set_wakeup_fd``) at a pipe. Python's C-level handler writes the signal number
   there at once, whatever the main thread is doing.
3. A daemon watcher thread reads the pipe. For SIGINT it triggers the token and runs the
   block's hooks (Python bodies use one to stop starting chunks). Every byte is forwarded to
   the wakeup fd that was set before (asyncio's), so nothing else loses a wake-up.
4. The call returns VEDA_ERR_CANCELLED after its running chunks finished. At the end of the
   block the main thread runs the pending Python signal handlers (``PyErr_CheckSignals``):
   the default SIGINT handler raises KeyboardInterrupt, which replaces the VedaError. A
   triggered token is replaced by a fresh one, so the runtime is usable at once.

Other threads' calls are not affected (they never receive KeyboardInterrupt in Python). The
cost on the main thread is two ``set_wakeup_fd`` calls and a lock per blocking call (about
2 us); other threads pay one attribute lookup.

Who may call what: :func:`blocking` is for any thread (it is a no-op off the main thread);
the watcher is the only thread that triggers tokens.
"""
from __future__ import annotations

import _signal  # type: ignore[import-not-found, unused-ignore]  # C module, no stub
import ctypes
import os
import signal
import threading
from typing import Any, Callable, List, Optional

from . import _capi
from ._capi import lib

__all__ = ["blocking"]

_main_ident = threading.main_thread().ident
_lock = threading.Lock()  # guards the fields below (watcher vs main thread)
_token: Optional[int] = None  # the veda_cancel bound to the main thread
_active = 0  # depth of blocking() on the main thread
_hooks: List[Callable[[], None]] = []  # run by the watcher on SIGINT while active
_chain_fd = -1  # the wakeup fd that was set before the outermost block
_fired = False  # SIGINT seen during the current outermost block
_r = _w = -1
_watcher: Optional[threading.Thread] = None

_check_signals = ctypes.pythonapi.PyErr_CheckSignals
_check_signals.argtypes = []
_check_signals.restype = ctypes.c_int


def _new_token() -> int:
    out = ctypes.c_void_p()
    _capi.check(lib.veda_cancel_create(ctypes.byref(out)))
    assert out.value is not None
    _capi.check(lib.veda_thread_set_cancel(out.value))
    return out.value


def _watch() -> None:
    global _fired
    while True:
        try:
            data = os.read(_r, 512)
        except InterruptedError:
            continue
        except OSError:
            return
        if not data:
            return
        with _lock:
            chain = _chain_fd
            if _active and signal.SIGINT in data:
                _fired = True
                if _token is not None:
                    lib.veda_cancel_trigger(_token)
                for h in list(_hooks):
                    try:
                        h()
                    except Exception:  # noqa: BLE001 - a hook must not kill the watcher
                        pass
        if chain >= 0:
            try:
                os.write(chain, data)
            except OSError:
                pass


def _start() -> None:
    """Create the pipe, the watcher and the main thread's token (main thread, under _lock)."""
    global _r, _w, _watcher, _token
    if _watcher is None:
        _r, _w = os.pipe()
        os.set_blocking(_w, False)
        _watcher = threading.Thread(target=_watch, name="veda-signal-watcher", daemon=True)
        _watcher.start()
    if _token is None:
        _token = _new_token()


def _sigint_is_handled() -> bool:
    # _signal.getsignal, not signal.getsignal: the latter's enum conversion costs microseconds.
    h = _signal.getsignal(signal.SIGINT)
    return h not in (signal.SIG_DFL, signal.SIG_IGN, None)


class blocking:
    """``with blocking(hook):`` runs a blocking libveda.so call (the body) so that Ctrl-C stops
    it.

    ``hook`` (optional) is called from the watcher thread on SIGINT, to stop Python-side work
    (it must be quick and must not raise). On the main thread, if a SIGINT came, the block ends
    by raising the handler's exception (KeyboardInterrupt) instead of whatever the call raised.
    Off the main thread (or with SIGINT ignored), nothing is added. A class rather than a
    generator-based context manager: it is on the path of every call (about 1 us).
    """

    __slots__ = ("hook", "on", "outer")

    def __init__(self, hook: Optional[Callable[[], None]] = None) -> None:
        self.hook = hook
        self.on = False
        self.outer = False

    def __enter__(self) -> None:
        global _active, _chain_fd
        if threading.get_ident() != _main_ident or not _sigint_is_handled():
            return
        self.on = True
        with _lock:
            _start()
            self.outer = _active == 0
            _active += 1
            if self.hook is not None:
                _hooks.append(self.hook)
        if self.outer:
            try:
                prev = signal.set_wakeup_fd(_w, warn_on_full_buffer=False)
            except (ValueError, OSError):  # e.g. another interpreter owns the wakeup fd
                prev = -1
            with _lock:
                _chain_fd = prev if prev != _w else -1

    def __exit__(self, et: Any, exc: Optional[BaseException], tb: Any) -> None:
        if not self.on:
            return
        self.on = False
        if _finish(self.outer, self.hook):
            _raise_signal()


def _finish(outer: bool, hook: Optional[Callable[[], None]]) -> bool:
    """End a block; True if a SIGINT came during the outermost block (token then replaced)."""
    global _active, _chain_fd, _fired, _token
    with _lock:
        _active -= 1
        if hook is not None:
            _hooks.remove(hook)
        if not outer:
            return False
        fired, _fired = _fired, False
        chain, _chain_fd = _chain_fd, -1
    try:
        signal.set_wakeup_fd(chain, warn_on_full_buffer=False) if chain >= 0 else \
            signal.set_wakeup_fd(-1)
    except (ValueError, OSError):
        pass
    if fired:
        with _lock:
            old, _token = _token, None
        if old is not None:
            lib.veda_cancel_destroy(old)
        with _lock:
            _token = _new_token()
    return fired


def _raise_signal() -> None:
    """Run the pending Python signal handlers now: the exception a handler raises (the default
    SIGINT handler's KeyboardInterrupt) replaces the call's. If none raises (a handler that
    returns), the call's own outcome stands (VedaError(CANCELLED) if it was cut short)."""
    try:
        _check_signals()  # ctypes.pythonapi: raises the handler's exception
    except BaseException as sig_exc:
        raise sig_exc from None
