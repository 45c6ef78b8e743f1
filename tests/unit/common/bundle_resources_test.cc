// How work placed in a placement group's bundles names its resources, how
// a raylet reads back the GPUs such work asks of a bundle, and how those
// names count against the bounds of a resource set.
#include "common/bundle_resources.h"

#include <gtest/gtest.h>

#include "common/ids.h"
#include "common/limits.h"

namespace glint {
namespace {

TEST(BundleResourcesTest, ABundleAddsItsOwnAndGroupWideNamesAndMarkers) {
  auto r = BundleResources({{"CPU", 2}, {"GPU", 1}}, "ab12", 3);
  EXPECT_EQ(r.at("CPU_group_3_ab12"), 2);
  EXPECT_EQ(r.at("CPU_group_ab12"), 2);
  EXPECT_EQ(r.at("GPU_group_3_ab12"), 1);
  EXPECT_TRUE(r.contains("bundle_group_3_ab12"));
  EXPECT_TRUE(r.contains("bundle_group_ab12"));
  EXPECT_TRUE(IsBundleResource("CPU_group_3_ab12", "ab12"));
  EXPECT_FALSE(IsBundleResource("CPU", "ab12"));
}

TEST(BundleResourcesTest, WorkInABundleAsksForItsNamesOrGetsAClearError) {
  std::vector<ResourceSet> bundles = {{{"CPU", 1}}, {{"CPU", 2}}};
  auto one = InBundle({{"CPU", 2}}, bundles, "ab12", 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->at("CPU_group_1_ab12"), 2);
  EXPECT_EQ(one->at("CPU_group_ab12"), 2) << "the group-wide amount is always taken too";
  auto any = InBundle({{"CPU", 1}}, bundles, "ab12", -1);
  ASSERT_TRUE(any.ok());
  EXPECT_FALSE(any->contains("CPU_group_0_ab12"));
  EXPECT_NE(InBundle({{"CPU", 2}}, bundles, "ab12", 0).status().message().find("larger than bundle 0"),
            std::string::npos);
  EXPECT_NE(InBundle({{"CPU", 1}}, bundles, "ab12", 2).status().message().find("out of range"), std::string::npos);
}

TEST(BundleResourcesTest, TheGpusWorkAsksOfABundleAreReadBack) {
  std::vector<ResourceSet> bundles = {{{"GPU", 1}}, {{"GPU", 0.5}}};
  auto indexed = GpuInBundle(*InBundle({{"GPU", 0.5}}, bundles, "ab12", 1));
  ASSERT_TRUE(indexed.has_value());
  EXPECT_EQ(indexed->group_hex, "ab12");
  EXPECT_EQ(indexed->index, 1);
  EXPECT_EQ(indexed->amount, 0.5);
  auto any = GpuInBundle(*InBundle({{"GPU", 1}}, bundles, "ab12", -1));
  ASSERT_TRUE(any.has_value());
  EXPECT_EQ(any->group_hex, "ab12");
  EXPECT_EQ(any->index, -1);
  EXPECT_FALSE(GpuInBundle(*InBundle({{"CPU", 1}}, {{{"CPU", 1}}}, "ab12", 0)).has_value()) << "no GPU asked";
  EXPECT_FALSE(GpuInBundle({{"GPU", 1}}).has_value()) << "the node's own GPUs";
}

TEST(BundleResourcesTest, TheNamesBundlesAddAreToldFromANodesOwn) {
  const std::string hex = IdHex(RandomId());
  for (auto& [name, amount] : BundleResources({{"CPU", 1}, {"gpu2", 1}}, hex, 12)) {
    EXPECT_TRUE(IsAnyBundleResource(name)) << name;
  }
  for (const std::string& own : std::vector<std::string>{"CPU", "GPU", "special", "x_group_", "_group_" + hex, "CPU_group_1" + hex,
                                "CPU_group_x_" + hex, "CPU_grou_" + hex, "CPU_group_" + hex.substr(1),
                                "CPU_group_" + std::string(32, 'G')}) {
    EXPECT_FALSE(IsAnyBundleResource(own)) << own;
  }
}

// A node holding many bundles reports all their names in each heartbeat:
// they do not count against the bound on a set's own names (64), only
// against the node's (kMaxNodeResources).
TEST(BundleResourcesTest, ASetMayHoldManyBundlesNamesButFewOfItsOwn) {
  ResourceSet node = {{"CPU", 2}};
  for (int g = 0; g < 100; ++g) Add(node, BundleResources({{"CPU", 0.01}}, IdHex(RandomId()), 0));
  ASSERT_GT(node.size(), static_cast<size_t>(kMaxResources));
  EXPECT_TRUE(CheckResources(node).ok()) << CheckResources(node);
  ResourceSet own;
  for (int i = 0; i <= kMaxResources; ++i) own["r" + std::to_string(i)] = 1;
  EXPECT_NE(CheckResources(own).message().find("at most 64 may be named"), std::string::npos) << CheckResources(own);
  ResourceSet huge;
  for (int i = 0; huge.size() <= static_cast<size_t>(kMaxNodeResources); ++i) {
    Add(huge, BundleResources({{"CPU", 1}}, IdHex(RandomId()), i));
  }
  EXPECT_NE(CheckResources(huge).message().find("placement groups' included"), std::string::npos);
}

}  // namespace
}  // namespace glint
