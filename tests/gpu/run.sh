#!/usr/bin/env bash
# run.sh: VEDA's GPU check, for a machine with an NVIDIA GPU and no Go toolchain.
# Build beforehand (on a machine with Go) and carry the binary:
#   go test -c -o build/device.test ./goveda/internal/device
# Then here:  tests/gpu/run.sh [build/device.test]
# 1. the device test suite (every built-in kernel vs a float64 reference, user kernels, compile
#    errors, pool) on the CUDA device; 2. the CUDA benchmark table (saxpy/sum GB/s vs
#    cuMemcpyDtoD, sgemm GFLOP/s at 4096^3); 3. cuBLAS sgemm at 4096^3 through the Python there
#    (cupy or torch), when either is importable.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-build/device.test}
[ -x "$BIN" ] || { echo "[gpu] missing test binary $BIN (go test -c -o build/device.test ./goveda/internal/device)" >&2; exit 2; }
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
export VEDA_CACHE_DIR=${VEDA_CACHE_DIR:-$(mktemp -d)}
rc=0
echo "[gpu] device test suite"
"$BIN" -test.v -test.count=1 -test.run 'TestDiscover|TestBuiltinKernels|TestMisalignedPointers|TestSgemm|TestUserKernel|TestCompileErrorReturnsLog|TestDevicePool|TestCUDAErrorMapping|TestNoDriver' 2>&1 \
  | grep -v '^=== RUN' || rc=1
echo "[gpu] benchmark"
VEDA_GPU_BENCH=1 "$BIN" -test.v -test.count=1 -test.run 'TestCUDABench' 2>&1 | grep -v '^=== RUN' || rc=1
PY=${PYTHON:-python3}
if command -v "$PY" >/dev/null; then
  "$PY" - <<'PYEOF' || true
import time
N = 4096
def report(name, f, sync):
    f(); sync()
    t = time.perf_counter()
    for _ in range(10): f()
    sync()
    dt = (time.perf_counter() - t) / 10
    print(f"{'cuBLAS sgemm 4096^3 (' + name + ')':<28} {dt*1e3:10.3f}ms {2*N**3/dt/1e9:12.1f} GFLOP/s")
try:
    import cupy as cp
    a = cp.random.rand(N, N, dtype=cp.float32); b = cp.random.rand(N, N, dtype=cp.float32)
    report("cupy", lambda: a @ b, cp.cuda.Stream.null.synchronize)
except Exception as e:
    try:
        import torch
        torch.backends.cuda.matmul.allow_tf32 = False
        a = torch.rand(N, N, device="cuda"); b = torch.rand(N, N, device="cuda")
        report("torch, no TF32", lambda: a @ b, torch.cuda.synchronize)
    except Exception as e2:
        print(f"[gpu] no cuBLAS comparison: cupy: {e}; torch: {e2}")
PYEOF
fi
exit $rc
