#!/usr/bin/env bash
# The systemd units as `cmake --install` puts them: systemd-analyze verify
# accepts them (directives, the binaries they run), and the environment file
# alone picks the role: with GLINT_HEAD=true the GCS unit's condition holds
# and both units' command lines, expanded from the file as systemd expands
# them, start a head whose daemons answer `glint health`; with
# GLINT_HEAD=false the GCS unit is skipped and the raylet joins the head.
# Only the test's own paths and ports differ from a real host (state and
# log directories under a temporary directory, ports picked free).
# Usage: systemd_test.sh BUILD_DIR. Exit 77 (skipped) without systemd-analyze.
set -euo pipefail
build=$1
if ! command -v systemd-analyze > /dev/null; then
  echo "SKIP: systemd-analyze is not installed (Debian package systemd)"
  exit 77
fi
work=$(mktemp -d /tmp/glint-deploy-test.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2> /dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" > "$work/install.log"
units=$prefix/lib/systemd/system
for unit in glint-gcs glint-raylet glint-dashboard; do
  [ -f "$units/$unit.service" ] || fail "cmake --install put no $unit unit in $units"
done
[ -f "$prefix/share/glint/glint.env" ] || fail "cmake --install put no environment file template"
grep -q "^ExecStart=$prefix/bin/glint-gcs " "$units/glint-gcs.service" || fail "the GCS unit does not run this install's glint-gcs"
systemd-analyze verify "$units/glint-gcs.service" "$units/glint-raylet.service" "$units/glint-dashboard.service" ||
  fail "systemd-analyze verify refused the units"
echo "ok: systemd-analyze verify accepts the three units"

# A unit's Exec<what>= line (continuations joined), its variables expanded
# from the environment file as systemd does ($VAR splits into words, ${VAR}
# does not; no value here has spaces), with the test's directories.
command_of() {  # unit key env_file
  local line
  line=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$units/$1" | grep "^$2=" | head -1 | cut -d= -f2-)
  line=${line//\/var\/lib\/glint/$work\/state}
  line=${line//\/var\/log\/glint/$work\/logs}
  (set -a; source "$3"; eval "printf '%q ' $line")
}

mkdir -p "$work/state/spill" "$work/logs" "$work/etc"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$work/etc/auth_token"
chmod 600 "$work/etc/auth_token"
make_env() {  # file head gcs_address
  sed -e "s/^GLINT_HEAD=.*/GLINT_HEAD=$2/" -e "s/^GLINT_GCS_PORT=.*/GLINT_GCS_PORT=0/" \
      -e "s/^GLINT_RAYLET_PORT=.*/GLINT_RAYLET_PORT=0/" -e "s/^GLINT_NUM_CPUS=.*/GLINT_NUM_CPUS=1/" \
      -e "s/^GLINT_DASHBOARD_PORT=.*/GLINT_DASHBOARD_PORT=0/" \
      -e "s#^GLINT_GCS_ADDRESS=.*#GLINT_GCS_ADDRESS=$3#" \
      -e "s#/etc/glint/auth_token#$work/etc/auth_token#" "$prefix/share/glint/glint.env" > "$1"
}
wait_file() {
  for _ in $(seq 1 200); do [ -s "$1" ] && return 0; sleep 0.05; done
  fail "$1 did not appear in 10 s"
}

# The head: the GCS unit's condition holds; its daemons start as the units say
# (exec: the background job is the daemon itself, so cleanup's kill reaches it).
make_env "$work/head.env" true "unset"
eval "$(command_of glint-gcs.service ExecCondition "$work/head.env")" || fail "GLINT_HEAD=true: the GCS unit's condition fails"
eval "exec $(command_of glint-gcs.service ExecStart "$work/head.env") --port_file=$work/gcs.port" > "$work/gcs.out" 2>&1 &
pids+=($!)
wait_file "$work/gcs.port"
gcs=127.0.0.1:$(cat "$work/gcs.port")
make_env "$work/head.env" true "$gcs"
eval "exec $(command_of glint-raylet.service ExecStart "$work/head.env") --port_file=$work/head-raylet.port" > "$work/head-raylet.out" 2>&1 &
pids+=($!)
wait_file "$work/head-raylet.port"
export GLINT_AUTH_TOKEN=$(cat "$work/etc/auth_token")
grep -q "SERVING" <<< "$("$prefix/bin/glint" health --address "$gcs")" || fail "the head's GCS does not answer its health check"
grep -q "SERVING" <<< "$("$prefix/bin/glint" health "127.0.0.1:$(cat "$work/head-raylet.port")" --address "$gcs")" ||
  fail "the head's raylet does not answer its health check"
grep -q " yes " <<< "$("$prefix/bin/glint" list nodes --address "$gcs")" || fail "the head's raylet is not the head node"
eval "$(command_of glint-dashboard.service ExecCondition "$work/head.env")" || fail "GLINT_HEAD=true: the dashboard unit's condition fails"
eval "exec $(command_of glint-dashboard.service ExecStart "$work/head.env") --port_file=$work/dashboard.port" > "$work/dashboard.out" 2>&1 &
pids+=($!)
wait_file "$work/dashboard.port"
job=$("$prefix/bin/glint" job submit --address "$gcs" -- 'echo job ran in $PWD' 2>&1) || fail "a job on the unit-started head failed: $job"
grep -q "job ran in $work/state/dashboard/jobs/" <<< "$job" || fail "the job did not run in the dashboard's state directory: $job"
echo "ok: GLINT_HEAD=true starts a head (GCS, head raylet, dashboard running jobs) from the units' command lines"

# A node: the same units, GLINT_HEAD=false: no GCS, a raylet that joins.
make_env "$work/node.env" false "$gcs"
for unit in glint-gcs glint-dashboard; do
  if eval "$(command_of $unit.service ExecCondition "$work/node.env")"; then
    fail "GLINT_HEAD=false: the $unit unit would run"
  fi
done
eval "exec $(command_of glint-raylet.service ExecStart "$work/node.env") --port_file=$work/node-raylet.port" > "$work/node-raylet.out" 2>&1 &
pids+=($!)
wait_file "$work/node-raylet.port"
alive=$(grep -c ALIVE <<< "$("$prefix/bin/glint" list nodes --address "$gcs")" || true)
[ "$alive" -eq 2 ] || fail "expected the head and the node ALIVE, saw $alive"
echo "ok: GLINT_HEAD=false skips the GCS and dashboard units and the raylet joins the head"
echo "PASS"
