// Named and detached actors, namespaces and the actor lifecycle across
// drivers. This program is both the test and the drivers it starts: run as
// `lifecycle_integration_test driver CMD ...` it is a driver (see RunDriver).
#include <glint/api.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <optional>

#include "common/launcher.h"
#include "common/process.h"
#include "testing/driver_process.h"
#include "testing/test_cluster.h"
#include "integration/test_functions.h"

namespace {

using glint::testing::FileExists;
using glint::testing::TempDir;
using glint::testing::ClusterTest;
using glint::testing::Driver;
using glint::testing::RunToEnd;
using glint::testing::StartDriver;
using glint::testing::Touch;
using glint::testing::RunCli;
using glint::testing::WaitUntil;

using tf::Box;

int Doubled(int v) { return 2 * v; }
int WorkerPid() { return getpid(); }

// A detached actor that goes on making work after its job has ended: tasks,
// and an actor of its own that is not detached (named, so a test finds it).
class Root {
 public:
  static Root* Create() { return new Root; }
  int Twice(int v) { return glint::Task(Doubled).Remote(v).Get(); }
  // Makes its actor (a new one each time: the one before goes out of scope).
  int Adopt(std::string name, std::string ns) {
    child_ = glint::Actor(Box::Create).SetName(name).SetNamespace(ns).Remote(10);
    return child_->Task(&Box::Add).Remote(1).Get();
  }
  int ChildAdd(int v) { return child_->Task(&Box::Add).Remote(v).Get(); }
  // Makes a placement group of its own and runs a task in it.
  int Reserve(std::string name, std::string ns, int v) {
    auto pg = glint::CreatePlacementGroup({.name = name, .namespace_ = ns, .bundles = {{{"CPU", 1}}}});
    return glint::Task(Doubled).SetPlacementGroup(pg, 0).Remote(v).Get();
  }
  // Runs a task in the group named so (0: there is none).
  int UseGroup(std::string name, std::string ns, int v) {
    auto pg = glint::GetPlacementGroup(name, ns);
    return pg ? glint::Task(Doubled).SetPlacementGroup(*pg, 0).Remote(v).Get() : 0;
  }

 private:
  std::optional<glint::ActorHandle<Box>> child_;
};

GLINT_REMOTE(Box::Create, &Box::Add, &Box::Pid, &Box::Restarted, &Box::Block, &Box::Quit, &Box::Raylet, Doubled,
             WorkerPid, Root::Create, &Root::Twice, &Root::Adopt, &Root::ChildAdd, &Root::Reserve, &Root::UseGroup);

// ---- the driver side -------------------------------------------------------

// driver create NAME NS DETACHED(0|1) MAX_RESTARTS END(shutdown|return|block) [RESOURCE]
// driver call NAME NS VALUE
// driver spawn NAME NS        (detached actors NAME-0..3, and the driver ends at once)
// driver root NAME NS         (a detached Root NAME with its actor NAME-child and its
//                              placement group NAME-pg, and the driver's own actor
//                              NAME-plain, task worker and placement group NAME-own-pg)
// driver getifexists NAME NS
// driver where NAME NS
// NS "-" means the job's own namespace.
int RunDriver(int argc, char** argv) {
  glint::Init();
  std::string cmd = argv[2], name = argv[3], ns = std::string(argv[4]) == "-" ? "" : argv[4];
  if (cmd == "create") {
    auto c = glint::Actor(Box::Create).SetName(name).SetNamespace(ns).SetMaxRestarts(std::stoi(argv[6]));
    if (std::string(argv[5]) == "1") c.SetLifetime(glint::Lifetime::kDetached);
    if (argc > 8) c.SetResources({{argv[8], 1}});
    auto box = c.Remote(0);
    std::cout << "READY " << box.Task(&Box::Add).Remote(1).Get() << " "
              << box.Task(&Box::Pid).Remote().Get() << std::endl;
    std::string end = argv[7];
    if (end == "return") return 0;  // no Shutdown: the process just ends
    if (end == "block") {
      std::string line;
      std::getline(std::cin, line);  // until killed
    }
    glint::Shutdown();
    return 0;
  }
  if (cmd == "spawn") {  // no call: the driver is gone before the actor has started
    for (int i = 0; i < 4; ++i) {
      glint::Actor(Box::Create).SetName(name + "-" + std::to_string(i)).SetNamespace(ns)
          .SetLifetime(glint::Lifetime::kDetached).Remote(7);
    }
    glint::Shutdown();
    return 0;
  }
  if (cmd == "root") {
    auto root = glint::Actor(Root::Create).SetName(name).SetNamespace(ns)
                    .SetLifetime(glint::Lifetime::kDetached).Remote();
    auto plain = glint::Actor(Box::Create).SetName(name + "-plain").SetNamespace(ns).Remote(0);
    std::cout << "READY " << root.Task(&Root::Twice).Remote(2).Get() << " "
              << root.Task(&Root::Adopt).Remote(name + "-child", ns).Get() << " "
              << root.Task(&Root::Reserve).Remote(name + "-pg", ns, 3).Get() << " "
              << Root().Reserve(name + "-own-pg", ns, 4) << " "
              << plain.Task(&Box::Add).Remote(1).Get() << " " << glint::Task(WorkerPid).Remote().Get() << std::endl;
    glint::Shutdown();
    return 0;
  }
  auto box = glint::GetActor<Box>(name, ns);
  if (!box) {
    std::cout << "NONE" << std::endl;
    glint::Shutdown();
    return 0;
  }
  if (cmd == "call") {
    std::cout << "VALUE " << box->Task(&Box::Add).Remote(std::stoi(argv[5])).Get() << std::endl;
  } else if (cmd == "where") {
    std::cout << "AT " << box->Task(&Box::Raylet).Remote().Get() << std::endl;
  }
  glint::Shutdown();
  return 0;
}

// ---- the test side ---------------------------------------------------------

class LifecycleTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() {
    StartSuite(2, R"({"head_only": 100})", "tests");
    node2_ = cluster_->AddNode(1, R"({"special": 100})");
  }
  void SetUp() override { dir_ = TempDir(); }
  static std::string Gcs() { return cluster_->gcs_address(); }
  static bool NameIsFree(const std::string& name, const std::string& ns) {
    return WaitUntil([&] { return !glint::GetActor<Box>(name, ns).has_value(); });
  }
  static std::string node2_;
  std::string dir_;
};
std::string LifecycleTest::node2_;

TEST_F(LifecycleTest, DetachedActorOutlivesItsDriverAndIsFoundByName) {
  EXPECT_EQ(RunToEnd(Gcs(), {"create", "keeper", "app", "1", "0", "shutdown"}).substr(0, 7), "READY 1");
  auto box = glint::GetActor<Box>("keeper", "app");
  ASSERT_TRUE(box.has_value());
  // A deadline, so a call that never returns fails here instead of hanging the test.
  EXPECT_EQ(box->Task(&Box::Add).Remote(5).Get(std::chrono::seconds(60)), 6) << "state from driver 1 is still there";
  EXPECT_EQ(RunToEnd(Gcs(), {"call", "keeper", "app", "10"}), "VALUE 16");
  glint::Kill(*box);
  EXPECT_TRUE(NameIsFree("keeper", "app"));
}

TEST_F(LifecycleTest, DetachedActorStillStartingWhenItsDriverEndsStarts) {
  // Several at once: the later ones wait on the raylet for a start-up slot
  // or for the job's fork server when the job ends.
  for (int round = 0; round < 2; ++round) {
    std::string prefix = "early-" + std::to_string(round);
    EXPECT_EQ(RunToEnd(Gcs(), {"spawn", prefix, "app"}), "");
    for (int i = 0; i < 4; ++i) {
      std::string name = prefix + "-" + std::to_string(i);
      auto box = glint::GetActor<Box>(name, "app");
      ASSERT_TRUE(box.has_value()) << name;
      EXPECT_EQ(box->Task(&Box::Add).Remote(1).Get(std::chrono::seconds(60)), 8) << name << ": its constructor's state";
      EXPECT_FALSE(box->Task(&Box::Restarted).Remote().Get(std::chrono::seconds(60))) << name << ": started once";
      glint::Kill(*box);
      EXPECT_TRUE(NameIsFree(name, "app"));
    }
  }
}

TEST_F(LifecycleTest, DetachedActorGoesOnMakingWorkAfterItsJobEnds) {
  std::string ready = RunToEnd(Gcs(), {"root", "elder", "app"});
  ASSERT_EQ(ready.substr(0, 17), "READY 4 11 6 8 1 ") << ready;
  const int task_worker = std::stoi(ready.substr(17));
  // The job has ended everywhere: its driver's own actor and placement group
  // are gone, and its raylet has killed the task worker the driver leased.
  EXPECT_TRUE(NameIsFree("elder-plain", "app"));
  EXPECT_TRUE(WaitUntil([] { return !glint::GetPlacementGroup("elder-own-pg", "app"); }));
  ASSERT_TRUE(WaitUntil([&] { return !glint::ProcessAlive(task_worker); })) << "the job's task worker lives on";
  auto root = glint::GetActor<Root>("elder", "app");
  ASSERT_TRUE(root.has_value());
  // What the detached actor made before lives on...
  EXPECT_EQ(root->Task(&Root::ChildAdd).Remote(1).Get(std::chrono::seconds(60)), 12) << "its actor, made in the job";
  EXPECT_EQ(root->Task(&Root::Twice).Remote(21).Get(std::chrono::seconds(60)), 42) << "a task, after the job";
  EXPECT_EQ(root->Task(&Root::UseGroup).Remote("elder-pg", "app", 5).Get(std::chrono::seconds(60)), 10)
      << "its placement group, made in the job";
  EXPECT_EQ(root->Task(&Root::Reserve).Remote("elder-pg2", "app", 6).Get(std::chrono::seconds(60)), 12)
      << "a placement group, after the job";
  // ...and it makes new work: tasks (above) and actors, whose own calls and
  // tasks carry on from there.
  EXPECT_EQ(root->Task(&Root::Adopt).Remote("elder-child2", "app").Get(std::chrono::seconds(60)), 11);
  EXPECT_TRUE(NameIsFree("elder-child", "app")) << "its first actor went out of scope when it made the second";
  auto child = glint::GetActor<Box>("elder-child2", "app");
  ASSERT_TRUE(child.has_value());
  EXPECT_EQ(child->Task(&Box::Add).Remote(5).Get(std::chrono::seconds(60)), 16);
  EXPECT_EQ(root->Task(&Root::Twice).Remote(50).Get(std::chrono::seconds(60)), 100) << "a task, once more";
  // When the root dies, what it made dies with it (its job is over).
  glint::Kill(*root);
  EXPECT_TRUE(NameIsFree("elder", "app"));
  EXPECT_TRUE(NameIsFree("elder-child2", "app")) << "the dead root's actor lives on";
  for (auto* pg : {"elder-pg", "elder-pg2"}) {
    EXPECT_TRUE(WaitUntil([&] { return !glint::GetPlacementGroup(pg, "app"); })) << pg << " outlives its root";
  }
}

TEST_F(LifecycleTest, DetachedActorRestartsAfterItsDriverIsGone) {
  std::string ready = RunToEnd(Gcs(), {"create", "phoenix", "app", "1", "1", "shutdown"});
  ASSERT_EQ(ready.substr(0, 7), "READY 1");
  int pid = std::stoi(ready.substr(ready.rfind(' ') + 1));
  auto box = glint::GetActor<Box>("phoenix", "app");
  ASSERT_TRUE(box.has_value());
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  // Its job is over, yet the restart gets a worker and runs the constructor again.
  ASSERT_TRUE(WaitUntil([&] {
    try {
      return box->Task(&Box::Restarted).Remote().Get(std::chrono::seconds(30));
    } catch (const glint::ActorDiedError&) {
      return false;  // a call caught in the crash window
    }
  }));
  EXPECT_EQ(box->Task(&Box::Add).Remote(2).Get(), 2) << "fresh state from the constructor";
  glint::Kill(*box);
  EXPECT_TRUE(NameIsFree("phoenix", "app"));
}

TEST_F(LifecycleTest, NonDetachedActorDiesWithItsDriverHoweverItEnds) {
  for (std::string end : {"shutdown", "return", "kill"}) {
    SCOPED_TRACE(end);
    std::string name = "owned-" + end;
    Driver d = StartDriver(Gcs(), {"create", name, "app", "0", "0", end == "kill" ? "block" : end});
    ASSERT_EQ(d.Line().substr(0, 7), "READY 1");
    auto box = glint::GetActor<Box>(name, "app");
    if (end == "kill") {
      ASSERT_TRUE(box.has_value()) << "alive while its driver runs";
      kill(d.pid, SIGKILL);
    }
    d.Wait();
    EXPECT_TRUE(NameIsFree(name, "app")) << "the name is freed when the actor dies";
    if (box) {
      // The GCS buries it first, then its raylet kills the process: a call
      // made in between may still be answered, later ones fail.
      EXPECT_TRUE(WaitUntil([&] {
        try {
          box->Task(&Box::Add).Remote(1).Get(std::chrono::seconds(30));
          return false;
        } catch (const glint::ActorDiedError&) {
          return true;
        }
      }));
    }
  }
}

TEST_F(LifecycleTest, NamespacesIsolateNames) {
  RunToEnd(Gcs(), {"create", "shared", "ns-a", "1", "0", "shutdown"});
  EXPECT_FALSE(glint::GetActor<Box>("shared").has_value()) << "not in this job's namespace";
  EXPECT_TRUE(glint::GetActor<Box>("shared", "ns-a").has_value());
  auto b = glint::Actor(Box::Create).SetName("shared").SetNamespace("ns-b").Remote(0);
  EXPECT_EQ(b.Task(&Box::Add).Remote(2).Get(), 2);
  try {
    glint::Actor(Box::Create).SetName("shared").SetNamespace("ns-a").Remote(0);
    FAIL() << "a taken name must be refused";
  } catch (const glint::Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("'shared'"), std::string::npos) << m;
    EXPECT_NE(m.find("'ns-a'"), std::string::npos) << m;
  }
  // A job without a namespace has an anonymous one of its own.
  RunToEnd(Gcs(), {"create", "hidden", "-", "1", "0", "shutdown"});
  EXPECT_EQ(RunToEnd(Gcs(), {"call", "hidden", "-", "1"}), "NONE");
  EXPECT_FALSE(glint::GetActor<Box>("hidden").has_value());
  // Drivers given the same namespace share names.
  RunToEnd(Gcs(), {"create", "team", "-", "1", "0", "shutdown"}, {{"GLINT_NAMESPACE", "team-ns"}});
  EXPECT_EQ(RunToEnd(Gcs(), {"call", "team", "-", "1"}, {{"GLINT_NAMESPACE", "team-ns"}}), "VALUE 2");
  glint::Kill(*glint::GetActor<Box>("shared", "ns-a"));
  glint::Kill(*glint::GetActor<Box>("team", "team-ns"));
}

TEST_F(LifecycleTest, GetIfExistsRaceEndsWithOneActor) {
  std::vector<Driver> racers;
  for (int i = 0; i < 3; ++i) {
    racers.push_back(StartDriver(Gcs(), {"create", "racer", "race", "1", "0", "shutdown"}));
  }
  // Plain creation: exactly one wins the name, the others fail.
  int winners = 0;
  for (auto& d : racers) {
    winners += d.Line().rfind("READY", 0) == 0;
    d.Wait();
  }
  EXPECT_EQ(winners, 1);
  glint::Kill(*glint::GetActor<Box>("racer", "race"));
  ASSERT_TRUE(NameIsFree("racer", "race"));
  // get-if-exists: everyone ends up with the same single actor.
  std::vector<Driver> friendly;
  for (int i = 0; i < 3; ++i) friendly.push_back(StartDriver(Gcs(), {"getifexists", "shared-racer", "race"}));
  std::vector<std::string> pids;
  for (auto& d : friendly) {
    std::string line = d.Line();
    EXPECT_EQ(line.rfind("READY", 0), 0u) << line;
    pids.push_back(line.substr(line.rfind(' ')));
    EXPECT_EQ(d.Wait(), 0);
  }
  EXPECT_EQ(pids[0], pids[1]);
  EXPECT_EQ(pids[1], pids[2]);
  auto box = glint::GetActor<Box>("shared-racer", "race");
  ASSERT_TRUE(box.has_value());
  EXPECT_EQ(box->Task(&Box::Add).Remote(0).Get(), 3) << "each racer added 1 to the one actor";
  glint::Kill(*box);
}

TEST_F(LifecycleTest, KillFailsPendingAndLaterCallsAndFreesTheName) {
  auto box = glint::Actor(Box::Create).SetName("victim").Remote(0);
  ASSERT_EQ(box.Task(&Box::Add).Remote(1).Get(), 1);
  auto pending = box.Task(&Box::Block).Remote(dir_ + "/never");
  glint::Kill(box);
  try {
    pending.Get(std::chrono::seconds(60));
    FAIL() << "expected ActorDiedError";
  } catch (const glint::ActorDiedError& e) {
    EXPECT_NE(std::string(e.what()).find("died"), std::string::npos) << e.what();
  }
  try {
    box.Task(&Box::Add).Remote(1).Get(std::chrono::seconds(60));
    FAIL() << "expected ActorDiedError";
  } catch (const glint::ActorDiedError& e) {
    EXPECT_NE(std::string(e.what()).find("Kill()"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(NameIsFree("victim", "tests"));
}

TEST_F(LifecycleTest, ExitActorEndsTheActorForGood) {
  auto box = glint::Actor(Box::Create).SetName("quitter").SetMaxRestarts(3).Remote(0);
  int pid = box.Task(&Box::Pid).Remote().Get();
  try {
    box.Task(&Box::Quit).Remote().Get(std::chrono::seconds(60));
    FAIL() << "expected ActorDiedError";
  } catch (const glint::ActorDiedError& e) {
    EXPECT_NE(std::string(e.what()).find("ExitActor"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(NameIsFree("quitter", "tests"));
  EXPECT_TRUE(WaitUntil([&] { return !glint::ProcessAlive(pid) || glint::IsZombie(pid); }));
  EXPECT_THROW(box.Task(&Box::Add).Remote(1).Get(std::chrono::seconds(60)), glint::ActorDiedError)
      << "ExitActor is not restarted, whatever max_restarts says";
  EXPECT_THROW(glint::ExitActor(), glint::Error) << "outside an actor";
}

TEST_F(LifecycleTest, MaxRestartsBringsTheActorBackThenGivesUp) {
  auto box = glint::Actor(Box::Create).SetMaxRestarts(1).Remote(10);
  EXPECT_EQ(box.Task(&Box::Add).Remote(1).Get(), 11);
  EXPECT_FALSE(box.Task(&Box::Restarted).Remote().Get());
  int pid = box.Task(&Box::Pid).Remote().Get();
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  // The same handle works after the restart; the constructor ran again.
  int after = 0;
  ASSERT_TRUE(WaitUntil([&] {
    try {
      after = box.Task(&Box::Add).Remote(1).Get(std::chrono::seconds(30));
      return true;
    } catch (const glint::ActorDiedError&) {
      return false;  // a call caught in the crash window (no task retries)
    }
  }));
  EXPECT_EQ(after, 11) << "fresh state from the constructor";
  EXPECT_TRUE(box.Task(&Box::Restarted).Remote().Get());
  int pid2 = box.Task(&Box::Pid).Remote().Get();
  EXPECT_NE(pid2, pid);
  ASSERT_EQ(kill(pid2, SIGKILL), 0);
  EXPECT_TRUE(WaitUntil([&] {
    try {
      box.Task(&Box::Add).Remote(1).Get(std::chrono::seconds(30));
      return false;
    } catch (const glint::ActorDiedError&) {
      return true;
    }
  })) << "no restarts left: DEAD";
}

TEST_F(LifecycleTest, TaskRetriesReRunInFlightCallsOnTheRestartedActor) {
  for (int retries : {1, 0}) {
    SCOPED_TRACE(retries);
    std::string gate = dir_ + "/gate" + std::to_string(retries);
    auto box = glint::Actor(Box::Create).SetMaxRestarts(1).SetMaxTaskRetries(retries).Remote(0);
    int pid = box.Task(&Box::Pid).Remote().Get();
    auto in_flight = box.Task(&Box::Block).Remote(gate);
    auto later = box.Task(&Box::Add).Remote(5);
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    Touch(gate);  // the re-run returns at once
    if (retries > 0) {
      EXPECT_EQ(in_flight.Get(std::chrono::seconds(60)), 1) << "at-least-once: re-run after restart";
      EXPECT_EQ(later.Get(std::chrono::seconds(60)), 5);
    } else {
      EXPECT_THROW(in_flight.Get(std::chrono::seconds(60)), glint::ActorDiedError) << "at-most-once";
    }
    EXPECT_TRUE(box.Task(&Box::Restarted).Remote().Get(std::chrono::seconds(60)));
  }
}

TEST_F(LifecycleTest, KillWithRestartAllowedRestarts) {
  auto box = glint::Actor(Box::Create).SetMaxRestarts(1).Remote(0);
  int pid = box.Task(&Box::Pid).Remote().Get();
  glint::Kill(box, /*no_restart=*/false);
  int pid2 = 0;
  ASSERT_TRUE(WaitUntil([&] {
    try {
      pid2 = box.Task(&Box::Pid).Remote().Get(std::chrono::seconds(30));
      return pid2 != pid;
    } catch (const glint::ActorDiedError&) {
      return false;
    }
  }));
  EXPECT_TRUE(box.Task(&Box::Restarted).Remote().Get());
}

TEST_F(LifecycleTest, LookupsAcrossNodesBothWays) {
  // A driver on the worker node makes an actor that can only live on the
  // head; a driver on the head makes one that can only live on the worker.
  std::map<std::string, std::string> on_worker = {{"GLINT_LOCAL_RAYLET", node2_}};
  std::map<std::string, std::string> on_head = {{"GLINT_LOCAL_RAYLET", cluster_->head_raylet_address()}};
  RunToEnd(Gcs(), {"create", "at-head", "x", "1", "0", "shutdown", "head_only"}, on_worker);
  RunToEnd(Gcs(), {"create", "at-worker", "x", "1", "0", "shutdown", "special"}, on_head);
  EXPECT_EQ(RunToEnd(Gcs(), {"where", "at-head", "x"}, on_worker), "AT " + cluster_->head_raylet_address());
  EXPECT_EQ(RunToEnd(Gcs(), {"where", "at-worker", "x"}, on_head), "AT " + node2_);
  EXPECT_EQ(RunToEnd(Gcs(), {"call", "at-head", "x", "5"}, on_worker), "VALUE 6");
  EXPECT_EQ(RunToEnd(Gcs(), {"call", "at-worker", "x", "5"}, on_head), "VALUE 6");
  glint::Kill(*glint::GetActor<Box>("at-head", "x"));
  glint::Kill(*glint::GetActor<Box>("at-worker", "x"));
}

TEST_F(LifecycleTest, CliListsAndKillsActors) {
  RunToEnd(Gcs(), {"create", "listed", "cli", "1", "0", "shutdown"});
  std::string a = "--address " + Gcs();
  std::string list = RunCli("list actors --namespace cli " + a);
  EXPECT_NE(list.find("listed"), std::string::npos) << list;
  EXPECT_NE(list.find("ALIVE"), std::string::npos) << list;
  EXPECT_NE(list.find("detached"), std::string::npos) << list;
  EXPECT_NE(RunCli("kill-actor listed --namespace cli " + a).find("killed"), std::string::npos);
  EXPECT_TRUE(NameIsFree("listed", "cli"));
  std::string all = RunCli("list actors --namespace cli --all " + a);
  EXPECT_NE(all.find("DEAD"), std::string::npos) << all;
  EXPECT_NE(all.find("glint kill-actor"), std::string::npos) << all;
  EXPECT_EQ(RunCli("list actors --namespace cli " + a).find("listed"), std::string::npos);
  EXPECT_NE(RunCli("kill-actor nobody --namespace cli " + a).find("no alive actor"), std::string::npos);
}

// A cluster of its own: this suite kills a node.
class NodeLossTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() { StartSuite(1, "", "node-loss"); }
};

TEST_F(NodeLossTest, ARestartableActorWaitsForANodeThatFitsAndRestartsThere) {
  auto first = cluster_->AddNode(1, R"({"rare": 1})");
  auto box = glint::Actor(Box::Create).SetMaxRestarts(-1).SetResources({{"rare", 1}}).Remote(0);
  EXPECT_EQ(box.Task(&Box::Raylet).Remote().Get(std::chrono::seconds(60)), first);
  cluster_->KillNode(first);
  std::string a = "--address " + cluster_->gcs_address();
  ASSERT_TRUE(WaitUntil([&] { return RunCli("status " + a).find("waiting for a node") != std::string::npos; },
                        std::chrono::seconds(60)))
      << "the actor waits RESTARTING, and status says why:\n" << RunCli("status " + a);
  EXPECT_NE(RunCli("status " + a).find("RESTARTING"), std::string::npos);
  auto call = box.Task(&Box::Add).Remote(1);
  EXPECT_THROW(call.Get(std::chrono::milliseconds(300)), glint::GetTimeoutError) << "the call waits for the restart";
  auto second = cluster_->AddNode(1, R"({"rare": 1})");
  EXPECT_EQ(call.Get(std::chrono::seconds(60)), 1) << "a restarted actor starts from its constructor";
  EXPECT_EQ(box.Task(&Box::Raylet).Remote().Get(std::chrono::seconds(60)), second);
  EXPECT_TRUE(box.Task(&Box::Restarted).Remote().Get());
  // A new actor that no node fits still fails at once.
  auto none = glint::Actor(Box::Create).SetResources({{"absent", 1}}).Remote(0);
  EXPECT_THROW(none.Task(&Box::Pid).Remote().Get(std::chrono::seconds(60)), glint::ActorDiedError);
}

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("GLINT_WORKER_MODE")) glint::Init();
  glint::testing::SetDriverProgram(glint::SelfExePath());
  if (argc > 2 && std::string(argv[1]) == "driver") {
    if (std::string(argv[2]) == "getifexists") {
      glint::Init();
      auto box = glint::Actor(Box::Create).SetName(argv[3]).SetNamespace(argv[4]).SetGetIfExists(true).SetLifetime(glint::Lifetime::kDetached).Remote(0);
      box.Task(&Box::Add).Remote(1).Get();
      std::cout << "READY " << box.Task(&Box::Pid).Remote().Get() << std::endl;
      glint::Shutdown();
      return 0;
    }
    try {
      return RunDriver(argc, argv);
    } catch (const std::exception& e) {
      std::cout << "ERROR " << e.what() << std::endl;
      return 3;
    }
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
