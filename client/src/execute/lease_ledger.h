// LeaseLedger: the leases this worker's holders used, for the raylet's
// question about a lease nobody used. A holder that dies between the
// raylet's grant and its first call never opens a stream here, so nothing
// would give the lease back: the raylet asks the worker about a task lease
// it granted long ago (RevokeUnusedLease), and the worker revokes it when no
// stream named it. A stream that names a revoked lease comes too late and is
// refused, so a worker never serves two holders. Remembers a bounded number
// of leases (a worker holds one lease at a time). Thread-safe.
#pragma once
#include <cstddef>
#include <string>

#include "absl/synchronization/mutex.h"
#include "common/recent_set.h"

namespace glint::internal {

class LeaseLedger {
 public:
  static constexpr size_t kMaxLeaseIdBytes = 64;  // a longer one is no lease of a raylet's

  // A stream naming `lease_id` opened: false if the lease was revoked
  // (the stream is refused).
  bool Open(const std::string& lease_id);
  // True, and `lease_id` revoked, if no stream named it; false if one did.
  bool RevokeIfUnused(const std::string& lease_id);

 private:
  static constexpr size_t kRemembered = 64;
  absl::Mutex mu_;
  RecentSet opened_ ABSL_GUARDED_BY(mu_){kRemembered};
  RecentSet revoked_ ABSL_GUARDED_BY(mu_){kRemembered};
};

}  // namespace glint::internal
