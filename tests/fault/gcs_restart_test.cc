// The GCS killed with SIGKILL and started again on its port and store (a
// SQLite file in the session directory, as `glint start` sets it up), under
// real drivers: a named detached actor survives with its state and its name;
// calls between a driver and its actors go on while the GCS is away, and what
// needs the GCS (creating an actor) waits for it instead of failing; a driver
// started while it is away connects once it is back; a job whose driver died
// meanwhile ends (its non-detached actors go, its detached ones stay); an
// actor whose worker died meanwhile restarts; a placement group stays placed;
// key-value records stay; objects still move between nodes while it is away.
// Each test runs with both persistent stores: SQLite and Redis.
// This program is also the drivers (`gcs_restart_fault_test driver MODE`).
#include <glint/api.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <memory>
#include <iostream>
#include <string>
#include <thread>

#include "common/process.h"
#include "integration/test_functions.h"
#include "testing/driver_process.h"
#include "testing/redis_server.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::Contains;
using glint::testing::ReadFile;
using glint::testing::StartDriver;
using glint::testing::TestCluster;
using glint::testing::WaitUntil;
using tf::Box;

std::string TaskRaylet() { return getenv("GLINT_RAYLET_ADDRESS"); }

// A value of `mib` MiB (large enough for the shared-memory store) and its sum.
std::vector<uint8_t> MakeBlob(int mib, int seed) {
  std::vector<uint8_t> v(static_cast<size_t>(mib) << 20);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(i * 31 + seed);
  return v;
}
uint64_t Checksum(std::vector<uint8_t> v) {
  uint64_t h = 0;
  for (uint8_t b : v) h = h * 131 + b;
  return h;
}

GLINT_REMOTE(Box::Create, &Box::Add, &Box::Pid, &Box::Restarted, TaskRaylet, MakeBlob, Checksum);

constexpr char kNamespace[] = "fault";

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// Each test has a cluster of its own, stopped after this process's driver,
// its GCS's store a SQLite file in the session or a Redis server of its own.
class GcsRestartTest : public ::testing::TestWithParam<std::string> {
 protected:
  void TearDown() override {
    if (glint::IsInitialized()) glint::Shutdown();
    cluster_.reset();
    redis_.reset();
  }
  void SetUp() override {
    if (GetParam() != "redis") return;
    redis_ = std::make_unique<glint::testing::RedisServer>();
    if (!redis_->available()) GTEST_SKIP() << redis_->why_not();
  }
  TestCluster& Start(double cpus) {
    cluster_ = std::make_unique<TestCluster>(cpus, "", std::vector<std::string>{}, glint::TlsFiles{},
                                             redis_ ? redis_->Url() : "");
    return *cluster_;
  }
  static void InitDriver(const TestCluster& cluster) {
    glint::Config c;
    c.address = cluster.gcs_address();
    c.namespace_ = kNamespace;
    glint::Init(c);
  }
  std::unique_ptr<glint::testing::RedisServer> redis_;
  std::unique_ptr<TestCluster> cluster_;
};

TEST_P(GcsRestartTest, ANamedDetachedActorSurvivesWithItsStateAndItsName) {
  TestCluster& cluster = Start(2);
  ASSERT_PRED2(Contains, glint::testing::RunToEnd(cluster.gcs_address(), {"make", "keeper"}), "MADE");
  cluster.RestartGcs();
  auto use = StartDriver(cluster.gcs_address(), {"use", "keeper"});
  EXPECT_EQ(Trim(use.Line()), "STARTING");
  EXPECT_EQ(Trim(use.Line()), "6") << "the actor kept its state (5) and answers through its old name";
  EXPECT_EQ(use.Wait(), 0);
  // The name is still held: a second actor cannot take it.
  EXPECT_PRED2(Contains, glint::testing::RunToEnd(cluster.gcs_address(), {"make", "keeper"}), "already taken");
}

TEST_P(GcsRestartTest, CallsGoOnWhileTheGcsIsAwayAndCreatingAnActorWaitsForIt) {
  TestCluster& cluster = Start(2);
  InitDriver(cluster);
  auto box = glint::Actor(Box::Create).Remote(0);
  ASSERT_EQ(box.Task(&Box::Add).Remote(0).Get(std::chrono::seconds(60)), 0);
  std::atomic<int> ok{0}, failed{0};
  std::atomic<bool> stop{false};
  std::string last_error;
  std::thread loop([&] {
    for (int i = 0; i < 1000000 && !stop; ++i) {
      try {
        box.Task(&Box::Add).Remote(1).Get(std::chrono::seconds(30));
        ++ok;
      } catch (const glint::Error& e) {
        last_error = e.what();
        ++failed;
      }
    }
  });
  ASSERT_TRUE(WaitUntil([&] { return ok >= 50; }));
  cluster.KillGcs();
  int at_kill = ok;
  EXPECT_TRUE(WaitUntil([&] { return ok >= at_kill + 300; })) << "actor calls go on without the GCS";
  std::atomic<int> created{-1};
  std::string create_error;
  std::thread create([&] {
    try {
      auto other = glint::Actor(Box::Create).Remote(7);
      created = other.Task(&Box::Add).Remote(1).Get(std::chrono::seconds(60));
    } catch (const glint::Error& e) {
      create_error = e.what();
      created = -2;
    }
  });
  int at_create = ok;
  EXPECT_TRUE(WaitUntil([&] { return ok >= at_create + 300; }));
  EXPECT_EQ(created, -1) << "creating an actor waits for the GCS instead of failing: " << create_error;
  int during = ok - at_kill;
  auto t0 = std::chrono::steady_clock::now();
  cluster.RestartGcs();
  auto serving = std::chrono::steady_clock::now();
  create.join();
  auto created_at = std::chrono::steady_clock::now();
  EXPECT_EQ(created, 8) << create_error;
  // Figures for tests/fault/RESULTS.md (not asserted).
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  std::cout << "[figures] calls while the GCS was away: " << during << "; restarted GCS serving after "
            << ms(serving - t0) << " ms; the waiting actor creation done " << ms(created_at - serving)
            << " ms later" << std::endl;
  int at_restart = ok;
  EXPECT_TRUE(WaitUntil([&] { return ok >= at_restart + 100; })) << "calls go on after the restart";
  stop = true;
  loop.join();
  EXPECT_EQ(failed, 0) << last_error;
  EXPECT_EQ(box.Task(&Box::Add).Remote(0).Get(std::chrono::seconds(60)), ok.load()) << "no call lost or doubled";
}

TEST_P(GcsRestartTest, ObjectsMoveBetweenNodesWhileTheGcsIsAway) {
  TestCluster& cluster = Start(1);
  cluster.AddNode(2, R"({"far": 2})");
  InitDriver(cluster);
  const std::map<std::string, double> far = {{"far", 1}};
  auto where = glint::Task(TaskRaylet).SetResources(far).Remote().Get(std::chrono::seconds(60));
  ASSERT_NE(where, cluster.head_raylet_address());
  cluster.KillGcs();
  for (int round = 0; round < 3; ++round) {
    // The driver's value is pulled to the far node, and the far node's
    // result is pulled back to the driver's, each through the stores.
    auto mine = MakeBlob(8, round);
    auto put = glint::Put(mine);
    EXPECT_EQ(glint::Task(Checksum).SetResources(far).Remote(put).Get(std::chrono::seconds(60)), Checksum(mine));
    auto made = glint::Task(MakeBlob).SetResources(far).Remote(8, round + 10);
    EXPECT_EQ(Checksum(made.Get(std::chrono::seconds(60))), Checksum(MakeBlob(8, round + 10)));
  }
  cluster.RestartGcs();
  EXPECT_EQ(glint::Task(TaskRaylet).SetResources(far).Remote().Get(std::chrono::seconds(60)), where);
}

TEST_P(GcsRestartTest, KeyValueRecordsSurviveAndDeletedOnesStayDeleted) {
  TestCluster& cluster = Start(1);
  InitDriver(cluster);
  glint::kv::Put("kept", "yes", true, "restart");
  glint::kv::Put("gone", "soon", true, "restart");
  EXPECT_EQ(glint::kv::Delete("gone", false, "restart"), 1);
  cluster.RestartGcs();
  EXPECT_EQ(glint::kv::Get("kept", "restart"), "yes");
  EXPECT_FALSE(glint::kv::Exists("gone", "restart"));
  EXPECT_EQ(glint::kv::Keys("", "restart"), std::vector<std::string>{"kept"});
}

TEST_P(GcsRestartTest, ADriverStartedWhileTheGcsIsAwayConnectsOnceItIsBack) {
  TestCluster& cluster = Start(2);
  ASSERT_PRED2(Contains, glint::testing::RunToEnd(cluster.gcs_address(), {"make", "late"}), "MADE");
  cluster.KillGcs();
  std::string log = cluster.session_dir() + "/late-driver.log";
  auto late = StartDriver(cluster.gcs_address(), {"use", "late"}, {}, log);
  EXPECT_EQ(Trim(late.Line()), "STARTING");
  EXPECT_TRUE(WaitUntil([&] { return Contains(ReadFile(log), "does not answer"); }))
      << "the driver waits for the GCS: " << ReadFile(log);
  cluster.RestartGcs();
  EXPECT_EQ(Trim(late.Line()), "6");
  EXPECT_EQ(late.Wait(), 0);
}

TEST_P(GcsRestartTest, AJobWhoseDriverDiedMeanwhileEndsItsOwnActorsGoItsDetachedOneStays) {
  TestCluster& cluster = Start(2);
  auto hold = StartDriver(cluster.gcs_address(), {"hold"});
  int owned_pid = 0, detached_pid = 0;
  std::string line = hold.Line();
  ASSERT_EQ(sscanf(line.c_str(), "HOLDING %d %d", &owned_pid, &detached_pid), 2) << line;
  cluster.KillGcs();
  kill(hold.pid, SIGKILL);
  hold.Wait();
  cluster.RestartGcs();
  EXPECT_TRUE(WaitUntil([&] { return !glint::ProcessAlive(owned_pid); }))
      << "the dead driver's job ended and its non-detached actor was killed";
  InitDriver(cluster);
  auto held = glint::GetActor<Box>("held", kNamespace);
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->Task(&Box::Pid).Remote().Get(std::chrono::seconds(60)), detached_pid);
}

TEST_P(GcsRestartTest, AnActorWhoseWorkerDiedWhileTheGcsWasAwayRestarts) {
  TestCluster& cluster = Start(2);
  InitDriver(cluster);
  auto box = glint::Actor(Box::Create).SetMaxRestarts(1).SetMaxTaskRetries(-1).Remote(0);
  int pid = box.Task(&Box::Pid).Remote().Get(std::chrono::seconds(60));
  cluster.KillGcs();
  kill(pid, SIGKILL);
  ASSERT_TRUE(WaitUntil([&] { return !glint::ProcessAlive(pid); }));
  cluster.RestartGcs();
  // The call finds the worker gone, waits for the restart (which only the
  // restarted GCS can see: the raylet's report of the death was lost) and
  // is sent again to the new worker.
  int again = box.Task(&Box::Pid).Remote().Get(std::chrono::seconds(60));
  EXPECT_NE(again, pid);
  EXPECT_TRUE(box.Task(&Box::Restarted).Remote().Get(std::chrono::seconds(30)));
}

TEST_P(GcsRestartTest, APlacementGroupStaysPlacedAndCanBeRemoved) {
  TestCluster& cluster = Start(1);
  cluster.AddNode(2, R"({"spot": 2})");
  InitDriver(cluster);
  glint::PlacementGroupOptions o;
  o.name = "kept";
  o.bundles = {{{"CPU", 1}, {"spot", 2}}};
  auto pg = glint::CreatePlacementGroup(o);
  ASSERT_TRUE(pg.Wait(std::chrono::seconds(30)));
  cluster.RestartGcs();
  auto found = glint::GetPlacementGroup("kept");
  ASSERT_TRUE(found.has_value());
  EXPECT_TRUE(found->Wait(std::chrono::seconds(30)));
  auto where = glint::Task(TaskRaylet).SetPlacementGroup(*found, 0).Remote().Get(std::chrono::seconds(60));
  EXPECT_NE(where, cluster.head_raylet_address()) << "work in the group runs on the node that holds its bundle";
  glint::RemovePlacementGroup(*found);
  // Its resources are the node's again: a task needing all of "spot" runs.
  auto free_again = glint::Task(TaskRaylet).SetResources({{"spot", 2}}).Remote().Get(std::chrono::seconds(60));
  EXPECT_EQ(free_again, where);
}

INSTANTIATE_TEST_SUITE_P(Stores, GcsRestartTest, ::testing::Values("sqlite", "redis"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace

// Driver modes (run by the tests as child processes, GLINT_ADDRESS set):
//   make NAME  a named detached Box(5) in the test namespace: "MADE <pid>",
//              or "ERROR: <what>"
//   use NAME   "STARTING" before Init, then that actor's Add(1)
//   hold       a non-detached Box and a detached one named "held":
//              "HOLDING <pid> <pid>", then waits to be killed
static int RunDriver(const std::string& mode, const std::string& name) {
  if (mode == "use") std::cout << "STARTING" << std::endl;
  glint::Config c;
  c.namespace_ = kNamespace;
  glint::Init(c);
  if (mode == "make") {
    try {
      auto box = glint::Actor(Box::Create).SetName(name).SetLifetime(glint::Lifetime::kDetached).Remote(5);
      std::cout << "MADE " << box.Task(&Box::Pid).Remote().Get(std::chrono::seconds(60)) << std::endl;
    } catch (const glint::Error& e) {
      std::cout << "ERROR: " << e.what() << std::endl;
    }
  } else if (mode == "use") {
    auto box = glint::GetActor<Box>(name, kNamespace);
    std::cout << (box ? std::to_string(box->Task(&Box::Add).Remote(1).Get(std::chrono::seconds(60))) : "NOT FOUND")
              << std::endl;
  } else if (mode == "hold") {
    auto owned = glint::Actor(Box::Create).Remote(0);
    auto kept = glint::Actor(Box::Create).SetName("held").SetLifetime(glint::Lifetime::kDetached).Remote(0);
    std::cout << "HOLDING " << owned.Task(&Box::Pid).Remote().Get(std::chrono::seconds(60)) << " "
              << kept.Task(&Box::Pid).Remote().Get(std::chrono::seconds(60)) << std::endl;
    std::string never;
    std::getline(std::cin, never);  // until killed (stdin stays open)
  }
  glint::Shutdown();
  return 0;
}

int main(int argc, char** argv) {
  if (std::getenv("GLINT_WORKER_MODE")) glint::Init();
  if (argc >= 3 && std::string(argv[1]) == "driver") return RunDriver(argv[2], argc > 3 ? argv[3] : "");
  glint::testing::SetDriverProgram(glint::SelfExePath());
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
