// TaskRunner: runs user code for this worker: a normal task, an actor's
// constructor (which makes the actor this worker hosts), a sync method on
// the calling thread, or an async actor's method on its event loop
// (ActorLoop). It resolves by-reference arguments first, and turns what user
// code throws into the reply's error (ExitActor() into the actor's exit).
// Thread-safe; Run blocks in user code.
#pragma once
#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "client/src/execute/actor_loop.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "client/src/execute/call_context.h"
#include "client/src/execute/stored_result.h"
#include "glint/internal/registry.h"
#include "proto/worker.pb.h"

namespace glint::internal {

// Thrown by glint::ExitActor(); deliberately not a std::exception, so user
// code catching std::exception does not swallow it.
struct ActorExitSignal {};

class TaskRunner {
 public:
  // Resolves a by-reference argument to its bytes (blocking); false with
  // *error set when it cannot.
  using ArgResolver = std::function<bool(const proto::TaskArg&, Bytes* out, proto::ObjectValue* error)>;
  // `where` names this worker in errors; `code_paths` where its code came from.
  TaskRunner(ArgResolver resolver, std::string where, std::string code_paths)
      : resolver_(std::move(resolver)), where_(std::move(where)), code_paths_(std::move(code_paths)) {}
  ~TaskRunner() { Stop(); }

  // Runs a normal task, a creation task or a sync actor method, filling
  // `reply`; a generator's items go to `items` (null for other calls).
  void Run(const proto::TaskSpec& spec, proto::PushTaskReply* reply, ItemSink* items);
  // An async actor's call: arguments resolved here (off the loop), the
  // method run on the loop within its group's limit; `done` runs (on the
  // loop) once `reply` is filled.
  // It runs within `ctx` (its cancel reaches it there); one cancelled
  // before its turn does not start. A big result goes to `result` (which
  // must live until `done`), its caller's to move into the reply.
  void RunOnLoop(const proto::TaskSpec& spec, proto::PushTaskReply* reply, const std::string& group,
                 ItemSink* items, std::shared_ptr<CallContext> ctx, StoredResult* result, std::function<void()> done);
  // How it learns of cancels that came before an async call started (set
  // once, before calls come).
  void SetCancelCheck(std::function<bool(const std::string& task_id)> f) { cancelled_ = std::move(f); }
  // An async call of this actor was cancelled: if it runs, it is resumed
  // where it waits, and its co_await throws (on the loop, later).
  void CancelOnLoop(const std::string& task_id);
  // Stops the event loop (an async actor's), if any.
  void Stop();

  bool hosts_actor() const { return actor_ != nullptr; }
  bool actor_restarted() const { return restarted_; }
  const std::string& actor_id() const { return actor_id_; }
  // The async actor's loop, or null.
  ActorLoop* loop() const { return loop_; }
  // True on a thread running a normal task (its CPU may be lent back while it waits).
  static bool InNormalTask();

 private:
  void Execute(const proto::TaskSpec& spec, proto::PushTaskReply* reply, ItemSink* items);
  // Runs a sync generator (a task's when `self` is null), filling `result`.
  void RunGenerator(const proto::TaskSpec& spec, void* self, const Args& args, ItemSink* items,
                    proto::ObjectValue* result);
  bool ResolveArgs(const proto::TaskSpec& spec, Args* args, proto::ObjectValue* result);
  // The reply for user code that threw (or called ExitActor()).
  void Fail(proto::PushTaskReply* reply, const std::string& fn, std::exception_ptr e);
  proto::ObjectValue NotFound(const char* what, const std::string& fn) const;
  // Before a task of another function, or the actor, prints anything: the
  // label line for its output (common/output_label.h).
  void LabelOutput(const proto::TaskSpec& spec);

  const ArgResolver resolver_;
  const std::string where_;
  const std::string code_paths_;
  // Set once by the creation task, before any method call is admitted.
  void* actor_ = nullptr;
  std::string actor_id_;
  bool restarted_ = false;
  ActorLoop* loop_ = nullptr;  // async actors only
  absl::Mutex label_mu_;
  std::string output_label_ ABSL_GUARDED_BY(label_mu_);
  std::function<bool(const std::string&)> cancelled_;
  // The async calls started and not finished, by task id (loop thread only).
  absl::flat_hash_map<std::string_view, CallContext*> on_loop_;
  std::atomic<bool> exiting_{false};
};

}  // namespace glint::internal
