#!/usr/bin/env bash
# bench_wheel.sh: time installing the wheel of `make wheel` into a fresh venv and importing it
# (target: under 10 s in all), with no Go on PATH and no VEDA_LIBRARY. Medians of 5.
#   bash bench/python/bench_wheel.sh [path/to/veda-*.whl]
set -euo pipefail
cd "$(dirname "$0")/../.."
whl=${1:-$(ls build/wheelhouse/veda-*.whl 2>/dev/null | head -n1)}
[ -n "$whl" ] || { echo "no wheel: run make wheel" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ins=(); imp=()
for i in 1 2 3 4 5; do
  python3 -m venv --system-site-packages "$tmp/v$i"
  t0=$(date +%s.%N)
  env -u VEDA_LIBRARY -u PYTHONPATH "$tmp/v$i/bin/python" -m pip install -q --no-index --no-deps \
    --disable-pip-version-check "$whl"
  t1=$(date +%s.%N)
  (cd "$tmp" && env -u VEDA_LIBRARY -u PYTHONPATH "$tmp/v$i/bin/python" -c \
    "import veda, numpy as np; assert veda.sum(np.ones(3)) == 3.0")
  t2=$(date +%s.%N)
  ins+=("$(python3 -c "print(round($t1 - $t0, 2))")"); imp+=("$(python3 -c "print(round($t2 - $t1, 2))")")
done
med() { printf '%s\n' "$@" | sort -n | sed -n 3p; }
echo "wheel $(basename "$whl"): install median $(med "${ins[@]}") s, import + first sum median $(med "${imp[@]}") s (5 fresh venvs)"
