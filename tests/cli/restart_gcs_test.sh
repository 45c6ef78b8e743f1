#!/usr/bin/env bash
# A head's GCS killed with SIGKILL and started again with `glint restart-gcs`,
# as a user would: the named detached actor a driver made before is found by
# a driver started after, with its state; one
# `glint stop` stops everything, the restarted GCS included. Sessions go to a
# temporary GLINT_TMPDIR. Usage: restart_gcs_test.sh BIN_DIR
bin=$1
source "$(dirname "$0")/lib.sh"

glint start --head --port 0 --num-cpus 2 > "$GLINT_TMPDIR/start.log"
session=$(readlink "$GLINT_TMPDIR/session_latest")
[ -s "$session/gcs.db" ] || fail "the GCS keeps no store in the session (gcs.db)"
glint restart-gcs 2> "$GLINT_TMPDIR/running.log" && fail "restart-gcs started a second GCS beside a running one"
grep -q "is running" "$GLINT_TMPDIR/running.log" || fail "restart-gcs did not say the GCS runs: $(cat "$GLINT_TMPDIR/running.log")"

GLINT_ADDRESS=auto "$bin/create_named_actor" | tee "$GLINT_TMPDIR/create.log"
grep -q "after one visit: 1$" "$GLINT_TMPDIR/create.log" || fail "the driver did not create its actor"

gcs=$(awk '$3 == "glint-gcs" {print $1}' "$session/pids")
kill -9 "$gcs"
for _ in $(seq 1 200); do kill -0 "$gcs" 2> /dev/null || break; sleep 0.05; done
glint restart-gcs | tee "$GLINT_TMPDIR/restart.log"
grep -q "started glint-gcs" "$GLINT_TMPDIR/restart.log" || fail "restart-gcs did not start the GCS"

GLINT_ADDRESS=auto "$bin/use_named_actor" | tee "$GLINT_TMPDIR/use.log"
grep -q "found 'counter' by name; after five calls of +10: visits = 51" "$GLINT_TMPDIR/use.log" ||
  fail "the actor made before the restart was not found with its state"

glint stop | tee "$GLINT_TMPDIR/stop.log"
[ "$(grep -c '^stopped ' "$GLINT_TMPDIR/stop.log")" -eq 3 ] || fail "glint stop did not stop the dashboard, the raylet and the new GCS"
echo "PASS: the restarted GCS carried on with the actor made before it died"

# With the tables in a Redis server (one the test starts, with a password):
# the cluster gets a namespace of its own there, and a restart finds it.
if ! command -v redis-server > /dev/null; then
  echo "SKIP: the Redis round needs redis-server (Debian's redis-server package)"
  exit 0
fi
# A port nothing listens on (tried again if another process takes it first).
redis=""
for _ in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 40000))
  redis-server --port "$port" --bind 127.0.0.1 --requirepass pw --save "" --appendonly no \
    --dir "$GLINT_TMPDIR" --logfile "$GLINT_TMPDIR/redis.log" --daemonize no &
  pid=$!
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2> /dev/null || break
    redis-cli -p "$port" -a pw --no-auth-warning ping 2> /dev/null | grep -q PONG && { redis=$pid; break; }
    sleep 0.05
  done
  [ -n "$redis" ] && break
  kill "$pid" 2> /dev/null || true
done
[ -n "$redis" ] || fail "redis-server did not start: $(tail -3 "$GLINT_TMPDIR/redis.log")"
trap 'kill $redis 2> /dev/null || true; cleanup' EXIT
glint start --head --port 0 --num-cpus 2 --storage "redis://:pw@127.0.0.1:$port" > "$GLINT_TMPDIR/start-redis.log"
session=$(readlink "$GLINT_TMPDIR/session_latest")
grep -q "^redis://:pw@127.0.0.1:$port/$(basename "$session")\$" "$session/gcs_store" ||
  fail "the cluster did not get its session's namespace in Redis: $(cat "$session/gcs_store")"
GLINT_ADDRESS=auto "$bin/create_named_actor" > "$GLINT_TMPDIR/create-redis.log"
[ "$(redis-cli -p "$port" -a pw --no-auth-warning hlen "glint:$(basename "$session"):actors")" -ge 1 ] ||
  fail "no actor record in Redis"
gcs=$(awk '$3 == "glint-gcs" {print $1}' "$session/pids")
kill -9 "$gcs"
for _ in $(seq 1 200); do kill -0 "$gcs" 2> /dev/null || break; sleep 0.05; done
glint restart-gcs > "$GLINT_TMPDIR/restart-redis.log"
GLINT_ADDRESS=auto "$bin/use_named_actor" | tee "$GLINT_TMPDIR/use-redis.log"
grep -q "after five calls of +10: visits = 51" "$GLINT_TMPDIR/use-redis.log" ||
  fail "with Redis, the actor made before the restart was not found with its state"
glint stop > /dev/null
echo "PASS: the same with the tables in Redis"
