// TaskTable: reports merged into one record per task, in any order; the
// GCS's own guesses of an end; bounds; listings and summaries.
#include "gcs/task_table.h"

#include <gtest/gtest.h>

#include "gcs/task_event_service.h"

namespace glint::gcs {
namespace {

proto::TaskEvent Event(const std::string& id, proto::TaskState state, int attempt = 0) {
  proto::TaskEvent e;
  e.set_task_id(id);
  e.set_job_id("job-a");
  e.set_state(state);
  e.set_attempt(attempt);
  return e;
}

proto::TaskEvent Only(TaskTable& t) {
  auto r = t.List("", proto::TASK_STATE_NONE, 0);
  EXPECT_EQ(r.tasks_size(), 1);
  return r.tasks_size() == 1 ? r.tasks(0) : proto::TaskEvent();
}

TEST(TaskTableTest, ACallersAndAWorkersReportsBecomeOneRecordInEitherOrder) {
  auto submitted = Event("t1", proto::PENDING);
  submitted.set_name("Add");
  submitted.set_submitted_ms(100);
  auto ended = Event("t1", proto::FINISHED);
  ended.set_worker_id("w1");
  ended.set_node_id("n1");
  ended.set_worker_pid(42);
  ended.set_started_ms(110);
  ended.set_ended_ms(120);
  for (bool worker_first : {false, true}) {
    TaskTable t;
    t.Add(worker_first ? ended : submitted);
    t.Add(worker_first ? submitted : ended);
    auto r = Only(t);
    EXPECT_EQ(r.state(), proto::FINISHED);
    EXPECT_EQ(r.name(), "Add");
    EXPECT_EQ(r.submitted_ms(), 100);
    EXPECT_EQ(r.started_ms(), 110);
    EXPECT_EQ(r.ended_ms(), 120);
    EXPECT_EQ(r.worker_pid(), 42);
    EXPECT_EQ(r.worker_id(), "w1");
  }
}

TEST(TaskTableTest, ARetryStartsTheRecordAgainAndLateNewsOfTheOldAttemptIsIgnored) {
  TaskTable t;
  auto failed = Event("t1", proto::FAILED);
  failed.set_error_type("WORKER_CRASHED");
  t.Add(failed);
  t.Add(Event("t1", proto::RUNNING, 1));
  auto r = Only(t);
  EXPECT_EQ(r.state(), proto::RUNNING);
  EXPECT_EQ(r.attempt(), 1);
  EXPECT_EQ(r.error_type(), "");
  t.Add(Event("t1", proto::FINISHED, 0));  // the first attempt, late
  EXPECT_EQ(Only(t).state(), proto::RUNNING);
}

TEST(TaskTableTest, TheGcssGuessOfAnEndGivesWayToTheTasksOwnReport) {
  TaskTable t;
  auto running = Event("t1", proto::RUNNING);
  running.set_worker_id("w1");
  running.set_node_id("n1");
  t.Add(running);
  t.Add(Event("t2", proto::PENDING));
  t.FailWorker("w2", 5, "another worker died");
  EXPECT_EQ(t.List("", proto::FAILED, 0).total(), 0);
  t.FailWorker("w1", 5, "the worker died");
  auto r = t.List("", proto::FAILED, 0);
  ASSERT_EQ(r.tasks_size(), 1);
  EXPECT_EQ(r.tasks(0).error_type(), "WORKER_CRASHED");
  EXPECT_EQ(r.tasks(0).error_message(), "the worker died");
  // Its report of finishing was on the way: it wins.
  t.Add(Event("t1", proto::FINISHED));
  EXPECT_EQ(t.List("", proto::FINISHED, 0).total(), 1);
  // A job that ends fails what it still had pending; later news of a
  // task's own end still counts, but a second report of an end does not.
  t.FailJob("job-a", 6, "its job ended");
  EXPECT_EQ(t.List("", proto::FAILED, 0).total(), 1);
  EXPECT_EQ(t.List("", proto::FINISHED, 0).total(), 1);
  auto failed = Event("t2", proto::FAILED);
  failed.set_error_type("TASK_ERROR");
  t.Add(failed);
  t.Add(Event("t2", proto::FINISHED));
  auto t2 = t.List("", proto::FAILED, 0);
  ASSERT_EQ(t2.tasks_size(), 1);
  EXPECT_EQ(t2.tasks(0).error_type(), "TASK_ERROR");
}

// What a detached actor made goes on after its job; the flag may come with
// any of the task's reports (the owner's, or the worker's).
TEST(TaskTableTest, AJobsEndSparesWhatOutlivesIt) {
  TaskTable t;
  t.Add(Event("t1", proto::PENDING));
  t.Add(Event("t2", proto::PENDING));
  auto outlives = Event("t2", proto::RUNNING);
  outlives.set_outlives_job(true);
  t.Add(outlives);
  t.Add(Event("t2", proto::RUNNING));  // a later report without it does not take it away
  t.FailJob("job-a", 6, "its job ended");
  auto failed = t.List("", proto::FAILED, 0);
  ASSERT_EQ(failed.tasks_size(), 1);
  EXPECT_EQ(failed.tasks(0).task_id(), "t1");
  auto running = t.List("", proto::RUNNING, 0);
  ASSERT_EQ(running.tasks_size(), 1);
  EXPECT_TRUE(running.tasks(0).outlives_job());
}

TEST(TaskTableTest, ANodesDeathFailsWhatRanThere) {
  TaskTable t;
  auto running = Event("t1", proto::RUNNING);
  running.set_node_id("n1");
  t.Add(running);
  t.FailNode("", 1, "empty ids match nothing");
  EXPECT_EQ(Only(t).state(), proto::RUNNING);
  t.FailNode("n1", 1, "its node died");
  EXPECT_EQ(Only(t).state(), proto::FAILED);
}

TEST(TaskTableTest, TheOldestGoFirstPastTheBoundAndAreCounted) {
  TaskTable t(/*max_tasks=*/3);
  for (int i = 0; i < 5; ++i) t.Add(Event("t" + std::to_string(i), proto::PENDING));
  t.AddDropped(7);
  auto r = t.List("", proto::TASK_STATE_NONE, 0);
  EXPECT_EQ(t.size(), 3u);
  ASSERT_EQ(r.tasks_size(), 3);
  EXPECT_EQ(r.tasks(0).task_id(), "t4");  // newest first
  EXPECT_EQ(r.tasks(2).task_id(), "t2");
  EXPECT_EQ(r.dropped(), 2 + 7);
}

TEST(TaskTableTest, ListingsTakeAJobAStateAndALimitAndSummariesCountByFunctionAndState) {
  TaskTable t;
  for (int i = 0; i < 4; ++i) {
    auto e = Event("a" + std::to_string(i), i < 3 ? proto::FINISHED : proto::FAILED);
    e.set_name("Add");
    t.Add(e);
  }
  auto other = Event("b0", proto::RUNNING);
  other.set_job_id("job-b");
  other.set_name("Counter::Inc");
  other.set_type(proto::ACTOR_TASK);
  t.Add(other);
  auto r = t.List("job-a", proto::FINISHED, 2);
  EXPECT_EQ(r.total(), 3);
  EXPECT_EQ(r.tasks_size(), 2);
  EXPECT_EQ(t.List("job-b", proto::TASK_STATE_NONE, 0).total(), 1);
  auto s = t.Summarize("");
  EXPECT_EQ(s.total(), 5);
  ASSERT_EQ(s.summaries_size(), 2);
  EXPECT_EQ(s.summaries(0).name(), "Add");  // most first
  EXPECT_EQ(s.summaries(0).state_counts().at("FINISHED"), 3);
  EXPECT_EQ(s.summaries(0).state_counts().at("FAILED"), 1);
  EXPECT_EQ(s.summaries(1).type(), proto::ACTOR_TASK);
  EXPECT_EQ(t.Summarize("job-b").total(), 1);
}

TEST(TaskTableTest, TheServiceRefusesMalformedEvents) {
  EXPECT_TRUE(TaskEventService::Check(Event("t1", proto::PENDING)).ok());
  EXPECT_FALSE(TaskEventService::Check(Event("", proto::PENDING)).ok());
  EXPECT_FALSE(TaskEventService::Check(Event("t1", proto::TASK_STATE_NONE)).ok());
  EXPECT_FALSE(TaskEventService::Check(Event("t1", static_cast<proto::TaskState>(99))).ok());
  auto e = Event("t1", proto::PENDING);
  e.set_worker_id(std::string(100, 'w'));
  EXPECT_FALSE(TaskEventService::Check(e).ok());
  e = Event("t1", proto::PENDING);
  e.set_started_ms(-1);
  EXPECT_FALSE(TaskEventService::Check(e).ok());
  e = Event("t1", proto::PENDING);
  e.set_name(std::string(5000, 'n'));
  EXPECT_FALSE(TaskEventService::Check(e).ok());
  e = Event("t1", proto::FAILED);
  e.set_error_message("not text \xff");
  EXPECT_FALSE(TaskEventService::Check(e).ok());
}

}  // namespace
}  // namespace glint::gcs
