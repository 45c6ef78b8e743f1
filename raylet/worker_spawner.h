// ProcessSpawner: the real WorkerSpawner. Starts glint-worker processes for a
// node (with what a worker needs to know in its environment), kills them,
// and reaps the ones that exited. It only ever waits for its own children,
// so a raylet can run inside another program (a test). Thread-safe.
#pragma once
#include <optional>
#include <string>

#include "common/auth.h"
#include "raylet/log_monitor.h"
#include "raylet/worker_pool.h"

namespace glint::raylet {

struct SpawnerOptions {
  std::string worker_path;     // the glint-worker binary
  std::string log_dir;         // worker logs go here ("" = inherit stderr)
  std::string gcs_address;
  std::string raylet_address;  // this raylet, HOST:PORT
  std::string node_id;
  std::string node_ip;
  AuthOptions auth;            // the cluster token and TLS files, for the worker's calls
  LogMonitor* monitor = nullptr;  // follows each worker's log file (null: none)
};

class ProcessSpawner : public WorkerSpawner {
 public:
  explicit ProcessSpawner(SpawnerOptions options) : options_(std::move(options)) {}
  absl::StatusOr<pid_t> Spawn(const std::string& worker_id, const proto::JobInfo& job) override;
  void Kill(pid_t pid) override;
  bool Alive(pid_t pid) override;
  // How the child `pid` ended, if it has (it is reaped then); nullopt while it runs.
  std::optional<std::string> Reap(pid_t pid);
  // The log file of a worker: worker-<id>-<pid>.log (named so once its
  // pid is known: `glint list actors` shows an actor's pid).
  std::string LogPath(const std::string& worker_id, pid_t pid) const;

 private:
  const SpawnerOptions options_;
};

// A job's code path a worker may load: a regular file that is executable
// (the job's program) or readable (a shared library, "*.so").
absl::Status CheckCodePath(const std::string& path);

// "exit code 3", "killed by signal 9 (Killed)", ...
std::string DescribeExit(int wait_status);

}  // namespace glint::raylet
