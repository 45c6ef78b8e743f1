// JobManager: the jobs (one per driver) and when they end.
//
// Job lifecycle:  (RegisterJob) -> RUNNING --(FinishJob, or the driver's
// keep-alive call drops because it exited or died, or it never opened one
// within the grace period)--> FINISHED
// Listeners hear each job finish exactly once. At most kMaxUnprovenJobs
// wait for their driver at once; of the finished jobs, the kMaxFinishedJobs
// that ended last are remembered (and older ones whose detached actors
// live, whose code those actors need to restart). Thread-safe.
#pragma once
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gcs/store.h"
#include "proto/common.pb.h"

namespace glint::gcs {

class JobManager {
 public:
  using FinishListener = std::function<void(const proto::JobInfo&)>;
  explicit JobManager(GcsStore* store) : store_(store) {}

  void AddFinishListener(FinishListener l) { listeners_.push_back(std::move(l)); }
  static constexpr size_t kMaxUnprovenJobs = 1000;
  static constexpr size_t kMaxFinishedJobs = 10000;

  // Assigns the id (a new one, whatever the request said) and an anonymous
  // namespace when none is given. RESOURCE_EXHAUSTED while kMaxUnprovenJobs
  // wait for their drivers.
  absl::StatusOr<proto::JobInfo> Register(proto::JobInfo job, int64_t now_ms);
  // The job's driver opened its keep-alive call: a live driver runs it.
  void MarkDriverAlive(const std::string& job_id);
  // Finishes running jobs registered before `now_ms - grace_ms` whose driver
  // never opened its keep-alive (a request that only looked like a driver).
  void FinishUnproven(int64_t now_ms, int64_t grace_ms);
  // Idempotent; false for an unknown job.
  bool Finish(const std::string& job_id, int64_t now_ms);
  std::optional<proto::JobInfo> Get(const std::string& job_id);
  // More finished jobs than kMaxFinishedJobs are remembered.
  bool TooManyFinished();
  // Forgets the oldest finished jobs beyond kMaxFinishedJobs, except those
  // in `keep` (jobs with actors still alive).
  void ForgetOldFinished(const absl::flat_hash_set<std::string>& keep);
  std::vector<proto::JobInfo> All();
  // At start: reads the jobs back from the store. The running ones wait for
  // their drivers' keep-alive calls as newly registered jobs do (from
  // `now_ms`); they are returned so the caller can ask whether their drivers
  // still answer.
  std::vector<proto::JobInfo> Recover(int64_t now_ms);

 private:
  GcsStore* store_;
  std::vector<FinishListener> listeners_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, proto::JobInfo> jobs_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int64_t> unproven_ ABSL_GUARDED_BY(mu_);  // job -> registered at
  std::deque<std::string> finished_ ABSL_GUARDED_BY(mu_);                    // in the order they finished
};

}  // namespace glint::gcs
