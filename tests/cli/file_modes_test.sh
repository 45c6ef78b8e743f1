#!/usr/bin/env bash
# What a cluster keeps on disk is its user's only: the session directory (the
# GCS's tables, the logs, the jobs' output), the node's object store (the
# arena every object lives in) and its spill directory. Another local account
# reads none of it. Usage: file_modes_test.sh BIN_DIR
bin=$1
source "$(dirname "$0")/lib.sh"

glint start --head --port 0 --num-cpus 1 > "$GLINT_TMPDIR/start.log"
session=$(readlink -f "$GLINT_TMPDIR/session_latest")
raylet=$(awk '$3 == "glint-raylet" {print $1}' "$session/pids" | head -1)
[ -n "$raylet" ] || fail "no raylet recorded in $session/pids"
store="/dev/shm/glint-objects-$raylet"
[ -d "$store" ] || store="/tmp/glint-objects-$raylet"
[ -f "$store/arena" ] || fail "no object store at $store"
spill="$session/spill-$raylet"
[ -d "$spill" ] || fail "no spill directory at $spill"

mode() { stat -c %a "$1"; }
for d in "$session" "$session/logs" "$store" "$spill"; do
  [ "$(mode "$d")" = 700 ] || fail "$d has mode $(mode "$d"), expected 700"
done
[ "$(mode "$store/arena")" = 600 ] || fail "the arena has mode $(mode "$store/arena"), expected 600"

# The same as another account sees it (root can switch to one).
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null; then
  other() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
  other true || fail "cannot run a command as uid 65534"
  for f in "$store/arena" "$session/gcs.db" "$session/logs/gcs.log"; do
    [ -e "$f" ] || fail "$f is missing"
    if other cat "$f" > /dev/null 2>&1; then fail "another account read $f"; fi
  done
  if other ls "$spill" > /dev/null 2>&1; then fail "another account listed $spill"; fi
  echo "checked: uid 65534 reads neither the arena, the GCS's tables, the logs nor the spill directory"
else
  echo "SKIP (part): reading as another account needs root and setpriv; the modes were checked"
fi
echo "PASS: the session, the object store and the spill directory are private"
