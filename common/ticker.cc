#include "common/ticker.h"

#include "common/process.h"

namespace glint {

void Ticker::Start(const char* name, absl::Duration period, std::function<void()> tick) {
  {
    absl::MutexLock lock(&mu_);
    period_ = period;
  }
  tick_ = std::move(tick);
  thread_ = std::thread([this, name] {
    SetThreadName(name);
    Run();
  });
}

void Ticker::Poke() {
  absl::MutexLock lock(&mu_);
  poked_ = true;
}

void Ticker::SetPeriod(absl::Duration period) {
  absl::MutexLock lock(&mu_);
  if (period < period_) poked_ = true;
  period_ = period;
}

void Ticker::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Ticker::Run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto woken = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stop_ || poked_; };
      mu_.AwaitWithTimeout(absl::Condition(&woken), period_);
      if (stop_) return;
      poked_ = false;
    }
    tick_();
  }
}

}  // namespace glint
