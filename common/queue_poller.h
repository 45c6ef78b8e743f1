// Completion-queue events (CqTag) and QueuePoller, which polls the one
// completion queue of a libglint process: the replies to its calls, the
// requests to its WorkerService and wake-ups.
//
// One thread polls it in the common case (a worker's executor thread, a
// driver's RPC thread), so an event is run by the thread that took it off
// the socket. (gRPC's callback API polls with threads of its own that pass
// every event on to another thread: a thread switch per message, which on a
// small VM costs as much as the rest of a call.) When that thread waits
// in user code (BlockingScope), or has not polled for `period` (a long
// computation), a cover thread polls instead until it is back, so the
// process always serves its objects and gets its replies. Thread-safe.
#pragma once
#include <functional>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace glint {

// An event on a completion queue: the thread that polls the queue runs
// Proceed(ok) (for a call's end, a request's arrival, or an alarm).
class CqTag {
 public:
  virtual ~CqTag() = default;
  virtual void Proceed(bool ok) = 0;
};

// A CqTag that runs `(obj->*fn)(ok)`: one per kind of operation a stream
// keeps outstanding (a read and a write may be in flight at once).
template <typename T>
class MemberTag final : public CqTag {
 public:
  MemberTag(T* obj, void (T::*fn)(bool)) : obj_(obj), fn_(fn) {}
  void Proceed(bool ok) override { (obj_->*fn_)(ok); }

 private:
  T* obj_;
  void (T::*fn_)(bool);
};

// Polls one completion queue (see the top of this file).
class QueuePoller {
 public:
  explicit QueuePoller(grpc::CompletionQueue* cq) : cq_(cq) {}
  ~QueuePoller() { StopCover(); }

  enum Result { kRan, kTimeout, kShutdown };
  // Waits until `deadline` for one event and runs it (its CqTag::Proceed).
  Result PollOnce(absl::Time deadline);
  // Runs events until the queue is shut down and drained.
  void PollUntilShutdown();
  // Gets a poller thread out of PollOnce (kRan, with nothing run). Does
  // nothing once the queue is shut down.
  void Wake();
  // Waits up to `timeout` until a poller has run the events queued before
  // this call (an alarm set now comes back after them). Before Shutdown:
  // an event run after it that starts another operation on the queue (a
  // request answered late) would find the queue shut down, which gRPC does
  // not allow. Not from a poller thread.
  bool Drain(absl::Duration timeout);
  // Shuts the queue down (once); pollers return kShutdown once it is drained.
  void Shutdown();

  // Starts the cover thread; StopCover (after the queue is shut down) joins it.
  //
  // An idle process dozes: once a poller has waited in the queue with
  // nothing coming for kDozeAfter periods, the cover looks only every
  // kDozePeriod, until the next event rouses it (and runs `on_rouse`, which
  // may quicken the process's other timers). Fifty wake-ups a second per
  // idle process were most of what 1,000 idle actors cost a node. A
  // computation that starts in the one event that slips in as the cover
  // falls asleep is covered up to kDozePeriod late.
  void StartCover(absl::Duration period, std::function<void()> on_rouse = nullptr);
  // True while the cover dozes (the process is idle).
  bool dozing() const { return dozing_.load(std::memory_order_relaxed); }
  static constexpr int kDozeAfter = 10;
  static constexpr absl::Duration kDozePeriod = absl::Milliseconds(500);
  void StopCover();

  // The calling thread is one of this queue's pollers from now on (for
  // BlockingScope and Wake).
  void MarkPollerThread() { t_poller = this; }
  // Around a wait on a poller thread (a nested Get in a task): the cover
  // thread polls meanwhile. Does nothing on other threads.
  class BlockingScope {
   public:
    BlockingScope();
    ~BlockingScope();
    BlockingScope(const BlockingScope&) = delete;
    BlockingScope& operator=(const BlockingScope&) = delete;

   private:
    QueuePoller* p_;
  };

 private:
  struct WakeTag;
  void CoverLoop();
  // An event came while the cover dozed: it looks every period again.
  void Rouse();
  static thread_local QueuePoller* t_poller;
  grpc::CompletionQueue* const cq_;
  std::atomic<int> polling_{0};     // threads in PollOnce now
  std::atomic<uint64_t> polls_{0};  // events and timeouts taken, by anyone
  std::atomic<int> blocked_{0};     // poller threads in a BlockingScope
  absl::Mutex shutdown_mu_;
  bool shutdown_ ABSL_GUARDED_BY(shutdown_mu_) = false;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool roused_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> dozing_{false};  // set and cleared with mu_ held
  absl::Duration period_;
  std::function<void()> on_rouse_;
  std::thread cover_;
};

}  // namespace glint
