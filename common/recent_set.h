// RecentSet: a set of keys that remembers at most `capacity` of them and
// forgets the oldest first: for what a daemon learns about others (jobs
// that finished, callers seen), which must not grow with every key a peer
// invents. Not thread-safe.
#pragma once
#include <cstddef>
#include <deque>
#include <string>

#include "absl/container/flat_hash_set.h"

namespace glint {

class RecentSet {
 public:
  explicit RecentSet(size_t capacity) : capacity_(capacity) {}

  // Adds `key` (a key already there keeps its age).
  void Insert(const std::string& key) {
    if (!keys_.insert(key).second) return;
    order_.push_back(key);
    while (order_.size() > capacity_) {
      keys_.erase(order_.front());
      order_.pop_front();
    }
  }
  bool contains(const std::string& key) const { return keys_.contains(key); }
  size_t size() const { return keys_.size(); }

 private:
  const size_t capacity_;
  absl::flat_hash_set<std::string> keys_;
  std::deque<std::string> order_;
};

}  // namespace glint
