"""Status codes and the exception type; mirrors VEDA_STATUS_MAP in include/veda.h."""
from __future__ import annotations

import enum
from typing import Optional

__all__ = ["Status", "VedaError"]


class Status(enum.IntEnum):
    """``veda_status`` codes, same names (without ``VEDA_``/``VEDA_ERR_``) and values as veda.h.

    A test parses ``VEDA_STATUS_MAP`` in include/veda.h and checks this list against it.
    """

    OK = 0
    INVALID_ARGUMENT = 1
    OUT_OF_MEMORY = 2
    CLOSED = 3
    TASK_FAILED = 4
    DEVICE = 5
    UNSUPPORTED = 6
    TIMEOUT = 7
    CANCELLED = 8
    INTERNAL = 9


class VedaError(Exception):
    """A call into libveda.so failed.

    ``status`` is the :class:`Status`; the message is the library's ``veda_last_error()`` text
    for the failing call (or a message of the binding itself, e.g. for a closed runtime).
    """

    def __init__(self, status: "Status | int", message: Optional[str] = None):
        try:
            status = Status(status)
        except ValueError:
            status = Status.INTERNAL
        self.status: Status = status
        self.message: str = message or f"veda: {status.name.lower().replace('_', ' ')}"
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"VedaError({self.status.name}, {self.message!r})"
