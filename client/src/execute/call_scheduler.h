// CallScheduler: when, and on which thread, this worker's calls run.
//
// Normal tasks run in arrival order; actor calls run in each caller's
// submission order (by sequence number, holding early arrivals back). The
// scheduler's threads poll the process's completion queue (QueuePoller)
// between calls, so a call is received, run and answered on one thread.
// A task worker and a sync actor have one thread; a threaded actor gets n,
// made once at creation, never per call. A sync/threaded actor's
// concurrency groups each get their own threads and queue; the first
// thread then only hands calls out. (An async actor's calls go to its event
// loop instead; see TaskRunner.) Thread-safe.
#pragma once
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/src/execute/call_transport.h"
#include "common/queue_poller.h"
#include "common/recent_set.h"

namespace glint::internal {

class CallScheduler {
 public:
  using RunFn = std::function<void(IncomingCall*)>;
  using RefuseFn = std::function<void(IncomingCall*, const std::string& why)>;
  // `dispatch` takes each call in turn on a queue thread (and runs it, or
  // hands it on); `run` runs a call on a group's thread; `refuse` answers a
  // call that will not run. Borrows `poller`.
  // `early_call_wait` (tests: shorter) is kEarlyCallWait below.
  CallScheduler(QueuePoller* poller, RunFn dispatch, RunFn run, RefuseFn refuse,
                absl::Duration early_call_wait = kEarlyCallWait)
      : poller_(poller), dispatch_(std::move(dispatch)), run_(std::move(run)), refuse_(std::move(refuse)),
        early_call_wait_(early_call_wait) {}

  // Calls that arrived ahead of their caller's earlier ones wait for them,
  // up to these bounds for all callers together; past them such a call is
  // refused (a lost predecessor, or a client's malice, holds no more).
  static constexpr int kMaxEarlyCalls = 10000;
  static constexpr int64_t kMaxEarlyBytes = 64 << 20;
  // ... and for at most this long (as Ray's actor_scheduling_queue_max_
  // reorder_wait_seconds): then it is refused, its predecessors taken as lost.
  static constexpr absl::Duration kEarlyCallWait = absl::Seconds(30);
  // The callers whose next sequence number is kept: past this many, the
  // half that called least recently (and wait for nothing) are forgotten. A
  // forgotten caller's next call is taken as the next in its order (its
  // earlier calls have run: it was idle while others called).
  static constexpr size_t kMaxCallers = 50000;
  ~CallScheduler() { Stop(absl::ZeroDuration()); }

  // Starts the first thread.
  void Start();
  // Queues calls that arrived, in order, and wakes threads for them.
  void Admit(std::vector<IncomingCall*>& calls);
  // Takes a normal task that waits its turn off the queue and returns it
  // (null if it is not waiting: started, ended, or never came).
  IncomingCall* Withdraw(const std::string& task_id);
  // A threaded actor: `n` more queue threads.
  void AddThreads(int n);
  // A sync/threaded actor's concurrency groups ("" is the default one), each
  // with `limit` threads of its own.
  void MakeGroups(const std::map<std::string, int>& groups);
  bool has_groups() const { return has_groups_; }
  // Callers whose order is kept now.
  size_t callers() {
    absl::MutexLock lock(&mu_);
    return callers_.size();
  }
  // Queues a call for its group's threads.
  void RunInGroup(const std::string& group, IncomingCall* call);
  // After the queue is shut down: waits up to `grace` for the threads to
  // end, joins them, and leaves those stuck in user code behind (a worker
  // about to exit).
  void Stop(absl::Duration grace);

 private:
  struct Early {
    IncomingCall* call;
    absl::Time since;
  };
  struct Caller {
    int64_t next = 0;
    std::map<int64_t, Early> early;
    uint64_t last_call = 0;  // when it last called, in admitted calls
  };
  // Moves the early calls held longer than kEarlyCallWait to `expired`
  // (looks at most once a second).
  void ExpireEarlyLocked(absl::Time now, std::vector<IncomingCall*>* expired) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Forgets the least recent half of the idle callers.
  void ForgetIdleCallersLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues `call` (or puts it in `refused`).
  void AdmitLocked(IncomingCall* call, std::vector<IncomingCall*>* refused) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Loop();
  void GroupLoop(const std::string& name);
  void StartThread(std::function<void()> body) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  QueuePoller* const poller_;
  const RunFn dispatch_, run_;
  const RefuseFn refuse_;
  const absl::Duration early_call_wait_;
  absl::Mutex mu_;
  std::deque<IncomingCall*> ready_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Caller> callers_ ABSL_GUARDED_BY(mu_);
  RecentSet forgotten_ ABSL_GUARDED_BY(mu_){kMaxCallers};
  uint64_t admitted_ ABSL_GUARDED_BY(mu_) = 0;
  int early_calls_ ABSL_GUARDED_BY(mu_) = 0;  // in all callers' `early`
  int64_t early_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_expiry_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::map<std::string, std::deque<IncomingCall*>> groups_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> has_groups_{false};
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  int running_ ABSL_GUARDED_BY(mu_) = 0;  // threads not ended yet
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace glint::internal
