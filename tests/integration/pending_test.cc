// Work that waits for resources is visible: a task and an actor waiting for
// a CPU (an actor holds both the node has) show in `glint status` as pending
// demand, with who holds what they wait for, and their driver gets one
// warning line for each; once the actor goes, both run and the demand is gone.
// This program is also the driver (`pending_integration_test driver ...`).
#include <glint/api.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <iostream>
#include <random>
#include <string>

#include "common/process.h"
#include "testing/driver_process.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ReadFile;
using glint::testing::RunCli;
using glint::testing::TestCluster;
using glint::testing::WaitUntil;

// The line of `text` that starts with `prefix` ("" if none).
std::string LineWith(const std::string& text, const std::string& prefix) {
  auto at = text.find(prefix);
  return at == std::string::npos ? "" : text.substr(at, text.find('\n', at) - at);
}

class Hog {
 public:
  static Hog* Create() { return new Hog(); }
  int Ping() { return 1; }
};

int Plus(int a, int b) { return a + b; }

GLINT_REMOTE(Hog::Create, &Hog::Ping, Plus);

TEST(PendingTest, WorkWaitingForAnActorsCpusShowsInStatusAndWarnsItsDriverOnce) {
  TestCluster cluster(2);
  std::string name = "hog-" + std::to_string(std::random_device()());
  std::string err = glint::testing::TempDir() + "/driver.err";
  auto driver = glint::testing::StartDriver(cluster.gcs_address(), {"hog", name}, {}, err);
  ASSERT_EQ(driver.Line(), "SUBMITTED\n");
  std::string a = " --address " + cluster.gcs_address();
  std::string status;
  ASSERT_TRUE(WaitUntil([&] {
    status = RunCli("status" + a);
    return status.find("PENDING") != std::string::npos;
  })) << status;
  // One row: the shape, 1 task and 1 actor creation, who holds the CPUs.
  ASSERT_TRUE(WaitUntil([&] {
    status = RunCli("status" + a);
    return status.find("{CPU: 1}         1      1") != std::string::npos;
  })) << status;
  std::string held = "1 actor and 0 tasks hold {CPU: 2} of {CPU: 2}";
  EXPECT_NE(status.find(held), std::string::npos) << status;
  // After 5 s with nothing of theirs running: one line each.
  std::string task_warning = "(glint) 1 task has waited ";
  std::string actor_warning = "(glint) actor '" + name + "-2' has waited ";
  ASSERT_TRUE(WaitUntil([&] {
    std::string e = ReadFile(err);
    return e.find(task_warning) != std::string::npos && e.find(actor_warning) != std::string::npos;
  }, std::chrono::seconds(30))) << ReadFile(err);
  for (auto& prefix : {task_warning, actor_warning}) {
    std::string line = LineWith(ReadFile(err), prefix);
    EXPECT_NE(line.find(" s for {CPU: 1}: on node "), std::string::npos) << line;
    EXPECT_NE(line.find(held), std::string::npos) << line;
  }
  // The actor goes: the task and the other actor run, nothing waits any more.
  EXPECT_NE(RunCli("kill-actor " + name + " --namespace pending" + a).find("killed"), std::string::npos);
  EXPECT_EQ(driver.Line(), "DONE 3 1\n");
  EXPECT_EQ(driver.Wait(), 0);
  ASSERT_TRUE(WaitUntil([&] { return RunCli("status" + a).find("PENDING") == std::string::npos; }))
      << RunCli("status" + a);
  std::string e = ReadFile(err);
  EXPECT_EQ(e.find(task_warning), e.rfind(task_warning)) << "one warning for one wait: " << e;
  EXPECT_EQ(e.find(actor_warning), e.rfind(actor_warning)) << "one warning for one wait: " << e;
}

}  // namespace

// Driver mode (GLINT_ADDRESS set by the test):
//   hog NAME   an actor named NAME holds both CPUs; a task and an actor
//              (NAME-2) wait for one; "SUBMITTED", then "DONE <sum> <ping>"
//              once both ran
int main(int argc, char** argv) {
  if (std::getenv("GLINT_WORKER_MODE")) glint::Init();
  if (argc >= 4 && std::string(argv[1]) == "driver") {
    glint::Init();
    std::string name = argv[3];
    auto hog = glint::Actor(Hog::Create).SetName(name).SetNamespace("pending").SetResources({{"CPU", 2}}).Remote();
    hog.Task(&Hog::Ping).Remote().Get();  // it holds the CPUs now
    auto sum = glint::Task(Plus).Remote(1, 2);
    auto second = glint::Actor(Hog::Create).SetName(name + "-2").SetNamespace("pending").SetResources({{"CPU", 1}}).Remote();
    auto ping = second.Task(&Hog::Ping).Remote();
    std::cout << "SUBMITTED" << std::endl;
    int s = sum.Get();
    std::cout << "DONE " << s << " " << ping.Get() << std::endl;
    glint::Shutdown();
    return 0;
  }
  glint::testing::SetDriverProgram(glint::SelfExePath());
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
