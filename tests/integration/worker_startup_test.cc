// Worker start-up across real processes: a job's workers on a node are
// forked by the job's fork server (raylet/fork_servers.h) once it is ready,
// each still a process of its own that the raylet adopts and reaps; what
// they put in the node's store is each their own; one crashing leaves the
// rest; a fresh job's burst of workers waits for its server rather than
// start from scratch; a server that dies leaves workers starting from
// scratch, as does a program that runs threads before glint::Init(); the
// server goes when its job ends, as do the starts of its actors still on
// their way, but stays for the work of the job's detached actor until that
// is gone; and what a worker leaves behind when it dies is reaped, not left
// a zombie.
#include <glint/api.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/process.h"
#include "testing/driver_process.h"
#include "testing/shell.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::ClusterTest;
using glint::testing::WaitUntil;

class Box {
 public:
  static Box* Create() { return new Box(); }
  int Pid() { return getpid(); }
  // Objects this worker puts, each starting with its pid and a counter;
  // large (128 KiB), so they go to the node's shared store under their ids,
  // beside those of the other forked workers.
  std::vector<glint::ObjectRef<std::vector<int64_t>>> PutMany(int n) {
    std::vector<glint::ObjectRef<std::vector<int64_t>>> refs;
    for (int i = 0; i < n; ++i) {
      std::vector<int64_t> value(16 << 10, i);
      value[0] = static_cast<int64_t>(getpid()) * 1000 + i;
      refs.push_back(glint::Put(value));
    }
    return refs;
  }
  // Starts a child that outlives this worker for a moment after it dies
  // (an orphan the raylet adopts), and returns its pid.
  int LeaveAChild() {
    pid_t parent = getpid();
    pid_t child = fork();
    if (child == 0) {
      for (int i = 0; i < 3000 && getppid() == parent; ++i) usleep(10000);  // bounded: 30 s
      _exit(0);
    }
    return child;
  }
  // Makes an actor of its own (gone again when this returns); its pid.
  int MakeActor() { return glint::Actor(Box::Create).Remote().Task(&Box::Pid).Remote().Get(); }
};
GLINT_REMOTE(Box::Create, &Box::Pid, &Box::PutMany, &Box::LeaveAChild, &Box::MakeActor);

// The field after the command in /proc/PID/stat: 'Z' for a zombie, and the parent.
char State(pid_t pid, pid_t* ppid = nullptr) {
  std::string s = glint::testing::ReadFile("/proc/" + std::to_string(pid) + "/stat");
  auto close = s.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(s.substr(close + 2));
  char state = 0;
  pid_t parent = 0;
  rest >> state >> parent;
  if (ppid) *ppid = parent;
  return state;
}
bool Gone(pid_t pid) { return State(pid) == 0; }

// The fork servers among `raylet`'s children (named so).
std::set<pid_t> ForkServers(pid_t raylet) {
  std::set<pid_t> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    pid_t pid = atoi(e.path().filename().c_str());
    pid_t parent = 0;
    if (pid <= 0 || State(pid, &parent) == 0 || parent != raylet || State(pid) == 'Z') continue;
    if (glint::testing::ReadFile(e.path() / "comm") == "glint-forks\n") out.insert(pid);
  }
  return out;
}

class WorkerStartupTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() { StartSuite(2); }

  // How many workers the head node started each way ("forked", "spawned").
  static double Started(const std::string& how) {
    return HeadMetric("glint_node_workers_started_total{", "how=\"" + how + "\"");
  }

  // Actors made until `forked` of them were forked (bounded in count).
  static std::vector<glint::ActorHandle<Box>> MakeForked(int forked) {
    std::vector<glint::ActorHandle<Box>> made;
    double before = Started("forked");
    for (int i = 0; i < 60 && Started("forked") < before + forked; ++i) {
      made.push_back(glint::Actor(Box::Create).Remote());
      made.back().Task(&Box::Pid).Remote().Get(std::chrono::seconds(60));
    }
    return made;
  }
};

TEST_F(WorkerStartupTest, AJobsWorkersAreForkedEachAProcessOfItsOwnThatTheRayletAdopts) {
  auto actors = MakeForked(4);
  ASSERT_GE(Started("forked"), 4) << "the job's fork server forks its workers once it is ready";
  ASSERT_EQ(ForkServers(cluster_->head_raylet_pid()).size(), 1u) << "one server for this job on this node";
  std::set<int> pids;
  for (auto& a : actors) {
    int pid = a.Task(&Box::Pid).Remote().Get();
    pids.insert(pid);
    pid_t parent = 0;
    ASSERT_NE(State(pid, &parent), 0);
    EXPECT_EQ(parent, cluster_->head_raylet_pid()) << "the raylet adopted worker " << pid << " (it reaps it)";
  }
  EXPECT_EQ(pids.size(), actors.size()) << "each actor is its own process";
  // Objects the forked workers put side by side in the node's store come
  // back each its own (ids drawn after a fork: IdsTest in common_test.cc).
  std::vector<glint::ObjectRef<std::vector<glint::ObjectRef<std::vector<int64_t>>>>> batches;
  for (auto& a : actors) batches.push_back(a.Task(&Box::PutMany).Remote(20));
  for (size_t k = 0; k < actors.size(); ++k) {
    int pid = actors[k].Task(&Box::Pid).Remote().Get();
    auto refs = batches[k].Get();
    ASSERT_EQ(refs.size(), 20u);
    for (int i = 0; i < 20; ++i) {
      auto value = refs[i].Get(std::chrono::seconds(30));
      ASSERT_EQ(value.size(), size_t{16 << 10});
      ASSERT_EQ(value[0], int64_t{pid} * 1000 + i);
      ASSERT_EQ(value.back(), i);
    }
  }
  // A crash stays in its process.
  int victim = actors[0].Task(&Box::Pid).Remote().Get();
  ASSERT_EQ(kill(victim, SIGKILL), 0);
  EXPECT_THROW(actors[0].Task(&Box::Pid).Remote().Get(std::chrono::seconds(60)), glint::ActorDiedError);
  for (size_t k = 1; k < actors.size(); ++k) EXPECT_GT(actors[k].Task(&Box::Pid).Remote().Get(), 0);
  EXPECT_TRUE(WaitUntil([&] { return Gone(victim); }, std::chrono::seconds(30))) << "the raylet reaped it";
  for (auto& a : actors) glint::Kill(a);
}

TEST_F(WorkerStartupTest, WithItsServerKilledAJobsWorkersStartFromScratch) {
  MakeForked(1);
  auto servers = ForkServers(cluster_->head_raylet_pid());
  ASSERT_EQ(servers.size(), 1u);
  pid_t server = *servers.begin();
  ASSERT_EQ(kill(server, SIGKILL), 0);
  EXPECT_TRUE(WaitUntil([&] { return Gone(server); }, std::chrono::seconds(30))) << "the raylet reaped the server";
  double spawned = Started("spawned");
  auto a = glint::Actor(Box::Create).Remote();
  EXPECT_GT(a.Task(&Box::Pid).Remote().Get(std::chrono::seconds(60)), 0);
  EXPECT_EQ(Started("spawned"), spawned + 1) << "started from scratch";
  EXPECT_TRUE(ForkServers(cluster_->head_raylet_pid()).empty()) << "a job whose server failed gets no other";
  glint::Kill(a);
}

TEST_F(WorkerStartupTest, WhatADeadWorkerLeftBehindIsReapedNotLeftAZombie) {
  auto a = glint::Actor(Box::Create).Remote();
  int child = a.Task(&Box::LeaveAChild).Remote().Get(std::chrono::seconds(60));
  ASSERT_GT(child, 0);
  glint::Kill(a);
  // The child sees its parent gone, is adopted by the raylet and exits.
  EXPECT_TRUE(WaitUntil([&] { return Gone(child); }, std::chrono::seconds(40)))
      << "pid " << child << " is in state " << State(child) << " (Z: a zombie nobody reaps)";
}

// A fresh job asking for many workers at once starts one from scratch (it
// starts the job's fork server too); the others wait the moment the server
// needs to be ready and are forked, where each used to start from scratch
// while the server started (an exec and a dynamic link each, several times
// a fork's CPU).
TEST_F(WorkerStartupTest, AFreshJobsBurstOfWorkersWaitsForItsForkServer) {
  double spawned = Started("spawned"), forked = Started("forked");
  const std::string go = glint::testing::TempDir() + "/go";
  auto d = glint::testing::StartDriver(cluster_->gcs_address(), {"burst", "8", go});
  std::string line = d.Line();
  ASSERT_EQ(line.rfind("READY", 0), 0u) << line;
  EXPECT_EQ(Started("spawned"), spawned + 1) << "only the job's first worker started from scratch";
  EXPECT_EQ(Started("forked"), forked + 7);
  std::ofstream(go).put('\n');
  EXPECT_EQ(d.Wait(), 0);
}

TEST_F(WorkerStartupTest, AJobsServerGoesWhenTheJobEnds) {
  auto before = ForkServers(cluster_->head_raylet_pid());
  const std::string go = glint::testing::TempDir() + "/go";
  auto d = glint::testing::StartDriver(cluster_->gcs_address(), {"actors", "6", go});
  std::string line = d.Line();
  ASSERT_EQ(line.rfind("READY", 0), 0u) << line;
  auto during = ForkServers(cluster_->head_raylet_pid());
  std::set<pid_t> added;
  for (pid_t p : during) {
    if (!before.count(p)) added.insert(p);
  }
  EXPECT_EQ(added.size(), 1u) << "the driver's job has its own server";
  std::ofstream(go).put('\n');  // the driver ends now
  EXPECT_EQ(d.Wait(), 0);
  for (pid_t p : added) {
    EXPECT_TRUE(WaitUntil([&] { return Gone(p); }, std::chrono::seconds(30))) << "server " << p << " outlived its job";
  }
}

// The work a detached actor makes after its job has ended is still forked
// by the job's server, which stays as long as the job has workers here.
TEST_F(WorkerStartupTest, AJobsServerStaysForItsDetachedActorsWorkAndGoesWithIt) {
  auto before = ForkServers(cluster_->head_raylet_pid());
  auto d = glint::testing::StartDriver(cluster_->gcs_address(), {"detached", "lingering-root", "-"});
  std::string line = d.Line();
  ASSERT_EQ(line.rfind("READY", 0), 0u) << line;
  EXPECT_EQ(d.Wait(), 0);
  std::set<pid_t> added;
  for (pid_t p : ForkServers(cluster_->head_raylet_pid())) {
    if (!before.count(p)) added.insert(p);
  }
  ASSERT_EQ(added.size(), 1u) << "the ended job's server stays for its detached actor";
  auto root = glint::GetActor<Box>("lingering-root", "startup");
  ASSERT_TRUE(root.has_value());
  const double spawned = Started("spawned"), forked = Started("forked");
  for (int i = 0; i < 2; ++i) EXPECT_GT(root->Task(&Box::MakeActor).Remote().Get(std::chrono::seconds(60)), 0);
  EXPECT_EQ(Started("forked"), forked + 2) << "its actors made after the job are forked";
  EXPECT_EQ(Started("spawned"), spawned);
  glint::Kill(*root);
  for (pid_t p : added) {
    EXPECT_TRUE(WaitUntil([&] { return Gone(p); }, std::chrono::seconds(30)))
        << "server " << p << " outlived its job's last worker";
  }
}

// A job that ends while many of its actors are still on their way to a
// worker starts no more workers for them: the requests not started yet are
// dropped as the job ends (the GCS marks those actors dead), where each
// used to get a worker only for the GCS to kill it.
TEST_F(WorkerStartupTest, AJobThatEndsWithItsActorsOnTheirWayStartsNoMoreWorkersForThem) {
  auto started = [] { return Started("spawned") + Started("forked"); };
  const double before = started();
  constexpr int kActors = 40;
  auto d = glint::testing::StartDriver(cluster_->gcs_address(), {"abandon", std::to_string(kActors), "-"});
  std::string line = d.Line();
  EXPECT_EQ(line.rfind("MADE", 0), 0u) << line;
  EXPECT_EQ(d.Wait(), 0);
  ASSERT_TRUE(WaitUntil(
      [&] {
        return HeadMetric("glint_node_workers{", "state=\"STARTING\"") == 0 &&
               HeadMetric("glint_node_workers_waiting_to_start{") == 0;
      },
      std::chrono::seconds(60)))
      << "the node still starts workers";
  EXPECT_LT(started() - before, kActors / 2) << "workers started for the actors of a job that had ended";
}

TEST_F(WorkerStartupTest, AProgramRunningThreadsBeforeInitGetsItsWorkersStartedFromScratch) {
  double spawned = Started("spawned"), forked = Started("forked");
  int status = 0;
  std::string out = glint::testing::RunCommand(
      "GLINT_ADDRESS=" + cluster_->gcs_address() + " " + GLINT_THREADED_CODE_PATH + " 2>/dev/null", &status);
  ASSERT_EQ(status, 0) << out;
  std::istringstream in(out.substr(out.find("PIDS")));
  std::string word;
  std::set<int> pids;
  in >> word;
  for (int pid; in >> pid;) pids.insert(pid);
  EXPECT_EQ(pids.size(), 4u) << out;
  EXPECT_EQ(Started("forked"), forked) << "none forked";
  EXPECT_GE(Started("spawned"), spawned + 4) << "each started from scratch";
  // The raylet says why.
  std::string logs;
  for (const auto& f : std::filesystem::directory_iterator(cluster_->session_dir() + "/logs")) {
    if (f.path().filename().string().rfind("raylet", 0) == 0) logs += glint::testing::ReadFile(f.path().string());
  }
  EXPECT_NE(logs.find("threads before glint::Init(): its workers cannot be forked"), std::string::npos);
}

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("GLINT_WORKER_MODE")) glint::Init();
  glint::testing::SetDriverProgram(glint::SelfExePath());
  const std::string mode = argc > 2 ? argv[2] : "";
  if (argc > 3 && std::string(argv[1]) == "driver" && mode == "abandon") {
    // Asks for argv[3] actors at once, says MADE, and ends without waiting
    // for any of them.
    glint::Init();
    std::vector<glint::ActorHandle<Box>> made;  // kept: the job's end is what ends them
    for (int i = 0; i < std::atoi(argv[3]); ++i) made.push_back(glint::Actor(Box::Create).Remote());
    std::cout << "MADE" << std::endl;
    glint::Shutdown();
    return 0;
  }
  if (argc > 3 && std::string(argv[1]) == "driver" && mode == "detached") {
    // Makes the detached actor argv[3] (in namespace "startup"), calls it,
    // says READY and ends.
    glint::Init();
    auto root = glint::Actor(Box::Create).SetName(argv[3]).SetNamespace("startup")
                    .SetLifetime(glint::Lifetime::kDetached).Remote();
    root.Task(&Box::Pid).Remote().Get();
    std::cout << "READY" << std::endl;
    glint::Shutdown();
    return 0;
  }
  if (argc > 4 && std::string(argv[1]) == "driver" && (mode == "actors" || mode == "burst")) {
    // Makes argv[3] actors (one after another, or "burst": all at once,
    // then calls each), says READY, and ends once the file argv[4] is there
    // (or after a minute).
    glint::Init();
    std::vector<glint::ActorHandle<Box>> made;
    for (int i = 0; i < std::atoi(argv[3]); ++i) {
      made.push_back(glint::Actor(Box::Create).Remote());
      if (mode == "actors") made.back().Task(&Box::Pid).Remote().Get();
    }
    for (auto& a : made) a.Task(&Box::Pid).Remote().Get();
    std::cout << "READY" << std::endl;
    glint::testing::WaitUntil([&] { return access(argv[4], F_OK) == 0; }, std::chrono::seconds(60));
    glint::Shutdown();
    return 0;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
