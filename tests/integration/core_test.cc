// Integration tests of the core: tasks, actors, objects, errors, failures,
// through the public API against real daemons and worker processes.
#include <glint/api.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <memory>
#include <numeric>

#include "testing/test_cluster.h"
#include "integration/test_functions.h"

namespace {

using glint::testing::FileExists;
using glint::testing::ReadFile;
using glint::testing::TempDir;
using glint::testing::ClusterTest;
using glint::testing::TestCluster;
using glint::testing::Touch;
using glint::testing::WaitUntil;

int Plus(int a, int b) { return a + b; }
std::string Echo(std::string s) { return s; }
tf::Point Move(tf::Point p, int d) { return {p.x + d, p.y + d, p.label + "+moved"}; }
int Fail(std::string msg) { throw std::invalid_argument(msg); }
int Gate(std::string path) { return tf::WaitForFile(path); }
std::string Raylet() { return getenv("GLINT_RAYLET_ADDRESS"); }

// Sums Plus(i, 0) for i < n, computed by n nested tasks.
int NestedSum(int n) {
  std::vector<glint::ObjectRef<int>> refs;
  for (int i = 0; i < n; ++i) refs.push_back(glint::Task(Plus).Remote(i, 0));
  int sum = 0;
  for (int v : glint::Get(refs)) sum += v;
  return sum;
}

// Writes its pid to `path`, then blocks until `path`.release exists.
int PidThenBlock(std::string path) {
  tf::WriteFile(path, std::to_string(getpid()));
  return tf::WaitForFile(path + ".release");
}

// First attempt: records its pid and blocks (to be killed); later attempts
// return how many attempts there were.
int CountAttempts(std::string dir) {
  int n = 0;
  while (FileExists(dir + "/attempt" + std::to_string(n))) ++n;
  Touch(dir + "/attempt" + std::to_string(n));
  if (n == 0) {
    tf::WriteFile(dir + "/pid", std::to_string(getpid()));
    tf::WaitForFile(dir + "/never");
  }
  return n + 1;
}

// Blocks on its first `deaths` attempts after writing its pid to dir/pidN
// (the test kills each); then returns how many attempts there were.
int DieTimes(std::string dir, int deaths) {
  int n = 0;
  while (FileExists(dir + "/attempt" + std::to_string(n))) ++n;
  Touch(dir + "/attempt" + std::to_string(n));
  if (n < deaths) {
    tf::WriteFile(dir + "/pid" + std::to_string(n), std::to_string(getpid()));
    tf::WaitForFile(dir + "/never");
  }
  return n + 1;
}

// Which attempt ran, in which process: the first one writes its pid to
// dir/pid0 and blocks (the test kills it).
std::pair<int, int> AttemptAndPid(std::string dir) {
  return {DieTimes(dir, 1), static_cast<int>(getpid())};
}

// Parameters by lvalue reference, as Ray's C++ API allows.
size_t AppendX(std::string& s) {
  s += "x";
  return s.size();
}

class Recorder {
 public:
  static Recorder* Create(int base) { return new Recorder(base); }
  int Append(int v) {
    items_.push_back(v);
    return static_cast<int>(items_.size());
  }
  std::vector<int> Items() const { return items_; }
  int Pid() const { return getpid(); }
  int Block(std::string path) { return tf::WaitForFile(path); }
  // Writes `path`, then waits (in plain user code) until `path`.release exists.
  int Hold(std::string path) {
    tf::WriteFile(path, "held");
    return tf::WaitForFile(path + ".release");
  }
  glint::ObjectRef<std::string> Keep(std::string v) { return glint::Put(v); }  // owned by this worker
  int SumViaTask(int a, int b) { return glint::Task(Plus).Remote(a, b).Get() + base_; }
  std::string Raylet() const { return getenv("GLINT_RAYLET_ADDRESS"); }
  int AppendAll(std::vector<int>& values) {
    for (int v : values) items_.push_back(v);
    values.clear();
    return static_cast<int>(items_.size());
  }

 private:
  explicit Recorder(int base) : base_(base) {}
  int base_;
  std::vector<int> items_;
};

static Recorder* CreateBroken(int) { throw std::runtime_error("constructor refused"); }

int CallActor(glint::ActorHandle<Recorder> h, int v) { return h.Task(&Recorder::Append).Remote(v).Get(); }

GLINT_REMOTE(Plus, Echo, Move, Fail, Gate, Raylet, NestedSum, PidThenBlock, CountAttempts, DieTimes, AttemptAndPid, AppendX,
             &Recorder::AppendAll, CallActor,
             Recorder::Create, CreateBroken, &Recorder::Append, &Recorder::Items, &Recorder::Pid,
             &Recorder::Block, &Recorder::Hold, &Recorder::Keep, &Recorder::SumViaTask, &Recorder::Raylet);

class CoreTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() {
    StartSuite(2);
  }
  void SetUp() override { dir_ = TempDir(); }
  std::string dir_;
};

TEST_F(CoreTest, TasksPutAndGet) {
  EXPECT_EQ(glint::Task(Plus).Remote(1, 2).Get(), 3);
  EXPECT_EQ(glint::Task(Echo).Remote(std::string(1000, 'x')).Get(), std::string(1000, 'x'));
  auto put = glint::Put(std::vector<int>{1, 2, 3});
  EXPECT_EQ(glint::Get(put), (std::vector<int>{1, 2, 3}));
  std::vector<glint::ObjectRef<int>> refs;
  for (int i = 0; i < 20; ++i) refs.push_back(glint::Task(Plus).Remote(i, i));
  auto values = glint::Get(refs);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(values[i], 2 * i);
}

TEST_F(CoreTest, ObjectRefArgumentsAreResolvedBeforeTheCall) {
  auto three = glint::Task(Plus).Remote(1, 2);
  EXPECT_EQ(glint::Task(Plus).Remote(three, 10).Get(), 13);
  auto put = glint::Put(5);
  EXPECT_EQ(glint::Task(Plus).Remote(put, three).Get(), 8);
  auto r = glint::Actor(Recorder::Create).Remote(0);
  EXPECT_EQ(r.Task(&Recorder::Append).Remote(three).Get(), 1);
  EXPECT_EQ(r.Task(&Recorder::Items).Remote().Get(), std::vector<int>{3});
}

TEST_F(CoreTest, UserStructsTravelWithMsgpack) {
  tf::Point p = glint::Task(Move).Remote(tf::Point{1, 2, "p"}, 3).Get();
  EXPECT_EQ(p.x, 4);
  EXPECT_EQ(p.y, 5);
  EXPECT_EQ(p.label, "p+moved");
}

TEST_F(CoreTest, RemoteExceptionReachesGetAsTaskError) {
  auto ref = glint::Task(Fail).Remote("bad input");
  try {
    ref.Get();
    FAIL() << "expected TaskError";
  } catch (const glint::TaskError& e) {
    EXPECT_EQ(e.type(), "std::invalid_argument");
    EXPECT_EQ(e.message(), "bad input");
    EXPECT_NE(e.where().find("Fail"), std::string::npos);
  }
  // A call depending on a failed one fails with the same error.
  EXPECT_THROW(glint::Task(Plus).Remote(ref, 1).Get(), glint::TaskError);
}

// The actor's one thread is in user code that never calls Glint: the
// process still answers for the objects it owns (its queue's cover thread).
TEST_F(CoreTest, AWorkerBusyInUserCodeStillServesItsObjects) {
  auto actor = glint::Actor(Recorder::Create).Remote(0);
  auto kept = actor.Task(&Recorder::Keep).Remote(std::string("kept by the actor")).Get();
  auto held = actor.Task(&Recorder::Hold).Remote(dir_ + "/held");
  ASSERT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/held"); }));
  EXPECT_EQ(kept.Get(std::chrono::seconds(20)), "kept by the actor");
  Touch(dir_ + "/held.release");
  EXPECT_EQ(held.Get(std::chrono::seconds(60)), 1);
}

TEST_F(CoreTest, GetTimesOutThenSucceeds) {
  auto gate = glint::Task(Gate).Remote(dir_ + "/open");
  EXPECT_THROW(gate.Get(std::chrono::milliseconds(100)), glint::GetTimeoutError);
  Touch(dir_ + "/open");
  EXPECT_EQ(gate.Get(std::chrono::seconds(60)), 1);
}

TEST_F(CoreTest, WaitSplitsReadyFromUnready) {
  auto put = glint::Put(1);
  auto gate = glint::Task(Gate).Remote(dir_ + "/open");
  auto r = glint::Wait(std::vector<glint::ObjectRef<int>>{gate, put}, 1, std::chrono::seconds(10));
  ASSERT_EQ(r.ready.size(), 1u);
  EXPECT_EQ(r.ready[0], put);
  ASSERT_EQ(r.unready.size(), 1u);
  EXPECT_EQ(r.unready[0], gate);
  auto none = glint::Wait(std::vector<glint::ObjectRef<int>>{gate}, 1, std::chrono::milliseconds(50));
  EXPECT_TRUE(none.ready.empty()) << "Wait returns at its timeout";
  Touch(dir_ + "/open");
  auto all = glint::Wait(std::vector<glint::ObjectRef<int>>{gate, put}, 2, std::chrono::seconds(60));
  EXPECT_EQ(all.ready.size(), 2u);
}

TEST_F(CoreTest, ActorRunsOneCallersCallsInSubmissionOrder) {
  auto r = glint::Actor(Recorder::Create).Remote(0);
  std::vector<glint::ObjectRef<int>> sizes;
  for (int i = 0; i < 300; ++i) sizes.push_back(r.Task(&Recorder::Append).Remote(i));
  std::vector<int> want(300);
  std::iota(want.begin(), want.end(), 0);
  EXPECT_EQ(r.Task(&Recorder::Items).Remote().Get(), want);
  EXPECT_EQ(sizes.back().Get(), 300) << "state persists across calls";
}

TEST_F(CoreTest, AThreadedActorAnswersEachCallWhenItEnds) {
  // The calls share one stream (and likely one message); the quick one's
  // reply must not wait for the slow one.
  auto r = glint::Actor(Recorder::Create).SetMaxConcurrency(2).Remote(0);
  auto slow = r.Task(&Recorder::Block).Remote(dir_ + "/gate");
  auto quick = r.Task(&Recorder::Append).Remote(5);
  EXPECT_EQ(quick.Get(std::chrono::seconds(60)), 1);
  auto ready = glint::Wait(std::vector<glint::ObjectRef<int>>{slow}, 1, std::chrono::milliseconds(0));
  EXPECT_TRUE(ready.ready.empty()) << "the slow call is still blocked";
  Touch(dir_ + "/gate");
  EXPECT_EQ(slow.Get(std::chrono::seconds(60)), 1) << "it saw the gate";
}

TEST_F(CoreTest, NestedTasksDoNotStarveTheNode) {
  // Three parents on two CPUs, each waiting on four children: only works if a
  // blocked parent lends its CPU back.
  std::vector<glint::ObjectRef<int>> parents;
  for (int i = 0; i < 3; ++i) parents.push_back(glint::Task(NestedSum).Remote(4));
  for (auto& p : parents) EXPECT_EQ(p.Get(std::chrono::seconds(60)), 0 + 1 + 2 + 3);
}

TEST_F(CoreTest, HandlesPassToTasksAndActorsCallTasks) {
  auto r = glint::Actor(Recorder::Create).Remote(100);
  EXPECT_EQ(glint::Task(CallActor).Remote(r, 7).Get(), 1);
  EXPECT_EQ(glint::Task(CallActor).Remote(r, 8).Get(), 2);
  EXPECT_EQ(r.Task(&Recorder::Items).Remote().Get(), (std::vector<int>{7, 8}));
  EXPECT_EQ(r.Task(&Recorder::SumViaTask).Remote(1, 2).Get(), 103);
}

TEST_F(CoreTest, ConstructorExceptionKillsTheActorWithTheCause) {
  auto bad = glint::Actor(CreateBroken).Remote(1);
  try {
    bad.Task(&Recorder::Append).Remote(1).Get(std::chrono::seconds(60));
    FAIL() << "expected ActorDiedError";
  } catch (const glint::ActorDiedError& e) {
    EXPECT_NE(std::string(e.what()).find("constructor refused"), std::string::npos) << e.what();
  }
}

TEST_F(CoreTest, KilledWorkerFailsTheTaskInsteadOfHanging) {
  auto ref = glint::Task(PidThenBlock).SetMaxRetries(0).Remote(dir_ + "/pid");
  ASSERT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/pid"); }));
  int pid = std::stoi(ReadFile(dir_ + "/pid"));
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  EXPECT_THROW(ref.Get(std::chrono::seconds(60)), glint::WorkerCrashedError);
  EXPECT_EQ(glint::Task(Plus).Remote(2, 2).Get(), 4) << "the node keeps working";
}

TEST_F(CoreTest, KilledWorkerIsRetriedWhenRetriesAreLeft) {
  auto ref = glint::Task(CountAttempts).SetMaxRetries(2).Remote(dir_);
  ASSERT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/pid"); }));
  ASSERT_EQ(kill(std::stoi(ReadFile(dir_ + "/pid")), SIGKILL), 0);
  EXPECT_EQ(ref.Get(std::chrono::seconds(60)), 2);
}

TEST_F(CoreTest, ARetriedTaskRunsAgainInAnotherWorkerAndOnlyTheLastAttemptCounts) {
  auto ref = glint::Task(AttemptAndPid).SetMaxRetries(1).Remote(dir_);
  ASSERT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/pid0"); }));
  int first = std::stoi(ReadFile(dir_ + "/pid0"));
  ASSERT_EQ(kill(first, SIGKILL), 0);
  auto [attempt, pid] = ref.Get(std::chrono::seconds(60));
  EXPECT_EQ(attempt, 2) << "the second attempt's result";
  EXPECT_NE(pid, first) << "run by another worker";
  EXPECT_EQ(ref.Get(), std::make_pair(attempt, pid)) << "one result, read again the same";
}

TEST_F(CoreTest, MaxRetriesMinusOneRetriesForEver) {
  constexpr int kDeaths = 5;  // more than the default of 3 retries
  auto ref = glint::Task(DieTimes).SetMaxRetries(-1).Remote(dir_, kDeaths);
  for (int i = 0; i < kDeaths; ++i) {
    std::string pid_file = dir_ + "/pid" + std::to_string(i);
    ASSERT_TRUE(WaitUntil([&] { return FileExists(pid_file); }, std::chrono::seconds(60))) << "attempt " << i;
    ASSERT_EQ(kill(std::stoi(ReadFile(pid_file)), SIGKILL), 0);
  }
  EXPECT_EQ(ref.Get(std::chrono::seconds(60)), kDeaths + 1);
}

TEST_F(CoreTest, BadBudgetsAndResourceAmountsAreClearErrors) {
  using glint::testing::Contains;
  using glint::testing::ErrorOf;
  EXPECT_PRED2(Contains, ErrorOf([] { glint::Task(Plus).SetMaxRetries(-2).Remote(1, 1); }), "SetMaxRetries");
  EXPECT_PRED2(Contains, ErrorOf([] { glint::Actor(Recorder::Create).SetMaxRestarts(-2).Remote(0); }),
               "SetMaxRestarts");
  EXPECT_PRED2(Contains, ErrorOf([] { glint::Actor(Recorder::Create).SetMaxTaskRetries(-5).Remote(0); }),
               "SetMaxTaskRetries");
  EXPECT_PRED2(Contains, ErrorOf([] { glint::Task(Plus).SetResources({{"CPU", 0}}).Remote(1, 1); }),
               "more than 0");
  EXPECT_PRED2(Contains, ErrorOf([] { glint::Task(Plus).SetResources({{"CPU", 1.5}}).Remote(1, 1); }),
               "whole number");
  EXPECT_PRED2(Contains, ErrorOf([] { glint::Task(Plus).SetResources({{"", 1}}).Remote(1, 1); }), "empty");
  EXPECT_PRED2(Contains, ErrorOf([] { glint::Actor(Recorder::Create).SetResources({{"CPU", -1}}).Remote(0); }),
               "CPU");
  // A fraction of one unit is fine.
  EXPECT_EQ(glint::Task(Plus).SetResources({{"CPU", 0.5}}).Remote(1, 1).Get(), 2);
}

TEST_F(CoreTest, ParametersByLvalueReferenceGetTheArgument) {
  EXPECT_EQ(glint::Task(AppendX).Remote(std::string("ab")).Get(), 3u);
  auto r = glint::Actor(Recorder::Create).Remote(0);
  EXPECT_EQ(r.Task(&Recorder::AppendAll).Remote(std::vector<int>{4, 5}).Get(), 2);
  EXPECT_EQ(r.Task(&Recorder::Items).Remote().Get(), (std::vector<int>{4, 5}));
}

TEST_F(CoreTest, KilledActorWorkerFailsPendingAndLaterCalls) {
  auto r = glint::Actor(Recorder::Create).Remote(0);
  int pid = r.Task(&Recorder::Pid).Remote().Get();
  auto pending = r.Task(&Recorder::Block).Remote(dir_ + "/never");
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  EXPECT_THROW(pending.Get(std::chrono::seconds(60)), glint::ActorDiedError);
  // Once the GCS has the death, new calls fail at once with the cause.
  try {
    r.Task(&Recorder::Append).Remote(1).Get(std::chrono::seconds(60));
    FAIL() << "expected ActorDiedError";
  } catch (const glint::ActorDiedError& e) {
    EXPECT_NE(std::string(e.what()).find("died"), std::string::npos) << e.what();
  }
}

TEST_F(CoreTest, InfeasibleResourcesAreAClearError) {
  try {
    glint::Task(Plus).SetResources({{"GPU", 1}}).Remote(1, 1).Get(std::chrono::seconds(30));
    FAIL() << "expected SchedulingError";
  } catch (const glint::SchedulingError& e) {
    EXPECT_NE(std::string(e.what()).find("GPU"), std::string::npos) << e.what();
  }
}

// Each of these makes its own job (Init with its own Config).
class JobCodeTest : public ::testing::Test {
 protected:
  void SetUp() override { cluster_ = std::make_unique<TestCluster>(1); }
  void TearDown() override {
    glint::Shutdown();
    cluster_.reset();
  }
  void InitWithCode(std::vector<std::string> paths) {
    glint::Config c;
    c.address = cluster_->gcs_address();
    c.code_search_path = std::move(paths);
    glint::Init(c);
  }
  std::unique_ptr<TestCluster> cluster_;
};

TEST_F(JobCodeTest, FunctionTheWorkerLacksIsFunctionNotFound) {
  InitWithCode({GLINT_OTHER_CODE_PATH});
  try {
    glint::Task(Plus).Remote(1, 2).Get(std::chrono::seconds(60));
    FAIL() << "expected FunctionNotFoundError";
  } catch (const glint::FunctionNotFoundError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("'Plus'"), std::string::npos) << m;
    EXPECT_NE(m.find(GLINT_OTHER_CODE_PATH), std::string::npos) << m;
  }
  auto a = glint::Actor(Recorder::Create).Remote(0);
  EXPECT_THROW(a.Task(&Recorder::Pid).Remote().Get(std::chrono::seconds(60)), glint::ActorDiedError);
}

TEST_F(JobCodeTest, MissingCodeIsACodeLoadErrorNamingThePath) {
  InitWithCode({"/nonexistent/glint/driver"});
  try {
    glint::Task(Plus).Remote(1, 2).Get(std::chrono::seconds(60));
    FAIL() << "expected CodeLoadError";
  } catch (const glint::CodeLoadError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/glint/driver"), std::string::npos) << e.what();
  }
}

TEST(InitTest, NoGcsAtTheAddressFailsInitClearly) {
  glint::Config c;
  c.address = "127.0.0.1:1";
  c.gcs_reconnect_timeout_ms = 300;  // it waits this long for a GCS that does not answer
  try {
    glint::Init(c);
    FAIL() << "expected ConnectionError";
  } catch (const glint::ConnectionError& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:1"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(glint::IsInitialized());
  EXPECT_THROW(glint::Task(Plus).Remote(1, 2), glint::Error) << "calls before Init are refused";
}

TEST(InitTest, WithoutAnAddressInitStartsAPrivateCluster) {
  unsetenv("GLINT_ADDRESS");
  glint::Init();
  EXPECT_EQ(glint::Task(Plus).Remote(20, 22).Get(), 42);
  glint::Shutdown();
  EXPECT_FALSE(glint::IsInitialized());
}

}  // namespace
