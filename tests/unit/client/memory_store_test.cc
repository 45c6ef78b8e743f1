// MemoryStore: pending and ready objects, callbacks, releasing, and the
// hooks an owner uses to hold what a value holds.
#include "client/src/objects/memory_store.h"

#include <gtest/gtest.h>

#include <thread>

namespace glint::internal {
namespace {

proto::ObjectValue Value(const std::string& data) {
  proto::ObjectValue v;
  v.set_data(data);
  return v;
}

proto::ObjectValue Holding(const std::string& data, const std::string& inner) {
  auto v = Value(data);
  v.add_contained()->set_object_id(inner);
  return v;
}

TEST(MemoryStoreTest, GetWaitsForThePutAndTimesOutWithoutOne) {
  MemoryStore store;
  store.Expect("a", /*owned=*/true);
  EXPECT_FALSE(store.TryGet("a"));
  EXPECT_FALSE(store.Get("a", absl::Now() + absl::Milliseconds(20))) << "nothing was put";
  std::thread putter([&] { store.Put("a", Value("x")); });
  auto v = store.Get("a", absl::Now() + absl::Seconds(30));
  putter.join();
  ASSERT_TRUE(v);
  EXPECT_EQ(v->data(), "x");
}

TEST(MemoryStoreTest, OnReadyRunsOnceWhenReadyAndAtOnceIfReadyAlready) {
  MemoryStore store;
  int calls = 0;
  store.OnReady("a", [&](const proto::ObjectValue& v) {
    ++calls;
    EXPECT_EQ(v.data(), "x");
  });
  EXPECT_EQ(calls, 0);
  store.Put("a", Value("x"));
  EXPECT_EQ(calls, 1);
  store.OnReady("a", [&](const proto::ObjectValue&) { ++calls; });
  EXPECT_EQ(calls, 2);
}

TEST(MemoryStoreTest, TheFirstValueWins) {
  MemoryStore store;
  store.Put("a", Value("first"));
  store.Put("a", Value("second"));  // a retried call's late reply
  EXPECT_EQ(store.TryGet("a")->data(), "first");
}

TEST(MemoryStoreTest, ReleaseWhilePendingFreesRightAfterTheValueArrives) {
  MemoryStore store;
  store.Expect("a");
  store.Release("a");
  EXPECT_TRUE(store.Contains("a")) << "still expected: its value must not be lost on the way";
  store.Put("a", Value("x"));
  EXPECT_FALSE(store.Contains("a"));
}

TEST(MemoryStoreTest, OwnedValuesHoldWhatTheyContainUntilFreed) {
  MemoryStore store;
  std::vector<std::string> held, let_go;
  store.SetOwnedHooks(
      [&](const std::string&, const proto::ObjectValue& v) { held.push_back(v.contained(0).object_id()); },
      [&](const std::string&, const proto::ObjectValue& v) { let_go.push_back(v.contained(0).object_id()); });
  store.Put("outer", Holding("x", "inner"), /*owned=*/true);
  EXPECT_EQ(held, std::vector<std::string>{"inner"});
  EXPECT_TRUE(let_go.empty());
  store.Put("outer", Holding("y", "inner"), /*owned=*/true);  // a late second value is dropped
  EXPECT_EQ(held.size(), 1u) << "a dropped value holds nothing";
  EXPECT_TRUE(let_go.empty());
  store.Release("outer", /*owned=*/true);
  EXPECT_EQ(let_go, std::vector<std::string>{"inner"});
  EXPECT_FALSE(store.Contains("outer"));
}

TEST(MemoryStoreTest, BorrowedValuesNeedNoHooks) {
  MemoryStore store;
  int hooks = 0;
  store.SetOwnedHooks([&](const std::string&, const proto::ObjectValue&) { ++hooks; },
                      [&](const std::string&, const proto::ObjectValue&) { ++hooks; });
  store.Put("copy", Holding("x", "inner"));  // a fetched copy of someone else's object
  store.Release("copy");
  EXPECT_EQ(hooks, 0);
}

TEST(MemoryStoreTest, WaitCountsReadyOnesAndHandsBackStoredOnesToCopyHere) {
  MemoryStore store;
  store.SetLocalCheck([](const proto::ObjectValue& v) { return v.stored().node_id() == "here"; });
  proto::ObjectValue far;
  far.mutable_stored()->set_node_id("elsewhere");
  store.Put("inline", Value("x"));
  store.Put("far", far);
  store.Expect("pending");
  MemoryStore::PullList to_pull;
  auto ready = store.Wait({"inline", "far", "pending"}, 2, absl::Now() + absl::Seconds(30), &to_pull);
  EXPECT_EQ(ready, (std::vector<bool>{true, false, false}));
  ASSERT_EQ(to_pull.size(), 1u);
  EXPECT_EQ(to_pull[0].first, "far");
  store.MarkLocal("far");
  to_pull.clear();
  ready = store.Wait({"inline", "far", "pending"}, 2, absl::Now() + absl::Seconds(30), &to_pull);
  EXPECT_EQ(ready, (std::vector<bool>{true, true, false}));
  EXPECT_TRUE(to_pull.empty()) << "a copy is asked for once";
  // Without fetch_local a stored value counts wherever it is.
  EXPECT_EQ(store.Wait({"far"}, 1, absl::Now(), nullptr), std::vector<bool>{true});
}

}  // namespace
}  // namespace glint::internal
