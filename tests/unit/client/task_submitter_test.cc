// TaskSubmitter: leasing workers, running queued tasks on them one at a
// time, giving idle leases back, retries when a worker dies. Time is a
// number the test moves; other processes are a FakeTransport.
#include "client/src/submit/task_submitter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/ids.h"
#include "testing/fake_transport.h"

namespace glint::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class TaskSubmitterTest : public ::testing::Test {
 protected:
  TaskSubmitterTest() : submitter_(&store_, &transport_, Job(), "raylet:1", [this] { return now_; }, nullptr, 200) {}
  static proto::JobInfo Job() {
    proto::JobInfo j;
    j.set_job_id("job");
    return j;
  }
  // Submits task `id` (its result expected in the store).
  void Submit(const std::string& id, int max_retries = 0, const std::string& group = "",
              const std::string& root = "") {
    proto::TaskSpec spec;
    spec.set_task_id(id);
    spec.set_root_detached_actor(root);
    spec.set_placement_group_id(group);
    spec.set_function_name("F");
    spec.set_max_retries(max_retries);
    (*spec.mutable_resources())["CPU"] = 1;
    store_.Expect(ReturnObjectId(id, 0), true);
    submitter_.Submit(std::move(spec));
  }
  std::optional<proto::ObjectValue> Result(const std::string& id) { return store_.TryGet(ReturnObjectId(id, 0)); }
  static proto::ObjectValue Data(const std::string& d) {
    proto::ObjectValue v;
    v.set_data(d);
    return v;
  }

  int64_t now_ = 1000;
  MemoryStore store_;
  testing::FakeTransport transport_;
  TaskSubmitter submitter_;
};

TEST_F(TaskSubmitterTest, EachQueuedTaskAsksForALeaseUpToEight) {
  for (int i = 0; i < 10; ++i) Submit("t" + std::to_string(i));
  EXPECT_EQ(transport_.leases.size(), 8u);
  EXPECT_EQ(transport_.leases.front().raylet, "raylet:1");
  EXPECT_EQ(transport_.leases.front().req.job().job_id(), "job");
  EXPECT_EQ(transport_.leases.front().req.resources().at("CPU"), 1);
}

// A detached actor's work asks for leases of its own that say so (they
// outlive the job); other work of the same shape does not share them.
TEST_F(TaskSubmitterTest, TasksOfADetachedActorsWorkLeaseWorkersOfTheirOwn) {
  const std::string root(16, 'r');
  Submit("plain");
  Submit("rooted", 0, "", root);
  ASSERT_EQ(transport_.leases.size(), 2u);
  EXPECT_TRUE(transport_.leases[0].req.root_detached_actor().empty());
  EXPECT_EQ(transport_.leases[1].req.root_detached_actor(), root);
  transport_.GrantLease(7001, "lease-plain");
  ASSERT_EQ(transport_.streams.size(), 1u);
  ASSERT_EQ(transport_.streams[0]->sent.size(), 1u);
  EXPECT_EQ(transport_.streams[0]->sent[0].task_id(), "plain");
  Submit("rooted2", 0, "", root);
  EXPECT_EQ(transport_.streams[0]->sent.size(), 1u) << "the plain lease does not take the root's work";
  transport_.GrantLease(7002, "lease-rooted");
  ASSERT_EQ(transport_.streams.size(), 2u);
  ASSERT_GE(transport_.streams[1]->sent.size(), 1u);
  EXPECT_EQ(transport_.streams[1]->sent[0].task_id(), "rooted");
}

TEST_F(TaskSubmitterTest, TasksSubmittedInALoopShareOneLeaseCallAfterTheFirst) {
  transport_.hold_soon = true;  // as the real transport: after the submitting loop
  for (int i = 0; i < 10; ++i) Submit("t" + std::to_string(i));
  EXPECT_EQ(transport_.lease_calls, std::vector<int>{1}) << "the first goes at once, alone";
  transport_.RunSoonNow();
  EXPECT_EQ(transport_.lease_calls, (std::vector<int>{1, 7})) << "the rest of the loop's wants in one call";
  EXPECT_EQ(transport_.leases.size(), 8u);
  transport_.RunSoonNow();
  EXPECT_EQ(transport_.lease_calls.size(), 2u) << "nothing is sent twice";
  // Grants free request slots the queue still wants: asked again together.
  transport_.GrantLease(7001, "lease-1");
  transport_.GrantLease(7002, "lease-2");
  transport_.RunSoonNow();
  EXPECT_EQ(transport_.lease_calls, (std::vector<int>{1, 7, 2}));
}

TEST_F(TaskSubmitterTest, LeaseRequestsHeldForTheEndOfALoopAreNotSentAfterStop) {
  transport_.hold_soon = true;
  for (int i = 0; i < 3; ++i) Submit("t" + std::to_string(i));
  submitter_.Stop();
  transport_.RunSoonNow();
  EXPECT_EQ(transport_.lease_calls, std::vector<int>{1});
}

TEST_F(TaskSubmitterTest, ALeasedWorkerRunsQueuedTasksWithoutRetriesOneAtATimeInOrder) {
  Submit("a");
  Submit("b");
  transport_.GrantLease(7001, "lease-1");
  ASSERT_EQ(transport_.streams.size(), 1u);
  auto& stream = transport_.Stream(0);
  EXPECT_EQ(stream.worker.port(), 7001);
  EXPECT_EQ(transport_.stream_leases, std::vector<std::string>{"lease-1"})
      << "the stream names its lease (the worker gives itself back when the stream ends)";
  ASSERT_EQ(stream.sent.size(), 1u) << "a task with no retry is never sent behind another";
  EXPECT_EQ(stream.sent.front().task_id(), "a");
  stream.Reply(Data("A"));
  EXPECT_EQ(Result("a")->data(), "A");
  ASSERT_EQ(stream.sent.size(), 1u) << "the lease is reused for the next task";
  EXPECT_EQ(stream.sent.front().task_id(), "b");
  stream.Reply(Data("B"));
  EXPECT_EQ(Result("b")->data(), "B");
  transport_.GrantLease(7002, "lease-2");  // the second request comes in late
  EXPECT_EQ(transport_.streams.size(), 2u);
  EXPECT_TRUE(transport_.Stream(1).sent.empty()) << "nothing left for it to run";
}

TEST_F(TaskSubmitterTest, TasksWithRetriesAreSentAheadUpToTheLimitPerWorkerAndStillAskForWorkers) {
  const int k = TaskSubmitter::kMaxTasksInFlight;
  std::vector<std::string> ids;
  for (int i = 0; i < 2 * k + 2; ++i) {
    ids.push_back("t" + std::to_string(i));
    Submit(ids.back(), /*max_retries=*/3);
  }
  ASSERT_EQ(transport_.leases.size(), 8u);
  transport_.GrantLease(7001, "lease-1");
  EXPECT_EQ(transport_.Stream(0).SentIds(), std::vector<std::string>(ids.begin(), ids.begin() + k));
  transport_.GrantLease(7002, "lease-2");
  EXPECT_EQ(transport_.Stream(1).SentIds(), std::vector<std::string>(ids.begin() + k, ids.begin() + 2 * k));
  EXPECT_EQ(transport_.leases.size(), 8u) << "the tasks sent behind others still want workers: 8 requests stay out";
  transport_.Stream(0).Reply(Data("0"));
  EXPECT_EQ(Result("t0")->data(), "0");
  auto topped = transport_.Stream(0).SentIds();
  ASSERT_EQ(topped.size(), static_cast<size_t>(k));
  EXPECT_EQ(topped.back(), ids[2 * k]) << "topped up at once";
  EXPECT_TRUE(transport_.Stream(0).cancels.empty()) << "nothing asked back while work is queued";
}

TEST_F(TaskSubmitterTest, ALeaseWithNothingToDoTakesBackATaskWaitingOnAnother) {
  for (auto id : {"a", "b", "c"}) Submit(id, /*max_retries=*/3);
  transport_.GrantLease(7001, "lease-1");
  auto& first = transport_.Stream(0);
  EXPECT_THAT(first.SentIds(), ElementsAre("a", "b", "c"));
  transport_.GrantLease(7002, "lease-2");
  EXPECT_THAT(first.AskedBack(), ElementsAre("c")) << "the last one waiting";
  EXPECT_TRUE(transport_.Stream(1).sent.empty());
  first.GiveBack("c");
  EXPECT_THAT(transport_.Stream(1).SentIds(), ElementsAre("c"));
  EXPECT_EQ(transport_.Stream(1).sent.front().attempt(), 0) << "given back: it did not run";
  EXPECT_FALSE(Result("c"));
  // Asked back too late (it started): its reply is its result.
  transport_.GrantLease(7003, "lease-3");
  EXPECT_THAT(first.AskedBack(), ElementsAre("c", "b"));
  first.Reply(Data("A"));
  first.Reply(Data("B"));
  EXPECT_EQ(Result("b")->data(), "B");
  transport_.Stream(1).Reply(Data("C"));
  EXPECT_EQ(Result("c")->data(), "C");
}

TEST_F(TaskSubmitterTest, TasksBehindALongOneAreTakenBackAndItsWorkerGetsNoMoreUntilItEnds) {
  for (auto id : {"a", "b", "c"}) Submit(id, /*max_retries=*/3);
  transport_.GrantLease(7001, "lease-1");
  auto& first = transport_.Stream(0);
  now_ += TaskSubmitter::kGiveBackAfterMs - 1;
  submitter_.Tick(now_);
  EXPECT_TRUE(first.cancels.empty());
  now_ += 2;
  submitter_.Tick(now_);
  EXPECT_THAT(first.AskedBack(), ElementsAre("c", "b"));
  first.GiveBack("c");
  first.GiveBack("b");
  EXPECT_THAT(first.SentIds(), ElementsAre("a")) << "nothing sent ahead to a worker stuck on a long task";
  transport_.GrantLease(7002, "lease-2");
  EXPECT_THAT(transport_.Stream(1).SentIds(), ElementsAre("b", "c")) << "in their order";
  first.Reply(Data("A"));
  Submit("d", 3);
  Submit("e", 3);
  EXPECT_THAT(first.SentIds(), ElementsAre("d", "e")) << "once its task ended, it takes work ahead again";
}

TEST_F(TaskSubmitterTest, TasksWaitingOnAWorkerThatDiesGoAgainWithoutSpendingARetry) {
  for (auto id : {"a", "b", "c"}) Submit(id, /*max_retries=*/1);
  transport_.GrantLease(7001, "lease-1");
  transport_.Stream(0).Break();
  ASSERT_EQ(transport_.leases.size(), 3u) << "one for each task again";
  transport_.GrantLease(7002, "lease-2");
  auto& again = transport_.Stream(1);
  ASSERT_EQ(again.sent.size(), 3u);
  for (auto& t : again.sent) EXPECT_EQ(t.attempt(), t.task_id() == "a" ? 1 : 0) << t.task_id();
}

TEST_F(TaskSubmitterTest, AnIdleLeaseGoesBackAfterTheIdleTime) {
  Submit("a");
  transport_.GrantLease(7001, "lease-1");
  transport_.Stream(0).Reply(Data("A"));
  now_ += 100;
  submitter_.Tick(now_);
  EXPECT_THAT(transport_.returned, IsEmpty()) << "kept a while for the next task";
  now_ += 150;
  submitter_.Tick(now_);
  EXPECT_THAT(transport_.returned, ElementsAre("lease-1 to raylet:1"));
  EXPECT_TRUE(transport_.Stream(0).closed);
}

TEST_F(TaskSubmitterTest, ATaskWhoseWorkerDiesRunsAgainOnANewLeaseWhileRetriesLast) {
  Submit("a", /*max_retries=*/1);
  transport_.GrantLease(7001, "lease-1");
  transport_.Stream(0).Break();
  EXPECT_THAT(transport_.returned, ElementsAre("lease-1 disconnect to raylet:1")) << "the worker is not reused";
  EXPECT_FALSE(Result("a"));
  ASSERT_EQ(transport_.leases.size(), 1u);
  transport_.GrantLease(7002, "lease-2");
  auto& retry = transport_.Stream(1);
  ASSERT_EQ(retry.sent.size(), 1u);
  EXPECT_EQ(retry.sent.front().attempt(), 1);
  retry.Break();
  auto r = Result("a");
  ASSERT_TRUE(r) << "no retries left";
  EXPECT_EQ(r->error().type(), proto::WORKER_CRASHED);
}

TEST_F(TaskSubmitterTest, AWorkerThatDiesWhileStartingIsAskedForAgainAFewTimesInARow) {
  Submit("a");
  proto::LeaseReply crashed;
  crashed.mutable_error()->set_type(proto::WORKER_CRASHED);
  crashed.mutable_error()->set_message("the worker process exited before it was ready (killed by signal 9)");
  transport_.AnswerLease(crashed);
  ASSERT_EQ(transport_.leases.size(), 1u) << "asked again";
  EXPECT_EQ(transport_.leases.front().raylet, "raylet:1");
  transport_.GrantLease(7001, "lease-1");
  transport_.Stream(0).Reply(Data("A"));
  EXPECT_EQ(Result("a")->data(), "A") << "a crashed start costs no task anything";
  now_ += 250;
  submitter_.Tick(now_);  // lease-1 goes back: what comes next needs new leases
  // Three in a row fail what is queued, with the raylet's word, once no
  // other request may still be granted.
  Submit("b");
  Submit("c");
  ASSERT_EQ(transport_.leases.size(), 2u);
  for (int i = 0; i < 3; ++i) transport_.AnswerLease(crashed);
  EXPECT_FALSE(Result("b")) << "the other request is still out";
  ASSERT_EQ(transport_.leases.size(), 1u);
  transport_.AnswerLease(crashed);
  ASSERT_TRUE(Result("b"));
  EXPECT_EQ(Result("b")->error().type(), proto::WORKER_CRASHED);
  EXPECT_NE(Result("c")->error().message().find("signal 9"), std::string::npos);
}

TEST_F(TaskSubmitterTest, ASpillbackIsFollowedToTheNodeItNames) {
  Submit("a");
  proto::LeaseReply spill;
  spill.mutable_spillback()->set_ip("10.0.0.9");
  spill.mutable_spillback()->set_port(9000);
  transport_.AnswerLease(spill);
  ASSERT_EQ(transport_.leases.size(), 1u);
  EXPECT_EQ(transport_.leases.front().raylet, "10.0.0.9:9000");
}

TEST_F(TaskSubmitterTest, RequestsSpilledBackToOneNodeTogetherAreAskedThereInOneCall) {
  transport_.hold_soon = true;
  for (int i = 0; i < 4; ++i) Submit("t" + std::to_string(i));
  transport_.RunSoonNow();
  ASSERT_EQ(transport_.lease_calls, (std::vector<int>{1, 3}));
  proto::LeaseReply spill;
  spill.mutable_spillback()->set_ip("10.0.0.9");
  spill.mutable_spillback()->set_port(9000);
  transport_.AnswerLease(spill);
  transport_.AnswerLease(spill);
  transport_.AnswerLease(spill);
  transport_.GrantLease(7001, "lease-1");
  EXPECT_EQ(transport_.lease_calls.size(), 2u) << "the spilled ones wait for the burst of answers to end";
  transport_.RunSoonNow();
  ASSERT_EQ(transport_.lease_calls, (std::vector<int>{1, 3, 3}));
  ASSERT_EQ(transport_.leases.size(), 3u);
  for (auto& call : transport_.leases) {
    EXPECT_EQ(call.raylet, "10.0.0.9:9000");
    EXPECT_EQ(call.req.spillback_count(), 1);
    EXPECT_EQ(call.req.job().job_id(), "job");
  }
}

TEST_F(TaskSubmitterTest, ALeaseRefusedEverywhereFailsTheQueuedTasksWithItsError) {
  Submit("a");
  Submit("b");
  proto::LeaseReply refused;
  refused.mutable_error()->set_type(proto::SCHEDULING_FAILED);
  refused.mutable_error()->set_message("no node has {GPU: 8}");
  transport_.AnswerLease(refused);
  EXPECT_FALSE(Result("a")) << "the other request may still be granted";
  transport_.AnswerLease(refused);
  ASSERT_TRUE(Result("a"));
  EXPECT_EQ(Result("a")->error().type(), proto::SCHEDULING_FAILED);
  EXPECT_EQ(Result("b")->error().message(), "no node has {GPU: 8}");
}

TEST_F(TaskSubmitterTest, WorkInAGroupNoNodeHoldsYetWaitsForItThenFailsOnceItIsRemoved) {
  Submit("a", 0, "group-1");
  proto::LeaseReply refused;
  refused.mutable_error()->set_type(proto::SCHEDULING_FAILED);
  refused.mutable_error()->set_message("no node has {CPU_group_g: 1}");
  transport_.AnswerLease(refused);
  ASSERT_EQ(transport_.group_watches.size(), 1u) << "asks the GCS about the group";
  EXPECT_EQ(transport_.group_watches.front().group_id, "group-1");
  Submit("b", 0, "group-1");
  EXPECT_TRUE(transport_.leases.empty()) << "no lease requests while waiting for the group";
  transport_.AnswerGroupWatch(proto::PG_PENDING);  // the wait timed out: still pending
  EXPECT_FALSE(Result("a"));
  ASSERT_EQ(transport_.leases.size(), 2u) << "leases again";
  transport_.AnswerLease(refused);
  transport_.AnswerLease(refused);
  ASSERT_EQ(transport_.group_watches.size(), 1u) << "one watch for both refusals";
  transport_.AnswerGroupWatch(std::nullopt);  // removed
  ASSERT_TRUE(Result("a"));
  EXPECT_EQ(Result("a")->error().type(), proto::SCHEDULING_FAILED);
  EXPECT_THAT(Result("b")->error().message(), ::testing::HasSubstr("was removed"));
}

TEST_F(TaskSubmitterTest, WorkInAPlacedGroupThatNoNodeTakesFailsAfterAFewChecks) {
  Submit("a", 0, "group-1");
  proto::LeaseReply refused;
  refused.mutable_error()->set_type(proto::SCHEDULING_FAILED);
  refused.mutable_error()->set_message("no node has {CPU_group_g: 1}");
  for (int i = 0; i < 3; ++i) {
    transport_.AnswerLease(refused);
    ASSERT_EQ(transport_.group_watches.size(), 1u);
    transport_.AnswerGroupWatch(proto::PG_CREATED);
    EXPECT_FALSE(Result("a"));
  }
  transport_.AnswerLease(refused);
  EXPECT_TRUE(transport_.group_watches.empty());
  ASSERT_TRUE(Result("a")) << "refused while its group was placed: the raylet's error stands";
  EXPECT_EQ(Result("a")->error().message(), "no node has {CPU_group_g: 1}");
}

TEST_F(TaskSubmitterTest, StopGivesEveryLeaseBackAndRetriesNothing) {
  Submit("a", /*max_retries=*/3);
  transport_.GrantLease(7001, "lease-1");
  submitter_.Stop();
  EXPECT_THAT(transport_.returned, ElementsAre("lease-1 to raylet:1"));
  transport_.Stream(0).Break(absl::CancelledError("shutting down"));
  ASSERT_TRUE(Result("a"));
  EXPECT_TRUE(transport_.leases.empty()) << "no new lease after Stop";
}

TEST_F(TaskSubmitterTest, ACancelDropsAQueuedTaskAndReachesARunningOne) {
  Submit("a");
  Submit("b");
  transport_.GrantLease(7001, "lease-1");
  auto& stream = transport_.Stream(0);
  ASSERT_EQ(stream.sent.front().task_id(), "a");
  // The owner fills the return object first (Runtime::Cancel), then tells us.
  store_.Put(ReturnObjectId("b", 0), Data("cancelled"), true);
  EXPECT_TRUE(submitter_.Cancel("b", /*force=*/false, /*recursive=*/true)) << "b was queued";
  store_.Put(ReturnObjectId("a", 0), Data("cancelled"), true);
  EXPECT_TRUE(submitter_.Cancel("a", false, true)) << "a runs";
  ASSERT_EQ(stream.cancels.size(), 1u);
  EXPECT_EQ(stream.cancels[0].task_id(), "a");
  EXPECT_TRUE(stream.cancels[0].recursive());
  stream.Reply(Data("A"));
  EXPECT_TRUE(stream.sent.empty()) << "b never goes out";
  EXPECT_FALSE(submitter_.Cancel("c", false, true)) << "no such task";
}

TEST_F(TaskSubmitterTest, AForcedCancelReturnsTheLeaseAsFailedAndTheTaskIsNotRetried) {
  Submit("a", /*max_retries=*/3);
  transport_.GrantLease(7001, "lease-1");
  store_.Put(ReturnObjectId("a", 0), Data("cancelled"), true);
  EXPECT_TRUE(submitter_.Cancel("a", /*force=*/true, true));
  EXPECT_THAT(transport_.returned, ElementsAre("lease-1 disconnect to raylet:1"));
  transport_.Stream(0).Break();  // the raylet killed the worker
  EXPECT_TRUE(transport_.leases.empty()) << "no lease asked for a retry";
  EXPECT_EQ(Result("a")->data(), "cancelled");
}

TEST_F(TaskSubmitterTest, AForcedCancelOfATaskWaitingBehindAnotherSparesTheWorker) {
  for (auto id : {"a", "b", "c"}) Submit(id, /*max_retries=*/3);
  transport_.GrantLease(7001, "lease-1");
  auto& stream = transport_.Stream(0);
  ASSERT_THAT(stream.SentIds(), ElementsAre("a", "b", "c"));
  store_.Put(ReturnObjectId("b", 0), Data("cancelled"), true);
  EXPECT_TRUE(submitter_.Cancel("b", /*force=*/true, false));
  EXPECT_THAT(transport_.returned, IsEmpty()) << "the worker running 'a' is not killed for 'b'";
  ASSERT_EQ(stream.cancels.size(), 1u);
  EXPECT_EQ(stream.cancels[0].task_id(), "b");
  EXPECT_FALSE(stream.cancels[0].give_back()) << "a cancel, not a give-back";
  // Cancelling the running one kills its worker; 'c' behind it never ran.
  store_.Put(ReturnObjectId("a", 0), Data("cancelled"), true);
  EXPECT_TRUE(submitter_.Cancel("a", /*force=*/true, false));
  EXPECT_THAT(transport_.returned, ElementsAre("lease-1 disconnect to raylet:1"));
  stream.Break();
  transport_.GrantLease(7002, "lease-2");
  auto& again = transport_.Stream(1);
  ASSERT_THAT(again.SentIds(), ElementsAre("c")) << "cancelled ones do not go again";
  EXPECT_EQ(again.sent.front().attempt(), 0);
}

TEST_F(TaskSubmitterTest, ATaskCancelledBeforeItIsSubmittedIsDropped) {
  store_.Expect(ReturnObjectId("late", 0), true);
  store_.Put(ReturnObjectId("late", 0), Data("cancelled"), true);
  proto::TaskSpec spec;
  spec.set_task_id("late");
  (*spec.mutable_resources())["CPU"] = 1;
  submitter_.Submit(std::move(spec));  // its arguments came after the cancel
  EXPECT_TRUE(transport_.leases.empty());
}

}  // namespace
}  // namespace glint::internal

namespace glint::internal {
namespace {

TEST_F(TaskSubmitterTest, TasksThatAllWaitLongAreReportedOncePerWaitButAQueueBehindRunningWorkIsNot) {
  std::vector<std::pair<int, int64_t>> waits;  // (tasks, waited ms)
  submitter_.SetWaitCallback([&](const google::protobuf::Map<std::string, double>& shape, int tasks, int64_t waited) {
    EXPECT_EQ(shape.at("CPU"), 1);
    waits.emplace_back(tasks, waited);
  });
  Submit("a");
  Submit("b");
  for (int i = 0; i < 200; ++i) submitter_.Tick(now_ += 50);  // 10 s: no lease comes
  ASSERT_EQ(waits.size(), 1u) << "one line for one wait";
  EXPECT_EQ(waits[0].first, 2);
  EXPECT_GT(waits[0].second, TaskSubmitter::kWaitWarningMs);
  EXPECT_LT(waits[0].second, TaskSubmitter::kWaitWarningMs + 200);
  // A lease comes: one task runs, the other queues behind it for long: that
  // is progress, not a wait to report.
  transport_.GrantLease(7001, "lease-1");
  for (int i = 0; i < 200; ++i) submitter_.Tick(now_ += 50);
  EXPECT_EQ(waits.size(), 1u);
}

}  // namespace
}  // namespace glint::internal
