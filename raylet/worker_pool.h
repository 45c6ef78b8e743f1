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
#include <atomic>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/recent_set.h"
#include "proto/common.pb.h"
#include "proto/raylet.pb.h"

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
  // The job ended on this node and its last worker there has exited ("":
  // every job, the node stops): what it kept for starting workers goes.
  virtual void JobEnded(const std::string& /*job_id*/) {}
  // Whether a new worker of the job had better wait a moment than start now
  // (its job's fork server is about to be ready: a fork then costs far less
  // than a start from scratch).
  virtual bool ShouldWait(const std::string& /*job_id*/) { return false; }
};

// What a worker is asked for. An actor's worker is its own until the GCS
// says. A detached actor's outlives its job, and so do the workers of the
// work it makes (proto::TaskSpec.root_detached_actor): its tasks'
// (kDetachedTask) and its actors' (kDetachedActor, detached or not).
enum class WorkerFor { kTask, kActor, kDetachedActor, kDetachedTask };
inline bool ForTask(WorkerFor use) { return use == WorkerFor::kTask || use == WorkerFor::kDetachedTask; }
inline bool OutlivesJob(WorkerFor use) { return use == WorkerFor::kDetachedActor || use == WorkerFor::kDetachedTask; }
// What a lease request asks for.
WorkerFor UseOf(const proto::LeaseRequest& req);
inline bool OutlivesJob(const proto::LeaseRequest& req) { return OutlivesJob(UseOf(req)); }

struct WorkerInfo {
  enum State { kStarting, kIdle, kLeased, kActor };
  std::string worker_id;
  std::string job_id;
  pid_t pid = 0;
  proto::Address address;
  State state = kStarting;
  int64_t idle_since_ms = 0;
  bool outlives_job = false;  // kLeased for work that outlives its job (kDetachedTask)
};

class WorkerPool {
 public:
  using PopCallback = std::function<void(absl::StatusOr<WorkerInfo>)>;
  // At most `max_starting` workers start at once (0: no limit): a burst of
  // requests (a driver creating 1,000 actors) starts processes a few at a
  // time, in the order asked, instead of starving the node (its heartbeats
  // among the rest) with all of them at once, as Ray's
  // maximum_startup_concurrency does.
  WorkerPool(WorkerSpawner* spawner, proto::Address node_address, size_t max_starting = 0)
      : spawner_(spawner), node_address_(std::move(node_address)), max_starting_(max_starting) {}

  // Hands a worker of `job` to `cb`: an idle one now, or a new one once it
  // registers (or an error if it cannot start: UNAVAILABLE when its process
  // died before it was ready or the node stops, FAILED_PRECONDITION when it
  // reported why it could not start, CANCELLED when the job ended). Past the start-up limit,
  // or while the job's fork server is about to be ready, the request waits
  // its turn.
  void Pop(const proto::JobInfo& job, WorkerFor use, PopCallback cb);
  // The worker's lease ended; it waits for the next one.
  void Push(const std::string& worker_id, int64_t now_ms);
  // A started worker reports in (with its port, or why it could not start).
  absl::Status OnRegistered(const std::string& worker_id, int port, pid_t pid,
                            const std::string& startup_error);
  // A process exited; returns the worker it was, if any.
  std::optional<WorkerInfo> OnExit(pid_t pid, const std::string& reason);
  // Kills idle workers idle since before `now_ms - idle_ms`.
  void ReapIdle(int64_t now_ms, int64_t idle_ms);
  // Kills (without waiting) the job's task workers; with an empty id, every
  // worker. Its requests still waiting to start a worker fail, as do its
  // workers being started at this moment (killed as soon as their process
  // is there) and its later requests, all but those that outlive it
  // (OutlivesJob: its detached actors and the work they make), whose
  // leased task workers go on too. Its started actors are left to the GCS,
  // which kills those that do not outlive it. The spawner hears that the
  // job ended (WorkerSpawner::JobEnded) once its last worker has exited.
  void KillJob(const std::string& job_id);
  bool Kill(const std::string& worker_id);
  std::optional<WorkerInfo> Get(const std::string& worker_id);
  // Every worker (at most `limit`); *truncated when there are more.
  std::vector<WorkerInfo> List(size_t limit, bool* truncated);
  int64_t Size();
  // Requests waiting for a start-up slot, or for their job's fork server.
  size_t Waiting();
  // Starts the queued requests there is room for, and whose job's fork
  // server is ready (or will not be soon): on every change that may let one
  // start, and on the raylet's reaping tick (a fork server saying "ready"
  // calls no one).
  void ServeWaiting();
  // How many workers are in each State (indexed by it).
  std::array<int, 4> CountByState();
  // The processes of every worker (for reaping).
  std::vector<pid_t> Pids();

 private:
  struct Starting {
    WorkerFor use;
    PopCallback cb;
    bool job_ended = false;  // KillJob ran while its process was being made
  };
  struct Request {
    proto::JobInfo job;
    WorkerFor use = WorkerFor::kTask;
    PopCallback cb;
  };
  // Why a request gets no worker because KillJob ended its job: CANCELLED,
  // or UNAVAILABLE once the node stops (KillJob("")).
  absl::Status Ended() const;
  // Pop's work: an idle worker, or a new one; the request back when there
  // is no room or it should wait (ShouldWait), for the caller to queue.
  std::optional<Request> Serve(Request r);
  bool Full() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return max_starting_ > 0 && starting_.size() >= max_starting_;
  }

  WorkerSpawner* spawner_;
  proto::Address node_address_;
  const size_t max_starting_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, WorkerInfo> workers_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Starting> starting_ ABSL_GUARDED_BY(mu_);
  std::deque<Request> waiting_ ABSL_GUARDED_BY(mu_);
  // Jobs KillJob ended, the latest kMaxEndedJobs of them (a task lease
  // granted after its job ended must not start a worker).
  static constexpr size_t kMaxEndedJobs = 4096;
  RecentSet ended_jobs_ ABSL_GUARDED_BY(mu_){kMaxEndedJobs};
  std::atomic<bool> stopping_ = false;  // KillJob("") ran: every job ended with the node
  // Ended jobs with workers left (their detached actors, the work those
  // make, and the workers on their way out): what the job kept for starting
  // workers (its fork server) stays until the last of them has exited, so
  // the work that outlives the job is still forked. At most one entry per
  // worker.
  absl::flat_hash_set<std::string> lingering_ ABSL_GUARDED_BY(mu_);
  bool HasWorkersLocked(const std::string& job_id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After a worker of `job_id` went: whether it was the last of an ended
  // job (which then lingers no more: the caller tells the spawner).
  bool LastOfEndedJobLocked(const std::string& job_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
};

}  // namespace glint::raylet
