// TaskEventService: the GCS's side of task events (proto/task_events.proto):
// reports in, checked and merged into a TaskTable; listings and summaries
// out. Served next to GcsService, behind the same authentication.
#pragma once
#include "absl/status/status.h"
#include "gcs/task_table.h"
#include "proto/task_events.grpc.pb.h"

namespace glint::gcs {

class TaskEventService final : public proto::TaskEventService::CallbackService {
 public:
  static constexpr int kMaxEventsPerReport = 10000;

  explicit TaskEventService(TaskTable* table) : table_(table) {}

  grpc::ServerUnaryReactor* AddTaskEvents(grpc::CallbackServerContext* ctx, const proto::AddTaskEventsRequest* req,
                                          proto::AddTaskEventsReply* reply) override;
  grpc::ServerUnaryReactor* ListTasks(grpc::CallbackServerContext* ctx, const proto::ListTasksRequest* req,
                                      proto::ListTasksReply* reply) override;
  grpc::ServerUnaryReactor* SummarizeTasks(grpc::CallbackServerContext* ctx, const proto::SummarizeTasksRequest* req,
                                           proto::SummarizeTasksReply* reply) override;

  // Why `event` cannot go into the table (OK if it can).
  static absl::Status Check(const proto::TaskEvent& event);

 private:
  TaskTable* const table_;
};

}  // namespace glint::gcs
