#!/usr/bin/env bash
# The Kubernetes manifests parse (every document, anchors and merge keys
# resolved as Kubernetes' YAML reader does) and say what a running cluster
# needs: probes that run `glint health`, resources with the raylets' CPUs
# taken from their limits, a memory-backed /dev/shm for the object store,
# images used as built locally (never :latest, never pulled), a driver Job
# that joins with its pod's IP; every daemon flag in them is one the
# binaries know, and the driver it runs is one the image installs.
# Usage: kubernetes_test.sh SOURCE_DIR BIN_DIR. Exit 77 (skipped) without
# python3-yaml (Debian has no kubeconform).
set -euo pipefail
src=$1
bin=$2
if ! python3 -c 'import yaml' 2> /dev/null; then
  echo "SKIP: python3-yaml is not installed (Debian package python3-yaml)"
  exit 77
fi
fail() { echo "FAIL: $*"; exit 1; }
manifest=$src/deploy/kubernetes/glint.yaml

flags=$(mktemp)
trap 'rm -f "$flags"' EXIT
python3 - "$manifest" "$src/deploy/container/Dockerfile" "$flags" <<'PY'
import re, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
dockerfile = open(sys.argv[2]).read()
errors = []
used_flags = set()
def check(ok, what):
    if not ok:
        errors.append(what)
kinds = {}
for d in docs:
    check("apiVersion" in d and "kind" in d and "name" in d.get("metadata", {}), "a document without apiVersion, kind or name")
    kinds.setdefault(d["kind"], []).append(d)
check(len(kinds.get("Deployment", [])) == 2, "a head and a worker Deployment")
check(len(kinds.get("Job", [])) == 1, "a driver Job")
check(len(kinds.get("Service", [])) == 1 and kinds["Service"][0]["metadata"]["name"] == "glint-head", "the head's Service")
for d in kinds.get("Deployment", []) + kinds.get("Job", []):
    name = d["metadata"]["name"]
    pod = d["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    check(pod.get("securityContext", {}).get("runAsNonRoot") is True, f"{name}: runs as non-root")
    for c in pod["containers"]:
        where = f"{name}/{c['name']}"
        image = c["image"]
        check(":" in image and not image.endswith(":latest") and "/" not in image, f"{where}: a local, tagged image ({image})")
        check(c.get("imagePullPolicy") in ("IfNotPresent", "Never"), f"{where}: imagePullPolicy IfNotPresent or Never")
        res = c.get("resources", {})
        check("cpu" in res.get("requests", {}) and "memory" in res.get("limits", {}), f"{where}: resources requested and limited")
        env = {e["name"]: e for e in c.get("env", [])}
        check("GLINT_AUTH_TOKEN" in env and "secretKeyRef" in env["GLINT_AUTH_TOKEN"].get("valueFrom", {}), f"{where}: the token from the Secret")
        command = " ".join(c.get("command", []))
        for daemon in ("glint-gcs", "glint-raylet", "glint-dashboard"):
            for part in re.findall(daemon + r"((?:[ ,\"]+--[a-z_]+(?:=[^ \"]*)?)+)", command):
                used_flags.update((daemon, f) for f in re.findall(r"--[a-z_]+", part))
        if d["kind"] == "Deployment":
            for probe in ("readinessProbe", "livenessProbe"):
                p = c.get(probe, {})
                probe_command = " ".join(p.get("exec", {}).get("command", []))
                if "glint-dashboard" in command:  # an HTTP server: its probe asks the jobs API
                    check("glint job list --dashboard 127.0.0.1:8265" in probe_command, f"{where}: a {probe} asking the dashboard")
                else:
                    check("glint health" in probe_command, f"{where}: a {probe} running glint health")
        if "glint-raylet" in command:
            check("--num_cpus=$GLINT_NUM_CPUS" in command, f"{where}: --num_cpus from the container's limit")
            ref = env.get("GLINT_NUM_CPUS", {}).get("valueFrom", {}).get("resourceFieldRef", {})
            check(ref.get("resource") == "limits.cpu" and ref.get("containerName") == c["name"], f"{where}: GLINT_NUM_CPUS is limits.cpu")
            shm = [m for m in c.get("volumeMounts", []) if m["mountPath"] == "/dev/shm"]
            check(len(shm) == 1 and volumes.get(shm[0]["name"], {}).get("emptyDir", {}).get("medium") == "Memory",
                  f"{where}: /dev/shm is a memory-backed emptyDir")
        if d["kind"] == "Job":
            check(env.get("GLINT_NODE_IP", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "status.podIP",
                  f"{where}: GLINT_NODE_IP is the pod's IP")
            check(env.get("GLINT_ADDRESS", {}).get("value") == "glint-head:6380", f"{where}: GLINT_ADDRESS is the head's Service")
            program = c["command"][0].rsplit("/", 1)[-1]
            check(c["command"][0].startswith("/opt/glint/bin/") and program in dockerfile, f"{where}: runs a driver the image installs")
check(("glint-gcs", "--tls_cert_file") in used_flags and ("glint-raylet", "--num_cpus") in used_flags
      and ("glint-dashboard", "--gcs_address") in used_flags,
      "the daemons' flags were found in the manifests")
with open(sys.argv[3], "w") as out:
    for daemon, flag in sorted(used_flags):
        out.write(f"{daemon} {flag}\n")
if errors:
    print("\n".join("FAIL: " + e for e in errors))
    sys.exit(1)
print(f"ok: {len(docs)} documents parse and hold what a cluster needs")
PY

# Every daemon flag the manifests pass is one the binaries know.
while read -r daemon flag; do
  known=$("$bin/$daemon" --helpfull 2>&1 || true)
  grep -qE -- "^ +$flag " <<< "$known" || fail "$daemon has no flag $flag"
done < "$flags"
echo "ok: every daemon flag in the manifests is one the binaries take"
# What `glint health` and `glint job list` in the probes take.
grep -q -- "--address" <<< "$("$bin/glint" health --help)" || fail "glint health takes no --address"
grep -q -- "--dashboard" <<< "$("$bin/glint" job list --help)" || fail "glint job list takes no --dashboard"
echo "PASS"
