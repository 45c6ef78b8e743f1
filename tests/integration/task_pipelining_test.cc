// Tasks sent ahead to a worker (several in flight per lease) through real
// processes: a long task does not hold the short ones sent behind it (they
// are taken back and run on another worker), and a batch of tasks with and
// without retries all come back right. Files written by the tasks (other
// processes) say where they ran.
#include <glint/api.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "integration/test_functions.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;
using glint::testing::FileExists;
using glint::testing::Touch;
using glint::testing::WaitUntil;

// Writes its pid to `path`, then waits for `path`.go (up to 60 s); returns its pid.
int Long(std::string path) {
  tf::WriteFile(path, std::to_string(getpid()));
  tf::WaitForFile(path + ".go");
  return getpid();
}

int Pid(int) { return getpid(); }

int Square(int x) { return x * x; }

GLINT_REMOTE(Long, Pid, Square);

class TaskPipeliningTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() { StartSuite(2); }
};

TEST_F(TaskPipeliningTest, ShortTasksSentBehindALongOneAreNotHeldByIt) {
  std::string dir = glint::testing::TempDir();
  auto long_one = glint::Task(Long).Remote(dir + "/long");
  std::vector<glint::ObjectRef<int>> shorts;
  for (int i = 0; i < 6; ++i) shorts.push_back(glint::Task(Pid).Remote(i));
  // The long task goes on only once every short one is back: a short one
  // waiting behind it for good would fail this Get.
  std::set<int> pids;
  for (auto& s : shorts) pids.insert(s.Get(std::chrono::seconds(30)));
  ASSERT_TRUE(WaitUntil([&] { return FileExists(dir + "/long"); }));
  int long_pid = tf::ReadInt(dir + "/long");
  EXPECT_FALSE(pids.contains(long_pid)) << "the short tasks ran beside the long one, not after it";
  Touch(dir + "/long.go");
  EXPECT_EQ(long_one.Get(std::chrono::seconds(30)), long_pid);
}

TEST_F(TaskPipeliningTest, ABatchOfTasksWithAndWithoutRetriesAllComeBackRight) {
  std::vector<glint::ObjectRef<int>> refs;
  for (int i = 0; i < 2000; ++i) {
    auto task = glint::Task(Square);
    if (i % 3 == 0) task.SetMaxRetries(0);  // never sent behind another
    refs.push_back(task.Remote(i));
  }
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(refs[i].Get(std::chrono::seconds(60)), i * i) << i;
}

}  // namespace
