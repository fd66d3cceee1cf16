"""Timeline traces and live metrics from Python: rt.trace() writes a valid trace-event file
(checked with json and the same grammar rules as the Go validator), rt.serve_metrics serves the
Prometheus text format over loopback, and every bad input raises."""
import ctypes
import json
import socket
import urllib.request

import numpy as np
import pytest

import veda
from veda import trace as vtrace


def _validate(data):
    """The trace-event rules Perfetto relies on: fields per phase, relative timestamps,
    nested X events per track, paired flows."""
    assert isinstance(data["traceEvents"], list)
    tracks = {}
    flows = {}
    for e in data["traceEvents"]:
        ph = e["ph"]
        assert "pid" in e and "tid" in e, e
        if ph == "M":
            assert "args" in e
            continue
        assert e["name"], e
        assert 0 <= e["ts"] < 1e12, e
        if ph == "X":
            assert e["dur"] >= 0
            tracks.setdefault(e["tid"], []).append((e["ts"], e["ts"] + e["dur"]))
        elif ph in ("s", "f"):
            assert e["cat"] and 0 <= e["id"] < 2**53
            flows.setdefault((e["cat"], e["id"]), []).append(ph)
    for tid, spans in tracks.items():
        spans.sort(key=lambda s: (s[0], -s[1]))
        stack = []
        for a, b in spans:
            while stack and stack[-1] <= a:
                stack.pop()
            assert not stack or b <= stack[-1] + 1e-9, f"track {tid}: [{a}, {b}] overlaps"
            stack.append(b)
    for k, phs in flows.items():
        assert sorted(phs) == ["f", "s"], (k, phs)


@pytest.fixture
def body():
    x = np.zeros(1 << 18)
    buf = (ctypes.c_double * len(x)).from_buffer(x)

    def f(lo, hi):
        x[lo:hi] = np.arange(lo, hi) * 2.0
    return f, x


def test_trace_context_manager(tmp_path, rt, body):
    f, x = body
    path = tmp_path / "t.json"
    with rt.trace(path) as tr:
        assert tr.path == str(path)
        for _ in range(3):
            rt.parallel_for(0, len(x), f, grain=1 << 14)
    assert np.array_equal(x, np.arange(len(x)) * 2.0)
    data = vtrace.load(path)
    _validate(data)
    names = {e["args"]["name"] for e in data["traceEvents"] if e.get("name") == "thread_name"}
    assert {"worker 0", "worker 1"} <= names
    lanes = vtrace.lanes(data)
    assert any(cat == "chunk" for evs in lanes.values() for _, _, cat in evs)


def test_trace_bad_input(tmp_path, rt):
    with pytest.raises(TypeError):
        rt.trace(42)
    with pytest.raises(veda.VedaError) as ei:
        with rt.trace(tmp_path / "no" / "such" / "dir" / "t.json"):
            pass
    assert ei.value.status == veda.Status.INVALID_ARGUMENT
    p = tmp_path / "a.json"
    with rt.trace(p):
        with pytest.raises(veda.VedaError, match="already"):
            rt.trace(tmp_path / "b.json").start()
    with pytest.raises(veda.VedaError, match="no trace"):
        veda._capi.check(veda._capi.lib.veda_trace_stop(rt._handle()))
    bad = tmp_path / "bad.json"
    bad.write_text('{"nope": 1}')
    with pytest.raises(ValueError):
        vtrace.load(bad)


def test_trace_plot(tmp_path, rt, body):
    pytest.importorskip("matplotlib")
    f, x = body
    p = tmp_path / "t.json"
    with rt.trace(p):
        rt.parallel_for(0, len(x), f, grain=1 << 14)
    out = tmp_path / "t.png"
    vtrace.plot(p, out)
    assert out.read_bytes()[:4] == b"\x89PNG"


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_serve_metrics(rt):
    port = _free_port()
    addr = f"127.0.0.1:{port}"
    rt.parallel_for(0, 1000, lambda lo, hi: None)
    rt.serve_metrics(addr)
    try:
        with urllib.request.urlopen(f"http://{addr}/metrics", timeout=5) as r:
            assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = r.read().decode()
        assert "\nveda_workers 2\n" in text
        with pytest.raises(veda.VedaError, match="in use"):
            rt.serve_metrics(addr)
    finally:
        rt.stop_metrics()
    with pytest.raises(veda.VedaError, match="no metrics server"):
        rt.stop_metrics()
    with pytest.raises(TypeError):
        rt.serve_metrics(9464)
    with pytest.raises(veda.VedaError):
        rt.serve_metrics("no-port")


def test_example_trace_of_the_encryption_job(repo):
    """The committed trace of `veda encrypt` (VEDA_TRACE) loads with Python's json and follows
    the grammar Perfetto relies on."""
    path = repo / "bench" / "trace" / "example-encrypt.json"
    with open(path) as f:
        data = json.load(f)
    _validate(data)
    assert any(e.get("cat") == "stage" for e in data["traceEvents"])
