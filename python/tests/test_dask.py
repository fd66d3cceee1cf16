"""veda.dask on a real distributed.LocalCluster: 2 worker processes, 1 thread each, spawn start
method. Sizing handshake, exact sum vs numpy, per-worker metrics, resources, failures."""
import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")
import dask  # noqa: E402
import dask.array as da  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

import veda.dask as vd  # noqa: E402

PY_DIR = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("explicit,env,nthreads,host,cores,want", [
    (3, {"VEDA_NUM_WORKERS": "5", "OMP_NUM_THREADS": "7"}, 1, 2, 8, (3, "explicit")),
    (None, {"VEDA_NUM_WORKERS": "5", "OMP_NUM_THREADS": "7"}, 1, 2, 8, (5, "VEDA_NUM_WORKERS")),
    (None, {"OMP_NUM_THREADS": "7"}, 1, 2, 8, (7, "OMP_NUM_THREADS")),
    (None, {"OMP_NUM_THREADS": " "}, 2, 4, 8, (4, "dask-share")),
    (None, {}, 1, 2, 2, (1, "dask-share")),
    (None, {}, 1, 3, 2, (1, "dask-share")),  # never 0
    (None, {}, 4, None, 16, (16, "dask-share")),  # alone on the host: all cores
])
def test_handshake_order(explicit, env, nthreads, host, cores, want):
    assert vd.worker_threads(explicit, env=env, nthreads=nthreads, host_threads=host,
                             cores=cores) == want


@pytest.mark.parametrize("explicit,env,exc", [
    (0, {}, ValueError), (1.5, {}, TypeError), (True, {}, TypeError),
    (None, {"VEDA_NUM_WORKERS": "two"}, ValueError), (None, {"OMP_NUM_THREADS": "0"}, ValueError),
])
def test_handshake_bad_input(explicit, env, exc):
    with pytest.raises(exc):
        vd.worker_threads(explicit, env=env)


@pytest.fixture(scope="module")
def client():
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(PY_DIR) + (os.pathsep + old if old else "")
    os.environ.pop("VEDA_NUM_WORKERS", None)
    try:
        with dask.config.set({"distributed.worker.multiprocessing-method": "spawn"}):
            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster, Client(cluster) as c:
                vd.register(c)
                yield c
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def test_worker_runtime_sizes(client):
    info = vd.worker_info(client)
    assert len(info) == 2
    assert len({i["pid"] for i in info.values()}) == 2, "two worker processes"
    cores = next(iter(info.values()))["cores"]
    for i in info.values():
        assert i["nthreads"] == 1
        assert i["source"] in vd.SOURCES
        assert i["expected"] is not None and i["workers"] == i["expected"]
        # Dask's nanny sets OMP_NUM_THREADS=1: the third rule decides, as documented
        assert (i["workers"], i["source"]) == (1, "OMP_NUM_THREADS")
    assert sum(i["workers"] for i in info.values()) <= max(cores, 2), "oversubscribed"


def test_sum_matches_numpy_and_runs_on_both(client):
    before = {a: i["metrics"]["tasks_executed"] for a, i in vd.worker_info(client).items()}
    rng = da.random.default_rng(7)
    x = rng.standard_normal(4_000_000, chunks=125_000) * 1e3 + 5.0
    got = vd.sum(x)
    ref = float(np.sum(x.compute(), dtype=np.float64))
    assert isinstance(got, float)
    assert abs(got - ref) <= 1e-12 * max(abs(ref), 1.0), (got, ref)
    assert vd.sum(x) == got  # deterministic: same data and chunks, same float
    x32 = x.astype(np.float32).rechunk(300_000)
    ref32 = float(np.sum(x32.compute().astype(np.float64)))
    assert abs(vd.sum(x32) - ref32) <= 1e-12 * abs(ref32)
    after = {a: i["metrics"]["tasks_executed"] for a, i in vd.worker_info(client).items()}
    ran = [after[a] - before[a] for a in after]
    assert all(r > 0 for r in ran), f"work did not run on both workers: {ran}"


def test_map_blocks_with_worker_runtime(client):
    x = da.arange(1_000_000, chunks=100_000, dtype=np.float32)
    y = vd.map_blocks(lambda rt, b, a: rt.saxpy(a, b, np.ones_like(b)), x, 2.0)
    np.testing.assert_array_equal(y.compute(), 2.0 * np.arange(1_000_000, dtype=np.float32) + 1)
    s = vd.map_blocks(lambda rt, b: np.array([rt.sum(b)]), x, chunks=(1,), dtype=np.float64)
    assert float(s.sum().compute()) == float(np.arange(1_000_000, dtype=np.float64).sum())


def test_failing_task_raises_on_client(client):
    x = da.ones(1000, chunks=100)

    def bad(rt, b):
        if b[0] == 1:
            raise ArithmeticError("block failed in a worker")
        return b

    with pytest.raises(ArithmeticError, match="block failed"):
        vd.map_blocks(bad, x).compute()
    with pytest.raises(TypeError):
        client.submit(vd._block_sum, np.array([1 + 2j])).result()  # veda refuses complex
    assert vd.sum(x) == 1000.0  # the workers are fine afterwards


def test_resources_reported(client):
    res = client.run(lambda dask_worker: dict(dask_worker.state.total_resources))
    for r in res.values():
        assert "GPU" in r and "VEDA_DEVICES" in r
    # a task that needs a veda device goes to a worker that has one (PoCL counts as a device)
    if all(r["VEDA_DEVICES"] >= 1 for r in res.values()):
        f = client.submit(lambda: os.getpid(), resources={"VEDA_DEVICES": 1}, pure=False)
        assert f.result(timeout=30) > 0


def test_helpers_bad_args():
    with pytest.raises(TypeError):
        vd.sum(np.ones(3))
    with pytest.raises(TypeError):
        vd.sum(da.ones(3, dtype=complex))
    with pytest.raises(TypeError):
        vd.map_blocks(42, da.ones(3))
    with pytest.raises(TypeError):
        vd.map_blocks(lambda rt, b: b, np.ones(3))


def test_dask_share_without_omp(monkeypatch):
    """With OMP_NUM_THREADS out of the nanny's pre-spawn environment (and of ours), rule 4
    decides: each worker gets cores * nthreads // threads on the host, at least 1."""
    monkeypatch.setenv("PYTHONPATH", str(PY_DIR) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("VEDA_NUM_WORKERS", raising=False)
    with dask.config.set({"distributed.worker.multiprocessing-method": "spawn",
                          "distributed.nanny.pre-spawn-environ": {"MALLOC_TRIM_THRESHOLD_": 65536}}):
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as c:
            vd.register(c, resources=False)
            info = vd.worker_info(c)
    cores = next(iter(info.values()))["cores"]
    for i in info.values():
        assert i["source"] == "dask-share", i
        assert i["workers"] == max(1, cores // 2) == i["expected"], i
