// TaskEvents: this process's reports to the GCS's task table
// (proto/task_events.proto; glint list tasks, glint summary tasks): of the
// calls it makes, PENDING and then how each ended (FINISHED or FAILED, as
// its caller saw it); of the calls it runs, RUNNING and where. The caller
// reports the end because it always learns it, and lives on after it (a
// job's workers are killed when the job ends, their last reports with them).
//
// Recording is what a call pays: one short lock and a small copy, no RPC.
// The runtime's ticker calls Flush, which sends what gathered (a task's
// events in one batch merged into one) at most every kFlushMs, one report in
// flight at a time; Stop sends the rest and waits for it. Bounded: past
// kMaxBuffered events waiting, more are dropped and counted (the GCS says
// how many in its listings). Thread-safe.
#pragma once
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/node_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "common/async_call.h"
#include "common/ids.h"
#include "proto/common.pb.h"
#include "proto/task_events.grpc.pb.h"

namespace glint::internal {

class TaskEvents {
 public:
  static constexpr int64_t kFlushMs = 1000;
  static constexpr size_t kMaxBuffered = 10000;
  static constexpr size_t kMaxErrorBytes = 1024;

  // `node_id`, `worker_id`, `pid`: where the calls this process runs run.
  TaskEvents(ClientQueue* queue, const std::string& gcs_address, std::string node_id, std::string worker_id, pid_t pid);

  // A caller's: a call made, and its end with its result (`spec` null when
  // only the id is at hand, e.g. a cancel).
  void Submitted(const proto::TaskSpec& spec, int64_t now_ms);
  void Done(const std::string& task_id, const proto::TaskSpec* spec, const proto::ObjectValue& result, int64_t now_ms);
  // A worker's: a call starts to run in this process, and (for an actor's
  // creation, whose caller is the GCS, which does not report) ends.
  void Started(const proto::TaskSpec& spec, int64_t now_ms);
  void Ended(const proto::TaskSpec& spec, const proto::ObjectValue& result, int64_t now_ms);

  // Sends what gathered if kFlushMs passed since the last report and none is
  // in flight (or, with `now`, at once).
  void Flush(int64_t now_ms, bool now = false);
  // Sends what is left and waits up to `timeout_ms` for the GCS to take it.
  void Stop(int64_t timeout_ms);

 private:
  // An id kept without an allocation (Glint's ids are kIdSize bytes).
  struct Id {
    uint8_t size = 0;
    std::array<char, kIdSize> bytes;
    // False when `id` is longer than an id can be here.
    bool Set(const std::string& id);
    std::string str() const { return std::string(bytes.data(), size); }
  };
  // What one call's report holds until it is sent: no allocation unless it failed.
  struct Event {
    Id task_id, job_id, actor_id;
    const std::string* name = nullptr;  // in names_
    std::string error_type, error_message;
    proto::TaskType type = proto::NORMAL_TASK;
    proto::TaskState state = proto::TASK_STATE_NONE;
    int32_t attempt = 0;
    int64_t ms = 0;
    bool here = false;  // ran in this process: where it ran goes with it
    bool outlives_job = false;
  };
  void Record(const std::string& task_id, const proto::TaskSpec* spec, proto::TaskState state, bool here,
              int64_t now_ms, const proto::ObjectValue* result);
  // Takes what gathered, as one report (a task's events merged).
  proto::AddTaskEventsRequest TakeReport();

  ClientQueue* const queue_;
  std::unique_ptr<proto::TaskEventService::Stub> stub_;
  const std::string node_id_, worker_id_;
  const pid_t pid_;
  absl::Mutex mu_;
  std::vector<Event> events_ ABSL_GUARDED_BY(mu_);
  // The functions' names, each kept once (a process calls and runs a few
  // hundred at most; past kMaxNames a call's events are dropped).
  static constexpr size_t kMaxNames = 10000;
  absl::node_hash_set<std::string> names_ ABSL_GUARDED_BY(mu_);
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  bool in_flight_ ABSL_GUARDED_BY(mu_) = false;
  int64_t last_flush_ms_ ABSL_GUARDED_BY(mu_) = 0;
  bool lost_said_ ABSL_GUARDED_BY(mu_) = false;  // a failed report was logged (once until one succeeds)
};

}  // namespace glint::internal
