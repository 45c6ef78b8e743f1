#!/usr/bin/env bash
# `glint start` / `glint stop` as a user runs them: two heads and a worker
# node on this machine (each head a session of its own), a driver on the
# second cluster with GLINT_ADDRESS=auto, then one `glint stop` stops every
# daemon and worker of both. Sessions go to a temporary GLINT_TMPDIR, so a
# cluster of the user's own is never touched. Usage: start_stop_test.sh BIN_DIR
bin=$1
source "$(dirname "$0")/lib.sh"

glint start --head --port 0 --num-cpus 1 > "$GLINT_TMPDIR/start1.log"
first=$(cat "$GLINT_TMPDIR/session_latest/gcs_address")
glint start --address "$first" --num-cpus 1 > "$GLINT_TMPDIR/start2.log"
glint start --head --port 0 --num-cpus 1 > "$GLINT_TMPDIR/start3.log"
second=$(cat "$GLINT_TMPDIR/session_latest/gcs_address")
[ "$first" != "$second" ] || fail "the second head reused the first one's address"

# Each daemon answers gRPC's health service, with the cluster's token only.
glint health | grep -q ": SERVING$" || fail "the latest GCS does not answer its health check"
glint health --address "$first" | grep -q "$first: SERVING$" || fail "the first GCS does not answer its health check"
raylet=$(glint list nodes --json | grep -m1 -o '"port": [0-9]*' | grep -o '[0-9]*$')
glint health "127.0.0.1:$raylet" | grep -q ": SERVING$" || fail "the raylet does not answer its health check"
if glint health --auth-token wrong > /dev/null 2>&1; then fail "health answered a wrong token"; fi

# A driver finds the latest cluster by 'auto' and runs an actor there (its
# worker is a process the raylet started).
GLINT_ADDRESS=auto "$bin/create_named_actor" | tee "$GLINT_TMPDIR/driver.log"
grep -q "created detached actor 'counter'" "$GLINT_TMPDIR/driver.log" || fail "the driver did not create its actor"

pids=$(cat "$GLINT_TMPDIR"/session_*/pids | awk '{print $1}' | sort -u)
[ "$(echo "$pids" | wc -w)" -eq 7 ] || fail "expected 7 recorded daemons (2 GCS, 3 raylets, 2 dashboards), got: $pids"
raylets=$(cat "$GLINT_TMPDIR"/session_*/pids | awk '$3 == "glint-raylet" {print $1}' | sort -u)
workers=$(for p in $pids; do pgrep -P "$p" || true; done)
[ -n "$workers" ] || fail "no worker process under the raylets"

glint stop | tee "$GLINT_TMPDIR/stop.log"
[ "$(grep -c '^stopped ' "$GLINT_TMPDIR/stop.log")" -eq 7 ] || fail "glint stop did not stop all 7 daemons"
for p in $pids $workers; do
  # StopDaemon waits for each daemon; a worker goes with its raylet (bounded wait).
  for _ in $(seq 1 100); do kill -0 "$p" 2> /dev/null || break; sleep 0.05; done
  if kill -0 "$p" 2> /dev/null && ! grep -q '^State:.*Z' "/proc/$p/status" 2> /dev/null; then
    fail "process $p is still running after glint stop"
  fi
done
# Each daemon stopped gracefully (its Stop ran: workers killed, the node's
# object store removed), not killed by the signal.
# (The worker node logs in a directory of its own in its head's session.)
stopping=$(cat "$GLINT_TMPDIR"/session_2*/logs/*.log "$GLINT_TMPDIR"/session_2*/node-*/logs/*.log |
  grep -c 'stopping (signal 15)' || true)
[ "$stopping" -eq 7 ] || fail "expected 7 daemons to stop gracefully on SIGTERM, saw $stopping"
[ "$(echo "$raylets" | wc -w)" -eq 3 ] || fail "expected 3 raylets, got: $raylets"
for p in $raylets; do
  [ ! -e "/dev/shm/glint-objects-$p" ] || fail "raylet $p left its object store behind"
done
if glint health --address "$first" > /dev/null 2>&1; then fail "a stopped GCS still reported healthy"; fi
glint stop | grep -q "no Glint processes started with 'glint start' are recorded" || fail "a second stop found records"
echo "PASS: one glint stop stopped both clusters and their workers"
