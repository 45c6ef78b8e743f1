// A node's raylet killed with SIGKILL under a running driver: its workers go
// with it, the GCS declares the node dead (within the heartbeat timeout,
// 4 s), a call in flight on an actor there fails instead of hanging, an
// actor with restarts left comes back on another node and answers the same
// handle, and `glint stop`'s sweep leaves no object store of the dead
// raylet behind. A node cut off (its raylet stopped) long enough to be
// declared dead drops its workers when it comes back, then joins again:
// an actor never runs twice for longer than the cut. An actor whose lease
// waits on a node that is cut off or killed goes to another node.
#include <glint/api.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <string>

#include "common/launcher.h"
#include "common/process.h"
#include "common/rpc.h"
#include "proto/gcs.grpc.pb.h"
#include "integration/test_functions.h"
#include "testing/shell.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;
using glint::testing::Contains;
using glint::testing::FileExists;
using glint::testing::RunCli;
using glint::testing::WaitUntil;
using tf::Box;

GLINT_REMOTE(Box::Create, &Box::Raylet, &Box::Pid, &Box::Block);

// Whether `glint list nodes` shows the node at `raylet` dead.
bool ListedDead(const std::string& gcs, const std::string& raylet) {
  std::string list = RunCli("list nodes --address " + gcs);
  for (size_t at = list.find(raylet); at != std::string::npos; at = list.find(raylet, at + 1)) {
    auto end = list.find('\n', at);
    if (list.substr(at, end - at).find("DEAD") != std::string::npos) return true;
  }
  return false;
}

// Whether the GCS at `gcs` knows the actor (it registered it and is placing it).
bool Registered(const std::string& gcs, const std::string& actor_id) {
  auto stub = glint::MakeStub<glint::proto::GcsService>(gcs);
  glint::proto::GetActorRequest req;
  req.set_actor_id(actor_id);
  glint::proto::GetActorReply reply;
  grpc::ClientContext ctx;
  return stub->GetActor(&ctx, req, &reply).ok() && reply.found();
}

class NodeFailureTest : public ClusterTest {
 protected:
  // The head has no "spot": actors that need it live on nodes a or b.
  static void SetUpTestSuite() {
    StartSuite(1, "", "node-failure");
    node_a_ = cluster_->AddNode(2, R"({"spot": 2})");
    node_b_ = cluster_->AddNode(2, R"({"spot": 2})");
  }
  static inline std::string node_a_, node_b_;
};

TEST_F(NodeFailureTest, AKilledNodesWorkersGoItsCallsFailItsActorsRestartElsewhere) {
  auto keeps = glint::Actor(Box::Create).SetResources({{"spot", 1}}).SetMaxRestarts(1).SetMaxTaskRetries(-1).Remote(0);
  auto once = glint::Actor(Box::Create).SetResources({{"spot", 1}}).Remote(0);
  std::string where = keeps.Task(&Box::Raylet).Remote().Get(std::chrono::seconds(60));
  // Both on one node, the other's "spot" taken by a third actor placed there first.
  auto filler = glint::Actor(Box::Create).SetResources({{"spot", 2}}).Remote(0);
  std::string other = where == node_a_ ? node_b_ : node_a_;
  ASSERT_EQ(filler.Task(&Box::Raylet).Remote().Get(std::chrono::seconds(60)), other);
  ASSERT_EQ(once.Task(&Box::Raylet).Remote().Get(std::chrono::seconds(60)), where);
  glint::Kill(filler);  // the other node has room for the restart again
  int keeps_pid = keeps.Task(&Box::Pid).Remote().Get(std::chrono::seconds(60));
  int once_pid = once.Task(&Box::Pid).Remote().Get(std::chrono::seconds(60));
  std::string never = glint::testing::TempDir() + "/never";
  auto in_flight = once.Task(&Box::Block).Remote(never);  // runs until its node dies

  auto killed_at = std::chrono::steady_clock::now();
  cluster_->KillNode(where);
  EXPECT_TRUE(WaitUntil([&] { return !glint::ProcessAlive(keeps_pid) && !glint::ProcessAlive(once_pid); },
                        std::chrono::seconds(10)))
      << "the node's workers go with its raylet";
  EXPECT_THROW(in_flight.Get(std::chrono::seconds(30)), glint::ActorDiedError)
      << "the call in flight fails (no retries asked) rather than hang";
  auto failed_at = std::chrono::steady_clock::now();
  std::string gcs = cluster_->gcs_address();
  EXPECT_TRUE(WaitUntil([&] { return ListedDead(gcs, where); }, std::chrono::seconds(30)));
  auto dead_at = std::chrono::steady_clock::now();
  // The restartable actor answers the same handle from the other node.
  EXPECT_EQ(keeps.Task(&Box::Raylet).Remote().Get(std::chrono::seconds(60)), other);
  auto back_at = std::chrono::steady_clock::now();
  auto ms = [&](auto t) { return std::chrono::duration_cast<std::chrono::milliseconds>(t - killed_at).count(); };
  std::cout << "[figures] after the kill: the call in flight failed at " << ms(failed_at)
            << " ms, the node listed dead by " << ms(dead_at) << " ms, the actor answered from another node at "
            << ms(back_at) << " ms" << std::endl;
  EXPECT_THROW(once.Task(&Box::Pid).Remote().Get(std::chrono::seconds(30)), glint::ActorDiedError)
      << "an actor with no restarts left is dead";
}

TEST_F(NodeFailureTest, ANodeCutOffAndBackDropsItsWorkersSoNoActorRunsTwice) {
  for (int i = 0; i < 2; ++i) cluster_->AddNode(1, R"({"cut": 1})");
  auto keeps = glint::Actor(Box::Create).SetResources({{"cut", 0.5}}).SetMaxRestarts(-1).SetMaxTaskRetries(-1).Remote(0);
  std::string where = keeps.Task(&Box::Raylet).Remote().Get(std::chrono::seconds(60));
  int old_pid = keeps.Task(&Box::Pid).Remote().Get(std::chrono::seconds(60));
  pid_t raylet = cluster_->raylet_pid(where);
  ASSERT_NE(raylet, 0);
  // Cut off: the raylet stops answering (its workers run on), so the GCS
  // declares the node dead and restarts the actor on the other node.
  kill(raylet, SIGSTOP);
  EXPECT_TRUE(WaitUntil([&] { return keeps.Task(&Box::Raylet).Remote().Get(std::chrono::seconds(30)) != where; },
                        std::chrono::seconds(60)))
      << "the actor restarted elsewhere while its node was cut off";
  kill(raylet, SIGCONT);
  EXPECT_TRUE(WaitUntil([&] { return !glint::ProcessAlive(old_pid); }, std::chrono::seconds(30)))
      << "back, the node drops its copy of the actor";
  EXPECT_TRUE(WaitUntil([&] { return !ListedDead(cluster_->gcs_address(), where); }, std::chrono::seconds(30)))
      << "and joins again";
  EXPECT_NE(keeps.Task(&Box::Pid).Remote().Get(std::chrono::seconds(60)), old_pid);
}

// An actor whose lease waits on a node that is then cut off goes to another
// node once the cut one is declared dead: its lease request is ended then,
// not left to a deadline, and moving it is no restart (it has none).
TEST_F(NodeFailureTest, AnActorBeingPlacedOnANodeCutOffGoesToAnotherWithoutARestart) {
  std::string first = cluster_->AddNode(1, R"({"late": 1})");
  auto holder = glint::Actor(Box::Create).SetResources({{"late", 1}}).Remote(0);
  ASSERT_EQ(holder.Task(&Box::Raylet).Remote().Get(std::chrono::seconds(60)), first);
  pid_t raylet = cluster_->raylet_pid(first);
  ASSERT_NE(raylet, 0);
  kill(raylet, SIGSTOP);  // the only node with "late" stops answering
  struct Resume {
    pid_t pid;
    ~Resume() { kill(pid, SIGCONT); }
  } resume{raylet};
  auto moved = glint::Actor(Box::Create).SetResources({{"late", 1}}).Remote(0);
  ASSERT_TRUE(WaitUntil([&] { return Registered(cluster_->gcs_address(), moved.ID()); }))
      << "the actor is registered (and its lease sent to the cut node) before another node can take it";
  std::string second = cluster_->AddNode(1, R"({"late": 1})");
  // Within the heartbeat timeout and a start: far less than a lease deadline would take.
  EXPECT_EQ(moved.Task(&Box::Raylet).Remote().Get(std::chrono::seconds(60)), second);
}

// The same with the raylet killed: the GCS's lease call fails at once, long
// before the node is declared dead. The actor never started there, so it
// waits for the node's fate and then goes to another node; that is no
// restart either (it once died at once: "the raylet chosen for the actor
// did not answer").
TEST_F(NodeFailureTest, AnActorBeingPlacedOnANodeKilledGoesToAnotherWithoutARestart) {
  std::string first = cluster_->AddNode(1, R"({"later": 1})");
  auto holder = glint::Actor(Box::Create).SetResources({{"later", 1}}).Remote(0);
  ASSERT_EQ(holder.Task(&Box::Raylet).Remote().Get(std::chrono::seconds(60)), first);
  auto moved = glint::Actor(Box::Create).SetResources({{"later", 1}}).Remote(0);
  ASSERT_TRUE(WaitUntil([&] { return Registered(cluster_->gcs_address(), moved.ID()); }))
      << "the actor is registered (and its lease sent to the node) before another node can take it";
  cluster_->KillNode(first);  // the lease call fails now, with the node still alive to the GCS
  std::string second = cluster_->AddNode(1, R"({"later": 1})");
  EXPECT_EQ(moved.Task(&Box::Raylet).Remote().Get(std::chrono::seconds(60)), second);
}

TEST_F(NodeFailureTest, AKilledRayletsObjectStoreIsSweptAway) {
  auto node = cluster_->AddNode(1);
  pid_t pid = cluster_->raylet_pid(node);
  ASSERT_TRUE(FileExists(glint::ObjectStoreDir("/dev/shm", pid)));
  cluster_->KillNode(node);
  std::string store = glint::ObjectStoreDir("/dev/shm", pid);
  EXPECT_TRUE(FileExists(store)) << "a raylet killed with SIGKILL cannot remove its own store";
  glint::RemoveStaleObjectStores("/dev/shm");  // what `glint stop` and every raylet start do
  EXPECT_FALSE(FileExists(store));
}

}  // namespace
