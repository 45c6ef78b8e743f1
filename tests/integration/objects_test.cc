// Ownership and freeing through real processes: objects go when their last
// reference drops; references that travel to other processes stay readable.
#include <glint/api.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "integration/test_cluster.h"

namespace {

using glint::testing::ClusterTest;

// Skips a memory measurement where a sanitizer's allocator holds freed memory back.
#ifdef GLINT_SANITIZER
#define SKIP_RSS_UNDER_SANITIZER() \
  GTEST_SKIP() << "resident memory is not measurable under " GLINT_SANITIZER "'s allocator (it quarantines freed memory)"
#else
#define SKIP_RSS_UNDER_SANITIZER() (void)0
#endif

// Resident memory of this process, in bytes.
int64_t Rss() {
  std::ifstream f("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

std::vector<uint8_t> MakeBlob(int mib, int seed) {
  std::vector<uint8_t> v(static_cast<size_t>(mib) << 20);
  for (size_t i = 0; i < v.size(); i += 4096) v[i] = static_cast<uint8_t>(seed + i / 4096);
  return v;
}

bool BlobOk(const std::vector<uint8_t>& v, int mib, int seed) {
  if (v.size() != (static_cast<size_t>(mib) << 20)) return false;
  for (size_t i = 0; i < v.size(); i += 4096) {
    if (v[i] != static_cast<uint8_t>(seed + i / 4096)) return false;
  }
  return true;
}

int64_t SumNested(std::vector<glint::ObjectRef<int>> refs) {
  int64_t s = 0;
  for (auto& r : refs) s += r.Get();
  return s;
}

GLINT_REMOTE(MakeBlob, SumNested);

class ObjectsTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() {
    StartSuite(2);
  }
};

TEST_F(ObjectsTest, MemoryReturnsToBaselineAfterGiBsOfPutsAndDrops) {
  SKIP_RSS_UNDER_SANITIZER();
  { auto warm = glint::Put(MakeBlob(64, 0)); }
  int64_t baseline = Rss();
  auto blob = MakeBlob(64, 7);
  for (int i = 0; i < 32; ++i) {  // 32 x 64 MiB = 2 GiB, 16x what stays
    ASSERT_LT(Rss() - baseline, 512 << 20) << "no growth during the loop either (round " << i << ")";
    auto ref = glint::Put(blob);
    if (i % 8 == 0) ASSERT_TRUE(BlobOk(ref.Get(), 64, 7));
  }
  blob.clear();
  blob.shrink_to_fit();
  EXPECT_LT(Rss() - baseline, 256 << 20) << "freed objects give their memory back";
}

TEST_F(ObjectsTest, TaskResultsAreFreedWhenDropped) {
  SKIP_RSS_UNDER_SANITIZER();
  { auto warm = glint::Task(MakeBlob).Remote(16, 0).Get(); }
  int64_t baseline = Rss();
  for (int i = 0; i < 64; ++i) {  // 1 GiB of results through the owner
    auto ref = glint::Task(MakeBlob).Remote(16, i);
    if (i % 8 == 0) ASSERT_TRUE(BlobOk(ref.Get(), 16, i));
  }
  EXPECT_LT(Rss() - baseline, 192 << 20);
}

TEST_F(ObjectsTest, ReferencesThatTravelStayReadableAfterTheOwnerDropsThem) {
  std::vector<glint::ObjectRef<int>> refs;
  for (int i = 1; i <= 10; ++i) refs.push_back(glint::Put(i));
  // The refs travel inside a vector (by reference, not by value) ...
  auto sum = glint::Task(SumNested).Remote(refs);
  refs.clear();  // ... and the driver drops its own copies at once.
  EXPECT_EQ(sum.Get(std::chrono::seconds(60)), 55);
}

TEST_F(ObjectsTest, ADroppedPendingResultStillFeedsItsDependents) {
  auto blob = glint::Task(MakeBlob).Remote(1, 3);
  auto check = glint::Task(SumNested).Remote(std::vector<glint::ObjectRef<int>>{glint::Put(5)});
  EXPECT_EQ(check.Get(), 5);
  glint::ObjectRef<std::vector<uint8_t>> keep = glint::Task(MakeBlob).Remote(2, 9);
  {
    auto temp = glint::Task(MakeBlob).Remote(2, 9);  // dropped before it is ready
  }
  EXPECT_TRUE(BlobOk(keep.Get(), 2, 9));
  EXPECT_TRUE(BlobOk(blob.Get(), 1, 3));
}

}  // namespace
