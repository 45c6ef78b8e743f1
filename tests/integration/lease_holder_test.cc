// A leased worker whose holder is gone goes back to its raylet: the holder
// (an actor or a task that submitted tasks of its own) died before it gave
// the lease back, so nothing else would. A worker still running the dead
// holder's call is ended (its result has no taker); an idle one is reused.
// Either way the node's CPUs are free again for other work (a raylet of 2
// CPUs: a task asking for both runs only then).
#include <glint/api.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "common/process.h"
#include "integration/test_functions.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;
using glint::testing::FileExists;
using glint::testing::WaitUntil;

int Pid() { return getpid(); }

// Writes its pid to dir/pid, then waits for dir/never (up to 60 s).
int WaitInDir(std::string dir) {
  tf::WriteFile(dir + "/pid", std::to_string(getpid()));
  return tf::WaitForFile(dir + "/never");
}

// Leases a worker for a task of its own, takes its result, and dies before
// the idle lease would go back (after 200 ms).
int LeaseThenDie(std::string dir) {
  int pid = glint::Task(Pid).Remote().Get(std::chrono::seconds(60));
  tf::WriteFile(dir + "/pid", std::to_string(pid));
  _exit(3);
}

class Holder {
 public:
  static Holder* Create() { return new Holder(); }
  // Starts WaitInDir(dir) as a task of its own, and keeps its result's ref.
  bool Start(std::string dir) {
    waiting_.push_back(glint::Task(WaitInDir).Remote(dir));
    return true;
  }

 private:
  std::vector<glint::ObjectRef<int>> waiting_;
};

GLINT_REMOTE(Pid, WaitInDir, LeaseThenDie, Holder::Create, &Holder::Start);

bool Gone(pid_t pid) { return !glint::ProcessAlive(pid) || glint::IsZombie(pid); }

class LeaseHolderTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() { StartSuite(2); }
  void SetUp() override { dir_ = glint::testing::TempDir("glint-lease-holder"); }
  void TearDown() override { glint::testing::Touch(dir_ + "/never"); }  // nothing stays blocked
  // A task asking for both of the node's CPUs runs: no lease holds one.
  static void BothCpusAreFree() {
    auto both = glint::Task(Pid).SetResources({{"CPU", 2}}).Remote();
    EXPECT_GT(both.Get(std::chrono::seconds(60)), 0);
  }
  std::string dir_;
};

TEST_F(LeaseHolderTest, AKilledActorsRunningTaskIsEndedAndItsCpuFreed) {
  auto holder = glint::Actor(Holder::Create).Remote();
  ASSERT_TRUE(holder.Task(&Holder::Start).Remote(dir_).Get(std::chrono::seconds(60)));
  ASSERT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/pid"); }));
  pid_t task_worker = tf::ReadInt(dir_ + "/pid");
  ASSERT_GT(task_worker, 0);
  glint::Kill(holder);
  EXPECT_TRUE(WaitUntil([&] { return Gone(task_worker); }, std::chrono::seconds(30)))
      << "the worker running the dead actor's task is ended";
  BothCpusAreFree();
}

TEST_F(LeaseHolderTest, ATaskThatDiesHoldingAnIdleLeaseGivesItsCpuBack) {
  auto died = glint::Task(LeaseThenDie).SetMaxRetries(0).Remote(dir_);
  EXPECT_THROW(died.Get(std::chrono::seconds(60)), glint::WorkerCrashedError);
  ASSERT_TRUE(FileExists(dir_ + "/pid")) << "it took its own task's result first";
  BothCpusAreFree();
}

}  // namespace
