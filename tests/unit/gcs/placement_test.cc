// Placement groups at the GCS: where each strategy puts bundles, and the
// two-phase reservation: all bundles committed, or none kept.
#include <gtest/gtest.h>

#include "common/bundle_resources.h"
#include "common/ids.h"
#include "common/limits.h"
#include "common/rpc.h"
#include "gcs/placement_group_manager.h"
#include "testing/actor_requests.h"
#include "testing/fake_cluster.h"

namespace glint::gcs {
namespace {

proto::NodeInfo FreeNode(const std::string& id, int port, ResourceSet free) {
  proto::NodeInfo n;
  n.set_node_id(id);
  n.set_alive(true);
  n.mutable_address()->set_ip("127.0.0.1");
  n.mutable_address()->set_port(port);
  ToProto(free, n.mutable_total_resources());
  ToProto(free, n.mutable_available_resources());
  return n;
}

using Where = std::vector<size_t>;

TEST(PlaceBundlesTest, EachStrategyPlacesAsItPromises) {
  std::vector<proto::NodeInfo> nodes = {FreeNode("a", 1, {{"CPU", 2}}), FreeNode("b", 2, {{"CPU", 2}}),
                                        FreeNode("c", 3, {{"CPU", 4}})};
  std::vector<ResourceSet> two = {{{"CPU", 1}}, {{"CPU", 1}}};
  EXPECT_EQ(*PlaceBundles(proto::STRICT_PACK, two, nodes), (Where{0, 0}));
  EXPECT_EQ(*PlaceBundles(proto::PACK, two, nodes), (Where{0, 0}));
  EXPECT_EQ(*PlaceBundles(proto::STRICT_SPREAD, two, nodes), (Where{0, 1}));
  EXPECT_EQ(*PlaceBundles(proto::SPREAD, two, nodes), (Where{0, 1}));
  std::vector<ResourceSet> five = {{{"CPU", 2}}, {{"CPU", 2}}, {{"CPU", 2}}, {{"CPU", 1}}, {{"CPU", 1}}};
  EXPECT_EQ(*PlaceBundles(proto::PACK, five, nodes), (Where{0, 1, 2, 2, 2})) << "fills the used nodes first";
  EXPECT_EQ(*PlaceBundles(proto::SPREAD, five, nodes), (Where{0, 1, 2, 2, 2})) << "spread, then wherever it fits";
  auto strict = PlaceBundles(proto::STRICT_SPREAD, five, nodes);
  EXPECT_TRUE(absl::IsUnavailable(strict.status())) << strict.status();
  EXPECT_NE(strict.status().message().find("needs 5 nodes"), std::string::npos);
  auto too_big = PlaceBundles(proto::STRICT_PACK, {{{"CPU", 5}}}, nodes);
  EXPECT_TRUE(absl::IsUnavailable(too_big.status())) << "no node could ever hold it";
  nodes[2].mutable_available_resources()->at("CPU") = 1;
  auto busy = PlaceBundles(proto::STRICT_PACK, {{{"CPU", 3}}}, nodes);
  EXPECT_TRUE(absl::IsFailedPrecondition(busy.status())) << "node c could, once free: " << busy.status();
  nodes[1].set_alive(false);
  EXPECT_EQ(*PlaceBundles(proto::SPREAD, two, nodes), (Where{0, 2})) << "never a dead node";
}

class PlacementGroupManagerTest : public ::testing::Test {
 protected:
  PlacementGroupManagerTest()
      : nodes_(&store_, 1000), jobs_(&store_), actors_(&store_, &nodes_, &jobs_, &cluster_),
        groups_(&store_, &nodes_, &jobs_, &actors_, &cluster_) {
    for (auto [id, port] : {std::pair{"n1", 7001}, {"n2", 7002}}) {
      auto n = FreeNode(id, port, {{"CPU", 2}});
      n.set_alive(false);
      EXPECT_TRUE(nodes_.Register(n, "secret", 0).ok());
    }
    job_ = *jobs_.Register({}, 0);
  }
  proto::PlacementGroupInfo Group(proto::PlacementStrategy s, int bundles) {
    proto::PlacementGroupInfo g;
    g.set_group_id(RandomId());
    g.set_job_id(job_.job_id());
    g.set_strategy(s);
    for (int i = 0; i < bundles; ++i) (*g.add_bundles()->mutable_resources())["CPU"] = 1;
    return g;
  }
  using Step = ClusterClient::BundleStep;
  std::vector<std::pair<int, Step>> Steps() {
    std::vector<std::pair<int, Step>> out;
    for (auto& c : cluster_.bundle_steps) out.emplace_back(c.raylet_port, c.step);
    return out;
  }

  InMemoryStore store_;
  FakeCluster cluster_;
  NodeManager nodes_;
  JobManager jobs_;
  ActorManager actors_;
  PlacementGroupManager groups_;
  proto::JobInfo job_;
};

TEST_F(PlacementGroupManagerTest, AllBundlesAreReservedThenCommittedAndTheNodesGainTheirResources) {
  auto g = groups_.Create(Group(proto::STRICT_SPREAD, 2));
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(groups_.Get(g->group_id())->state(), proto::PG_CREATED);
  auto steps = Steps();
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_EQ(steps[0].second, Step::kPrepare);
  EXPECT_EQ(steps[1].second, Step::kPrepare);
  EXPECT_NE(steps[0].first, steps[1].first) << "one bundle per node";
  EXPECT_EQ(steps[2].second, Step::kCommit) << "every bundle prepared before any is committed";
  EXPECT_EQ(steps[3].second, Step::kCommit);
  std::string name = "CPU_group_0_" + IdHex(g->group_id());
  auto n1 = nodes_.Get("n1");
  auto n2 = nodes_.Get("n2");
  EXPECT_TRUE(n1->total_resources().contains(name) || n2->total_resources().contains(name));
  ASSERT_TRUE(groups_.Remove(g->group_id()).ok());
  EXPECT_FALSE(nodes_.Get("n1")->total_resources().contains(name));
  EXPECT_FALSE(nodes_.Get("n2")->total_resources().contains(name));
  EXPECT_EQ(cluster_.bundle_steps.back().step, Step::kReturn);
}

TEST_F(PlacementGroupManagerTest, ARefusedReservationReturnsTheOthersAndTheGroupWaits) {
  cluster_.refuse_prepare = 7002;
  cluster_.refusal = "the node holds too much";
  auto g = groups_.Create(Group(proto::STRICT_SPREAD, 2));
  ASSERT_TRUE(g.ok());
  auto now = groups_.Get(g->group_id());
  EXPECT_EQ(now->state(), proto::PG_PENDING);
  // It says which node refused (bundles go to the nodes in no set order), and the node's reason.
  int refused = -1;
  for (auto& c : cluster_.bundle_steps) {
    if (c.raylet_port == 7002) refused = c.index;
  }
  EXPECT_EQ(now->pending_reason(), absl::StrCat("node ", ShortHex(nodes_.Get("n2")->node_id()), " did not take bundle ",
                                                refused, ": the node holds too much; trying again"));
  auto steps = Steps();
  ASSERT_EQ(steps.size(), 3u) << "never half placed: what was reserved goes back, nothing is committed";
  EXPECT_EQ(steps[0].second, Step::kPrepare);
  EXPECT_EQ(steps[1].second, Step::kPrepare);
  EXPECT_EQ(steps[2], std::make_pair(7001, Step::kReturn));
  cluster_.refuse_prepare = 0;
  groups_.Tick(NowMs() + 2000);
  EXPECT_EQ(groups_.Get(g->group_id())->state(), proto::PG_CREATED) << "tried again later";
}

}  // namespace
}  // namespace glint::gcs

namespace glint::gcs {
namespace {

TEST(PlaceBundlesTest, BundlesStillPlacedStayAndTheOthersGoAroundThem) {
  std::vector<proto::NodeInfo> nodes = {FreeNode("a", 1, {{"CPU", 2}}), FreeNode("b", 2, {{"CPU", 2}}),
                                        FreeNode("c", 3, {{"CPU", 2}})};
  std::vector<ResourceSet> three = {{{"CPU", 1}}, {{"CPU", 1}}, {{"CPU", 1}}};
  EXPECT_EQ(*PlaceBundles(proto::STRICT_SPREAD, three, nodes, {0, -1, 1}), (Where{0, 2, 1}))
      << "the lost bundle goes to the node no other bundle uses";
  nodes[1].mutable_available_resources()->at("CPU") = 1;  // the kept bundle holds the other
  EXPECT_EQ(*PlaceBundles(proto::PACK, three, nodes, {-1, 1, -1}), (Where{1, 1, 0})) << "next to the kept one first";
  EXPECT_FALSE(PlaceBundles(proto::STRICT_SPREAD, three, {nodes[0], nodes[1]}, {0, -1, 1}).ok());
}

TEST_F(PlacementGroupManagerTest, ADeadNodesBundlesArePlacedAgainAndTheOthersStay) {
  auto g = groups_.Create(Group(proto::STRICT_SPREAD, 1));
  ASSERT_TRUE(g.ok());
  auto placed = groups_.Get(g->group_id());
  ASSERT_EQ(placed->state(), proto::PG_CREATED);
  std::string first = placed->bundles(0).node_id();
  cluster_.bundle_steps.clear();
  google::protobuf::Map<std::string, double> free;
  free["CPU"] = 2;
  ASSERT_TRUE(nodes_.Heartbeat(first == "n1" ? "n2" : "n1", "secret", free, 0, 900).ok());
  nodes_.CheckHealth(1500);  // the other one is silent: dead
  ASSERT_FALSE(nodes_.Get(first)->alive());
  groups_.OnNodeDead(*nodes_.Get(first));
  auto now = groups_.Get(g->group_id());
  EXPECT_EQ(now->state(), proto::PG_CREATED) << "the other node took the bundle at once";
  EXPECT_NE(now->bundles(0).node_id(), first);
  ASSERT_EQ(cluster_.bundle_steps.size(), 1u) << "a single bundle: one step";
  EXPECT_EQ(cluster_.bundle_steps[0].step, Step::kPrepare);
  EXPECT_TRUE(cluster_.bundle_steps[0].commit) << "reserved and committed at once";
}

TEST_F(PlacementGroupManagerTest, ASingleBundleIsReservedAndCommittedInOneStepOrTriedAgain) {
  cluster_.refuse_prepare = 7001;
  auto g = groups_.Create(Group(proto::STRICT_PACK, 1));
  ASSERT_TRUE(g.ok());
  // One of the two nodes refuses; the group waits or went to the other.
  for (int i = 0; i < 3 && groups_.Get(g->group_id())->state() != proto::PG_CREATED; ++i) {
    cluster_.refuse_prepare = 0;
    groups_.Tick(NowMs() + 2000 * (i + 1));
  }
  ASSERT_EQ(groups_.Get(g->group_id())->state(), proto::PG_CREATED);
  for (auto& c : cluster_.bundle_steps) {
    EXPECT_EQ(c.step, Step::kPrepare) << "no second phase, nothing returned";
    EXPECT_TRUE(c.commit);
  }
  std::string name = "CPU_group_0_" + IdHex(g->group_id());
  std::string node = groups_.Get(g->group_id())->bundles(0).node_id();
  EXPECT_TRUE(nodes_.Get(node)->total_resources().contains(name)) << "the node gained the bundle";
}

// The GCS answers a driver from `registered` and `removed`: the record must
// be in the store (or gone from it) by then, and no raylet called yet, so
// the reply waits for no raylet.
TEST_F(PlacementGroupManagerTest, TheCallerIsAnsweredOnceTheStoreHasTheChangeAndBeforeAnyRaylet) {
  const std::string table = "placement_groups";
  auto group = Group(proto::STRICT_PACK, 1);
  std::string name = "CPU_group_0_" + IdHex(group.group_id());
  int answered = 0;
  auto g = groups_.Create(group, [&](const absl::StatusOr<proto::PlacementGroupInfo>& made) {
    ++answered;
    ASSERT_TRUE(made.ok()) << made.status();
    EXPECT_EQ(made->state(), proto::PG_PENDING);
    EXPECT_TRUE(store_.GetAll(table).contains(group.group_id())) << "answered before the record was stored";
    EXPECT_TRUE(cluster_.bundle_steps.empty()) << "a raylet was called before the answer";
  });
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(answered, 1);
  EXPECT_EQ(groups_.Get(group.group_id())->state(), proto::PG_CREATED) << "placed after the answer";
  ASSERT_EQ(cluster_.bundle_steps.size(), 1u);

  auto bad = Group(proto::STRICT_PACK, 0);
  auto refused = groups_.Create(bad, [&](const absl::StatusOr<proto::PlacementGroupInfo>& made) {
    ++answered;
    EXPECT_TRUE(absl::IsInvalidArgument(made.status())) << made.status();
  });
  EXPECT_EQ(answered, 2) << "a refusal is answered too";
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(cluster_.bundle_steps.size(), 1u);

  std::string node = groups_.Get(group.group_id())->bundles(0).node_id();
  ASSERT_TRUE(nodes_.Get(node)->total_resources().contains(name));
  auto removed = groups_.Remove(group.group_id(), [&](const absl::Status& s) {
    ++answered;
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_FALSE(store_.GetAll(table).contains(group.group_id())) << "answered before the record was deleted";
    EXPECT_FALSE(groups_.Get(group.group_id()).has_value());
    EXPECT_FALSE(nodes_.Get(node)->total_resources().contains(name)) << "a create answered next would not fit";
    EXPECT_EQ(cluster_.bundle_steps.size(), 1u) << "the bundle was returned before the answer";
  });
  EXPECT_TRUE(removed.ok()) << removed;
  EXPECT_EQ(answered, 3);
  ASSERT_EQ(cluster_.bundle_steps.size(), 2u);
  EXPECT_EQ(cluster_.bundle_steps.back().step, Step::kReturn) << "returned after the answer";

  auto again = groups_.Remove(group.group_id(), [&](const absl::Status& s) {
    ++answered;
    EXPECT_TRUE(absl::IsNotFound(s)) << s;
  });
  EXPECT_EQ(answered, 4);
  EXPECT_TRUE(absl::IsNotFound(again));
}

TEST_F(PlacementGroupManagerTest, AGroupWithATargetNodeGoesThereOrWaitsForIt) {
  // Owned by no driver: only a detached group may be.
  auto jobless = Group(proto::STRICT_PACK, 1);
  jobless.clear_job_id();
  EXPECT_TRUE(absl::IsNotFound(groups_.Create(jobless).status()));
  jobless.set_lifetime(proto::DETACHED);
  jobless.set_target_node_id(std::string(kMaxIdBytes + 1, 'x'));
  EXPECT_TRUE(absl::IsInvalidArgument(groups_.Create(jobless).status()));
  // Pinned to n2, it goes there each time, though n1 has room as well.
  for (int i = 0; i < 2; ++i) {
    auto g = jobless;
    g.set_group_id(RandomId());
    g.set_target_node_id(nodes_.Get("n2")->node_id());
    auto made = groups_.Create(g);
    ASSERT_TRUE(made.ok()) << made.status();
    EXPECT_EQ(groups_.Get(g.group_id())->state(), proto::PG_CREATED);
    EXPECT_EQ(groups_.Get(g.group_id())->bundles(0).node_id(), nodes_.Get("n2")->node_id());
  }
  // n2 is full now: a third waits for it, and says so, while n1 is free.
  auto third = jobless;
  third.set_group_id(RandomId());
  third.set_target_node_id(nodes_.Get("n2")->node_id());
  ASSERT_TRUE(groups_.Create(third).ok());
  EXPECT_EQ(groups_.Get(third.group_id())->state(), proto::PG_PENDING);
  // A target the cluster does not know: it waits, saying why.
  auto unknown = jobless;
  unknown.set_group_id(RandomId());
  unknown.set_target_node_id(RandomId());
  ASSERT_TRUE(groups_.Create(unknown).ok());
  auto waits = groups_.Get(unknown.group_id());
  EXPECT_EQ(waits->state(), proto::PG_PENDING);
  EXPECT_NE(waits->pending_reason().find("not in the cluster"), std::string::npos) << waits->pending_reason();
}

// A group that a detached actor's work made (root_detached_actor) outlives
// its job while that actor lives, as the actor's other work does; once the
// job has finished, only such work makes groups.
TEST_F(PlacementGroupManagerTest, AGroupADetachedActorsWorkMadeLivesWhileThatActorDoes) {
  jobs_.AddFinishListener([this](const proto::JobInfo& j) {
    actors_.OnJobFinished(j);
    groups_.OnJobFinished(j);
  });
  actors_.AddDeathListener([this](const proto::ActorInfo& a) { groups_.OnActorDead(a); });
  auto actor = [&](proto::Lifetime lifetime) {
    auto made = actors_.Create(ActorRequest(job_.job_id(), "", lifetime));
    EXPECT_TRUE(made.ok()) << made.status();
    return made.ok() ? made->actor_id() : std::string();
  };
  const std::string root = actor(proto::DETACHED), early_root = actor(proto::DETACHED);
  const std::string plain = actor(proto::NON_DETACHED);
  auto rooted = [&](const std::string& root_id) {
    auto g = Group(proto::PACK, 1);
    g.set_root_detached_actor(root_id);
    return g;
  };
  auto exists = [&](const proto::PlacementGroupInfo& g) { return groups_.Get(g.group_id()).has_value(); };
  auto of_root = rooted(root), of_early_root = rooted(early_root), not_a_root = rooted(plain);
  auto of_driver = Group(proto::PACK, 1);
  for (auto* g : {&of_root, &of_early_root, &not_a_root, &of_driver}) ASSERT_TRUE(groups_.Create(*g).ok());
  auto bad = rooted(std::string(kMaxIdBytes + 1, 'x'));
  EXPECT_TRUE(absl::IsInvalidArgument(groups_.Create(bad).status()));

  ASSERT_TRUE(actors_.Kill(early_root, /*no_restart=*/true, "").ok());
  EXPECT_TRUE(exists(of_early_root)) << "its root died while the job runs: it ends with the job";
  jobs_.Finish(job_.job_id(), 5);
  EXPECT_TRUE(exists(of_root)) << "its root lives on after the job";
  EXPECT_FALSE(exists(of_driver));
  EXPECT_FALSE(exists(of_early_root));
  EXPECT_FALSE(exists(not_a_root)) << "an actor that is not detached is no root";

  auto late = groups_.Create(Group(proto::PACK, 1));
  EXPECT_TRUE(absl::IsFailedPrecondition(late.status())) << late.status();
  EXPECT_EQ(late.status().message(), "the job has finished");
  auto forged = groups_.Create(rooted(plain));
  EXPECT_NE(forged.status().message().find("is no detached actor of it"), std::string::npos) << forged.status();
  auto late_rooted = rooted(root);
  auto made = groups_.Create(late_rooted);
  ASSERT_TRUE(made.ok()) << made.status();

  ASSERT_TRUE(actors_.Kill(root, /*no_restart=*/true, "").ok());
  EXPECT_FALSE(exists(of_root)) << "its root died after the job";
  EXPECT_FALSE(exists(late_rooted));
  auto after = groups_.Create(rooted(root));
  EXPECT_NE(after.status().message().find("so has the detached actor"), std::string::npos) << after.status();
}

}  // namespace
}  // namespace glint::gcs
