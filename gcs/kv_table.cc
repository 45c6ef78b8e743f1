#include "gcs/kv_table.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/limits.h"
#include "common/logging.h"
#include "proto/gcs.pb.h"

namespace glint::gcs {
namespace {
constexpr char kTable[] = "kv";

absl::Status CheckKey(const std::string& ns, const std::string& key, bool may_be_empty) {
  if (auto s = CheckName("the key-value namespace", ns); !s.ok()) return s;
  if ((key.empty() && !may_be_empty) || key.size() > KvTable::kMaxKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a key-value key is 1 to ", KvTable::kMaxKeyBytes, " bytes, not ", key.size()));
  }
  return absl::OkStatus();
}
}  // namespace

void KvTable::Recover() {
  absl::MutexLock lock(&mu_);
  for (auto& [store_key, bytes] : store_->GetAll(kTable)) {
    proto::KvRecord r;
    if (!r.ParseFromString(bytes) || StoreKey({r.ns(), r.key()}) != store_key) {
      LOG(WARNING) << "the GCS store holds an unreadable key-value record; skipping it";
      continue;
    }
    bytes_ += r.key().size() + r.value().size();
    records_[{r.ns(), r.key()}] = std::move(*r.mutable_value());
  }
  if (!records_.empty()) LOG(INFO) << "read back " << records_.size() << " key-value records";
}

absl::StatusOr<bool> KvTable::Put(const std::string& ns, const std::string& key, std::string value, bool overwrite) {
  if (auto s = CheckKey(ns, key, false); !s.ok()) return s;
  if (value.size() > kMaxValueBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a key-value value is at most ", kMaxValueBytes, " bytes, not ", value.size()));
  }
  absl::MutexLock lock(&mu_);
  Key k{ns, key};
  auto it = records_.find(k);
  bool added = it == records_.end();
  if (!added && !overwrite) return false;
  size_t old = added ? 0 : key.size() + it->second.size();
  if (bytes_ - old + key.size() + value.size() > max_total_bytes_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the key-value store is full (", max_total_bytes_, " bytes): delete keys first"));
  }
  proto::KvRecord r;
  r.set_ns(ns);
  r.set_key(key);
  r.set_value(value);
  store_->Put(kTable, StoreKey(k), r.SerializeAsString());
  bytes_ += key.size() + value.size() - old;
  records_[std::move(k)] = std::move(value);
  return added;
}

absl::StatusOr<std::optional<std::string>> KvTable::Get(const std::string& ns, const std::string& key) {
  if (auto s = CheckKey(ns, key, false); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  auto it = records_.find({ns, key});
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<bool> KvTable::Contains(const std::string& ns, const std::string& key) {
  if (auto s = CheckKey(ns, key, false); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  return records_.contains({ns, key});
}

void KvTable::Erase(std::map<Key, std::string>::iterator it) {
  store_->Delete(kTable, StoreKey(it->first));
  bytes_ -= it->first.second.size() + it->second.size();
  records_.erase(it);
}

absl::StatusOr<int64_t> KvTable::Delete(const std::string& ns, const std::string& key, bool by_prefix) {
  if (auto s = CheckKey(ns, key, by_prefix); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  if (!by_prefix) {
    auto it = records_.find({ns, key});
    if (it == records_.end()) return 0;
    Erase(it);
    return 1;
  }
  int64_t n = 0;
  for (auto it = records_.lower_bound({ns, key}); it != records_.end() && it->first.first == ns &&
                                                 absl::StartsWith(it->first.second, key);) {
    Erase(it++);
    ++n;
  }
  return n;
}

absl::StatusOr<std::vector<std::string>> KvTable::Keys(const std::string& ns, const std::string& prefix,
                                                       bool* truncated) {
  if (auto s = CheckKey(ns, prefix, true); !s.ok()) return s;
  *truncated = false;
  std::vector<std::string> out;
  size_t bytes = 0;
  absl::MutexLock lock(&mu_);
  for (auto it = records_.lower_bound({ns, prefix});
       it != records_.end() && it->first.first == ns && absl::StartsWith(it->first.second, prefix); ++it) {
    if (bytes + it->first.second.size() > kMaxListedBytes) {
      *truncated = true;
      break;
    }
    bytes += it->first.second.size();
    out.push_back(it->first.second);
  }
  return out;
}

}  // namespace glint::gcs
