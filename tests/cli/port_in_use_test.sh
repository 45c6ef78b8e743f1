#!/usr/bin/env bash
# A second `glint start --head` on the port of a running head fails, saying
# which process holds the port, and leaves the running cluster alone: its
# session stays the latest (so GLINT_ADDRESS=auto and `glint status` still
# find it) and it keeps answering. Usage: port_in_use_test.sh BIN_DIR
bin=$1
source "$(dirname "$0")/lib.sh"

glint start --head --port 0 --num-cpus 1 > "$GLINT_TMPDIR/start1.log"
address=$(cat "$GLINT_TMPDIR/session_latest/gcs_address")
port=${address##*:}
latest=$(readlink "$GLINT_TMPDIR/session_latest")
gcs_pid=$(awk '$3 == "glint-gcs" {print $1}' "$latest/pids")

if glint start --head --port "$port" --num-cpus 1 > "$GLINT_TMPDIR/start2.log" 2> "$GLINT_TMPDIR/start2.err"; then
  fail "a second head started on port $port, which the first one holds"
fi
cat "$GLINT_TMPDIR/start2.err"
grep -q "port $port is in use by glint-gcs (pid $gcs_pid)" "$GLINT_TMPDIR/start2.err" ||
  fail "the error does not name the port and what holds it"
[ "$(readlink "$GLINT_TMPDIR/session_latest")" = "$latest" ] || fail "the failed start moved session_latest"
[ "$(cat "$GLINT_TMPDIR"/session_2*/pids | grep -c glint-gcs)" -eq 1 ] || fail "a second GCS was recorded"
glint status > "$GLINT_TMPDIR/status.log" || fail "glint status failed after the refused start"
grep -q "$address" "$GLINT_TMPDIR/status.log" || fail "glint status does not show the running head"
GLINT_ADDRESS=auto "$bin/create_named_actor" > "$GLINT_TMPDIR/driver.log" ||
  fail "a driver cannot reach the running cluster"
echo "PASS: the start on a taken port failed, naming its holder; the running cluster carries on"
