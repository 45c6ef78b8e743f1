// Lineage: which tasks are kept to make lost objects again, what they hold,
// and when a lost object is made again or reported lost; MemoryStore::Reopen.
#include "client/src/objects/lineage.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/ids.h"
#include "testing/fake_owners.h"

namespace glint::internal {
namespace {

constexpr char kSelf[] = "10.0.0.1:1000";

using testing::Addr;

proto::ObjectValue StoredOn(const std::string& node) {
  proto::ObjectValue v;
  v.mutable_stored()->set_node_id(node);
  v.mutable_stored()->set_raylet(node + ":1");
  v.mutable_stored()->set_size(1 << 20);
  return v;
}

class LineageTest : public ::testing::Test {
 protected:
  LineageTest()
      : refs_(Addr("10.0.0.1", 1000), &store_, &owners_, nullptr),
        lineage_(&store_, &refs_, [this](proto::TaskSpec t) { submitted_.push_back(std::move(t)); }) {}

  // A task of `max_retries` taking the owned object `arg` by reference.
  proto::TaskSpec Task(const std::string& id, int max_retries, const std::string& arg = "") {
    proto::TaskSpec t;
    t.set_type(proto::NORMAL_TASK);
    t.set_task_id(id);
    t.set_function_name("Make");
    t.set_max_retries(max_retries);
    if (!arg.empty()) {
      auto* a = t.add_args()->mutable_ref();
      a->set_object_id(arg);
      *a->mutable_owner() = Addr("10.0.0.1", 1000);
    }
    return t;
  }
  // The task ran and its result, stored on `node`, arrived.
  void Finish(const proto::TaskSpec& t, const std::string& node) {
    lineage_.Record(t);
    store_.Put(ReturnObjectId(t.task_id(), 0), StoredOn(node), /*owned=*/true);
  }

  MemoryStore store_;
  testing::FakeOwners owners_;
  ReferenceCounter refs_;
  Lineage lineage_;
  std::vector<proto::TaskSpec> submitted_;
};

TEST_F(LineageTest, ALostObjectIsMadeAgainOnceAsOneMoreAttempt) {
  auto t = Task("t1", 2);
  Finish(t, "nodeA");
  std::string id = ReturnObjectId("t1", 0);
  EXPECT_EQ(lineage_.Rebuild(id, StoredOn("nodeA").stored()), std::nullopt);
  ASSERT_EQ(submitted_.size(), 1u);
  EXPECT_EQ(submitted_[0].attempt(), 1);
  EXPECT_FALSE(store_.Ready(id)) << "pending again until the task answers";
  // Another reader finding the same copy lost waits for the same run.
  EXPECT_EQ(lineage_.Rebuild(id, StoredOn("nodeA").stored()), std::nullopt);
  EXPECT_EQ(submitted_.size(), 1u);
  // The new value, on another node: a report about the old copy changes nothing.
  store_.Put(id, StoredOn("nodeB"), true);
  EXPECT_EQ(lineage_.Rebuild(id, StoredOn("nodeA").stored()), std::nullopt);
  EXPECT_EQ(submitted_.size(), 1u);
  EXPECT_EQ(store_.TryGet(id)->stored().node_id(), "nodeB");
}

TEST_F(LineageTest, RebuildsCountAgainstTheTasksRetries) {
  auto t = Task("t2", 1);
  Finish(t, "nodeA");
  std::string id = ReturnObjectId("t2", 0);
  ASSERT_EQ(lineage_.Rebuild(id, StoredOn("nodeA").stored()), std::nullopt);
  ASSERT_EQ(submitted_.size(), 1u);
  Finish(submitted_[0], "nodeB");  // attempt 1 of 1
  auto why = lineage_.Rebuild(id, StoredOn("nodeB").stored());
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(why->error().type(), proto::OBJECT_LOST);
  EXPECT_NE(why->error().message().find("no retries left"), std::string::npos) << why->error().message();
}

TEST_F(LineageTest, TasksWithoutRetriesOrWithInlineResultsAreNotKept) {
  Finish(Task("t3", 0), "nodeA");
  auto why = lineage_.Rebuild(ReturnObjectId("t3", 0), StoredOn("nodeA").stored());
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->error().message().find("cannot be made again"), std::string::npos);
  EXPECT_TRUE(submitted_.empty());
}

TEST_F(LineageTest, AKeptTaskHoldsItsArgumentsUntilItsObjectIsFreed) {
  store_.Put("arg", StoredOn("nodeA"), /*owned=*/true);
  refs_.AddLocalRef("arg", kSelf);
  auto t = Task("t4", 3, "arg");
  Finish(t, "nodeA");
  refs_.RemoveLocalRef("arg", kSelf);  // the driver lets go of the argument
  EXPECT_TRUE(store_.Contains("arg")) << "kept: the task may need it to run again";
  lineage_.Forget(ReturnObjectId("t4", 0));
  EXPECT_FALSE(store_.Contains("arg"));
  auto why = lineage_.Rebuild(ReturnObjectId("t4", 0), StoredOn("nodeA").stored());
  EXPECT_TRUE(why.has_value()) << "forgotten";
}

TEST(MemoryStoreReopenTest, OnlyTheLostCopyIsReopenedAndOnlyOnce) {
  MemoryStore store;
  EXPECT_TRUE(store.Reopen("absent", "nodeA")) << "an absent entry is made pending";
  EXPECT_FALSE(store.Ready("absent"));
  EXPECT_FALSE(store.Reopen("absent", "nodeA")) << "pending already";
  store.Put("x", StoredOn("nodeA"));
  EXPECT_FALSE(store.Reopen("x", "nodeB")) << "the copy is not on that node";
  EXPECT_TRUE(store.Reopen("x", "nodeA"));
  EXPECT_FALSE(store.Ready("x"));
  store.Put("x", StoredOn("nodeB"));
  EXPECT_EQ(store.TryGet("x")->stored().node_id(), "nodeB") << "the new value is taken";
}

}  // namespace
}  // namespace glint::internal
