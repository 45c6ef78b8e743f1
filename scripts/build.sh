#!/usr/bin/env bash
# Configures and builds Glint into ${GLINT_BUILD_DIR:-build}. Extra arguments
# go to cmake's configure step (e.g. -DGLINT_SANITIZE=address).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${GLINT_BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=${GLINT_BUILD_TYPE:-RelWithDebInfo} "$@"
cmake --build "$BUILD_DIR" -j "$(nproc)"
