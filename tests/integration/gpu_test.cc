// GPUs through real processes, with fake ids: the node is started with
// CUDA_VISIBLE_DEVICES=3,7 (this machine needs no GPU for it), so it offers
// GPU: 2 with ids "3" and "7". A task or actor holding GPUs sees their ids in
// glint::GetGpuIds() and CUDA_VISIBLE_DEVICES; whole GPUs are exclusive,
// fractions share one; work that asked for none sees none of them; a
// placement group's bundles reserve GPU ids for the work placed in them.
#include <glint/api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;
using Ids = std::vector<std::string>;

std::string VisibleDevices() {
  const char* v = getenv("CUDA_VISIBLE_DEVICES");
  return v ? v : "(unset)";
}

// What a task or actor sees: its ids, then CUDA_VISIBLE_DEVICES.
std::pair<Ids, std::string> Seen() { return {glint::GetGpuIds(), VisibleDevices()}; }

class Holder {
 public:
  static Holder* Create() { return new Holder(); }
  std::pair<Ids, std::string> Seen() { return ::Seen(); }
};

GLINT_REMOTE(Seen, Holder::Create, &Holder::Seen);

class GpuTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() {
    setenv("CUDA_VISIBLE_DEVICES", "3,7", 1);  // the node's, as a user would start it
    StartSuite(4, "", "gpu-tests");
    unsetenv("CUDA_VISIBLE_DEVICES");
  }
  static glint::ActorHandle<Holder> WithGpu(double amount) {
    return glint::Actor(Holder::Create).SetResources({{"GPU", amount}}).Remote();
  }
  static std::pair<Ids, std::string> SeenBy(const glint::ActorHandle<Holder>& h) {
    return h.Task(&Holder::Seen).Remote().Get(std::chrono::seconds(60));
  }
};

TEST_F(GpuTest, AWholeGpuTaskSeesItsOwnIdInCudaVisibleDevices) {
  auto [ids, env] = glint::Task(Seen).SetResources({{"GPU", 1}}).Remote().Get();
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_TRUE(ids[0] == "3" || ids[0] == "7") << ids[0];
  EXPECT_EQ(env, ids[0]);
  auto [both, env2] = glint::Task(Seen).SetResources({{"GPU", 2}}).Remote().Get();
  std::sort(both.begin(), both.end());
  EXPECT_EQ(both, (Ids{"3", "7"}));
  EXPECT_TRUE(env2 == "3,7" || env2 == "7,3") << env2;
}

TEST_F(GpuTest, TheNodeOffersOnlyTheGpusItWasGiven) {
  try {
    glint::Task(Seen).SetResources({{"GPU", 3}}).Remote().Get(std::chrono::seconds(60));
    FAIL() << "three GPUs on a node of two";
  } catch (const glint::Error& e) {
    EXPECT_NE(std::string(e.what()).find("GPU"), std::string::npos) << e.what();
  }
}

TEST_F(GpuTest, TwoGpuActorsHoldDifferentGpusForTheirWholeLife) {
  auto a = WithGpu(1), b = WithGpu(1);
  auto [ids_a, env_a] = SeenBy(a);
  auto [ids_b, env_b] = SeenBy(b);
  ASSERT_EQ(ids_a.size(), 1u);
  ASSERT_EQ(ids_b.size(), 1u);
  EXPECT_EQ((std::set<std::string>{ids_a[0], ids_b[0]}), (std::set<std::string>{"3", "7"}));
  EXPECT_EQ(env_a, ids_a[0]);
  EXPECT_EQ(env_b, ids_b[0]);
  EXPECT_EQ(SeenBy(a).first, ids_a) << "an actor keeps its GPU";
}

TEST_F(GpuTest, FractionsShareAGpuAndLeaveTheOtherWhole) {
  auto half1 = WithGpu(0.5), half2 = WithGpu(0.5);
  auto [h1, env1] = SeenBy(half1);
  auto [h2, env2] = SeenBy(half2);
  ASSERT_EQ(h1.size(), 1u);
  EXPECT_EQ(h1, h2) << "two halves of one GPU";
  EXPECT_EQ(env1, h1[0]);
  auto whole = WithGpu(1);
  auto [w, env_w] = SeenBy(whole);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0], h1[0]) << "the whole GPU is the one no fraction uses";
}

TEST_F(GpuTest, PlacementGroupBundlesReserveGpusForTheirWork) {
  glint::PlacementGroupOptions o;
  o.bundles = {{{"GPU", 1}}, {{"GPU", 1}}};
  o.strategy = glint::PlacementStrategy::kStrictPack;
  auto pg = glint::CreatePlacementGroup(o);
  ASSERT_TRUE(pg.Wait(std::chrono::seconds(30))) << "placed once the earlier tests' actors gave their GPUs back";
  auto in0 = glint::Actor(Holder::Create).SetResources({{"GPU", 1}}).SetPlacementGroup(pg, 0).Remote();
  auto [ids0, env0] = SeenBy(in0);
  auto [ids1, env1] = glint::Task(Seen).SetResources({{"GPU", 1}}).SetPlacementGroup(pg, 1).Remote().Get(
      std::chrono::seconds(60));
  ASSERT_EQ(ids0.size(), 1u);
  ASSERT_EQ(ids1.size(), 1u);
  EXPECT_EQ((std::set<std::string>{ids0[0], ids1[0]}), (std::set<std::string>{"3", "7"})) << "a GPU per bundle";
  EXPECT_EQ(env0, ids0[0]);
  EXPECT_EQ(env1, ids1[0]);
  EXPECT_THROW(glint::Task(Seen).SetResources({{"GPU", 2}}).SetPlacementGroup(pg, 0).Remote(), glint::Error)
      << "more than the bundle holds";
  glint::RemovePlacementGroup(pg);
  auto [both, env] = glint::Task(Seen).SetResources({{"GPU", 2}}).Remote().Get(std::chrono::seconds(60));
  std::sort(both.begin(), both.end());
  EXPECT_EQ(both, (Ids{"3", "7"})) << "the group gave both GPUs back to the node";
}

TEST_F(GpuTest, WorkThatAskedForNoGpuSeesNone) {
  glint::Task(Seen).SetResources({{"GPU", 1}}).Remote().Get();  // a worker that held one may be reused
  for (int i = 0; i < 4; ++i) {
    auto [ids, env] = glint::Task(Seen).Remote().Get();
    EXPECT_TRUE(ids.empty());
    EXPECT_EQ(env, "3,7") << "what the node was started with, not a GPU of an earlier task";
  }
  auto plain = glint::Actor(Holder::Create).Remote();
  EXPECT_TRUE(SeenBy(plain).first.empty());
  EXPECT_TRUE(glint::GetGpuIds().empty()) << "a driver holds no GPU";
}

}  // namespace
