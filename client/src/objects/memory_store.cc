#include "client/src/objects/memory_store.h"

namespace glint::internal {

bool MemoryStore::Expect(const std::string& id, bool owned) {
  absl::MutexLock lock(&mu_);
  auto [it, made] = objects_.try_emplace(id);
  if (made) it->second.owned = owned;
  return made;
}

std::optional<proto::ObjectValue> MemoryStore::EraseIfDone(absl::node_hash_map<std::string, Entry>::iterator it) {
  Entry& e = it->second;
  if (!e.discard || !e.ready || !e.callbacks.empty() || e.waiters > 0) return std::nullopt;
  std::optional<proto::ObjectValue> owned;
  if (e.owned && (e.value.has_stored() || e.value.contained_size() > 0 || !e.value.handle_of_actor().empty())) owned = std::move(e.value);
  objects_.erase(it);
  return owned;
}

void MemoryStore::Freed(const std::string& id, const std::optional<proto::ObjectValue>& v) {
  if (v && freed_) freed_(id, *v);
}

void MemoryStore::Put(const std::string& id, proto::ObjectValue value, bool owned) {
  std::vector<Callback> cbs;
  const proto::ObjectValue* stored = nullptr;
  std::optional<proto::ObjectValue> freed;
  bool lost = false;
  bool local = !value.has_stored() || !local_check_ || local_check_(value);
  if (value.contained_size() > 0) {
    {
      absl::MutexLock lock(&mu_);
      auto it = objects_.find(id);
      owned = owned || (it != objects_.end() && it->second.owned);
      if (it != objects_.end() && it->second.ready) return;
    }
    // Held before anyone can read the value (and balanced by `freed`).
    if (owned && arrived_) arrived_(id, value);
  }
  {
    absl::MutexLock lock(&mu_);
    auto [it, made] = objects_.try_emplace(id);
    auto& e = it->second;
    if (made) e.owned = owned;
    if (e.ready) {  // first value wins (e.g. a retry racing a late reply)
      lost = true;
    } else {
      e.ready = true;
      e.local = local;
      e.value = std::move(value);
      if (!e.callbacks.empty()) {
        cbs.swap(e.callbacks);
        stored = &e.value;
        ++e.waiters;  // pins the entry while the callbacks read it unlocked
      } else {
        freed = EraseIfDone(it);  // nobody may want it any more
      }
    }
  }
  if (lost) {
    if (owned && value.contained_size() > 0 && freed_) freed_(id, value);  // undo `arrived`
    return;
  }
  if (cbs.empty()) {
    Freed(id, freed);
    return;
  }
  // node_hash_map keeps the entry in place, and a ready value never changes.
  for (auto& cb : cbs) cb(*stored);
  {
    absl::MutexLock lock(&mu_);
    auto it = objects_.find(id);
    if (it == objects_.end()) return;
    --it->second.waiters;
    freed = EraseIfDone(it);
  }
  Freed(id, freed);
}

bool MemoryStore::Reopen(const std::string& id, const std::string& lost_node) {
  absl::MutexLock lock(&mu_);
  if (objects_.try_emplace(id).second) return true;
  // Callbacks read a ready value unlocked (see Put): not while they run.
  auto unread = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    auto it = objects_.find(id);
    return it == objects_.end() || it->second.waiters == 0;
  };
  mu_.Await(absl::Condition(&unread));
  auto it = objects_.find(id);
  if (it == objects_.end()) return false;  // freed meanwhile
  Entry& e = it->second;
  if (!e.ready || !e.value.has_stored() || e.value.stored().node_id() != lost_node) return false;
  e.ready = false;
  e.local = true;
  e.pulling = false;
  e.value.Clear();
  return true;
}

void MemoryStore::Release(const std::string& id, bool owned) {
  std::optional<proto::ObjectValue> freed;
  {
    absl::MutexLock lock(&mu_);
    auto it = objects_.find(id);
    if (it == objects_.end()) return;
    it->second.discard = true;
    it->second.owned = it->second.owned || owned;
    freed = EraseIfDone(it);
  }
  Freed(id, freed);
}

bool MemoryStore::Contains(const std::string& id) {
  absl::MutexLock lock(&mu_);
  return objects_.contains(id);
}

bool MemoryStore::Ready(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  return it != objects_.end() && it->second.ready;
}

std::optional<proto::ObjectValue> MemoryStore::TryGet(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it == objects_.end() || !it->second.ready) return std::nullopt;
  return it->second.value;
}

std::optional<proto::ObjectValue> MemoryStore::Get(const std::string& id, absl::Time deadline) {
  std::optional<proto::ObjectValue> out;
  std::optional<proto::ObjectValue> freed;
  {
    absl::MutexLock lock(&mu_);
    Entry* e = &objects_[id];  // node_hash_map: stable while it exists (waiters > 0)
    ++e->waiters;
    auto ready = [e]() { return e->ready; };
    bool got = mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
    --e->waiters;
    if (got) out = e->value;
    freed = EraseIfDone(objects_.find(id));
  }
  Freed(id, freed);
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
                                    absl::Time deadline, PullList* to_pull) {
  std::vector<bool> ready(ids.size());
  auto counts = [&](const Entry& e) { return e.ready && (e.local || !to_pull); };
  auto needs_pull = [&](const Entry& e) { return to_pull && e.ready && !e.local && !e.pulling; };
  absl::MutexLock lock(&mu_);
  auto done = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    size_t n = 0;
    for (auto& id : ids) {
      auto it = objects_.find(id);
      if (it == objects_.end()) continue;
      if (needs_pull(it->second)) return true;
      n += counts(it->second);
    }
    return n >= num_ready;
  };
  mu_.AwaitWithDeadline(absl::Condition(&done), deadline);
  for (size_t i = 0; i < ids.size(); ++i) {
    auto it = objects_.find(ids[i]);
    if (it == objects_.end()) continue;
    ready[i] = counts(it->second);
    if (needs_pull(it->second)) {
      it->second.pulling = true;
      to_pull->emplace_back(ids[i], it->second.value.stored());
    }
  }
  return ready;
}

void MemoryStore::MarkLocal(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it != objects_.end()) it->second.local = true;
}

}  // namespace glint::internal
