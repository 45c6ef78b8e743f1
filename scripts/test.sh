#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh -DGLINT_BUILD_TESTS=ON
cd "${GLINT_BUILD_DIR:-build}"
ctest --output-on-failure --timeout 600 -j 2 "$@"
