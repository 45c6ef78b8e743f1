#include "client/src/execute/call_context.h"

#include <utility>

#include "glint/async.h"
#include "glint/errors.h"

namespace glint::internal {
namespace {
thread_local const std::string* t_task = nullptr;
thread_local std::shared_ptr<CallContext> t_call;
}  // namespace

// A coroutine waiting at one co_await: resumed once, by what it awaits or
// by a cancel, whichever comes first.
struct CallContext::Parked {
  Parked(std::shared_ptr<CallContext> c, std::coroutine_handle<> handle) : ctx(std::move(c)), h(handle) {}
  void Resume() {
    if (done.exchange(true)) return;
    PostToActorLoop([ctx = ctx, h = h] {
      ScopedCall within(ctx);
      h.resume();
    });
  }
  const std::shared_ptr<CallContext> ctx;
  const std::coroutine_handle<> h;
  std::atomic<bool> done{false};
};

void CallContext::Cancel() {
  cancelled = true;
  std::shared_ptr<Parked> p;
  {
    absl::MutexLock lock(&mu);
    p = parked.lock();
  }
  if (p) p->Resume();
}

const std::string* CurrentTask() { return t_call ? &t_call->task_id : t_task; }

CallContext* CurrentCall() { return t_call.get(); }

bool CurrentCallCancelled(const std::function<bool(const std::string&)>& cancelled_sync) {
  if (t_call) return t_call->cancelled;
  return t_task && cancelled_sync(*t_task);
}

ScopedTask::ScopedTask(const std::string* task_id) : outer_(t_task) { t_task = task_id; }
ScopedTask::~ScopedTask() { t_task = outer_; }

ScopedCall::ScopedCall(std::shared_ptr<CallContext> ctx) : outer_(std::exchange(t_call, std::move(ctx))) {}
ScopedCall::~ScopedCall() { t_call = std::move(outer_); }

std::function<void()> InCurrentCall(std::function<void()> fn) {
  return [ctx = t_call, fn = std::move(fn)] {
    PostToActorLoop([ctx, fn] {
      ScopedCall within(ctx);
      fn();
    });
  };
}

std::function<void()> Park(std::coroutine_handle<> h) {
  auto parked = std::make_shared<CallContext::Parked>(t_call, h);
  if (t_call) {
    {
      absl::MutexLock lock(&t_call->mu);
      t_call->parked = parked;
    }
    if (t_call->cancelled) parked->Resume();
  }
  return [parked] { parked->Resume(); };
}

void ThrowIfCancelled() {
  if (t_call && t_call->cancelled) {
    throw TaskCancelledError("the call was cancelled (glint::Cancel) while it waited at a co_await");
  }
}

}  // namespace glint::internal
