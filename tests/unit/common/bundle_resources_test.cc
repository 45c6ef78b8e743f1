// How work placed in a placement group's bundles names its resources, and
// how a raylet reads back the GPUs such work asks of a bundle.
#include "common/bundle_resources.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace glint
