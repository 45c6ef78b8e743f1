// Zero-copy reads across real processes: a glint::Buffer (or a
// std::vector<uint8_t> read with GetBuffer) stored on this node is read as
// a view into the node's shared-memory store, by the driver and by a task
// that takes it as an argument; the object stays pinned, its bytes intact,
// while a view lives, even after its last reference is dropped.
#include <glint/api.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "integration/test_functions.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;

using tf::Fill;

uint64_t Checksum(const glint::Buffer& b) { return tf::Checksum(b.data(), b.size()); }
uint64_t Checksum(const std::vector<uint8_t>& v) { return tf::Checksum(v.data(), v.size()); }

// Whether `p` lies in this process's mapping of its node's object store.
bool InObjectStore(const void* p) {
  auto at = reinterpret_cast<uintptr_t>(p);
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream in(line);
    std::string range, perms, offset, dev, inode, path;
    in >> range >> perms >> offset >> dev >> inode >> path;
    auto dash = range.find('-');
    uintptr_t start = std::stoull(range.substr(0, dash), nullptr, 16);
    uintptr_t end = std::stoull(range.substr(dash + 1), nullptr, 16);
    if (at >= start && at < end) return path.find("glint-objects") != std::string::npos;
  }
  return false;
}

// In a worker: the argument's checksum, and 1 if it was read in place.
std::vector<uint64_t> Inspect(glint::Buffer b) { return {Checksum(b), InObjectStore(b.data()) ? 1u : 0u}; }

std::vector<uint8_t> MakeVector(int mib, int seed) { return Fill(static_cast<size_t>(mib) << 20, seed); }
glint::Buffer MakeBuffer(int kib, int seed) { return glint::Buffer(Fill(static_cast<size_t>(kib) << 10, seed)); }

struct Tagged {
  std::string tag;
  glint::Buffer bytes;
  MSGPACK_DEFINE(tag, bytes);
};

GLINT_REMOTE(Inspect, MakeVector, MakeBuffer);

// One node with a 64 MiB store that does not spill: what a pin holds shows.
class BufferTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() { StartSuite(2, "", "", {"--object_store_memory=64M", "--object_spilling=false"}); }
};

TEST_F(BufferTest, AStoredBufferIsReadInPlace) {
  const auto value = Fill(20 << 20, 1);
  auto ref = glint::Put(glint::Buffer(value));
  glint::Buffer a = ref.Get(), b = ref.Get();
  EXPECT_EQ(a.size(), value.size());
  EXPECT_TRUE(InObjectStore(a.data())) << "a view into the store, not a copy";
  EXPECT_EQ(a.data(), b.data()) << "two reads share the same bytes";
  EXPECT_EQ(Checksum(a), Checksum(value));
  EXPECT_EQ(std::vector<uint8_t>(a.begin(), a.begin() + 100), std::vector<uint8_t>(value.begin(), value.begin() + 100));
  // A small one stays in this process; reading it shares its bytes there.
  auto small = glint::Put(glint::Buffer(Fill(1000, 2)));
  EXPECT_FALSE(InObjectStore(small.Get().data()));
  EXPECT_EQ(Checksum(small.Get()), Checksum(Fill(1000, 2)));
  EXPECT_TRUE(glint::Put(glint::Buffer()).Get().empty());
}

TEST_F(BufferTest, AViewKeepsTheObjectPinnedAfterItsLastReferenceGoes) {
  const auto value = Fill(40 << 20, 3);
  auto ref = glint::Put(glint::Buffer(value));
  glint::Buffer view = ref.Get();
  ref = {};  // the owner frees it; the view's pin keeps it in the store
  // Its 40 MiB of the 64 stay taken while the view lives: another 40 does not fit.
  EXPECT_THROW(glint::Put(glint::Buffer(Fill(40 << 20, 4))), glint::ObjectStoreFullError);
  EXPECT_EQ(Checksum(view), Checksum(value)) << "the bytes under the view were not reused";
  glint::Buffer copy = view;  // copies share the view (and its pin)
  view = {};
  EXPECT_THROW(glint::Put(glint::Buffer(Fill(40 << 20, 4))), glint::ObjectStoreFullError);
  EXPECT_EQ(Checksum(copy), Checksum(value));
  copy = {};
  // The last view gone, the room is there again (the unpin reaches the raylet while Put waits).
  auto next = glint::Put(glint::Buffer(Fill(40 << 20, 4)));
  EXPECT_EQ(Checksum(next.Get()), Checksum(Fill(40 << 20, 4)));
}

TEST_F(BufferTest, ATaskReadsABufferArgumentInPlace) {
  const auto value = Fill(20 << 20, 5);
  auto ref = glint::Put(glint::Buffer(value));
  auto seen = glint::Task(Inspect).Remote(ref).Get(std::chrono::seconds(60));
  EXPECT_EQ(seen, (std::vector<uint64_t>{Checksum(value), 1})) << "the worker read the store in place";
  // A small argument travels inline and is read from the call itself.
  auto inline_seen = glint::Task(Inspect).Remote(glint::Buffer(Fill(1000, 6))).Get(std::chrono::seconds(60));
  EXPECT_EQ(inline_seen, (std::vector<uint64_t>{Checksum(Fill(1000, 6)), 0}));
}

TEST_F(BufferTest, VectorsAndBuffersReadEachOther) {
  // A task's std::vector<uint8_t> result, read in place as a Buffer.
  auto vec = glint::Task(MakeVector).Remote(8, 7);
  glint::Buffer view = glint::GetBuffer(vec, std::chrono::seconds(60));
  EXPECT_TRUE(InObjectStore(view.data()));
  EXPECT_EQ(Checksum(view), Checksum(Fill(8 << 20, 7)));
  EXPECT_EQ(Checksum(vec.Get()), Checksum(Fill(8 << 20, 7))) << "and as a vector, copied";
  // A task's Buffer result, read in place; a Buffer inside a struct is copied out.
  auto made = glint::Task(MakeBuffer).Remote(4096, 8);
  EXPECT_TRUE(InObjectStore(made.Get(std::chrono::seconds(60)).data()));
  EXPECT_EQ(Checksum(made.Get()), Checksum(Fill(4096 << 10, 8)));
  auto tagged = glint::Put(Tagged{"t", glint::Buffer(Fill(300 << 10, 9))}).Get();
  EXPECT_EQ(tagged.tag, "t");
  EXPECT_EQ(Checksum(tagged.bytes), Checksum(Fill(300 << 10, 9)));
  EXPECT_FALSE(InObjectStore(tagged.bytes.data()));
}

}  // namespace
