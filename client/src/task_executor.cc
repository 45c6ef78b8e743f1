#include "client/src/task_executor.h"

#include "absl/strings/str_cat.h"
#include "client/src/errors_convert.h"
#include "client/src/registry_lookup.h"
#include "common/logging.h"

namespace glint::internal {
namespace {
thread_local bool t_in_normal_task = false;
}  // namespace

// One PushTask call: accepted (kWaiting), then run and answered (kReplying).
struct TaskExecutor::Call {
  enum State { kWaiting, kReplying } state = kWaiting;
  grpc::ServerContext ctx;
  proto::PushTaskRequest req;
  proto::PushTaskReply reply;
  grpc::ServerAsyncResponseWriter<proto::PushTaskReply> responder{&ctx};
};

namespace {
constexpr int kAcceptSlots = 16;  // calls the server may hand us before we ask again
}  // namespace

void TaskExecutor::Start(AsyncService* service, grpc::ServerCompletionQueue* cq) {
  service_ = service;
  cq_ = cq;
  for (int i = 0; i < kAcceptSlots; ++i) Accept();
  absl::MutexLock lock(&mu_);
  AddThreads(1);
}

void TaskExecutor::Accept() {
  auto* c = new Call();
  service_->RequestPushTask(&c->ctx, &c->req, &c->responder, cq_, cq_, c);
}

void TaskExecutor::AddThreads(int n) {
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Loop(); });
}

void TaskExecutor::Stop(bool detach) {
  if (!cq_) return;
  cq_->Shutdown();
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) {
    if (detach || t.get_id() == std::this_thread::get_id()) {
      t.detach();
    } else {
      t.join();
    }
  }
}

bool TaskExecutor::executing_normal_task() const { return t_in_normal_task; }

void TaskExecutor::Admit(Call* call) {
  const auto& spec = call->req.task();
  absl::MutexLock lock(&mu_);
  if (spec.type() != proto::ACTOR_TASK) {
    ready_.push_back(call);
    return;
  }
  auto& c = callers_[spec.caller_id()];
  if (spec.sequence_number() > c.next) {
    c.early.emplace(spec.sequence_number(), call);
    return;
  }
  // In order (or a resend of an older one): run it, then any that it unblocks.
  ready_.push_back(call);
  if (spec.sequence_number() == c.next) {
    ++c.next;
    for (auto it = c.early.begin(); it != c.early.end() && it->first == c.next; it = c.early.erase(it)) {
      ready_.push_back(it->second);
      ++c.next;
    }
  }
}

void TaskExecutor::Loop() {
  while (true) {
    Call* call = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (!ready_.empty()) {
        call = ready_.front();
        ready_.pop_front();
      }
    }
    if (call) {
      RunAndReply(call);
      continue;
    }
    void* tag = nullptr;
    bool ok = false;
    if (!cq_->Next(&tag, &ok)) return;  // the queue is shut down and drained
    call = static_cast<Call*>(tag);
    if (call->state == Call::kReplying || !ok) {  // reply sent, or server shutting down
      delete call;
      continue;
    }
    Accept();
    const auto& t = call->req.task();
    if (t.task_id().empty() || t.function_name().empty()) {
      call->state = Call::kReplying;
      call->responder.FinishWithError(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "a task needs an id and a function name"), call);
      continue;
    }
    Admit(call);
  }
}

void TaskExecutor::RunAndReply(Call* call) {
  t_in_normal_task = call->req.task().type() == proto::NORMAL_TASK;
  Execute(call->req.task(), &call->reply);
  t_in_normal_task = false;
  bool exit_now = call->reply.actor_exiting();
  call->state = Call::kReplying;
  call->responder.Finish(call->reply, grpc::Status::OK, call);
  if (exit_now && on_exit_) on_exit_();
}

void TaskExecutor::Execute(const proto::TaskSpec& spec, proto::PushTaskReply* reply) {
  auto* result = reply->mutable_result();
  const std::string& fn = spec.function_name();
  std::string where = absl::StrCat(fn, " on ", where_);
  // Arguments: inline values as they are, references resolved first.
  Args args;
  args.reserve(spec.args_size());
  for (auto& a : spec.args()) {
    if (a.has_ref()) {
      proto::ObjectValue v = resolver_(a.ref());
      if (v.error().type() != proto::ERROR_NONE) {
        *result = std::move(v);
        return;
      }
      args.push_back(std::move(*v.mutable_data()));
    } else {
      args.push_back(a.value());
    }
  }
  auto not_found = [&](const char* what) {
    *result = ErrorValue(proto::FUNCTION_NOT_FOUND,
                         absl::StrCat(what, " '", fn, "' is not registered in the job's code (",
                                      code_paths_, "); add it to GLINT_REMOTE(...) and rebuild"));
  };
  try {
    switch (spec.type()) {
      case proto::NORMAL_TASK: {
        auto* f = FindFunction(fn);
        if (!f) return not_found("the function");
        result->set_data((*f)(args));
        return;
      }
      case proto::ACTOR_CREATION_TASK: {
        auto* f = FindFactory(fn);
        if (!f) return not_found("the actor factory");
        restarted_ = spec.attempt() > 0;
        actor_id_ = spec.actor_id();
        actor_ = (*f)(args);
        if (!actor_) {
          *result = ErrorValue(proto::TASK_ERROR, "the actor factory returned null");
          return;
        }
        result->set_data(std::string());
        int extra = std::max(1, spec.max_concurrency()) - 1;
        absl::MutexLock lock(&mu_);
        AddThreads(extra);
        return;
      }
      case proto::ACTOR_TASK: {
        if (exiting_) {
          *result = ErrorValue(proto::ACTOR_DIED, "the actor called ExitActor() and is exiting");
          return;
        }
        if (!actor_) {
          *result = ErrorValue(proto::ACTOR_DIED, "this worker hosts no actor");
          return;
        }
        auto* m = FindMethod(fn);
        if (!m) return not_found("the actor method");
        result->set_data((*m)(actor_, args));
        return;
      }
      default:
        *result = ErrorValue(proto::SYSTEM_ERROR, "unknown task type");
        return;
    }
  } catch (const ActorExitSignal&) {
    exiting_ = true;
    reply->set_actor_exiting(true);
    *result = ErrorValue(proto::ACTOR_DIED, absl::StrCat("the actor exited: '", fn, "' called ExitActor()"));
  } catch (...) {
    result->clear_data();
    *result->mutable_error() = FromException(std::current_exception(), where);
  }
}

}  // namespace glint::internal
