#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite with ctest: first the normal
# build, then the same suites under AddressSanitizer (skip that part with
# GLINT_SKIP_ASAN=1). Extra arguments go to both ctest runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh -DGLINT_BUILD_TESTS=ON -DGLINT_WERROR=ON
(cd "${GLINT_BUILD_DIR:-build}" && ctest --output-on-failure --timeout 600 -j 2 "$@")
if [ "${GLINT_SKIP_ASAN:-0}" != "1" ]; then
  echo "== the same suites under AddressSanitizer"
  GLINT_BUILD_DIR=build-asan bash scripts/build.sh -DGLINT_BUILD_TESTS=ON -DGLINT_WERROR=ON -DGLINT_SANITIZE=address
  # Leak checking is off here (gRPC and glog keep some objects to process exit);
  # the restart test turns it on for itself, to check that Shutdown frees what Init made.
  (cd build-asan && ASAN_OPTIONS=detect_leaks=0 ctest --output-on-failure --timeout 900 -j 2 -E 'bench_(scale_)?smoke' "$@")
fi
