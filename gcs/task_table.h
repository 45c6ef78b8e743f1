// TaskTable: the latest state of the cluster's recent tasks and actor calls,
// merged from what their callers (PENDING) and workers (RUNNING, FINISHED,
// FAILED) report (proto/task_events.proto). In memory only, like Ray's task
// events: a restarted GCS starts an empty table.
//
// Merging: the reports of one task (its id) are one record; a newer attempt
// replaces an older one; within an attempt a later state wins whatever
// order the reports come in, and fields a report leaves empty keep what an
// earlier one said. A task the GCS ends itself (its worker, node or job went
// first) is FAILED until a report of its own end arrives.
//
// Bounded: at most max_tasks records; past that the oldest go first and are
// counted as dropped, with what reporters dropped themselves.
// Thread-safe.
#pragma once
#include <cstdint>
#include <deque>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "proto/task_events.pb.h"

namespace glint::gcs {

class TaskTable {
 public:
  static constexpr size_t kMaxTasks = 100000;
  static constexpr int kMaxErrorBytes = 1024;
  static constexpr int kDefaultListed = 1000, kMaxListed = 10000;  // tasks in one List answer

  explicit TaskTable(size_t max_tasks = kMaxTasks) : max_tasks_(max_tasks) {}

  // Merges reports into their tasks' records (under one lock).
  void Add(const google::protobuf::RepeatedPtrField<proto::TaskEvent>& events);
  void Add(const proto::TaskEvent& event);
  // Events a reporter could not send.
  void AddDropped(int64_t n);
  // Tasks still pending or running whose job ended (all but those that
  // outlive it, made by a detached actor), or running on a worker or node
  // that died, become FAILED, `why` their error message.
  void FailJob(const std::string& job_id, int64_t now_ms, const std::string& why);
  void FailWorker(const std::string& worker_id, int64_t now_ms, const std::string& why);
  void FailNode(const std::string& node_id, int64_t now_ms, const std::string& why);

  // Newest first, at most `limit` (see kDefaultListed); `job_id` / `state`
  // empty or NONE: all.
  proto::ListTasksReply List(const std::string& job_id, proto::TaskState state, int limit);
  proto::SummarizeTasksReply Summarize(const std::string& job_id);
  size_t size();

 private:
  struct Record {
    proto::TaskEvent task;
    bool ended_by_gcs = false;  // FAILED because its worker, node or job went
  };
  static void Merge(const proto::TaskEvent& from, Record* into);
  // Fails the pending or running records `match` picks.
  template <typename Match>
  void FailWhere(Match match, int64_t now_ms, proto::ErrorType type, const std::string& why);
  void Evict() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t max_tasks_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Record> records_ ABSL_GUARDED_BY(mu_);  // by task id
  std::deque<std::string> order_ ABSL_GUARDED_BY(mu_);                     // task ids, oldest first
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace glint::gcs
