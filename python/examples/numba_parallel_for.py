"""parallel_for with a numba @cfunc: native bodies run on all workers, without the GIL.

    pip install numba==0.63.1 numpy==2.3.5   # or numba==0.68.1 numpy==2.4.6
    python3 python/examples/numba_parallel_for.py

The body has veda's C signature int32_t (void *ctx, int64_t begin, int64_t end); ctx carries
the array (veda passes a numpy array's data pointer through untouched and keeps the array alive
for the call). Return 0 for success; anything else stops the loop with VedaError(TASK_FAILED).
"""
import sys
import time
from pathlib import Path

import numpy as np
from numba import carray, cfunc, types

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import veda  # noqa: E402

N = 10_000_000


@cfunc(types.int32(types.voidptr, types.int64, types.int64), nopython=True)
def sqrt_body(ctx, begin, end):
    x = carray(ctx, (N,), dtype=np.float64)
    for i in range(begin, end):
        x[i] = np.sqrt(x[i])
    return 0


def main():
    x = np.arange(N, dtype=np.float64)
    with veda.Runtime() as rt:
        rt.parallel_for(0, 1000, veda.native(sqrt_body.address), ctx=x[:1000].copy())  # warm up
        t0 = time.perf_counter()
        rt.parallel_for(0, N, veda.native(sqrt_body.address), grain=65536, ctx=x)
        dt = time.perf_counter() - t0
        assert np.allclose(x, np.sqrt(np.arange(N, dtype=np.float64)))
        print(f"sqrt of {N} doubles on {rt.num_workers} workers: {dt * 1e3:.1f} ms; "
              f"sum = {rt.sum(x):.6e}")


if __name__ == "__main__":
    main()
