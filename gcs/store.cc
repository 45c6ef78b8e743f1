#include "gcs/store.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gcs/redis_store.h"
#include "gcs/sqlite_store.h"

namespace glint::gcs {

void InMemoryStore::Put(const std::string& table, const std::string& key, const std::string& value) {
  absl::MutexLock lock(&mu_);
  tables_[table][key] = value;
}

void InMemoryStore::Delete(const std::string& table, const std::string& key) {
  absl::MutexLock lock(&mu_);
  tables_[table].erase(key);
}

std::map<std::string, std::string> InMemoryStore::GetAll(const std::string& table) {
  absl::MutexLock lock(&mu_);
  auto it = tables_.find(table);
  return it == tables_.end() ? std::map<std::string, std::string>{} : it->second;
}

absl::StatusOr<std::unique_ptr<GcsStore>> MakeStore(const std::string& kind) {
  if (kind == "memory" || kind.empty()) return std::make_unique<InMemoryStore>();
  if (absl::StartsWith(kind, "sqlite:") && kind.size() > 7) {
    auto s = SqliteStore::Open(kind.substr(7));
    if (!s.ok()) return s.status();
    return std::unique_ptr<GcsStore>(std::move(*s));
  }
  if (absl::StartsWith(kind, "redis://")) {
    auto s = RedisStore::Open(kind);
    if (!s.ok()) return s.status();
    return std::unique_ptr<GcsStore>(std::move(*s));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown GCS store '", kind, "' (memory, sqlite:PATH, or redis://[:PASSWORD@]HOST:PORT[/NAMESPACE])"));
}

}  // namespace glint::gcs
