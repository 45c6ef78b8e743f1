// The GCS's stores: the in-memory one, the SQLite file and Redis (a
// redis-server of the test's own), which must give back after a reopen (a
// restarted GCS) exactly what was written before, and name the file or
// server when they cannot use it.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <string>

#include "gcs/redis_store.h"
#include "gcs/sqlite_store.h"
#include "gcs/store.h"
#include "testing/redis_server.h"
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

TEST(StoreTest, ASecondGcsOnTheSameSqliteFileIsRefusedUntilTheFirstCloses) {
  std::string path = testing::TempDir() + "/shared.db";
  auto first = SqliteStore::Open(path);
  ASSERT_TRUE(first.ok()) << first.status();
  (*first)->Put("jobs", "j", "running");
  auto second = SqliteStore::Open(path);
  ASSERT_FALSE(second.ok()) << "two GCSes must not write one store";
  EXPECT_NE(second.status().message().find("another GCS has it open"), std::string::npos) << second.status();
  EXPECT_NE(second.status().message().find(path), std::string::npos) << second.status();
  first->reset();
  auto after = SqliteStore::Open(path);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ((*after)->GetAll("jobs").at("j"), "running");
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

TEST(StoreTest, RedisGivesBackAfterAReopenWhatWasWrittenBeforeAndKeepsClustersApart) {
  testing::RedisServer redis;
  if (!redis.available()) GTEST_SKIP() << redis.why_not();
  {
    auto s = MakeStore(redis.Url("one"));
    ASSERT_TRUE(s.ok()) << s.status();
    Exercise(**s);
    ExpectExercised(**s);
  }
  auto again = RedisStore::Open(redis.Url("one"));
  ASSERT_TRUE(again.ok()) << again.status();
  ExpectExercised(**again);
  EXPECT_EQ((*again)->failures(), 0);
  auto other = RedisStore::Open(redis.Url("two"));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_TRUE((*other)->GetAll("actors").empty()) << "another namespace is another cluster's";
}

TEST(StoreTest, RedisMistakesAreClearErrorsAndALostServerCostsWritesNotTheGcs) {
  testing::RedisServer redis;
  if (!redis.available()) GTEST_SKIP() << redis.why_not();
  std::string where = "127.0.0.1:" + std::to_string(redis.port());
  auto wrong = RedisStore::Open(redis.UrlWithPassword("not-the-password"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find(where), std::string::npos) << wrong.status();
  auto s = RedisStore::Open(redis.Url());
  ASSERT_TRUE(s.ok()) << s.status();
  (*s)->Put("jobs", "j", "running");
  redis.Stop();
  (*s)->Put("jobs", "k", "lost");  // logged and counted; the caller goes on
  EXPECT_EQ((*s)->failures(), 1);
  EXPECT_TRUE((*s)->GetAll("jobs").empty());
  auto gone = RedisStore::Open(redis.Url());
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.status().message().find(where), std::string::npos) << gone.status();
}

TEST(StoreTest, RedisAddressesAreParsedOrRefusedSayingWhy) {
  auto full = ParseRedisAddress("redis://user:p@ss:word@redis.example:6390/cluster-7");
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->host, "redis.example");
  EXPECT_EQ(full->port, 6390);
  EXPECT_EQ(full->password, "p@ss:word");
  EXPECT_EQ(full->name_space, "cluster-7");
  auto plain = ParseRedisAddress("redis://127.0.0.1:6379");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->password, "");
  EXPECT_EQ(plain->name_space, "glint");
  for (std::string bad : {"redis://", "redis://host", "redis://host:0", "redis://host:port", "redis://h:1/",
                          "redis://h:1/a b", "http://h:1"}) {
    auto a = ParseRedisAddress(bad);
    EXPECT_FALSE(a.ok()) << bad;
    EXPECT_NE(a.status().message().find("is not a Redis address"), std::string::npos) << a.status();
  }
}

}  // namespace
}  // namespace glint::gcs
