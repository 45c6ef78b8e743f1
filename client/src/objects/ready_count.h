// ReadyCount: a wait on several things at once (references and generators
// in one Wait): each one reports itself ready once, from any thread, and
// Wait returns when enough did or at the deadline. Thread-safe.
#pragma once
#include <algorithm>
#include <cstddef>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace glint::internal {

class ReadyCount {
 public:
  explicit ReadyCount(size_t n) : ready_(n, false) {}
  void Set(size_t i) {
    absl::MutexLock lock(&mu_);
    if (!ready_[i]) ++count_;
    ready_[i] = true;
  }
  // The flags once `want` (at most all) are ready, or at `deadline`.
  std::vector<bool> Wait(size_t want, absl::Time deadline) {
    want = std::min(want, ready_.size());
    absl::MutexLock lock(&mu_);
    auto enough = [this, want]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return count_ >= want; };
    mu_.AwaitWithDeadline(absl::Condition(&enough), deadline);
    return ready_;
  }

 private:
  absl::Mutex mu_;
  std::vector<bool> ready_ ABSL_GUARDED_BY(mu_);
  size_t count_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace glint::internal
