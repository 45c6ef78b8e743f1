#include "client/src/execute/stored_result.h"

#include <utility>

#include "glint/internal/runtime_api.h"

namespace glint::internal {
namespace {
thread_local StoredResult* t_waiting = nullptr;
}  // namespace

StoredResult::StoredResult(Store store) : store_(std::move(store)), outer_(t_waiting) { t_waiting = this; }

StoredResult::~StoredResult() { t_waiting = outer_; }

bool StoredResult::Offer(size_t size, const std::function<void(char*)>& write) {
  StoredResult* r = t_waiting;
  if (!r || r->stored_) return false;  // no sync call here, or its result went already
  r->stored_ = r->store_(size, write);
  return r->stored_.has_value();
}

bool StoredResult::MoveInto(proto::ObjectValue* result) {
  if (!stored_) return false;
  auto contained = std::move(*result->mutable_contained());
  *result = std::move(*stored_);
  *result->mutable_contained() = std::move(contained);
  stored_.reset();
  return true;
}

bool StoreCallResult(size_t size, const std::function<void(char*)>& write) { return StoredResult::Offer(size, write); }

}  // namespace glint::internal
