#include "client/src/execute/cancelled_calls.h"

#include <utility>

namespace glint::internal {

std::vector<RefData> CancelledCalls::Cancel(const std::string& task_id, bool recursive) {
  std::vector<RefData> children;
  absl::MutexLock lock(&mu_);
  cancelled_.Insert(task_id);
  any_ = true;
  if (auto it = children_.find(task_id); recursive && it != children_.end()) {
    children = std::move(it->second);
    children_.erase(it);
  }
  return children;
}

bool CancelledCalls::Contains(const std::string& task_id) {
  if (!any_) return false;
  absl::MutexLock lock(&mu_);
  return cancelled_.contains(task_id);
}

void CancelledCalls::AddChild(const std::string& parent, RefData child) {
  absl::MutexLock lock(&mu_);
  tracking_ = true;
  auto& made = children_[parent];
  if (made.size() < kMaxChildren) made.push_back(std::move(child));
}

void CancelledCalls::Finished(const std::string& task_id) {
  if (!tracking_) return;
  absl::MutexLock lock(&mu_);
  children_.erase(task_id);
  tracking_ = !children_.empty();
}

}  // namespace glint::internal
