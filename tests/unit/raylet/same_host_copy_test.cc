// A copy between two raylets of one host (raylet/same_host_copy.h,
// raylet/object_lender.h), with two real object stores: the holder lends a
// sealed object (pinned until given back or its lease ends, the puller
// recorded as a holder), and the puller copies it whole into its own arena;
// what is not the lender's arena, or not on this host, is refused.
#include "raylet/same_host_copy.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "raylet/object_lender.h"
#include "testing/shell.h"

namespace glint::raylet {
namespace {

constexpr int64_t kSize = 3 << 20;  // spans many pages, not a whole number of them: + 5 below

class SameHostCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = glint::testing::TempDir("glint-copy-test");
    holder_ = Make("holder");
    puller_ = Make("puller");
    data_.resize(kSize + 5);
    for (size_t i = 0; i < data_.size(); ++i) data_[i] = static_cast<char>(i * 131 % 251);
    // Something before it, so the object does not start the arena.
    ASSERT_TRUE(holder_->Create("first", 1000, {}, true).ok());
    ASSERT_TRUE(holder_->Write("first", 0, std::string(1000, 'f')).ok());
    ASSERT_TRUE(holder_->Seal("first").ok());
    ASSERT_TRUE(holder_->Create("obj", data_.size(), {}, true).ok());
    ASSERT_TRUE(holder_->Write("obj", 0, data_).ok());
    ASSERT_TRUE(holder_->Seal("obj").ok());
    lender_ = std::make_unique<ObjectLender>(holder_.get(), true);
  }
  std::unique_ptr<ObjectStore> Make(const std::string& name, int64_t warm_bytes = -1) {
    ObjectStoreOptions o;
    o.dir = root_ + "/" + name;
    o.capacity = 64 << 20;
    o.warm_bytes = warm_bytes;
    o.spill_reserve_bytes = 0;
    auto s = std::make_unique<ObjectStore>(o);
    EXPECT_TRUE(s->Init().ok());
    return s;
  }
  proto::LendObjectRequest Ask(const std::string& id = "obj", int64_t lease_ms = 30000) {
    proto::LendObjectRequest req;
    req.set_object_id(id);
    req.set_requester("127.0.0.1:7");
    req.set_lease_ms(lease_ms);
    return req;
  }
  int Pins(const std::string& id) {
    bool truncated = false;
    for (auto& o : holder_->List(100, &truncated)) {
      if (o.object_id() == id) return o.pins();
    }
    return -1;
  }
  // A store's copy of `id`, read back (pinned meanwhile).
  static std::string Copied(ObjectStore* store, const std::string& id = "obj") {
    ObjectLocation where;
    if (!store->Pin(id, "reader", &where)) return "<absent>";
    std::string out(where.size, '\0');
    int fd = open(store->arena_path().c_str(), O_RDONLY);
    EXPECT_EQ(pread(fd, out.data(), out.size(), where.offset), where.size);
    close(fd);
    store->Unpin(id, "reader");
    return out;
  }
  std::string Copied() { return Copied(puller_.get()); }
  // Copies the lent object into `store` as a new object, checks it and frees
  // it (so the next copy lands in the same range); the object's offset.
  int64_t CopyAndFree(ObjectStore* store, const proto::LendObjectReply& lent, int parts = 1) {
    const std::string id = "copy " + std::to_string(++copies_);
    auto offset = store->Create(id, lent.size(), {}, false);
    EXPECT_TRUE(offset.ok());
    auto arena = LentArena::Open(lent);
    EXPECT_TRUE(arena.ok()) << arena.status();
    if (!offset.ok() || !arena.ok()) return -1;
    std::vector<std::thread> threads;
    std::vector<absl::Status> results(static_cast<size_t>(parts));
    for (int i = 0; i < parts; ++i) {
      const int64_t from = lent.size() / parts * i, to = i == parts - 1 ? lent.size() : lent.size() / parts * (i + 1);
      threads.emplace_back([&, i, from, to] { results[i] = (*arena)->CopyPart(store, id, from, to - from); });
    }
    for (auto& t : threads) t.join();
    for (auto& r : results) EXPECT_TRUE(r.ok()) << r;
    EXPECT_TRUE(store->Seal(id).ok());
    EXPECT_TRUE(Copied(store, id) == data_) << "every byte, in place (copy " << copies_ << ")";
    store->Free({id});
    return *offset;
  }
  int copies_ = 0;
  std::string root_, data_;
  std::unique_ptr<ObjectStore> holder_, puller_;
  std::unique_ptr<ObjectLender> lender_;
};

TEST_F(SameHostCopyTest, ALentObjectIsCopiedWholeAndGivenBack) {
  proto::LendObjectReply lent;
  ASSERT_TRUE(lender_->Lend(Ask(), 0, &lent).ok());
  ASSERT_TRUE(lent.found());
  EXPECT_EQ(lent.host_id(), HostId());
  EXPECT_EQ(lent.size(), static_cast<int64_t>(data_.size()));
  EXPECT_GT(lent.offset(), 0);
  EXPECT_EQ(Pins("obj"), 1) << "pinned while lent";
  ASSERT_TRUE(puller_->Create("obj", lent.size(), {}, false).ok());
  ASSERT_TRUE(CopyLentObject(lent, puller_.get(), "obj").ok());
  ASSERT_TRUE(puller_->Seal("obj").ok());
  EXPECT_TRUE(Copied() == data_) << "every byte, in place";
  EXPECT_FALSE(lender_->GiveBack("obj", "someone else's pin"));
  EXPECT_TRUE(lender_->GiveBack("obj", lent.client()));
  EXPECT_EQ(Pins("obj"), 0);
  EXPECT_FALSE(lender_->GiveBack("obj", lent.client())) << "once";
  // The puller holds a copy: it is told when the object is freed.
  auto holders = holder_->Free({"obj"});
  EXPECT_EQ(holders["127.0.0.1:7"], std::vector<std::string>{"obj"});
}

TEST_F(SameHostCopyTest, ALoanEndsWithItsLeaseAndLoansAreBounded) {
  proto::LendObjectReply lent;
  ASSERT_TRUE(lender_->Lend(Ask("obj", 1000), 5000, &lent).ok());
  lender_->Expire(5999);
  EXPECT_EQ(Pins("obj"), 1);
  lender_->Expire(6000);
  EXPECT_EQ(Pins("obj"), 0) << "a puller that never gives it back holds it for its lease only";
  EXPECT_EQ(lender_->Loans(), 0u);
  for (size_t i = 0; i < ObjectLender::kMaxLoans; ++i) {
    proto::LendObjectReply r;
    ASSERT_TRUE(lender_->Lend(Ask(), 0, &r).ok());
  }
  proto::LendObjectReply over;
  EXPECT_TRUE(absl::IsResourceExhausted(lender_->Lend(Ask(), 0, &over)));
  lender_->Expire(30000);
  EXPECT_EQ(Pins("obj"), 0);
  EXPECT_TRUE(lender_->Lend(Ask(), 30000, &over).ok());
}

TEST_F(SameHostCopyTest, WhatCannotBeLentIsSaidSo) {
  proto::LendObjectReply r;
  EXPECT_TRUE(lender_->Lend(Ask("no such object"), 0, &r).ok());
  EXPECT_FALSE(r.found());
  EXPECT_TRUE(absl::IsInvalidArgument(lender_->Lend(Ask("obj", 0), 0, &r)));
  EXPECT_TRUE(absl::IsInvalidArgument(lender_->Lend(Ask("obj", ObjectLender::kMaxLeaseMs + 1), 0, &r)));
  auto no_requester = Ask();
  no_requester.set_requester("");
  EXPECT_TRUE(absl::IsInvalidArgument(lender_->Lend(no_requester, 0, &r)));
  ObjectLender off(holder_.get(), false);
  EXPECT_TRUE(absl::IsFailedPrecondition(off.Lend(Ask(), 0, &r)));
  ASSERT_TRUE(holder_->Create("unsealed", 10, {}, true).ok());
  proto::LendObjectReply unsealed;
  EXPECT_TRUE(lender_->Lend(Ask("unsealed"), 0, &unsealed).ok());
  EXPECT_FALSE(unsealed.found());
  EXPECT_EQ(lender_->Loans(), 0u);
}

TEST_F(SameHostCopyTest, APullerCopiesOnlyFromTheLendersArenaOnThisHost) {
  proto::LendObjectReply lent;
  ASSERT_TRUE(lender_->Lend(Ask(), 0, &lent).ok());
  ASSERT_TRUE(puller_->Create("obj", lent.size(), {}, false).ok());
  auto other_host = lent;
  other_host.set_host_id("another host's boot id");
  EXPECT_TRUE(absl::IsFailedPrecondition(CopyLentObject(other_host, puller_.get(), "obj")));
  auto other_file = lent;
  other_file.set_arena_path(puller_->arena_path());  // a file here, but not the one lent
  EXPECT_TRUE(absl::IsFailedPrecondition(CopyLentObject(other_file, puller_.get(), "obj")));
  auto gone = lent;
  gone.set_arena_path(root_ + "/no such file");
  EXPECT_TRUE(absl::IsFailedPrecondition(CopyLentObject(gone, puller_.get(), "obj")));
  auto outside = lent;
  outside.set_offset(holder_->options().capacity);
  EXPECT_TRUE(absl::IsInvalidArgument(CopyLentObject(outside, puller_.get(), "obj")));
  auto bigger = lent;
  bigger.set_size(lent.size() + 1);
  EXPECT_TRUE(absl::IsOutOfRange(CopyLentObject(bigger, puller_.get(), "obj"))) << "larger than the object here";
  ASSERT_TRUE(CopyLentObject(lent, puller_.get(), "obj").ok()) << "the lent one still copies";
  ASSERT_TRUE(puller_->Seal("obj").ok());
  EXPECT_TRUE(Copied() == data_);
}

// Where copies keep landing, in the warm part of the arena (whose pages
// stay), they go through the store's mapping of it after a few copies; the
// first ones, and any above the warm part, go file to file. Parts of one
// object may be copied at once.
TEST_F(SameHostCopyTest, CopiesThatKeepLandingInTheWarmPartGoThroughItsMapping) {
  proto::LendObjectReply lent;
  ASSERT_TRUE(lender_->Lend(Ask(), 0, &lent).ok());
  const int64_t size = lent.size();
  int64_t first = -1;
  for (int i = 0; i < ObjectStore::kCopiesBeforeMapping; ++i) {
    const int64_t offset = CopyAndFree(puller_.get(), lent);
    if (i == 0) first = offset;
    EXPECT_EQ(offset, first) << "first fit: the same range again";
  }
  EXPECT_EQ(puller_->copied_bytes().file_to_file, ObjectStore::kCopiesBeforeMapping * size);
  EXPECT_EQ(puller_->copied_bytes().through_mapping, 0);
  CopyAndFree(puller_.get(), lent, /*parts=*/3);
  EXPECT_EQ(puller_->copied_bytes().through_mapping, size) << "from then on through the mapping";
  EXPECT_EQ(puller_->copied_bytes().file_to_file, ObjectStore::kCopiesBeforeMapping * size);

  // A warm part ending inside the object: the rest goes file to file.
  const int64_t warm = ObjectStore::kWarmBlock / 2;
  auto split = Make("split", warm);
  for (int i = 0; i <= ObjectStore::kCopiesBeforeMapping; ++i) ASSERT_EQ(CopyAndFree(split.get(), lent), 0);
  EXPECT_EQ(split->copied_bytes().through_mapping, warm);
  EXPECT_EQ(split->copied_bytes().file_to_file, (ObjectStore::kCopiesBeforeMapping + 1) * size - warm);
  // No warm part: always file to file.
  auto cold = Make("cold", 0);
  for (int i = 0; i <= ObjectStore::kCopiesBeforeMapping; ++i) CopyAndFree(cold.get(), lent);
  EXPECT_EQ(cold->copied_bytes().through_mapping, 0);
  EXPECT_EQ(cold->copied_bytes().file_to_file, (ObjectStore::kCopiesBeforeMapping + 1) * size);
}

// From a file on another file system (/dev/shm into this test's /tmp), the
// kernel may refuse to copy between them; the store then copies through a
// buffer. Either way the bytes arrive whole.
TEST_F(SameHostCopyTest, AnObjectIsWrittenWholeFromAFileOnThisOrAnotherFileSystem) {
  std::vector<std::string> sources = {root_ + "/source"};
  if (access("/dev/shm", W_OK) == 0) sources.push_back("/dev/shm/glint-copy-test-" + std::to_string(getpid()));
  for (size_t i = 0; i < sources.size(); ++i) {
    int fd = open(sources[i].c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0) << sources[i];
    ASSERT_EQ(pwrite(fd, data_.data(), data_.size(), 7), static_cast<ssize_t>(data_.size()));
    const std::string id = "from file " + std::to_string(i);
    ASSERT_TRUE(puller_->Create(id, data_.size(), {}, false).ok());
    auto short_source = puller_->WriteFrom(id, 0, fd, 9, data_.size());
    EXPECT_TRUE(absl::IsDataLoss(short_source)) << "the file ends first: " << short_source;
    EXPECT_TRUE(puller_->WriteFrom(id, 0, fd, 7, data_.size()).ok()) << sources[i];
    close(fd);
    unlink(sources[i].c_str());
    ASSERT_TRUE(puller_->Seal(id).ok());
    ObjectLocation where;
    ASSERT_TRUE(puller_->Pin(id, "reader", &where));
    std::string out(where.size, '\0');
    int arena = open(puller_->arena_path().c_str(), O_RDONLY);
    EXPECT_EQ(pread(arena, out.data(), out.size(), where.offset), where.size);
    close(arena);
    EXPECT_TRUE(out == data_) << sources[i];
  }
}

}  // namespace
}  // namespace glint::raylet
