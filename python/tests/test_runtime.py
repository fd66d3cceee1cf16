import numpy as np
import pytest

import veda
from veda import Status, VedaError


def test_context_manager_and_workers():
    with veda.Runtime(workers=2) as rt:
        assert isinstance(rt.num_workers, int) and rt.num_workers == 2
        assert rt.device_count >= 1
    assert rt.closed


def test_default_workers():
    with veda.Runtime() as rt:
        assert rt.num_workers >= 1


@pytest.mark.parametrize("policy", ["adaptive", "fixed", "deterministic", "energy-efficient",
                                    "low-latency", "energy_efficient", "low_latency"])
def test_policies(policy):
    with veda.Runtime(workers=1, policy=policy, seed=7) as rt:
        assert rt.sum(np.ones(1000)) == 1000.0
        assert rt.policy == policy.replace("_", "-")  # the old '_' spelling is an alias
        assert rt.metrics()["policy"] == rt.policy  # Go's Policy.String() spells it the same


@pytest.mark.parametrize("kwargs,exc", [
    (dict(workers=0), ValueError), (dict(workers=-1), ValueError), (dict(workers=2**40), ValueError),
    (dict(workers=1.5), TypeError), (dict(workers="2"), TypeError), (dict(workers=True), TypeError),
    (dict(policy="fast"), ValueError), (dict(policy=1), TypeError), (dict(policy=None), TypeError),
    (dict(seed=-1), ValueError), (dict(seed=2**64), ValueError), (dict(seed=1.0), TypeError),
])
def test_bad_config(kwargs, exc, monkeypatch):
    from veda import _capi

    called = []
    monkeypatch.setattr(_capi.lib, "veda_runtime_create", lambda *a: called.append(a) or 0,
                        raising=False)
    with pytest.raises(exc):
        veda.Runtime(**kwargs)
    assert not called, "a C call was made before argument checking"


def test_close_idempotent_and_closed_errors():
    rt = veda.Runtime(workers=1)
    rt.close()
    rt.close()
    x = np.ones(4, dtype=np.float32)
    calls = [
        lambda: rt.num_workers,
        lambda: rt.device_count,
        lambda: rt.parallel_for(0, 10, lambda b, e: None),
        lambda: rt.parallel_for(0, 0, lambda b, e: None),
        lambda: rt.sum(x),
        lambda: rt.saxpy(1.0, x, x.copy()),
        lambda: rt.sgemm(np.ones((2, 2), np.float32), np.ones((2, 2), np.float32)),
        lambda: rt.submit(print),
        lambda: rt.metrics(),
        lambda: rt.prometheus(),
        lambda: rt.__enter__(),
    ]
    for c in calls:
        with pytest.raises(VedaError) as ei:
            c()
        assert ei.value.status == Status.CLOSED
    assert "closed" in repr(rt)


def test_metrics(rt):
    rt.parallel_for(0, 1000, lambda b, e: None, grain=10)
    m = rt.metrics()
    assert isinstance(m, dict)
    for k in ("tasks_executed", "tasks_stolen", "workers"):
        assert k in m
    assert m["workers"] == 2
    p = rt.prometheus()
    assert isinstance(p, str) and "veda_tasks_executed_total" in p


def test_many_runtimes_and_gc():
    for _ in range(20):
        r = veda.Runtime(workers=1)
        assert r.sum(np.ones(10)) == 10.0
        del r
