#include "common/queue_poller.h"

#include <grpcpp/alarm.h>

#include <memory>

#include "absl/synchronization/notification.h"

#include "common/process.h"


namespace glint {

thread_local QueuePoller* QueuePoller::t_poller = nullptr;

// A wake-up for a poller thread (see Wake): taken by another thread (the
// cover), it is passed on while a poller thread is in the queue to take it.
struct QueuePoller::WakeTag final : CqTag {
  explicit WakeTag(QueuePoller* p) : poller(p) {}
  void Proceed(bool ok) override {
    if (ok && t_poller != poller && poller->polling_.load() > 0) poller->Wake();
    delete this;
  }
  QueuePoller* poller;
  grpc::Alarm alarm;
};

QueuePoller::Result QueuePoller::PollOnce(absl::Time deadline) {
  void* tag = nullptr;
  bool ok = false;
  polling_.fetch_add(1, std::memory_order_relaxed);
  auto st = deadline == absl::InfiniteFuture()
                ? (cq_->Next(&tag, &ok) ? grpc::CompletionQueue::GOT_EVENT : grpc::CompletionQueue::SHUTDOWN)
                : cq_->AsyncNext(&tag, &ok, absl::ToChronoTime(deadline));
  polling_.fetch_sub(1, std::memory_order_relaxed);
  polls_.fetch_add(1, std::memory_order_relaxed);
  if (st == grpc::CompletionQueue::SHUTDOWN) return kShutdown;
  if (st == grpc::CompletionQueue::TIMEOUT) return kTimeout;
  if (dozing_.load(std::memory_order_relaxed)) Rouse();
  static_cast<CqTag*>(tag)->Proceed(ok);
  return kRan;
}

void QueuePoller::PollUntilShutdown() {
  while (PollOnce(absl::InfiniteFuture()) != kShutdown) {
  }
}

void QueuePoller::Wake() {
  absl::ReaderMutexLock lock(&shutdown_mu_);
  if (shutdown_) return;
  auto* w = new WakeTag(this);
  w->alarm.Set(cq_, gpr_now(GPR_CLOCK_MONOTONIC), w);
}

bool QueuePoller::Drain(absl::Duration timeout) {
  struct DrainTag final : CqTag {
    void Proceed(bool) override {
      ran->Notify();
      delete this;
    }
    std::shared_ptr<absl::Notification> ran = std::make_shared<absl::Notification>();
    grpc::Alarm alarm;
  };
  {
    absl::ReaderMutexLock lock(&shutdown_mu_);
    if (shutdown_) return true;
  }
  auto* tag = new DrainTag;
  auto ran = tag->ran;
  tag->alarm.Set(cq_, gpr_now(GPR_CLOCK_MONOTONIC), tag);
  return ran->WaitForNotificationWithTimeout(timeout);
}

void QueuePoller::Shutdown() {
  absl::MutexLock lock(&shutdown_mu_);
  if (shutdown_) return;
  shutdown_ = true;
  cq_->Shutdown();
}

void QueuePoller::StartCover(absl::Duration period, std::function<void()> on_rouse) {
  period_ = period;
  on_rouse_ = std::move(on_rouse);
  cover_ = std::thread([this] {
    SetThreadName("glint-cover");
    CoverLoop();
  });
}

void QueuePoller::StopCover() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (cover_.joinable()) cover_.join();
}

QueuePoller::BlockingScope::BlockingScope() : p_(t_poller) {
  if (!p_) return;
  absl::MutexLock lock(&p_->mu_);  // the cover thread re-checks when this unlocks
  p_->blocked_.fetch_add(1);
}

QueuePoller::BlockingScope::~BlockingScope() {
  if (p_) p_->blocked_.fetch_sub(1);
}

void QueuePoller::Rouse() {
  {
    absl::MutexLock lock(&mu_);
    if (!dozing_.exchange(false)) return;  // another event roused it first
    roused_ = true;
  }
  if (on_rouse_) on_rouse_();
}

void QueuePoller::CoverLoop() {
  uint64_t seen = polls_.load();
  int idle = 0;  // periods in a row with a poller waiting and nothing coming
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      // Dozes while nothing comes (re-checked here: an event taken meanwhile
      // saw dozing_ false and roused nobody).
      dozing_.store(idle >= kDozeAfter && polls_.load() == seen);
      auto urgent = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stop_ || blocked_.load() > 0 || roused_; };
      mu_.AwaitWithTimeout(absl::Condition(&urgent), dozing_.load() ? kDozePeriod : period_);
      if (stop_) return;
      if (roused_ || blocked_.load() > 0) {
        idle = 0;
        dozing_.store(false);
      }
      roused_ = false;
    }
    uint64_t now = polls_.load();
    bool quiet = now == seen;
    bool stale = quiet && polling_.load() == 0;  // nobody polled for a whole period
    seen = now;
    idle = quiet && polling_.load() > 0 && blocked_.load() == 0 ? idle + 1 : 0;
    if (!stale && (blocked_.load() == 0 || polling_.load() > 0)) continue;
    // The poller waits in user code, or is busy: poll until a poller is
    // back in the queue (for up to a period there may be two).
    do {
      if (PollOnce(absl::Now() + period_) == kShutdown) return;
      absl::MutexLock lock(&mu_);
      if (stop_) return;
    } while (polling_.load() == 0);
    seen = polls_.load();
  }
}

}  // namespace glint
