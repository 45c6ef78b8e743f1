// What the task a worker runs hands on to the calls it makes: the placement
// group it captures them into (placement_groups.h), the detached actor it
// descends from (detached_root.h). Set as each task or actor starts
// (TaskRunner::Run), read on the call path; a flag spares readers the lock
// while nothing is set, as in every driver.
#pragma once
#include <atomic>
#include <utility>

#include "absl/synchronization/mutex.h"

namespace glint {

template <typename T>
class HandedOn {
 public:
  // `set` false: nothing to hand on (`value` is then T()).
  void Set(T value, bool set) {
    if (!set && !set_.load(std::memory_order_acquire)) return;
    absl::MutexLock lock(&mu_);
    set_.store(set, std::memory_order_release);
    value_ = std::move(value);
  }
  // T() while nothing is set.
  T Get() {
    if (!set_.load(std::memory_order_acquire)) return T();
    absl::MutexLock lock(&mu_);
    return value_;
  }

 private:
  std::atomic<bool> set_{false};
  absl::Mutex mu_;
  T value_ ABSL_GUARDED_BY(mu_);
};

}  // namespace glint
