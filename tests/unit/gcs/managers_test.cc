#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "common/ids.h"
#include "common/limits.h"
#include "common/rpc.h"
#include "gcs/actor_manager.h"
#include "gcs/job_manager.h"
#include "gcs/node_manager.h"
#include "testing/actor_requests.h"
#include "testing/fake_cluster.h"

namespace glint::gcs {
namespace {

proto::NodeInfo Node(const std::string& id, int port, double cpus, bool head = false) {
  proto::NodeInfo n;
  n.set_node_id(id);
  n.mutable_address()->set_ip("127.0.0.1");
  n.mutable_address()->set_port(port);
  n.mutable_address()->set_node_id(id);
  (*n.mutable_total_resources())["CPU"] = cpus;
  n.set_is_head(head);
  return n;
}

TEST(NodeManagerTest, SilentNodeIsMarkedDeadAndListenersHear) {
  InMemoryStore store;
  NodeManager nodes(&store, 1000);
  std::vector<std::string> dead;
  nodes.AddDeathListener([&](const proto::NodeInfo& n) { dead.push_back(n.node_id()); });
  ASSERT_TRUE(nodes.Register(Node("a", 1, 2), "secret", 0).ok());
  ASSERT_TRUE(nodes.Register(Node("b", 2, 2), "secret", 0).ok());
  EXPECT_TRUE(nodes.Heartbeat("a", "secret", {}, 0, 900).ok());
  nodes.CheckHealth(1500);  // b silent for 1500 ms, a for 600 ms
  EXPECT_EQ(dead, std::vector<std::string>{"b"});
  EXPECT_FALSE(nodes.Get("b")->alive());
  auto buried = nodes.Heartbeat("b", "secret", {}, 0, 1600);
  EXPECT_TRUE(absl::IsFailedPrecondition(buried)) << "a dead node is told so, to drop its workers and register again";
  nodes.CheckHealth(1600);
  EXPECT_EQ(dead.size(), 1u) << "death is reported once";
}

TEST(NodeManagerTest, OnlyTheRayletThatRegisteredANodeSpeaksForIt) {
  InMemoryStore store;
  NodeManager nodes(&store, 1000);
  ASSERT_TRUE(nodes.Register(Node("a", 1, 2), "mine", 0).ok());
  auto impostor = nodes.Register(Node("a", 666, 64), "not mine", 1);
  EXPECT_TRUE(absl::IsAlreadyExists(impostor)) << impostor;
  google::protobuf::Map<std::string, double> junk;
  junk["CPU"] = 1000;
  auto beat = nodes.Heartbeat("a", "not mine", junk, 0, 2);
  EXPECT_TRUE(absl::IsPermissionDenied(beat)) << beat;
  EXPECT_EQ(nodes.Get("a")->address().port(), 1);
  EXPECT_EQ(nodes.Get("a")->available_resources().at("CPU"), 2) << "nothing taken from a stranger";
  EXPECT_TRUE(nodes.Register(Node("a", 1, 2), "mine", 3).ok()) << "the same raylet may register again";
  nodes.CheckHealth(5000);
  EXPECT_TRUE(nodes.Register(Node("a", 1, 2), "mine", 5001).ok()) << "and come back after it was buried";
  EXPECT_TRUE(nodes.Get("a")->alive());
}

TEST(NodeManagerTest, ARestartedGcsAsksItsNodesToRegisterAgainAndBuriesThoseThatDoNot) {
  InMemoryStore store;
  {
    NodeManager before(&store, 1000);
    ASSERT_TRUE(before.Register(Node("a", 1, 2), "secret-of-a", 0).ok());
    ASSERT_TRUE(before.Register(Node("b", 2, 2), "secret-of-b", 0).ok());
  }
  for (auto& [id, hash] : store.GetAll("node_secrets")) {
    EXPECT_EQ(hash.size(), 32u) << "the store keeps a SHA-256 of the secret";
    EXPECT_EQ(hash.find("secret-of"), std::string::npos) << "not the secret";
  }
  NodeManager nodes(&store, 1000);
  std::vector<std::string> dead;
  nodes.AddDeathListener([&](const proto::NodeInfo& n) { dead.push_back(n.node_id()); });
  nodes.Recover(10000);
  EXPECT_TRUE(nodes.Get("a")->alive() && nodes.Get("b")->alive()) << "live until they miss the timeout";
  EXPECT_TRUE(absl::IsNotFound(nodes.Heartbeat("a", "secret-of-a", {}, 0, 10100))) << "asked to register again";
  EXPECT_TRUE(absl::IsAlreadyExists(nodes.Register(Node("a", 666, 64), "guess", 10100)))
      << "the node's secret came back with it";
  proto::NodeInfo a = Node("a", 1, 2);
  (*a.mutable_total_resources())["bundle_group_x"] = 1;  // as the raylet has it now
  ASSERT_TRUE(nodes.Register(a, "secret-of-a", 10200).ok());
  EXPECT_EQ(nodes.Get("a")->total_resources().at("bundle_group_x"), 1);
  EXPECT_TRUE(nodes.Heartbeat("a", "secret-of-a", {}, 0, 10900).ok());
  nodes.CheckHealth(11050);  // b said nothing since the restart
  EXPECT_EQ(dead, std::vector<std::string>{"b"});
  EXPECT_TRUE(nodes.Get("a")->alive());
}

TEST(NodeManagerTest, OnlyTheLatestDeadNodesAreRemembered) {
  InMemoryStore store;
  NodeManager nodes(&store, 1000);
  const int n = NodeManager::kMaxDeadNodes + 50;
  for (int i = 0; i < n; ++i) ASSERT_TRUE(nodes.Register(Node("n" + std::to_string(i), 1, 1), "s", i).ok());
  ASSERT_TRUE(nodes.Register(Node("alive", 1, 1), "s", 0).ok());
  ASSERT_TRUE(nodes.Heartbeat("alive", "s", {}, 0, n + 1500).ok());
  nodes.CheckHealth(n + 1500);  // every other node is silent
  EXPECT_EQ(nodes.All().size(), NodeManager::kMaxDeadNodes + 1);
  EXPECT_TRUE(nodes.Get("alive")->alive());
  EXPECT_EQ(store.GetAll("nodes").size(), NodeManager::kMaxDeadNodes + 1) << "the store forgets them too";
}

TEST(NodeManagerTest, PickNodePrefersFreeResourcesThenTotals) {
  InMemoryStore store;
  NodeManager nodes(&store, 1000);
  ASSERT_TRUE(nodes.Register(Node("small", 1, 1), "secret", 0).ok());
  auto big = Node("big", 2, 4);
  (*big.mutable_total_resources())["special"] = 1;
  ASSERT_TRUE(nodes.Register(big, "secret", 0).ok());
  google::protobuf::Map<std::string, double> special;
  special["special"] = 1;
  EXPECT_EQ(nodes.PickNode(special, "small")->node_id(), "big");
  google::protobuf::Map<std::string, double> gpu;
  gpu["GPU"] = 1;
  EXPECT_FALSE(nodes.PickNode(gpu, "").has_value());
  // Busy everywhere: still a node whose totals fit (it will queue there).
  google::protobuf::Map<std::string, double> none;
  none["CPU"] = 0;
  EXPECT_TRUE(nodes.Heartbeat("big", "secret", none, 0, 1).ok());
  google::protobuf::Map<std::string, double> three;
  three["CPU"] = 3;
  EXPECT_EQ(nodes.PickNode(three, "")->node_id(), "big");
}

TEST(JobManagerTest, AnonymousNamespaceAndFinishOnce) {
  InMemoryStore store;
  JobManager jobs(&store);
  int finished = 0;
  jobs.AddFinishListener([&](const proto::JobInfo&) { ++finished; });
  auto a = *jobs.Register({}, 1);
  auto b = *jobs.Register({}, 2);
  EXPECT_NE(a.job_id(), b.job_id());
  EXPECT_NE(a.ray_namespace(), b.ray_namespace()) << "each job gets its own anonymous namespace";
  proto::JobInfo named;
  named.set_ray_namespace("colors");
  EXPECT_EQ(jobs.Register(named, 3)->ray_namespace(), "colors");
  EXPECT_TRUE(jobs.Finish(a.job_id(), 10));
  EXPECT_TRUE(jobs.Finish(a.job_id(), 11));
  EXPECT_EQ(finished, 1);
  EXPECT_FALSE(jobs.Finish("nope", 12));
  EXPECT_TRUE(jobs.Get(a.job_id())->finished());
}

TEST(JobManagerTest, ARequestCannotChooseOrTakeOverAJobId) {
  InMemoryStore store;
  JobManager jobs(&store);
  auto a = *jobs.Register({}, 1);
  proto::JobInfo copycat;
  copycat.set_job_id(a.job_id());
  copycat.mutable_code()->add_paths("/tmp/elsewhere");
  auto b = *jobs.Register(copycat, 2);
  EXPECT_NE(b.job_id(), a.job_id());
  EXPECT_EQ(jobs.Get(a.job_id())->code().paths_size(), 0) << "the first job is untouched";
}

TEST(JobManagerTest, AJobWhoseDriverNeverKeepsItAliveEnds) {
  InMemoryStore store;
  JobManager jobs(&store);
  auto kept = *jobs.Register({}, 1000);
  auto ghost = *jobs.Register({}, 1000);
  auto done = *jobs.Register({}, 1000);
  jobs.MarkDriverAlive(kept.job_id());
  jobs.Finish(done.job_id(), 1500);
  jobs.FinishUnproven(20000, 30000);
  EXPECT_FALSE(jobs.Get(ghost.job_id())->finished()) << "within the grace period";
  jobs.FinishUnproven(31001, 30000);
  EXPECT_TRUE(jobs.Get(ghost.job_id())->finished());
  EXPECT_FALSE(jobs.Get(kept.job_id())->finished());
  EXPECT_EQ(jobs.Get(done.job_id())->end_time_ms(), 1500) << "finished once";
}

TEST(JobManagerTest, ARestartedGcsReadsJobsBackAndARunningOneWaitsForItsDriverAgain) {
  InMemoryStore store;
  std::string running, ended;
  {
    JobManager before(&store);
    running = before.Register({}, 0)->job_id();
    ended = before.Register({}, 0)->job_id();
    before.MarkDriverAlive(running);
    before.Finish(ended, 500);
  }
  JobManager jobs(&store);
  std::vector<std::string> finished;
  jobs.AddFinishListener([&](const proto::JobInfo& j) { finished.push_back(j.job_id()); });
  auto back = jobs.Recover(10000);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].job_id(), running);
  EXPECT_TRUE(jobs.Get(ended)->finished());
  jobs.FinishUnproven(10000 + 20000, 30000);
  EXPECT_TRUE(finished.empty()) << "the grace period counts from the restart";
  jobs.FinishUnproven(10000 + 30001, 30000);
  EXPECT_EQ(finished, std::vector<std::string>{running}) << "its driver never came back";
}

TEST(JobManagerTest, JobsWaitingForTheirDriversAndFinishedOnesAreBounded) {
  InMemoryStore store;
  JobManager jobs(&store);
  std::vector<std::string> waiting;
  for (size_t i = 0; i < JobManager::kMaxUnprovenJobs; ++i) waiting.push_back(jobs.Register({}, 0)->job_id());
  auto refused = jobs.Register({}, 0);
  EXPECT_TRUE(absl::IsResourceExhausted(refused.status())) << refused.status();
  jobs.MarkDriverAlive(waiting[0]);
  EXPECT_TRUE(jobs.Register({}, 0).ok()) << "room once a driver proved itself";
  jobs.FinishUnproven(60000, 30000);
  // Jobs that ran and finished, oldest first.
  std::vector<std::string> ids;
  for (size_t i = 0; i < JobManager::kMaxFinishedJobs; ++i) {
    auto job = jobs.Register({}, 70000);
    ASSERT_TRUE(job.ok()) << job.status();
    jobs.MarkDriverAlive(job->job_id());
    jobs.Finish(job->job_id(), 70000 + i);
    ids.push_back(job->job_id());
  }
  jobs.Finish(waiting[0], 90000);  // the newest to finish
  EXPECT_TRUE(jobs.TooManyFinished());
  auto oldest = jobs.All().size();
  jobs.ForgetOldFinished({ids[0]});  // ids[0] still has an actor alive
  EXPECT_FALSE(jobs.TooManyFinished());
  EXPECT_LT(jobs.All().size(), oldest);
  EXPECT_EQ(jobs.All().size(), JobManager::kMaxFinishedJobs) << "every job has finished";
  EXPECT_TRUE(jobs.Get(waiting[0]).has_value()) << "the latest are kept";
  EXPECT_TRUE(jobs.Get(ids[0]).has_value()) << "a job whose actors live is kept";
  EXPECT_FALSE(jobs.Get(waiting[1]).has_value()) << "the oldest others are forgotten";
  EXPECT_TRUE(jobs.Get(ids.back()).has_value());
  EXPECT_EQ(store.GetAll("jobs").size(), JobManager::kMaxFinishedJobs);
}

TEST(JobManagerTest, AJobsCodePathsAreBoundedTogether) {
  proto::JobInfo job;
  for (int i = 0; i < 8; ++i) job.mutable_code()->add_paths(std::string(4000, 'p'));
  auto s = CheckJob(job);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  job.mutable_code()->mutable_paths()->DeleteSubrange(4, 4);
  EXPECT_TRUE(CheckJob(job).ok());
}

class ActorManagerTest : public ::testing::Test {
 protected:
  ActorManagerTest() : nodes_(&store_, 1000), jobs_(&store_), actors_(&store_, &nodes_, &jobs_, &cluster_) {
    EXPECT_TRUE(nodes_.Register(Node("n1", 7000, 2, true), "secret", 0).ok());
    job_ = *jobs_.Register({}, 0);
  }

  proto::CreateActorRequest Request(const std::string& name = "",
                                    proto::Lifetime lifetime = proto::NON_DETACHED, int max_restarts = 0) {
    return ActorRequest(job_.job_id(), name, lifetime, max_restarts);
  }

  proto::ActorState State(const std::string& id) { return actors_.GetById(id)->state(); }

  InMemoryStore store_;
  FakeCluster cluster_;
  NodeManager nodes_;
  JobManager jobs_;
  ActorManager actors_;
  proto::JobInfo job_;
};

TEST_F(ActorManagerTest, LeaseAndConstructorMakeItAlive) {
  auto a = actors_.Create(Request());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(State(a->actor_id()), proto::PENDING_CREATION);
  ASSERT_EQ(cluster_.leases.size(), 1u);
  EXPECT_EQ(cluster_.leases[0].raylet.port(), 7000);
  EXPECT_TRUE(cluster_.leases[0].req.for_actor());
  cluster_.GrantLease("w1", 9000, "n1");
  ASSERT_EQ(cluster_.pushes.size(), 1u);
  EXPECT_EQ(cluster_.pushes[0].req.task().function_name(), "Counter::Create");
  EXPECT_EQ(State(a->actor_id()), proto::PENDING_CREATION) << "alive only once the constructor ran";
  cluster_.FinishPush();
  auto info = actors_.GetById(a->actor_id());
  EXPECT_EQ(info->state(), proto::ALIVE);
  EXPECT_EQ(info->address().port(), 9000);
}

TEST_F(ActorManagerTest, AnActorWhoseNodeDiesWhileItIsLeasedThereGoesToAnotherWithoutARestart) {
  ASSERT_TRUE(nodes_.Register(Node("n2", 7002, 2), "secret", 0).ok());
  auto a = actors_.Create(Request());  // no restarts allowed: being moved is not one
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(cluster_.leases.size(), 1u);
  const int first_port = cluster_.leases[0].raylet.port();
  const std::string first = first_port == 7000 ? "n1" : "n2", other = first == "n1" ? "n2" : "n1";
  google::protobuf::Map<std::string, double> free;
  free["CPU"] = 2;
  ASSERT_TRUE(nodes_.Heartbeat(other, "secret", free, 0, 900).ok());
  nodes_.CheckHealth(1500);  // the chosen one is silent: dead, its lease request unanswered
  ASSERT_FALSE(nodes_.Get(first)->alive());
  actors_.OnNodeDead(*nodes_.Get(first));
  ASSERT_EQ(cluster_.leases.size(), 1u) << "the request to the dead node ended and one went to the other";
  EXPECT_NE(cluster_.leases[0].raylet.port(), first_port);
  EXPECT_EQ(State(a->actor_id()), proto::PENDING_CREATION);
  EXPECT_EQ(actors_.GetById(a->actor_id())->num_restarts(), 0);
  cluster_.GrantLease("w1", 9000, other);
  cluster_.FinishPush();
  EXPECT_EQ(State(a->actor_id()), proto::ALIVE);
}

// A raylet whose process is gone fails the lease call at once, long before
// its node is declared dead. The actor never started there: it waits for
// the node's fate and then goes elsewhere, counting no restart; only a node
// that keeps heartbeating but does not answer fails it, as before.
TEST_F(ActorManagerTest, AnActorWhoseLeaseARayletDidNotAnswerWaitsForThatNodesFate) {
  ASSERT_TRUE(nodes_.Register(Node("n2", 7002, 2), "secret", 0).ok());
  auto fail_lease = [&] {
    auto call = std::move(cluster_.leases.front());
    cluster_.leases.pop_front();
    call.cb(absl::UnavailableError("connection refused"), proto::LeaseReply());
    return call.raylet;
  };
  auto a = actors_.Create(Request());  // no restarts allowed
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(cluster_.leases.size(), 1u);
  proto::Address first = fail_lease();
  const std::string other = first.node_id() == "n1" ? "n2" : "n1";
  EXPECT_EQ(State(a->actor_id()), proto::PENDING_CREATION) << "not failed while its node may be dying";
  actors_.RetryUnanswered(NowMs());
  EXPECT_TRUE(cluster_.leases.empty()) << "the node is alive still: nothing is asked";
  google::protobuf::Map<std::string, double> free;
  free["CPU"] = 2;
  ASSERT_TRUE(nodes_.Heartbeat(other, "secret", free, 0, 900).ok());
  nodes_.CheckHealth(1500);
  ASSERT_FALSE(nodes_.Get(first.node_id())->alive());
  actors_.RetryUnanswered(NowMs());
  ASSERT_EQ(cluster_.leases.size(), 1u) << "asked again, of the other node";
  EXPECT_EQ(cluster_.leases[0].raylet.node_id(), other);
  EXPECT_EQ(actors_.GetById(a->actor_id())->num_restarts(), 0);
  cluster_.GrantLease("w1", 9000, other);
  cluster_.FinishPush();
  EXPECT_EQ(State(a->actor_id()), proto::ALIVE);

  // A node that heartbeats on but does not answer: failed past twice the timeout.
  auto b = actors_.Create(Request());
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(cluster_.leases.size(), 1u);
  fail_lease();
  actors_.RetryUnanswered(NowMs() + 1000);
  EXPECT_EQ(State(b->actor_id()), proto::PENDING_CREATION);
  actors_.RetryUnanswered(NowMs() + 3000);
  EXPECT_EQ(State(b->actor_id()), proto::DEAD);
  EXPECT_NE(actors_.GetById(b->actor_id())->death_cause().find("did not answer"), std::string::npos)
      << actors_.GetById(b->actor_id())->death_cause();
}

TEST_F(ActorManagerTest, OnlyTheLatestDeadActorsAreRememberedAndTheirJobsStay) {
  std::vector<std::string> ids;
  for (size_t i = 0; i < ActorManager::kMaxDeadActors + 10; ++i) {
    auto a = actors_.Create(Request());
    ASSERT_TRUE(a.ok());
    ids.push_back(a->actor_id());
  }
  auto alive = actors_.Create(Request());
  ASSERT_TRUE(alive.ok());
  EXPECT_TRUE(actors_.JobsWithLiveActors().contains(job_.job_id()));
  for (auto& id : ids) ASSERT_TRUE(actors_.Kill(id, true, "").ok());
  // A caller still waiting on a dead actor that is forgotten hears of it.
  std::optional<std::optional<proto::ActorInfo>> heard;
  actors_.WaitNewer(ids[0], actors_.GetById(ids[0])->version(), 10, [&](std::optional<proto::ActorInfo> a) {
    heard = a;
  });
  actors_.ForgetOldDead();
  EXPECT_FALSE(actors_.GetById(ids[0]).has_value());
  EXPECT_TRUE(actors_.GetById(ids.back()).has_value());
  EXPECT_EQ(actors_.GetById(alive->actor_id())->state(), proto::PENDING_CREATION);
  EXPECT_EQ(actors_.List("", /*include_dead=*/true).size(), ActorManager::kMaxDeadActors + 1);
  actors_.ExpireWaiters(11);
  ASSERT_TRUE(heard.has_value());
  EXPECT_FALSE(heard->has_value()) << "no record: not an empty one made up";
  EXPECT_FALSE(actors_.GetById(ids[0]).has_value());
}

TEST_F(ActorManagerTest, NameTakenIsRejectedAndFreedAtDeath) {
  auto first = actors_.Create(Request("counter"));
  ASSERT_TRUE(first.ok());
  auto second = actors_.Create(Request("counter"));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(second.status().message().find("counter"), std::string::npos);
  EXPECT_NE(second.status().message().find(job_.ray_namespace()), std::string::npos);
  auto other_ns = Request("counter");
  other_ns.set_ray_namespace("elsewhere");
  EXPECT_TRUE(actors_.Create(other_ns).ok()) << "namespaces separate names";
  ASSERT_TRUE(actors_.Kill(first->actor_id(), true, "").ok());
  EXPECT_EQ(State(first->actor_id()), proto::DEAD);
  EXPECT_FALSE(actors_.GetByName("counter", job_.ray_namespace()).has_value());
  EXPECT_TRUE(actors_.Create(Request("counter")).ok()) << "a dead actor's name is free";
}

TEST_F(ActorManagerTest, ConstructorErrorKillsTheActorWithTheCause) {
  auto a = actors_.Create(Request());
  cluster_.GrantLease("w1", 9000, "n1");
  cluster_.FinishPush(proto::TASK_ERROR, "boom");
  auto info = actors_.GetById(a->actor_id());
  EXPECT_EQ(info->state(), proto::DEAD);
  EXPECT_EQ(info->death_error().message(), "boom");
  EXPECT_EQ(cluster_.killed, std::vector<std::string>{"w1"});
}

TEST_F(ActorManagerTest, WorkerDeathRestartsWithinBudgetThenDies) {
  auto a = actors_.Create(Request("", proto::NON_DETACHED, /*max_restarts=*/1));
  cluster_.GrantLease("w1", 9000, "n1");
  cluster_.FinishPush();
  actors_.OnWorkerFailure("w1", "killed by signal 9");
  EXPECT_EQ(State(a->actor_id()), proto::RESTARTING);
  ASSERT_EQ(cluster_.leases.size(), 1u) << "a new lease for the restart";
  cluster_.GrantLease("w2", 9001, "n1");
  EXPECT_EQ(cluster_.pushes.back().req.task().attempt(), 1) << "the constructor knows it is a restart";
  cluster_.FinishPush();
  EXPECT_EQ(State(a->actor_id()), proto::ALIVE);
  EXPECT_EQ(actors_.GetById(a->actor_id())->num_restarts(), 1);
  actors_.OnWorkerFailure("w2", "killed by signal 9");
  EXPECT_EQ(State(a->actor_id()), proto::DEAD);
  EXPECT_NE(actors_.GetById(a->actor_id())->death_cause().find("signal 9"), std::string::npos);
}

TEST_F(ActorManagerTest, AWorkerThatDiesWhileStartingIsAskedForAgainThenCountsAsARestart) {
  proto::LeaseReply crashed;
  crashed.mutable_error()->set_type(proto::WORKER_CRASHED);
  crashed.mutable_error()->set_message("the worker process exited before it was ready (killed by signal 9)");
  auto answer = [&](const proto::LeaseReply& r) {
    auto call = std::move(cluster_.leases.front());
    cluster_.leases.pop_front();
    call.cb(absl::OkStatus(), r);
  };
  auto a = actors_.Create(Request("", proto::NON_DETACHED, /*max_restarts=*/1));
  answer(crashed);
  answer(crashed);
  ASSERT_EQ(cluster_.leases.size(), 1u) << "asked again, of the same raylet";
  EXPECT_EQ(cluster_.leases[0].raylet.port(), 7000);
  EXPECT_EQ(State(a->actor_id()), proto::PENDING_CREATION) << "not a restart yet";
  answer(crashed);
  EXPECT_EQ(State(a->actor_id()), proto::RESTARTING) << "three in a row: a restart";
  EXPECT_EQ(actors_.GetById(a->actor_id())->num_restarts(), 1);
  for (int i = 0; i < 3; ++i) answer(crashed);
  auto info = actors_.GetById(a->actor_id());
  EXPECT_EQ(info->state(), proto::DEAD) << "no restarts left";
  EXPECT_EQ(info->death_error().type(), proto::ACTOR_DIED);
  EXPECT_NE(info->death_cause().find("signal 9"), std::string::npos);
  // One that starts after a crash comes up as any other.
  auto b = actors_.Create(Request());
  answer(crashed);
  cluster_.GrantLease("w1", 9000, "n1");
  cluster_.FinishPush();
  EXPECT_EQ(State(b->actor_id()), proto::ALIVE);
  EXPECT_EQ(actors_.GetById(b->actor_id())->num_restarts(), 0);
}

TEST_F(ActorManagerTest, ARestartedGcsKeepsLiveActorsRestartsTheGoneAndRedoesCreationsWithoutDoubles) {
  auto kept = actors_.Create(Request("kept", proto::DETACHED));
  cluster_.GrantLease("w1", 9001, "n1");
  cluster_.FinishPush();
  auto gone = actors_.Create(Request("", proto::NON_DETACHED, /*max_restarts=*/1));
  cluster_.GrantLease("w2", 9002, "n1");
  cluster_.FinishPush();
  auto half = actors_.Create(Request());
  cluster_.GrantLease("w3", 9003, "n1");  // its constructor was sent when the GCS died
  auto unleased = actors_.Create(Request());
  // A GCS started again on the same store, worker w2 gone meanwhile.
  NodeManager nodes(&store_, 1000);
  nodes.Recover(0);
  JobManager jobs(&store_);
  jobs.Recover(0);
  FakeCluster cluster;
  cluster.probe_alive = true;
  cluster.probe_dead_ports = {9002};
  ActorManager actors(&store_, &nodes, &jobs, &cluster);
  actors.Recover();
  EXPECT_EQ(actors.GetById(kept->actor_id())->state(), proto::ALIVE);
  EXPECT_EQ(actors.GetById(kept->actor_id())->version(), actors_.GetById(kept->actor_id())->version())
      << "not restarted: its callers' view stays current";
  ASSERT_TRUE(actors.GetByName("kept", job_.ray_namespace()).has_value());
  EXPECT_FALSE(actors.Create(Request("kept")).ok()) << "its name is still taken";
  EXPECT_EQ(actors.GetById(gone->actor_id())->state(), proto::RESTARTING);
  EXPECT_EQ(actors.GetById(gone->actor_id())->num_restarts(), 1);
  EXPECT_THAT(cluster.killed, ::testing::ElementsAre("w3")) << "the half-made actor's worker is killed first";
  EXPECT_EQ(actors.GetById(half->actor_id())->state(), proto::PENDING_CREATION);
  EXPECT_EQ(actors.GetById(unleased->actor_id())->state(), proto::PENDING_CREATION);
  EXPECT_EQ(cluster.leases.size(), 3u) << "a lease each for the restart and the two creations";
  cluster.GrantLease("w4", 9004, "n1");
  cluster.FinishPush();
  EXPECT_EQ(cluster.killed.size(), 1u);
  actors.Stop();
}

TEST_F(ActorManagerTest, AnActorInAGroupNoNodeHoldsYetWaitsForItAndOneInARemovedGroupDies) {
  bool exists = true;
  actors_.SetGroupExists([&](const std::string& id) { return id == "group-1" && exists; });
  auto request = [&] {
    auto r = Request();
    r.mutable_creation_task()->set_placement_group_id("group-1");
    (*r.mutable_creation_task()->mutable_resources())["CPU_group_g"] = 1;
    return r;
  };
  auto waiting = actors_.Create(request());
  ASSERT_TRUE(waiting.ok());
  EXPECT_EQ(State(waiting->actor_id()), proto::PENDING_CREATION);
  EXPECT_TRUE(cluster_.leases.empty()) << "no node has the group's bundle yet";
  EXPECT_THAT(actors_.GetById(waiting->actor_id())->death_cause(), ::testing::HasSubstr("placement group"));
  // The group is placed: its node now has the bundle's resources.
  auto n2 = Node("n2", 7002, 1);
  (*n2.mutable_total_resources())["CPU_group_g"] = 1;
  ASSERT_TRUE(nodes_.Register(n2, "secret2", 0).ok());
  actors_.PlaceWaiting();
  ASSERT_EQ(cluster_.leases.size(), 1u);
  EXPECT_EQ(cluster_.leases[0].raylet.port(), 7002);
  EXPECT_EQ(actors_.GetById(waiting->actor_id())->death_cause(), "") << "no longer waiting";
  exists = false;
  auto orphan = request();
  (*orphan.mutable_creation_task()->mutable_resources())["CPU_group_g"] = 5;  // fits nowhere
  auto dead = actors_.Create(orphan);
  ASSERT_TRUE(dead.ok());
  EXPECT_EQ(State(dead->actor_id()), proto::DEAD);
  EXPECT_THAT(actors_.GetById(dead->actor_id())->death_cause(), ::testing::HasSubstr("was removed"));
}

TEST_F(ActorManagerTest, JobEndKillsOnlyNonDetachedActors) {
  auto owned = actors_.Create(Request("owned"));
  auto detached = actors_.Create(Request("kept", proto::DETACHED));
  cluster_.GrantLease("w1", 9000, "n1");
  cluster_.GrantLease("w2", 9001, "n1");
  cluster_.FinishPush();
  cluster_.FinishPush();
  jobs_.AddFinishListener([this](const proto::JobInfo& j) { actors_.OnJobFinished(j); });
  jobs_.Finish(job_.job_id(), 5);
  EXPECT_EQ(State(owned->actor_id()), proto::DEAD);
  EXPECT_EQ(State(detached->actor_id()), proto::ALIVE);
  EXPECT_TRUE(actors_.GetByName("kept", job_.ray_namespace()).has_value());
}

// What a detached actor makes (TaskSpec.root_detached_actor) outlives the
// job while that actor lives; after the job, only such work makes actors.
TEST_F(ActorManagerTest, WhatADetachedActorMadeOutlivesTheJobWhileThatActorLives) {
  auto root = actors_.Create(Request("root", proto::DETACHED));
  ASSERT_TRUE(root.ok());
  auto rooted = [&](const std::string& name, const std::string& root_id) {
    auto r = Request(name);
    r.mutable_creation_task()->set_root_detached_actor(root_id);
    return r;
  };
  auto child = actors_.Create(rooted("child", root->actor_id()));
  auto plain = actors_.Create(Request("plain"));
  ASSERT_TRUE(child.ok() && plain.ok());
  ASSERT_EQ(cluster_.leases.size(), 3u);
  EXPECT_EQ(cluster_.leases[1].req.root_detached_actor(), root->actor_id()) << "the raylet is told";
  EXPECT_TRUE(cluster_.leases[2].req.root_detached_actor().empty());
  for (int i = 0; i < 3; ++i) cluster_.GrantLease("w" + std::to_string(i), 9000 + i, "n1");
  for (int i = 0; i < 3; ++i) cluster_.FinishPush();
  jobs_.AddFinishListener([this](const proto::JobInfo& j) { actors_.OnJobFinished(j); });
  jobs_.Finish(job_.job_id(), 5);
  EXPECT_EQ(State(plain->actor_id()), proto::DEAD);
  EXPECT_EQ(State(child->actor_id()), proto::ALIVE);
  EXPECT_EQ(State(root->actor_id()), proto::ALIVE);

  auto refused = actors_.Create(Request("late"));
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  EXPECT_EQ(refused.status().message(), "the job has finished");
  auto forged = actors_.Create(rooted("forged", child->actor_id()));
  EXPECT_THAT(std::string(forged.status().message()), ::testing::HasSubstr("is no detached actor of it"));
  auto late = actors_.Create(rooted("late", root->actor_id()));
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_EQ(State(late->actor_id()), proto::PENDING_CREATION);

  ASSERT_TRUE(actors_.Kill(root->actor_id(), /*no_restart=*/true, "").ok());
  for (auto* orphan : {&*child, &*late}) {
    EXPECT_EQ(State(orphan->actor_id()), proto::DEAD);
    const std::string why = "the detached actor " + ShortHex(root->actor_id()) + " it descends from has died";
    EXPECT_THAT(actors_.GetById(orphan->actor_id())->death_cause(), ::testing::HasSubstr(why));
  }
  auto after = actors_.Create(rooted("after", root->actor_id()));
  EXPECT_THAT(std::string(after.status().message()), ::testing::HasSubstr("so has the detached actor"));
}

// While the job runs, a detached actor's death leaves what it made to the
// job's end, as for any actor whose creator died.
TEST_F(ActorManagerTest, WhatADeadDetachedActorMadeEndsWithTheJob) {
  auto root = actors_.Create(Request("root", proto::DETACHED));
  auto r = Request("child");
  r.mutable_creation_task()->set_root_detached_actor(root->actor_id());
  auto child = actors_.Create(r);
  ASSERT_TRUE(root.ok() && child.ok());
  ASSERT_TRUE(actors_.Kill(root->actor_id(), /*no_restart=*/true, "").ok());
  EXPECT_NE(State(child->actor_id()), proto::DEAD) << "its job still runs";
  jobs_.AddFinishListener([this](const proto::JobInfo& j) { actors_.OnJobFinished(j); });
  jobs_.Finish(job_.job_id(), 5);
  EXPECT_EQ(State(child->actor_id()), proto::DEAD);
}

TEST_F(ActorManagerTest, SpillbackIsFollowedAndInfeasibleIsAClearDeath) {
  auto a = actors_.Create(Request());
  auto call = std::move(cluster_.leases.front());
  cluster_.leases.pop_front();
  proto::LeaseReply spill;
  spill.mutable_spillback()->set_ip("127.0.0.1");
  spill.mutable_spillback()->set_port(7001);
  call.cb(absl::OkStatus(), spill);
  ASSERT_EQ(cluster_.leases.size(), 1u);
  EXPECT_EQ(cluster_.leases[0].raylet.port(), 7001);

  auto req = Request();
  (*req.mutable_creation_task()->mutable_resources())["GPU"] = 1;
  auto gpu = actors_.Create(req);
  auto info = actors_.GetById(gpu->actor_id());
  EXPECT_EQ(info->state(), proto::DEAD);
  EXPECT_EQ(info->death_error().type(), proto::SCHEDULING_FAILED);
  EXPECT_NE(info->death_cause().find("GPU"), std::string::npos);
}

TEST_F(ActorManagerTest, WaitersHearStateChangesAndTimeouts) {
  auto a = actors_.Create(Request());
  std::vector<proto::ActorState> heard;
  actors_.WaitNewer(a->actor_id(), a->version(), 100,
                    [&](std::optional<proto::ActorInfo> i) { heard.push_back(i->state()); });
  EXPECT_TRUE(heard.empty());
  cluster_.GrantLease("w1", 9000, "n1");
  cluster_.FinishPush();
  EXPECT_EQ(heard, std::vector<proto::ActorState>{proto::ALIVE});
  auto now = actors_.GetById(a->actor_id());
  actors_.WaitNewer(a->actor_id(), now->version(), 100,
                    [&](std::optional<proto::ActorInfo> i) { heard.push_back(i->state()); });
  actors_.ExpireWaiters(50);
  EXPECT_EQ(heard.size(), 1u);
  actors_.ExpireWaiters(100);
  EXPECT_EQ(heard.size(), 2u) << "the long-poll ends at its deadline with the current state";
  bool unknown = false;
  actors_.WaitNewer("nope", 0, 100, [&](std::optional<proto::ActorInfo> i) { unknown = !i; });
  EXPECT_TRUE(unknown);
}

TEST_F(ActorManagerTest, UnknownJobIsRejected) {
  auto r = Request();
  r.mutable_creation_task()->set_job_id("not-a-job");
  EXPECT_EQ(actors_.Create(r).status().code(), absl::StatusCode::kNotFound);
  auto bad = Request();
  bad.mutable_creation_task()->set_actor_id("short");
  EXPECT_EQ(actors_.Create(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ActorManagerTest, OutOfBoundsRequestsAreRefusedAndLeaveNothing) {
  std::vector<std::function<void(proto::CreateActorRequest&)>> spoil = {
      [](auto& r) { r.set_name(std::string(10000, 'n')); },
      [](auto& r) { r.set_ray_namespace(std::string("a\0b", 3)); },
      [](auto& r) { (*r.mutable_creation_task()->mutable_resources())["CPU"] = std::nan(""); },
      [](auto& r) { (*r.mutable_creation_task()->mutable_resources())["CPU"] = -1; },
      [](auto& r) { (*r.mutable_creation_task()->mutable_resources())["GPU"] = std::numeric_limits<double>::infinity(); },
      [](auto& r) {
        for (int i = 0; i < 100; ++i) (*r.mutable_creation_task()->mutable_resources())["r" + std::to_string(i)] = 1;
      },
      [](auto& r) { r.set_max_restarts(-5); },
      [](auto& r) { (*r.mutable_creation_task()->mutable_concurrency_groups())["io"] = 0; },
      [](auto& r) { r.mutable_creation_task()->set_max_concurrency(-1); },
      [](auto& r) { r.mutable_creation_task()->set_function_name(std::string(5000, 'f')); },
  };
  for (size_t i = 0; i < spoil.size(); ++i) {
    auto r = Request();
    r.set_name("spoiled");
    spoil[i](r);
    EXPECT_EQ(actors_.Create(r).status().code(), absl::StatusCode::kInvalidArgument) << "case " << i;
  }
  EXPECT_TRUE(cluster_.leases.empty()) << "nothing was scheduled";
  auto fine = Request();
  fine.set_name("spoiled");
  EXPECT_TRUE(actors_.Create(fine).ok()) << "no name was claimed by a refused request";
}

}  // namespace
}  // namespace glint::gcs
