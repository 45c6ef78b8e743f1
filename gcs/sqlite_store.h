// SqliteStore: the GCS's tables in one SQLite file, so that a restarted GCS
// finds what it knew (the embedded persistent store; no server to run).
//
// One table holds every (table, key) -> value row. The file is in WAL mode
// with synchronous=NORMAL: a Put or Delete is in the file before it returns,
// so it survives the GCS being killed (kill -9, a crash); the last changes
// may be lost if the whole machine goes down before the OS writes them out
// (as with Redis's default appendfsync everysec). One connection behind a
// mutex, its statements prepared once: the GCS's writes are small and few
// next to the RPCs that make them. The file is locked for as long as the
// store is open (SQLite's exclusive locking mode, which also spares each
// write the shared-memory index), so a second GCS on the same file is
// refused rather than let two of them write it; the lock goes with the
// process, so a GCS killed with kill -9 can be started again at once.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gcs/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace glint::gcs {

class SqliteStore : public GcsStore {
 public:
  // Opens (or creates) the store at `path`; the error names the file and
  // SQLite's reason.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path);
  ~SqliteStore() override;

  void Put(const std::string& table, const std::string& key, const std::string& value) override;
  void Delete(const std::string& table, const std::string& key) override;
  std::map<std::string, std::string> GetAll(const std::string& table) override;

  // Writes that failed so far (each is logged; the GCS keeps serving from memory).
  int64_t failures();

 private:
  SqliteStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  // Binds the blob parameters to `st` and runs it to its end (or, for a
  // query, to its first row); false (logged) on error. The caller resets it.
  bool Run(sqlite3_stmt* st, std::initializer_list<const std::string*> params) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  sqlite3* const db_;
  sqlite3_stmt* put_ = nullptr;
  sqlite3_stmt* delete_ = nullptr;
  sqlite3_stmt* select_ = nullptr;
  const std::string path_;
  int64_t failures_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace glint::gcs
