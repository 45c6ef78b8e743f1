// ForkServers: one warm process per job on this node that forks the job's
// new workers (common/fork_server_protocol.h), so a new actor or task worker
// costs a fork instead of an exec, the dynamic linking of some sixty
// libraries and the job's static initialisers (most of a worker's start-up:
// 60-70 ms of CPU each, measured). Each worker is still its own process.
//
// A job's first worker on a node starts the job's server beside it; once
// the server says it is ready, the job's workers are forked from it. The
// workers asked for meanwhile wait for it (StartingSoon; a few seconds at
// most); for good once a server failed (its program runs threads before
// glint::Init(), it crashed, it stopped answering), workers start from
// scratch as before: Fork() returning nullopt means "spawn it yourself".
//
// Forked workers are orphaned on purpose (common/fork_server_protocol.h):
// the raylet, a child subreaper, adopts them and reaps them as its own.
// Thread-safe.
#pragma once
#include <sys/types.h>

#include <map>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"

namespace glint::raylet {

class ForkServers {
 public:
  // `worker_path`: glint-worker; `log_dir`: where a server's own log goes
  // ("" = inherit stderr).
  ForkServers(std::string worker_path, std::string log_dir)
      : worker_path_(std::move(worker_path)), log_dir_(std::move(log_dir)) {}
  ~ForkServers() { EndJob(""); }

  // A worker of `job_id` (hex id `worker_id_hex`, stdout and stderr to
  // `log_path`) forked by the job's server: its pid, or nullopt when the
  // job has no server ready. A job with none gets one started, with `env`
  // (what a worker of the job gets, but its id) for the next workers.
  std::optional<pid_t> Fork(const std::string& job_id, const std::map<std::string, std::string>& env,
                            const std::string& worker_id_hex, const std::string& log_path);
  // Whether the job's server is starting and may be ready soon (it started
  // less than kReadySoonMs ago): its next workers had better wait for it
  // than start from scratch. False once it is ready, failed, or slow.
  bool StartingSoon(const std::string& job_id);
  static constexpr int64_t kReadySoonMs = 5000;
  // Stops the job's server (every server for ""); the job gets no new one.
  // (The pool calls it once the ended job's last worker on the node is gone.)
  void EndJob(const std::string& job_id);
  // Reaps the servers that exited (a running one that did is failed).
  void ReapExited();
  // Whether `pid` is a server (running, or killed and not reaped yet).
  bool IsServer(pid_t pid);

 private:
  enum class State { kStarting, kReady, kFailed };
  struct Server {
    State state = State::kStarting;
    pid_t pid = 0;
    int sock = -1;  // our end
    int64_t started_ms = 0;
  };
  void Start(const std::string& job_id, const std::map<std::string, std::string>& env)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Reads the server's first word if it came: kReady, or kFailed.
  void CheckStarted(const std::string& job_id, Server& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Stops `s` for good (its job's workers start from scratch), saying why.
  void Fail(const std::string& job_id, Server& s, const std::string& why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static void Close(Server& s);
  // Reaps the killed servers that are gone; how many are left.
  size_t ReapKilled() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string worker_path_;
  const std::string log_dir_;
  absl::Mutex mu_;  // held across one fork round trip (about a millisecond)
  absl::flat_hash_map<std::string, Server> servers_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> ended_ ABSL_GUARDED_BY(mu_);  // bounded: cleared past kMaxEnded
  absl::flat_hash_set<pid_t> killed_ ABSL_GUARDED_BY(mu_);       // servers killed, not reaped yet
};

}  // namespace glint::raylet
