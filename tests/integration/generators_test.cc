// Generators through real processes: tasks and the three actor kinds
// yielding items one by one, consumed blocking, from coroutines and in
// Wait; errors, crashes, retries, backpressure and dropping. Files written
// by the producers (which run in other processes) say what they did.
#include <glint/api.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <set>

#include "common/rpc.h"
#include "integration/test_functions.h"
#include "proto/raylet.grpc.pb.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;
using glint::testing::FileExists;
using glint::testing::ReadFile;
using glint::testing::Touch;
using glint::testing::WaitUntil;

glint::Generator<int> Count(int n) {
  for (int i = 0; i < n; ++i) co_yield i;
}

// The seed's example: raises at item 1.
glint::Generator<int> ThrowAtOne() {
  for (int i = 0; i < 5; ++i) {
    if (i == 1) throw std::invalid_argument("no item one");
    co_yield i;
  }
}

// Yields `first` items, then writes its pid to dir/pid and waits for
// dir/go before yielding the rest (up to `n`).
glint::Generator<int> PauseAfter(std::string dir, int first, int n) {
  for (int i = 0; i < n; ++i) {
    if (i == first) {
      tf::WriteFile(dir + "/pid", std::to_string(getpid()));
      tf::WaitForFile(dir + "/go");
    }
    co_yield i;
  }
}

// First attempt: as PauseAfter(dir, 2, 5) (to be killed at the pause);
// later attempts yield all five at once.
glint::Generator<int> RetriedAfterTwo(std::string dir) {
  bool first = !FileExists(dir + "/attempted");
  Touch(dir + "/attempted");
  for (int i = 0; i < 5; ++i) {
    if (first && i == 2) {
      tf::WriteFile(dir + "/pid", std::to_string(getpid()));
      tf::WaitForFile(dir + "/never");
    }
    co_yield i;
  }
}

// Writes dir/closed when its frame is destroyed.
// Counts what it produced in dir/produced, for ever (until stopped).
glint::Generator<std::string> Endless(std::string dir, int item_bytes) {
  tf::MarkOnDestroy mark{dir + "/closed"};
  for (int i = 0;; ++i) {
    tf::WriteFile(dir + "/produced", std::to_string(i + 1));
    co_yield std::string(item_bytes, static_cast<char>('a' + i % 26));
  }
}

glint::Generator<std::vector<uint8_t>> Blobs(int n, int bytes) {
  for (int i = 0; i < n; ++i) co_yield std::vector<uint8_t>(bytes, static_cast<uint8_t>(i));
}

int Plus(int a, int b) { return a + b; }

// Packs the first time only (as a value whose packing reads something that
// changes meanwhile): measured once, it throws when packed for good, after
// the reference inside it was packed.
struct PacksOnce {
  glint::ObjectRef<std::vector<uint8_t>> ref;
  mutable int packed = 0;
  template <typename Packer>
  void msgpack_pack(Packer& pk) const {
    pk.pack_array(1);
    pk.pack(ref);
    if (++packed > 1) throw std::runtime_error("packed twice");
  }
  void msgpack_unpack(const msgpack::object& o) { o.via.array.ptr[0].convert(ref); }
};
// Yields a reference to an object of `bytes` it puts (and owns), in an
// item that cannot be packed (named first: g++ 12 mishandles an aggregate
// built in a co_yield, see README.md, "Generators").
glint::Generator<PacksOnce> YieldsUnpackable(int bytes) {
  PacksOnce item{glint::Put(std::vector<uint8_t>(bytes, 1))};
  co_yield std::move(item);
}

class Streamer {
 public:
  static Streamer* Create() { return new Streamer(); }
  glint::Generator<int> Five() {
    for (int i = 0; i < 5; ++i) co_yield 10 * i;
  }
  // Five items; the first incarnation pauses after two (to be killed).
  glint::Generator<int> FiveUnlessFirst(std::string dir) {
    for (int i = 0; i < 5; ++i) {
      if (i == 2 && !glint::WasCurrentActorRestarted()) {
        tf::WriteFile(dir + "/pid", std::to_string(getpid()));
        tf::WaitForFile(dir + "/never");
      }
      co_yield i;
    }
  }
  // Yields one item, then waits for `path` (to be killed meanwhile).
  glint::Generator<int> OneThenWait(std::string path) {
    co_yield 1;
    tf::WriteFile(path + ".pid", std::to_string(getpid()));
    tf::WaitForFile(path);
    co_yield 2;
  }
  // Yields a reference to an object of `bytes` it puts (and owns); then
  // waits for dir/go and yields another such reference. Writes dir/closed
  // when its frame is destroyed.
  glint::Generator<glint::ObjectRef<std::vector<uint8_t>>> PutThenWait(std::string dir, int bytes) {
    tf::MarkOnDestroy mark{dir + "/closed"};
    co_yield glint::Put(std::vector<uint8_t>(bytes, 1));
    tf::WaitForFile(dir + "/go");
    co_yield glint::Put(std::vector<uint8_t>(bytes, 2));
  }
  int Go(std::string dir) {
    Touch(dir + "/go");
    return 1;
  }
};

// Streams `n` items of `mib` MiB in a process with room for one item, not
// for a second copy of it.
class TightStreamer {
 public:
  static TightStreamer* Create() { return new TightStreamer(); }
  glint::Generator<std::vector<uint8_t>> Blobs(int n, int mib) {
    size_t bytes = static_cast<size_t>(mib) << 20;
    for (int i = 0; i < n; ++i) {
      // Again for each item: freed memory may stay mapped (a sanitizer's
      // allocator keeps it a while).
      tf::LeaveRoomForOneCopyOf(bytes);
      co_yield tf::Fill(bytes, static_cast<uint8_t>(i));
    }
  }
};

class Ticker {
 public:
  static Ticker* Create() { return new Ticker(); }
  // Large items from a coroutine.
  glint::AsyncGenerator<std::vector<uint8_t>> Blobs(int n, int kib) {
    for (int i = 0; i < n; ++i) {
      co_await glint::Yield();
      co_yield tf::Fill(static_cast<size_t>(kib) << 10, static_cast<uint8_t>(i));
    }
  }
  glint::AsyncGenerator<int> Ticks(int n) {
    for (int i = 0; i < n; ++i) {
      co_await glint::Sleep(std::chrono::milliseconds(5));
      co_yield i;
    }
  }
  glint::AsyncGenerator<int> ThrowAfter(int n) {
    for (int i = 0; i < n; ++i) co_yield i;
    co_await glint::Yield();
    throw std::runtime_error("ticker broke");
  }
  // Consumes a generator task from a coroutine; writes dir/first-<tag>
  // once it has the first item.
  glint::Async<int> Consume(std::string dir, std::string tag) {
    auto gen = glint::Task(PauseAfter).Remote(dir, 1, 4);
    int sum = 0;
    while (auto ref = co_await gen.NextAsync()) {
      sum += co_await *ref;
      if (!FileExists(dir + "/first-" + tag)) Touch(dir + "/first-" + tag);
    }
    co_return sum;
  }
  // An endless async producer with backpressure (dir/produced, dir/closed).
  glint::AsyncGenerator<int> Forever(std::string dir) {
    tf::MarkOnDestroy mark{dir + "/closed"};
    for (int i = 0;; ++i) {
      tf::WriteFile(dir + "/produced", std::to_string(i + 1));
      co_yield i;
    }
  }
};

GLINT_REMOTE(Count, ThrowAtOne, PauseAfter, RetriedAfterTwo, Endless, Blobs, Plus, YieldsUnpackable, Streamer::Create,
             &Streamer::Five, &Streamer::FiveUnlessFirst, &Streamer::OneThenWait, &Streamer::PutThenWait, &Streamer::Go, Ticker::Create, &Ticker::Ticks, &Ticker::ThrowAfter,
             &Ticker::Consume, &Ticker::Forever, &Ticker::Blobs, TightStreamer::Create, &TightStreamer::Blobs);
GLINT_CONCURRENCY_GROUP("io", &Streamer::OneThenWait);

template <typename T>
std::vector<T> Drain(glint::ObjectRefGenerator<T>& gen) {
  std::vector<T> out;
  for (auto& ref : gen) out.push_back(ref.Get(std::chrono::seconds(60)));
  return out;
}

int64_t StoredObjects(const std::string& raylet) { return glint::testing::StoreInfo(raylet).num_objects(); }
uint64_t Sum(const std::vector<uint8_t>& v) { return tf::Checksum(v.data(), v.size()); }

// Reads every item of a generator whose item i is tf::Fill(bytes, i): how
// many there were (each checked whole).
int ReadFilled(glint::ObjectRefGenerator<std::vector<uint8_t>>& gen, size_t bytes) {
  int i = 0;
  for (auto& ref : gen) {
    EXPECT_EQ(Sum(ref.Get(std::chrono::seconds(60))), Sum(tf::Fill(bytes, static_cast<uint8_t>(i)))) << i;
    ++i;
  }
  return i;
}

class GeneratorTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() {
    StartSuite(4);
    node2_ = cluster_->AddNode(1, R"({"two": 1})");
  }
  void SetUp() override { dir_ = glint::testing::TempDir("glint-gen"); }
  void TearDown() override { Touch(dir_ + "/go"); }  // nothing stays blocked
  std::string dir_;
  static inline std::string node2_;
};

TEST_F(GeneratorTest, ATaskStreamsItsItemsInOrder) {
  auto gen = glint::Task(Count).Remote(5);
  EXPECT_EQ(Drain(gen), (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(gen.Next(), std::nullopt) << "the end stays the end";
  auto none = glint::Task(Count).Remote(0);
  EXPECT_EQ(none.Next(std::chrono::seconds(60)), std::nullopt);
}

TEST_F(GeneratorTest, AThrowAfterOneItemGivesTheItemThenTheErrorThenTheEnd) {
  auto gen = glint::Task(ThrowAtOne).Remote();
  auto first = gen.Next();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->Get(), 0);
  auto second = gen.Next();
  ASSERT_TRUE(second) << "the error is an item of its own";
  try {
    second->Get();
    FAIL() << "expected TaskError";
  } catch (const glint::TaskError& e) {
    EXPECT_NE(e.type().find("invalid_argument"), std::string::npos) << e.what();
    EXPECT_EQ(e.message(), "no item one");
  }
  EXPECT_EQ(gen.Next(), std::nullopt);
}

TEST_F(GeneratorTest, ItemsComeWhileTheProducerStillRuns) {
  auto gen = glint::Task(PauseAfter).Remote(dir_, 2, 4);
  auto a = gen.Next(std::chrono::seconds(60));
  auto b = gen.Next(std::chrono::seconds(60));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->Get(), 0);
  EXPECT_EQ(b->Get(), 1);
  EXPECT_THROW(gen.Next(std::chrono::milliseconds(100)), glint::GetTimeoutError) << "the producer is paused";
  Touch(dir_ + "/go");
  EXPECT_EQ(Drain(gen), (std::vector<int>{2, 3}));
}

TEST_F(GeneratorTest, SyncThreadedAndAsyncActorsStreamFiveItems) {
  auto sync = glint::Actor(Streamer::Create).Remote();
  auto threaded = glint::Actor(Streamer::Create).SetMaxConcurrency(5).Remote();
  auto async = glint::Actor(Ticker::Create).Remote();
  auto g1 = sync.Task(&Streamer::Five).Remote();
  auto g2 = threaded.Task(&Streamer::Five).Remote();
  auto g3 = async.Task(&Ticker::Ticks).Remote(5);
  EXPECT_EQ(Drain(g1), (std::vector<int>{0, 10, 20, 30, 40}));
  EXPECT_EQ(Drain(g2), (std::vector<int>{0, 10, 20, 30, 40}));
  EXPECT_EQ(Drain(g3), (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST_F(GeneratorTest, AMethodInAConcurrencyGroupStreamsBesideOtherCalls) {
  auto a = glint::Actor(Streamer::Create).SetConcurrencyGroups({{"io", 1}}).Remote();
  auto gen = a.Task(&Streamer::OneThenWait).Remote(dir_ + "/go");
  auto first = gen.Next(std::chrono::seconds(60));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->Get(), 1);
  // The default group still answers while the generator waits in "io".
  auto other = a.Task(&Streamer::Five).Remote();
  EXPECT_EQ(Drain(other).size(), 5u);
  Touch(dir_ + "/go");
  EXPECT_EQ(Drain(gen), (std::vector<int>{2}));
}

TEST_F(GeneratorTest, AnAsyncGeneratorThatThrowsEndsWithItsError) {
  auto t = glint::Actor(Ticker::Create).Remote();
  auto gen = t.Task(&Ticker::ThrowAfter).Remote(3);
  std::vector<int> got;
  for (int i = 0; i < 3; ++i) got.push_back(gen.Next()->Get());
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2}));
  auto err = gen.Next();
  ASSERT_TRUE(err);
  EXPECT_THROW(err->Get(), glint::TaskError);
  EXPECT_EQ(gen.Next(), std::nullopt);
}

TEST_F(GeneratorTest, LargeItemsTravelThroughTheNodeStoreFromAnotherNode) {
  auto gen = glint::Task(Blobs).SetResources({{"two", 1}}).Remote(3, 300 << 10);
  int i = 0;
  for (auto& ref : gen) {
    auto blob = ref.Get(std::chrono::seconds(60));
    ASSERT_EQ(blob.size(), 300u << 10);
    EXPECT_EQ(blob.front(), i);
    EXPECT_EQ(blob.back(), i);
    ++i;
  }
  EXPECT_EQ(i, 3);
}

// Large items are packed straight into the node's store: the producer
// needs no memory for a second copy of each.
TEST_F(GeneratorTest, LargeItemsNeedNoRoomForASecondCopyInTheProducer) {
  auto tight = glint::Actor(TightStreamer::Create).Remote();
  auto gen = tight.Task(&TightStreamer::Blobs).Remote(3, 96);
  EXPECT_EQ(ReadFilled(gen, 96 << 20), 3);
  glint::Kill(tight);  // its process keeps the limit
}

TEST_F(GeneratorTest, AnAsyncGeneratorsLargeItemsArriveWhole) {
  auto ticker = glint::Actor(Ticker::Create).Remote();
  auto gen = ticker.Task(&Ticker::Blobs).Remote(4, 300);
  EXPECT_EQ(ReadFilled(gen, 300 << 10), 4);
  glint::Kill(ticker);
}

TEST_F(GeneratorTest, AKilledWorkerEndsTheStreamWithWorkerCrashedError) {
  auto gen = glint::Task(PauseAfter).SetMaxRetries(0).Remote(dir_, 2, 4);
  EXPECT_EQ(gen.Next(std::chrono::seconds(60))->Get(), 0);
  EXPECT_EQ(gen.Next(std::chrono::seconds(60))->Get(), 1);
  ASSERT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/pid"); }));
  ASSERT_EQ(kill(tf::ReadInt(dir_ + "/pid"), SIGKILL), 0);
  auto err = gen.Next(std::chrono::seconds(60));
  ASSERT_TRUE(err);
  EXPECT_THROW(err->Get(), glint::WorkerCrashedError);
  EXPECT_EQ(gen.Next(), std::nullopt);
}

// Takes two items, kills the producer (its pid in dir/pid), and takes the rest.
std::vector<int> TwoThenKillThenRest(glint::ObjectRefGenerator<int>& gen, const std::string& dir) {
  std::vector<int> got;
  got.push_back(gen.Next(std::chrono::seconds(60))->Get());
  got.push_back(gen.Next(std::chrono::seconds(60))->Get());
  EXPECT_TRUE(WaitUntil([&] { return FileExists(dir + "/pid"); }));
  EXPECT_EQ(kill(tf::ReadInt(dir + "/pid"), SIGKILL), 0);
  for (auto& ref : gen) got.push_back(ref.Get(std::chrono::seconds(60)));
  return got;
}

TEST_F(GeneratorTest, ARetriedGeneratorDoesNotDeliverItemsTwice) {
  auto gen = glint::Task(RetriedAfterTwo).SetMaxRetries(1).Remote(dir_);
  EXPECT_EQ(TwoThenKillThenRest(gen, dir_), (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST_F(GeneratorTest, ARestartedActorRunsTheGeneratorAgainWithoutDuplicates) {
  auto a = glint::Actor(Streamer::Create).SetMaxRestarts(1).SetMaxTaskRetries(1).Remote();
  auto gen = a.Task(&Streamer::FiveUnlessFirst).Remote(dir_);
  EXPECT_EQ(TwoThenKillThenRest(gen, dir_), (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST_F(GeneratorTest, AKilledActorEndsItsStreamWithActorDiedError) {
  auto a = glint::Actor(Streamer::Create).SetConcurrencyGroups({{"io", 1}}).Remote();
  auto gen = a.Task(&Streamer::OneThenWait).Remote(dir_ + "/never");
  EXPECT_EQ(gen.Next(std::chrono::seconds(60))->Get(), 1);
  ASSERT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/never.pid"); }));
  ASSERT_EQ(kill(tf::ReadInt(dir_ + "/never.pid"), SIGKILL), 0);
  auto err = gen.Next(std::chrono::seconds(60));
  ASSERT_TRUE(err);
  EXPECT_THROW(err->Get(), glint::ActorDiedError);
  EXPECT_EQ(gen.Next(), std::nullopt);
}

TEST_F(GeneratorTest, BackpressureHoldsTheProducerUntilItemsAreConsumed) {
  auto gen = glint::Task(Endless).SetGeneratorBackpressure(2).Remote(dir_, 8);
  ASSERT_TRUE(WaitUntil([&] { return tf::ReadInt(dir_ + "/produced") >= 2; }));
  // Producing item 3 needs a consumed item: it must not come unasked.
  EXPECT_FALSE(WaitUntil([&] { return tf::ReadInt(dir_ + "/produced") > 2; }, std::chrono::milliseconds(500)));
  EXPECT_EQ(gen.Next()->Get(), std::string(8, 'a'));
  EXPECT_TRUE(WaitUntil([&] { return tf::ReadInt(dir_ + "/produced") == 3; }));
  EXPECT_FALSE(WaitUntil([&] { return tf::ReadInt(dir_ + "/produced") > 3; }, std::chrono::milliseconds(300)));
}

TEST_F(GeneratorTest, DroppingAHeldBackGeneratorStopsItsProducerAtItsYield) {
  {
    auto gen = glint::Task(Endless).SetGeneratorBackpressure(1).Remote(dir_, 8);
    EXPECT_EQ(gen.Next()->Get(), std::string(8, 'a'));
  }
  EXPECT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/closed"); })) << "the frame is destroyed, not leaked";
  EXPECT_EQ(glint::Task(Plus).Remote(1, 2).Get(std::chrono::seconds(60)), 3) << "its CPU is free again";
}

TEST_F(GeneratorTest, DroppingAnAsyncActorsGeneratorStopsItToo) {
  auto t = glint::Actor(Ticker::Create).Remote();
  {
    auto gen = t.Task(&Ticker::Forever).SetGeneratorBackpressure(3).Remote(dir_);
    EXPECT_EQ(gen.Next()->Get(), 0);
  }
  EXPECT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/closed"); }));
  auto more = t.Task(&Ticker::Ticks).Remote(2);
  EXPECT_EQ(Drain(more), (std::vector<int>{0, 1})) << "the actor goes on";
}

TEST_F(GeneratorTest, DroppingFreesItemsNotTakenFromTheNodeStore) {
  auto stored = [&] { return StoredObjects(cluster_->head_raylet_address()) + StoredObjects(node2_); };
  int64_t before = stored();
  {
    auto gen = glint::Task(Blobs).Remote(4, 200 << 10);
    auto first = gen.Next(std::chrono::seconds(60));
    ASSERT_TRUE(first);
    ASSERT_TRUE(WaitUntil([&] { return stored() >= before + 4; })) << stored() << " vs " << before;
  }
  EXPECT_TRUE(WaitUntil([&] { return stored() == before; })) << stored() << " vs " << before;
}

// An item made after the caller dropped the generator is never sent: the
// references packed into it are let go, so what they point to is freed
// while the producer's process lives on.
TEST_F(GeneratorTest, AnItemMadeAfterTheDropLetsGoOfTheReferencesInIt) {
  auto stored = [&] { return StoredObjects(cluster_->head_raylet_address()) + StoredObjects(node2_); };
  auto s = glint::Actor(Streamer::Create).SetMaxConcurrency(2).Remote();
  ASSERT_EQ(s.Task(&Streamer::Five).Remote().Next(std::chrono::seconds(60))->Get(), 0) << "the actor is up";
  int64_t before = stored();
  {
    auto gen = s.Task(&Streamer::PutThenWait).Remote(dir_, 200 << 10);
    auto first = gen.Next(std::chrono::seconds(60));
    ASSERT_TRUE(first);
    EXPECT_EQ(first->Get(std::chrono::seconds(60)).Get(std::chrono::seconds(60)).size(), 200u << 10);
    EXPECT_EQ(stored(), before + 1);
  }  // dropped while the producer waits for dir/go
  // Sent after the drop on the same stream, so the producer goes on once its
  // generator is closed: its second item is made, and not sent.
  EXPECT_EQ(s.Task(&Streamer::Go).Remote(dir_).Get(std::chrono::seconds(60)), 1);
  ASSERT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/closed"); })) << "the producer stopped at its second item";
  EXPECT_TRUE(WaitUntil([&] { return stored() == before; })) << stored() << " vs " << before;
}

// An item whose packing throws is never made: the holds its packing took
// on the references inside it go, so what they point to is freed while
// the producer's process lives on.
TEST_F(GeneratorTest, AnItemThatFailsToPackLetsGoOfTheReferencesInIt) {
  auto stored = [&] { return StoredObjects(cluster_->head_raylet_address()) + StoredObjects(node2_); };
  int64_t before = stored();
  auto gen = glint::Task(YieldsUnpackable).Remote(200 << 10);
  auto failed = gen.Next(std::chrono::seconds(60));
  ASSERT_TRUE(failed) << "the error is an item";
  try {
    failed->Get(std::chrono::seconds(60));
    FAIL() << "expected TaskError";
  } catch (const glint::TaskError& e) {
    EXPECT_EQ(e.message(), "packed twice");
  }
  EXPECT_EQ(gen.Next(std::chrono::seconds(60)), std::nullopt);
  EXPECT_TRUE(WaitUntil([&] { return stored() == before; })) << stored() << " vs " << before;
}

TEST_F(GeneratorTest, TwoCoroutinesOfOneAsyncActorConsumeTwoGeneratorsAtOnce) {
  auto t = glint::Actor(Ticker::Create).Remote();
  auto a = t.Task(&Ticker::Consume).Remote(dir_, "a");
  auto b = t.Task(&Ticker::Consume).Remote(dir_, "b");
  // Both producers pause after their first item until dir/go: both
  // consumers have their first item while the other waits in NextAsync.
  ASSERT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/first-a") && FileExists(dir_ + "/first-b"); }));
  Touch(dir_ + "/go");
  EXPECT_EQ(a.Get(std::chrono::seconds(60)), 0 + 1 + 2 + 3);
  EXPECT_EQ(b.Get(std::chrono::seconds(60)), 0 + 1 + 2 + 3);
}

TEST_F(GeneratorTest, AWaitLoopOverGeneratorsAndRefsGetsEverything) {
  // The seed's ray.wait loop: a generator stays in play until it ends.
  std::vector<glint::ObjectRefGenerator<int>> gens = {glint::Task(Count).Remote(5),
                                                      glint::Task(Count).Remote(3)};
  std::vector<glint::ObjectRef<int>> refs = {glint::Task(Plus).Remote(100, 1), glint::Task(Plus).Remote(100, 2)};
  std::multiset<int> got;
  for (int rounds = 0; (!gens.empty() || !refs.empty()) && rounds < 100; ++rounds) {
    auto w = glint::Wait(refs, gens, 1, std::chrono::seconds(60));
    ASSERT_FALSE(w.ready_refs.empty() && w.ready_generators.empty()) << "nothing ready within 60 s";
    for (auto& r : w.ready_refs) got.insert(r.Get());
    refs = w.unready_refs;
    gens = w.unready_generators;
    for (auto& g : w.ready_generators) {
      if (auto item = g.Next(std::chrono::milliseconds(0))) {
        got.insert(item->Get());
        gens.push_back(g);
      }
    }
  }
  EXPECT_EQ(got, (std::multiset<int>{0, 1, 2, 3, 4, 0, 1, 2, 101, 102}));
}

TEST_F(GeneratorTest, WaitOnGeneratorsSaysWhichWouldNotBlock) {
  std::vector<glint::ObjectRefGenerator<int>> gens = {glint::Task(PauseAfter).Remote(dir_, 0, 1),
                                                      glint::Task(Count).Remote(1)};
  auto w = glint::Wait(gens, 1, std::chrono::seconds(60));
  ASSERT_EQ(w.ready.size(), 1u);
  EXPECT_EQ(w.ready[0], gens[1]);
  auto none = glint::Wait(w.unready, 1, std::chrono::milliseconds(100));
  EXPECT_TRUE(none.ready.empty()) << "the paused one has nothing yet";
  Touch(dir_ + "/go");
  EXPECT_EQ(glint::Wait(w.unready, 1, std::chrono::seconds(60)).ready.size(), 1u);
}

}  // namespace
