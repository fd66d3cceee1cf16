#!/usr/bin/env bash
# build_check.sh: the builds need only what they use. Prints one "ok"/"FAIL" line per check, then
# "N passed, N failed"; exits non-zero on a failure. Run after `make lib` (run-suites.sh does).
#   1. libveda.so and a program importing goveda build with the system OpenCL headers hidden
#      (csrc/ocl_loader.h declares what VEDA uses), and those declarations match the Khronos
#      CL/cl.h where it is installed;
#   2. without cgo, `go build` and `make` stop with a message that says cgo is required;
#   3. a second `make lib` runs no nvcc (the PTX is up to date);
#   4. `make install` builds no test and no fuzzer.
#
# Hiding works without privileges: -nostdinc, then the compiler's own include dir and a copy of the
# default search list made of symlinks, with every CL/ directory left out.
set -uo pipefail
cd "$(dirname "$0")/.."
CC=${CC:-cc}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok()  { echo "  ok   $*"; pass=$((pass+1)); }
bad() { echo "  FAIL $*"; fail=$((fail+1)); }

# The default #include <...> search list of $CC, in order.
mapfile -t dirs < <("$CC" -xc -E -v /dev/null 2>&1 | sed -n '/#include <...>/,/End of search/p' | sed '1d;$d' | sed 's/^ *//')
flags=(-nostdinc)
for i in "${!dirs[@]}"; do
  d=${dirs[$i]}; o="$tmp/inc$i"; mkdir -p "$o"
  for e in "$d"/*; do [ "$(basename "$e")" = CL ] || ln -s "$e" "$o/"; done
  flags+=(-isystem "$o")
done

# 1. No OpenCL headers.
if echo '#include <CL/cl.h>' | "$CC" "${flags[@]}" -xc -E - >/dev/null 2>&1; then
  bad "CL/cl.h is still reachable: the check would prove nothing"
else
  ok "CL/cl.h hidden"
fi

export CGO_ENABLED=1 CGO_CFLAGS="${flags[*]} -O2"
if go build -buildmode=c-shared -o "$tmp/libveda.so" ./capi/libveda 2>"$tmp/lib.err"; then ok "libveda.so builds without CL/cl.h"
else bad "libveda.so without CL/cl.h:"; sed 's/^/       /' "$tmp/lib.err" | head -20; fi
if go build -o "$tmp/veda" ./goveda/cmd/veda 2>"$tmp/cli.err"; then ok "a program importing goveda builds without CL/cl.h"
else bad "goveda program without CL/cl.h:"; sed 's/^/       /' "$tmp/cli.err" | head -20; fi

# Where the Khronos header is installed, our declarations must agree with it. Including both with
# -Werror fails on a typedef of another type or a macro with another value (a redefinition); each
# entry point's type is compared with the header's, except the two whose callback VEDA declares as
# void * (clCreateContext, clBuildProgram; VEDA always passes NULL there).
if echo '#include <CL/cl.h>' | "$CC" -xc -E - >/dev/null 2>&1; then
  {
    echo '#define CL_TARGET_OPENCL_VERSION 120'
    echo '#include <CL/cl.h>'
    echo '#include "ocl_loader.h"'
    grep -oE '^ *X\([^,]+, *cl[A-Za-z]+' csrc/ocl_loader.h | sed -E 's/.*, *//' | grep -vxE 'clCreateContext|clBuildProgram' |
      while read -r f; do
        echo "_Static_assert(__builtin_types_compatible_p(__typeof__($f), __typeof__(vd_$f)), \"$f: signature differs from CL/cl.h\");"
      done
  } >"$tmp/abi.c"
  n=$(grep -c _Static_assert "$tmp/abi.c")
  if "$CC" -std=c11 -Wall -Werror -fsyntax-only -Icsrc "$tmp/abi.c" 2>"$tmp/abi.err"; then
    ok "ocl_loader.h agrees with CL/cl.h (types, constants, $n signatures)"
  else bad "ocl_loader.h differs from CL/cl.h:"; sed 's/^/       /' "$tmp/abi.err" | head -20; fi
else
  echo "  skip CL/cl.h not installed: declarations not compared"
fi
# 2. Without cgo: one message that names the fix.
out=$(CGO_ENABLED=0 go build -o "$tmp/nocgo" ./goveda/cmd/veda 2>&1)
if [ $? -ne 0 ] && grep -q 'VEDA_requires_cgo__build_with_CGO_ENABLED_1_and_a_C_compiler' <<<"$out" &&
   [ "$(grep -c 'undefined:' <<<"$out")" -eq 1 ]; then ok "CGO_ENABLED=0 go build: one error, 'VEDA requires cgo'"
else bad "CGO_ENABLED=0 go build:"; sed 's/^/       /' <<<"$out" | head; fi
out=$(make -s lib CGO_ENABLED=0 2>&1)
if [ $? -ne 0 ] && grep -q 'VEDA requires cgo' <<<"$out"; then ok "make lib CGO_ENABLED=0 says cgo is required"
else bad "make lib CGO_ENABLED=0: $out"; fi

# 3. The PTX rule: once cuda/ptx/*.ptx is newer than cuda/*.cu, make lib must not run nvcc.
if ls cuda/ptx/*.ptx >/dev/null 2>&1; then
  if make -q ptx; then ok "make lib: PTX up to date, nvcc not run"
  else bad "make ptx would rerun nvcc although cuda/ptx/*.ptx exists: $(make -n ptx | head -2)"; fi
else
  echo "  skip no cuda/ptx/*.ptx (nvcc absent): the PTX rule not checked"
fi

# 4. make install: a tree configured without tests; nothing but the library, header and configs.
if make -s install PREFIX="$tmp/prefix" >"$tmp/install.log" 2>&1; then
  built=$(find build/cmake-install -type f -perm -u+x \( -name 'test_*' -o -name 'fuzz_*' -o -name 'bench_*' \) | head -3)
  inst=$(cd "$tmp/prefix" && find . -type f | sort | tr '\n' ' ')
  if [ -z "$built" ] && [ -f "$tmp/prefix/include/veda.h" ]; then ok "make install builds no test (installed: $inst)"
  else bad "make install built tests: $built"; fi
else bad "make install failed:"; sed 's/^/       /' "$tmp/install.log" | tail; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
