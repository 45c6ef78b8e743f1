// What became of a job's calls, across real processes: `glint list tasks`
// lists each task, actor creation and actor call with where it ran and how
// it ended; `glint summary tasks` counts them by function and state; a call
// whose worker died is FAILED as WORKER_CRASHED; `glint logs --job` prints
// what the job's workers wrote.
#include <glint/api.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <iostream>
#include <map>
#include <random>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "common/ids.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;
using glint::testing::WaitUntil;

int Square(int x) { return x * x; }
// Its message is not UTF-8 text: the caller gets it all the same (a reply
// carrying such bytes in a protobuf string would not parse), and so does the listing.
int Throw(int) { throw std::runtime_error("thrown on purpose \xff\xfe"); }
int DieNow(int) { std::_Exit(4); }
std::string Note(std::string token) {
  std::cout << "note " << token << std::endl;
  return token;
}

class Tally {
 public:
  static Tally* Create() { return new Tally(); }
  int Add(int x) { return total_ += x; }

 private:
  int total_ = 0;
};

GLINT_REMOTE(Square, Throw, DieNow, Note, Tally::Create, &Tally::Add);

class TasksTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() { StartSuite(2); }
  static nlohmann::json Json(const std::string& args) { return CliJson(args); }
  // This driver's job id in hex.
  std::string JobHex() {
    auto jobs = Json("list jobs --filter driver_pid=" + std::to_string(getpid()));
    std::string id;
    if (jobs.is_array() && jobs.size() == 1) absl::Base64Unescape(jobs[0].value("job_id", ""), &id);
    EXPECT_FALSE(id.empty()) << jobs;
    return glint::IdHex(id);
  }
  // This job's tasks named `name` (any job's with `any_job`), once `pred`
  // holds for them (or the last listing when it never does within the deadline).
  nlohmann::json TasksNamed(const std::string& name, const std::function<bool(const nlohmann::json&)>& pred,
                            bool any_job = false) {
    nlohmann::json tasks;
    std::string job = any_job ? "" : " --filter job_id=" + JobHex();
    WaitUntil([&] {
      tasks = Json("list tasks" + job + " --filter name=" + name);
      return tasks.is_array() && pred(tasks);
    });
    return tasks;
  }
  static int64_t Ms(const nlohmann::json& t, const char* field) { return std::stoll(t.value(field, "0")); }
};

TEST_F(TasksTest, EachCallIsListedWithWhereItRanAndHowItEnded) {
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(glint::Task(Square).Remote(i).Get(), i * i);
  EXPECT_THROW(glint::Task(Throw).Remote(0).Get(), glint::TaskError);
  auto tally = glint::Actor(Tally::Create).Remote();
  tally.Task(&Tally::Add).Remote(2).Get();
  EXPECT_EQ(tally.Task(&Tally::Add).Remote(3).Get(), 5);

  // The caller's report (when it was submitted) and the worker's (where it
  // ran, its end) come in separately, each within a second.
  auto finished = [](int n) {
    return [n](const nlohmann::json& ts) {
      int done = 0;
      for (auto& t : ts) done += t.value("state", "") == "FINISHED" && Ms(t, "submitted_ms") > 0;
      return done == n;
    };
  };
  auto squares = TasksNamed("Square", finished(3));
  ASSERT_EQ(squares.size(), 3u) << squares;
  for (auto& t : squares) {
    EXPECT_EQ(t.value("state", ""), "FINISHED") << t;
    EXPECT_EQ(t.value("type", ""), "NORMAL_TASK") << t;
    EXPECT_GT(t.value("worker_pid", 0), 0) << t;
    EXPECT_FALSE(t.value("node_id", "").empty()) << t;
    EXPECT_GT(Ms(t, "submitted_ms"), 0) << t;
    EXPECT_LE(Ms(t, "submitted_ms"), Ms(t, "started_ms")) << t;
    EXPECT_LE(Ms(t, "started_ms"), Ms(t, "ended_ms")) << t;
  }
  auto thrown = TasksNamed("Throw", [](const nlohmann::json& ts) {
    return ts.size() == 1 && ts[0].value("state", "") == "FAILED" && Ms(ts[0], "submitted_ms") > 0;
  });
  ASSERT_EQ(thrown.size(), 1u) << thrown;
  EXPECT_EQ(thrown[0].value("error_type", ""), "TASK_ERROR") << thrown;
  EXPECT_NE(thrown[0].value("error_message", "").find("thrown on purpose"), std::string::npos) << thrown;
  auto adds = TasksNamed("Tally::Add", finished(2));
  ASSERT_EQ(adds.size(), 2u) << adds;
  EXPECT_EQ(adds[0].value("type", ""), "ACTOR_TASK");
  EXPECT_FALSE(adds[0].value("actor_id", "").empty()) << adds;
  auto created = TasksNamed("Tally::Create", finished(1));
  ASSERT_EQ(created.size(), 1u) << created;
  EXPECT_EQ(created[0].value("type", ""), "ACTOR_CREATION_TASK");
  EXPECT_EQ(created[0].value("worker_pid", 0), adds[0].value("worker_pid", -1)) << "the actor's calls run where it lives";

  // The table, and the summary by function and state.
  auto [table, status] = Cli("list tasks");
  EXPECT_EQ(status, 0) << table;
  EXPECT_NE(table.find("Tally::Add"), std::string::npos) << table;
  EXPECT_NE(table.find("TASK_ERROR"), std::string::npos) << table;
  auto summary = Json("summary tasks --job " + JobHex());
  std::map<std::string, nlohmann::json> by_name;
  for (auto& s : summary["summaries"]) by_name[s.value("name", "")] = s;
  EXPECT_EQ(by_name["Square"]["state_counts"].value("FINISHED", "0"), "3") << summary;
  EXPECT_EQ(by_name["Throw"]["state_counts"].value("FAILED", "0"), "1") << summary;
  EXPECT_EQ(by_name["Tally::Add"].value("type", ""), "ACTOR_TASK") << summary;
  auto [text, text_status] = Cli("summary tasks");
  EXPECT_EQ(text_status, 0) << text;
  EXPECT_NE(text.find("Square"), std::string::npos) << text;
  glint::Kill(tally);
}

TEST_F(TasksTest, ACallWhoseWorkerDiedIsFailedAsWorkerCrashed) {
  EXPECT_THROW(glint::Task(DieNow).SetMaxRetries(0).Remote(0).Get(), glint::WorkerCrashedError);
  auto died = TasksNamed("DieNow", [](const nlohmann::json& ts) {
    return ts.size() == 1 && ts[0].value("state", "") == "FAILED";
  });
  ASSERT_EQ(died.size(), 1u) << died;
  EXPECT_EQ(died[0].value("error_type", ""), "WORKER_CRASHED") << died;
}

TEST_F(TasksTest, ADriverThatEndsRightAfterItsCallsLeavesThemFinished) {
  // The job ends as the driver exits, and its task workers are killed then:
  // how its calls ended must not depend on what they had sent by then.
  int status = 0;
  std::string out = glint::testing::RunCommand("GLINT_LOG_TO_DRIVER=0 GLINT_ADDRESS=" + cluster_->gcs_address() + " " +
                                                   GLINT_HELLO_PATH + " 2>&1",
                                               &status);
  ASSERT_EQ(WEXITSTATUS(status), 0) << out;
  auto all_finished = [](size_t n) {
    return [n](const nlohmann::json& ts) {
      size_t done = 0;
      for (auto& t : ts) done += t.value("state", "") == "FINISHED";
      return ts.size() == n && done == n;
    };
  };
  auto plus = TasksNamed("Plus", all_finished(2), /*any_job=*/true);
  EXPECT_EQ(plus.size(), 2u) << plus;
  for (auto& t : plus) EXPECT_EQ(t.value("state", ""), "FINISHED") << t;
  auto greet = TasksNamed("Greet", all_finished(1), true);
  ASSERT_EQ(greet.size(), 1u) << greet;
  EXPECT_EQ(greet[0].value("state", ""), "FINISHED") << greet;
  auto increments = TasksNamed("Counter::Increment", all_finished(3), true);
  EXPECT_EQ(increments.size(), 3u) << increments;
}

TEST_F(TasksTest, LogsOfAJobPrintWhatItsWorkersWrote) {
  std::random_device rd;
  std::string token = std::to_string(rd()) + std::to_string(rd());
  EXPECT_EQ(glint::Task(Note).Remote(token).Get(), token);
  std::string out;
  bool found = WaitUntil([&] {
    out = Cli("logs --job " + JobHex().substr(0, 8)).first;
    return out.find("note " + token) != std::string::npos;
  });
  EXPECT_TRUE(found) << out;
  EXPECT_NE(out.find("==> node "), std::string::npos) << "each file is headed by its node and name: " << out;
  auto [unknown, status] = Cli("logs --job ffffffffffff");
  EXPECT_EQ(status, 1) << unknown;
  EXPECT_NE(unknown.find("no job"), std::string::npos) << unknown;
  auto [bad, bad_status] = Cli("summary tasks --job ffffffffffff");
  EXPECT_EQ(bad_status, 1) << bad;
}

}  // namespace
