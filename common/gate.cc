#include "common/gate.h"

namespace glint {

void Gate::Leave() {
  // The last one out of a closed gate wakes Close (which re-checks when
  // the mutex is released).
  if (inside_.fetch_sub(1) == 1 && closed_.load()) absl::MutexLock lock(&mu_);
}

bool Gate::Close(absl::Duration timeout) {
  closed_.store(true);
  absl::MutexLock lock(&mu_);
  auto empty = [this] { return inside_.load() == 0; };
  return mu_.AwaitWithTimeout(absl::Condition(&empty), timeout);
}

}  // namespace glint
