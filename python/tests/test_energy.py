"""Energy: the energy kwargs (validated before any C call), rt.energy() and its labels."""
import math

import numpy as np
import pytest

import veda


def test_energy_report(rt):
    rt.sum(np.ones(1 << 20))
    e = rt.energy()
    assert isinstance(e["devices"], list) and e["devices"]
    assert e["total_joules"] >= 0 and e["seconds"] > 0
    cpu = e["devices"][0]
    assert cpu["device"] == 0 and cpu["source"] in ("rapl", "estimated") and cpu["basis"]
    if any(d["source"] == "estimated" for d in e["devices"]):
        assert e["estimated"] is True
    names = [s["name"] for s in e["sensors"]]
    assert names == ["rapl", "nvml", "thermal", "hwmon"]
    for s in e["sensors"]:
        assert s["available"] or (s["reason"] and s["fix"]), s
    assert "veda_energy_joules_total" in rt.prometheus()
    assert rt.metrics()["energy"]["devices"]


def test_energy_policy_kwargs():
    with veda.Runtime(workers=2, policy="energy_efficient", max_power_watts=50,
                      max_temp_celsius=85.5, energy_weight=0.01, pin_workers=False) as rt:
        e = rt.energy()
        assert e["max_power_watts"] == 50 and e["max_temp_celsius"] == 85.5
        assert e["energy_weight"] == 0.01 and 1 <= e["worker_cap"] <= 2


@pytest.mark.parametrize("kwargs,exc", [
    (dict(policy="energy_efficient", max_power_watts=-1), ValueError),
    (dict(policy="energy_efficient", max_power_watts=math.nan), ValueError),
    (dict(policy="energy_efficient", max_temp_celsius=-0.5), ValueError),
    (dict(energy_weight=math.nan), ValueError),
    (dict(energy_weight=-1.0), ValueError),
    (dict(energy_weight=math.inf), ValueError),
    (dict(max_power_watts=50), ValueError),  # a budget needs the energy policy
    (dict(policy="energy_efficient", max_power_watts="50"), TypeError),
    (dict(energy_weight=True), TypeError),
    (dict(pin_workers=1), TypeError),
])
def test_energy_bad_kwargs(kwargs, exc):
    with pytest.raises(exc):
        veda.Runtime(workers=2, **kwargs)
