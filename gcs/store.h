// GCS storage: the tables the GCS keeps, behind an interface so that the
// in-memory store and persistent ones (gcs/sqlite_store.h) are interchangeable.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

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

// "memory", or "sqlite:PATH" (the file is created if missing).
absl::StatusOr<std::unique_ptr<GcsStore>> MakeStore(const std::string& kind);

}  // namespace glint::gcs
