// What a daemon keeps about its peers stays bounded: the cache of channels
// and stubs (BoundedCache), the sets of keys it has seen (RecentSet), and
// the checks of ids and addresses in requests (limits.h).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/bounded_cache.h"
#include "common/limits.h"
#include "common/recent_set.h"
#include "common/rpc.h"

namespace glint {
namespace {

TEST(BoundedCacheTest, KeepsValuesInUseAndForgetsIdleOnesWhenFull) {
  BoundedCache<int> cache(4);
  int made = 0;
  auto make = [&] { return std::make_shared<int>(++made); };
  auto held = cache.Get("held", make);
  EXPECT_EQ(cache.Get("held", make), held) << "the same value for the same key";
  for (int i = 0; i < 100; ++i) cache.Get("idle" + std::to_string(i), make);
  EXPECT_LE(cache.size(), 4u);
  EXPECT_EQ(cache.Get("held", make), held) << "a value in use is kept while there are idle ones to forget";
}

TEST(BoundedCacheTest, WhenEveryValueIsInUseItForgetsThemAllButTheyLiveOn) {
  BoundedCache<int> cache(3);
  int made = 0;
  auto make = [&] { return std::make_shared<int>(++made); };
  std::vector<std::shared_ptr<int>> held;
  for (int i = 0; i < 10; ++i) held.push_back(cache.Get(std::to_string(i), make));
  EXPECT_LE(cache.size(), 3u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(*held[i], i + 1) << "held values stay valid";
}

TEST(BoundedCacheTest, TheChannelPoolStaysBoundedWhatEverTargetsItIsAskedFor) {
  ChannelPool pool;
  for (size_t i = 0; i < kMaxCachedTargets + 100; ++i) pool.Get("no-such-host-" + std::to_string(i) + ":1");
  EXPECT_LE(pool.size(), kMaxCachedTargets);
}

TEST(RecentSetTest, ForgetsTheOldestKeysFirst) {
  RecentSet set(3);
  for (const char* k : {"a", "b", "c", "a", "d"}) set.Insert(k);
  EXPECT_EQ(set.size(), 3u);
  EXPECT_FALSE(set.contains("a")) << "the oldest goes, even if inserted again meanwhile";
  EXPECT_TRUE(set.contains("b"));
  EXPECT_TRUE(set.contains("d"));
}

TEST(LimitsTest, IdsAndAddressesAreBounded) {
  EXPECT_TRUE(CheckId("the id", std::string(16, 'x')).ok());
  EXPECT_FALSE(CheckId("the id", "").ok());
  EXPECT_TRUE(CheckId("the id", "", /*may_be_empty=*/true).ok());
  auto long_id = CheckId("the object id", std::string(kMaxIdBytes + 1, 'x'));
  EXPECT_TRUE(absl::IsInvalidArgument(long_id));
  EXPECT_NE(long_id.message().find("the object id"), absl::string_view::npos) << long_id;
  EXPECT_TRUE(CheckAddress("the owner", "127.0.0.1:5000").ok());
  EXPECT_FALSE(CheckAddress("the owner", std::string(kMaxAddressBytes + 1, 'h')).ok());
  EXPECT_FALSE(CheckAddress("the owner", std::string("a\0b", 3)).ok());
  EXPECT_FALSE(CheckAddress("the client", "", /*may_be_empty=*/false).ok());
}

}  // namespace
}  // namespace glint
