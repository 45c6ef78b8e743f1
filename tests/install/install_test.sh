#!/usr/bin/env bash
# Installs Glint into a temporary prefix, builds an outside project with
# find_package(Glint) + Glint::glint, and runs it (with a private cluster
# started from the installed bin/). Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
tmp=$(mktemp -d /tmp/glint-install-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" > "$tmp/install.log"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$src/tests/install/app" -B "$tmp/app" -DCMAKE_PREFIX_PATH="$tmp/prefix" "${launcher[@]}" > "$tmp/configure.log"
cmake --build "$tmp/app" -j 2 > "$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }
# Nothing from the build tree may leak in: no GLINT_BIN_DIR, no build paths.
env -u GLINT_BIN_DIR -u GLINT_ADDRESS "$tmp/app/app" | tee "$tmp/out.log"
grep -q "sum of squares 1..4 = 30" "$tmp/out.log"
