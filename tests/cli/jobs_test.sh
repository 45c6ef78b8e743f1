#!/usr/bin/env bash
# Jobs as a user runs them with the CLI: `glint start --head` starts a
# dashboard, `glint job submit` runs a command there and exits with how it
# ended, `glint stop` stops a job still running (STOPPED, its processes
# gone), and a cluster started with authentication disabled runs no
# submitted job at all. Usage: jobs_test.sh BIN_DIR
bin=$1
source "$(dirname "$0")/lib.sh"

glint start --head --port 0 --num-cpus 1 > "$GLINT_TMPDIR/start.log"
grep -q "started glint-dashboard" "$GLINT_TMPDIR/start.log" || fail "the head started no dashboard: $(cat "$GLINT_TMPDIR/start.log")"
grep -q "dashboard and jobs API on http://127.0.0.1:" "$GLINT_TMPDIR/start.log" || fail "glint start did not say where the dashboard is"

out=$(glint job submit -- 'echo "job sees $GLINT_ADDRESS"' 2>&1) || fail "a job that exits 0 made glint job submit fail: $out"
gcs=$(cat "$GLINT_TMPDIR/session_latest/gcs_address")
echo "$out" | grep -q "job sees $gcs" || fail "the job did not get the cluster's address: $out"
echo "$out" | grep -q "SUCCEEDED" || fail "no SUCCEEDED: $out"

rc=0
glint job submit -- 'exit 5' > /dev/null 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "a failed job made glint job submit exit $rc, not 1"

# A job still running when the cluster stops is stopped with it.
id=$(glint job submit --no-wait --submission-id lasting -- sleep 300 2> /dev/null)
[ "$id" = lasting ] || fail "glint job submit --no-wait printed '$id', not the id"
pid=$(glint job status lasting --json | grep -o '"driver_pid": [0-9]*' | grep -o '[0-9]*$')
[ -n "$pid" ] && kill -0 "$pid" || fail "the job's entrypoint does not run"
glint stop > "$GLINT_TMPDIR/stop.log"
head -1 "$GLINT_TMPDIR/stop.log" | grep -q "stopped glint-dashboard" || fail "glint stop did not stop the dashboard first"
for _ in $(seq 1 100); do kill -0 "$pid" 2> /dev/null || break; sleep 0.05; done
kill -0 "$pid" 2> /dev/null && fail "the job's entrypoint outlived glint stop"
grep -q "job 'lasting': JOB_STOPPED" "$GLINT_TMPDIR"/session_latest/logs/dashboard.log || fail "the dashboard did not record the job as stopped"

# Authentication disabled: the jobs API refuses to run anyone's code.
glint start --head --port 0 --num-cpus 1 --auth disabled > /dev/null 2>&1
rc=0
out=$(glint job submit -- touch "$GLINT_TMPDIR/ran" 2>&1) || rc=$?
[ "$rc" -eq 1 ] || fail "a job was accepted by a cluster without authentication (exit $rc): $out"
echo "$out" | grep -q "authentication disabled" || fail "the refusal does not say why: $out"
[ ! -e "$GLINT_TMPDIR/ran" ] || fail "the refused job ran"
mkdir -p "$GLINT_TMPDIR/wd" && echo data > "$GLINT_TMPDIR/wd/file"
rc=0
out=$(glint job submit --working-dir "$GLINT_TMPDIR/wd" -- touch "$GLINT_TMPDIR/ran" 2>&1) || rc=$?
[ "$rc" -eq 1 ] || fail "a working directory was taken by a cluster without authentication (exit $rc): $out"
echo "$out" | grep -q "authentication disabled" || fail "the refused upload does not say why: $out"
[ -z "$(ls -A "$GLINT_TMPDIR"/session_latest/packages 2> /dev/null)" ] || fail "the refused upload was stored"
glint stop > /dev/null
echo "PASS: glint job submit/status/stop, jobs stopped with the cluster, none without authentication"
