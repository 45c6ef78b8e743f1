// common/: resource sets, the gate, the ticker.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/auth.h"
#include "common/gate.h"
#include "common/ids.h"
#include "common/queue_poller.h"
#include "common/launcher.h"
#include "common/resources.h"
#include "common/rpc.h"
#include "common/session.h"
#include "common/tls.h"
#include "common/ticker.h"
#include "testing/shell.h"

namespace glint {
namespace {

TEST(IdsTest, AForkedChildDrawsIdsOfItsOwn) {
  // A fork server's workers are forked from one process: without a reseed
  // after fork they would all draw the ids their parent draws next.
  glint::RandomId();  // this thread's generator exists before the fork
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  pid_t child = fork();
  if (child == 0) {
    std::string id = glint::RandomId();
    _exit(write(p[1], id.data(), id.size()) == static_cast<ssize_t>(id.size()) ? 0 : 1);
  }
  close(p[1]);
  std::string mine = glint::RandomId(), theirs(glint::kIdSize, '\0');
  ASSERT_EQ(read(p[0], theirs.data(), theirs.size()), static_cast<ssize_t>(theirs.size()));
  close(p[0]);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_NE(mine, theirs);
}

TEST(ResourceJsonTest, ParsesFlatObjectsAndRejectsGarbage) {
  auto r = ParseResourceJson(R"({"special": 2, "disk":0.5})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->at("special"), 2);
  EXPECT_EQ(r->at("disk"), 0.5);
  EXPECT_TRUE(ParseResourceJson("").ok());
  EXPECT_TRUE(ParseResourceJson(" {} ").ok());
  EXPECT_FALSE(ParseResourceJson("special=2").ok());
  EXPECT_FALSE(ParseResourceJson(R"({"a": -1})").ok());
  EXPECT_FALSE(ParseResourceJson(R"({a: 1})").ok());
  EXPECT_FALSE(ParseResourceJson(R"({"a": "2"})").ok());
  EXPECT_FALSE(ParseResourceJson(R"({"a": {"b": 1}})").ok());
  EXPECT_FALSE(ParseResourceJson(R"([1, 2])").ok());
  EXPECT_FALSE(ParseResourceJson(R"({"": 1})").ok());
  auto bad = ParseResourceJson(R"({"a": "x"})");
  EXPECT_NE(bad.status().message().find("'a'"), absl::string_view::npos) << bad.status();
}

TEST(ResourceJsonTest, WritesWhatItReads) {
  ResourceSet r{{"CPU", 2}, {"name with \"quotes\"", 0.5}};
  auto back = ParseResourceJson(ToJson(r));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, r);
}

TEST(GateTest, CloseWaitsForPassesAndRefusesNewOnesUntilReopened) {
  Gate gate;
  auto pass = std::make_unique<Gate::Pass>(gate.TryEnter());
  ASSERT_TRUE(*pass);
  EXPECT_FALSE(gate.Close(absl::Milliseconds(10))) << "a pass is still out";
  EXPECT_FALSE(gate.TryEnter()) << "closed";
  std::thread leaver([&] { pass.reset(); });
  EXPECT_TRUE(gate.Close(absl::Seconds(30)));
  leaver.join();
  gate.Reopen();
  EXPECT_TRUE(gate.TryEnter());
}

TEST(TickerTest, TicksUntilStoppedAndAPokeTicksAtOnce) {
  Ticker ticker;
  std::atomic<int> ticks{0};
  ticker.Start("glint-test", absl::Hours(1), [&] { ++ticks; });
  EXPECT_EQ(ticks, 0) << "the first tick comes after a period";
  ticker.Poke();
  absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (ticks == 0 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_EQ(ticks, 1);
  ticker.Stop();  // wakes it (else the test would sleep out the hour and time out)
  EXPECT_EQ(ticks, 1) << "no tick after Stop";
}

TEST(TickerTest, AShorterPeriodTicksAtOnceThenAtThatPace) {
  Ticker ticker;
  std::atomic<int> ticks{0};
  ticker.Start("glint-test", absl::Hours(1), [&] { ++ticks; });
  ticker.SetPeriod(absl::Milliseconds(5));
  absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (ticks < 3 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_GE(ticks, 3) << "ticks again without waiting out the hour";
  ticker.Stop();
}

// How many times the thread named `name` in this process has been switched
// out (it wakes, runs, sleeps), or -1 when there is none.
int64_t ThreadSwitches(const std::string& name) {
  for (const auto& t : std::filesystem::directory_iterator("/proc/self/task")) {
    std::string comm;
    std::getline(std::ifstream(t.path() / "comm"), comm);
    if (comm != name) continue;
    std::ifstream status(t.path() / "status");
    std::string key;
    int64_t n = 0, total = 0;
    while (status >> key) {
      if (key == "voluntary_ctxt_switches:" || key == "nonvoluntary_ctxt_switches:") {
        status >> n;
        total += n;
      }
    }
    return total;
  }
  return -1;
}

TEST(QueuePollerTest, AnIdleQueueDozesUntilAnEventRousesIt) {
  grpc::CompletionQueue cq;
  QueuePoller poller(&cq);
  std::atomic<int> rousings{0};
  poller.StartCover(absl::Milliseconds(20), [&] { ++rousings; });
  std::thread polling([&] {
    poller.MarkPollerThread();
    poller.PollUntilShutdown();
  });
  auto wait_for = [](auto pred) {
    absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (!pred() && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(5));
    return pred();
  };
  ASSERT_TRUE(wait_for([&] { return poller.dozing(); })) << "nothing came: the cover dozes";
  // Dozing, the cover wakes every kDozePeriod instead of every 20 ms.
  int64_t before = ThreadSwitches("glint-cover");
  ASSERT_GE(before, 0);
  absl::SleepFor(absl::Seconds(1));
  EXPECT_LE(ThreadSwitches("glint-cover") - before, 8) << "about 50 a second awake";
  poller.Wake();  // an event
  ASSERT_TRUE(wait_for([&] { return rousings.load() == 1; })) << "the event roused it, once";
  ASSERT_TRUE(wait_for([&] { return poller.dozing(); })) << "and it dozes again once idle";
  poller.Shutdown();
  polling.join();
  poller.StopCover();
}

using glint::testing::TempDir;

TEST(AuthTest, TokensAreLongRandomAndDistinct) {
  std::string a = NewAuthToken(), b = NewAuthToken();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
}

TEST(AuthTest, TokenFilesAreTheirOwnersOnly) {
  std::string dir = TempDir();
  ASSERT_TRUE(WriteTokenFile(dir + "/t", "secret").ok());
  struct stat st;
  ASSERT_EQ(stat((dir + "/t").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*ReadTokenFile(dir + "/t"), "secret");
  chmod((dir + "/t").c_str(), 0644);
  auto open = ReadTokenFile(dir + "/t");
  EXPECT_EQ(open.status().code(), absl::StatusCode::kPermissionDenied) << "a token others can read is refused";
  EXPECT_EQ(ReadTokenFile(dir + "/none").status().code(), absl::StatusCode::kNotFound);
}

TEST(AuthTest, TheNewestSessionOfAClusterGivesItsTokenAndTls) {
  std::string root = TempDir();
  glint::testing::ScopedEnv session_root("GLINT_TMPDIR", root);
  auto write = [&](const std::string& session, const std::string& address, const std::string& token) {
    mkdir((root + "/" + session).c_str(), 0755);
    AuthOptions auth{token, {}};
    if (token == "tls") auth.tls = TlsFiles{"/c.pem", "/k.pem", "/ca.pem", true, "glint"};
    ASSERT_TRUE(RecordAuth(root + "/" + session, auth).ok());
    RecordAddress(root + "/" + session, address);
  };
  write("session_a", "127.0.0.1:7000", "old");
  write("session_b", "127.0.0.1:7001", "other");
  EXPECT_EQ(LocalClusterAuth("127.0.0.1:7000").token, "old");
  write("session_c", "127.0.0.1:7000", "new");  // the port served a newer cluster
  EXPECT_EQ(LocalClusterAuth("127.0.0.1:7000").token, "new");
  EXPECT_FALSE(LocalClusterAuth("127.0.0.1:7000").tls.enabled());
  EXPECT_EQ(LocalClusterAuth("127.0.0.1:7002").token, "");
  write("session_d", "127.0.0.1:7003", "tls");
  EXPECT_TRUE(LocalClusterAuth("127.0.0.1:7003").tls == (TlsFiles{"/c.pem", "/k.pem", "/ca.pem", true, "glint"}));
  // What is given or in the environment comes first.
  setenv("GLINT_AUTH_TOKEN", "from-env", 1);
  EXPECT_EQ(ResolveAuth({}, "127.0.0.1:7000").token, "from-env");
  EXPECT_EQ(ResolveAuth({"given", {}}, "127.0.0.1:7000").token, "given");
  unsetenv("GLINT_AUTH_TOKEN");
  EXPECT_EQ(ResolveAuth({}, "127.0.0.1:7000").token, "new");
  EXPECT_EQ(ResolveAuth({}, "127.0.0.1:7003").tls.ca, "/ca.pem");
}

// Sessions change while a client looks for its cluster's (other clusters
// write their logs there): the lookup neither crashes nor loses the session.
TEST(AuthTest, FindingTheSessionSurvivesSessionsThatChangeMeanwhile) {
  std::string root = TempDir();
  glint::testing::ScopedEnv session_root("GLINT_TMPDIR", root);
  constexpr int kSessions = 300;
  for (int i = 0; i < kSessions; ++i) {
    std::string dir = root + "/session_" + std::to_string(i);
    mkdir(dir.c_str(), 0755);
    ASSERT_TRUE(RecordAuth(dir, AuthOptions{"token" + std::to_string(i), {}}).ok());
    RecordAddress(dir, "127.0.0.1:" + std::to_string(20000 + i));
  }
  // Another thread keeps making one session or another the newest.
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (int64_t t = 2000000000; !stop && std::chrono::steady_clock::now() < deadline; ++t) {
      std::string dir = root + "/session_" + std::to_string(t % kSessions * 7 % kSessions);
      struct timespec times[2] = {{t, 0}, {t, 0}};
      utimensat(AT_FDCWD, dir.c_str(), times, 0);
    }
  });
  int found = 0;
  for (int i = 0; i < 200; ++i) {
    int which = i * 13 % kSessions;
    found += LocalClusterAuth("127.0.0.1:" + std::to_string(20000 + which)).token == "token" + std::to_string(which);
  }
  stop = true;
  churn.join();
  EXPECT_EQ(found, 200);
}

TEST(AuthTest, TlsFilesAreCheckedWithErrorsThatNameThem) {
  std::string dir = TempDir();
  std::ofstream(dir + "/not.pem") << "hello";
  std::ofstream(dir + "/ca.pem") << "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n";
  auto missing = LoadTls({"", "", dir + "/none.pem", false, ""});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("none.pem"), std::string::npos);
  EXPECT_EQ(LoadTls({"", "", dir + "/not.pem", false, ""}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadTls({dir + "/ca.pem", "", dir + "/ca.pem", false, ""}).status().code(),
            absl::StatusCode::kInvalidArgument) << "a certificate without its key";
  EXPECT_EQ(LoadTls({"", "", "", false, ""}).status().code(), absl::StatusCode::kInvalidArgument) << "no CA";
  EXPECT_TRUE(LoadTls({"", "", dir + "/ca.pem", false, ""}).ok());
  // A process's settings stay as they were when new ones cannot be read.
  bool before = AuthEnabled();
  EXPECT_FALSE(SetClusterAuth({before ? "" : "t", {"", "", dir + "/none.pem", false, ""}}).ok());
  EXPECT_EQ(AuthEnabled(), before);
}

TEST(RpcTest, APortOutsideTheRangeIsRefusedNotWrapped) {
  int bound = 0;
  auto s = StartServer("127.0.0.1", 99999, {}, kGcsLimits, &bound);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << "99999 would have become 34463";
  EXPECT_EQ(StartServer("127.0.0.1", -1, {}, kGcsLimits, &bound).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseAddress("127.0.0.1:65536").ok());
  EXPECT_TRUE(ParseAddress("127.0.0.1:65535").ok());
}

TEST(AuthTest, WithoutTlsOnlyLoopbackServesWithAuthentication) {
  EXPECT_TRUE(CheckAuthServable("127.0.0.1", false).ok());
  EXPECT_TRUE(CheckAuthServable("localhost", false).ok());
  EXPECT_FALSE(CheckAuthServable("10.0.0.5", false).ok());
  EXPECT_FALSE(CheckAuthServable("0.0.0.0", false).ok());
  EXPECT_TRUE(CheckAuthServable("10.0.0.5", true).ok());
}

}  // namespace
}  // namespace glint
