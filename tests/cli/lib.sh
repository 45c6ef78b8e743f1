# What the CLI tests share (sourced): a temporary GLINT_TMPDIR for their
# sessions (a cluster of the user's own is never touched), `glint` from the
# build, a `glint stop` and clean-up however the test ends, and `fail`.
# The sourcing script sets `bin` (the build's bin directory) first.
set -euo pipefail
export GLINT_TMPDIR=$(mktemp -d /tmp/glint-cli-test.XXXXXX)
unset GLINT_ADDRESS
export GLINT_DASHBOARD_PORT=0  # never the default 8265 a cluster of the user may hold
glint() { "$bin/glint" "$@"; }
cleanup() {
  glint stop > /dev/null 2>&1 || true
  rm -rf "$GLINT_TMPDIR"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
