// Config: how a driver connects to (or starts) a cluster.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace glint {

struct Config {
  // The GCS, "HOST:PORT". Empty: the GLINT_ADDRESS environment variable, and
  // without that a private single-node cluster that Shutdown() stops.
  std::string address;
  // The job's namespace for named actors; empty: GLINT_NAMESPACE, else an
  // anonymous namespace of this job's own.
  std::string namespace_;
  // Where workers load this job's code from: an executable built with the
  // job's remote functions (re-run in worker mode) and/or shared libraries.
  // Empty: this driver's own executable.
  std::vector<std::string> code_search_path;
  // This process's address as others reach it (its objects are read and its
  // calls answered there). Empty: $GLINT_NODE_IP, else 127.0.0.1. A driver
  // in a container or on another host sets it to an address the cluster's
  // nodes reach (in Kubernetes, the pod's IP).
  std::string node_ip;
  // The raylet this driver submits through, "HOST:PORT". Empty:
  // $GLINT_LOCAL_RAYLET, else a node on node_ip (the head node first). Set
  // it to run a driver "on" a worker node that shares a host with the head.
  std::string local_raylet;
  // The cluster's token. Empty: $GLINT_AUTH_TOKEN, else the one a cluster
  // started on this machine recorded for the address (glint start, or the
  // private cluster). Another host gets it with `glint get-auth-token`.
  std::string auth_token;
  // TLS, PEM files: this driver's certificate and key (a driver serves its
  // objects to the cluster, so it has its own) and the CA that signed the
  // cluster's certificates. Empty: $GLINT_TLS_CERT, $GLINT_TLS_KEY and
  // $GLINT_TLS_CA, else what a cluster started on this machine recorded.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  // Require a certificate of whoever calls this driver (as a cluster started
  // with --tls-mutual does); $GLINT_TLS_MUTUAL=1 alike.
  bool tls_mutual = false;
  // Check the cluster's certificates for this name rather than each node's
  // address (one certificate for every node); $GLINT_TLS_SERVER_NAME.
  std::string tls_server_name;
  // How long a call that needs the GCS (Init, creating or looking up an
  // actor, placement groups) waits for a GCS that does not answer (it is
  // restarting) before it fails with ConnectionError. Calls between actors,
  // tasks and objects go worker to worker and need no GCS.
  int64_t gcs_reconnect_timeout_ms = 60000;
  // What the job's workers print (stdout and stderr) appears on this
  // driver's stderr, each line prefixed with where it came from, e.g.
  // "(Counter pid=1234 node=7f81c2d0) ..."; false: only in the workers' log
  // files (`glint logs`). $GLINT_LOG_TO_DRIVER=0 turns it off too.
  bool log_to_driver = true;
  // The job's calls (tasks, actor creation, actor calls) are reported to the
  // GCS as they are submitted, run and end, for `glint list tasks` and
  // `glint summary tasks` (batched once a second, off the call's path);
  // false, or $GLINT_TASK_EVENTS=0: not.
  bool task_events = true;
  // For the private cluster only.
  double num_cpus = -1;
  std::map<std::string, double> resources;
  // Print a stack trace to stderr when this process crashes (installs
  // glog's failure signal handlers, replacing the program's own).
  bool crash_handler = false;
};

}  // namespace glint
