#!/usr/bin/env bash
# cuda_compile_check.sh: compile every cuda/*.cu with nvcc 13 to PTX for compute_75 and sm_90
# (CUDA 13 dropped compute_70/sm_70: compute_75 is the oldest target nvcc 13 accepts.)
# with -Werror all-warnings; one PASS/FAIL line per (file, target); exit non-zero on any failure.
#   tests/cuda_compile_check.sh           check only
#   tests/cuda_compile_check.sh --emit    also write cuda/ptx/<name>.ptx (compute_75, the
#                                         portable PTX the library embeds and the driver JITs)
# nvcc comes from the PyPI wheels (nvidia-cuda-nvcc, nvidia-cuda-crt, nvidia-cuda-runtime);
# $NVCC overrides. Exit 2 when nvcc is not found.
set -uo pipefail
cd "$(dirname "$0")/.."
emit=0
[ "${1:-}" = "--emit" ] && emit=1
PY=${PYTHON:-python3}

find_nvcc() {
  if [ -n "${NVCC:-}" ]; then echo "$NVCC"; return; fi
  local d
  d=$("$PY" -c 'import nvidia.cu13, os; print(list(nvidia.cu13.__path__)[0])' 2>/dev/null) || d=""
  if [ -n "$d" ] && [ -x "$d/bin/nvcc" ]; then echo "$d/bin/nvcc"; return; fi
  d=$("$PY" -m pip show -f nvidia-cuda-nvcc 2>/dev/null | awk '/^Location:/{loc=$2} /bin\/nvcc$/{f=$1} END{if(loc&&f)print loc"/"f}')
  if [ -n "$d" ] && [ -x "$d" ]; then echo "$d"; return; fi
  command -v nvcc 2>/dev/null || true
}

NVCC_BIN=$(find_nvcc)
if [ -z "$NVCC_BIN" ]; then
  echo "[cuda] nvcc not found (pip install nvidia-cuda-nvcc==13.0.88 nvidia-cuda-crt==13.0.88 nvidia-cuda-runtime==13.0.96)" >&2
  exit 2
fi
root=$(cd "$(dirname "$NVCC_BIN")/.." && pwd)
# The wheels put cuda_runtime.h (nvidia-cuda-runtime) and crt/ (nvidia-cuda-crt) under $root/include.
inc=(-I"$root/include")
echo "[cuda] nvcc: $NVCC_BIN ($("$NVCC_BIN" --version | tail -1))"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
shopt -s nullglob
files=(cuda/*.cu)
if [ ${#files[@]} -eq 0 ]; then echo "[cuda] no cuda/*.cu files" >&2; exit 1; fi
for f in "${files[@]}"; do
  name=$(basename "$f" .cu)
  for target in compute_75 sm_90; do
    if [ "$target" = compute_75 ]; then arch=(-arch=compute_75); else arch=(-arch=sm_90); fi
    out="$tmp/$name.$target.ptx"
    if "$NVCC_BIN" "${inc[@]}" "${arch[@]}" -ptx -std=c++17 -O3 -Werror all-warnings -o "$out" "$f" >"$tmp/log" 2>&1; then
      echo "PASS $f ($target)"
    else
      echo "FAIL $f ($target)"; sed 's/^/    /' "$tmp/log"; fail=1
    fi
  done
  if [ $emit -eq 1 ] && [ -f "$tmp/$name.compute_75.ptx" ]; then
    mkdir -p cuda/ptx && cp "$tmp/$name.compute_75.ptx" "cuda/ptx/$name.ptx" && echo "[cuda] wrote cuda/ptx/$name.ptx"
  fi
done
exit $fail
