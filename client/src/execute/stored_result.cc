#include "client/src/execute/stored_result.h"

#include <utility>

#include "glint/internal/runtime_api.h"

namespace glint::internal {
namespace {
thread_local StoredResult* t_waiting = nullptr;
}  // namespace

bool StoredResult::Take(size_t size, const std::function<void(char*)>& write) {
  if (stored_) return false;  // its result went already
  stored_ = store_(size, write);
  return stored_.has_value();
}

bool StoredResult::MoveInto(proto::ObjectValue* result) {
  if (!stored_) return false;
  auto contained = std::move(*result->mutable_contained());
  *result = std::move(*stored_);
  *result->mutable_contained() = std::move(contained);
  stored_.reset();
  return true;
}

StoredResult::OnThisThread::OnThisThread(StoredResult* to) : outer_(std::exchange(t_waiting, to)) {}

StoredResult::OnThisThread::~OnThisThread() { t_waiting = outer_; }

bool StoredResult::Offer(size_t size, const std::function<void(char*)>& write) {
  return t_waiting && t_waiting->Take(size, write);  // none: no sync call here
}

bool StoreCallResult(size_t size, const std::function<void(char*)>& write) { return StoredResult::Offer(size, write); }

}  // namespace glint::internal
