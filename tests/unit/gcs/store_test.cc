// The GCS's stores: the in-memory one and the SQLite file, which must give
// back after a reopen (a restarted GCS) exactly what was written before, and
// name the file when it cannot open it.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <string>

#include "gcs/sqlite_store.h"
#include "gcs/store.h"
#include "testing/shell.h"

namespace glint::gcs {
namespace {

// Binary keys and values, empty ones, a large one, replacing and deleting.
void Exercise(GcsStore& s) {
  std::string binary_key("k\0\xff", 3), binary_value("v\0\x01\x02", 4);
  s.Put("actors", binary_key, binary_value);
  s.Put("actors", "b", "");
  s.Put("actors", "c", std::string(1 << 20, 'x'));
  s.Put("actors", "c", "replaced");
  s.Put("jobs", "b", "a job");
  s.Put("jobs", "gone", "soon");
  s.Delete("jobs", "gone");
  s.Delete("jobs", "never-there");
}

void ExpectExercised(GcsStore& s) {
  auto actors = s.GetAll("actors");
  ASSERT_EQ(actors.size(), 3u);
  EXPECT_EQ(actors.at(std::string("k\0\xff", 3)), std::string("v\0\x01\x02", 4));
  EXPECT_EQ(actors.at("b"), "");
  EXPECT_EQ(actors.at("c"), "replaced");
  auto jobs = s.GetAll("jobs");
  ASSERT_EQ(jobs.size(), 1u) << "tables are apart, deletes stay deleted";
  EXPECT_EQ(jobs.at("b"), "a job");
  EXPECT_TRUE(s.GetAll("nodes").empty());
}

TEST(StoreTest, InMemoryKeepsWhatWasWritten) {
  InMemoryStore s;
  Exercise(s);
  ExpectExercised(s);
}

TEST(StoreTest, SqliteGivesBackAfterAReopenWhatWasWrittenBefore) {
  std::string path = testing::TempDir() + "/gcs.db";
  {
    auto s = MakeStore("sqlite:" + path);
    ASSERT_TRUE(s.ok()) << s.status();
    Exercise(**s);
    ExpectExercised(**s);
  }
  auto again = SqliteStore::Open(path);
  ASSERT_TRUE(again.ok()) << again.status();
  ExpectExercised(**again);
  EXPECT_EQ((*again)->failures(), 0);
}

TEST(StoreTest, SqliteWritesSurviveTheProcessBeingKilled) {
  std::string path = testing::TempDir() + "/killed.db";
  pid_t child = fork();
  if (child == 0) {
    auto s = SqliteStore::Open(path);
    if (!s.ok()) _exit(3);
    (*s)->Put("actors", "detached", "alive");
    (*s)->Put("jobs", "j", "running");
    kill(getpid(), SIGKILL);  // no destructor, no close: as a GCS killed with kill -9
    _exit(4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the writer was killed";
  auto s = SqliteStore::Open(path);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->GetAll("actors").at("detached"), "alive");
  EXPECT_EQ((*s)->GetAll("jobs").at("j"), "running");
}

TEST(StoreTest, BadStoresAreClearErrors) {
  auto unknown = MakeStore("postgres://x");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown GCS store"), std::string::npos);
  auto nowhere = MakeStore("sqlite:/nonexistent-dir/deeper/gcs.db");
  ASSERT_FALSE(nowhere.ok());
  EXPECT_NE(nowhere.status().message().find("/nonexistent-dir/deeper/gcs.db"), std::string::npos)
      << nowhere.status();
  std::string dir = testing::TempDir();
  std::string not_a_db = dir + "/garbage.db";
  std::ofstream(not_a_db) << "this is not a database file at all, padded to more than a header's worth";
  auto garbage = SqliteStore::Open(not_a_db);
  ASSERT_FALSE(garbage.ok()) << "a file that is not a store is refused, not overwritten";
  EXPECT_NE(garbage.status().message().find(not_a_db), std::string::npos) << garbage.status();
}

}  // namespace
}  // namespace glint::gcs
