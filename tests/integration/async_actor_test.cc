// Actor concurrency through real processes: async actors (coroutines on one
// event loop), threaded actors, and their limits. Concurrency is asserted by
// recorded overlap, never by wall time.
#include <glint/api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <glint/asio.h>

#include "http_counter.h"
#include "testing/test_cluster.h"
#include "integration/test_functions.h"

namespace {

using glint::testing::ClusterTest;
using glint::testing::WaitUntil;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class Sink {
 public:
  static Sink* Create() { return new Sink(); }
  int Value(int v) { return v; }
};

// An async actor: every method runs on its one event loop.
class Loop {
 public:
  static Loop* Create() { return new Loop(); }

  // The first three wait for the event the fourth sets.
  glint::Async<int> WaitOrSet(int i) {
    if (i == 3) {
      event_.Set();
    } else {
      co_await event_.Wait();
    }
    co_return i;
  }

  // Records [start, end] around a sleep; also the peak concurrency.
  glint::Async<std::vector<int64_t>> Nap(int ms) {
    int64_t start = NowNs();
    peak_ = std::max(peak_, ++running_);
    co_await glint::Sleep(std::chrono::milliseconds(ms));
    --running_;
    co_return std::vector<int64_t>{start, NowNs()};
  }
  int Peak() const { return peak_; }  // a plain method, on the loop too

  glint::Async<int> AwaitOther(glint::ActorHandle<Sink> other, int v) {
    int got = co_await other.Task(&Sink::Value).Remote(v);
    co_await glint::Yield();
    co_return got + co_await Helper();
  }
  glint::Async<int> Helper() { co_return 1000; }

  glint::Async<int> BlockingGet(glint::ActorHandle<Sink> other) {
    co_return glint::Get(other.Task(&Sink::Value).Remote(1));  // refused: would freeze the loop
  }
  glint::Async<int> Throw(std::string msg) {
    co_await glint::Yield();
    throw std::out_of_range(msg);
  }

  // The long-polling pattern: loops awaiting another actor, forever (here:
  // until `rounds` are done) while Count() still answers.
  glint::Async<int> Run(glint::ActorHandle<Sink> other, int rounds) {
    for (int i = 0; i < rounds; ++i) {
      count_ += co_await other.Task(&Sink::Value).Remote(1);
      co_await glint::Sleep(std::chrono::milliseconds(5));
    }
    co_return count_;
  }
  int Count() const { return count_; }

 private:
  glint::AsyncEvent event_;
  int running_ = 0;
  int peak_ = 0;
  int count_ = 0;
};

// The same long-polling loop in a sync actor blocks its only thread.
class SyncPoller {
 public:
  static SyncPoller* Create() { return new SyncPoller(); }
  int Run(glint::ActorHandle<Sink> other, int rounds) {
    for (int i = 0; i < rounds; ++i) {
      count_ += other.Task(&Sink::Value).Remote(1).Get();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // user work, not test sync
    }
    return count_;
  }
  int Count() const { return count_; }

 private:
  int count_ = 0;
};

// A threaded actor (max_concurrency n, no coroutines): Enter() waits until n
// calls have been inside at once (or 10 s), and records the peak.
class Threads {
 public:
  static Threads* Create(int n) { return new Threads(n); }
  int Enter() {
    int now = ++inside_;
    int peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (peak_.load() < n_ && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    --inside_;
    return 0;
  }
  int Peak() const { return peak_.load(); }

 private:
  explicit Threads(int n) : n_(n) {}
  const int n_;
  std::atomic<int> inside_{0}, peak_{0};
};

// Peak tracking for a group of calls: Enter() waits until `limit` are inside
// at once (or 10 s), so each group's peak shows its limit.
struct Gauge {
  std::atomic<int> inside{0}, peak{0};
  void Enter(int limit) {
    int now = ++inside;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (peak.load() < limit && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    --inside;
  }
};

// A sync actor with concurrency groups "io" (2) and "compute" (4).
class Grouped {
 public:
  static Grouped* Create() { return new Grouped(); }
  int Io() { io_.Enter(2); return 0; }
  int Compute() { compute_.Enter(4); return 0; }
  std::vector<int> Peaks() const { return {io_.peak.load(), compute_.peak.load()}; }
  // Default group (one thread): blocks until `path` exists.
  int Slow(std::string path) { return tf::WaitForFile(path); }
  int Ping() { return 1; }

 private:
  Gauge io_, compute_;
};

// The same with coroutines, on one loop: groups cap separately.
class AsyncGrouped {
 public:
  static AsyncGrouped* Create() { return new AsyncGrouped(); }
  glint::Async<int> Io() { co_return co_await Run(io_running_, io_peak_); }
  glint::Async<int> Compute() { co_return co_await Run(compute_running_, compute_peak_); }
  std::vector<int> Peaks() const { return {io_peak_, compute_peak_}; }

 private:
  glint::Async<int> Run(int& running, int& peak) {
    peak = std::max(peak, ++running);
    co_await glint::Sleep(std::chrono::milliseconds(50));
    --running;
    co_return 0;
  }
  int io_running_ = 0, io_peak_ = 0, compute_running_ = 0, compute_peak_ = 0;
};

GLINT_CONCURRENCY_GROUP("io", &Grouped::Io, &AsyncGrouped::Io);
GLINT_CONCURRENCY_GROUP("compute", &Grouped::Compute, &AsyncGrouped::Compute);

GLINT_REMOTE(Grouped::Create, &Grouped::Io, &Grouped::Compute, &Grouped::Peaks, &Grouped::Slow, &Grouped::Ping,
             AsyncGrouped::Create, &AsyncGrouped::Io, &AsyncGrouped::Compute, &AsyncGrouped::Peaks);

GLINT_REMOTE(Sink::Create, &Sink::Value, Loop::Create, &Loop::WaitOrSet, &Loop::Nap, &Loop::Peak,
             &Loop::AwaitOther, &Loop::Helper, &Loop::BlockingGet, &Loop::Throw, &Loop::Run, &Loop::Count,
             SyncPoller::Create, &SyncPoller::Run, &SyncPoller::Count, Threads::Create, &Threads::Enter,
             &Threads::Peak);

class AsyncActorTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() {
    StartSuite(2);
  }
};

TEST_F(AsyncActorTest, FourCoroutinesWaitForAnEventTheFourthSets) {
  auto a = glint::Actor(Loop::Create).Remote();
  std::vector<glint::ObjectRef<int>> refs;
  for (int i = 0; i < 4; ++i) refs.push_back(a.Task(&Loop::WaitOrSet).Remote(i));
  // Run one at a time, the first would wait forever: they must interleave.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(refs[i].Get(std::chrono::seconds(30)), i);
}

TEST_F(AsyncActorTest, FiftySleepersRunConcurrentlyOnTheDefaultActor) {
  auto a = glint::Actor(Loop::Create).Remote();
  std::vector<glint::ObjectRef<std::vector<int64_t>>> refs;
  for (int i = 0; i < 50; ++i) refs.push_back(a.Task(&Loop::Nap).Remote(1000));
  int64_t last_start = 0, first_end = INT64_MAX;
  for (auto& r : refs) {
    auto span = r.Get(std::chrono::seconds(60));
    last_start = std::max(last_start, span[0]);
    first_end = std::min(first_end, span[1]);
  }
  EXPECT_LT(last_start, first_end) << "every call started before any ended: all 50 overlapped";
  EXPECT_EQ(a.Task(&Loop::Peak).Remote().Get(), 50);
}

TEST_F(AsyncActorTest, MaxConcurrencyCapsRunningCoroutines) {
  auto a = glint::Actor(Loop::Create).SetMaxConcurrency(10).Remote();
  std::vector<glint::ObjectRef<std::vector<int64_t>>> refs;
  for (int i = 0; i < 40; ++i) refs.push_back(a.Task(&Loop::Nap).Remote(50));
  for (auto& r : refs) r.Get(std::chrono::seconds(60));
  int peak = a.Task(&Loop::Peak).Remote().Get();
  EXPECT_LE(peak, 10);
  EXPECT_GE(peak, 2) << "they did run concurrently";
}

TEST_F(AsyncActorTest, ThreadedActorOverlapsNCallsAndNeverMore) {
  auto t = glint::Actor(Threads::Create).SetMaxConcurrency(4).Remote(4);
  std::vector<glint::ObjectRef<int>> refs;
  for (int i = 0; i < 12; ++i) refs.push_back(t.Task(&Threads::Enter).Remote());
  for (auto& r : refs) r.Get(std::chrono::seconds(60));
  EXPECT_EQ(t.Task(&Threads::Peak).Remote().Get(), 4);
}

// Each call a threaded actor takes at once has a thread: more than the
// bound is a clear creation error; an async actor takes that many as
// coroutines.
TEST_F(AsyncActorTest, AThreadedActorAsksForAtMostAThousandThreads) {
  auto t = glint::Actor(Threads::Create).SetMaxConcurrency(5000).Remote(4);
  try {
    t.Task(&Threads::Peak).Remote().Get(std::chrono::seconds(60));
    FAIL() << "expected ActorDiedError";
  } catch (const glint::ActorDiedError& e) {
    EXPECT_NE(std::string(e.what()).find("thread of its own; 5000"), std::string::npos) << e.what();
  }
  auto a = glint::Actor(Loop::Create).SetMaxConcurrency(5000).Remote();
  EXPECT_EQ(a.Task(&Loop::Count).Remote().Get(std::chrono::seconds(60)), 0);
}

TEST_F(AsyncActorTest, CoAwaitOtherActorsYieldAndNestedCoroutines) {
  auto sink = glint::Actor(Sink::Create).Remote();
  auto a = glint::Actor(Loop::Create).Remote();
  EXPECT_EQ(a.Task(&Loop::AwaitOther).Remote(sink, 7).Get(std::chrono::seconds(30)), 1007);
}

TEST_F(AsyncActorTest, BlockingGetInsideAnAsyncMethodIsRefused) {
  auto sink = glint::Actor(Sink::Create).Remote();
  auto a = glint::Actor(Loop::Create).Remote();
  try {
    a.Task(&Loop::BlockingGet).Remote(sink).Get(std::chrono::seconds(30));
    FAIL() << "expected TaskError";
  } catch (const glint::TaskError& e) {
    EXPECT_EQ(e.type(), "glint::AsyncGetError");
    EXPECT_NE(e.message().find("co_await"), std::string::npos) << e.what();
  }
  EXPECT_EQ(a.Task(&Loop::Count).Remote().Get(), 0) << "the loop still answers";
}

TEST_F(AsyncActorTest, ACoroutineThatThrowsGivesTaskError) {
  auto a = glint::Actor(Loop::Create).Remote();
  try {
    a.Task(&Loop::Throw).Remote("nope").Get(std::chrono::seconds(30));
    FAIL() << "expected TaskError";
  } catch (const glint::TaskError& e) {
    EXPECT_EQ(e.type(), "std::out_of_range");
    EXPECT_EQ(e.message(), "nope");
  }
}

TEST_F(AsyncActorTest, LongPollingAsyncActorStillAnswersASyncOneDoesNot) {
  auto sink = glint::Actor(Sink::Create).Remote();
  auto a = glint::Actor(Loop::Create).Remote();
  auto run = a.Task(&Loop::Run).Remote(sink, 400);
  ASSERT_TRUE(WaitUntil([&] { return a.Task(&Loop::Count).Remote().Get(std::chrono::seconds(10)) > 0; }));
  EXPECT_NO_THROW(a.Task(&Loop::Count).Remote().Get(std::chrono::seconds(5)))
      << "the async actor answers while Run() loops";
  auto s = glint::Actor(SyncPoller::Create).Remote();
  auto srun = s.Task(&SyncPoller::Run).Remote(sink, 400);
  EXPECT_THROW(s.Task(&SyncPoller::Count).Remote().Get(std::chrono::milliseconds(300)), glint::GetTimeoutError)
      << "the sync actor's one thread is busy in Run()";
  EXPECT_EQ(run.Get(std::chrono::seconds(60)), 400);
  EXPECT_EQ(srun.Get(std::chrono::seconds(60)), 400);
}

TEST_F(AsyncActorTest, FuturesAndCallbacksOnRefs) {
  auto sink = glint::Actor(Sink::Create).Remote();
  auto fut = sink.Task(&Sink::Value).Remote(42).ToFuture();
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(fut.get(), 42);
  std::promise<void> called;
  sink.Task(&Sink::Value).Remote(1).OnReady([&] { called.set_value(); });
  EXPECT_EQ(called.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_THROW(glint::ActorExecutor(), glint::Error) << "a driver has no actor loop";
}

TEST_F(AsyncActorTest, ConcurrencyGroupsCapEachGroupSeparately) {
  auto g = glint::Actor(Grouped::Create).SetConcurrencyGroups({{"io", 2}, {"compute", 4}}).Remote();
  std::vector<glint::ObjectRef<int>> refs;
  for (int i = 0; i < 6; ++i) refs.push_back(g.Task(&Grouped::Io).Remote());
  for (int i = 0; i < 12; ++i) refs.push_back(g.Task(&Grouped::Compute).Remote());
  for (auto& r : refs) r.Get(std::chrono::seconds(60));
  EXPECT_EQ(g.Task(&Grouped::Peaks).Remote().Get(), (std::vector<int>{2, 4}));
}

TEST_F(AsyncActorTest, PerCallGroupOverrideRunsBesideABusyDefaultGroup) {
  std::string dir = glint::testing::TempDir();
  auto g = glint::Actor(Grouped::Create).SetConcurrencyGroups({{"io", 2}, {"compute", 4}}).Remote();
  auto slow = g.Task(&Grouped::Slow).Remote(dir + "/go");
  EXPECT_EQ(g.Task(&Grouped::Ping).SetConcurrencyGroup("io").Remote().Get(std::chrono::seconds(30)), 1)
      << "the io group answers while the default group's one thread is busy";
  auto queued = g.Task(&Grouped::Ping).Remote();
  EXPECT_THROW(queued.Get(std::chrono::milliseconds(200)), glint::GetTimeoutError)
      << "a default-group call waits behind Slow()";
  glint::testing::Touch(dir + "/go");
  EXPECT_EQ(slow.Get(std::chrono::seconds(30)), 1);
  EXPECT_EQ(queued.Get(std::chrono::seconds(30)), 1);
}

TEST_F(AsyncActorTest, AsyncConcurrencyGroupsCapEachGroupSeparately) {
  auto g = glint::Actor(AsyncGrouped::Create).SetConcurrencyGroups({{"io", 2}, {"compute", 4}}).Remote();
  std::vector<glint::ObjectRef<int>> refs;
  for (int i = 0; i < 10; ++i) refs.push_back(g.Task(&AsyncGrouped::Io).Remote());
  for (int i = 0; i < 20; ++i) refs.push_back(g.Task(&AsyncGrouped::Compute).Remote());
  for (auto& r : refs) r.Get(std::chrono::seconds(60));
  auto peaks = g.Task(&AsyncGrouped::Peaks).Remote().Get();
  EXPECT_EQ(peaks[0], 2);
  EXPECT_LE(peaks[1], 4);
  EXPECT_GE(peaks[1], 2);
}

TEST_F(AsyncActorTest, UnknownConcurrencyGroupIsAClearErrorAtTheCall) {
  auto g = glint::Actor(Grouped::Create).SetConcurrencyGroups({{"io", 2}}).Remote();
  try {
    g.Task(&Grouped::Ping).SetConcurrencyGroup("nope").Remote().Get(std::chrono::seconds(30));
    FAIL() << "expected an error";
  } catch (const glint::TaskError& e) {
    EXPECT_NE(e.message().find("unknown concurrency group 'nope'"), std::string::npos) << e.what();
    EXPECT_NE(e.message().find("io"), std::string::npos) << e.what();
  }
  // Compute() declares the group "compute", which this actor lacks.
  EXPECT_THROW(g.Task(&Grouped::Compute).Remote().Get(std::chrono::seconds(30)), glint::TaskError);
  EXPECT_EQ(g.Task(&Grouped::Ping).Remote().Get(), 1);
}

TEST_F(AsyncActorTest, DriverCoroutinesOnAnAsioLoopAwaitRefs) {
  auto sink = glint::Actor(Sink::Create).Remote();
  boost::asio::io_context io;
  int sum = 0;
  std::string error;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        for (int i = 1; i <= 3; ++i) sum += co_await glint::AsyncGet(sink.Task(&Sink::Value).Remote(i), boost::asio::use_awaitable);
        try {
          co_await glint::AsyncGet(glint::Actor(Loop::Create).Remote().Task(&Loop::Throw).Remote("x"),
                                   boost::asio::use_awaitable);
        } catch (const glint::TaskError& e) {
          error = e.type();
        }
      },
      boost::asio::detached);
  io.run();  // returns once the coroutine is done
  EXPECT_EQ(sum, 6);
  EXPECT_EQ(error, "std::out_of_range");
}

TEST_F(AsyncActorTest, KillingAnAsyncActorEndsItsPendingCoroutines) {
  auto a = glint::Actor(Loop::Create).Remote();
  std::vector<glint::ObjectRef<std::vector<int64_t>>> naps;
  for (int i = 0; i < 5; ++i) naps.push_back(a.Task(&Loop::Nap).Remote(600000));
  ASSERT_TRUE(WaitUntil([&] { return a.Task(&Loop::Peak).Remote().Get(std::chrono::seconds(10)) == 5; }));
  glint::Kill(a);
  for (auto& n : naps) EXPECT_THROW(n.Get(std::chrono::seconds(30)), glint::ActorDiedError);
}

TEST_F(AsyncActorTest, HttpEndpointAndGlintCallsShareTheActorsState) {
  auto c = glint::Actor(HttpCounter::Create).Remote();
  int port = c.Task(&HttpCounter::Port).Remote().Get();
  EXPECT_EQ(c.Task(&HttpCounter::Add).Remote(3).Get(), 3);
  EXPECT_EQ(HttpRequest(port, "GET", "/count", ""), "200 3");
  EXPECT_EQ(HttpRequest(port, "POST", "/add", "4"), "200 7");
  EXPECT_EQ(c.Task(&HttpCounter::Count).Remote().Get(), 7);
  // Both doors at once: 100 Glint calls in flight while 50 HTTP posts land.
  std::vector<glint::ObjectRef<int>> adds;
  for (int i = 0; i < 100; ++i) adds.push_back(c.Task(&HttpCounter::Add).Remote(1));
  for (int i = 0; i < 50; ++i) ASSERT_EQ(HttpRequest(port, "POST", "/add", "1").substr(0, 3), "200");
  for (auto& a : adds) a.Get(std::chrono::seconds(30));
  EXPECT_EQ(HttpRequest(port, "GET", "/count", ""), "200 157");
  EXPECT_EQ(HttpRequest(port, "POST", "/add", "x").substr(0, 3), "400");
  EXPECT_EQ(HttpRequest(port, "GET", "/nope", "").substr(0, 3), "404");
}

}  // namespace
