// CallContext: which call user code on this thread belongs to, for
// IsCancelled(), for the calls it makes (cancelled with it, recursively),
// and, in an async actor, to cancel a coroutine where it waits.
//
// A sync call (a task, a sync or threaded actor's method) runs on one
// thread from start to end: CurrentTask names it while it runs (set by
// ScopedTask), and whether it is cancelled is asked of the worker's
// CancelledCalls. An async call's coroutine runs in pieces on the actor's
// loop: it gets a shared CallContext, which each piece runs within
// (ScopedCall), and which holds the one place it waits at (Park), so a
// cancel can resume it there at once: the co_await then throws
// TaskCancelledError inside it and its destructors run.
#pragma once
#include <atomic>
#include <coroutine>
#include <functional>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"

namespace glint::internal {

struct CallContext {
  // `id` is the call's own (in its spec): the context is used only while
  // the call is not answered.
  explicit CallContext(const std::string& id) : task_id(id) {}
  const std::string& task_id;
  std::atomic<bool> cancelled{false};
  // Marks the call cancelled and resumes it where it waits, if it does.
  void Cancel();

  struct Parked;
  absl::Mutex mu;
  std::weak_ptr<Parked> parked ABSL_GUARDED_BY(mu);  // where its coroutine waits now
};

// The task id of the call running on this thread, or null.
const std::string* CurrentTask();
// The async call this piece of coroutine runs within, or null.
CallContext* CurrentCall();
// Whether the call running on this thread was cancelled; `cancelled_sync`
// answers for sync calls.
bool CurrentCallCancelled(const std::function<bool(const std::string&)>& cancelled_sync);

// While alive, the thread runs the sync call `task_id`.
class ScopedTask {
 public:
  explicit ScopedTask(const std::string* task_id);
  ~ScopedTask();

 private:
  const std::string* outer_;
};

// While alive, the thread runs a piece of the async call `ctx`.
class ScopedCall {
 public:
  explicit ScopedCall(std::shared_ptr<CallContext> ctx);
  ~ScopedCall();

 private:
  std::shared_ptr<CallContext> outer_;
};

// (Park, ThrowIfCancelled and InCurrentCall, for the awaiters and
// generators in the public headers, are declared in glint/async.h.)

}  // namespace glint::internal
