#!/usr/bin/env bash
# full.sh: the whole GPU check in one call, for a machine with an NVIDIA GPU, Python and no Go.
# On a machine with Go, build the carry folder first:   make gpu-carry   (writes .carry/)
# then on the GPU machine (device tool: carry [".carry"]):   bash tests/gpu/full.sh
# It runs, in order:
#   1. the device-layer suite and the CUDA benchmark table (tests/gpu/run.sh);
#   2. the goveda device integration tests on every accelerator (pinned kernels vs the CPU, user
#      kernels, fallback, DistributeFrames, placement);
#   3. `veda info`, `veda demo` and `veda explain` (dispatch between CPU, OpenCL and CUDA);
#   4. the Python suite against the same libveda.so (CUDA present);
#   5. the per-device kernel benchmark (transfer/compute split);
#   6. the dispatch benchmark on CPU + CUDA (strategies vs the best static split);
#   7. the AES-256-GCM kernels: equality with crypto/cipher, GCM test vectors, seal GB/s;
#   8. the main job (bench/aead): hybrid encryption vs CPU only, Go single-threaded, openssl;
#   9. energy: measured watts and joules of a GPU run (NVML), the sensors and the GPU's NUMA node.
set -uo pipefail
cd "$(dirname "$0")/../.."
C=${CARRY:-.carry}
export VEDA_CACHE_DIR=${VEDA_CACHE_DIR:-$(mktemp -d)}
rc=0
step() { echo; echo "======== $*"; }
step "1. device layer suite + CUDA benchmark"
bash tests/gpu/run.sh "$C/device.test" || rc=1
step "2. goveda device integration tests"
"$C/goveda.test" -test.count=1 -test.v -test.run 'TestDevices|TestPinnedDeviceKernels|TestUserKernel|TestFallback|TestDistribute|TestDispatchPlacement|Example' 2>&1 \
  | grep -v '^=== RUN' || rc=1
step "3. veda info / demo / explain"
"$C/veda" info || rc=1
"$C/veda" demo || rc=1
"$C/veda" explain -n 40 || rc=1
step "4. pytest against $C/libveda.so"
if python3 -c 'import numpy, pytest' 2>/dev/null; then
  VEDA_LIBRARY=$PWD/$C/libveda.so python3 -m pytest -q -p no:cacheprovider python/tests 2>&1 | tail -n 15 || rc=1
else
  echo "numpy/pytest missing: skipped"
fi
step "5. per-device kernel benchmark"
if [ -x "$C/bench-devices" ]; then "$C/bench-devices" || rc=1; else echo "not built"; fi
step "6. dispatch on real devices: CPU + CUDA (OpenCL hidden), strategies vs the best static split"
if [ -x "$C/dispatchbench" ]; then
  VEDA_OPENCL_LIBRARY=/nonexistent "$C/dispatchbench" -sim=false -real-step 0.1 || rc=1
fi
step "7. AES-256-GCM: the device kernels against crypto/cipher and the GCM test vectors on every device; seal kernel GB/s (kernel-GB/s: device time, data resident) and end to end"
"$C/device.test" -test.count=1 -test.v -test.run 'TestAESGCM' 2>&1 | grep -E '^(--- |ok|FAIL|PASS)' | grep -v -- '--- PASS: TestAESGCMMatchesCPU/' || rc=1
"$C/device.test" -test.run XXX -test.bench 'AESGCMSeal' -test.benchtime 20x 2>&1 | grep -E 'Benchmark|ok' || rc=1
step "8. the main job: hybrid encryption end to end vs CPU only on all cores, Go single-threaded, openssl; peak RSS"
if [ -x "$C/bench-aead" ]; then "$C/bench-aead" -veda "$C/veda" -size 1073741824 -rounds 3 -rss-size 4294967296 || rc=1; else echo "not built"; fi
step "9. energy: measured watts and joules of a GPU run (sgemm pinned to each CUDA device, ~3 s)"
VEDA_GPU_ENERGY=1 "$C/goveda.test" -test.count=1 -test.v -test.run 'TestGPUEnergyReport' 2>&1 | grep -v '^=== RUN' || rc=1
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,power.draw,power.limit,temperature.gpu,clocks_throttle_reasons.active --format=csv || true
echo; echo "full.sh: rc=$rc"
exit $rc
