#include "gcs/sqlite_store.h"

#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace glint::gcs {
namespace {

constexpr char kSchema[] =
    "CREATE TABLE IF NOT EXISTS rows (tbl BLOB NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,"
    " PRIMARY KEY (tbl, key)) WITHOUT ROWID";

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  std::unique_ptr<SqliteStore> store;
  auto fail = [&](const std::string& what) {
    std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (db && sqlite3_errcode(db) == SQLITE_BUSY) why += " (another GCS has it open)";
    if (store) {
      store.reset();  // closes db
    } else {
      sqlite3_close(db);
    }
    return absl::UnavailableError(absl::StrCat("cannot ", what, " the GCS store ", path, ": ", why));
  };
  if (rc != SQLITE_OK) return fail("open");
  sqlite3_busy_timeout(db, 2000);
  // The exclusive lock is taken by the first write (BEGIN EXCLUSIVE) and
  // kept until the store closes.
  for (const char* sql : {"PRAGMA locking_mode=EXCLUSIVE", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                          kSchema, "BEGIN EXCLUSIVE", "COMMIT"}) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return fail("set up");
  }
  store.reset(new SqliteStore(db, path));
  for (auto [st, sql] : {std::pair{&store->put_, "INSERT OR REPLACE INTO rows (tbl, key, value) VALUES (?1, ?2, ?3)"},
                         {&store->delete_, "DELETE FROM rows WHERE tbl = ?1 AND key = ?2"},
                         {&store->select_, "SELECT key, value FROM rows WHERE tbl = ?1"}}) {
    if (sqlite3_prepare_v2(db, sql, -1, st, nullptr) != SQLITE_OK) return fail("prepare statements for");
  }
  return store;
}

SqliteStore::~SqliteStore() {
  for (sqlite3_stmt* st : {put_, delete_, select_}) sqlite3_finalize(st);
  sqlite3_close(db_);
}

bool SqliteStore::Run(sqlite3_stmt* st, std::initializer_list<const std::string*> params) {
  bool ok = true;
  int i = 1;
  for (const std::string* p : params) {
    ok = ok && sqlite3_bind_blob(st, i++, p->data(), static_cast<int>(p->size()), SQLITE_STATIC) == SQLITE_OK;
  }
  int rc = ok ? sqlite3_step(st) : SQLITE_ERROR;
  ok = rc == SQLITE_DONE || rc == SQLITE_ROW;
  if (!ok) {
    ++failures_;
    LOG_EVERY_N(ERROR, 100) << "GCS store " << path_ << ": " << sqlite3_errmsg(db_) << " (" << failures_
                            << " statements failed so far)";
  }
  return ok;
}

void SqliteStore::Put(const std::string& table, const std::string& key, const std::string& value) {
  absl::MutexLock lock(&mu_);
  Run(put_, {&table, &key, &value});
  sqlite3_reset(put_);
}

void SqliteStore::Delete(const std::string& table, const std::string& key) {
  absl::MutexLock lock(&mu_);
  Run(delete_, {&table, &key});
  sqlite3_reset(delete_);
}

std::map<std::string, std::string> SqliteStore::GetAll(const std::string& table) {
  absl::MutexLock lock(&mu_);
  std::map<std::string, std::string> out;
  auto column = [this](int c) {
    const char* p = static_cast<const char*>(sqlite3_column_blob(select_, c));
    return std::string(p ? p : "", sqlite3_column_bytes(select_, c));
  };
  for (bool row = Run(select_, {&table}) && sqlite3_data_count(select_) > 0; row;
       row = sqlite3_step(select_) == SQLITE_ROW) {
    out.emplace(column(0), column(1));
  }
  sqlite3_reset(select_);
  return out;
}

int64_t SqliteStore::failures() {
  absl::MutexLock lock(&mu_);
  return failures_;
}

}  // namespace glint::gcs
