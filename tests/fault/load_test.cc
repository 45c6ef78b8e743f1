// Load that once turned slowness into failures: many actors created at once
// on a two-CPU node (each a process starting while the others do: start-up
// waits must not count as death), and one driver queuing a hundred thousand
// small tasks. Under a sanitizer (GLINT_LOAD_SMALL=1) the counts are smaller:
// each process there takes far more memory and time.
#include <glint/api.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <set>
#include <vector>

#include "integration/test_functions.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;
using tf::Box;

int AddOne(int x) { return x + 1; }

GLINT_REMOTE(Box::Create, &Box::Pid, AddOne);

bool Small() { return std::getenv("GLINT_LOAD_SMALL") != nullptr; }

class LoadTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() { StartSuite(2, "", "load"); }
};

TEST_F(LoadTest, TwoHundredActorsCreatedAtOnceOnATwoCpuNodeAllComeUp) {
  const int n = Small() ? 40 : 200;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<glint::ActorHandle<Box>> actors;
  for (int i = 0; i < n; ++i) actors.push_back(glint::Actor(Box::Create).Remote(i));
  std::vector<glint::ObjectRef<int>> pids;
  for (auto& a : actors) pids.push_back(a.Task(&Box::Pid).Remote());
  std::set<int> distinct;
  int failed = 0;
  std::string first_error;
  for (auto& p : pids) {
    try {
      distinct.insert(p.Get(std::chrono::seconds(300)));
    } catch (const glint::Error& e) {
      if (failed++ == 0) first_error = e.what();
    }
  }
  auto s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "[figures] " << n << " actors created at once, all answering after " << s << " s" << std::endl;
  EXPECT_EQ(failed, 0) << first_error;
  EXPECT_EQ(distinct.size(), static_cast<size_t>(n)) << "each actor is a process of its own";
  for (auto& a : actors) glint::Kill(a);
}

TEST_F(LoadTest, AHundredThousandTasksQueuedByOneDriverAllFinish) {
  const int n = Small() ? 20000 : 100000;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<glint::ObjectRef<int>> refs;
  refs.reserve(n);
  for (int i = 0; i < n; ++i) refs.push_back(glint::Task(AddOne).Remote(i));
  int64_t sum = 0, expected = 0;
  for (int i = 0; i < n; ++i) {
    sum += refs[i].Get(std::chrono::seconds(300));
    expected += i + 1;
  }
  auto s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "[figures] " << n << " tasks queued and all finished in " << s << " s (" << n / s << "/s)" << std::endl;
  EXPECT_EQ(sum, expected);
}

}  // namespace
