#!/usr/bin/env bash
# The container image's build context: .dockerignore keeps local build trees
# and the history out (a build/ configured on the host would break the
# image's own configure), and the programs the Dockerfile copies into the
# image are ones the build makes. (Building the image needs docker, which
# the test machines do not have.) Usage: container_test.sh SOURCE_DIR BIN_DIR
set -euo pipefail
src=$1
bin=$2
fail() { echo "FAIL: $*"; exit 1; }
ignore=$src/.dockerignore
[ -f "$ignore" ] || fail "no .dockerignore beside the sources"
for pattern in 'build*/' '.git/'; do
  grep -qxF -- "$pattern" "$ignore" || fail ".dockerignore does not leave out $pattern"
done
dockerfile=$src/deploy/container/Dockerfile
copied=$(grep -oE 'build/bin/[a-z_]+' "$dockerfile" | sort -u)
[ -n "$copied" ] || fail "the Dockerfile copies no example drivers into the image"
for p in $copied; do
  [ -x "$bin/${p#build/bin/}" ] || fail "the Dockerfile copies $p, which the build does not make"
done
grep -q -- "-DGLINT_BUILD_TESTS=OFF" "$dockerfile" || fail "the image builds the tests"
echo "PASS: the build context leaves out build trees; the image's programs are built"
