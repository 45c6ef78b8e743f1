// ObjectStore on its own: the arena, pins, eviction of cached copies,
// spilling of primary copies, freeing, and the store-full error.
#include "raylet/object_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <limits>

#include "common/rpc.h"

namespace glint::raylet {
namespace {

constexpr int64_t kPage = 4096;

class ObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/glint-store-test.XXXXXX";
    root_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::unique_ptr<ObjectStore> Make(int64_t capacity, bool spill, int64_t warm = -1) {
    ObjectStoreOptions o;
    o.dir = root_ + "/mem";
    o.spill_dir = spill ? root_ + "/spill" : "";
    o.capacity = capacity;
    o.spill_reserve_bytes = 0;
    o.warm_bytes = warm;
    auto s = std::make_unique<ObjectStore>(o);
    EXPECT_TRUE(s->Init().ok());
    return s;
  }
  // Creates, fills with `byte` and seals an object.
  void Put(ObjectStore& s, const std::string& id, int64_t size, char byte, bool primary = true) {
    auto offset = s.Create(id, size, {"127.0.0.1:1", "w", "j"}, primary);
    ASSERT_TRUE(offset.ok()) << offset.status();
    ASSERT_TRUE(s.Write(id, 0, std::string(size, byte)).ok());
    ASSERT_TRUE(s.Seal(id).ok());
  }
  // The object's bytes as a reader on the node sees them (pinned meanwhile).
  std::string Read(ObjectStore& s, const std::string& id) {
    ObjectLocation where;
    if (!s.Pin(id, "reader", &where)) return "<absent>";
    std::string out(where.size, '\0');
    int fd = open(where.offset >= 0 ? s.arena_path().c_str() : where.spill_path.c_str(), O_RDONLY);
    EXPECT_EQ(pread(fd, out.data(), out.size(), std::max<int64_t>(where.offset, 0)), where.size);
    close(fd);
    s.Unpin(id, "reader");
    return out;
  }
  std::string root_;
};

TEST_F(ObjectStoreTest, OnlySealedObjectsAreReadableAndAFreedRangeIsReused) {
  auto s = Make(16 * kPage, false);
  auto offset = s->Create("a", 1000, {}, true);
  ASSERT_TRUE(offset.ok());
  ObjectLocation where;
  EXPECT_FALSE(s->Pin("a", "r", &where)) << "not readable before it is sealed";
  EXPECT_TRUE(absl::IsAlreadyExists(s->Create("a", 1000, {}, true).status()));
  ASSERT_TRUE(s->Write("a", 0, std::string(1000, 'a')).ok());
  ASSERT_TRUE(s->Seal("a").ok());
  EXPECT_EQ(Read(*s, "a"), std::string(1000, 'a'));
  EXPECT_EQ(s->Info().used(), kPage);
  ASSERT_TRUE(s->Pin("a", "r", &where));
  s->Free({"a"});
  EXPECT_FALSE(s->Pin("a", "other", &where)) << "freed: no new readers";
  EXPECT_EQ(s->Info().used(), kPage) << "but a pinned object keeps its range";
  auto b = s->Create("b", 1000, {}, true);
  ASSERT_TRUE(b.ok());
  EXPECT_NE(*b, *offset) << "not reused while pinned";
  s->Unpin("a", "r");
  EXPECT_EQ(s->Info().used(), kPage);
  auto c = s->Create("c", 1000, {}, true);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, *offset) << "reused (first fit) once the last pin went";
}

TEST_F(ObjectStoreTest, CachedCopiesAreEvictedLeastRecentlyUsedFirstAndPinnedOnesNever) {
  auto s = Make(3 * kPage, false);
  Put(*s, "old", kPage, 'o', /*primary=*/false);
  Put(*s, "new", kPage, 'n', /*primary=*/false);
  Put(*s, "mine", kPage, 'm', /*primary=*/true);
  EXPECT_TRUE(s->IsSealed("old"));  // touches "old": "new" is now the least recently used
  Put(*s, "next", kPage, 'x', /*primary=*/true);
  EXPECT_TRUE(s->IsSealed("old"));
  EXPECT_FALSE(s->IsSealed("new")) << "evicted";
  EXPECT_TRUE(s->IsSealed("mine")) << "a primary copy is never evicted";
  ObjectLocation where;
  ASSERT_TRUE(s->Pin("old", "r", &where));
  EXPECT_TRUE(absl::IsResourceExhausted(s->Create("more", kPage, {}, true).status())) << "a pinned copy stays";
  s->Unpin("old", "r");
  EXPECT_TRUE(s->Create("more", kPage, {}, true).ok());
}

TEST_F(ObjectStoreTest, WithoutSpillingAFullStoreRefusesAndSaysWhy) {
  auto s = Make(2 * kPage, false);
  Put(*s, "a", kPage, 'a');
  Put(*s, "b", kPage, 'b');
  auto full = s->Create("c", kPage, {}, true);
  ASSERT_TRUE(absl::IsResourceExhausted(full.status()));
  EXPECT_NE(full.status().message().find("no room"), absl::string_view::npos) << full.status();
  auto huge = s->Create("d", 5 * kPage, {}, true);
  EXPECT_NE(huge.status().message().find("larger than"), absl::string_view::npos) << huge.status();
  s->Free({"a"});
  EXPECT_TRUE(s->Create("c", kPage, {}, true).ok()) << "room again after a free";
}

TEST_F(ObjectStoreTest, SizesNearTheLimitOfAnIntegerAndEmptyObjectsCannotCorruptTheArena) {
  auto s = Make(4 * kPage, true);
  for (int64_t size : {std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max() - kPage + 2}) {
    auto huge = s->Create("huge", size, {}, true);
    ASSERT_TRUE(absl::IsResourceExhausted(huge.status())) << size << ": " << huge.status();
  }
  // Empty objects take a page each: their number is bounded by the capacity.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(s->Create("e" + std::to_string(i), 0, {}, false).ok());
  EXPECT_TRUE(absl::IsResourceExhausted(s->Create("e4", 0, {}, false).status()));
  auto info = s->Info();
  EXPECT_EQ(info.used(), 4 * kPage);
  EXPECT_EQ(info.num_spilled(), 0);
  EXPECT_EQ(info.spilled_bytes(), 0);
}

TEST_F(ObjectStoreTest, AnObjectTakesABoundedNumberOfPinningClients) {
  auto s = Make(4 * kPage, false);
  Put(*s, "a", kPage, 'a');
  ObjectLocation where;
  for (size_t i = 0; i < ObjectStore::kMaxPinClients; ++i) ASSERT_TRUE(s->Pin("a", std::to_string(i), &where));
  EXPECT_FALSE(s->Pin("a", "one too many", &where));
  EXPECT_TRUE(s->Pin("a", "0", &where)) << "a client pinning again is counted, not refused";
  s->Unpin("a", "1");
  EXPECT_TRUE(s->Pin("a", "one too many", &where)) << "room after an unpin";
}

TEST_F(ObjectStoreTest, PrimaryCopiesSpillToDiskAndAreReadAndFreedThere) {
  auto s = Make(2 * kPage, true);
  Put(*s, "a", kPage, 'a');
  Put(*s, "b", kPage, 'b');
  Put(*s, "c", kPage, 'c');  // "a" goes to disk
  auto info = s->Info();
  EXPECT_EQ(info.used(), 2 * kPage);
  EXPECT_EQ(info.num_spilled(), 1);
  EXPECT_EQ(info.spilled_bytes(), kPage);
  EXPECT_EQ(Read(*s, "a"), std::string(kPage, 'a')) << "read from its spill file";
  EXPECT_EQ(Read(*s, "c"), std::string(kPage, 'c'));
  ObjectStore::Chunk chunk;
  ASSERT_TRUE(s->LendChunk("a", 0, 100, "127.0.0.1:2", &chunk).ok());
  EXPECT_EQ(std::string(chunk.data(), chunk.size), std::string(100, 'a'));
  EXPECT_EQ(chunk.total_size, kPage);
  s->ReturnChunk(chunk);
  auto holders = s->Free({"a"});
  EXPECT_EQ(holders["127.0.0.1:2"], std::vector<std::string>{"a"}) << "a raylet that read it is told";
  EXPECT_EQ(s->Info().spilled_bytes(), 0);
  EXPECT_EQ(Read(*s, "a"), "<absent>");
}

TEST_F(ObjectStoreTest, OwnersObjectsAndPinsGoWithThemAndUnsealedLeftoversExpire) {
  auto s = Make(16 * kPage, false);
  Put(*s, "x", 10, 'x');
  ASSERT_TRUE(s->Create("y", 10, {"h:2", "alive", "j"}, true).ok());
  ASSERT_TRUE(s->Seal("y").ok());
  ObjectLocation where;
  ASSERT_TRUE(s->Pin("x", "client", &where));
  s->FreeOwnedIf([](const ObjectMeta& m) { return m.owner_worker_id == "w"; });
  EXPECT_FALSE(s->IsSealed("x"));
  EXPECT_TRUE(s->IsSealed("y"));
  EXPECT_EQ(s->Info().num_objects(), 2) << "x is pinned";
  s->UnpinAll("client");
  EXPECT_EQ(s->Info().num_objects(), 1) << "the client's pins went with it";
  ASSERT_TRUE(s->Create("z", 10, {}, true).ok());
  s->DropStaleWrites(NowMs() + 20 * 60000, 10 * 60000);
  EXPECT_EQ(s->Info().num_objects(), 1);
}

TEST_F(ObjectStoreTest, FreedMemoryAboveTheWarmPartGoesBackToTheSystem) {
  auto s = Make(64 * kPage, false, /*warm=*/4 * kPage);
  auto allocated = [&] {
    struct stat st {};
    stat(s->arena_path().c_str(), &st);
    return static_cast<int64_t>(st.st_blocks) * 512;
  };
  Put(*s, "big", 32 * kPage, 'b');
  EXPECT_GE(allocated(), 32 * kPage);
  s->Free({"big"});
  EXPECT_LE(allocated(), 4 * kPage) << "only the warm part stays";
}

TEST(ParseBytesTest, ReadsSuffixesAndRejectsGarbage) {
  EXPECT_EQ(*ParseBytes("1048576"), 1 << 20);
  EXPECT_EQ(*ParseBytes("64M"), 64 << 20);
  EXPECT_EQ(*ParseBytes("2GiB"), int64_t{2} << 30);
  EXPECT_EQ(*ParseBytes("100k"), 100 << 10);
  EXPECT_FALSE(ParseBytes("lots").ok());
  EXPECT_FALSE(ParseBytes("-5M").ok());
}

}  // namespace
}  // namespace glint::raylet
