// ActorSubmitter: sends actor calls straight to the actor's worker.
//
// For each actor it calls, it follows the actor's state by a long-poll on the
// GCS (the state subscription): calls made while the actor is pending or
// restarting wait here and go out in submission order once it is ALIVE; when
// it is DEAD they fail with ActorDiedError carrying the cause. Each call
// carries this caller's sequence number, so the worker runs them in order.
// Calls travel on one stream per worker, opened on the first call. What
// crosses to other processes goes through SubmitTransport.
//
// While an actor has calls of this process in flight, one reference to its
// handles is held (HoldFn), so an actor whose handles are all dropped still
// finishes the calls made through them (see ActorScopes): a counter per
// actor, not a hold per call, keeps the call path short.
// Thread-safe; RPC callbacks never block.
#pragma once
#include <deque>
#include <functional>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "client/src/objects/memory_store.h"
#include "client/src/submit/transport.h"
#include "glint/internal/runtime_api.h"
#include "proto/gcs.pb.h"

namespace glint::internal {

class ActorSubmitter {
 public:
  // Takes (true) or drops (false) a reference to an actor's handles; runs
  // without this class's locks held.
  using HoldFn = std::function<void(const RefData& handle, bool hold)>;
  // Borrows `store` and `transport`, which must outlive it.
  ActorSubmitter(MemoryStore* store, SubmitTransport* transport, HoldFn hold = nullptr)
      : store_(store), transport_(transport), hold_(std::move(hold)) {}

  // Starts following an actor (known from its creation or a lookup).
  void Track(const proto::ActorInfo& info);
  // The call's return object must already be expected in the store.
  // `handle`: the reference of the handle it was made through (no owner: a
  // handle that counts nothing).
  void Submit(proto::TaskSpec spec, const RefData& handle = {});
  // A cancel of an actor call: one not sent yet is dropped (the caller
  // fills its return object), one sent is told so on its stream. NOT_FOUND
  // if this is no actor call of ours in flight; FAILED_PRECONDITION with
  // `force` (an actor's process is not killed for one call: Kill it).
  absl::Status Cancel(const std::string& task_id, bool force, bool recursive);
  // Restarts state polls that failed (e.g. the GCS was briefly away); tells
  // the wait callback of actors still waiting to be placed after
  // kWaitWarningMs, once each, grouped by what they need: the first at
  // once, the ones that pass the mark after it in one call per
  // kWaitWarningMs (1,000 actors made at once are a few lines, not 1,000).
  void Tick(int64_t now_ms);
  static constexpr int64_t kWaitWarningMs = 5000;
  // `actors` of the shape of `one` (one of them) waited `waited_ms` or more.
  using WaitFn = std::function<void(const proto::ActorInfo& one, int actors, int64_t waited_ms)>;
  // Set once, before actors come.
  void SetWaitCallback(WaitFn f) { on_wait_ = std::move(f); }
  // Called for each call as it ends, with its result: the worker's answer,
  // or the error it gets without one (its worker or actor died, no node can
  // run it). Set once, before the first call.
  using DoneFn = std::function<void(const proto::TaskSpec& task, const proto::ObjectValue& result)>;
  void SetDoneCallback(DoneFn f) { on_done_ = std::move(f); }
  // No new polls or streams; the answers to those in flight change nothing.
  void Stop();

 private:
  struct Actor {
    proto::ActorInfo info;
    int64_t next_seq = 0;
    std::deque<proto::TaskSpec> waiting;  // not sent yet
    bool polling = false;
    int64_t calls = 0;  // submitted, not ended
    RefData handle;     // held while calls > 0 (when it has an owner)
    int64_t pending_since_ms = 0;  // seen waiting to be placed since then (0: not so)
    bool warned = false;
  };
  // `n` calls of the actor ended for good; returns the handle to let go of
  // when they were the last.
  std::optional<RefData> CallEnded(Actor& a, int64_t n = 1) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CallEnded(const std::string& actor_id);
  void Let(const std::optional<RefData>& handle, bool hold);
  void Poll(const std::string& actor_id, int64_t version) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends a new call at once (*worker set), queues it until the actor is
  // ALIVE, or fails it (*dead set; *release: the handle to let go of, if
  // the call was `counted` in a.calls).
  void Place(Actor& a, bool counted, proto::TaskSpec& spec, proto::Address* worker, std::optional<proto::ObjectValue>* dead,
             std::optional<RefData>* release) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnInfo(const proto::ActorInfo& info);
  void Send(proto::TaskSpec spec, const proto::Address& worker);
  // A call's end: its reply, or the error of its stream.
  void Finished(proto::TaskSpec& task, const std::string& worker_id, const absl::Status& s,
                proto::PushTaskReply& reply);
  // Queues a call whose worker died for the restarted actor, if the actor's
  // max_task_retries allows; false when it must fail instead.
  bool Retry(proto::TaskSpec& task, const std::string& failed_worker);
  // After a call to `failed_worker` failed: true if that is the actor's
  // current worker, which is then treated as restarting.
  bool SuspectWorker(Actor& a, const std::string& failed_worker) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  proto::ObjectValue DeathError(const proto::ActorInfo& info);

  // Actors of one resource shape that waited past the mark, not told yet.
  struct WaitGroup {
    int64_t told_ms = 0;  // when the last call for this shape went out
    int actors = 0;
    int64_t waited_ms = 0;  // the longest wait among them
    proto::ActorInfo one;
  };

  MemoryStore* const store_;
  SubmitTransport* const transport_;
  const HoldFn hold_;
  WaitFn on_wait_;
  DoneFn on_done_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Actor> actors_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, WaitGroup> wait_groups_ ABSL_GUARDED_BY(mu_);  // by shape: as many as shapes used
  absl::Mutex streams_mu_;
  // By worker id; an ended stream is replaced on the next call.
  absl::flat_hash_map<std::string, std::shared_ptr<CallSink>> streams_ ABSL_GUARDED_BY(streams_mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace glint::internal
