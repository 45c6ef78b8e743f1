// KvTable: the GCS's key-value records, their bounds, and reading them back
// from the store (a restarted GCS).
#include "gcs/kv_table.h"

#include <gtest/gtest.h>

namespace glint::gcs {
namespace {

TEST(KvTableTest, RecordsAreReadBackFromTheStoreByNamespace) {
  InMemoryStore store;
  {
    KvTable kv(&store);
    ASSERT_TRUE(*kv.Put("", "a", "1", true));
    ASSERT_TRUE(*kv.Put("ns", "a", std::string("\0\xff", 2), true));
    ASSERT_TRUE(*kv.Put("ns", "b", "gone", true));
    ASSERT_EQ(*kv.Delete("ns", "b", false), 1);
  }
  KvTable again(&store);
  again.Recover();
  EXPECT_EQ(**again.Get("", "a"), "1");
  EXPECT_EQ(**again.Get("ns", "a"), std::string("\0\xff", 2));
  EXPECT_EQ(*again.Get("ns", "b"), std::nullopt);
  EXPECT_TRUE(*again.Contains("ns", "a"));
  EXPECT_FALSE(*again.Contains("ns", "b"));
  EXPECT_FALSE(*again.Contains("", "b"));
  bool truncated = true;
  EXPECT_EQ(*again.Keys("ns", "", &truncated), std::vector<std::string>{"a"});
  EXPECT_FALSE(truncated);
}

TEST(KvTableTest, APrefixDeleteStaysInItsNamespace) {
  InMemoryStore store;
  KvTable kv(&store);
  for (auto k : {"p/1", "p/2", "q"}) kv.Put("x", k, "v", true).IgnoreError();
  kv.Put("y", "p/1", "v", true).IgnoreError();
  EXPECT_EQ(*kv.Delete("x", "p/", true), 2);
  EXPECT_TRUE(kv.Get("y", "p/1")->has_value());
  EXPECT_EQ(store.GetAll("kv").size(), 2u) << "the deletes reached the store";
}

TEST(KvTableTest, ThePutThatWouldPassTheTotalIsRefusedAndFreedRoomIsReused) {
  InMemoryStore store;
  KvTable kv(&store, /*max_total_bytes=*/100);
  ASSERT_TRUE(kv.Put("", "k1", std::string(60, 'v'), true).ok());
  auto refused = kv.Put("", "k2", std::string(60, 'v'), true);
  EXPECT_TRUE(absl::IsResourceExhausted(refused.status())) << refused.status();
  EXPECT_TRUE(kv.Put("", "k1", std::string(90, 'v'), true).ok()) << "a replaced value's room counts as free";
  ASSERT_EQ(*kv.Delete("", "k1", false), 1);
  EXPECT_TRUE(kv.Put("", "k2", std::string(60, 'v'), true).ok());
}

TEST(KvTableTest, BadKeysAndValuesAreRefusedClearly) {
  InMemoryStore store;
  KvTable kv(&store);
  EXPECT_TRUE(absl::IsInvalidArgument(kv.Put("", "", "v", true).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(kv.Put("", std::string(1025, 'k'), "v", true).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(kv.Put("", "k", std::string(KvTable::kMaxValueBytes + 1, 'v'), true).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(kv.Get(std::string(300, 'n'), "k").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(kv.Delete("", "", false).status())) << "deleting everything needs by_prefix";
  EXPECT_TRUE(kv.Delete("", "", true).ok());
  EXPECT_TRUE(store.GetAll("kv").empty());
}

}  // namespace
}  // namespace glint::gcs
