// Placement groups through real processes, on three raylets (the head and
// nodes "a" and "b", two CPUs each): each strategy's placement, checked by
// where the actors in the bundles run; work in a bundle takes from the
// bundle; two groups racing for the same CPUs; removal killing the group's
// actors and freeing its resources; a node holding many bundles that keeps
// reporting its resources; clear errors; work that waits for its
// group to be placed, or fails once it is removed; a detached group that
// outlives its driver while a non-detached one goes with it (this program
// is also that driver: `placement_group_integration_test driver`); a group
// that waits for a node to join (last: it adds a node).
#include <glint/api.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <future>
#include <set>
#include <string>
#include <vector>

#include "common/process.h"
#include "integration/test_functions.h"
#include "testing/driver_process.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;
using glint::testing::Contains;
using glint::testing::ErrorOf;
using glint::testing::WaitUntil;
using tf::Box;
using tf::WaitForFile;
using tf::WriteFile;

// Writes DIR/started, then waits (at most 60 s) for DIR/never.
int StartThenBlock(std::string dir) {
  WriteFile(dir + "/started", "");
  return WaitForFile(dir + "/never");
}

std::string TaskRaylet() { return getenv("GLINT_RAYLET_ADDRESS"); }
// Where a task it submits (naming no group) runs.
std::string ChildRaylet() { return glint::Task(TaskRaylet).Remote().Get(std::chrono::seconds(60)); }

GLINT_REMOTE(Box::Create, &Box::Raylet, &Box::Pid, &Box::Add, TaskRaylet, ChildRaylet, StartThenBlock);

using Bundles = std::vector<std::map<std::string, double>>;

class PlacementGroupTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() {
    StartSuite(2, "", "pg-tests");
    node_a_ = cluster_->AddNode(2, R"({"a": 4})");
    node_b_ = cluster_->AddNode(2, R"({"b": 4})");
  }
  static glint::PlacementGroup Create(Bundles bundles, glint::PlacementStrategy s, std::string name = "") {
    glint::PlacementGroupOptions o;
    o.name = std::move(name);
    o.bundles = std::move(bundles);
    o.strategy = s;
    return glint::CreatePlacementGroup(o);
  }
  // Where an actor in each bundle runs (its raylet's address).
  static std::vector<std::string> WhereBundlesRun(const glint::PlacementGroup& pg) {
    std::vector<std::string> out;
    for (int i = 0; i < static_cast<int>(pg.Bundles().size()); ++i) {
      auto a = glint::Actor(Box::Create).SetPlacementGroup(pg, i).Remote(0);
      out.push_back(a.Task(&Box::Raylet).Remote().Get(std::chrono::seconds(60)));
    }
    return out;
  }
  static inline std::string node_a_, node_b_;
};

TEST_F(PlacementGroupTest, StrictSpreadPutsEachBundleOnItsOwnNode) {
  auto pg = Create({{{"CPU", 1}}, {{"CPU", 1}}, {{"CPU", 1}}}, glint::PlacementStrategy::kStrictSpread);
  ASSERT_TRUE(pg.Wait(std::chrono::seconds(30)));
  auto where = WhereBundlesRun(pg);
  EXPECT_EQ(std::set<std::string>(where.begin(), where.end()).size(), 3u) << "three bundles, three nodes";
  glint::RemovePlacementGroup(pg);
}

TEST_F(PlacementGroupTest, StrictPackAndPackPutAllBundlesOnOneNode) {
  auto strict = Create({{{"CPU", 1}}, {{"CPU", 1}, {"a", 1}}}, glint::PlacementStrategy::kStrictPack);
  ASSERT_TRUE(strict.Wait(std::chrono::seconds(30)));
  EXPECT_EQ(WhereBundlesRun(strict), (std::vector<std::string>{node_a_, node_a_})) << "the only node with 'a'";
  glint::RemovePlacementGroup(strict);
  auto pack = Create({{{"CPU", 1}}, {{"CPU", 1}}}, glint::PlacementStrategy::kPack);
  ASSERT_TRUE(pack.Wait(std::chrono::seconds(30)));
  auto where = WhereBundlesRun(pack);
  EXPECT_EQ(where[0], where[1]) << "both fit on one node, so they share it";
  glint::RemovePlacementGroup(pack);
}

TEST_F(PlacementGroupTest, SpreadUsesDifferentNodes) {
  auto pg = Create({{{"CPU", 1}}, {{"CPU", 1}}}, glint::PlacementStrategy::kSpread);
  ASSERT_TRUE(pg.Wait(std::chrono::seconds(30)));
  auto where = WhereBundlesRun(pg);
  EXPECT_NE(where[0], where[1]);
  glint::RemovePlacementGroup(pg);
}

TEST_F(PlacementGroupTest, WorkInABundleRunsOnItsNodeFromItsResources) {
  auto pg = Create({{{"CPU", 1}, {"b", 1}}}, glint::PlacementStrategy::kStrictPack);
  ASSERT_TRUE(pg.Wait(std::chrono::seconds(30)));
  EXPECT_EQ(glint::Task(TaskRaylet).SetPlacementGroup(pg, 0).Remote().Get(std::chrono::seconds(60)), node_b_);
  EXPECT_EQ(glint::Task(TaskRaylet).SetPlacementGroup(pg).Remote().Get(std::chrono::seconds(60)), node_b_)
      << "any bundle (-1)";
  // The bundle holds one CPU: while an actor holds it, a task in the bundle
  // waits although node b has another CPU free.
  auto holder = glint::Actor(Box::Create).SetResources({{"CPU", 1}}).SetPlacementGroup(pg, 0).Remote(0);
  EXPECT_EQ(holder.Task(&Box::Raylet).Remote().Get(std::chrono::seconds(60)), node_b_);
  auto waiting = glint::Task(TaskRaylet).SetPlacementGroup(pg, 0).Remote();
  EXPECT_THROW(waiting.Get(std::chrono::milliseconds(1500)), glint::GetTimeoutError) << "the bundle's CPU is taken";
  EXPECT_EQ(glint::Task(TaskRaylet).SetResources({{"b", 1}}).Remote().Get(std::chrono::seconds(60)), node_b_)
      << "the node's own free CPU still serves work outside the group";
  glint::Kill(holder);
  EXPECT_EQ(waiting.Get(std::chrono::seconds(60)), node_b_) << "runs once the bundle's CPU is free";
  glint::RemovePlacementGroup(pg);
}

TEST_F(PlacementGroupTest, BadRequestsAreClearErrors) {
  EXPECT_PRED2(Contains, ErrorOf([&] { Create({}, glint::PlacementStrategy::kPack); }), "at least one bundle");
  EXPECT_PRED2(Contains, ErrorOf([&] { Create({{}}, glint::PlacementStrategy::kPack); }), "reserves nothing");
  EXPECT_PRED2(Contains, ErrorOf([&] { Create({{{"CPU", -1}}}, glint::PlacementStrategy::kPack); }), "positive");
  auto pg = Create({{{"CPU", 1}}}, glint::PlacementStrategy::kPack, "named");
  EXPECT_PRED2(Contains, ErrorOf([&] { Create({{{"CPU", 1}}}, glint::PlacementStrategy::kPack, "named"); }),
               "already taken");
  EXPECT_PRED2(Contains, ErrorOf([&] { glint::Task(TaskRaylet).SetPlacementGroup(pg, 1).Remote(); }),
               "out of range");
  EXPECT_PRED2(Contains, ErrorOf([&] { glint::Task(TaskRaylet).SetResources({{"CPU", 2}}).SetPlacementGroup(pg, 0).Remote(); }),
               "larger than bundle 0");
  EXPECT_PRED2(Contains, ErrorOf([&] { glint::Actor(Box::Create).SetResources({{"GPU", 1}}).SetPlacementGroup(pg).Remote(0); }),
               "larger than every bundle");
  auto found = glint::GetPlacementGroup("named");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->ID(), pg.ID());
  EXPECT_EQ(found->Bundles(), pg.Bundles());
  EXPECT_FALSE(glint::GetPlacementGroup("nobody"));
  glint::RemovePlacementGroup(pg);
  EXPECT_FALSE(glint::GetPlacementGroup("named")) << "the name is free again";
  EXPECT_PRED2(Contains, ErrorOf([&] { glint::RemovePlacementGroup(pg); }), "no such placement group");
}

TEST_F(PlacementGroupTest, RemovalKillsTheGroupsActorsAndFreesItsResources) {
  auto pg = Create({{{"CPU", 1}, {"a", 1}}}, glint::PlacementStrategy::kStrictPack);
  ASSERT_TRUE(pg.Wait(std::chrono::seconds(30)));
  auto actor = glint::Actor(Box::Create).SetPlacementGroup(pg, 0).Remote(0);
  int pid = actor.Task(&Box::Pid).Remote().Get(std::chrono::seconds(60));
  glint::RemovePlacementGroup(pg);
  try {
    actor.Task(&Box::Add).Remote(1).Get(std::chrono::seconds(60));
    FAIL() << "expected ActorDiedError";
  } catch (const glint::ActorDiedError& e) {
    EXPECT_NE(std::string(e.what()).find("placement group"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(WaitUntil([&] { return !glint::ProcessAlive(pid) || glint::IsZombie(pid); }));
  // All of node a's 'a' is free again: a group needing all of it is placed.
  auto all = Create({{{"a", 4}}}, glint::PlacementStrategy::kStrictPack);
  EXPECT_TRUE(all.Wait(std::chrono::seconds(30)));
  glint::RemovePlacementGroup(all);
}

TEST_F(PlacementGroupTest, OfTwoGroupsRacingForTheSameCpusOnlyOneIsPlaced) {
  // Each needs two CPUs on each of the three nodes: all of the cluster's.
  Bundles every_cpu = {{{"CPU", 2}}, {{"CPU", 2}}, {{"CPU", 2}}};
  auto first = Create(every_cpu, glint::PlacementStrategy::kStrictSpread);
  auto second = Create(every_cpu, glint::PlacementStrategy::kStrictSpread);
  bool placed_first = first.Wait(std::chrono::seconds(30));
  bool placed_second = second.Wait(std::chrono::milliseconds(placed_first ? 1500 : 30000));
  ASSERT_NE(placed_first, placed_second) << "exactly one of them holds the CPUs";
  auto& winner = placed_first ? first : second;
  auto& loser = placed_first ? second : first;
  EXPECT_FALSE(loser.Wait(std::chrono::milliseconds(500)));
  glint::RemovePlacementGroup(winner);
  EXPECT_TRUE(loser.Wait(std::chrono::seconds(30))) << "placed once the other's CPUs are back";
  glint::RemovePlacementGroup(loser);
}

// Threads of one driver making and removing groups at once: their bundle
// steps for node a reach the GCS while its calls to that raylet are in
// flight, and go to it several to a call (gcs/bundle_calls.h). Every group
// is placed, and every bundle goes back.
TEST_F(PlacementGroupTest, GroupsMadeAndRemovedByManyThreadsAtOnceAllPlaceAndAllReturn) {
  constexpr int kThreads = 8, kEach = 20;  // 160 x 0.02 = 3.2 of node a's 4
  auto work = [] {
    std::vector<glint::PlacementGroup> groups;
    for (int i = 0; i < kEach; ++i) groups.push_back(Create({{{"a", 0.02}}}, glint::PlacementStrategy::kPack));
    int placed = 0;
    for (auto& g : groups) placed += g.Wait(std::chrono::seconds(30));
    for (auto& g : groups) glint::RemovePlacementGroup(g);
    return placed;
  };
  std::vector<std::future<int>> threads;
  for (int t = 0; t < kThreads; ++t) threads.push_back(std::async(std::launch::async, work));
  for (auto& t : threads) EXPECT_EQ(t.get(), kEach);
  auto all = Create({{{"a", 4}}}, glint::PlacementStrategy::kStrictPack);
  EXPECT_TRUE(all.Wait(std::chrono::seconds(30))) << "all of node a's 'a' is back";
  glint::RemovePlacementGroup(all);
}

// Each bundle adds four resource names to its node, and the node reports all
// of them in every heartbeat: 40 groups there are 160 names, past the 64 a
// request may name of its own. The GCS takes them (they once made it refuse
// every heartbeat, and declare the node dead 4 s later).
TEST_F(PlacementGroupTest, ANodeHoldingManyBundlesKeepsReportingItsResources) {
  std::vector<glint::PlacementGroup> groups;
  for (int i = 0; i < 40; ++i) groups.push_back(Create({{{"a", 0.01}}}, glint::PlacementStrategy::kPack));
  for (auto& g : groups) ASSERT_TRUE(g.Wait(std::chrono::seconds(30)));
  // A task taking one 'a' outside the groups: only node a's heartbeats can
  // tell the GCS (4 - 40 x 0.01 - 1 left).
  std::string dir = glint::testing::TempDir();
  auto running = glint::Task(StartThenBlock).SetResources({{"a", 1}}).Remote(dir);
  ASSERT_TRUE(WaitUntil([&] { return access((dir + "/started").c_str(), F_OK) == 0; })) << "the task runs";
  nlohmann::json node_a;
  EXPECT_TRUE(WaitUntil([&] {
    for (const auto& n : CliJson("list nodes")) {
      if (n["total_resources"].contains("a")) node_a = n;
    }
    return node_a["available_resources"].value("a", 0.0) > 2.59 && node_a["available_resources"].value("a", 0.0) < 2.61;
  }, std::chrono::seconds(10))) << node_a.dump();
  EXPECT_TRUE(node_a.value("alive", false)) << node_a.dump();
  EXPECT_GT(node_a["available_resources"].size(), 160u) << "the bundles' names are in the node's view";
  WriteFile(dir + "/never", "");
  EXPECT_EQ(running.Get(std::chrono::seconds(60)), 1);
  for (auto& g : groups) glint::RemovePlacementGroup(g);
}

TEST_F(PlacementGroupTest, WorkInAGroupNotPlacedYetWaitsForIt) {
  auto all_of_a = Create({{{"a", 4}}}, glint::PlacementStrategy::kStrictPack);
  ASSERT_TRUE(all_of_a.Wait(std::chrono::seconds(30)));
  auto later = Create({{{"CPU", 1}, {"a", 1}}}, glint::PlacementStrategy::kStrictPack);
  ASSERT_FALSE(later.Wait(std::chrono::milliseconds(300))) << "node a's 'a' is all taken";
  // Submitted before the group is placed: both wait for it (as in Ray),
  // instead of failing for want of a node with the bundle's resources.
  auto task = glint::Task(TaskRaylet).SetPlacementGroup(later, 0).Remote();
  auto actor = glint::Actor(Box::Create).SetPlacementGroup(later, 0).Remote(0);
  auto actor_raylet = actor.Task(&Box::Raylet).Remote();
  glint::RemovePlacementGroup(all_of_a);
  ASSERT_TRUE(later.Wait(std::chrono::seconds(30)));
  EXPECT_EQ(task.Get(std::chrono::seconds(60)), node_a_);
  EXPECT_EQ(actor_raylet.Get(std::chrono::seconds(60)), node_a_);
  glint::RemovePlacementGroup(later);
}

TEST_F(PlacementGroupTest, RemovalFailsTheGroupsTasksAndLaterWorkInIt) {
  auto pg = Create({{{"CPU", 1}, {"b", 1}}}, glint::PlacementStrategy::kStrictPack);
  ASSERT_TRUE(pg.Wait(std::chrono::seconds(30)));
  std::string dir = glint::testing::TempDir();
  auto running = glint::Task(StartThenBlock).SetPlacementGroup(pg, 0).Remote(dir);
  ASSERT_TRUE(WaitUntil([&] { return access((dir + "/started").c_str(), F_OK) == 0; })) << "the task runs";
  glint::RemovePlacementGroup(pg);
  EXPECT_PRED2(Contains, ErrorOf([&] { running.Get(std::chrono::seconds(60)); }), "was removed")
      << "the running task fails (its worker is killed and a retry finds the group gone)";
  EXPECT_PRED2(Contains,
               ErrorOf([&] { glint::Task(TaskRaylet).SetPlacementGroup(pg, 0).Remote().Get(std::chrono::seconds(60)); }),
               "was removed");
  auto actor = glint::Actor(Box::Create).SetPlacementGroup(pg, 0).Remote(0);
  try {
    actor.Task(&Box::Add).Remote(1).Get(std::chrono::seconds(60));
    FAIL() << "expected ActorDiedError";
  } catch (const glint::ActorDiedError& e) {
    EXPECT_PRED2(Contains, std::string(e.what()), "was removed");
  }
  WriteFile(dir + "/never", "");  // in case the task still ran
}

TEST_F(PlacementGroupTest, ADetachedGroupOutlivesItsDriverAndANonDetachedOneGoesWithIt) {
  // The other driver makes both (all of node a's 'a', all of node b's 'b'),
  // waits until they are placed and ends.
  ASSERT_EQ(glint::testing::RunToEnd(cluster_->gcs_address(), {"groups"}), "PLACED");
  EXPECT_TRUE(WaitUntil([] { return !glint::GetPlacementGroup("owned", "pg-drivers"); }))
      << "the non-detached group went with its job";
  auto kept = glint::GetPlacementGroup("kept", "pg-drivers");
  ASSERT_TRUE(kept.has_value()) << "the detached group is found by name";
  EXPECT_TRUE(kept->Wait(std::chrono::seconds(1))) << "and is still placed";
  auto on_a = Create({{{"a", 4}}}, glint::PlacementStrategy::kStrictPack);
  EXPECT_TRUE(on_a.Wait(std::chrono::seconds(30))) << "the gone group's resources are free";
  glint::RemovePlacementGroup(on_a);
  EXPECT_EQ(glint::Actor(Box::Create).SetPlacementGroup(*kept, 0).Remote(0).Task(&Box::Raylet).Remote().Get(
                std::chrono::seconds(60)),
            node_b_)
      << "work runs in the detached group";
  glint::RemovePlacementGroup(*kept);
  auto on_b = Create({{{"b", 4}}}, glint::PlacementStrategy::kStrictPack);
  EXPECT_TRUE(on_b.Wait(std::chrono::seconds(30))) << "removed by another driver, its resources are free";
  glint::RemovePlacementGroup(on_b);
}

// Near the end: removing the group kills the parents' workers, and a lease
// such a worker held for its child task is not given back (a known gap:
// raylets do not yet notice that a lessee died), which would starve the
// racing test of a CPU.
TEST_F(PlacementGroupTest, YCapturedChildTasksRunInTheGroup) {
  auto pg = Create({{{"CPU", 1}, {"a", 1}}, {{"CPU", 1}, {"b", 1}}}, glint::PlacementStrategy::kStrictSpread);
  ASSERT_TRUE(pg.Wait(std::chrono::seconds(30)));
  // The parent holds bundle 0's CPU on node a: a captured child takes the
  // group's other free CPU, in bundle 1 on node b.
  EXPECT_EQ(glint::Task(ChildRaylet).SetPlacementGroup(pg, 0, /*capture_child_tasks=*/true).Remote().Get(
                std::chrono::seconds(60)),
            node_b_);
  EXPECT_EQ(glint::Task(ChildRaylet).SetPlacementGroup(pg, 0).Remote().Get(std::chrono::seconds(60)), node_a_)
      << "not captured: the child takes a CPU of the parent's node, outside the group";
  glint::RemovePlacementGroup(pg);
}

// Last: it adds a node to the cluster.
TEST_F(PlacementGroupTest, ZStrictSpreadWithMoreBundlesThanNodesWaitsForANodeToJoin) {
  auto pg = Create({{{"CPU", 1}}, {{"CPU", 1}}, {{"CPU", 1}}, {{"CPU", 1}}}, glint::PlacementStrategy::kStrictSpread);
  EXPECT_FALSE(pg.Wait(std::chrono::milliseconds(1000))) << "three nodes, four bundles";
  int status = 0;
  std::string address = " --address " + cluster_->gcs_address();
  std::string cli = std::string(GLINT_CLI_PATH);
  std::string shown = glint::testing::RunCommand(cli + " status" + address + " 2>&1", &status);
  EXPECT_NE(shown.find("PENDING"), std::string::npos) << shown;
  EXPECT_NE(shown.find("STRICT_SPREAD needs 4 nodes"), std::string::npos) << "and why:\n" << shown;
  std::string node_c = cluster_->AddNode(1);
  ASSERT_TRUE(pg.Wait(std::chrono::seconds(30))) << "placed once a fourth node joined";
  auto where = WhereBundlesRun(pg);
  EXPECT_EQ(std::set<std::string>(where.begin(), where.end()).size(), 4u);
  EXPECT_NE(std::find(where.begin(), where.end(), node_c), where.end());
  shown = glint::testing::RunCommand(cli + " list placement-groups" + address + " 2>&1", &status);
  EXPECT_NE(shown.find("CREATED"), std::string::npos) << shown;
  EXPECT_NE(shown.find("bundle 3: {CPU: 1} on node"), std::string::npos) << shown;
  glint::RemovePlacementGroup(pg);
}

// A node holding a bundle dies: the group is RESCHEDULING, keeps its other
// bundles where they are, and is CREATED again once a node that fits the
// lost bundle joins; the bundle's actor restarts there.
class PlacementGroupNodeLossTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() {
    StartSuite(2, "", "pg-loss");
    node_a_ = cluster_->AddNode(2, R"({"a": 1})");
  }
  static inline std::string node_a_;
};

TEST_F(PlacementGroupNodeLossTest, TheBundlesOfADeadNodeArePlacedAgainAndTheirActorsRestart) {
  glint::PlacementGroupOptions o;
  o.bundles = {{{"CPU", 1}, {"a", 1}}, {{"CPU", 1}}};
  o.strategy = glint::PlacementStrategy::kStrictSpread;
  auto pg = glint::CreatePlacementGroup(o);
  ASSERT_TRUE(pg.Wait(std::chrono::seconds(30)));
  auto on_a = glint::Actor(Box::Create).SetMaxRestarts(1).SetPlacementGroup(pg, 0).Remote(0);
  auto kept = glint::Actor(Box::Create).SetPlacementGroup(pg, 1).Remote(0);
  ASSERT_EQ(on_a.Task(&Box::Raylet).Remote().Get(std::chrono::seconds(60)), node_a_);
  std::string head = kept.Task(&Box::Raylet).Remote().Get(std::chrono::seconds(60));
  cluster_->KillNode(node_a_);
  int status = 0;
  std::string cli = std::string(GLINT_CLI_PATH) + " list placement-groups --address " + cluster_->gcs_address() + " 2>&1";
  EXPECT_TRUE(WaitUntil([&] { return glint::testing::RunCommand(cli, &status).find("RESCHEDULING") != std::string::npos; }))
      << glint::testing::RunCommand(cli, &status);
  std::string node_a2 = cluster_->AddNode(2, R"({"a": 1})");
  ASSERT_TRUE(pg.Wait(std::chrono::seconds(60))) << glint::testing::RunCommand(cli, &status);
  EXPECT_EQ(on_a.Task(&Box::Raylet).Remote().Get(std::chrono::seconds(60)), node_a2) << "restarted in its bundle";
  EXPECT_EQ(kept.Task(&Box::Raylet).Remote().Get(std::chrono::seconds(60)), head) << "the other bundle stayed";
  glint::RemovePlacementGroup(pg);
}

}  // namespace

// `placement_group_integration_test driver groups`: the other driver.
int main(int argc, char** argv) {
  if (std::getenv("GLINT_WORKER_MODE")) glint::Init();
  if (argc == 3 && std::string(argv[1]) == "driver" && std::string(argv[2]) == "groups") {
    glint::Init();
    glint::PlacementGroupOptions kept;
    kept.name = "kept";
    kept.namespace_ = "pg-drivers";
    kept.bundles = {{{"CPU", 1}, {"b", 4}}};
    kept.lifetime = glint::Lifetime::kDetached;
    glint::PlacementGroupOptions owned = kept;
    owned.name = "owned";
    owned.bundles = {{{"a", 4}}};
    owned.lifetime = glint::Lifetime::kNonDetached;
    bool placed = glint::CreatePlacementGroup(kept).Wait(std::chrono::seconds(30)) &&
                  glint::CreatePlacementGroup(owned).Wait(std::chrono::seconds(30));
    std::cout << (placed ? "PLACED" : "NOT PLACED") << std::endl;
    glint::Shutdown();
    return 0;
  }
  glint::testing::SetDriverProgram(glint::SelfExePath());
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
