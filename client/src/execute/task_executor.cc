#include "client/src/execute/task_executor.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "client/src/errors.h"
#include "client/src/execute/call_context.h"
#include "client/src/execute/stored_result.h"
#include "client/src/registry_lookup.h"
#include "common/ids.h"
#include "common/limits.h"
#include "common/logging.h"
#include "common/rpc.h"
#include "common/server_call.h"

namespace glint::internal {

void TaskExecutor::Start(AsyncService* service, grpc::ServerCompletionQueue* cq, QueuePoller* poller) {
  scheduler_ = std::make_unique<CallScheduler>(
      poller, [this](IncomingCall* c) { Dispatch(c); }, [this](IncomingCall* c) { RunAndReply(c); },
      [this](IncomingCall* c, const std::string& why) {
        *c->reply.mutable_result() = ErrorValue(proto::SYSTEM_ERROR, why);
        Reply(c);
      });
  runner_.SetCancelCheck([this](const std::string& id) { return cancelled_.Contains(id); });
  CallTransport::Hooks hooks;
  hooks.acked = [this](const void* stream, const proto::GeneratorAck& ack) { generators_.OnAck(stream, ack); };
  hooks.cancelled = [this](const proto::CancelRequest& cancel) { OnCancel(cancel); };
  hooks.stream_ended = [this](const void* stream) { generators_.EndStream(stream); };
  hooks.lease_opened = [this](const std::string& lease_id) { return leases_.Open(lease_id); };
  hooks.lease_ended = on_lease_ended_;
  transport_ = std::make_unique<CallTransport>(
      service, cq, [this](std::vector<IncomingCall*>& calls) { scheduler_->Admit(calls); }, std::move(hooks));
  transport_->Start();
  using RevokeCall = ServerCall<proto::RevokeUnusedLeaseRequest, proto::RevokeUnusedLeaseReply>;
  RevokeCall::Serve(service, cq, &AsyncService::RequestRevokeUnusedLease, [this](RevokeCall* call) {
    if (call->req.lease_id().empty() || call->req.lease_id().size() > LeaseLedger::kMaxLeaseIdBytes) {
      return call->Finish(absl::InvalidArgumentError("no lease of a raylet's has that id"));
    }
    call->reply.set_revoked(leases_.RevokeIfUnused(call->req.lease_id()));
    if (call->reply.revoked()) VLOG(1) << "no caller used this worker's lease: its raylet takes it back";
    call->Finish(absl::OkStatus());
  });
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
  if (runner_.loop()) {
    if (ReplyIfCancelled(call)) return;
    // A cancel from here on finds it on the loop (or, before it starts
    // there, in cancelled_: the loop looks again).
    auto ctx = std::make_shared<CallContext>(spec.task_id());
    auto items = StartItems(call);
    auto stored = std::make_shared<StoredResult>([this, &spec](size_t size, const std::function<void(char*)>& write) {
      return StoreIfBig(spec, 0, size, write);
    });
    if (events_) events_->Started(spec, NowMs());
    return runner_.RunOnLoop(spec, &call->reply, group, items.get(), std::move(ctx), stored.get(),
                             [this, call, items, stored] {
                               if (!call->reply.result().has_error()) stored->MoveInto(call->reply.mutable_result());
                               Reply(call, items.get());
                             });
  }
  if (scheduler_->has_groups()) return scheduler_->RunInGroup(group, call);
  RunAndReply(call);
}

std::shared_ptr<ItemStream> TaskExecutor::StartItems(IncomingCall* call) {
  if (!call->task().streaming()) return nullptr;
  auto items = std::make_shared<ItemStream>(
      call->task(), [this, call](proto::PushTaskReply& item) { return transport_->SendItem(call, item); }, sink_,
      [this, call](int64_t index, size_t size, const std::function<void(char*)>& write) {
        return StoreIfBig(call->task(), index, size, write);
      },
      discard_);
  generators_.Add(call->task().task_id(), call->stream, items);
  return items;
}

void TaskExecutor::OnCancel(const proto::CancelRequest& cancel) {
  if (!CheckId("a task id", cancel.task_id()).ok()) return;  // no call of ours: nothing to keep
  if (cancel.give_back()) return GiveBack(cancel.task_id());
  auto children = cancelled_.Cancel(cancel.task_id(), cancel.recursive());
  generators_.Close(cancel.task_id());  // a generator stops at its next co_yield
  if (runner_.loop()) runner_.CancelOnLoop(cancel.task_id());
  if (cancel_child_) {
    for (auto& child : children) cancel_child_(child);
  }
}

void TaskExecutor::GiveBack(const std::string& task_id) {
  IncomingCall* call = scheduler_->Withdraw(task_id);
  if (!call) return;  // it started (or ended): its reply says how it went
  call->reply.set_not_run(true);
  transport_->Reply(call);
}

bool TaskExecutor::ReplyIfCancelled(IncomingCall* call) {
  if (!cancelled_.Contains(call->task().task_id())) return false;
  *call->reply.mutable_result() =
      ErrorValue(proto::TASK_CANCELLED, absl::StrCat("'", call->task().function_name(), "' was cancelled before it ran"));
  Reply(call);
  return true;
}

bool TaskExecutor::CurrentCallCancelled() {
  return internal::CurrentCallCancelled([this](const std::string& id) { return cancelled_.Contains(id); });
}

void TaskExecutor::AddChildOfCurrentCall(const RefData& child) {
  if (const std::string* parent = CurrentTask()) cancelled_.AddChild(*parent, child);
}

void TaskExecutor::RunAndReply(IncomingCall* call) {
  if (ReplyIfCancelled(call)) return;
  auto items = StartItems(call);
  if (events_) events_->Started(call->task(), NowMs());
  {
    const auto& spec = call->task();
    ScopedTask running(&spec.task_id());
    StoredResult stored([this, &spec](size_t size, const std::function<void(char*)>& write) {
      return StoreIfBig(spec, 0, size, write);
    });
    StoredResult::OnThisThread packed_here(&stored);
    runner_.Run(spec, &call->reply, items.get());
    stored.MoveInto(call->reply.mutable_result());
  }
  if (call->task().type() == proto::ACTOR_CREATION_TASK && runner_.hosts_actor() &&
      !call->reply.result().has_error()) {
    SetUpActor(call->task());
  }
  Reply(call, items.get());
}

std::optional<proto::ObjectValue> TaskExecutor::StoreIfBig(const proto::TaskSpec& spec, int64_t index, size_t size,
                                                           const std::function<void(char*)>& write) {
  if (size < inline_threshold_) return std::nullopt;
  const std::string& task = spec.task_id();
  return store_(spec, index == 0 ? ReturnObjectId(task, 0) : GeneratorItemId(task, index), size, write);
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

void TaskExecutor::Reply(IncomingCall* call, const ItemStream* items) {
  const auto& spec = call->task();
  cancelled_.Finished(spec.task_id());
  if (items) {  // the items are out: the final reply says how many
    generators_.Remove(spec.task_id());
    call->reply.mutable_result()->set_generator_items(items->emitted());
  }
  if (sink_) sink_(spec, ReturnObjectId(spec.task_id(), 0), call->reply.mutable_result());
  // An actor's creation has the GCS for its caller, which reports nothing.
  if (events_ && spec.type() == proto::ACTOR_CREATION_TASK) events_->Ended(spec, call->reply.result(), NowMs());
  bool exit_now = call->reply.actor_exiting();
  transport_->Reply(call);
  if (!exit_now) return;
  transport_->Wind();
  if (on_exit_) on_exit_();
}

}  // namespace glint::internal
