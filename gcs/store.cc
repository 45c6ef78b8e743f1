#include "gcs/store.h"

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

std::unique_ptr<GcsStore> MakeStore(const std::string& kind) {
  if (kind == "memory" || kind.empty()) return std::make_unique<InMemoryStore>();
  return nullptr;
}

}  // namespace glint::gcs
