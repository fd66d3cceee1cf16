"""Pipeline and stage names in the metrics, one C pipeline across a Python pipeline's runs, and
hybrid stages (``p.stage(fn, device=...)``) on the CPU and the OpenCL device (PoCL in CI), against
the real library: every element checked, the per-device counts checked against what each body
saw, and every bad input."""
import gc
import threading
import weakref

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

import veda
from veda import Status, VedaError



def entry(rt, name):
    ps = [p for p in rt.metrics().get("pipelines", []) if p["name"] == name]
    assert len(ps) == 1, [p["name"] for p in rt.metrics().get("pipelines", [])]
    return ps[0]


def samples(rt, metric):
    """The Prometheus series of metric as {labels tuple: value}, parsed by prometheus_client."""
    out = {}
    for fam in text_string_to_metric_families(rt.prometheus()):
        for s in fam.samples:
            if s.name == metric:
                out[tuple(sorted(s.labels.items()))] = s.value
    return out


def test_one_pipeline_over_runs_with_its_names(rt):
    p = rt.pipeline(name="enc", max_in_flight=8)
    p.stage(lambda x: x * 2, name="seal").stage(lambda x: x + 1, mode="serial")
    assert p.name == "enc"
    assert list(p.run(range(50))) == [2 * i + 1 for i in range(50)]
    assert list(p.run(range(30))) == [2 * i + 1 for i in range(30)]
    e = entry(rt, "enc")
    assert e["runs"] == 2 and e["items_passed"] == 80
    # The user's stages, then the loop's hand-off.
    assert [s["name"] for s in e["stages"]] == ["seal", "stage-1", "consumer"]
    assert [s["items"] for s in e["stages"]] == [80, 80, 80]
    got = samples(rt, "veda_pipeline_stage_items_total")
    assert got[(("pipeline", "enc"), ("stage", "seal"))] == 80
    assert got[(("pipeline", "enc"), ("stage", "consumer"))] == 80


def test_named_graph(rt):
    g = rt.graph(name="fan")
    a = g.node(lambda x: x + 1, after=g.source, name="inc")
    total = []
    g.sink(total.append, after=a, mode="serial", name="collect")
    g.run(range(10))
    assert total == list(range(1, 11))
    assert entry(rt, "fan")["items_passed"] == 10
    with pytest.raises(TypeError):
        rt.graph(name=7)


def test_adding_a_stage_after_a_run_builds_a_new_pipeline(rt):
    p = rt.pipeline(name="grow").stage(lambda x: x + 1, name="a")
    assert list(p.run(range(5))) == [1, 2, 3, 4, 5]
    p.stage(lambda x: x * 10, name="b")
    assert list(p.run(range(5))) == [10, 20, 30, 40, 50]
    p.close()
    gc.collect()
    assert list(p.run(range(3))) == [10, 20, 30]  # close frees the C pipeline; a run builds a new one


def test_failure_names_the_stage(rt):
    def check(x):
        if x == 7:
            raise ValueError("bad item 7")
        return x

    p = rt.pipeline(name="named-fail").stage(check, name="check")
    out = []
    with pytest.raises(ValueError, match="bad item 7"):
        for x in p.run(range(20)):
            out.append(x)
    assert out == list(range(7))
    assert entry(rt, "named-fail")["stages"][0]["failed"] == 1


def test_bad_names(rt):
    with pytest.raises(TypeError):
        rt.pipeline(name=3)
    with pytest.raises(TypeError):
        rt.pipeline(name="a\0b")
    p = rt.pipeline()
    with pytest.raises(TypeError):
        p.stage(lambda x: x, name=b"bytes")
    p.stage(lambda x: x, name="s")
    with pytest.raises(VedaError) as e:
        p.stage(lambda x: x, name="s")
    assert e.value.status == Status.INVALID_ARGUMENT and "taken by stage 0" in str(e.value)
    p.stage(lambda x: x, name="stage-0")  # free: stage 0 is "s"
    p2 = rt.pipeline().stage(lambda x: x)
    with pytest.raises(VedaError, match="taken by stage 0"):
        p2.stage(lambda x: x, name="stage-0")  # the default name of stage 0
    with pytest.raises(VedaError, match="hand-off"):
        p2.stage(lambda x: x, name="consumer")
    with pytest.raises(TypeError):
        p2.stage(lambda x: x, device=5)


def test_a_pipeline_that_its_stage_refers_to_is_collected(rt):
    """Nothing module-level keeps the user's functions between runs: a pipeline whose stage
    refers to it is collected (and its finalizer frees the C pipeline)."""
    p = rt.pipeline()
    p.stage(lambda x: (p, x)[1])
    assert list(p.run(range(10))) == list(range(10))
    ref = weakref.ref(p)
    free = p._free
    del p
    gc.collect()
    assert ref() is None
    assert free is not None and not free.alive


class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.cpu = 0
        self.dev = 0
        self.devices = set()


def hybrid_pipeline(rt, name, counts, fail_at=None):
    """A hybrid stage that doubles a float32 array (CPU: numpy; device: a saxpy on device arrays),
    then an in-order check of every element."""
    def on_cpu(x):
        with counts.lock:
            counts.cpu += 1
        return x * np.float32(2)

    def on_device(d, x):
        if fail_at is not None and x[0] == fail_at:
            raise RuntimeError(f"device body failed at {fail_at}")
        dx, dy = rt.to_device(x, device=d), rt.to_device(x, device=d)
        rt.saxpy(1.0, dx, dy)  # y = x + y = 2x, on the device
        out = dy.get()
        with counts.lock:
            counts.dev += 1
            counts.devices.add(d)
        return out

    p = rt.pipeline(name=name, max_in_flight=6)
    p.stage(on_cpu, name="double", device=on_device)
    return p


def items(n, size=2048):
    return [np.arange(size, dtype=np.float32) % 7 + i for i in range(n)]


def check(outs, n, size=2048):
    assert len(outs) == n
    for i, y in enumerate(outs):
        assert np.array_equal(y, 2 * (np.arange(size, dtype=np.float32) % 7 + i)), i


def test_hybrid_stage_pinned_to_the_device(rt, ocl):
    c = Counts()
    p = hybrid_pipeline(rt, "hyb-dev", c)
    rt.pin_device(ocl)
    try:
        check(list(p.run(items(24))), 24)
    finally:
        rt.pin_device(None)
    assert (c.cpu, c.dev, c.devices) == (0, 24, {ocl})
    assert entry(rt, "hyb-dev")["stages"][0]["device_items"] == {str(ocl): 24}
    got = samples(rt, "veda_pipeline_stage_device_items_total")
    assert got[(("device", str(ocl)), ("pipeline", "hyb-dev"), ("stage", "double"))] == 24


def test_hybrid_stage_pinned_to_the_cpu(rt, ocl):
    c = Counts()
    p = hybrid_pipeline(rt, "hyb-cpu", c)
    rt.pin_device(0)
    try:
        check(list(p.run(items(24))), 24)
    finally:
        rt.pin_device(None)
    assert (c.cpu, c.dev) == (24, 0)


def test_hybrid_device_failure(rt, ocl):
    """Pinned: the device function's exception is raised at the item's position. Automatic:
    the failed item falls back to the CPU body and the run succeeds."""
    c = Counts()
    p = hybrid_pipeline(rt, "hyb-fail", c, fail_at=9)
    rt.pin_device(ocl)
    out = []
    try:
        with pytest.raises(RuntimeError, match="device body failed at 9"):
            for y in p.run(items(20)):
                out.append(y)
    finally:
        rt.pin_device(None)
    check(out, 9)
    c2 = Counts()
    p2 = hybrid_pipeline(rt, "hyb-fallback", c2, fail_at=3)
    check(list(p2.run(items(20))), 20)
    assert c2.cpu + c2.dev == 20


def test_hybrid_stage_automatic_placement_is_recorded(rt, ocl):
    c = Counts()
    p = hybrid_pipeline(rt, "hyb-auto", c)
    rt.record_decisions(True)
    try:
        check(list(p.run(items(30))), 30)
    finally:
        rt.record_decisions(False)
    assert c.cpu + c.dev == 30
    mine = [d for d in rt.decisions() if d["kernel"] == "pipeline:hyb-auto/double"]
    assert len(mine) == 30 and all(d["reason"] for d in mine)
    counts = entry(rt, "hyb-auto")["stages"][0]["device_items"]
    assert sum(counts.values()) == 30 and counts.get("0", 0) == c.cpu


def test_close_during_a_run_is_refused(rt):
    p = rt.pipeline().stage(lambda x: x)
    it = p.run(range(100))
    assert next(it) == 0
    with pytest.raises(VedaError, match="close during a run"):
        p.close()
    assert list(it) == list(range(1, 100))
    p.close()
    p.close()  # idempotent
    assert list(p.run(range(3))) == [0, 1, 2]
