// Which directories give files 2 MiB pages, read from mountinfo and the
// kernel's shmem setting (common/huge_pages.h).
#include "common/huge_pages.h"

#include <gtest/gtest.h>

namespace glint {
namespace {

// Lines as /proc/self/mountinfo writes them.
constexpr char kMounts[] =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/root rw\n"
    "24 22 0:22 / /dev/shm rw,relatime shared:2 - tmpfs tmpfs rw,size=24683748k\n"
    "45 22 0:39 / /mnt/huge rw,relatime - tmpfs tmpfs rw,size=4194304k,huge=always\n"
    "46 22 0:40 / /mnt/huge\\040two rw,relatime - tmpfs tmpfs rw,huge=within_size\n"
    "47 22 0:41 / /mnt/ask rw,relatime - tmpfs tmpfs rw,huge=advise\n"
    "48 22 0:42 / /mnt/never rw,relatime - tmpfs tmpfs rw,huge=never\n"
    "49 45 0:43 / /mnt/huge/plain rw,relatime - tmpfs tmpfs rw\n"
    "50 22 0:44 / /mnt/covered rw,relatime - tmpfs tmpfs rw,huge=always\n"
    "51 22 0:45 / /mnt/covered rw,relatime - tmpfs tmpfs rw\n"
    "52 22 8:2 / /mnt/disk rw,relatime - ext4 /dev/sdb rw,huge=always\n";
constexpr char kNever[] = "always within_size advise [never] deny force\n";

TEST(HugePagesTest, ATmpfsMountedWithHugePagesGivesThemToEverythingBelowIt) {
  EXPECT_TRUE(HugePagesIn("/mnt/huge", kMounts, kNever));
  EXPECT_TRUE(HugePagesIn("/mnt/huge/glint-objects-12", kMounts, kNever));
  EXPECT_TRUE(HugePagesIn("/mnt/huge two/x", kMounts, kNever));  // an escaped space in the mount point
  EXPECT_TRUE(HugePagesIn("/mnt/ask/x", kMounts, kNever));       // the store's mappings ask for them
}

TEST(HugePagesTest, OtherMountsDoNot) {
  EXPECT_FALSE(HugePagesIn("/dev/shm/glint-objects-12", kMounts, kNever));
  EXPECT_FALSE(HugePagesIn("/mnt/never/x", kMounts, kNever));
  EXPECT_FALSE(HugePagesIn("/mnt/hugely/x", kMounts, kNever));      // a longer name is not below /mnt/huge
  EXPECT_FALSE(HugePagesIn("/mnt/huge/plain/x", kMounts, kNever));  // a mount inside one that has them
  EXPECT_FALSE(HugePagesIn("/mnt/covered/x", kMounts, kNever));     // the last mount on a point is on top
  EXPECT_FALSE(HugePagesIn("/mnt/disk/x", kMounts, kNever));        // not a tmpfs
  EXPECT_FALSE(HugePagesIn("/tmp/x", kMounts, kNever));
  EXPECT_FALSE(HugePagesIn("/mnt/huge", "", kNever));  // no mount table read
}

TEST(HugePagesTest, TheKernelsSettingDeniesOrForcesThemEverywhere) {
  EXPECT_FALSE(HugePagesIn("/mnt/huge/x", kMounts, "always within_size advise never [deny] force"));
  EXPECT_TRUE(HugePagesIn("/dev/shm/x", kMounts, "always within_size advise never deny [force]"));
  EXPECT_FALSE(HugePagesIn("/mnt/disk/x", kMounts, "always within_size advise never deny [force]"));
  EXPECT_TRUE(HugePagesIn("/mnt/huge/x", kMounts, ""));  // no such setting (an older kernel): the mount decides
}

}  // namespace
}  // namespace glint
