// Cancel through real processes: tasks queued, waiting for arguments,
// running (IsCancelled, force), recursively; actor calls queued and
// running on sync and async actors; generators; and the rules around it.
// Files written by the remote code (other processes) say what it did.
#include <glint/api.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "common/process.h"
#include "integration/test_functions.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;
using glint::testing::FileExists;
using glint::testing::ReadFile;
using glint::testing::Touch;
using glint::testing::WaitUntil;

// Writes its pid to `path`, then waits for `path`.go (up to 60 s).
int Block(std::string path) {
  tf::WriteFile(path, std::to_string(getpid()));
  return tf::WaitForFile(path + ".go");
}

int Mark(std::string path) {
  Touch(path);
  return 1;
}

int MarkAfter(std::string path, int) { return Mark(path); }

// Runs until its caller cancels it (or dir/stop, or 60 s): then writes
// dir/<tag>-saw-cancel (if it was a cancel) and returns.
int UntilCancelled(std::string dir, std::string tag) {
  tf::WriteFile(dir + "/" + tag + "-pid", std::to_string(getpid()));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!glint::IsCancelled() && !FileExists(dir + "/stop") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (glint::IsCancelled()) Touch(dir + "/" + tag + "-saw-cancel");
  return 7;
}

// Counts its attempts in dir/attempts, writes its pid, blocks.
int CountedBlock(std::string dir) {
  tf::WriteFile(dir + "/attempts", std::to_string(tf::ReadInt(dir + "/attempts") + 1));
  return Block(dir + "/pid");
}

// Makes a child (UntilCancelled) and waits for it.
int Parent(std::string dir) {
  auto child = glint::Task(UntilCancelled).Remote(dir, std::string("child"));
  return child.Get(std::chrono::seconds(90));
}

glint::Generator<int> Endless(std::string dir) {
  tf::MarkOnDestroy mark{dir + "/closed"};
  for (int i = 0;; ++i) co_yield i;
}

class Recorder {
 public:
  static Recorder* Create() { return new Recorder(); }
  int Append(int v) {
    items_.push_back(v);
    return v;
  }
  std::vector<int> Items() const { return items_; }
  int Hold(std::string path) { return Block(path); }
  int Loop(std::string dir) { return UntilCancelled(dir, "method"); }
  // Cancels `ref`, which another process made: the error's text.
  std::string CancelOthers(glint::ObjectRef<int> ref) {
    try {
      glint::Cancel(ref);
      return "no error";
    } catch (const glint::Error& e) {
      return e.what();
    }
  }

 private:
  std::vector<int> items_;
};

class Waiter {
 public:
  static Waiter* Create() { return new Waiter(); }
  glint::Async<int> Nap(std::string dir) {
    tf::MarkOnDestroy mark{dir + "/destroyed"};
    Touch(dir + "/napping");
    co_await glint::Sleep(std::chrono::seconds(60));
    co_return 1;
  }
  glint::Async<int> AwaitEvent(std::string dir) {
    tf::MarkOnDestroy mark{dir + "/event-destroyed"};
    Touch(dir + "/awaiting");
    co_await event_.Wait();
    co_return 2;
  }
  glint::Async<int> Ping() { co_return 3; }

 private:
  glint::AsyncEvent event_;
};

GLINT_REMOTE(Block, Mark, MarkAfter, UntilCancelled, CountedBlock, Parent, Endless, Recorder::Create,
             &Recorder::Append, &Recorder::Items, &Recorder::Hold, &Recorder::Loop, &Recorder::CancelOthers,
             Waiter::Create, &Waiter::Nap, &Waiter::AwaitEvent, &Waiter::Ping);

class CancelTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() { StartSuite(2); }
  void SetUp() override { dir_ = glint::testing::TempDir("glint-cancel"); }
  void TearDown() override {
    Touch(dir_ + "/stop");
    for (auto* f : {"/a.go", "/b.go", "/hold.go", "/pid.go"}) Touch(dir_ + f);
  }
  std::string dir_;
};

TEST_F(CancelTest, AQueuedTaskNeverRuns) {
  // Both CPUs busy: the third task waits for a lease.
  auto a = glint::Task(Block).Remote(dir_ + "/a");
  auto b = glint::Task(Block).Remote(dir_ + "/b");
  ASSERT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/a") && FileExists(dir_ + "/b"); }));
  auto queued = glint::Task(Mark).Remote(dir_ + "/ran");
  glint::Cancel(queued);
  EXPECT_THROW(queued.Get(std::chrono::seconds(60)), glint::TaskCancelledError);
  Touch(dir_ + "/a.go");
  Touch(dir_ + "/b.go");
  EXPECT_EQ(a.Get(std::chrono::seconds(60)) + b.Get(std::chrono::seconds(60)), 2);
  EXPECT_EQ(glint::Task(Mark).Remote(dir_ + "/later").Get(std::chrono::seconds(60)), 1);
  EXPECT_FALSE(FileExists(dir_ + "/ran")) << "the cancelled task ran";
}

TEST_F(CancelTest, ATaskWaitingForItsArgumentNeverRuns) {
  auto arg = glint::Task(Block).Remote(dir_ + "/a");
  auto waiting = glint::Task(MarkAfter).Remote(dir_ + "/ran", arg);
  glint::Cancel(waiting);
  Touch(dir_ + "/a.go");
  EXPECT_EQ(arg.Get(std::chrono::seconds(60)), 1);
  EXPECT_THROW(waiting.Get(std::chrono::seconds(60)), glint::TaskCancelledError);
  EXPECT_EQ(glint::Task(Mark).Remote(dir_ + "/later").Get(std::chrono::seconds(60)), 1);
  EXPECT_FALSE(FileExists(dir_ + "/ran"));
}

TEST_F(CancelTest, ARunningTaskSeesIsCancelledAndGetThrows) {
  auto ref = glint::Task(UntilCancelled).Remote(dir_, std::string("task"));
  ASSERT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/task-pid"); }));
  glint::Cancel(ref);
  EXPECT_THROW(ref.Get(std::chrono::seconds(60)), glint::TaskCancelledError);
  EXPECT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/task-saw-cancel"); }));
}

TEST_F(CancelTest, ForceKillsARunningTasksWorkerAndItIsNotRetried) {
  auto ref = glint::Task(CountedBlock).SetMaxRetries(3).Remote(dir_);
  ASSERT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/pid"); }));
  int pid = tf::ReadInt(dir_ + "/pid");
  glint::Cancel(ref, glint::CancelOptions{.force = true});
  EXPECT_THROW(ref.Get(std::chrono::seconds(60)), glint::TaskCancelledError);
  EXPECT_TRUE(WaitUntil([&] { return !glint::ProcessAlive(pid) || glint::IsZombie(pid); })) << "the worker lives";
  EXPECT_EQ(glint::Task(Mark).Remote(dir_ + "/later").Get(std::chrono::seconds(60)), 1);
  EXPECT_EQ(tf::ReadInt(dir_ + "/attempts"), 1) << "a cancelled task is not retried";
}

TEST_F(CancelTest, ARecursiveCancelReachesTheTasksItMade) {
  auto parent = glint::Task(Parent).Remote(dir_);
  ASSERT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/child-pid"); }));
  glint::Cancel(parent);
  EXPECT_THROW(parent.Get(std::chrono::seconds(60)), glint::TaskCancelledError);
  EXPECT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/child-saw-cancel"); })) << "the child was not cancelled";
}

TEST_F(CancelTest, ANonRecursiveCancelLeavesTheTasksItMade) {
  auto parent = glint::Task(Parent).Remote(dir_);
  ASSERT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/child-pid"); }));
  glint::Cancel(parent, glint::CancelOptions{.recursive = false});
  EXPECT_THROW(parent.Get(std::chrono::seconds(60)), glint::TaskCancelledError);
  EXPECT_FALSE(WaitUntil([&] { return FileExists(dir_ + "/child-saw-cancel"); }, std::chrono::milliseconds(500)));
}

TEST_F(CancelTest, AQueuedActorCallNeverRunsAndLaterCallsDo) {
  auto r = glint::Actor(Recorder::Create).Remote();
  auto hold = r.Task(&Recorder::Hold).Remote(dir_ + "/hold");
  ASSERT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/hold"); }));
  auto queued = r.Task(&Recorder::Append).Remote(1);
  auto after = r.Task(&Recorder::Append).Remote(2);
  glint::Cancel(queued);
  Touch(dir_ + "/hold.go");
  EXPECT_THROW(queued.Get(std::chrono::seconds(60)), glint::TaskCancelledError);
  EXPECT_EQ(after.Get(std::chrono::seconds(60)), 2);
  EXPECT_EQ(r.Task(&Recorder::Items).Remote().Get(std::chrono::seconds(60)), std::vector<int>{2});
}

TEST_F(CancelTest, ARunningSyncActorCallSeesIsCancelled) {
  auto r = glint::Actor(Recorder::Create).Remote();
  auto loop = r.Task(&Recorder::Loop).Remote(dir_);
  ASSERT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/method-pid"); }));
  glint::Cancel(loop);
  EXPECT_THROW(loop.Get(std::chrono::seconds(60)), glint::TaskCancelledError);
  EXPECT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/method-saw-cancel"); }));
  EXPECT_EQ(r.Task(&Recorder::Append).Remote(5).Get(std::chrono::seconds(60)), 5) << "the actor goes on";
}

TEST_F(CancelTest, ForceOnAnActorCallIsRefused) {
  auto r = glint::Actor(Recorder::Create).Remote();
  auto hold = r.Task(&Recorder::Hold).Remote(dir_ + "/hold");
  ASSERT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/hold"); }));
  try {
    glint::Cancel(hold, glint::CancelOptions{.force = true});
    FAIL() << "expected an error";
  } catch (const glint::Error& e) {
    EXPECT_NE(std::string(e.what()).find("Kill"), std::string::npos) << e.what();
  }
  Touch(dir_ + "/hold.go");
  EXPECT_EQ(hold.Get(std::chrono::seconds(60)), 1) << "the refused cancel changed nothing";
}

TEST_F(CancelTest, AnAsyncCallIsCancelledWhereItWaitsAndItsDestructorsRun) {
  auto w = glint::Actor(Waiter::Create).Remote();
  auto nap = w.Task(&Waiter::Nap).Remote(dir_);
  auto event = w.Task(&Waiter::AwaitEvent).Remote(dir_);
  ASSERT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/napping") && FileExists(dir_ + "/awaiting"); }));
  glint::Cancel(nap);
  glint::Cancel(event);
  EXPECT_THROW(nap.Get(std::chrono::seconds(30)), glint::TaskCancelledError);
  EXPECT_THROW(event.Get(std::chrono::seconds(30)), glint::TaskCancelledError);
  // Not after the 60 s sleep: at once, where it waited.
  EXPECT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/destroyed"); }, std::chrono::seconds(20)));
  EXPECT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/event-destroyed"); }, std::chrono::seconds(20)));
  EXPECT_EQ(w.Task(&Waiter::Ping).Remote().Get(std::chrono::seconds(30)), 3) << "the actor goes on";
}

TEST_F(CancelTest, ACancelledGeneratorStopsAtItsYieldAndNextThrows) {
  auto gen = glint::Task(Endless).SetGeneratorBackpressure(2).Remote(dir_);
  EXPECT_EQ(gen.Next(std::chrono::seconds(60))->Get(), 0);
  glint::Cancel(gen);
  EXPECT_THROW(gen.Next(std::chrono::seconds(60)), glint::TaskCancelledError);
  EXPECT_TRUE(WaitUntil([&] { return FileExists(dir_ + "/closed"); })) << "the producer still runs";
}

TEST_F(CancelTest, CancellingAFinishedCallDoesNothing) {
  auto r = glint::Task(Mark).Remote(dir_ + "/m");
  ASSERT_EQ(r.Get(std::chrono::seconds(60)), 1);
  glint::Cancel(r);
  EXPECT_EQ(r.Get(), 1);
}

TEST_F(CancelTest, OnlyTheCallsOwnerCanCancelIt) {
  auto r = glint::Actor(Recorder::Create).Remote();
  auto mine = glint::Task(Block).Remote(dir_ + "/a");
  std::string error = r.Task(&Recorder::CancelOthers).Remote(mine).Get(std::chrono::seconds(60));
  EXPECT_NE(error.find("only the process that made a call can cancel it"), std::string::npos) << error;
  Touch(dir_ + "/a.go");
  EXPECT_EQ(mine.Get(std::chrono::seconds(60)), 1);
}

}  // namespace
