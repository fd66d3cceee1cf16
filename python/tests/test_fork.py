import multiprocessing as mp

import numpy as np
import pytest

import veda


def _child(rt, q):
    out = []
    for name, call in [
        ("sum", lambda: rt.sum(np.ones(10))),
        ("parallel_for", lambda: rt.parallel_for(0, 10, lambda b, e: None)),
        ("num_workers", lambda: rt.num_workers),
        ("runtime", lambda: veda.Runtime(workers=1)),
    ]:
        try:
            call()
            out.append((name, "no error"))
        except veda.VedaError as e:
            out.append((name, e.status.name))
        except Exception as e:  # pragma: no cover
            out.append((name, repr(e)))
    rt.close()  # does not raise in the child
    q.put(out)


@pytest.mark.slow
def test_fork_gives_unsupported():
    rt = veda.Runtime(workers=2)
    try:
        rt.parallel_for(0, 100, lambda b, e: None)  # the workers are running
        ctx = mp.get_context("fork")
        q = ctx.Queue()
        p = ctx.Process(target=_child, args=(rt, q))
        p.start()
        p.join(30)
        if p.is_alive():
            p.kill()
            pytest.fail("child hung after fork")
        res = q.get(timeout=5)
        assert res == [(n, "UNSUPPORTED") for n in ("sum", "parallel_for", "num_workers", "runtime")]
        assert rt.sum(np.ones(5)) == 5.0  # the parent is unaffected
    finally:
        rt.close()
