"""Timeline traces: record with ``Runtime.trace``, then read, validate and plot them here.

A trace file is Chrome trace-event JSON (``{"traceEvents": [...]}``): open it in
https://ui.perfetto.dev or chrome://tracing, summarize it with ``veda trace summarize FILE``, or
draw it with :func:`plot` (needs matplotlib, which veda does not require).
"""
from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from ._capi import check, lib

if TYPE_CHECKING:  # pragma: no cover
    from ._runtime import Runtime

__all__ = ["Tracing", "load", "lanes", "plot"]

# Colours by event category, as `veda trace plot` draws them.
COLORS = {
    "task": "#3b75af", "chunk": "#519e3e", "stage": "#ef8a62", "wait": "#c8c8c8",
    "park": "#eeeeee", "kernel": "#8d5fd3", "h2d": "#d62728", "d2h": "#e377c2",
}


class Tracing:
    """The context manager ``Runtime.trace(path)`` returns: starts the trace on entry (the file
    is created then), stops it and writes the file on exit."""

    def __init__(self, rt: "Runtime", path: str) -> None:
        if not isinstance(path, str) or not path:
            raise TypeError("path must be a non-empty str or os.PathLike")
        self._rt = rt
        self.path = path
        self._on = False

    def start(self) -> "Tracing":
        check(lib.veda_trace_start(self._rt._handle(), self.path.encode()))
        self._on = True
        return self

    def stop(self) -> None:
        if self._on:
            self._on = False
            check(lib.veda_trace_stop(self._rt._handle()))

    def __enter__(self) -> "Tracing":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def load(path: "str | os.PathLike[str]") -> Dict[str, Any]:
    """Read a trace file; ValueError if it is not trace-event JSON."""
    with open(path, "rb") as f:
        data = json.load(f)
    if not isinstance(data, dict) or not isinstance(data.get("traceEvents"), list):
        raise ValueError(f"{os.fspath(path)}: not a trace-event file (no traceEvents array)")
    return data


def lanes(data: Dict[str, Any]) -> Dict[str, List[Tuple[float, float, str]]]:
    """Group the complete events of a loaded trace by lane name: {lane: [(start_us, dur_us,
    category), ...]}, lanes in track order."""
    names: Dict[int, str] = {}
    by: Dict[int, List[Tuple[float, float, str]]] = {}
    for e in data["traceEvents"]:
        tid = e.get("tid")
        if e.get("ph") == "M" and e.get("name") == "thread_name":
            names[tid] = e.get("args", {}).get("name", str(tid))
        elif e.get("ph") == "X":
            cat = e.get("cat") or e.get("name", "")
            by.setdefault(tid, []).append((float(e["ts"]), float(e["dur"]), cat))
    return {names.get(t, f"track {t}"): sorted(by[t]) for t in sorted(by)}


def plot(path: "str | os.PathLike[str]", out: "Optional[str | os.PathLike[str]]" = None,
         ax: Any = None, title: str = "veda timeline") -> Any:
    """Draw the timeline of the trace file ``path`` with matplotlib: a lane per worker and
    device engine, colour by kind. Saves to ``out`` when given; returns the Axes. ImportError
    with a clear message when matplotlib is not installed."""
    try:
        import matplotlib
        if ax is None and out is not None:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("veda.trace.plot needs matplotlib (pip install matplotlib); "
                          "the command-line tool draws without it: `veda trace plot FILE -o out.png` "
                          "(build/veda, from `make cli` in the VEDA repository)") from e
    ls = lanes(load(path))
    if not ls:
        raise ValueError(f"{os.fspath(path)}: the trace has no complete events to draw")
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 1 + 0.45 * len(ls)))
    seen = set()
    for i, (name, evs) in enumerate(ls.items()):
        bars: Dict[str, List[Tuple[float, float]]] = {}
        for ts, dur, cat in evs:
            bars.setdefault(cat, []).append((ts / 1000.0, max(dur / 1000.0, 1e-6)))
        for cat, b in bars.items():
            seen.add(cat)
            ax.broken_barh(b, (i - 0.4, 0.8), facecolors=COLORS.get(cat, "#7f7f7f"))
    ax.set_yticks(range(len(ls)))
    ax.set_yticklabels(list(ls))
    ax.invert_yaxis()
    ax.set_xlabel("time (ms)")
    ax.set_title(title)
    ax.legend(handles=[Patch(color=COLORS.get(c, "#7f7f7f"), label=c) for c in sorted(seen)],
              loc="upper right", fontsize="small")
    if out is not None:
        (fig or ax.figure).savefig(os.fspath(out), bbox_inches="tight")
    return ax
