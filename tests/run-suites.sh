#!/usr/bin/env bash
# run-suites.sh: run every test suite of VEDA, then print one closing line "N passed, N failed"
# summed over all suites. Exits non-zero if any suite failed or if any suite ran no test.
# Called by `make test` after the library, the CLI and the CMake tree are built.
set -uo pipefail
cd "$(dirname "$0")/.."
LOG=build/test-logs
mkdir -p "$LOG"
GO_RACE=${GO_RACE:--race}
total_pass=0; total_fail=0; bad_suite=0
declare -a summary

# The suites start from an empty cost model: a calibration saved on this machine by earlier runs
# (VEDA_CACHE_DIR/calibration) would change placements between runs. The Go calibration tests
# turn it on themselves, in their own temporary cache directories.
export VEDA_CALIBRATION=${VEDA_CALIBRATION:-off}

record() { # suite pass fail rc
  local suite=$1 p=$2 f=$3 rc=$4
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi     # a build error or crash counts as a failure
  summary+=("$(printf '%-22s %5d passed, %d failed' "$suite" "$p" "$f")")
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
    summary+=("  !! suite $suite ran no test"); bad_suite=1
  fi
}
count() { grep -cE "$1" "$2" || true; }

echo "== go vet"
go vet ./... >"$LOG/vet.log" 2>&1; rc=$?
cat "$LOG/vet.log"
record "go vet" $((rc == 0 ? 1 : 0)) $((rc == 0 ? 0 : 1)) $rc

echo "== go test $GO_RACE (all packages but the device layer; the goveda device tests run on PoCL)"
pkgs=$(go list ./... | grep -v '/goveda/internal/device$')
VEDA_REQUIRE_OPENCL=1 go test $GO_RACE -count=1 -timeout 12m -v $pkgs >"$LOG/go.log" 2>&1; rc=$?
grep -E '^(ok|FAIL|---|panic:)|^\s+--- FAIL' "$LOG/go.log" | grep -v -- '--- PASS' | tail -n 40
record "go test" "$(count '^\s*--- PASS:' "$LOG/go.log")" "$(count '^\s*--- FAIL:' "$LOG/go.log")" $rc

echo "== go test without the race detector (the scheduler and the pipelines: their relaxed stores are plain only outside race builds, goveda/internal/relaxed)"
{ go test -count=1 -timeout 5m -v ./goveda/internal/sched/ ./goveda/internal/relaxed/ &&
  go test -count=1 -timeout 5m -v -run 'Pipeline|Graph' ./goveda/; } >"$LOG/go-norace.log" 2>&1; rc=$?
grep -E '^(ok|FAIL|panic:)|^\s+--- FAIL' "$LOG/go-norace.log" | tail -n 20
record "go test (no race)" "$(count '^\s*--- PASS:' "$LOG/go-norace.log")" "$(count '^\s*--- FAIL:' "$LOG/go-norace.log")" $rc

echo "== OpenCL on PoCL (device layer, real OpenCL; VEDA_REQUIRE_OPENCL=1 turns a missing device into a failure)"
VEDA_REQUIRE_OPENCL=1 go test $GO_RACE -count=1 -timeout 10m -v ./goveda/internal/device/ >"$LOG/opencl.log" 2>&1; rc=$?
grep -E '^(ok|FAIL|panic:)|^\s*--- (FAIL|SKIP)' "$LOG/opencl.log" | tail -n 40
record "opencl (PoCL)" "$(count '^\s*--- PASS:' "$LOG/opencl.log")" "$(count '^\s*--- FAIL:' "$LOG/opencl.log")" $rc

echo "== CUDA compile check (nvcc 13 -> PTX, compute_75 and sm_90 (CUDA 13 has no compute_70), warnings as errors)"
bash tests/cuda_compile_check.sh >"$LOG/cuda.log" 2>&1; rc=$?
cat "$LOG/cuda.log" | tail -n 20
record "cuda compile" "$(count '^PASS' "$LOG/cuda.log")" "$(count '^FAIL' "$LOG/cuda.log")" $rc

echo "== build check (no OpenCL headers needed, cgo required message, PTX up to date, install builds no test)"
bash tests/build_check.sh >"$LOG/build.log" 2>&1; rc=$?
cat "$LOG/build.log"
record "build check" "$(count '^  ok ' "$LOG/build.log")" "$(count '^  FAIL ' "$LOG/build.log")" $rc

echo "== ctest (tests/c, install test, sanitizer run)"
ctest --test-dir build/cmake --output-on-failure --timeout 300 >"$LOG/ctest.log" 2>&1; rc=$?
tail -n 25 "$LOG/ctest.log"
line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$LOG/ctest.log" | tail -n 1)
if [ -n "$line" ]; then
  f=$(echo "$line" | sed -E 's/.*passed, ([0-9]+) tests? failed out of ([0-9]+).*/\1/')
  n=$(echo "$line" | sed -E 's/.*failed out of ([0-9]+).*/\1/')
  record "ctest" $((n - f)) "$f" $rc
else
  record "ctest" 0 0 $rc
fi

echo "== pytest (python/tests)"
# A test that hangs (a Dask cluster that never starts, say) fails after 600 s instead of stalling
# the suite (pytest-timeout; its thread method dumps every thread's stack into the log).
VEDA_LIBRARY=${VEDA_LIBRARY:-$PWD/build/libveda.so} python3 -m pytest -q -p no:cacheprovider \
  --timeout=600 --timeout-method=thread python/tests >"$LOG/pytest.log" 2>&1; rc=$?
tail -n 15 "$LOG/pytest.log"
last=$(grep -E '[0-9]+ (passed|failed)' "$LOG/pytest.log" | tail -n 1)
p=$(echo "$last" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || echo 0)
f=$(echo "$last" | grep -oE '[0-9]+ (failed|errors?)' | awk '{s+=$1} END{print s+0}')
record "pytest" "${p:-0}" "${f:-0}" $rc

echo
echo "== summary (logs in $LOG)"
printf '%s\n' "${summary[@]}"
echo "${total_pass} passed, ${total_fail} failed"
[ "$total_fail" -eq 0 ] && [ "$bad_suite" -eq 0 ]
