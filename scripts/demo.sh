#!/usr/bin/env bash
# Glint's main job, end to end: set up, build, start a head node and a worker
# node on this machine, run the example drivers (one creates a named detached
# actor, another finds it by name and calls it, a third runs as a job on the
# head), show the cluster, stop it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
BIN=$(pwd)/${GLINT_BUILD_DIR:-build}/bin
export PATH="$BIN:$PATH"

step() { printf '\n== %s\n' "$*"; }
trap 'step "glint stop"; glint stop' EXIT

step "glint start --head (GCS port 6380 and dashboard port 8265, or free ports if they are taken)"
glint start --head --num-cpus 2 || glint start --head --port 0 --dashboard-port 0 --num-cpus 2
export GLINT_ADDRESS=$(cat /tmp/glint/session_latest/gcs_address)
step "glint start --address $GLINT_ADDRESS (a worker node with a custom resource 'special')"
glint start --address "$GLINT_ADDRESS" --num-cpus 1 --resources '{"special": 1}'

step "hello: tasks, an actor, Put/Get"
hello
step "multi_node: work that needs 'special' runs on the worker node"
multi_node
step "driver 1: create_named_actor (creates the detached actor 'counter', then exits)"
create_named_actor
step "glint list actors (the actor outlived driver 1)"
glint list actors
step "driver 2: use_named_actor (finds 'counter' by name and calls it)"
use_named_actor
step "the same driver as a job: glint job submit runs it on the head under the job supervisor"
glint job submit --submission-id demo-job -- "$BIN/use_named_actor"
glint job list
step "the GCS killed with kill -9, then glint restart-gcs: it reads its store back and the cluster carries on"
gcs_pid=$(awk '$3 == "glint-gcs" {print $1}' /tmp/glint/session_latest/pids | tail -1)
kill -9 "$gcs_pid"
for _ in $(seq 1 100); do kill -0 "$gcs_pid" 2> /dev/null || break; sleep 0.05; done
glint restart-gcs
step "driver 3: use_named_actor --kill (finds it again after the restart, calls it, then kills it)"
use_named_actor --kill
step "http_counter: an async actor serving HTTP on its event loop beside its Glint methods"
http_counter
step "pool_and_queue: an ActorPool maps over two actors; two tasks drain a Queue"
pool_and_queue
step "glint status"
glint status
