// DependencyResolver: packing a call's arguments and waiting for the ones
// this process owns.
#include "client/src/submit/dependency_resolver.h"

#include <gtest/gtest.h>

#include <optional>

#include "common/ids.h"
#include "testing/fake_owners.h"

namespace glint::internal {
namespace {

constexpr char kSelf[] = "10.0.0.1:1000";

class DependencyResolverTest : public ::testing::Test {
 protected:
  DependencyResolverTest()
      : refs_(Self(), &store_, &owners_, nullptr),
        resolver_(Self(), &store_, &refs_, /*inline_threshold=*/100,
                  [this](size_t size, const std::function<void(char*)>& write, proto::StoredObject* where) {
                    std::string bytes(size, '\0');
                    write(bytes.data());
                    stored_.push_back(bytes);
                    where->set_node_id("here");
                    where->set_size(static_cast<int64_t>(size));
                    return absl::StatusOr<RefData>(RefData{"stored-" + std::to_string(stored_.size()), kSelf});
                  }) {}
  static proto::Address Self() {
    proto::Address a;
    a.set_ip("10.0.0.1");
    a.set_port(1000);
    return a;
  }
  static WireArg Value(std::string v) { return WireArg{false, std::move(v), "", {}}; }
  static WireArg Ref(std::string id, std::string owner) { return WireArg{true, std::move(id), std::move(owner), {}}; }
  proto::TaskSpec Spec(proto::TaskType type, std::vector<WireArg> args) {
    proto::TaskSpec spec;
    spec.set_type(type);
    spec.set_task_id("task-1");
    EXPECT_TRUE(resolver_.Pack(args, spec, held_).ok());
    return spec;
  }

  MemoryStore store_;
  testing::FakeOwners owners_;
  ReferenceCounter refs_;
  std::vector<std::string> stored_;
  DependencyResolver resolver_;
  std::vector<RefData> held_;
};

TEST_F(DependencyResolverTest, SmallValuesGoInlineLargeOnesThroughTheStoreAndRefsAsRefs) {
  std::string large(500, 'L');
  auto nested = Value("with a ref inside");
  nested.nested.push_back({"inside", "10.0.0.2:2000"});
  auto spec = Spec(proto::NORMAL_TASK, {Value("small"), Value(large), Ref("r", "10.0.0.2:2000"), nested});
  ASSERT_EQ(spec.args_size(), 4);
  EXPECT_EQ(spec.args(0).value(), "small");
  ASSERT_EQ(stored_.size(), 1u);
  EXPECT_EQ(stored_[0], large);
  EXPECT_TRUE(spec.args(1).has_location()) << "the callee reads it where it is stored";
  EXPECT_EQ(spec.args(1).ref().object_id(), "stored-1");
  EXPECT_EQ(spec.args(2).ref().object_id(), "r");
  EXPECT_EQ(spec.args(2).ref().owner().port(), 2000);
  std::vector<std::string> held;
  for (auto& r : held_) held.push_back(r.id);
  EXPECT_EQ(held, (std::vector<std::string>{"stored-1", "r", "inside"})) << "held until the call is done";
}

TEST_F(DependencyResolverTest, ACreationTaskKeepsLargeValuesInline) {
  auto spec = Spec(proto::ACTOR_CREATION_TASK, {Value(std::string(500, 'L'))});
  EXPECT_TRUE(stored_.empty()) << "it is replayed on restarts, long after a stored copy is freed";
  EXPECT_EQ(spec.args(0).value().size(), 500u);
}

TEST_F(DependencyResolverTest, ATaskWaitsForItsOwnedArgumentsAndGetsTheirValues) {
  store_.Expect("a", true);
  store_.Expect("b", true);
  auto spec = Spec(proto::NORMAL_TASK, {Ref("a", kSelf), Ref("b", kSelf), Ref("c", "10.0.0.2:2000")});
  std::optional<proto::TaskSpec> submitted;
  resolver_.Resolve(spec, [&](proto::TaskSpec s) { submitted = std::move(s); });
  EXPECT_FALSE(submitted);
  proto::ObjectValue a;
  a.set_data("A");
  store_.Put("a", a);
  EXPECT_FALSE(submitted) << "b is not ready yet";
  proto::ObjectValue b;
  b.mutable_stored()->set_node_id("here");
  store_.Put("b", b);
  ASSERT_TRUE(submitted);
  EXPECT_EQ(submitted->args(0).value(), "A");
  EXPECT_TRUE(submitted->args(1).has_location());
  EXPECT_TRUE(submitted->args(2).has_ref() && !submitted->args(2).has_value())
      << "an argument owned elsewhere stays a reference";
}

TEST_F(DependencyResolverTest, AFailedArgumentFailsTheCallWithItsError) {
  store_.Expect("a", true);
  store_.Expect(ReturnObjectId("task-1", 0), true);
  auto spec = Spec(proto::NORMAL_TASK, {Ref("a", kSelf)});
  bool submitted = false;
  resolver_.Resolve(spec, [&](proto::TaskSpec) { submitted = true; });
  proto::ObjectValue failed;
  failed.mutable_error()->set_type(proto::WORKER_CRASHED);
  failed.mutable_error()->set_message("the producer died");
  store_.Put("a", failed);
  EXPECT_FALSE(submitted);
  auto result = store_.TryGet(ReturnObjectId("task-1", 0));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->error().message(), "the producer died");
}

TEST_F(DependencyResolverTest, AnActorCallTakesReadyArgumentsInlineAndSendsTheOthersByReference) {
  proto::ObjectValue ready;
  ready.set_data("R");
  store_.Put("ready", ready, true);
  store_.Expect("later", true);
  auto spec = Spec(proto::ACTOR_TASK, {Ref("ready", kSelf), Ref("later", kSelf)});
  resolver_.InlineReady(spec, /*pin_unready=*/false);
  EXPECT_EQ(spec.args(0).value(), "R");
  EXPECT_FALSE(spec.args(1).has_value());
  EXPECT_EQ(spec.args(1).ref().object_id(), "later");
}

TEST_F(DependencyResolverTest, ACreationTaskKeepsItsUnreadyArgumentsForGood) {
  store_.Expect("later", true);
  refs_.AddLocalRef("later", kSelf);
  auto spec = Spec(proto::ACTOR_CREATION_TASK, {Ref("later", kSelf)});
  resolver_.InlineReady(spec, /*pin_unready=*/true);
  refs_.RemoveLocalRef("later", kSelf);
  EXPECT_TRUE(store_.Contains("later")) << "every restart reads it again";
}

}  // namespace
}  // namespace glint::internal
