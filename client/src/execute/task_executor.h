// TaskExecutor: a worker's side of calls, from arrival to reply. One call
// reads top to bottom across:
//   call_transport.h  the call comes off the wire (PushTask or a PushTasks stream)
//   call_scheduler.h  it waits its turn (per-caller order) for a thread
//   task_executor.cc  Dispatch: its concurrency group, its thread or the event loop
//   task_runner.h     user code runs (arguments resolved, errors caught)
//   stored_result.h   a large result is packed straight into the store
//   cancelled_calls.h a caller's cancel reaches it, before or while it runs
//                     (or its caller takes it back before it starts: GiveBack)
//   lease_ledger.h    a lease whose holder never came is given back
//   item_stream.h     a generator's items go back one by one as it yields
//   task_executor.cc  Reply: the result handed over, the reply sent back
// Start once, Stop once (after the queue is shut down). Thread-safe.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "client/src/execute/call_scheduler.h"
#include "client/src/execute/call_transport.h"
#include "client/src/execute/cancelled_calls.h"
#include "client/src/execute/item_stream.h"
#include "client/src/execute/lease_ledger.h"
#include "client/src/execute/task_runner.h"
#include "client/src/task_events.h"
#include "common/queue_poller.h"

namespace glint::internal {

class TaskExecutor {
 public:
  using AsyncService = CallTransport::AsyncService;
  // Called on every result (and generator item) before it is sent, with the
  // object id it will have: moves large ones to the store, and takes over
  // the references the value holds (`contained`).
  using ResultSink = ItemStream::StoreFn;
  // Packs a sync call's result of `size` bytes, which `write` packs,
  // straight into the store as object `object_id`, or says (nullopt) that
  // a value of that size goes inline (see stored_result.h).
  using ResultStore = std::function<std::optional<proto::ObjectValue>(
      const proto::TaskSpec&, const std::string& object_id, size_t size, const std::function<void(char*)>& write)>;
  // Frees a generator item readied by `sink` or `store` that could not be
  // sent (its caller dropped the generator, or its stream is gone).
  using ResultDiscard = ItemStream::DiscardFn;
  // Results and items under `inline_threshold` bytes are not offered to `store`.
  TaskExecutor(TaskRunner::ArgResolver resolver, ResultSink sink, ResultStore store, ResultDiscard discard,
               size_t inline_threshold, std::string where, std::string code_paths)
      : sink_(std::move(sink)),
        store_(std::move(store)),
        discard_(std::move(discard)),
        inline_threshold_(inline_threshold),
        runner_(std::move(resolver), std::move(where), std::move(code_paths)) {}

  // Starts serving PushTask and PushTasks of `service` from `cq`, whose
  // poller's threads the executor's become (all three outlive the executor).
  void Start(AsyncService* service, grpc::ServerCompletionQueue* cq, QueuePoller* poller);
  // After the queue is shut down: waits up to `grace` for the threads, then
  // leaves those stuck in user code to the process's exit.
  void Stop(absl::Duration grace);
  // Called once, after the reply to the call that ran ExitActor() is sent.
  void SetOnActorExit(std::function<void()> f) { on_exit_ = std::move(f); }
  // The stream from the holder of this worker's lease ended (see
  // CallTransport::LeaseEndFn; set once, before Start).
  void SetOnLeaseEnded(CallTransport::LeaseEndFn f) { on_lease_ended_ = std::move(f); }
  // Cancels a call that a cancelled call made (set once, before Start).
  void SetCancelChild(std::function<void(const RefData& child)> f) { cancel_child_ = std::move(f); }
  // Where calls' starts (and actor creations' ends) are reported (set once,
  // before Start; null: nowhere).
  void SetTaskEvents(TaskEvents* events) { events_ = events; }
  // The call running on this thread was cancelled by its caller.
  bool CurrentCallCancelled();
  // The call running on this thread (if any) made the call whose result is `child`.
  void AddChildOfCurrentCall(const RefData& child);

  bool actor_restarted() const { return runner_.actor_restarted(); }
  bool hosts_actor() const { return runner_.hosts_actor(); }
  const std::string& actor_id() const { return runner_.actor_id(); }
  static bool executing_normal_task() { return TaskRunner::InNormalTask(); }

 private:
  // Takes a call whose turn it is: runs it here, or hands it to its group's
  // threads or the event loop.
  void Dispatch(IncomingCall* call);
  void RunAndReply(IncomingCall* call);
  // For a generator call: where its items go (null for other calls).
  std::shared_ptr<ItemStream> StartItems(IncomingCall* call);
  // A caller's cancel of one of its calls.
  void OnCancel(const proto::CancelRequest& cancel);
  // Its caller takes back a normal task that waits behind another here:
  // answered at once as not run (nothing if it started already).
  void GiveBack(const std::string& task_id);
  // Answers a call cancelled before it ran; false if it may run.
  bool ReplyIfCancelled(IncomingCall* call);
  // The call's result (`index` 0) or its generator's item `index`, of
  // `size` bytes, packed by `write` into the store when it is that big
  // (nullopt, and no id made, when it is not).
  std::optional<proto::ObjectValue> StoreIfBig(const proto::TaskSpec& spec, int64_t index, size_t size,
                                               const std::function<void(char*)>& write);
  // After the actor's constructor ran: its threads and groups.
  void SetUpActor(const proto::TaskSpec& creation);
  // Sends the call's reply (and ends the actor after ExitActor()); a
  // generator's says how many items `items` sent.
  void Reply(IncomingCall* call, const ItemStream* items = nullptr);

  const ResultSink sink_;
  const ResultStore store_;
  const ResultDiscard discard_;
  const size_t inline_threshold_;
  TaskRunner runner_;
  std::unique_ptr<CallTransport> transport_;
  std::unique_ptr<CallScheduler> scheduler_;
  RunningGenerators generators_;
  CancelledCalls cancelled_;
  LeaseLedger leases_;
  std::function<void(const RefData&)> cancel_child_;
  std::vector<std::string> group_names_;  // fixed at creation
  std::function<void()> on_exit_;
  CallTransport::LeaseEndFn on_lease_ended_;
  TaskEvents* events_ = nullptr;
};

}  // namespace glint::internal
