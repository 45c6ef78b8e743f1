// ProcessSpawner: the real WorkerSpawner. Starts glint-worker processes for a
// node (with what a worker needs to know in its environment) — forked by the
// job's fork server when it has one ready —, kills them, and reaps the ones
// that exited. To adopt the forked workers it makes this process a child
// subreaper, so it also reaps other orphans that end up here (what a worker
// started and left behind), never a child it did not start or adopt.
// Thread-safe.
#pragma once
#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "common/auth.h"
#include "raylet/fork_servers.h"
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
  // Fork each job's workers from a warm server of the job (raylet/fork_servers.h);
  // false: start every worker from scratch.
  bool fork_workers = true;
};

class ProcessSpawner : public WorkerSpawner {
 public:
  explicit ProcessSpawner(SpawnerOptions options);
  absl::StatusOr<pid_t> Spawn(const std::string& worker_id, const proto::JobInfo& job) override;
  void Kill(pid_t pid) override;
  bool Alive(pid_t pid) override;
  void JobEnded(const std::string& job_id) override;
  bool ShouldWait(const std::string& job_id) override { return forks_ && forks_->StartingSoon(job_id); }
  // How the child `pid` ended, if it has (it is reaped then); nullopt while it runs.
  std::optional<std::string> Reap(pid_t pid);
  // Reaps the fork servers and adopted orphans that exited.
  void ReapOthers();
  // Workers started so far: forked by a fork server, and started from scratch.
  int64_t forked() const { return forked_; }
  int64_t spawned() const { return spawned_; }
  // The log file of a worker: worker-<id>-<pid>.log (named so once its
  // pid is known: `glint list actors` shows an actor's pid).
  std::string LogPath(const std::string& worker_id, pid_t pid) const;

 private:
  const SpawnerOptions options_;
  std::unique_ptr<ForkServers> forks_;  // null: fork_workers is off (or not possible here)
  std::atomic<int64_t> forked_{0}, spawned_{0};
  absl::Mutex mu_;
  absl::flat_hash_set<pid_t> children_ ABSL_GUARDED_BY(mu_);  // workers started or adopted, not reaped
};

// A job's code path a worker may load: a regular file that is executable
// (the job's program) or readable (a shared library, "*.so").
absl::Status CheckCodePath(const std::string& path);

// "exit code 3", "killed by signal 9 (Killed)", ...
std::string DescribeExit(int wait_status);

}  // namespace glint::raylet
