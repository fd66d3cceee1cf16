import asyncio
import concurrent.futures
import threading
import time

import pytest

import veda


def test_result(rt):
    f = rt.submit(lambda a, b=1: a + b, 40, b=2)
    assert isinstance(f, concurrent.futures.Future)
    assert f.result(timeout=10) == 42
    assert f.done()


class Boom(ValueError):
    pass


def test_exception_type(rt):
    def bad():
        raise Boom("boom")

    f = rt.submit(bad)
    with pytest.raises(Boom, match="boom"):
        f.result(timeout=10)
    assert isinstance(f.exception(), Boom)
    assert rt.submit(int, "5").result(10) == 5


def test_result_timeout(rt):
    ev = threading.Event()
    f = rt.submit(ev.wait, 10)
    with pytest.raises(concurrent.futures.TimeoutError):
        f.result(timeout=0.05)
    ev.set()
    assert f.result(timeout=10) is True


def test_asyncio(rt):
    async def main():
        futs = [asyncio.wrap_future(rt.submit(pow, 2, i)) for i in range(10)]
        return await asyncio.gather(*futs)

    assert asyncio.run(main()) == [2**i for i in range(10)]


def test_many_and_args_alive(rt):
    futs = [rt.submit(lambda lst: sum(lst), list(range(i))) for i in range(200)]
    assert [f.result(10) for f in futs] == [sum(range(i)) for i in range(200)]


def test_submit_nested_parallel_for(rt):
    def task():
        acc = []
        rt.parallel_for(0, 100, lambda b, e: acc.append(e - b), grain=5)
        return sum(acc)

    assert rt.submit(task).result(30) == 100


def test_close_waits_for_tasks():
    r = veda.Runtime(workers=1)
    f = r.submit(time.sleep, 0.2)
    r.close()
    assert f.done()


def test_submit_bad(rt):
    with pytest.raises(TypeError, match="fn"):
        rt.submit(42)
