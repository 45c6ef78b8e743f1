// TaskEventService: the GCS's side of task events (proto/task_events.proto):
// reports in, checked and merged into a TaskTable; listings and summaries
// out. Served next to GcsService, on the same completion queue, behind the
// same authentication.
#pragma once
#include "absl/status/status.h"
#include "gcs/task_table.h"
#include "proto/task_events.grpc.pb.h"

namespace glint::gcs {

class TaskEventService final : public proto::TaskEventService::AsyncService {
 public:
  static constexpr int kMaxEventsPerReport = 10000;

  explicit TaskEventService(TaskTable* table) : table_(table) {}
  // Starts taking requests from `cq` (the GCS's queue).
  void Serve(grpc::ServerCompletionQueue* cq);

  // Why `event` cannot go into the table (OK if it can).
  static absl::Status Check(const proto::TaskEvent& event);

 private:
  absl::Status AddTaskEvents(const proto::AddTaskEventsRequest& req, proto::AddTaskEventsReply* reply);
  absl::Status ListTasks(const proto::ListTasksRequest& req, proto::ListTasksReply* reply);
  absl::Status SummarizeTasks(const proto::SummarizeTasksRequest& req, proto::SummarizeTasksReply* reply);

  TaskTable* const table_;
};

}  // namespace glint::gcs
