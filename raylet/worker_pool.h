// WorkerPool: the glint-worker processes of one node.
//
// Worker lifecycle:
//   (Pop finds none idle) -> STARTING --(RegisterWorker)--> LEASED or ACTOR
//   LEASED --(Push: lease returned)--> IDLE --(Pop)--> LEASED
//   IDLE --(idle too long, or its job finished)--> killed
//   any --(process exits)--> gone (OnExit)
// Workers belong to one job (they run that job's code). Thread-safe; pop
// callbacks run without the lock held.
#pragma once
#include <sys/types.h>

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "proto/common.pb.h"

namespace glint::raylet {

// Starts and kills worker processes: the real one spawns glint-worker, tests
// use a fake.
class WorkerSpawner {
 public:
  virtual ~WorkerSpawner() = default;
  virtual absl::StatusOr<pid_t> Spawn(const std::string& worker_id, const proto::JobInfo& job) = 0;
  virtual void Kill(pid_t pid) = 0;
  // False once the process is gone (its exit may not be reaped yet).
  virtual bool Alive(pid_t pid) = 0;
};

struct WorkerInfo {
  enum State { kStarting, kIdle, kLeased, kActor };
  std::string worker_id;
  std::string job_id;
  pid_t pid = 0;
  proto::Address address;
  State state = kStarting;
  int64_t idle_since_ms = 0;
};

class WorkerPool {
 public:
  using PopCallback = std::function<void(absl::StatusOr<WorkerInfo>)>;
  WorkerPool(WorkerSpawner* spawner, proto::Address node_address)
      : spawner_(spawner), node_address_(std::move(node_address)) {}

  // Hands a worker of `job` to `cb`: an idle one now, or a new one once it
  // registers (or an error if it cannot start).
  void Pop(const proto::JobInfo& job, bool for_actor, PopCallback cb);
  // The worker's lease ended; it waits for the next one.
  void Push(const std::string& worker_id, int64_t now_ms);
  // A started worker reports in (with its port, or why it could not start).
  absl::Status OnRegistered(const std::string& worker_id, int port, pid_t pid,
                            const std::string& startup_error);
  // A process exited; returns the worker it was, if any.
  std::optional<WorkerInfo> OnExit(pid_t pid, const std::string& reason);
  // Kills idle workers idle since before `now_ms - idle_ms`.
  void ReapIdle(int64_t now_ms, int64_t idle_ms);
  // Kills (without waiting) the job's task workers (actor workers are killed
  // one by one, by the GCS); with an empty id, every worker.
  void KillJob(const std::string& job_id);
  bool Kill(const std::string& worker_id);
  std::optional<WorkerInfo> Get(const std::string& worker_id);
  // Every worker (at most `limit`); *truncated when there are more.
  std::vector<WorkerInfo> List(size_t limit, bool* truncated);
  int64_t Size();
  // How many workers are in each State (indexed by it).
  std::array<int, 4> CountByState();
  // The processes of every worker (for reaping).
  std::vector<pid_t> Pids();

 private:
  struct Starting {
    bool for_actor;
    PopCallback cb;
  };
  WorkerSpawner* spawner_;
  proto::Address node_address_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, WorkerInfo> workers_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Starting> starting_ ABSL_GUARDED_BY(mu_);
};

}  // namespace glint::raylet
