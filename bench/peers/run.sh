#!/usr/bin/env bash
# bench/peers/run.sh: VEDA against OpenMP, oneTBB and Rayon on the same workloads (issue 11), one
# table. Each peer is its own process (veda through C, veda from Go, OpenMP, oneTBB, Rayon,
# veda through ctypes); a round runs each once (one warm-up + one timed run of every workload);
# ROUNDS rounds (default 5). table.py prints medians and paired ratios (same-round ratios, robust
# to a machine whose load changes between rounds).
# Env: BENCH_THREADS (2), PEER_ROUNDS (5), PEER_REPS (1: timed runs of each workload per process,
# after its warm-up; table.py keeps their median per round), VEDA_LIB (build/libveda.so).
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${BENCH_BUILD:-$ROOT/build/bench}/peers
THREADS=${BENCH_THREADS:-2}
ROUNDS=${PEER_ROUNDS:-5}
REPS=${PEER_REPS:-1}
LIB=${VEDA_LIB:-$ROOT/build/libveda.so}
mkdir -p "$OUT"
declare -a peers

if gcc -O3 -Wall -Iinclude bench/peers/veda_peer.c -o "$OUT/veda_peer" -L"$(dirname "$LIB")" -l:libveda.so \
       -Wl,-rpath,"$(dirname "$LIB")" -lm; then peers+=("$OUT/veda_peer $THREADS $REPS")
else echo "[peers] veda_peer did not build (needs $LIB)"; fi
if go build -o "$OUT/gopeer" ./bench/peers/gopeer; then peers+=("$OUT/gopeer -threads $THREADS -reps $REPS")
  # The same program built with profile-guided optimization (go.dev/doc/pgo), from a profile of
  # its own run: Go's counterpart of the peers' -O3 (it inlines the hot paths of the leaves and of
  # goveda). The table shows both builds.
  if "$OUT/gopeer" -threads "$THREADS" -reps 3 -cpuprofile "$OUT/gopeer.pgo" >/dev/null &&
     go build -pgo="$OUT/gopeer.pgo" -o "$OUT/gopeer_pgo" ./bench/peers/gopeer; then
    peers+=("$OUT/gopeer_pgo -threads $THREADS -reps $REPS")
  else echo "[peers] gopeer with PGO did not build"; fi
else echo "[peers] gopeer did not build"; fi
if gcc -O3 -fopenmp bench/peers/omp_peer.c -o "$OUT/omp_peer" -lm; then peers+=("env OMP_PROC_BIND=false $OUT/omp_peer $THREADS $REPS")
else echo "[peers] OpenMP peer did not build (needs gcc with libgomp)"; fi
if g++ -O3 -std=c++17 bench/peers/tbb_peer.cpp -o "$OUT/tbb_peer" -ltbb; then peers+=("$OUT/tbb_peer $THREADS $REPS")
else echo "[peers] oneTBB peer did not build (needs libtbb-dev)"; fi
if command -v cargo >/dev/null && (cd bench/rayon && cargo build --release -q 2>&1 | tail -5) &&
   [ -x bench/rayon/target/release/veda-rayon-peer ]; then peers+=("bench/rayon/target/release/veda-rayon-peer $THREADS $REPS")
else echo "[peers] Rayon peer did not build (needs cargo; rayon comes from crates.io)"; fi
if gcc -O2 -shared -fPIC bench/peers/noop.c -o "$OUT/libnoop.so" && python3 -c 'import numpy' 2>/dev/null; then
  peers+=("env VEDA_LIBRARY=$LIB python3 bench/peers/ctypes_latency.py $OUT/libnoop.so $THREADS $REPS")
else echo "[peers] ctypes latency row skipped (needs python3 with numpy)"; fi

res="$OUT/results.txt"
: >"$res"
echo "[peers] $ROUNDS rounds x ${#peers[@]} processes, $THREADS threads each, $REPS timed runs per workload; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= ROUNDS; r++)); do
  echo "ROUND $r" >>"$res"
  for p in "${peers[@]}"; do
    $p >>"$res" 2>"$OUT/stderr.txt" || { echo "[peers] failed: $p"; cat "$OUT/stderr.txt"; }
  done
  echo "[peers] round $r done (load $(cut -d' ' -f1 /proc/loadavg))"
done
python3 bench/peers/table.py "$res" "$THREADS"
