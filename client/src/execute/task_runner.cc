#include "client/src/execute/task_runner.h"

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/src/errors.h"
#include "client/src/detached_root.h"
#include "client/src/execute/gpu_ids.h"
#include "client/src/placement_groups.h"
#include "client/src/objects/reference_counter.h"
#include "client/src/registry_lookup.h"
#include "common/limits.h"
#include "common/output_label.h"
#include "common/rpc.h"

namespace glint::internal {
namespace {
thread_local bool t_in_normal_task = false;
}  // namespace

bool TaskRunner::InNormalTask() { return t_in_normal_task; }

void TaskRunner::Run(const proto::TaskSpec& spec, proto::PushTaskReply* reply, ItemSink* items) {
  // No registered name is empty or longer than this; such a name is not
  // looked up, nor printed in the worker's log as its output's label.
  if (spec.function_name().empty() || spec.function_name().size() > kMaxFunctionBytes) {
    *reply->mutable_result() = ErrorValue(
        proto::TASK_ERROR, absl::StrCat("a task's function name is empty or longer than ", kMaxFunctionBytes, " bytes"));
    return;
  }
  t_in_normal_task = spec.type() == proto::NORMAL_TASK;
  if (spec.type() != proto::ACTOR_TASK) {  // a task's, or the actor's for good
    LabelOutput(spec);
    UseGpus(spec.gpu_ids());
    CaptureChildTasks(spec);
    UseRootOf(spec);
  }
  Execute(spec, reply, items);
  t_in_normal_task = false;
}

void TaskRunner::LabelOutput(const proto::TaskSpec& spec) {
  std::string_view label = spec.function_name();
  if (spec.type() == proto::ACTOR_CREATION_TASK) label = label.substr(0, label.rfind("::"));  // the class
  absl::MutexLock lock(&label_mu_);
  if (label == output_label_) return;
  output_label_ = std::string(label);
  std::string line = OutputLabelLine(label);
  // After what the previous task printed, and before anything of this one's.
  fflush(stdout);
  fwrite(line.data(), 1, line.size(), stdout);
  fflush(stdout);
}

bool TaskRunner::ResolveArgs(const proto::TaskSpec& spec, Args* args, proto::ObjectValue* result) {
  args->reserve(spec.args_size());
  for (auto& a : spec.args()) {
    if (a.has_ref()) {
      if (auto s = CheckArgRef(a); !s.ok()) {
        *result = ErrorValue(proto::TASK_ERROR, std::string(s.message()));
        return false;
      }
      Bytes b;
      if (!resolver_(a, &b, result)) return false;
      args->push_back(std::move(b));
    } else {
      args->push_back(Bytes(nullptr, a.value().data(), a.value().size()));  // the call outlives its args
    }
  }
  return true;
}

void TaskRunner::Fail(proto::PushTaskReply* reply, const std::string& fn, std::exception_ptr e) {
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

void TaskRunner::RunOnLoop(const proto::TaskSpec& spec, proto::PushTaskReply* reply, const std::string& group,
                           ItemSink* items, std::shared_ptr<CallContext> ctx, StoredResult* result,
                           std::function<void()> done) {
  // Arguments are resolved here, off the loop (a blocking fetch would stall it).
  auto args = std::make_shared<Args>();
  if (!ResolveArgs(spec, args.get(), reply->mutable_result())) {
    done();
    return;
  }
  loop_->Post([this, &spec, reply, args, group, items, ctx, result, done = std::move(done)] {
    loop_->Admit(group, [this, &spec, reply, args, group, items, ctx, result, done] {
      const std::string& fn = spec.function_name();
      auto finish = [this, group, done, ctx] {
        on_loop_.erase(ctx->task_id);
        done();
        loop_->Done(group);
      };
      on_loop_.emplace(ctx->task_id, ctx.get());
      if (exiting_) {
        *reply->mutable_result() = ErrorValue(proto::ACTOR_DIED, "the actor called ExitActor() and is exiting");
        return finish();
      }
      if (ctx->cancelled || (cancelled_ && cancelled_(spec.task_id()))) {
        *reply->mutable_result() = ErrorValue(proto::TASK_CANCELLED, absl::StrCat("'", fn, "' was cancelled before it ran"));
        return finish();
      }
      ScopedCall within(ctx);  // its pieces run within it from here on
      try {
        if (spec.streaming()) {
          if (auto* ag = FindAsyncGenerator(fn)) {
            (*ag)(actor_, *args, items, [this, reply, fn, finish](std::exception_ptr e) {
              if (e) {
                Fail(reply, fn, e);
              } else {
                reply->mutable_result()->set_data(Pack(msgpack::type::nil_t()));
              }
              finish();
            });
            return;
          }
          RunGenerator(spec, actor_, *args, items, reply->mutable_result());  // a sync one: on the loop
          return finish();
        }
        if (auto* am = FindAsyncMethod(fn)) {
          auto offer = [result](size_t size, const std::function<void(char*)>& write) {
            return result->Take(size, write);
          };
          (*am)(actor_, *args, offer, [this, reply, fn, finish](std::string data, std::exception_ptr e,
                                                                 std::vector<RefData> contained) {
            if (e) {
              Fail(reply, fn, e);
            } else {
              reply->mutable_result()->set_data(std::move(data));
            }
            ListContained(reply->mutable_result(), contained);
            finish();
          });
          return;
        }
        if (auto* m = FindMethod(fn)) {  // a plain method of an async actor runs on the loop too
          EscapeCollector contained(/*hold=*/true);
          StoredResult::OnThisThread packed_here(result);
          reply->mutable_result()->set_data((*m)(actor_, *args));
          ListContained(reply->mutable_result(), std::exchange(contained.refs, {}));
        } else {
          *reply->mutable_result() = NotFound("the actor method", fn);
        }
      } catch (...) {
        Fail(reply, fn, std::current_exception());
      }
      finish();
    });
  });
}

proto::ObjectValue TaskRunner::NotFound(const char* what, const std::string& fn) const {
  return ErrorValue(proto::FUNCTION_NOT_FOUND,
                    absl::StrCat(what, " '", fn, "' is not registered in the job's code (", code_paths_,
                                 "); add it to GLINT_REMOTE(...) and rebuild"));
}

void TaskRunner::RunGenerator(const proto::TaskSpec& spec, void* self, const Args& args, ItemSink* items,
                              proto::ObjectValue* result) {
  auto* g = FindGenerator(spec.function_name());
  if (!g || !items) {
    *result = NotFound(self ? "the generator method" : "the generator function", spec.function_name());
    return;
  }
  (*g)(self, args, *items);
  result->set_data(Pack(msgpack::type::nil_t()));
}

void TaskRunner::Execute(const proto::TaskSpec& spec, proto::PushTaskReply* reply, ItemSink* items) {
  auto* result = reply->mutable_result();
  const std::string& fn = spec.function_name();
  Args args;
  if (!ResolveArgs(spec, &args, result)) return;
  // References packed into the result (held until the reply is sent).
  EscapeCollector contained(/*hold=*/true);
  struct AddOnExit {
    proto::ObjectValue* result;
    EscapeCollector* c;
    ~AddOnExit() { ListContained(result, std::exchange(c->refs, {})); }
  } add_on_exit{result, &contained};
  try {
    switch (spec.type()) {
      case proto::NORMAL_TASK: {
        if (spec.streaming()) return RunGenerator(spec, nullptr, args, items, result);
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
        // A worker hosts one actor for good (a restart is a new worker), and
        // takes only what the GCS would have let through.
        if (actor_ || loop_) {
          *result = ErrorValue(proto::TASK_ERROR, "this worker hosts an actor already");
          return;
        }
        absl::Status valid = CheckTask(spec);
        if (valid.ok() && !FactoryMakesAsyncActor(fn)) valid = CheckActorThreads(spec);
        if (!valid.ok()) {
          *result = ErrorValue(proto::TASK_ERROR, std::string(valid.message()));
          return;
        }
        restarted_ = spec.attempt() > 0;
        actor_id_ = spec.actor_id();
        // An async actor's loop exists before its constructor runs, so the
        // constructor can start its own servers on ActorExecutor().
        if (FactoryMakesAsyncActor(fn)) {
          loop_ = ActorLoop::Create(spec.max_concurrency() > 0 ? spec.max_concurrency() : 1000);
          for (auto& [name, limit] : spec.concurrency_groups()) loop_->AddGroup(name, limit);
        }
        actor_ = (*f)(args);
        if (!actor_) {
          *result = ErrorValue(proto::TASK_ERROR, "the actor factory returned null");
          return;
        }
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
        if (spec.streaming()) return RunGenerator(spec, actor_, args, items, result);
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

void TaskRunner::CancelOnLoop(const std::string& task_id) {
  loop_->Post([this, task_id] {
    auto it = on_loop_.find(task_id);
    if (it != on_loop_.end()) it->second->Cancel();
  });
}

void TaskRunner::Stop() {
  if (loop_) loop_->Stop(absl::Seconds(2));
}

}  // namespace glint::internal
