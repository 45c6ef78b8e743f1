#!/usr/bin/env bash
# `glint logs` on a head and a worker node of one machine, as the README's
# demo starts them: the worker node joins the head's session with a
# directory of its own for its logs, and each file is listed once, under
# the node that wrote it. Usage: logs_test.sh BIN_DIR
bin=$1
source "$(dirname "$0")/lib.sh"

glint start --head --port 0 --num-cpus 1 > "$GLINT_TMPDIR/start1.log"
address=$(cat "$GLINT_TMPDIR/session_latest/gcs_address")
glint start --address "$address" --num-cpus 1 --resources '{"special": 1}' > "$GLINT_TMPDIR/start2.log"
session=$(readlink -f "$GLINT_TMPDIR/session_latest")
node_dirs=$(find "$session" -mindepth 1 -maxdepth 1 -name 'node-*' -type d)
[ "$(echo "$node_dirs" | wc -w)" -eq 1 ] || fail "expected one node directory in the head's session, found: $node_dirs"
grep -q "worker node is up; logs in $node_dirs/logs$" "$GLINT_TMPDIR/start2.log" ||
  fail "the worker node did not say where its logs are: $(cat "$GLINT_TMPDIR/start2.log")"
[ "$(stat -c %a "$node_dirs")" = 700 ] || fail "the node directory is not private (mode $(stat -c %a "$node_dirs"))"

# Work on both nodes: each has workers, and so worker logs.
GLINT_ADDRESS=auto "$bin/multi_node" > "$GLINT_TMPDIR/driver.log" 2>&1 ||
  fail "the driver failed: $(cat "$GLINT_TMPDIR/driver.log")"
ls "$node_dirs"/logs/worker-*.log > /dev/null 2>&1 || fail "no worker log in the worker node's directory"
ls "$session"/logs/worker-*.log > /dev/null 2>&1 || fail "no worker log in the head's directory"
ls "$node_dirs"/logs/raylet-*.log > /dev/null 2>&1 || fail "the worker node's raylet logs elsewhere"

glint logs > "$GLINT_TMPDIR/list.log"
# "node <id> (<address>)[, head]:" then "  <file>  <size> bytes" lines.
sections=$(awk '/^node / {n++} END {print n + 0}' "$GLINT_TMPDIR/list.log")
[ "$sections" -eq 2 ] || fail "expected two nodes in glint logs: $(cat "$GLINT_TMPDIR/list.log")"
# A daemon's or a worker's file has a name of its own (a job's fork server
# log is named for the job, and each node has its own).
twice=$(awk '/^  / {print $1}' "$GLINT_TMPDIR/list.log" | grep -v '^fork-server-' | sort | uniq -d)
[ -z "$twice" ] || fail "listed under both nodes: $twice"
head_files=$(awk '/^node / {head = /, head:$/} /^  / && head {print $1}' "$GLINT_TMPDIR/list.log")
other_files=$(awk '/^node / {head = /, head:$/} /^  / && !head {print $1}' "$GLINT_TMPDIR/list.log")
echo "$head_files" | grep -qx gcs.log || fail "the head does not list gcs.log"
for kind in raylet worker; do
  echo "$head_files" | grep -q "^$kind-" || fail "the head lists no $kind log"
  echo "$other_files" | grep -q "^$kind-" || fail "the worker node lists no $kind log"
done
for f in $other_files; do
  [ -f "$node_dirs/logs/$f" ] || fail "the worker node lists $f, which is not in its directory"
done
for f in $head_files; do
  [ -f "$session/logs/$f" ] || fail "the head lists $f, which is not in its directory"
done
# A file is read from the node that has it.
worker_log=$(echo "$other_files" | grep -m1 '^worker-')
node_id=$(awk '/^node / && !/, head:$/ {print $2}' "$GLINT_TMPDIR/list.log")
glint logs "$worker_log" --node "$node_id" > /dev/null || fail "cannot read $worker_log on the worker node"
if glint logs "$worker_log" --node "$(awk '/, head:$/ {print $2}' "$GLINT_TMPDIR/list.log")" > /dev/null 2>&1; then
  fail "the head served the worker node's $worker_log"
fi
echo "PASS: each node lists and serves only its own log files"
