"""Typed shapes of the dicts the runtime returns (devices, metrics, dispatch decisions).

They are ``TypedDict``s: plain dicts at run time, checked by mypy. Metrics and decisions come
from the library's JSON; keys the library adds later appear in the dict without being typed here.
"""
from __future__ import annotations

import sys
from typing import List

if sys.version_info >= (3, 11):
    from typing import NotRequired, TypedDict
else:  # pragma: no cover - 3.9/3.10
    from typing_extensions import NotRequired, TypedDict

__all__ = ["DeviceStats", "DeviceInfo", "DeviceMetrics", "Metrics", "Candidate", "Decision"]


class DeviceStats(TypedDict):
    """Dispatch statistics of one device (``DeviceInfo["stats"]``)."""

    dispatched: int
    completed: int
    failed: int
    queue_depth: int
    ema_throughput: float
    peak_throughput: float
    bandwidth: float  # bytes/s host <-> device (0 for the CPU)
    bytes_to_device: int
    bytes_from_device: int
    busy_ns: int


class DeviceInfo(TypedDict):
    """One device of a runtime, from :meth:`veda.Runtime.devices`; device 0 is the CPU."""

    index: int
    kind: str  # "cpu", "opencl" or "cuda"
    name: str
    vendor: str
    platform: str
    driver_version: str
    memory_bytes: int
    compute_units: int
    max_work_group_size: int
    fp64: bool
    stats: DeviceStats


class DeviceMetrics(TypedDict):
    """One device's entry in ``Metrics["devices"]`` (``kind``: 0 CPU, 1 OpenCL, 2 CUDA)."""

    index: int
    kind: int
    name: str
    dispatched: int
    completed: int
    failed: int
    queue_depth: int
    ema_throughput_bytes_per_sec: float
    peak_throughput_bytes_per_sec: float
    bandwidth_bytes_per_sec: float
    bytes_to_device: int
    bytes_from_device: int
    busy_ns: int


class Metrics(TypedDict):
    """The runtime's counters, from :meth:`veda.Runtime.metrics`."""

    workers: int
    active_workers: int
    policy: str
    tasks_executed: int
    tasks_stolen: int
    tasks_panicked: int
    steal_attempts: int
    tasks_submitted: int
    parks: int
    queued_injected: int
    worker_busy_ns: List[int]
    worker_idle_ns: List[int]
    latency_count: int
    latency_p50_ns: int
    latency_p90_ns: int
    latency_p99_ns: int
    telemetry_enabled: bool
    devices: NotRequired[List[DeviceMetrics]]


class Candidate(TypedDict):
    """One device the dispatcher considered for a call (``Decision["candidates"]``)."""

    device: int
    kind: int
    queue_depth: int
    backlog_ns: int
    transfer_ns: int
    compute_ns: int
    finish_ns: int
    has_estimate: bool
    trusted: bool


class Decision(TypedDict):
    """One recorded dispatch decision, from :meth:`veda.Runtime.decisions`."""

    seq: int
    unix_nano: int
    kernel: str  # "sum_f32", "user:<name>", ...
    bytes: int
    elements: int
    transfer_bytes: int
    device: int
    kind: str
    reason: str
    estimate_ns: int
    candidates: List[Candidate]
