// TaskExecutor: runs the tasks pushed to this worker process.
//
// Its threads poll the process's completion queue (QueuePoller): they take
// PushTask calls and the calls on PushTasks streams straight off it, run them and send the reply, so a call is
// received, run and answered on one thread (no hand-off between an RPC
// thread and an execution thread); the queue's other events (replies to
// this process's calls, GetObject requests) run on them too. Normal
// tasks run in arrival order; actor calls run in each caller's submission
// order (by sequence number, holding early arrivals back). A sync actor and a
// task worker have one thread; an actor created with max_concurrency n gets n
// threads, made once at creation, never per call. While user code waits or
// runs long, the poller's cover thread serves the queue, so a method blocked
// in a nested Get never stops this process from serving its objects.
// Thread-safe.
#pragma once
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "client/src/queue_poller.h"
#include "glint/internal/registry.h"
#include "proto/worker.grpc.pb.h"

namespace glint::internal {

// Thrown by glint::ExitActor(); deliberately not a std::exception, so user
// code catching std::exception does not swallow it.
struct ActorExitSignal {};

class ActorLoop;

class TaskExecutor {
 public:
  // WorkerService, every method served from the completion queue (PushTask
  // and PushTasks here, the others by the runtime). PushTasks is raw (bytes),
  // so a message that does not parse ends its stream with an error instead
  // of looking like the caller closing it.
  using AsyncService = proto::WorkerService::WithRawMethod_PushTasks<proto::WorkerService::AsyncService>;
  // Resolves a by-reference argument to its bytes (blocking); false with
  // *error set when it cannot.
  using ArgResolver = std::function<bool(const proto::TaskArg&, Bytes* out, proto::ObjectValue* error)>;
  // Called on every result before it is sent: moves large ones to the store,
  // and takes over the references the result holds (`contained`).
  using ResultSink = std::function<void(const proto::TaskSpec&, proto::ObjectValue* result)>;
  TaskExecutor(ArgResolver resolver, ResultSink sink, std::string where, std::string code_paths)
      : resolver_(std::move(resolver)),
        sink_(std::move(sink)),
        where_(std::move(where)),
        code_paths_(std::move(code_paths)) {}

  // Starts serving `service`'s PushTask from `cq`, whose poller's threads
  // these become (all three outlive the executor's threads).
  void Start(AsyncService* service, grpc::ServerCompletionQueue* cq, QueuePoller* poller);
  // After the queue is shut down: joins the threads unless `detach` (a
  // worker about to exit may have threads stuck in user code).
  void Stop(bool detach);

  bool actor_restarted() const { return restarted_; }
  bool hosts_actor() const { return actor_ != nullptr; }
  const std::string& actor_id() const { return actor_id_; }
  bool executing_normal_task() const;
  // Lists references packed into a value (ObjectValue::contained).
  static void AddContained(proto::ObjectValue* value, const std::vector<RefData>& refs);
  // Called once, after the reply to the call that ran ExitActor() is sent.
  void SetOnActorExit(std::function<void()> f) { on_exit_ = std::move(f); }

 private:
  struct Call;
  class Stream;
  struct Caller {
    int64_t next = 0;
    std::map<int64_t, Call*> early;
  };
  void Loop();
  void Accept();
  // Waits for the next PushTasks stream.
  void AcceptStream();
  // A PushTask request came in (on whichever thread polled it).
  void Arrived(Call* call);
  // Calls that came in on a stream.
  void ArrivedOnStream(std::vector<Call*>& calls);
  // Queues `call` (and calls it unblocks) in ready_, in order.
  void Admit(Call* call);
  // Gets idle threads out of the queue for queued calls (all but this one
  // when it is an executor thread about to take one).
  void WakeOthers(bool self_takes_one);
  void RunAndReply(Call* call);
  // Sends the call's reply (and ends the actor after ExitActor()).
  void Reply(Call* call);
  // An async actor's call: arguments resolved here, the method run on the loop.
  void RunOnLoop(Call* call, const std::string& group);
  // Runs an actor call in its concurrency group; the default group here.
  void Dispatch(Call* call);
  // Makes the actor's concurrency groups (at creation).
  void MakeGroups(const proto::TaskSpec& creation, bool async);
  void GroupLoop(const std::string& name);
  void Execute(const proto::TaskSpec& spec, proto::PushTaskReply* reply);
  bool ResolveArgs(const proto::TaskSpec& spec, Args* args, proto::ObjectValue* result);
  // The reply for user code that threw (or called ExitActor()).
  void Fail(proto::PushTaskReply* reply, const std::string& fn, std::exception_ptr e);
  proto::ObjectValue NotFound(const char* what, const std::string& fn) const;
  void AddThreads(int n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  ArgResolver resolver_;
  ResultSink sink_;
  const std::string where_;
  const std::string code_paths_;
  AsyncService* service_ = nullptr;
  grpc::ServerCompletionQueue* cq_ = nullptr;
  QueuePoller* poller_ = nullptr;
  absl::Mutex mu_;
  std::deque<Call*> ready_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Caller> callers_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  // Open PushTasks streams (ended at once when the actor exits).
  absl::flat_hash_set<Stream*> streams_ ABSL_GUARDED_BY(mu_);
  ActorLoop* loop_ = nullptr;  // async actors only
  // Concurrency groups of a sync/threaded actor: their own threads and queue.
  struct Group {
    std::deque<Call*> queue;
  };
  std::map<std::string, Group> groups_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> group_names_;  // fixed at creation, for async actors too
  std::atomic<bool> has_groups_{false};
  void* actor_ = nullptr;  // set once by the creation task
  std::string actor_id_;
  bool restarted_ = false;
  std::atomic<bool> exiting_{false};
  std::function<void()> on_exit_;
};

}  // namespace glint::internal
