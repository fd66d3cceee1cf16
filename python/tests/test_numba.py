import numpy as np
import pytest

numba = pytest.importorskip("numba")

from numba import carray, cfunc, types  # noqa: E402

sig = types.int32(types.voidptr, types.int64, types.int64)


@cfunc(sig, nopython=True)
def square_inplace(ctx, begin, end):
    a = carray(ctx, (end,), dtype=np.float64)
    for i in range(begin, end):
        a[i] = a[i] * a[i]
    return 0


@cfunc(sig, nopython=True)
def fail_at_42(ctx, begin, end):
    if begin <= 42 < end:
        return 3
    return 0


def test_numba_cfunc_address(rt):
    import veda

    x = np.arange(100_000, dtype=np.float64)
    rt.parallel_for(0, x.size, veda.native(square_inplace.address), grain=1000, ctx=x)
    np.testing.assert_array_equal(x, np.arange(100_000, dtype=np.float64) ** 2)
    with pytest.raises(TypeError, match="veda.native"):  # a bare address is refused
        rt.parallel_for(0, x.size, square_inplace.address, ctx=x)


def test_numba_cfunc_object_and_ctypes(rt):
    x = np.full(1000, 3.0)
    rt.parallel_for(0, x.size, square_inplace, ctx=x)
    rt.parallel_for(0, x.size, square_inplace.ctypes, ctx=x)
    assert (x == 81.0).all()


def test_numba_failure(rt):
    import veda

    with pytest.raises(veda.VedaError) as ei:
        rt.parallel_for(0, 100, veda.native(fail_at_42.address), grain=4)
    assert ei.value.status == veda.Status.TASK_FAILED
