// ActorSubmitter: calls wait for the actor to be ALIVE, go out in
// submission order with this caller's sequence numbers, fail with the cause
// once it is DEAD, and are sent again to a restarted actor when allowed.
#include "client/src/submit/actor_submitter.h"

#include <gtest/gtest.h>

#include "common/ids.h"
#include "testing/fake_transport.h"

namespace glint::internal {
namespace {

class ActorSubmitterTest : public ::testing::Test {
 protected:
  ActorSubmitterTest()
      : submitter_(&store_, &transport_, [this](const RefData& h, bool hold) {
          holds_.push_back((hold ? "hold " : "release ") + h.id + "@" + h.owner);
        }) {}

  proto::ActorInfo Info(proto::ActorState state, int64_t version, int port = 7001, int max_task_retries = 0) {
    proto::ActorInfo a;
    a.set_actor_id("actor");
    a.set_class_name("Counter");
    a.set_state(state);
    a.set_version(version);
    a.set_max_task_retries(max_task_retries);
    a.mutable_address()->set_ip("127.0.0.1");
    a.mutable_address()->set_port(port);
    a.mutable_address()->set_worker_id("worker-" + std::to_string(port));
    return a;
  }
  void Call(const std::string& id, const RefData& handle = {}) {
    proto::TaskSpec spec;
    spec.set_task_id(id);
    spec.set_actor_id("actor");
    spec.set_function_name("Add");
    store_.Expect(ReturnObjectId(id, 0), true);
    submitter_.Submit(std::move(spec), handle);
  }
  std::optional<proto::ObjectValue> Result(const std::string& id) { return store_.TryGet(ReturnObjectId(id, 0)); }
  std::vector<std::pair<std::string, int64_t>> Sent(size_t stream) {
    std::vector<std::pair<std::string, int64_t>> out;
    for (auto& t : transport_.Stream(stream).sent) out.emplace_back(t.task_id(), t.sequence_number());
    return out;
  }

  MemoryStore store_;
  testing::FakeTransport transport_;
  std::vector<std::string> holds_;
  ActorSubmitter submitter_;
};

using Calls = std::vector<std::pair<std::string, int64_t>>;

TEST_F(ActorSubmitterTest, CallsMadeBeforeTheActorIsAliveGoOutInOrderOnceItIs) {
  submitter_.Track(Info(proto::PENDING_CREATION, 1));
  Call("a");
  Call("b");
  EXPECT_TRUE(transport_.streams.empty());
  ASSERT_EQ(transport_.watches.size(), 1u) << "the caller follows the actor's state";
  EXPECT_EQ(transport_.watches.front().version, 1);
  transport_.AnswerWatch(Info(proto::ALIVE, 2));
  ASSERT_EQ(transport_.streams.size(), 1u);
  EXPECT_EQ(Sent(0), (Calls{{"a", 0}, {"b", 1}}));
  Call("c");
  EXPECT_EQ(Sent(0), (Calls{{"a", 0}, {"b", 1}, {"c", 2}})) << "straight to the worker once alive";
  transport_.Stream(0).Reply();
  EXPECT_TRUE(Result("a"));
}

TEST_F(ActorSubmitterTest, ADeadActorFailsWaitingAndLaterCallsWithItsCause) {
  submitter_.Track(Info(proto::PENDING_CREATION, 1));
  Call("a");
  auto dead = Info(proto::DEAD, 2);
  dead.mutable_death_error()->set_message("its constructor threw");
  dead.mutable_death_error()->set_type(proto::TASK_ERROR);
  dead.mutable_death_error()->set_exception_type("std::runtime_error");
  transport_.AnswerWatch(dead);
  ASSERT_TRUE(Result("a"));
  EXPECT_EQ(Result("a")->error().type(), proto::ACTOR_DIED);
  EXPECT_NE(Result("a")->error().message().find("its constructor threw"), std::string::npos);
  Call("b");
  EXPECT_EQ(Result("b")->error().type(), proto::ACTOR_DIED);
  EXPECT_TRUE(transport_.streams.empty());
}

TEST_F(ActorSubmitterTest, WithoutRetriesACallOnAWorkerThatDiesFailsAndLaterCallsWait) {
  submitter_.Track(Info(proto::ALIVE, 2));
  Call("a");
  transport_.Stream(0).Break();
  ASSERT_TRUE(Result("a"));
  EXPECT_EQ(Result("a")->error().type(), proto::ACTOR_DIED);
  Call("b");
  EXPECT_EQ(transport_.streams.size(), 1u) << "held until the GCS says what became of the actor";
  EXPECT_FALSE(Result("b"));
}

TEST_F(ActorSubmitterTest, ARestartedActorGetsTheRetriedCallsFirstRenumbered) {
  submitter_.Track(Info(proto::ALIVE, 2, 7001, /*max_task_retries=*/1));
  Call("a");
  Call("b");
  transport_.Stream(0).Break();
  EXPECT_FALSE(Result("a")) << "it will be retried";
  Call("c");
  transport_.AnswerWatch(Info(proto::RESTARTING, 3, 7001, 1));
  transport_.AnswerWatch(Info(proto::ALIVE, 4, 7002, 1));
  ASSERT_EQ(transport_.streams.size(), 2u);
  EXPECT_EQ(transport_.Stream(1).worker.port(), 7002);
  EXPECT_EQ(Sent(1), (Calls{{"a", 0}, {"b", 1}, {"c", 2}})) << "a new incarnation counts from 0";
  for (auto& t : transport_.Stream(1).sent) EXPECT_EQ(t.attempt(), t.task_id() == "c" ? 0 : 1);
}

}  // namespace
}  // namespace glint::internal

namespace glint::internal {
namespace {

using Holds = std::vector<std::string>;

TEST_F(ActorSubmitterTest, OneHoldOnTheHandleCoversEveryCallInFlight) {
  const RefData handle{"actor", "10.0.0.1:1000/owner"};
  submitter_.Track(Info(proto::ALIVE, 2));
  Call("a", handle);
  Call("b", handle);
  Call("c", handle);
  EXPECT_EQ(holds_, (Holds{"hold actor@10.0.0.1:1000/owner"})) << "one hold, not one per call";
  transport_.Stream(0).Reply();
  transport_.Stream(0).Reply();
  EXPECT_EQ(holds_.size(), 1u) << "a call is still in flight";
  transport_.Stream(0).Reply();
  EXPECT_EQ(holds_, (Holds{"hold actor@10.0.0.1:1000/owner", "release actor@10.0.0.1:1000/owner"}));
  Call("d", handle);
  EXPECT_EQ(holds_.size(), 3u) << "held again for the next call";
}

TEST_F(ActorSubmitterTest, CallsThatFailOrAreCancelledLetGoOfTheHandle) {
  const RefData handle{"actor", "10.0.0.1:1000/owner"};
  submitter_.Track(Info(proto::PENDING_CREATION, 1));
  Call("a", handle);
  Call("b", handle);
  EXPECT_TRUE(submitter_.Cancel("a", /*force=*/false, /*recursive=*/false).ok());
  EXPECT_EQ(holds_.size(), 1u);
  transport_.AnswerWatch(Info(proto::DEAD, 2));
  EXPECT_EQ(holds_, (Holds{"hold actor@10.0.0.1:1000/owner", "release actor@10.0.0.1:1000/owner"}));
  Call("c", handle);
  EXPECT_EQ(holds_.size(), 2u) << "a call to a dead actor holds nothing";
}

TEST_F(ActorSubmitterTest, AHandleWithoutOwnerHoldsNothing) {
  submitter_.Track(Info(proto::ALIVE, 2));
  Call("a");
  transport_.Stream(0).Reply();
  EXPECT_TRUE(holds_.empty());
}

}  // namespace
}  // namespace glint::internal

namespace glint::internal {
namespace {

TEST_F(ActorSubmitterTest, AnActorWaitingLongToBePlacedIsReportedOnceAndAPlacedOneIsNot) {
  std::vector<int64_t> waits;
  submitter_.SetWaitCallback([&](const proto::ActorInfo& actor, int actors, int64_t waited) {
    EXPECT_EQ(actor.class_name(), "Counter");
    EXPECT_EQ(actors, 1);
    waits.push_back(waited);
  });
  proto::ActorInfo pending = Info(proto::PENDING_CREATION, 1);
  pending.clear_address();  // never placed yet
  submitter_.Track(pending);
  int64_t now = 1000;
  for (int i = 0; i < 60; ++i) submitter_.Tick(now += 50);  // 3 s
  EXPECT_TRUE(waits.empty()) << "not yet";
  for (int i = 0; i < 200; ++i) submitter_.Tick(now += 50);
  ASSERT_EQ(waits.size(), 1u) << "one line for one wait";
  EXPECT_GT(waits[0], ActorSubmitter::kWaitWarningMs);
  transport_.AnswerWatch(Info(proto::ALIVE, 2));
  for (int i = 0; i < 200; ++i) submitter_.Tick(now += 50);
  EXPECT_EQ(waits.size(), 1u);
}

TEST_F(ActorSubmitterTest, ManyActorsWaitingAreReportedInAFewGroupedCalls) {
  std::vector<std::pair<int, int64_t>> calls;  // actors, waited
  submitter_.SetWaitCallback([&](const proto::ActorInfo&, int actors, int64_t waited) {
    calls.emplace_back(actors, waited);
  });
  // 100 actors of one shape start waiting 100 ms apart (10 s in all).
  int64_t now = 1000;
  for (int i = 0; i < 100; ++i) {
    proto::ActorInfo a = Info(proto::PENDING_CREATION, 1);
    a.set_actor_id("actor-" + std::to_string(i));
    a.clear_address();
    submitter_.Track(a);
    submitter_.Tick(now += 50);
    submitter_.Tick(now += 50);
  }
  for (int i = 0; i < 400; ++i) submitter_.Tick(now += 50);  // 20 s: every one is past the mark
  int told = 0;
  for (auto& [actors, waited] : calls) {
    told += actors;
    EXPECT_GT(waited, ActorSubmitter::kWaitWarningMs);
  }
  EXPECT_EQ(told, 100) << "each actor is told once";
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls[0].first, 1) << "the first at once";
  EXPECT_LE(calls.size(), 4u) << "10 s of actors passing the mark: a call per 5 s";
}

}  // namespace
}  // namespace glint::internal
