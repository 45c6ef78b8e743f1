#include "client/src/memory_store.h"

namespace glint::internal {

bool MemoryStore::Expect(const std::string& id) {
  absl::MutexLock lock(&mu_);
  return objects_.try_emplace(id).second;
}

void MemoryStore::Put(const std::string& id, proto::ObjectValue value) {
  std::vector<Callback> cbs;
  const proto::ObjectValue* stored;
  {
    absl::MutexLock lock(&mu_);
    auto& e = objects_[id];
    if (e.ready) return;  // first value wins (e.g. a retry racing a late reply)
    e.ready = true;
    e.value = std::move(value);
    if (e.discard && e.callbacks.empty() && e.waiters == 0) {  // nobody wants it any more
      objects_.erase(id);
      return;
    }
    if (e.callbacks.empty()) return;
    cbs.swap(e.callbacks);
    stored = &e.value;
    ++e.waiters;  // pins the entry while the callbacks read it unlocked
  }
  // node_hash_map keeps the entry in place, and a ready value never changes.
  for (auto& cb : cbs) cb(*stored);
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it == objects_.end()) return;
  --it->second.waiters;
  if (it->second.discard && it->second.callbacks.empty() && it->second.waiters == 0) objects_.erase(it);
}

void MemoryStore::Release(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it == objects_.end()) return;
  if (it->second.ready && it->second.callbacks.empty() && it->second.waiters == 0) {
    objects_.erase(it);
  } else {
    it->second.discard = true;
  }
}

bool MemoryStore::Contains(const std::string& id) {
  absl::MutexLock lock(&mu_);
  return objects_.contains(id);
}

std::optional<proto::ObjectValue> MemoryStore::TryGet(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it == objects_.end() || !it->second.ready) return std::nullopt;
  return it->second.value;
}

std::optional<proto::ObjectValue> MemoryStore::Get(const std::string& id, absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  Entry* e = &objects_[id];  // node_hash_map: stable while it exists (waiters > 0)
  ++e->waiters;
  auto ready = [e]() { return e->ready; };
  bool got = mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
  --e->waiters;
  std::optional<proto::ObjectValue> out;
  if (got) out = e->value;
  if (e->discard && e->ready && e->waiters == 0 && e->callbacks.empty()) objects_.erase(id);
  return out;
}

void MemoryStore::OnReady(const std::string& id, Callback cb) {
  std::optional<proto::ObjectValue> now;
  {
    absl::MutexLock lock(&mu_);
    auto& e = objects_[id];
    if (!e.ready) {
      e.callbacks.push_back(std::move(cb));
      return;
    }
    now = e.value;
  }
  cb(*now);
}

std::vector<bool> MemoryStore::Wait(const std::vector<std::string>& ids, size_t num_ready,
                                    absl::Time deadline) {
  std::vector<bool> ready(ids.size());
  absl::MutexLock lock(&mu_);
  auto enough = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    size_t n = 0;
    for (auto& id : ids) {
      auto it = objects_.find(id);
      n += it != objects_.end() && it->second.ready;
    }
    return n >= num_ready;
  };
  mu_.AwaitWithDeadline(absl::Condition(&enough), deadline);
  for (size_t i = 0; i < ids.size(); ++i) {
    auto it = objects_.find(ids[i]);
    ready[i] = it != objects_.end() && it->second.ready;
  }
  return ready;
}

}  // namespace glint::internal
