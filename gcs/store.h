// GCS storage: the tables the GCS keeps, behind an interface so that the
// in-memory store and persistent ones (gcs/sqlite_store.h) are interchangeable.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/ids.h"
#include "common/logging.h"

namespace glint::gcs {

// A table-keyed byte store. Implementations are thread-safe.
class GcsStore {
 public:
  virtual ~GcsStore() = default;
  virtual void Put(const std::string& table, const std::string& key, const std::string& value) = 0;
  virtual void Delete(const std::string& table, const std::string& key) = 0;
  virtual std::map<std::string, std::string> GetAll(const std::string& table) = 0;
};

// Keeps everything in memory; lost when the GCS exits.
class InMemoryStore : public GcsStore {
 public:
  void Put(const std::string& table, const std::string& key, const std::string& value) override;
  void Delete(const std::string& table, const std::string& key) override;
  std::map<std::string, std::string> GetAll(const std::string& table) override;

 private:
  absl::Mutex mu_;
  std::map<std::string, std::map<std::string, std::string>> tables_ ABSL_GUARDED_BY(mu_);
};

// The records of `table` read back as `Msg`s, each checked against its key
// (`id` is the field that holds it); a record that does not parse, or is
// not its key's, is skipped with a warning naming `what`.
template <typename Msg>
std::vector<Msg> ReadRecords(GcsStore& store, const std::string& table, const std::string& (Msg::*id)() const,
                             const char* what) {
  std::vector<Msg> out;
  for (auto& [key, bytes] : store.GetAll(table)) {
    Msg m;
    if (!m.ParseFromString(bytes) || (m.*id)() != key) {
      LOG(WARNING) << "the GCS store holds an unreadable " << what << " record (" << ShortHex(key) << "); skipping it";
      continue;
    }
    out.push_back(std::move(m));
  }
  return out;
}

// "memory", "sqlite:PATH" (the file is created if missing), or
// "redis://[:PASSWORD@]HOST:PORT[/NAMESPACE]" (gcs/redis_store.h).
absl::StatusOr<std::unique_ptr<GcsStore>> MakeStore(const std::string& kind);

}  // namespace glint::gcs
