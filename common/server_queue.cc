#include "common/server_queue.h"

#include "common/logging.h"
#include "common/process.h"

namespace glint {
namespace {
// A poller stuck in one event this long is covered by the cover thread.
constexpr absl::Duration kCoverPeriod = absl::Milliseconds(20);
}  // namespace

ClientQueue* ServerQueue::client() {
  if (!client_) client_.emplace(cq_.get());
  return &*client_;
}

void ServerQueue::Start(const std::string& thread_name) {
  poller_ = std::make_unique<QueuePoller>(cq_.get());
  poller_->StartCover(kCoverPeriod);
  thread_ = std::thread([this, thread_name] {
    SetThreadName(thread_name.c_str());
    poller_->MarkPollerThread();
    poller_->PollUntilShutdown();
  });
}

void ServerQueue::Stop() {
  if (!cq_ || stopped_) return;
  stopped_ = true;
  if (!poller_) {  // never polled (its owner's start-up failed): its events run here
    cq_->Shutdown();
    void* tag;
    bool ok;
    while (cq_->Next(&tag, &ok)) static_cast<CqTag*>(tag)->Proceed(ok);
    return;
  }
  if (!poller_->Drain(absl::Seconds(2))) LOG(WARNING) << "a server's last events did not run in 2 s";
  poller_->Shutdown();
  if (thread_.joinable()) thread_.join();
  poller_->StopCover();
}

}  // namespace glint
