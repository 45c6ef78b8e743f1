#include "client/src/execute/task_executor.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "client/src/errors.h"
#include "client/src/registry_lookup.h"

namespace glint::internal {

void TaskExecutor::Start(AsyncService* service, grpc::ServerCompletionQueue* cq, QueuePoller* poller) {
  scheduler_ = std::make_unique<CallScheduler>(
      poller, [this](IncomingCall* c) { Dispatch(c); }, [this](IncomingCall* c) { RunAndReply(c); },
      [this](IncomingCall* c, const std::string& why) {
        *c->reply.mutable_result() = ErrorValue(proto::SYSTEM_ERROR, why);
        Reply(c);
      });
  transport_ = std::make_unique<CallTransport>(service, cq,
                                               [this](std::vector<IncomingCall*>& calls) { scheduler_->Admit(calls); });
  transport_->Start();
  scheduler_->Start();
}

void TaskExecutor::Stop(absl::Duration grace) {
  if (scheduler_) scheduler_->Stop(grace);
  runner_.Stop();
}

void TaskExecutor::Dispatch(IncomingCall* call) {
  const auto& spec = call->task();
  if (spec.type() != proto::ACTOR_TASK) return RunAndReply(call);
  std::string group = spec.concurrency_group().empty() ? DefaultGroupOf(spec.function_name())
                                                       : spec.concurrency_group();
  if (!group.empty() && std::find(group_names_.begin(), group_names_.end(), group) == group_names_.end()) {
    std::string have;
    for (auto& g : group_names_) absl::StrAppend(&have, have.empty() ? "" : ", ", g);
    *call->reply.mutable_result() = ErrorValue(
        proto::TASK_ERROR, absl::StrCat("unknown concurrency group '", group, "' for '", spec.function_name(),
                                        "'; the actor has ", have.empty() ? "none" : have,
                                        " (see SetConcurrencyGroups)"));
    call->reply.mutable_result()->mutable_error()->set_exception_type("glint::Error");
    return Reply(call);
  }
  if (runner_.loop()) return runner_.RunOnLoop(spec, &call->reply, group, [this, call] { Reply(call); });
  if (scheduler_->has_groups()) return scheduler_->RunInGroup(group, call);
  RunAndReply(call);
}

void TaskExecutor::RunAndReply(IncomingCall* call) {
  runner_.Run(call->task(), &call->reply);
  if (call->task().type() == proto::ACTOR_CREATION_TASK && runner_.hosts_actor() &&
      !call->reply.result().has_error()) {
    SetUpActor(call->task());
  }
  Reply(call);
}

void TaskExecutor::SetUpActor(const proto::TaskSpec& creation) {
  std::map<std::string, int> groups(creation.concurrency_groups().begin(), creation.concurrency_groups().end());
  for (auto& [name, limit] : groups) group_names_.push_back(name);
  if (runner_.loop()) return;  // the loop has its groups already
  if (groups.empty()) {
    // A threaded actor: more queue threads.
    if (creation.max_concurrency() > 1) scheduler_->AddThreads(creation.max_concurrency() - 1);
    return;
  }
  // With groups, the queue thread only hands calls out, so a busy group
  // never stops calls for the others from arriving.
  groups[""] = std::max(1, creation.max_concurrency());
  scheduler_->MakeGroups(groups);
}

void TaskExecutor::Reply(IncomingCall* call) {
  if (sink_) sink_(call->task(), call->reply.mutable_result());
  bool exit_now = call->reply.actor_exiting();
  transport_->Reply(call);
  if (!exit_now) return;
  transport_->Wind();
  if (on_exit_) on_exit_();
}

}  // namespace glint::internal
