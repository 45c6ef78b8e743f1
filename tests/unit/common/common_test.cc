// common/: resource sets, the gate, the ticker.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/gate.h"
#include "common/resources.h"
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

}  // namespace
}  // namespace glint
