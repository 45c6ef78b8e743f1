// BoundedCache: values made on first use per key and shared, at most
// `capacity` of them kept. When full, the cache first forgets the values
// nobody else holds; if all are in use, it forgets them all (they live on
// with their holders, and the next Get makes a new one). A peer that names
// endless distinct addresses (a fuzzer, a malicious client) so costs a
// bounded number of channels, not one per address for good.
// Thread-safe.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace glint {

template <typename V>
class BoundedCache {
 public:
  explicit BoundedCache(size_t capacity) : capacity_(capacity) {}

  // The value for `key`, made by `make()` (under the cache's lock) if absent.
  template <typename Make>
  std::shared_ptr<V> Get(const std::string& key, Make make) {
    absl::MutexLock lock(&mu_);
    if (auto it = values_.find(key); it != values_.end()) return it->second;
    if (values_.size() >= capacity_) EvictLocked();
    auto v = make();
    values_.emplace(key, v);
    return v;
  }

  void Clear() {
    absl::MutexLock lock(&mu_);
    values_.clear();
  }

  size_t size() {
    absl::MutexLock lock(&mu_);
    return values_.size();
  }

 private:
  void EvictLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::erase_if(values_, [](const auto& kv) { return kv.second.use_count() == 1; });
    if (values_.size() >= capacity_) values_.clear();
  }

  const size_t capacity_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<V>> values_ ABSL_GUARDED_BY(mu_);
};

}  // namespace glint
