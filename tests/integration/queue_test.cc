// Queue through real processes: drivers, tasks and async actors sharing one
// queue; blocking with timeouts, batches, references inside items, a queue
// shared by name with another driver, and a queue whose actor is gone. This
// program is also that other driver: run as `queue_integration_test driver
// NAME NAMESPACE` it takes one item from the named queue and puts back ten
// times it.
#include <glint/api.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <thread>
#include <vector>

#include "common/process.h"
#include "testing/driver_process.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;
using glint::testing::WaitUntil;

// The seed's consumer: takes items until none comes for a second.
std::vector<int> Consume(glint::Queue<int> q) {
  std::vector<int> got;
  try {
    while (true) got.push_back(q.Get(true, std::chrono::seconds(1)));
  } catch (const glint::QueueEmpty&) {
  }
  return got;
}

// Takes one item from `q` once `gate` has one.
int TakeAfterGate(glint::Queue<int> q, glint::Queue<int> gate) {
  gate.Get();
  return q.Get();
}

// Reads the value behind the reference that came through the queue.
std::string ReadRef(glint::Queue<glint::ObjectRef<std::string>> q) { return q.Get().Get(); }

class Relay {
 public:
  static Relay* Create() { return new Relay(); }
  // Moves one item from `in` to `out`, times ten, without blocking the loop.
  glint::Async<int> Move(glint::Queue<int> in, glint::Queue<int> out) {
    int v = co_await in.GetAsync();
    co_await out.PutAsync(v * 10);
    co_return v;
  }
  glint::Async<int> Ping() { co_return 1; }
};

GLINT_REMOTE(Consume, TakeAfterGate, ReadRef, Relay::Create, &Relay::Move, &Relay::Ping);

class QueueTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() { StartSuite(4, "", "queue-tests"); }
};

TEST_F(QueueTest, TheSeedsTwoConsumersDrainTenItemsInOrder) {
  glint::Queue<int> queue(100);
  for (int i = 0; i < 10; ++i) queue.Put(i);
  EXPECT_EQ(queue.Size(), 10u);
  std::vector<glint::ObjectRef<std::vector<int>>> consumers;
  for (int id = 0; id < 2; ++id) consumers.push_back(glint::Task(Consume).Remote(queue));
  std::vector<int> all;
  for (auto& c : consumers) {
    auto got = c.Get();
    EXPECT_TRUE(std::is_sorted(got.begin(), got.end())) << "each consumer sees FIFO order";
    all.insert(all.end(), got.begin(), got.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})) << "every item once";
  EXPECT_TRUE(queue.Empty());
}

TEST_F(QueueTest, ItemsComeOutInTheOrderTheyWentIn) {
  glint::Queue<std::string> q(0);
  for (int i = 0; i < 300; ++i) q.PutNowait("item " + std::to_string(i));
  EXPECT_FALSE(q.Full()) << "maxsize 0 is unbounded";
  EXPECT_EQ(q.Maxsize(), 0);
  for (int i = 0; i < 300; ++i) ASSERT_EQ(q.GetNowait(), "item " + std::to_string(i));
}

TEST_F(QueueTest, EmptyAndFullAreErrorsAtOnceOrAfterTheTimeout) {
  glint::Queue<int> q(2);
  EXPECT_THROW(q.GetNowait(), glint::QueueEmpty);
  EXPECT_THROW(q.Get(false), glint::QueueEmpty);
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(q.Get(true, std::chrono::milliseconds(300)), glint::QueueEmpty);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300)) << "it waited its timeout";
  q.Put(1);
  q.Put(2);
  EXPECT_TRUE(q.Full());
  EXPECT_THROW(q.PutNowait(3), glint::QueueFull);
  start = std::chrono::steady_clock::now();
  EXPECT_THROW(q.Put(3, true, std::chrono::milliseconds(300)), glint::QueueFull);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
  EXPECT_EQ(q.Size(), 2u) << "a refused item is not in the queue";
  EXPECT_EQ(q.Get(), 1);
}

TEST_F(QueueTest, ABlockedPutIsReleasedByAConsumer) {
  glint::Queue<int> q(1), gate(0);
  q.Put(1);
  auto consumer = glint::Task(TakeAfterGate).Remote(q, gate);
  std::atomic<bool> put{false};
  std::thread producer([&] {
    q.Put(2);  // waits for room
    put = true;
  });
  EXPECT_FALSE(put) << "the queue is full until the consumer takes an item";
  EXPECT_EQ(q.Size(), 1u);
  gate.Put(0);
  EXPECT_EQ(consumer.Get(), 1);
  producer.join();
  EXPECT_TRUE(put);
  EXPECT_EQ(q.Get(), 2);
}

TEST_F(QueueTest, AnAsyncActorWaitsForAnItemWithoutBlockingItsLoop) {
  glint::Queue<int> in(0), out(1);
  auto relay = glint::Actor(Relay::Create).Remote();
  auto moved = relay.Task(&Relay::Move).Remote(in, out);  // waits inside the actor's loop...
  EXPECT_EQ(relay.Task(&Relay::Ping).Remote().Get(), 1) << "...which still answers other calls";
  EXPECT_EQ(out.Size(), 0u);
  in.Put(5);
  EXPECT_EQ(moved.Get(), 5);
  EXPECT_EQ(out.Get(), 50);
  // PutAsync waits for room too: `out` (maxsize 1) is full until we take.
  out.Put(0);
  auto second = relay.Task(&Relay::Move).Remote(in, out);
  in.Put(6);
  EXPECT_THROW(second.Get(std::chrono::milliseconds(200)), glint::GetTimeoutError) << "out is full";
  EXPECT_EQ(out.Get(), 0);
  EXPECT_EQ(second.Get(), 6);
  EXPECT_EQ(out.Get(), 60);
}

TEST_F(QueueTest, BatchesGoInAndOutWholeOrNotAtAll) {
  glint::Queue<int> q(3);
  q.Put(1);
  EXPECT_THROW(q.PutNowaitBatch({2, 3, 4}), glint::QueueFull);
  EXPECT_EQ(q.Size(), 1u) << "none of a refused batch went in";
  q.PutNowaitBatch({2, 3});
  EXPECT_TRUE(q.Full());
  EXPECT_THROW(q.GetNowaitBatch(4), glint::QueueEmpty);
  EXPECT_EQ(q.Size(), 3u) << "none of a refused batch came out";
  EXPECT_EQ(q.GetNowaitBatch(2), (std::vector<int>{1, 2}));
  EXPECT_EQ(q.GetNowaitBatch(0), (std::vector<int>{}));
  EXPECT_EQ(q.GetNowait(), 3);
}

TEST_F(QueueTest, ReferencesInsideItemsStayAliveWhileQueued) {
  glint::Queue<glint::ObjectRef<std::string>> q(0);
  {
    auto ref = glint::Put(std::string(300 * 1024, 'q'));  // in the node's store
    q.Put(ref);
    auto small = glint::Put(std::string("small"));
    q.Put(small);
  }  // the driver's own references are gone; the queue's are not
  EXPECT_EQ(glint::Task(ReadRef).Remote(q).Get(), std::string(300 * 1024, 'q'));
  EXPECT_EQ(q.Get().Get(), "small");
}

TEST_F(QueueTest, AQueueIsSharedByNameWithAnotherDriver) {
  glint::QueueOptions opts;
  opts.name = "shared-queue";
  opts.namespace_ = "elsewhere";
  opts.lifetime = glint::Lifetime::kDetached;
  glint::Queue<int> q(10, opts);
  q.Put(7);
  auto line = glint::testing::RunToEnd(cluster_->gcs_address(), {"shared-queue", "elsewhere"});
  EXPECT_EQ(line, "TOOK 7");
  EXPECT_EQ(q.Get(true, std::chrono::seconds(10)), 70);
  // Asking for it by name, or creating it with get_if_exists, finds the same queue.
  auto found = glint::GetQueue<int>("shared-queue", "elsewhere");
  ASSERT_TRUE(found.has_value());
  found->Put(8);
  opts.get_if_exists = true;
  glint::Queue<int> again(10, opts);
  EXPECT_EQ(again.Get(), 8);
  EXPECT_FALSE(glint::GetQueue<int>("no-such-queue").has_value());
  q.Shutdown();
  EXPECT_TRUE(WaitUntil([] { return !glint::GetQueue<int>("shared-queue", "elsewhere").has_value(); }))
      << "a shut-down queue's name is free";
}

TEST_F(QueueTest, AQueueWhoseActorIsGoneFailsEveryCallWithActorDiedError) {
  glint::Queue<int> q(0);
  glint::Queue<int> copy = q;
  std::atomic<int> outcome{0};  // 1: ActorDiedError, 2: anything else
  std::thread waiter([&] {
    try {
      copy.Get();
      outcome = 2;
    } catch (const glint::ActorDiedError&) {
      outcome = 1;
    } catch (...) {
      outcome = 2;
    }
  });
  // A Get surely waiting inside the actor: calls from one process start in
  // the order they were made, so it waits once Size() has answered.
  auto waiting = q.Actor().Task(&glint::internal::QueueActor::Get).Remote(int64_t{-1});
  EXPECT_EQ(q.Size(), 0u);
  q.Shutdown();
  EXPECT_THROW(waiting.Get(), glint::ActorDiedError);
  waiter.join();
  EXPECT_EQ(outcome, 1) << "the waiting Get ends with ActorDiedError";
  EXPECT_THROW(copy.Put(1), glint::ActorDiedError);
  EXPECT_THROW(copy.GetNowait(), glint::ActorDiedError);
  EXPECT_THROW(copy.Size(), glint::ActorDiedError);
  EXPECT_THROW(q.Put(1), glint::Error) << "the shut-down handle is empty";
}

TEST_F(QueueTest, BadArgumentsAreClearErrors) {
  EXPECT_THROW(glint::Queue<int>(-1), glint::Error);
  glint::Queue<int> q(1);
  EXPECT_THROW(q.Get(true, std::chrono::milliseconds(-1)), glint::Error);
  EXPECT_THROW(q.Put(1, true, std::chrono::milliseconds(-5)), glint::Error);
  glint::Queue<int> empty;
  EXPECT_THROW(empty.Put(1), glint::Error);
  EXPECT_EQ(q.Size(), 0u) << "nothing went in";
  // The wrong item type for a queue is an error unpacking the item.
  glint::Queue<std::string> texts(0);
  texts.Put("text");
  glint::Queue<int> same(texts.Actor());
  EXPECT_THROW(same.Get(), glint::Error);
}

}  // namespace

// `queue_integration_test driver NAME NAMESPACE`: the other driver.
int main(int argc, char** argv) {
  if (std::getenv("GLINT_WORKER_MODE")) glint::Init();
  if (argc == 4 && std::string(argv[1]) == "driver") {
    glint::Init();
    auto q = glint::GetQueue<int>(argv[2], argv[3]);
    if (!q) {
      std::cout << "NONE" << std::endl;
    } else {
      int v = q->Get(true, std::chrono::seconds(30));
      q->Put(v * 10);
      std::cout << "TOOK " << v << std::endl;
    }
    glint::Shutdown();
    return 0;
  }
  glint::testing::SetDriverProgram(glint::SelfExePath());
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
