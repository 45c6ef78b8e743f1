#!/usr/bin/env bash
# The command line itself: help on stdout with exit 0 (for the tool and per
# command), --version, and wrong command lines refused with exit 2 and a
# message naming what is wrong, before anything runs.
# Usage: usage_test.sh BIN_DIR
bin=$1
source "$(dirname "$0")/lib.sh"

expect() {  # expect CODE STREAM TEXT -- ARGS...: exit code CODE, TEXT on stdout|stderr
  local code=$1 stream=$2 text=$3
  shift 4
  local rc=0
  glint "$@" > "$GLINT_TMPDIR/out" 2> "$GLINT_TMPDIR/err" || rc=$?
  [ "$rc" -eq "$code" ] || fail "glint $*: exit $rc, not $code ($(cat "$GLINT_TMPDIR/err"))"
  grep -qF -- "$text" "$GLINT_TMPDIR/$stream" || fail "glint $*: no '$text' on $stream: $(cat "$GLINT_TMPDIR/$stream")"
}

expect 0 out "Subcommands:" -- --help
expect 0 out "glint 0." -- --version
expect 0 out "--num-cpus" -- start --help
expect 0 out "--json" -- list --help
expect 0 out "--namespace" -- kill-actor --help
expect 2 err "--bogus" -- start --head --bogus
expect 2 err "frobnicate" -- frobnicate
expect 2 err "--num-cpus: 'abc' is not a number" -- start --head --num-cpus abc
expect 2 err "--port" -- start --head --port 70000
expect 2 err "--address: 1 required" -- status --address
expect 2 err "widgets not in {actors,nodes,jobs,placement-groups,workers,objects,tasks}" -- list widgets
expect 0 out "--job" -- summary --help
expect 2 err "actors not in {tasks}" -- summary actors
expect 2 err "--actor excludes --job" -- logs --job 1234 --actor x
expect 2 err "give --head, or --address" -- start
expect 2 err "--auth" -- start --head --auth none
expect 2 err "Usage:" --
expect 0 out "--working-dir" -- job submit --help
expect 0 out "--follow" -- job logs --help
expect 2 err "command is required" -- job submit --no-wait
expect 2 err "submission_id is required" -- job status
expect 2 err "A subcommand is required" -- job
# Nothing was started by the refused command lines.
[ -z "$(ls "$GLINT_TMPDIR" | grep '^session_' || true)" ] || fail "a refused command line made a session"
expect 1 err "no cluster address" -- status
expect 1 err "no cluster address" -- job list
echo "PASS: help, version and refused command lines"
