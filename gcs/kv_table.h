// KvTable: the GCS's internal key-value store (proto KvService), each change
// written to the GCS store before it is answered, read back by a restarted
// GCS. Bounded: keys of 1 to kMaxKeyBytes, values of at most kMaxValueBytes,
// kMaxTotalBytes in all by default (past that a Put is refused
// RESOURCE_EXHAUSTED).
// Thread-safe.
#pragma once
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gcs/store.h"

namespace glint::gcs {

class KvTable {
 public:
  static constexpr size_t kMaxKeyBytes = 1024;
  static constexpr size_t kMaxValueBytes = 8 << 20;
  static constexpr size_t kMaxTotalBytes = 256 << 20;
  static constexpr size_t kMaxListedBytes = 8 << 20;  // keys in one Keys answer

  explicit KvTable(GcsStore* store, size_t max_total_bytes = kMaxTotalBytes)
      : store_(store), max_total_bytes_(max_total_bytes) {}
  // Reads the records back from the store.
  void Recover();

  // True if the key was new; with `overwrite` false an existing key keeps
  // its value.
  absl::StatusOr<bool> Put(const std::string& ns, const std::string& key, std::string value, bool overwrite);
  absl::StatusOr<std::optional<std::string>> Get(const std::string& ns, const std::string& key);
  // Whether the key is there (its value not copied).
  absl::StatusOr<bool> Contains(const std::string& ns, const std::string& key);
  // How many keys went.
  absl::StatusOr<int64_t> Delete(const std::string& ns, const std::string& key, bool by_prefix);
  // The keys that start with `prefix`, in byte order; *truncated when more
  // than kMaxListedBytes of them match.
  absl::StatusOr<std::vector<std::string>> Keys(const std::string& ns, const std::string& prefix, bool* truncated);

 private:
  using Key = std::pair<std::string, std::string>;  // namespace, key
  // The store's key of a record: the namespace, a NUL byte, the key.
  static std::string StoreKey(const Key& k) { return k.first + '\0' + k.second; }
  void Erase(std::map<Key, std::string>::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  GcsStore* const store_;
  const size_t max_total_bytes_;
  absl::Mutex mu_;
  std::map<Key, std::string> records_ ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace glint::gcs
