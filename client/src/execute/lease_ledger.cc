#include "client/src/execute/lease_ledger.h"

namespace glint::internal {

bool LeaseLedger::Open(const std::string& lease_id) {
  absl::MutexLock lock(&mu_);
  if (revoked_.contains(lease_id)) return false;
  opened_.Insert(lease_id);
  return true;
}

bool LeaseLedger::RevokeIfUnused(const std::string& lease_id) {
  absl::MutexLock lock(&mu_);
  if (opened_.contains(lease_id)) return false;
  revoked_.Insert(lease_id);
  return true;
}

}  // namespace glint::internal
