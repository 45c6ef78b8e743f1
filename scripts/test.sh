#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite with ctest: first the normal
# build, then the same suites under AddressSanitizer (skip that part with
# GLINT_SKIP_ASAN=1). Extra arguments go to both ctest runs. Each part's
# time is printed as it ends (CI has 90 minutes for all of them).
set -euo pipefail
cd "$(dirname "$0")/.."
took() { echo "== $1 took $((SECONDS - start)) s"; start=$SECONDS; }
# ctest in build directory $1 (its arguments after that); after a failure,
# the end of each failed test's output again (scripts/failed_tests.sh).
suites() {
  local dir=$1
  shift
  rm -f "$dir/Testing/Temporary/LastTestsFailed.log"
  (cd "$dir" && ctest --output-on-failure "$@") && return 0
  bash scripts/failed_tests.sh "$dir"
  return 1
}
start=$SECONDS
bash scripts/setup.sh
took "setting up"
bash scripts/build.sh -DGLINT_BUILD_TESTS=ON -DGLINT_WERROR=ON
took "the build"
suites "${GLINT_BUILD_DIR:-build}" --timeout 600 -j 2 "$@"
took "the suites"
if [ "${GLINT_SKIP_ASAN:-0}" != "1" ]; then
  echo "== the same suites under AddressSanitizer"
  # -O1 and line tables only: a third less compile time than -O2 -g, and
  # its reports still name file and line.
  GLINT_BUILD_DIR=build-asan bash scripts/build.sh -DGLINT_BUILD_TESTS=ON -DGLINT_WERROR=ON -DGLINT_SANITIZE=address \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG"
  took "the AddressSanitizer build"
  # Leak checking is off here (gRPC and glog keep some objects to process exit);
  # the restart test turns it on for itself, to check that Shutdown frees what Init made.
  ASAN_OPTIONS=detect_leaks=0 suites build-asan --timeout 900 -j 2 -E 'bench_(scale_)?smoke' "$@"
  took "the suites under AddressSanitizer"
fi
