// ActorPool through real actor processes: the seed's example, results in
// input and in completion order, Submit/GetNext, idle actors taken out and
// put back, and actors that die under a Map.
#include <glint/api.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <vector>

#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;

class Doubler {
 public:
  static Doubler* Create() { return new Doubler(); }
  int Double(int v) { return 2 * v; }
  // Item `slow` waits for an item on `gate` first (the test releases it).
  int DoubleAfterGate(glint::Queue<int> gate, int slow, int v) {
    if (v == slow) gate.Get();
    return 2 * v;
  }
  // Item `fatal` ends the actor's process.
  int DoubleOrDie(int fatal, int v) {
    if (v == fatal) _exit(1);
    return 2 * v;
  }
  int Pid() const { return getpid(); }
  int Fail(int v) {
    if (v < 0) throw std::invalid_argument("negative");
    return v;
  }
};

GLINT_REMOTE(Doubler::Create, &Doubler::Double, &Doubler::DoubleAfterGate, &Doubler::DoubleOrDie, &Doubler::Pid,
             &Doubler::Fail);

using Handle = glint::ActorHandle<Doubler>;

std::vector<Handle> Actors(int n) {
  std::vector<Handle> out;
  for (int i = 0; i < n; ++i) out.push_back(glint::Actor(Doubler::Create).Remote());
  return out;
}

auto Double = [](Handle& a, int v) { return a.Task(&Doubler::Double).Remote(v); };

class ActorPoolTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() { StartSuite(4); }
};

TEST_F(ActorPoolTest, TheSeedsExampleMapsInInputOrder) {
  glint::ActorPool<Doubler> pool({glint::Actor(Doubler::Create).Remote(), glint::Actor(Doubler::Create).Remote()});
  std::vector<int> got;
  for (int r : pool.Map(Double, std::vector<int>{1, 2, 3, 4})) got.push_back(r);
  EXPECT_EQ(got, (std::vector<int>{2, 4, 6, 8}));
  EXPECT_FALSE(pool.HasNext());
  // Many more items than actors, each one once, in order.
  std::vector<int> values(200);
  for (int i = 0; i < 200; ++i) values[i] = i;
  auto all = pool.Map(Double, values).ToVector();
  ASSERT_EQ(all.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(all[i], 2 * i);
  auto unordered = pool.MapUnordered(Double, values).ToVector();
  std::sort(unordered.begin(), unordered.end());
  EXPECT_EQ(unordered, all);
}

TEST_F(ActorPoolTest, ASlowItemHoldsOneActorAndUnorderedResultsComeFirst) {
  glint::Queue<int> gate(0);
  glint::ActorPool<Doubler> pool(Actors(2));
  auto fn = [gate](Handle& a, int v) { return a.Task(&Doubler::DoubleAfterGate).Remote(gate, 0, v); };
  auto results = pool.MapUnordered(fn, std::vector<int>{0, 1, 2, 3, 4});
  std::multiset<int> first;
  auto it = results.begin();
  first.insert(*it);
  for (int i = 0; i < 3; ++i) first.insert(*++it);  // item 0 still waits at the gate
  EXPECT_EQ(first, (std::multiset<int>{2, 4, 6, 8}));
  gate.Put(1);
  EXPECT_EQ(*++it, 0);
  ++it;
  EXPECT_TRUE(it == results.end());

  // In input order the slow item comes first; the others run meanwhile on
  // the other actor.
  auto ordered = pool.Map(fn, std::vector<int>{0, 1, 2, 3});
  EXPECT_TRUE(glint::testing::WaitUntil([&] { return pool.HasFree(); }))
      << "items 1-3 are done while item 0 waits, and the actor that ran them is idle";
  gate.Put(1);
  EXPECT_EQ(ordered.ToVector(), (std::vector<int>{0, 2, 4, 6}));
}

TEST_F(ActorPoolTest, SubmitAndGetNextInterleave) {
  glint::Queue<int> gate(0);
  glint::ActorPool<Doubler> pool(Actors(2));
  EXPECT_FALSE(pool.HasNext());
  EXPECT_THROW(pool.GetNext(), glint::Error);
  EXPECT_THROW(pool.GetNextUnordered(), glint::Error);
  for (int v : {1, 2, 3}) pool.Submit(Double, v);
  EXPECT_TRUE(pool.HasNext());
  int first = pool.GetNext();
  EXPECT_EQ(first, 2);
  pool.Submit(Double, 4);
  EXPECT_EQ(pool.GetNext<int>(), 4);
  EXPECT_EQ(pool.GetNext<int>(), 6);
  EXPECT_EQ(pool.GetNextUnordered<int>(), 8);
  EXPECT_FALSE(pool.HasNext());

  // A result that is not there in time stays in the pool.
  auto gated = [gate](Handle& a, int v) { return a.Task(&Doubler::DoubleAfterGate).Remote(gate, 7, v); };
  pool.Submit(gated, 7);
  EXPECT_THROW(pool.GetNext(std::chrono::milliseconds(200)), glint::GetTimeoutError);
  EXPECT_THROW(pool.GetNextUnordered(std::chrono::milliseconds(0)), glint::GetTimeoutError);
  EXPECT_TRUE(pool.HasNext());
  gate.Put(1);
  EXPECT_EQ(pool.GetNext<int>(std::chrono::seconds(60)), 14);

  // A call's error is its item's; the wrong result type is a clear error.
  pool.Submit([](Handle& a, int v) { return a.Task(&Doubler::Fail).Remote(v); }, -1);
  pool.Submit(Double, 5);
  EXPECT_THROW(pool.GetNext<int>(), glint::TaskError);
  EXPECT_THROW(pool.GetNext<std::string>(), glint::Error);
  EXPECT_FALSE(pool.HasNext());
  EXPECT_EQ(pool.Size(), 2u);
}

TEST_F(ActorPoolTest, IdleActorsComeOutAndGoBackIn) {
  auto actors = Actors(2);
  glint::ActorPool<Doubler> pool(actors);
  EXPECT_TRUE(pool.HasFree());
  auto a = pool.PopIdle();
  auto b = pool.PopIdle();
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(pool.HasFree());
  EXPECT_FALSE(pool.PopIdle().has_value());
  EXPECT_EQ(pool.Size(), 0u);
  // Work waits for an actor; waiting for it meanwhile is an error, not a hang.
  pool.Submit(Double, 21);
  EXPECT_THROW(pool.GetNext(), glint::Error);
  pool.Push(*a);
  EXPECT_EQ(pool.GetNext<int>(), 42);
  EXPECT_THROW(pool.Push(*a), glint::Error) << "an actor joins a pool once";
  pool.Push(*b);
  EXPECT_EQ(pool.Size(), 2u);
  // The actor that was taken out is still usable by itself.
  EXPECT_EQ(a->Task(&Doubler::Double).Remote(1).Get(), 2);
}

TEST_F(ActorPoolTest, AnActorThatDiesLeavesThePoolAndOnlyItsItemFails) {
  glint::ActorPool<Doubler> pool(Actors(3));
  auto risky = [](Handle& a, int v) { return a.Task(&Doubler::DoubleOrDie).Remote(3, v); };
  std::vector<int> values;
  for (int i = 0; i < 12; ++i) values.push_back(i);
  std::vector<int> got;
  int died = 0;
  auto results = pool.Map(risky, values);
  for (auto it = results.begin(); it != results.end(); ++it) {
    try {
      got.push_back(*it);
    } catch (const glint::ActorDiedError&) {
      ++died;
      got.push_back(-1);
    }
  }
  std::vector<int> want;
  for (int v : values) want.push_back(v == 3 ? -1 : 2 * v);
  EXPECT_EQ(got, want);
  EXPECT_EQ(died, 1);
  EXPECT_EQ(pool.Size(), 2u);

  // When every actor dies, the items still waiting fail too.
  auto all_die = pool.MapUnordered(risky, std::vector<int>{3, 3, 3, 4, 5});
  int failed = 0;
  for (auto it = all_die.begin(); it != all_die.end(); ++it) {
    try {
      (void)*it;
    } catch (const glint::ActorDiedError&) {
      ++failed;
    }
  }
  EXPECT_EQ(failed, 5) << "the first two items end both actors; the rest never run";
  EXPECT_EQ(pool.Size(), 0u);
  EXPECT_FALSE(pool.HasNext());
}

TEST_F(ActorPoolTest, ADroppedMapFreesItsActorsForTheNextOne) {
  glint::Queue<int> gate(0);
  glint::ActorPool<Doubler> pool(Actors(2));
  auto gated = [gate](Handle& a, int v) { return a.Task(&Doubler::DoubleAfterGate).Remote(gate, 0, v); };
  {
    auto dropped = pool.Map(gated, std::vector<int>{0, 0, 1, 2, 3});
    EXPECT_FALSE(pool.HasFree());
  }
  EXPECT_FALSE(pool.HasNext()) << "a dropped Map's results are not handed out";
  gate.Put(1);
  gate.Put(1);
  // Both actors come back once their calls end.
  EXPECT_EQ(pool.Map(Double, std::vector<int>{5, 6}).ToVector(), (std::vector<int>{10, 12}));
  EXPECT_TRUE(glint::testing::WaitUntil([&] { return gate.Size() == 0 && pool.HasFree(); }));
  EXPECT_EQ(pool.Size(), 2u);
}

}  // namespace
