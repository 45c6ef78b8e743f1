// A node's GPU ids (from --num-gpus, CUDA_VISIBLE_DEVICES or the driver's
// device list) and how leases share them.
#include "raylet/gpus.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace glint::raylet {
namespace {

using Ids = std::vector<std::string>;

TEST(NodeGpuIdsTest, TakesCudaVisibleDevicesThenTheDriversDevices) {
  EXPECT_EQ(*NodeGpuIds(-1, "3,7"), (Ids{"3", "7"}));
  EXPECT_EQ(*NodeGpuIds(-1, " GPU-1a2b , GPU-3c4d"), (Ids{"GPU-1a2b", "GPU-3c4d"})) << "UUIDs are ids too";
  EXPECT_EQ(*NodeGpuIds(-1, ""), Ids{}) << "set but empty: no GPU";
  auto dir = std::filesystem::temp_directory_path() / ("glint-gpus-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "0000:3b:00.0");
  std::filesystem::create_directories(dir / "0000:af:00.0");
  EXPECT_EQ(*NodeGpuIds(-1, nullptr, dir.string()), (Ids{"0", "1"})) << "one per device the driver lists";
  std::filesystem::remove_all(dir);
  EXPECT_EQ(*NodeGpuIds(-1, nullptr, dir.string()), Ids{}) << "no driver: no GPU";
}

TEST(NodeGpuIdsTest, NumGpusOffersThatManyOfTheVisibleOnes) {
  EXPECT_EQ(*NodeGpuIds(2, nullptr), (Ids{"0", "1"}));
  EXPECT_EQ(*NodeGpuIds(1, "3,7"), (Ids{"3"}));
  EXPECT_EQ(*NodeGpuIds(0, "3,7"), Ids{});
  auto more = NodeGpuIds(3, "3,7");
  ASSERT_FALSE(more.ok());
  EXPECT_NE(more.status().message().find("CUDA_VISIBLE_DEVICES"), std::string::npos);
  auto half = NodeGpuIds(0.5, nullptr);
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.status().message().find("whole number"), std::string::npos);
}

TEST(GpuSlotsTest, WholeGpusAreExclusiveAndFractionsPackOntoTheFullestGpu) {
  GpuSlots slots({"0", "1", "2"});
  EXPECT_EQ(slots.Take(2), (Ids{"0", "1"}));
  EXPECT_EQ(slots.Take(0.25), Ids{"2"});
  EXPECT_EQ(slots.Take(0.5), Ids{"2"}) << "onto the GPU already shared";
  EXPECT_FALSE(slots.CanTake(0.5)) << "0.25 of GPU 2 is left";
  EXPECT_TRUE(slots.CanTake(0.25));
  EXPECT_FALSE(slots.CanTake(1));
  slots.Give({"0", "1"}, 2);
  EXPECT_TRUE(slots.CanTake(2));
  EXPECT_EQ(slots.Take(0.5), Ids{"0"}) << "no room on GPU 2: the first whole one";
  EXPECT_FALSE(slots.CanTake(2)) << "GPU 0 is shared now";
  slots.Give({"2"}, 0.25);
  slots.Give({"2"}, 0.5);
  EXPECT_TRUE(slots.CanTake(2)) << "GPUs 1 and 2 are whole again";
  EXPECT_TRUE(slots.CanTake(0)) << "no GPU asked, none needed";
  EXPECT_EQ(slots.Take(0), Ids{});
}

}  // namespace
}  // namespace glint::raylet
