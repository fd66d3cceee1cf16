"""veda.Future: the ``concurrent.futures.Future`` that :meth:`veda.Runtime.submit` returns."""
from __future__ import annotations

import concurrent.futures
from typing import Optional, TypeVar

__all__ = ["Future"]

T = TypeVar("T")


class Future(concurrent.futures.Future[T]):
    """A ``concurrent.futures.Future[T]`` for a task of a VEDA runtime.

    Everything of the standard future works: ``result(timeout)``, ``exception``, ``cancel``
    (succeeds while the task has not started; a cancelled task never runs),
    ``add_done_callback``, ``concurrent.futures.wait``/``as_completed`` and
    ``asyncio.wrap_future``. One addition: a KeyboardInterrupt while ``result()`` or
    ``exception()`` waits cancels the task if it has not started yet (a running Python task
    cannot be stopped from outside; it runs to its end), then propagates.
    """

    def result(self, timeout: Optional[float] = None) -> T:
        try:
            return super().result(timeout)
        except KeyboardInterrupt:
            self.cancel()
            raise

    def exception(self, timeout: Optional[float] = None) -> Optional[BaseException]:
        try:
            return super().exception(timeout)
        except KeyboardInterrupt:
            self.cancel()
            raise
