#include "common/async_call.h"

#include <grpcpp/alarm.h>

#include "common/logging.h"
#include "common/process.h"

namespace glint {

void ClientQueue::Begin(QueuedCall* c, const std::function<void(grpc::CompletionQueue*)>& start) {
  c->queue_ = this;
  absl::MutexLock lock(&mu_);
  calls_.insert(c);
  start(cq_);
  if (closed_) c->ctx.TryCancel();  // ends at once, on the queue, as CANCELLED
}

void ClientQueue::Remove(QueuedCall* c) {
  absl::MutexLock lock(&mu_);
  calls_.erase(c);
}

void ClientQueue::Close(int64_t timeout_ms) {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  for (auto* c : calls_) c->ctx.TryCancel();
  auto none = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return calls_.empty(); };
  if (!mu_.AwaitWithTimeout(absl::Condition(&none), absl::Milliseconds(timeout_ms))) {
    LOG(WARNING) << calls_.size() << " calls did not end within " << timeout_ms << " ms of being cancelled";
  }
}

ClientQueueThread::ClientQueueThread()
    : thread_([this] {
        SetThreadName("glint-client");
        poller_.PollUntilShutdown();
      }) {}

void ClientQueueThread::Stop() {
  if (!thread_.joinable()) return;
  queue_.Close(5000);
  poller_.Shutdown();
  thread_.join();
}

void ClientCall::Proceed(bool) {
  Done(FromGrpc(status_));
  queue_->Remove(this);  // after its end ran: Close waits for that
  delete this;
}

namespace {
class SoonTag final : public CqTag, public QueuedCall {
 public:
  explicit SoonTag(std::function<void()> fn) : fn_(std::move(fn)) {}
  void Proceed(bool) override {
    fn_();
    queue_->Remove(this);
    delete this;
  }
  grpc::Alarm alarm;

 private:
  std::function<void()> fn_;
};
}  // namespace

void RunSoon(ClientQueue* queue, std::function<void()> fn) {
  auto* tag = new SoonTag(std::move(fn));
  queue->Begin(tag, [tag](grpc::CompletionQueue* cq) { tag->alarm.Set(cq, gpr_now(GPR_CLOCK_MONOTONIC), tag); });
}

void LogCallFailure(const std::string& what, const absl::Status& s) {
  if (s.ok()) return;
  if (absl::IsCancelled(s)) {  // this process is shutting down
    VLOG(1) << what << ": " << s;
  } else {
    LOG(WARNING) << what << " failed: " << s;
  }
}

}  // namespace glint
