#include "gcs/task_event_service.h"

#include "absl/strings/str_cat.h"
#include "common/limits.h"
#include "common/server_call.h"
#include "common/utf8.h"

namespace glint::gcs {

absl::Status TaskEventService::Check(const proto::TaskEvent& e) {
  for (auto s : {CheckId("a task id", e.task_id()), CheckId("a job id", e.job_id(), /*may_be_empty=*/true),
                 CheckId("an actor id", e.actor_id(), true), CheckId("a node id", e.node_id(), true),
                 CheckId("a worker id", e.worker_id(), true)}) {
    if (!s.ok()) return s;
  }
  if (e.name().size() > kMaxFunctionBytes) return absl::InvalidArgumentError("a task's name is too long");
  if (!proto::TaskState_IsValid(e.state()) || e.state() == proto::TASK_STATE_NONE) {
    return absl::InvalidArgumentError(absl::StrCat("unknown task state ", e.state()));
  }
  if (!proto::TaskType_IsValid(e.type())) return absl::InvalidArgumentError(absl::StrCat("unknown task type ", e.type()));
  if (e.attempt() < 0 || e.worker_pid() < 0 || e.submitted_ms() < 0 || e.started_ms() < 0 || e.ended_ms() < 0) {
    return absl::InvalidArgumentError("a task event's attempt, pid and times are never negative");
  }
  if (e.error_type().size() > kMaxNameBytes) return absl::InvalidArgumentError("a task's error type is too long");
  if (!IsUtf8(e.name()) || !IsUtf8(e.error_type()) || !IsUtf8(e.error_message())) {
    return absl::InvalidArgumentError("a task event's name and error are UTF-8 text");
  }
  return absl::OkStatus();
}

void TaskEventService::Serve(grpc::ServerCompletionQueue* cq) {
  using S = proto::TaskEventService::AsyncService;
  ServeUnary(this, cq, &S::RequestAddTaskEvents, this, &TaskEventService::AddTaskEvents);
  ServeUnary(this, cq, &S::RequestListTasks, this, &TaskEventService::ListTasks);
  ServeUnary(this, cq, &S::RequestSummarizeTasks, this, &TaskEventService::SummarizeTasks);
}

absl::Status TaskEventService::AddTaskEvents(const proto::AddTaskEventsRequest& req, proto::AddTaskEventsReply*) {
  if (req.events_size() > kMaxEventsPerReport || req.dropped() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("a report carries 0 to ", kMaxEventsPerReport, " task events and no negative count"));
  }
  // All or nothing: a reporter that sends one bad event has a bug to see.
  for (int i = 0; i < req.events_size(); ++i) {
    if (auto s = Check(req.events(i)); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("task event ", i, ": ", s.message()));
    }
  }
  table_->Add(req.events());
  table_->AddDropped(req.dropped());
  return absl::OkStatus();
}

absl::Status TaskEventService::ListTasks(const proto::ListTasksRequest& req, proto::ListTasksReply* reply) {
  if (auto s = CheckId("a job id", req.job_id(), /*may_be_empty=*/true); !s.ok()) return s;
  if (!proto::TaskState_IsValid(req.state())) return absl::InvalidArgumentError("unknown task state");
  *reply = table_->List(req.job_id(), req.state(), req.limit());
  return absl::OkStatus();
}

absl::Status TaskEventService::SummarizeTasks(const proto::SummarizeTasksRequest& req,
                                              proto::SummarizeTasksReply* reply) {
  if (auto s = CheckId("a job id", req.job_id(), /*may_be_empty=*/true); !s.ok()) return s;
  *reply = table_->Summarize(req.job_id());
  return absl::OkStatus();
}

}  // namespace glint::gcs
