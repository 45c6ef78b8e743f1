// Objects through real processes: ownership and freeing (objects go when
// their last reference drops; references that travel stay readable), and the
// nodes' shared-memory object stores: large values stored once per node,
// pulled between nodes, spilled, freed on every node, and the errors when an
// owner or a node is lost or a store is full.
#include <glint/api.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "common/rpc.h"
#include "integration/test_functions.h"
#include "testing/test_cluster.h"
#include "proto/raylet.grpc.pb.h"

namespace {

using glint::testing::ClusterTest;
using glint::testing::Contains;

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

// Reads every byte: a value that arrived whole and unchanged gives the same sum.
uint64_t Checksum(std::vector<uint8_t> v) { return tf::Checksum(v.data(), v.size()); }

using tf::Fill;

// Large values inside a user struct, by reference.
struct Bundle {
  std::string tag;
  std::vector<glint::ObjectRef<std::vector<uint8_t>>> parts;
  MSGPACK_DEFINE(tag, parts);
};

// An actor that owns the objects it makes.
class Maker {
 public:
  static Maker* Create() { return new Maker(); }
  Bundle Make(int n, int kib) {
    Bundle b{"bundle", {}};
    for (int i = 0; i < n; ++i) b.parts.push_back(glint::Put(Fill(static_cast<size_t>(kib) << 10, i)));
    return b;
  }
  std::vector<uint8_t> Big(int kib, int seed) { return Fill(static_cast<size_t>(kib) << 10, seed); }
};

// An actor in a process with little private memory to spare: room for the
// value it returns once, not for a second copy of it.
class Tight {
 public:
  static Tight* Create() { return new Tight(); }
  std::vector<uint8_t> Big(int mib, int seed) {
    size_t bytes = static_cast<size_t>(mib) << 20;
    tf::LeaveRoomForOneCopyOf(bytes);
    return Fill(bytes, seed);
  }
};

// The same on an async actor: from a coroutine method, which finishes in
// a later piece on the actor's loop, and from a plain method (run on the
// loop too).
class TightAsync {
 public:
  static TightAsync* Create() { return new TightAsync(); }
  glint::Async<std::vector<uint8_t>> Big(int mib, int seed) {
    co_await glint::Yield();
    size_t bytes = static_cast<size_t>(mib) << 20;
    tf::LeaveRoomForOneCopyOf(bytes);
    co_return Fill(bytes, seed);
  }
  std::vector<uint8_t> Plain(int mib, int seed) { return Tight().Big(mib, seed); }
};

using BlobRefs = std::vector<glint::ObjectRef<std::vector<uint8_t>>>;

// The same from a coroutine method of an async actor.
class AsyncMaker {
 public:
  static AsyncMaker* Create() { return new AsyncMaker(); }
  glint::Async<Bundle> Make(int n, int kib) {
    co_await glint::Yield();
    co_return Maker().Make(n, kib);
  }
};

uint64_t ChecksumAll(BlobRefs refs) {
  uint64_t h = 0;
  for (auto& r : refs) h += Checksum(r.Get());
  return h;
}

// An actor that keeps references it was given, as a member.
class Keeper {
 public:
  static Keeper* Create() { return new Keeper(); }
  int Keep(BlobRefs refs) {
    kept_ = std::move(refs);
    return static_cast<int>(kept_.size());
  }
  uint64_t SumKept() { return ChecksumAll(kept_); }
  int Forget() {
    kept_.clear();
    return 0;
  }

 private:
  BlobRefs kept_;
};

GLINT_REMOTE(MakeBlob, SumNested, Checksum, ChecksumAll, Maker::Create, &Maker::Make, &Maker::Big,
             Keeper::Create, &Keeper::Keep, &Keeper::SumKept, &Keeper::Forget, AsyncMaker::Create,
             &AsyncMaker::Make, Tight::Create, &Tight::Big, TightAsync::Create, &TightAsync::Big,
             &TightAsync::Plain);

using glint::testing::StoreInfo;

int64_t StoredObjects(const std::string& raylet) { return StoreInfo(raylet).num_objects(); }

class ObjectsTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() {
    StartSuite(2);
  }
};

TEST_F(ObjectsTest, MemoryReturnsToBaselineAfter10GiBOfPutsAndDrops) {
  SKIP_RSS_UNDER_SANITIZER();
  const std::string node = cluster_->head_raylet_address();
  { auto warm = glint::Put(MakeBlob(64, 0)); }
  ASSERT_TRUE(glint::testing::WaitUntil([&] { return StoreInfo(node).used() == 0; }));
  int64_t baseline = Rss();
  auto blob = MakeBlob(64, 7);
  for (int i = 0; i < 160; ++i) {  // 160 x 64 MiB = 10 GiB
    ASSERT_LT(Rss() - baseline, 512 << 20) << "no growth in this process (round " << i << ")";
    ASSERT_LE(StoreInfo(node).used(), 4 * (64 << 20)) << "no growth in the node's store (round " << i << ")";
    auto ref = glint::Put(blob);
    if (i % 32 == 0) {
      ASSERT_TRUE(BlobOk(ref.Get(), 64, 7));
    }
  }
  blob.clear();
  blob.shrink_to_fit();
  EXPECT_LT(Rss() - baseline, 256 << 20) << "freed objects give their memory back";
  EXPECT_TRUE(glint::testing::WaitUntil([&] { return StoreInfo(node).used() == 0; }))
      << "the store is empty again: " << StoreInfo(node).DebugString();
}

TEST_F(ObjectsTest, TaskResultsAreFreedWhenDropped) {
  SKIP_RSS_UNDER_SANITIZER();
  { auto warm = glint::Task(MakeBlob).Remote(16, 0).Get(); }
  int64_t baseline = Rss();
  for (int i = 0; i < 64; ++i) {  // 1 GiB of results through the owner
    auto ref = glint::Task(MakeBlob).Remote(16, i);
    if (i % 8 == 0) {
      ASSERT_TRUE(BlobOk(ref.Get(), 16, i));
    }
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

// Two nodes: the driver's (head) and node B (resource "nodeB").
class StoreTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new glint::testing::TestCluster(2);
    node_b_ = cluster_->AddNode(2, R"({"nodeB": 100})");
    glint::Config c;
    c.address = cluster_->gcs_address();
    glint::Init(c);
  }
  static std::map<std::string, double> OnB() { return {{"nodeB", 1}}; }
  // Both stores hold nothing (everything dropped so far has been freed).
  static bool StoresEmpty() {
    return StoredObjects(cluster_->head_raylet_address()) == 0 && StoredObjects(node_b_) == 0;
  }
  // An actor on node B that keeps the only reference to a 4 MiB object the
  // driver owns (the driver's own copy dropped).
  static glint::ActorHandle<Keeper> KeeperOfTheOnlyReference(int seed) {
    EXPECT_TRUE(glint::testing::WaitUntil(StoresEmpty)) << Stores();
    auto keeper = glint::Actor(Keeper::Create).SetResources(OnB()).Remote();
    BlobRefs refs = {glint::Put(Fill(4 << 20, seed))};
    EXPECT_EQ(keeper.Task(&Keeper::Keep).Remote(refs).Get(std::chrono::seconds(60)), 1);
    return keeper;
  }
  static std::string Stores() {
    return "head: " + StoreInfo(cluster_->head_raylet_address()).ShortDebugString() +
           "; node B: " + StoreInfo(node_b_).ShortDebugString();
  }
  static inline std::string node_b_;
};

TEST_F(StoreTest, LargeValuesGoToTheStoreAndSmallOnesStayInline) {
  const std::string head = cluster_->head_raylet_address();
  ASSERT_TRUE(glint::testing::WaitUntil(StoresEmpty)) << Stores();
  auto small = glint::Put(Fill(50 << 10, 1));
  EXPECT_EQ(StoredObjects(head), 0) << "50 KiB travels inline";
  auto big = glint::Put(Fill(24 << 20, 2));
  auto info = StoreInfo(head);
  EXPECT_EQ(info.num_objects(), 1);
  EXPECT_GE(info.used(), 24 << 20);
  EXPECT_EQ(Checksum(big.Get()), Checksum(Fill(24 << 20, 2)));
  EXPECT_EQ(Checksum(small.Get()), Checksum(Fill(50 << 10, 1)));
  big = {};
  EXPECT_TRUE(glint::testing::WaitUntil([&] { return StoredObjects(head) == 0; })) << "freed when dropped";
}

TEST_F(StoreTest, ATaskOnAnotherNodeReadsAnObjectMadeHereAndTheCopyIsFreedToo) {
  auto data = Fill(40 << 20, 3);  // 10 chunks
  auto ref = glint::Put(data);
  auto sum = glint::Task(Checksum).SetResources(OnB()).Remote(ref);
  EXPECT_EQ(sum.Get(std::chrono::seconds(60)), Checksum(data));
  EXPECT_EQ(StoredObjects(node_b_), 1) << "node B keeps a cached copy";
  // A second reader on node B finds the copy there.
  EXPECT_EQ(glint::Task(Checksum).SetResources(OnB()).Remote(ref).Get(std::chrono::seconds(60)), Checksum(data));
  ref = {};
  EXPECT_TRUE(glint::testing::WaitUntil(StoresEmpty)) << Stores() << "freed on every node";
}

TEST_F(StoreTest, LargeResultsAndArgumentsCrossNodesWhole) {
  // A result made on node B, read here.
  auto blob = glint::Task(MakeBlob).SetResources(OnB()).Remote(32, 5);
  EXPECT_TRUE(BlobOk(blob.Get(std::chrono::seconds(60)), 32, 5));
  // A large argument by value: stored once here, mapped by the worker on B.
  auto data = Fill(12 << 20, 9);
  EXPECT_EQ(glint::Task(Checksum).SetResources(OnB()).Remote(data).Get(std::chrono::seconds(60)), Checksum(data));
  EXPECT_EQ(glint::Task(Checksum).Remote(data).Get(std::chrono::seconds(60)), Checksum(data));
  blob = {};
  EXPECT_TRUE(glint::testing::WaitUntil(StoresEmpty)) << Stores() << "results and by-value arguments are freed";
}

TEST_F(StoreTest, AnActorReturnsLargeValuesAndStructsOfReferencesItOwns) {
  auto maker = glint::Actor(Maker::Create).SetResources(OnB()).Remote();
  auto big = maker.Task(&Maker::Big).Remote(3 << 10, 4);
  EXPECT_EQ(Checksum(big.Get(std::chrono::seconds(60))), Checksum(Fill(3 << 20, 4)));
  Bundle b = maker.Task(&Maker::Make).Remote(3, 512).Get(std::chrono::seconds(60));
  ASSERT_EQ(b.parts.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Checksum(b.parts[i].Get()), Checksum(Fill(512 << 10, i))) << i;
  // The parts are the actor's: a task on node B reads one too.
  EXPECT_EQ(glint::Task(Checksum).SetResources(OnB()).Remote(b.parts[1]).Get(std::chrono::seconds(60)),
            Checksum(Fill(512 << 10, 1)));
  glint::Kill(maker);
}

// A large result is packed straight into the node's store: the worker needs
// no memory for a second copy of it (packed bytes, then copied).
TEST_F(StoreTest, ALargeResultNeedsNoRoomForASecondCopyInItsWorker) {
  auto tight = glint::Actor(Tight::Create).Remote();
  auto big = tight.Task(&Tight::Big).Remote(128, 6);
  EXPECT_EQ(Checksum(big.Get(std::chrono::seconds(60))), Checksum(Fill(128 << 20, 6)));
  glint::Kill(tight);  // its process keeps the limit
}

TEST_F(StoreTest, AnAsyncActorsLargeResultsNeedNoRoomForASecondCopyEither) {
  auto tight = glint::Actor(TightAsync::Create).Remote();
  auto big = tight.Task(&TightAsync::Big).Remote(128, 7);
  EXPECT_EQ(Checksum(big.Get(std::chrono::seconds(60))), Checksum(Fill(128 << 20, 7)));
  auto plain = tight.Task(&TightAsync::Plain).Remote(128, 8);
  EXPECT_EQ(Checksum(plain.Get(std::chrono::seconds(60))), Checksum(Fill(128 << 20, 8)));
  glint::Kill(tight);
}

TEST_F(StoreTest, WaitFetchLocalCopiesTheValueHereAndWithoutItDoesNot) {
  const std::string head = cluster_->head_raylet_address();
  ASSERT_TRUE(glint::testing::WaitUntil(StoresEmpty)) << Stores();
  std::vector<glint::ObjectRef<std::vector<uint8_t>>> refs = {glint::Task(MakeBlob).SetResources(OnB()).Remote(8, 1)};
  auto remote = glint::Wait(refs, 1, std::chrono::seconds(60), /*fetch_local=*/false);
  ASSERT_EQ(remote.ready.size(), 1u);
  EXPECT_EQ(StoredObjects(head), 0) << "ready on node B, not copied here";
  EXPECT_EQ(StoredObjects(node_b_), 1);
  auto local = glint::Wait(refs, 1, std::chrono::seconds(60), /*fetch_local=*/true);
  ASSERT_EQ(local.ready.size(), 1u);
  EXPECT_EQ(StoredObjects(head), 1) << "copied here before Wait returned";
  EXPECT_TRUE(BlobOk(refs[0].Get(), 8, 1));
  refs.clear();
  remote = local = {};
  EXPECT_TRUE(glint::testing::WaitUntil(StoresEmpty)) << Stores();
}

TEST_F(StoreTest, FuturesCallbacksAndAsCompletedWorkForStoredRemoteValues) {
  std::vector<glint::ObjectRef<std::vector<uint8_t>>> refs;
  for (int i = 0; i < 4; ++i) refs.push_back(glint::Task(MakeBlob).SetResources(OnB()).Remote(2, i));
  refs.push_back(glint::Put(MakeBlob(2, 4)));
  refs.push_back(glint::Task(MakeBlob).Remote(0, 5));  // an empty (inline) value among them
  auto future = refs[0].ToFuture();
  std::atomic<int> called{0};
  refs[1].OnReady([&called] { ++called; });
  std::set<std::string> seen;
  for (const auto& ref : glint::AsCompleted(refs, std::chrono::seconds(60))) {
    EXPECT_TRUE(seen.insert(ref.ID()).second) << "each reference once";
    size_t i = 0;
    while (refs[i].ID() != ref.ID()) ++i;
    EXPECT_TRUE(BlobOk(ref.Get(std::chrono::milliseconds(0)), i == 5 ? 0 : 2, static_cast<int>(i)))
        << "ready and here when yielded: " << i;
  }
  EXPECT_EQ(seen.size(), refs.size());
  EXPECT_TRUE(BlobOk(future.get(), 2, 0));
  EXPECT_TRUE(glint::testing::WaitUntil([&] { return called == 1; }));
}

TEST_F(StoreTest, ABorrowerGetsOwnerDiedWhenTheOwnerIsGone) {
  auto maker = glint::Actor(Maker::Create).SetResources(OnB()).Remote();
  Bundle b = maker.Task(&Maker::Make).Remote(1, 256).Get(std::chrono::seconds(60));
  glint::Kill(maker);  // the owner of b.parts[0]
  // Its node frees what it owned once it is gone.
  ASSERT_TRUE(glint::testing::WaitUntil([] { return StoredObjects(node_b_) == 0; })) << Stores();
  EXPECT_THROW(b.parts[0].Get(std::chrono::seconds(30)), glint::OwnerDiedError);
  b.parts.clear();
  EXPECT_TRUE(glint::testing::WaitUntil(StoresEmpty)) << Stores() << "an owner's objects go with it";
}

TEST_F(StoreTest, ReferencesPassedInArgumentsAreFreedOnceTheCallAndTheDriverAreDone) {
  ASSERT_TRUE(glint::testing::WaitUntil(StoresEmpty)) << Stores();
  BlobRefs refs = {glint::Put(Fill(2 << 20, 1)), glint::Put(Fill(2 << 20, 2))};
  uint64_t want = Checksum(Fill(2 << 20, 1)) + Checksum(Fill(2 << 20, 2));
  EXPECT_EQ(glint::Task(ChecksumAll).SetResources(OnB()).Remote(refs).Get(std::chrono::seconds(60)), want);
  refs.clear();
  EXPECT_TRUE(glint::testing::WaitUntil(StoresEmpty)) << Stores() << " (nested references are not kept for good)";
}

TEST_F(StoreTest, APutValueKeepsTheReferencesInsideItAliveAndThenLetsThemGo) {
  ASSERT_TRUE(glint::testing::WaitUntil(StoresEmpty)) << Stores();
  BlobRefs inner = {glint::Put(Fill(2 << 20, 3)), glint::Put(Fill(2 << 20, 4))};
  auto outer = glint::Put(inner);
  inner.clear();  // only the outer value refers to them now
  uint64_t want = Checksum(Fill(2 << 20, 3)) + Checksum(Fill(2 << 20, 4));
  EXPECT_EQ(ChecksumAll(outer.Get()), want);
  EXPECT_EQ(glint::Task(ChecksumAll).SetResources(OnB()).Remote(outer).Get(std::chrono::seconds(60)), want)
      << "read through the outer value on another node";
  outer = {};
  EXPECT_TRUE(glint::testing::WaitUntil(StoresEmpty)) << Stores() << " (freed with the outer value)";
}

TEST_F(StoreTest, ReferencesInAReturnedValueLiveWithItAndGoAfterIt) {
  ASSERT_TRUE(glint::testing::WaitUntil(StoresEmpty)) << Stores();
  auto maker = glint::Actor(Maker::Create).SetResources(OnB()).Remote();
  auto bundle = maker.Task(&Maker::Make).Remote(2, 512);
  for (int round = 0; round < 2; ++round) {  // the actor's own copies are long gone
    Bundle b = bundle.Get(std::chrono::seconds(60));
    ASSERT_EQ(b.parts.size(), 2u);
    for (int i = 0; i < 2; ++i) EXPECT_EQ(Checksum(b.parts[i].Get()), Checksum(Fill(512 << 10, i))) << round;
  }
  EXPECT_EQ(StoredObjects(node_b_), 2);
  bundle = {};
  EXPECT_TRUE(glint::testing::WaitUntil(StoresEmpty)) << Stores() << " (freed once the result went)";
  glint::Kill(maker);
  // A coroutine's result does the same.
  auto async_maker = glint::Actor(AsyncMaker::Create).SetResources(OnB()).Remote();
  auto later = async_maker.Task(&AsyncMaker::Make).Remote(1, 256);
  later.Get(std::chrono::seconds(60));
  EXPECT_EQ(Checksum(later.Get().parts[0].Get()), Checksum(Fill(256 << 10, 0)));
  later = {};
  EXPECT_TRUE(glint::testing::WaitUntil(StoresEmpty)) << Stores();
  glint::Kill(async_maker);
}

TEST_F(StoreTest, AnActorThatKeepsBorrowedReferencesKeepsTheObjectsAlive) {
  auto keeper = KeeperOfTheOnlyReference(7);
  // The actor still reads it: its borrow keeps it alive.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(keeper.Task(&Keeper::SumKept).Remote().Get(std::chrono::seconds(60)), Checksum(Fill(4 << 20, 7)));
  }
  EXPECT_EQ(StoredObjects(cluster_->head_raylet_address()), 1);
  keeper.Task(&Keeper::Forget).Remote().Get(std::chrono::seconds(60));
  EXPECT_TRUE(glint::testing::WaitUntil(StoresEmpty)) << Stores() << " (freed once the borrower let go)";
  glint::Kill(keeper);
}

TEST_F(StoreTest, ABorrowerThatDiesLetsGoOfWhatItHeld) {
  auto keeper = KeeperOfTheOnlyReference(8);
  EXPECT_EQ(StoredObjects(cluster_->head_raylet_address()), 1) << "the keeper holds it";
  glint::Kill(keeper);  // it never says it let go
  EXPECT_TRUE(glint::testing::WaitUntil(StoresEmpty)) << Stores() << " (the owner saw its borrower die)";
}

TEST_F(StoreTest, StatusShowsEachNodesObjectStoreUse) {
  auto held = glint::Put(Fill(24 << 20, 7));
  std::string out;
  int status = 0;
  EXPECT_TRUE(glint::testing::WaitUntil([&] {
    out = glint::testing::RunCommand(std::string(GLINT_CLI_PATH) + " status --address " + cluster_->gcs_address(),
                                     &status);
    return status == 0 && out.find("OBJECT STORE") != std::string::npos && out.find("24 MiB / ") != std::string::npos;
  })) << out;
}

// Last in the suite: it kills node B.
// Its task cannot run again (no other node has what it needs): lost, saying why.
// (Objects made again on a node that is left: tests/fault/lineage_test.cc.)
TEST_F(StoreTest, ZZAnObjectWhoseOnlyCopyDiedWithItsNodeIsLost) {
  auto blob = glint::Task(MakeBlob).SetResources(OnB()).Remote(4, 1);
  ASSERT_EQ(glint::Wait(std::vector{blob}, 1, std::chrono::seconds(60), false).ready.size(), 1u);
  cluster_->KillNode(node_b_);
  try {
    blob.Get(std::chrono::seconds(60));
    ADD_FAILURE() << "read an object lost with its node";
  } catch (const glint::ObjectLostError& e) {
    EXPECT_PRED2(Contains, e.what(), "running its task 'MakeBlob' again to make it failed: no node");
  }
}

// One node with a 64 MiB store: spilling to disk, and the full-store error without it.
class SpillTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() { StartSuite(1, "", "", {"--object_store_memory=64M"}); }
};

TEST_F(SpillTest, PrimaryCopiesSpillToDiskAndStayReadable) {
  const std::string head = cluster_->head_raylet_address();
  std::vector<glint::ObjectRef<std::vector<uint8_t>>> refs;
  for (int i = 0; i < 6; ++i) refs.push_back(glint::Put(Fill(20 << 20, i)));  // 120 MiB in 64
  auto info = StoreInfo(head);
  EXPECT_LE(info.used(), 64 << 20);
  EXPECT_GE(info.num_spilled(), 3);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(Checksum(refs[i].Get()), Checksum(Fill(20 << 20, i))) << i;
  EXPECT_EQ(glint::Task(Checksum).Remote(refs[0]).Get(std::chrono::seconds(60)), Checksum(Fill(20 << 20, 0)))
      << "a worker reads a spilled object";
  refs.clear();
  EXPECT_TRUE(glint::testing::WaitUntil([&] {
    auto i = StoreInfo(head);
    return i.num_objects() == 0 && i.spilled_bytes() == 0;
  }));
}

class StoreFullTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() {
    StartSuite(1, "", "", {"--object_store_memory=64M", "--object_spilling=false"});
  }
};

TEST_F(StoreFullTest, AFullStoreFailsPutsClearlyUntilSomethingIsFreed) {
  auto a = glint::Put(Fill(24 << 20, 1));
  auto b = glint::Put(Fill(24 << 20, 2));
  try {
    glint::Put(Fill(24 << 20, 3));
    FAIL() << "a third 24 MiB object does not fit in 64 MiB";
  } catch (const glint::ObjectStoreFullError& e) {
    EXPECT_NE(std::string(e.what()).find("no room"), std::string::npos) << e.what();
  }
  EXPECT_THROW(glint::Put(Fill(80 << 20, 4)), glint::ObjectStoreFullError) << "bigger than the store";
  // A task whose result does not fit fails with the same error, and the worker lives on.
  EXPECT_THROW(glint::Task(MakeBlob).Remote(30, 1).Get(std::chrono::seconds(60)), glint::ObjectStoreFullError);
  a = {};
  auto c = glint::Put(Fill(24 << 20, 3));  // room again (the free reaches the raylet while Put waits)
  EXPECT_EQ(Checksum(c.Get()), Checksum(Fill(24 << 20, 3)));
  EXPECT_EQ(Checksum(b.Get()), Checksum(Fill(24 << 20, 2)));
}

}  // namespace
