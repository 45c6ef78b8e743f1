#!/usr/bin/env bash
# Builds and runs the full benchmark (a private local cluster is started and
# stopped by the benchmark itself). Extra arguments go to glint_bench.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh
bash scripts/build.sh
"${GLINT_BUILD_DIR:-build}/bin/glint_bench" "$@"
