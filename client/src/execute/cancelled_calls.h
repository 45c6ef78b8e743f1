// CancelledCalls: a worker's record of the calls their callers cancelled
// (glint::Cancel), and what a cancel must reach here: a call not started
// yet never starts (the executor asks Contains before it runs one), a sync
// one running sees IsCancelled(), an async one running is resumed where it
// waits (its CallContext), and, for a recursive cancel, the calls a
// cancelled call made are handed back to be cancelled by their owner, this
// process. Thread-safe; cheap while nothing was ever cancelled.
#pragma once
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/recent_set.h"
#include "glint/internal/runtime_api.h"

namespace glint::internal {

class CancelledCalls {
 public:
  // Cancelled ids kept (a cancel may come before its call, or long after).
  static constexpr size_t kMaxRemembered = 100000;
  // The calls one running call made that a recursive cancel reaches.
  static constexpr size_t kMaxChildren = 100000;

  // Marks `task_id` cancelled and returns the calls it made (with `recursive`).
  std::vector<RefData> Cancel(const std::string& task_id, bool recursive);
  bool Contains(const std::string& task_id);
  // The running call `parent` made the call whose result is `child`.
  void AddChild(const std::string& parent, RefData child);
  // The call ended: forgets what it made.
  void Finished(const std::string& task_id);

 private:
  std::atomic<bool> any_{false};       // something was cancelled once
  std::atomic<bool> tracking_{false};  // children_ holds something
  absl::Mutex mu_;
  RecentSet cancelled_ ABSL_GUARDED_BY(mu_){kMaxRemembered};
  absl::flat_hash_map<std::string, std::vector<RefData>> children_ ABSL_GUARDED_BY(mu_);
};

}  // namespace glint::internal
