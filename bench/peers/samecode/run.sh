#!/usr/bin/env bash
# bench/peers/samecode/run.sh: nqueens 13 and the triangular loop, VEDA (veda_parallel_for) against
# OpenMP, with both calling the same machine code (the bodies are built once into a shared
# library), so the difference is the runtimes' alone. Alternates the two programs ROUNDS times
# (default 3); each prints the median of RUNS runs (default 31) and its context switches.
# Env: BENCH_THREADS (2), SAME_ROUNDS (3), SAME_RUNS (31), VEDA_LIB (build/libveda.so).
set -eu
cd "$(dirname "$0")/../../.."
ROOT=$PWD
OUT=${BENCH_BUILD:-$ROOT/build/bench}/samecode
LIB=${VEDA_LIB:-$ROOT/build/libveda.so}
THREADS=${BENCH_THREADS:-2}
mkdir -p "$OUT"
S=bench/peers/samecode
gcc -O3 -fPIC -shared $S/work.c -o "$OUT/libsamework.so" -lm
gcc -O3 -Iinclude $S/veda_same.c -o "$OUT/veda_same" -L"$(dirname "$LIB")" -l:libveda.so -L"$OUT" -lsamework \
    -Wl,-rpath,"$(dirname "$LIB")":"$OUT"
gcc -O3 -fopenmp $S/omp_same.c -o "$OUT/omp_same" -L"$OUT" -lsamework -Wl,-rpath,"$OUT"
echo "[samecode] $THREADS threads; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= ${SAME_ROUNDS:-3}; r++)); do
  "$OUT/veda_same" "$THREADS" "${SAME_RUNS:-31}"
  OMP_NUM_THREADS=$THREADS OMP_PROC_BIND=false "$OUT/omp_same" "$THREADS" "${SAME_RUNS:-31}"
done
