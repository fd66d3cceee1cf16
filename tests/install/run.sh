#!/usr/bin/env bash
# tests/install/run.sh BUILD_DIR: install the CMake tree BUILD_DIR into a temporary prefix, then
# build and run tests/install/app.c against that installed copy two ways:
#   1. pkg-config --cflags --libs veda   (plain cc)
#   2. find_package(veda) + target_link_libraries(app veda::veda)   (CMake)
# The source tree's build/ is hidden from the programs: they must find the installed library.
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
libdir=$(dirname "$(find "$prefix" -name 'libveda.so.0' | head -n1)")
echo "installed into $prefix:"; (cd "$prefix" && find . -type f -o -type l | sort | sed 's/^/  /')
for f in include/veda.h; do test -f "$prefix/$f" || { echo "missing $f"; exit 1; }; done
test -L "$libdir/libveda.so" && test -L "$libdir/libveda.so.0"

echo "== pkg-config"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
flags=$(pkg-config --cflags --libs veda)
echo "pkg-config --cflags --libs veda: $flags"
cc -std=c11 -Wall -Werror -o "$tmp/app_pc" "$here/app.c" $flags -Wl,-rpath,"$libdir"
readelf -d "$tmp/app_pc" | grep -q 'NEEDED.*libveda.so.0' || { echo "app does not need libveda.so.0"; exit 1; }
"$tmp/app_pc"

echo "== find_package"
cmake -S "$here" -B "$tmp/app_build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$tmp/app_cfg.log" \
  || { cat "$tmp/app_cfg.log"; exit 1; }
cmake --build "$tmp/app_build" >"$tmp/app_build.log" || { cat "$tmp/app_build.log"; exit 1; }
"$tmp/app_build/app"
echo "install test: ok"
