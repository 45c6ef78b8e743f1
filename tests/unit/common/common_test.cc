// common/: resource sets, the gate, the ticker.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "common/auth.h"
#include "common/gate.h"
#include "common/launcher.h"
#include "common/resources.h"
#include "common/rpc.h"
#include "common/ticker.h"

namespace glint {
namespace {

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

std::string TempDir() {
  char tmpl[] = "/tmp/glint-unit.XXXXXX";
  return mkdtemp(tmpl);
}

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

TEST(AuthTest, TheNewestSessionOfAClusterGivesItsToken) {
  std::string root = TempDir();
  setenv("GLINT_TMPDIR", root.c_str(), 1);
  auto write = [&](const std::string& session, const std::string& address, const std::string& token) {
    mkdir((root + "/" + session).c_str(), 0755);
    std::ofstream(root + "/" + session + "/gcs_address") << address << "\n";
    ASSERT_TRUE(WriteTokenFile(root + "/" + session + "/auth_token", token).ok());
  };
  write("session_a", "127.0.0.1:7000", "old");
  write("session_b", "127.0.0.1:7001", "other");
  EXPECT_EQ(LocalClusterToken("127.0.0.1:7000"), "old");
  write("session_c", "127.0.0.1:7000", "new");  // the port served a newer cluster
  EXPECT_EQ(LocalClusterToken("127.0.0.1:7000"), "new");
  EXPECT_EQ(LocalClusterToken("127.0.0.1:7002"), "");
  unsetenv("GLINT_TMPDIR");
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

TEST(AuthTest, OnlyLoopbackServesWithAuthenticationUntilTls) {
  EXPECT_TRUE(CheckAuthServable("127.0.0.1").ok());
  EXPECT_TRUE(CheckAuthServable("localhost").ok());
  EXPECT_FALSE(CheckAuthServable("10.0.0.5").ok());
  EXPECT_FALSE(CheckAuthServable("0.0.0.0").ok());
}

}  // namespace
}  // namespace glint
