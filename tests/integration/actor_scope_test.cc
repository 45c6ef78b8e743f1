// Actor lifetimes through real processes: a non-detached actor ends once no
// handle to it is left anywhere (the creator's, copies passed to tasks,
// handles returned by tasks, GetActor results) and the calls made through
// them are done; its process exits and its name is free again. Detached
// actors stay whatever happens to their handles.
#include <glint/api.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/process.h"
#include "integration/test_functions.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;
using glint::testing::WaitUntil;

using tf::Box;

// Says it started, waits for `go`, then calls the actor it was given.
int AddLater(glint::ActorHandle<Box> box, glint::Queue<int> started, glint::Queue<int> go) {
  started.Put(1);
  go.Get(true, std::chrono::seconds(60));
  return box.Task(&Box::Add).Remote(1).Get();
}

// The same with a handle it looks up by name.
int AddLaterByName(std::string name, glint::Queue<int> started, glint::Queue<int> go) {
  auto box = glint::GetActor<Box>(name);
  if (!box) return -1;
  started.Put(1);
  go.Get(true, std::chrono::seconds(60));
  return box->Task(&Box::Add).Remote(1).Get();
}

// An actor made inside a task, whose handle is its result.
glint::ActorHandle<Box> MakeBox(int v) { return glint::Actor(Box::Create).Remote(v); }

GLINT_REMOTE(Box::Create, &Box::Add, &Box::Pid, AddLater, AddLaterByName, MakeBox);

bool Gone(int pid) { return !glint::ProcessAlive(pid) || glint::IsZombie(pid); }

class ActorScopeTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() { StartSuite(4, "", "scope-tests"); }

  // A witness that drops go through: once an actor made and dropped after
  // them is gone, the ones dropped before it were acted on too (this
  // process asks the GCS in order).
  static void DropsHaveBeenActedOn() {
    int pid;
    {
      auto witness = glint::Actor(Box::Create).Remote(0);
      pid = witness.Task(&Box::Pid).Remote().Get();
    }
    ASSERT_TRUE(WaitUntil([&] { return Gone(pid); })) << "a dropped actor ends";
  }
};

TEST_F(ActorScopeTest, TwentyDroppedActorsLeaveNoProcessBehind) {
  std::vector<int> pids;
  for (int i = 0; i < 20; ++i) {
    auto box = glint::Actor(Box::Create).Remote(i);
    EXPECT_EQ(box.Task(&Box::Add).Remote(1).Get(), i + 1);
    pids.push_back(box.Task(&Box::Pid).Remote().Get());
  }
  for (int pid : pids) EXPECT_TRUE(WaitUntil([&] { return Gone(pid); })) << "actor process " << pid << " still runs";
}

TEST_F(ActorScopeTest, CallsMadeBeforeTheDropFinish) {
  std::vector<glint::ObjectRef<int>> sums;
  int pid;
  {
    auto box = glint::Actor(Box::Create).Remote(0);
    pid = box.Task(&Box::Pid).Remote().Get();
    for (int i = 0; i < 50; ++i) sums.push_back(box.Task(&Box::Add).Remote(1));
  }
  for (int i = 0; i < 50; ++i) EXPECT_EQ(sums[i].Get(std::chrono::seconds(60)), i + 1);
  EXPECT_TRUE(WaitUntil([&] { return Gone(pid); }));
}

TEST_F(ActorScopeTest, AHandlePassedToARunningTaskKeepsTheActorUntilTheTaskEnds) {
  glint::Queue<int> started(0), go(0);
  std::optional<glint::ActorHandle<Box>> box = glint::Actor(Box::Create).Remote(41);
  int pid = box->Task(&Box::Pid).Remote().Get();
  auto result = glint::Task(AddLater).Remote(*box, started, go);
  started.Get(true, std::chrono::seconds(60));
  box.reset();  // the task's copy is the last one
  DropsHaveBeenActedOn();
  EXPECT_FALSE(Gone(pid)) << "the task still holds a handle";
  go.Put(1);
  EXPECT_EQ(result.Get(std::chrono::seconds(60)), 42);
  EXPECT_TRUE(WaitUntil([&] { return Gone(pid); })) << "the task ended: no handle is left";
}

TEST_F(ActorScopeTest, AHandleFoundByNameKeepsTheActor) {
  glint::Queue<int> started(0), go(0);
  std::optional<glint::ActorHandle<Box>> box = glint::Actor(Box::Create).SetName("looked-up").Remote(1);
  int pid = box->Task(&Box::Pid).Remote().Get();
  auto result = glint::Task(AddLaterByName).Remote(std::string("looked-up"), started, go);
  started.Get(true, std::chrono::seconds(60));
  box.reset();
  DropsHaveBeenActedOn();
  EXPECT_FALSE(Gone(pid)) << "the task's GetActor handle holds it";
  go.Put(1);
  EXPECT_EQ(result.Get(std::chrono::seconds(60)), 2);
  EXPECT_TRUE(WaitUntil([&] { return Gone(pid); }));
}

TEST_F(ActorScopeTest, ANamedActorDroppedByItsOnlyHolderFreesItsName) {
  int pid;
  {
    auto box = glint::Actor(Box::Create).SetName("temporary").Remote(0);
    pid = box.Task(&Box::Pid).Remote().Get();
  }
  EXPECT_TRUE(WaitUntil([&] { return !glint::GetActor<Box>("temporary"); })) << "the name is freed";
  EXPECT_TRUE(WaitUntil([&] { return Gone(pid); }));
  int status = 0;
  std::string list = glint::testing::RunCommand(
      std::string(GLINT_CLI_PATH) + " list actors --all --namespace scope-tests --address " + cluster_->gcs_address(),
      &status);
  EXPECT_EQ(status, 0) << list;
  EXPECT_NE(list.find("out of scope"), std::string::npos) << list;
  auto again = glint::Actor(Box::Create).SetName("temporary").Remote(5);
  EXPECT_EQ(again.Task(&Box::Add).Remote(1).Get(), 6) << "the name can be taken again";
}

TEST_F(ActorScopeTest, AHandleReturnedByATaskKeepsTheActor) {
  std::optional<glint::ActorHandle<Box>> box = glint::Task(MakeBox).Remote(10).Get();
  DropsHaveBeenActedOn();  // the task's own copy is gone by now
  EXPECT_EQ(box->Task(&Box::Add).Remote(1).Get(), 11);
  int pid = box->Task(&Box::Pid).Remote().Get();
  box.reset();
  EXPECT_TRUE(WaitUntil([&] { return Gone(pid); })) << "the last handle, returned by the task, is dropped";
}

TEST_F(ActorScopeTest, HandlesInsideAStoredValueKeepTheActor) {
  std::optional<glint::ActorHandle<Box>> box = glint::Actor(Box::Create).Remote(7);
  int pid = box->Task(&Box::Pid).Remote().Get();
  std::optional<glint::ObjectRef<std::vector<glint::ActorHandle<Box>>>> stored = glint::Put(std::vector{*box});
  box.reset();
  DropsHaveBeenActedOn();
  EXPECT_FALSE(Gone(pid)) << "the stored value holds a handle";
  EXPECT_EQ(stored->Get()[0].Task(&Box::Add).Remote(1).Get(), 8);
  stored.reset();
  EXPECT_TRUE(WaitUntil([&] { return Gone(pid); }));
}

TEST_F(ActorScopeTest, DetachedActorsOutliveTheirHandles) {
  int pid;
  {
    auto box = glint::Actor(Box::Create).SetName("kept").SetLifetime(glint::Lifetime::kDetached).Remote(3);
    pid = box.Task(&Box::Pid).Remote().Get();
  }
  DropsHaveBeenActedOn();
  EXPECT_FALSE(Gone(pid));
  auto found = glint::GetActor<Box>("kept");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->Task(&Box::Add).Remote(1).Get(), 4);
  glint::Kill(*found);
  EXPECT_TRUE(WaitUntil([&] { return Gone(pid); }));
}

}  // namespace
