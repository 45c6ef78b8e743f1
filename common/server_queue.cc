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
  // Never polled: its server failed to start, and the queue, which holds
  // nothing, goes with its owner. (Shutting it down here would log that
  // it went before its server.)
  if (!poller_ || stopped_) return;
  stopped_ = true;
  if (!poller_->Drain(absl::Seconds(2))) LOG(WARNING) << "a server's last events did not run in 2 s";
  poller_->Shutdown();
  if (thread_.joinable()) thread_.join();
  poller_->StopCover();
}

}  // namespace glint
