#!/usr/bin/env bash
# bench/run.sh: VEDA's benchmarks against peers measured in the same run (called by `make bench`).
#   1. bench/c   C kernels: sgemm vs naive and OpenBLAS; sum/saxpy vs plain loop, OpenMP, oneTBB;
#                each also through libveda.so when it is built (else that column is skipped).
#   2. bench/go  Go scheduler: Reduce vs plain loop and goroutines, fib Join vs goroutines,
#                irregular loop vs static split.
#   2b. bench/peers  VEDA (through C, from Go, through ctypes) vs OpenMP, oneTBB and Rayon on the
#                same workloads, one process per peer, medians of 5 rounds, paired ratios.
#   3. devicebench    every built-in kernel on every device (pinned), 64 KiB..64 MiB, time split
#                into transfer and compute (device event times).
#   4. dispatchbench  strategies vs the best static split on a mixed workload: simulated devices
#                (1:4, virtual clock), then the real devices through the runtime (wall clock).
#   5. bench/aead the main job (Tink AES-GCM-HKDF streaming, 1 MiB segments): CPU only, each
#                device, automatic vs Go's single-threaded streaming seal and openssl's one core;
#                peak RSS of `veda encrypt` on a piped stream against budget + 2 segments.
#   3 and 4 live in goveda/internal/dispatch/cmd/ (they import the internal device and dispatch
#   packages, which only code under goveda/ may do).
#   5. bench/pipeline  the pipeline against oneTBB parallel_pipeline through the C ABI (W = 0, 5,
#                50 us), 4 GiB through 64 MiB items under a 256 MiB budget (peak RSS), and a hybrid
#                CPU/device stage against CPU-only.
# Env: BENCH_THREADS (default 2), BENCH_QUICK=0 for the full sizes (default quick), VEDA_LIB.
# Prints medians and ratios; finishes in a few minutes on 2 cores.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${BENCH_BUILD:-$ROOT/build/bench}
THREADS=${BENCH_THREADS:-2}
QUICK=${BENCH_QUICK:-1}
LIB=${VEDA_LIB:-$ROOT/build/libveda.so}
mkdir -p "$OUT"
status=0

if [ ! -f "$LIB" ]; then
    echo "[bench] $LIB missing: building it (go build -buildmode=c-shared ./capi/libveda)"
    go build -buildmode=c-shared -o "$LIB" ./capi/libveda || echo "[bench] libveda build failed: its columns will be skipped"
fi

# OpenBLAS 0.3.21 runs its SSE3 "Prescott" kernels on CPU models newer than itself; libveda sets
# OPENBLAS_CORETYPE from cpuid before it loads OpenBLAS, and the peer here must get the same core.
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
    if grep -qw avx512bw /proc/cpuinfo 2>/dev/null; then export OPENBLAS_CORETYPE=SkylakeX
    elif grep -qw avx2 /proc/cpuinfo 2>/dev/null; then export OPENBLAS_CORETYPE=Haswell; fi
fi
echo "== bench/c: CPU kernels vs peers (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-auto})"
if g++ -O3 -std=c++17 -c bench/c/tbb_peer.cpp -o "$OUT/tbb_peer.o" &&
   gcc -O3 -fopenmp -Wno-psabi -fvisibility=hidden -c bench/c/bench_kernels.c -o "$OUT/bench_kernels.o" &&
   g++ -fopenmp -o "$OUT/bench_kernels" "$OUT/bench_kernels.o" "$OUT/tbb_peer.o" -lopenblas -ltbb -ldl -lm; then
    q=quick; [ "$QUICK" = 0 ] && q=full
    OMP_PROC_BIND=false "$OUT/bench_kernels" "$LIB" "$THREADS" "$q" || status=1
else
    echo "[bench] could not build bench/c (needs gcc, g++, libopenblas-dev, libtbb-dev)"; status=1
fi

echo "== bench/go: scheduler vs plain Go"
go run ./bench/go -workers "$THREADS" -quick="$([ "$QUICK" = 0 ] && echo false || echo true)" || status=1

echo "== bench/peers: VEDA vs OpenMP, oneTBB and Rayon (fib, nqueens, sum of sqrt, triangular, one-chunk latency, sort)"
bash bench/peers/run.sh || status=1
echo "== bench/peers/samecode: nqueens and the triangular loop, VEDA vs OpenMP calling the same machine code"
bash bench/peers/samecode/run.sh || status=1

echo "== bench/trace: what timeline tracing costs (off vs on, alternated)"
go run ./bench/trace -workers "$THREADS" || status=1

echo "== devicebench: built-in kernels on every device, transfer vs compute"
go run ./goveda/internal/dispatch/cmd/devicebench -workers "$THREADS" -quick="$([ "$QUICK" = 0 ] && echo false || echo true)" || status=1

echo "== placement: automatic vs the faster pinned device, 4 KiB..32 MiB, calibrated and first call of a new process"
go run ./bench/placement -quick="$([ "$QUICK" = 0 ] && echo false || echo true)" || status=1

echo "== dispatchbench: strategies vs best static split (simulated, then real devices)"
go run ./goveda/internal/dispatch/cmd/dispatchbench -quick="$([ "$QUICK" = 0 ] && echo false || echo true)" || status=1
echo "== bench/python: Executor.map vs ThreadPoolExecutor.map, numpy bodies vs serial, Ctrl-C wrapper cost"
VEDA_LIBRARY="$LIB" python3 bench/python/bench_executor.py --workers "$THREADS" $([ "$QUICK" = 0 ] || echo --quick) || status=1
echo "== bench/aead: the main job (veda encrypt/decrypt) vs Go single-threaded and openssl; peak RSS"
go run ./bench/aead -veda "$ROOT/build/veda" -workers "$THREADS" -quick="$([ "$QUICK" = 0 ] && echo false || echo true)" || status=1
echo "== bench/pipeline: pipelines vs oneTBB parallel_pipeline (C ABI), bounded-memory streaming, hybrid stage"
if g++ -O2 -std=c++17 bench/pipeline/pipeline_bench.cpp -Iinclude -L"$(dirname "$LIB")" -lveda -ltbb -lpthread \
       -Wl,-rpath,"$(dirname "$LIB")" -o "$OUT/pipeline_bench"; then
    "$OUT/pipeline_bench" tbb "$THREADS" 100000 5 || status=1
    "$OUT/pipeline_bench" mem 4096 64 256 || status=1
else
    echo "[bench] could not build bench/pipeline (needs g++ and libtbb-dev)"; status=1
fi
go run ./bench/pipeline/hybrid -workers "$THREADS" -items "$([ "$QUICK" = 0 ] && echo 256 || echo 64)" -item-kib 1024 || status=1
exit $status
