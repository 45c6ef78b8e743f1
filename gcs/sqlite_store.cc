#include "gcs/sqlite_store.h"

#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace glint::gcs {
namespace {

constexpr char kSchema[] =
    "CREATE TABLE IF NOT EXISTS rows (tbl BLOB NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,"
    " PRIMARY KEY (tbl, key)) WITHOUT ROWID";

// Statements are prepared per call: SQLite compiles these in microseconds,
// and the GCS writes a row per actor, job or node change, not per call.
struct Statement {
  sqlite3_stmt* s = nullptr;
  ~Statement() { sqlite3_finalize(s); }
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  auto fail = [&](const std::string& what) {
    std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return absl::UnavailableError(absl::StrCat("cannot ", what, " the GCS store ", path, ": ", why));
  };
  if (rc != SQLITE_OK) return fail("open");
  sqlite3_busy_timeout(db, 5000);
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", kSchema}) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return fail("set up");
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(db, path));
}

SqliteStore::~SqliteStore() { sqlite3_close(db_); }

bool SqliteStore::Run(const char* sql, std::initializer_list<const std::string*> params) {
  Statement st;
  bool ok = sqlite3_prepare_v2(db_, sql, -1, &st.s, nullptr) == SQLITE_OK;
  int i = 1;
  for (const std::string* p : params) {
    if (!ok) break;
    ok = sqlite3_bind_blob(st.s, i++, p->data(), static_cast<int>(p->size()), SQLITE_STATIC) == SQLITE_OK;
  }
  if (ok) ok = sqlite3_step(st.s) == SQLITE_DONE;
  if (!ok) {
    ++failures_;
    LOG_EVERY_N(ERROR, 100) << "GCS store " << path_ << ": " << sqlite3_errmsg(db_) << " (" << failures_
                            << " writes failed so far)";
  }
  return ok;
}

void SqliteStore::Put(const std::string& table, const std::string& key, const std::string& value) {
  absl::MutexLock lock(&mu_);
  Run("INSERT OR REPLACE INTO rows (tbl, key, value) VALUES (?1, ?2, ?3)", {&table, &key, &value});
}

void SqliteStore::Delete(const std::string& table, const std::string& key) {
  absl::MutexLock lock(&mu_);
  Run("DELETE FROM rows WHERE tbl = ?1 AND key = ?2", {&table, &key});
}

std::map<std::string, std::string> SqliteStore::GetAll(const std::string& table) {
  absl::MutexLock lock(&mu_);
  std::map<std::string, std::string> out;
  Statement st;
  if (sqlite3_prepare_v2(db_, "SELECT key, value FROM rows WHERE tbl = ?1", -1, &st.s, nullptr) !=
          SQLITE_OK ||
      sqlite3_bind_blob(st.s, 1, table.data(), static_cast<int>(table.size()), SQLITE_STATIC) != SQLITE_OK) {
    LOG(ERROR) << "GCS store " << path_ << ": cannot read table " << table << ": " << sqlite3_errmsg(db_);
    return out;
  }
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    auto column = [&](int c) {
      const char* p = static_cast<const char*>(sqlite3_column_blob(st.s, c));
      return std::string(p ? p : "", sqlite3_column_bytes(st.s, c));
    };
    out.emplace(column(0), column(1));
  }
  if (rc != SQLITE_DONE) LOG(ERROR) << "GCS store " << path_ << ": reading table " << table << ": " << sqlite3_errmsg(db_);
  return out;
}

int64_t SqliteStore::failures() {
  absl::MutexLock lock(&mu_);
  return failures_;
}

}  // namespace glint::gcs
