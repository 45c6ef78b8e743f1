// Starting and stopping Glint daemons as background processes, as the glint
// CLI, Init() (a private cluster) and the tests do.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/tls.h"

namespace glint {

struct Daemon {
  std::string name;
  pid_t pid = 0;
  std::string address;  // HOST:PORT it listens on
};

struct NodeOptions {
  std::string gcs_address;          // empty: start a GCS too (head node)
  std::string host = "127.0.0.1";
  int gcs_port = 6380;              // head only; 0 picks a free port
  // Head only: where the GCS keeps its tables (glint-gcs --store); empty:
  // DefaultGcsStore(session_dir). A redis:// store without a namespace gets
  // the session's name as one.
  std::string gcs_store;
  // Head only: the dashboard's port (its HTTP endpoint and job
  // supervisor, glint-dashboard); 0 picks a free one, < 0 starts none.
  int dashboard_port = -1;
  double num_cpus = -1;
  double num_gpus = -1;  // < 0: the raylet detects the node's GPUs
  std::string resources_json;
  std::string session_dir;          // logs go to <session_dir>/logs
  // Where this node's raylet and workers write their logs, and spill
  // (beside the logs, unless a flag says where), instead: a directory of
  // their own, for a node that shares its session with another node of
  // this machine (its files would be listed by both). Must exist.
  std::string node_dir;
  pid_t watch_pid = 0;              // daemons exit when this process is gone (0: never)
  std::vector<std::string> extra_raylet_flags;
  // The cluster token (auth.h). A head node makes one when it is empty; a
  // node joining a cluster needs it. With auth_disabled the daemons take
  // calls from anyone (and say so at every start).
  std::string auth_token;
  bool auth_disabled = false;
  // TLS for the daemons (and the workers they start); none: local
  // credentials, loopback only while authentication is on.
  TlsFiles tls;
};

// A Glint program: $GLINT_BIN_DIR, beside Glint's libraries (../bin), beside
// this executable, or on PATH. Empty when not found.
std::string FindBinary(const std::string& name);
// Starts the GCS (head) and a raylet, and the dashboard (head, when asked
// for), waits until they are ready. The
// session directory records the cluster's address, token and TLS settings
// (session.h), where drivers and the CLI on this machine find them. On an
// error, whatever it started is stopped again.
absl::StatusOr<std::vector<Daemon>> StartNode(const NodeOptions& options);
// A GCS alone, as the head node's (its port and store): to start it again
// after it died, with what it wrote before.
absl::StatusOr<Daemon> StartGcs(const NodeOptions& options);
// A dashboard alone, for the head whose GCS is at options.gcs_address (on
// options.dashboard_port, 0 or less: a free one): to start it again after
// it died.
absl::StatusOr<Daemon> StartDashboard(const NodeOptions& options);
// A SQLite file in the session directory.
std::string DefaultGcsStore(const std::string& session_dir);
// A raylet's object store directory, named after its pid, under `parent`
// (/dev/shm unless --object_store_dir says otherwise).
std::string ObjectStoreDir(const std::string& parent, pid_t raylet_pid);
// Removes the object store directories under `parent` whose raylet is gone
// (killed before it could remove its own).
void RemoveStaleObjectStores(const std::string& parent);
// SIGTERM, then SIGKILL after `grace_ms`; returns once the process is gone.
void StopDaemon(pid_t pid, int grace_ms);

}  // namespace glint
