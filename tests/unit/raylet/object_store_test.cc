// ObjectStore on its own: files, capacity, eviction of cached copies,
// spilling of primary copies, freeing, and the store-full error.
#include "raylet/object_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "common/object_file.h"
#include "common/rpc.h"

namespace glint::raylet {
namespace {

class ObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/glint-store-test.XXXXXX";
    root_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::unique_ptr<ObjectStore> Make(int64_t capacity, bool spill) {
    ObjectStoreOptions o;
    o.dir = root_ + "/mem";
    o.spill_dir = spill ? root_ + "/spill" : "";
    o.capacity = capacity;
    o.spill_reserve_bytes = 0;
    auto s = std::make_unique<ObjectStore>(o);
    EXPECT_TRUE(s->Init().ok());
    return s;
  }
  // Creates, fills with `byte` and seals an object.
  void Put(ObjectStore& s, const std::string& id, int64_t size, char byte, bool primary = true) {
    auto path = s.Create(id, size, {"127.0.0.1:1", "w", "j"}, primary);
    ASSERT_TRUE(path.ok()) << path.status();
    auto m = MappedFile::OpenForWrite(*path, size);
    ASSERT_TRUE(m.ok());
    memset((*m)->data(), byte, size);
    ASSERT_TRUE(s.Seal(id).ok());
  }
  std::string root_;
};

TEST_F(ObjectStoreTest, OnlySealedObjectsAreVisibleAndFreeingDeletesThem) {
  auto s = Make(1 << 20, false);
  auto path = s->Create("a", 1000, {}, true);
  ASSERT_TRUE(path.ok());
  EXPECT_FALSE(OpenStoredObject(root_ + "/mem", "", "a").ok()) << "not readable before it is sealed";
  EXPECT_FALSE(s->IsSealed("a"));
  EXPECT_TRUE(absl::IsAlreadyExists(s->Create("a", 1000, {}, true).status()));
  ASSERT_TRUE(s->Seal("a").ok());
  auto m = OpenStoredObject(root_ + "/mem", "", "a");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->size(), 1000u);
  EXPECT_EQ(s->Info().used(), 1000);
  s->Free({"a"});
  EXPECT_EQ(s->Info().used(), 0);
  EXPECT_EQ(s->Info().num_objects(), 0);
  EXPECT_FALSE(OpenStoredObject(root_ + "/mem", "", "a").ok());
  EXPECT_EQ((*m)->data()[0], 0) << "a mapping made before the free stays readable";
}

TEST_F(ObjectStoreTest, CachedCopiesAreEvictedLeastRecentlyUsedFirst) {
  auto s = Make(3000, false);
  Put(*s, "old", 1000, 'o', /*primary=*/false);
  Put(*s, "new", 1000, 'n', /*primary=*/false);
  Put(*s, "mine", 1000, 'm', /*primary=*/true);
  EXPECT_TRUE(s->IsSealed("old"));  // touches "old": "new" is now the least recently used
  Put(*s, "next", 1000, 'x', /*primary=*/true);
  EXPECT_TRUE(s->IsSealed("old"));
  EXPECT_FALSE(s->IsSealed("new")) << "evicted";
  EXPECT_TRUE(s->IsSealed("mine")) << "a primary copy is never evicted";
}

TEST_F(ObjectStoreTest, WithoutSpillingAFullStoreRefusesAndSaysWhy) {
  auto s = Make(2500, false);
  Put(*s, "a", 1000, 'a');
  Put(*s, "b", 1000, 'b');
  auto full = s->Create("c", 1000, {}, true);
  ASSERT_TRUE(absl::IsResourceExhausted(full.status()));
  EXPECT_NE(full.status().message().find("no room"), absl::string_view::npos) << full.status();
  auto huge = s->Create("d", 5000, {}, true);
  EXPECT_NE(huge.status().message().find("larger than"), absl::string_view::npos) << huge.status();
  s->Free({"a"});
  EXPECT_TRUE(s->Create("c", 1000, {}, true).ok()) << "room again after a free";
}

TEST_F(ObjectStoreTest, PrimaryCopiesSpillToDiskAndAreReadAndFreedThere) {
  auto s = Make(2500, true);
  Put(*s, "a", 1000, 'a');
  Put(*s, "b", 1000, 'b');
  Put(*s, "c", 1000, 'c');  // "a" goes to disk
  auto info = s->Info();
  EXPECT_EQ(info.used(), 2000);
  EXPECT_EQ(info.num_spilled(), 1);
  EXPECT_EQ(info.spilled_bytes(), 1000);
  auto m = OpenStoredObject(root_ + "/mem", root_ + "/spill", "a");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->data()[999], 'a');
  std::string path;
  int64_t size = 0;
  ASSERT_TRUE(s->Locate("a", "127.0.0.1:2", &path, &size));
  EXPECT_EQ(path, ObjectFilePath(root_ + "/spill", "a"));
  EXPECT_EQ(size, 1000);
  auto holders = s->Free({"a"});
  EXPECT_EQ(holders["127.0.0.1:2"], std::vector<std::string>{"a"}) << "a raylet that read it is told";
  EXPECT_EQ(s->Info().spilled_bytes(), 0);
  EXPECT_FALSE(OpenStoredObject(root_ + "/mem", root_ + "/spill", "a").ok());
}

TEST_F(ObjectStoreTest, OwnersObjectsGoWithThemAndUnsealedLeftoversExpire) {
  auto s = Make(1 << 20, false);
  ASSERT_TRUE(s->Create("x", 10, {"h:1", "dead", "j"}, true).ok());
  ASSERT_TRUE(s->Seal("x").ok());
  ASSERT_TRUE(s->Create("y", 10, {"h:2", "alive", "j"}, true).ok());
  ASSERT_TRUE(s->Seal("y").ok());
  s->FreeOwnedIf([](const ObjectMeta& m) { return m.owner_worker_id == "dead"; });
  EXPECT_FALSE(s->IsSealed("x"));
  EXPECT_TRUE(s->IsSealed("y"));
  ASSERT_TRUE(s->Create("z", 10, {}, true).ok());
  s->DropStaleWrites(NowMs() + 120000, 60000);
  EXPECT_EQ(s->Info().num_objects(), 1);
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
