#include "client/src/task_executor.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "client/src/actor_loop.h"
#include "client/src/errors_convert.h"
#include "client/src/registry_lookup.h"
#include "common/logging.h"
#include "common/rpc.h"

namespace glint::internal {
namespace {
thread_local bool t_in_normal_task = false;
// The executor whose Loop runs on this thread, while it is between calls.
thread_local const TaskExecutor* t_idle_loop = nullptr;
}  // namespace

// One call: a PushTask request (accepted in kWaiting, then run and answered
// in kReplying), or a call that came in on a PushTasks stream.
struct TaskExecutor::Call final : CqTag {
  explicit Call(TaskExecutor* e) : executor(e) {}
  void Proceed(bool ok) override {
    if (state != kWaiting || !ok) {  // the reply is out, or shutting down
      delete this;
      return;
    }
    executor->Arrived(this);
  }
  enum State { kWaiting, kReplying } state = kWaiting;
  TaskExecutor* executor;
  Stream* stream = nullptr;  // set for a call that came in on a stream
  grpc::ServerContext ctx;
  proto::PushTaskRequest req;
  proto::PushTaskReply reply;
  grpc::ServerAsyncResponseWriter<proto::PushTaskReply> responder{&ctx};
};

// One caller's PushTasks stream. Its calls are admitted like PushTask
// requests; their replies queue here and go out many to a message, one
// message in flight at a time. It ends when the caller closes it, when a
// write fails, or once the actor exits, after its calls are answered.
class TaskExecutor::Stream {
 public:
  explicit Stream(TaskExecutor* e) : e_(e) {}
  void Listen() {
    ops_ = 1;
    e_->service_->RequestPushTasks(&ctx_, &rw_, e_->cq_, e_->cq_, &accept_tag_);
  }
  // Queues the reply to one of this stream's calls, and deletes the call.
  void Reply(Call* call) {
    bool done;
    {
      absl::MutexLock lock(&mu_);
      call->reply.set_task_id(call->req.task().task_id());
      queued_.add_replies()->Swap(&call->reply);
      --calls_;
      WriteLocked();
      done = Settle();
    }
    delete call;
    if (done) Delete();
  }
  // The actor is exiting: end the stream once its calls are answered.
  void Wind() {
    absl::MutexLock lock(&mu_);
    Settle();  // never done here: a Finish starts
  }

 private:
  void OnAccept(bool ok) {
    if (!ok) {  // the server is shutting down
      delete this;
      return;
    }
    e_->AcceptStream();
    {
      absl::MutexLock lock(&e_->mu_);
      e_->streams_.insert(this);
    }
    absl::MutexLock lock(&mu_);
    reading_ = true;
    rw_.Read(&in_, &read_tag_);
  }
  void OnRead(bool ok) {
    std::vector<Call*> calls;
    bool got = false;  // a batch of calls
    {
      absl::MutexLock lock(&mu_);
      got = ok && grpc::SerializationTraits<proto::PushTaskBatch>::Deserialize(&in_, &batch_).ok();
      if (!got) {  // the caller closed the stream, it broke, or the message is garbage
        --ops_;
        reading_ = false;
        malformed_ = ok;
        if (!Settle()) return;
      } else {
        calls.reserve(batch_.tasks_size());
        for (auto& t : *batch_.mutable_tasks()) {
          auto* c = new Call(e_);
          c->stream = this;
          c->req.mutable_task()->Swap(&t);
          calls.push_back(c);
        }
        calls_ += static_cast<int>(calls.size());
        batch_.Clear();
        rw_.Read(&in_, &read_tag_);
      }
    }
    if (!got) return Delete();
    e_->ArrivedOnStream(calls);
  }
  void OnWrite(bool ok) {
    bool done;
    {
      absl::MutexLock lock(&mu_);
      --ops_;
      writing_ = false;
      if (!ok) broken_ = true;
      WriteLocked();
      done = Settle();
    }
    if (done) Delete();
  }
  void OnFinish(bool) {
    bool done;
    {
      absl::MutexLock lock(&mu_);
      --ops_;
      done = Settle();
    }
    if (done) Delete();
  }
  void WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || queued_.replies_size() == 0) return;
    if (broken_ || finishing_) {  // nobody to read them
      queued_.Clear();
      return;
    }
    writing_ = true;
    ++ops_;
    grpc::ByteBuffer bytes;
    bool own = false;
    (void)grpc::SerializationTraits<proto::PushTaskReplyBatch>::Serialize(queued_, &bytes, &own);
    rw_.Write(bytes, &write_tag_);  // takes its own reference to the bytes
    queued_.Clear();
  }
  // Starts the Finish once nothing is left to answer; true once the stream
  // is over and nothing refers to it any more.
  bool Settle() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!finishing_ && calls_ == 0 && !writing_ && (!reading_ || broken_ || e_->exiting_)) {
      finishing_ = true;
      ++ops_;
      rw_.Finish(malformed_ ? grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                           "a PushTasks message that is not a PushTaskBatch")
                            : grpc::Status::OK,
                 &finish_tag_);
    }
    return finishing_ && ops_ == 0 && calls_ == 0;
  }
  void Delete() {
    {
      absl::MutexLock lock(&e_->mu_);
      e_->streams_.erase(this);
    }
    delete this;
  }

  TaskExecutor* const e_;
  grpc::ServerContext ctx_;
  grpc::ServerAsyncReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer> rw_{&ctx_};
  MemberTag<Stream> accept_tag_{this, &Stream::OnAccept};
  MemberTag<Stream> read_tag_{this, &Stream::OnRead};
  MemberTag<Stream> write_tag_{this, &Stream::OnWrite};
  MemberTag<Stream> finish_tag_{this, &Stream::OnFinish};
  grpc::ByteBuffer in_;         // the message being read
  proto::PushTaskBatch batch_;  // ... parsed
  absl::Mutex mu_;
  proto::PushTaskReplyBatch queued_ ABSL_GUARDED_BY(mu_);  // replies not written yet
  int ops_ ABSL_GUARDED_BY(mu_) = 0;                       // events outstanding
  int calls_ ABSL_GUARDED_BY(mu_) = 0;                     // admitted, not answered
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool malformed_ ABSL_GUARDED_BY(mu_) = false;  // a message did not parse
};

namespace {
constexpr int kAcceptSlots = 16;  // calls the server may hand us before we ask again
}  // namespace

void TaskExecutor::Start(AsyncService* service, grpc::ServerCompletionQueue* cq, QueuePoller* poller) {
  service_ = service;
  cq_ = cq;
  poller_ = poller;
  for (int i = 0; i < kAcceptSlots; ++i) Accept();
  AcceptStream();
  absl::MutexLock lock(&mu_);
  AddThreads(1);
}

void TaskExecutor::Accept() {
  auto* c = new Call(this);
  service_->RequestPushTask(&c->ctx, &c->req, &c->responder, cq_, cq_, c);
}

void TaskExecutor::AcceptStream() { (new Stream(this))->Listen(); }

void TaskExecutor::AddThreads(int n) {
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Loop(); });
}

void TaskExecutor::Stop(bool detach) {
  if (!cq_) return;
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
  poller_->MarkPollerThread();
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
      Dispatch(call);
      continue;
    }
    t_idle_loop = this;
    auto r = poller_->PollOnce(absl::InfiniteFuture());
    t_idle_loop = nullptr;
    if (r == QueuePoller::kShutdown) return;  // the queue is shut down and drained
  }
}

void TaskExecutor::Arrived(Call* call) {
  Accept();
  const auto& t = call->req.task();
  if (t.task_id().empty() || t.function_name().empty()) {
    call->state = Call::kReplying;
    call->responder.FinishWithError(
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "a task needs an id and a function name"), call);
    return;
  }
  Admit(call);
  WakeOthers(/*self_takes_one=*/t_idle_loop == this);
}

void TaskExecutor::ArrivedOnStream(std::vector<Call*>& calls) {
  for (auto* call : calls) {
    const auto& t = call->req.task();
    if (t.task_id().empty() || t.function_name().empty()) {
      *call->reply.mutable_result() = ErrorValue(proto::SYSTEM_ERROR, "a task needs an id and a function name");
      call->stream->Reply(call);
      continue;
    }
    Admit(call);
  }
  WakeOthers(/*self_takes_one=*/t_idle_loop == this);
}

void TaskExecutor::WakeOthers(bool self_takes_one) {
  size_t extra = 0;
  {
    absl::MutexLock lock(&mu_);
    extra = std::min(ready_.size(), threads_.size());
  }
  if (self_takes_one && extra > 0) --extra;
  for (size_t i = 0; i < extra; ++i) poller_->Wake();
}

void TaskExecutor::Dispatch(Call* call) {
  const auto& spec = call->req.task();
  if (spec.type() != proto::ACTOR_TASK) {
    RunAndReply(call);
    return;
  }
  std::string group = spec.concurrency_group().empty() ? DefaultGroupOf(spec.function_name())
                                                       : spec.concurrency_group();
  if (!group.empty() &&
      std::find(group_names_.begin(), group_names_.end(), group) == group_names_.end()) {
    std::string have;
    for (auto& g : group_names_) absl::StrAppend(&have, have.empty() ? "" : ", ", g);
    *call->reply.mutable_result() = ErrorValue(
        proto::TASK_ERROR, absl::StrCat("unknown concurrency group '", group, "' for '", spec.function_name(),
                                        "'; the actor has ", have.empty() ? "none" : have,
                                        " (see SetConcurrencyGroups)"));
    call->reply.mutable_result()->mutable_error()->set_exception_type("glint::Error");
    Reply(call);
    return;
  }
  if (loop_) {
    RunOnLoop(call, group);
    return;
  }
  if (has_groups_) {  // every group, the default one too, has its own threads
    absl::MutexLock lock(&mu_);
    groups_[group].queue.push_back(call);
    return;
  }
  RunAndReply(call);
}

void TaskExecutor::MakeGroups(const proto::TaskSpec& creation, bool async) {
  std::map<std::string, int> groups(creation.concurrency_groups().begin(), creation.concurrency_groups().end());
  for (auto& [name, limit] : groups) group_names_.push_back(name);
  if (async) {
    for (auto& [name, limit] : groups) loop_->AddGroup(name, limit);
    return;
  }
  if (groups.empty()) {
    if (creation.max_concurrency() > 1) {  // a threaded actor: more queue threads
      absl::MutexLock lock(&mu_);
      AddThreads(creation.max_concurrency() - 1);
    }
    return;
  }
  // With groups, the queue thread only hands calls out, so a busy group
  // never stops calls for the others from arriving.
  groups[""] = std::max(1, creation.max_concurrency());
  absl::MutexLock lock(&mu_);
  for (auto& [name, limit] : groups) {
    groups_[name];
    for (int i = 0; i < limit; ++i) threads_.emplace_back([this, name = name] { GroupLoop(name); });
  }
  has_groups_ = true;
}

void TaskExecutor::GroupLoop(const std::string& name) {
  while (true) {
    Call* call;
    {
      absl::MutexLock lock(&mu_);
      auto& q = groups_[name].queue;
      auto ready = [&q]() { return !q.empty(); };
      mu_.Await(absl::Condition(&ready));
      call = q.front();
      q.pop_front();
    }
    RunAndReply(call);
  }
}

void TaskExecutor::RunAndReply(Call* call) {
  t_in_normal_task = call->req.task().type() == proto::NORMAL_TASK;
  Execute(call->req.task(), &call->reply);
  t_in_normal_task = false;
  Reply(call);
}

void TaskExecutor::Reply(Call* call) {
  if (sink_) sink_(call->req.task(), call->reply.mutable_result());
  bool exit_now = call->reply.actor_exiting();
  if (call->stream) {
    call->stream->Reply(call);
  } else {
    call->state = Call::kReplying;
    call->responder.Finish(call->reply, grpc::Status::OK, call);
  }
  if (!exit_now) return;
  {
    absl::MutexLock lock(&mu_);
    for (auto* s : streams_) s->Wind();
  }
  if (on_exit_) on_exit_();
}

bool TaskExecutor::ResolveArgs(const proto::TaskSpec& spec, Args* args, proto::ObjectValue* result) {
  args->reserve(spec.args_size());
  for (auto& a : spec.args()) {
    if (a.has_ref()) {
      Bytes b;
      if (!resolver_(a, &b, result)) return false;
      args->push_back(std::move(b));
    } else {
      args->push_back(Bytes(nullptr, a.value().data(), a.value().size()));  // the call outlives its args
    }
  }
  return true;
}

void TaskExecutor::Fail(proto::PushTaskReply* reply, const std::string& fn, std::exception_ptr e) {
  auto* result = reply->mutable_result();
  try {
    std::rethrow_exception(e);
  } catch (const ActorExitSignal&) {
    exiting_ = true;
    reply->set_actor_exiting(true);
    *result = ErrorValue(proto::ACTOR_DIED, absl::StrCat("the actor exited: '", fn, "' called ExitActor()"));
  } catch (...) {
    result->clear_data();
    *result->mutable_error() = FromException(std::current_exception(), absl::StrCat(fn, " on ", where_));
  }
}

void TaskExecutor::RunOnLoop(Call* call, const std::string& group) {
  // Arguments are resolved here, off the loop (a blocking fetch would stall it).
  auto args = std::make_shared<Args>();
  if (!ResolveArgs(call->req.task(), args.get(), call->reply.mutable_result())) {
    Reply(call);
    return;
  }
  loop_->Post([this, call, args, group] {
    loop_->Admit(group, [this, call, args, group] {
      const auto& spec = call->req.task();
      const std::string& fn = spec.function_name();
      auto finish = [this, call, group] {
        Reply(call);
        loop_->Done(group);
      };
      if (exiting_) {
        *call->reply.mutable_result() = ErrorValue(proto::ACTOR_DIED, "the actor called ExitActor() and is exiting");
        return finish();
      }
      try {
        if (auto* am = FindAsyncMethod(fn)) {
          (*am)(actor_, *args,
                [this, call, fn, finish](std::string data, std::exception_ptr e, std::vector<RefData> contained) {
                  if (e) {
                    Fail(&call->reply, fn, e);
                  } else {
                    call->reply.mutable_result()->set_data(std::move(data));
                  }
                  AddContained(call->reply.mutable_result(), contained);
                  finish();
                });
          return;
        }
        if (auto* m = FindMethod(fn)) {  // a plain method of an async actor runs on the loop too
          EscapeCollector contained(/*hold=*/true);
          call->reply.mutable_result()->set_data((*m)(actor_, *args));
          AddContained(call->reply.mutable_result(), contained.refs);
        } else {
          *call->reply.mutable_result() = NotFound("the actor method", fn);
        }
      } catch (...) {
        Fail(&call->reply, fn, std::current_exception());
      }
      finish();
    });
  });
}

proto::ObjectValue TaskExecutor::NotFound(const char* what, const std::string& fn) const {
  return ErrorValue(proto::FUNCTION_NOT_FOUND,
                    absl::StrCat(what, " '", fn, "' is not registered in the job's code (", code_paths_,
                                 "); add it to GLINT_REMOTE(...) and rebuild"));
}

void TaskExecutor::AddContained(proto::ObjectValue* result, const std::vector<RefData>& refs) {
  for (auto& r : refs) {
    auto* c = result->add_contained();
    c->set_object_id(r.id);
    auto owner = ParseAddress(r.owner);
    if (owner.ok()) *c->mutable_owner() = *owner;
  }
}

void TaskExecutor::Execute(const proto::TaskSpec& spec, proto::PushTaskReply* reply) {
  auto* result = reply->mutable_result();
  const std::string& fn = spec.function_name();
  Args args;
  if (!ResolveArgs(spec, &args, result)) return;
  // References packed into the result (held until the reply is sent).
  EscapeCollector contained(/*hold=*/true);
  struct AddOnExit {
    proto::ObjectValue* result;
    EscapeCollector* c;
    ~AddOnExit() { AddContained(result, c->refs); }
  } add_on_exit{result, &contained};
  try {
    switch (spec.type()) {
      case proto::NORMAL_TASK: {
        auto* f = FindFunction(fn);
        if (!f) {
          *result = NotFound("the function", fn);
          return;
        }
        result->set_data((*f)(args));
        return;
      }
      case proto::ACTOR_CREATION_TASK: {
        auto* f = FindFactory(fn);
        if (!f) {
          *result = NotFound("the actor factory", fn);
          return;
        }
        restarted_ = spec.attempt() > 0;
        actor_id_ = spec.actor_id();
        bool async = FactoryMakesAsyncActor(fn);
        // An async actor's loop exists before its constructor runs, so the
        // constructor can start its own servers on ActorExecutor().
        if (async) loop_ = ActorLoop::Create(spec.max_concurrency() > 0 ? spec.max_concurrency() : 1000);
        actor_ = (*f)(args);
        if (!actor_) {
          *result = ErrorValue(proto::TASK_ERROR, "the actor factory returned null");
          return;
        }
        MakeGroups(spec, async);
        result->set_data(std::string());
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
        if (!m) {
          *result = NotFound("the actor method", fn);
          return;
        }
        result->set_data((*m)(actor_, args));
        return;
      }
      default:
        *result = ErrorValue(proto::SYSTEM_ERROR, "unknown task type");
        return;
    }
  } catch (...) {
    Fail(reply, fn, std::current_exception());
  }
}

}  // namespace glint::internal
