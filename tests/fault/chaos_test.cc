// Chaos: for a bounded time, under a load of actor calls (actors with
// max_restarts=-1 and max_task_retries=-1) and tasks with retries, a random
// worker is killed with SIGKILL every 1-2 s and a non-head raylet every
// ~10 s (a new one then takes its place). Every call returns its own
// sequence number; each call appends its number to a file of its actor (or
// of the tasks) before it returns, so what the files hold is at least every
// call that succeeded (a retried call may be there twice: at least once);
// afterwards no worker of the cluster is left running and no object store
// of a killed raylet is left behind.
//
// GLINT_CHAOS_SECONDS sets the length (default 40; the figures for longer
// runs are in tests/fault/RESULTS.md).
#include <glint/api.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/launcher.h"
#include "common/process.h"
#include "testing/shell.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::TestCluster;
using glint::testing::WaitUntil;

// Appends `seq` to `path` (one line; O_APPEND keeps lines whole) and returns it.
int Append(const std::string& path, int seq) {
  std::ofstream(path, std::ios::app) << seq << "\n" << std::flush;
  return seq;
}

class Recorder {
 public:
  static Recorder* Create(std::string path) { return new Recorder(std::move(path)); }
  int Record(int seq) { return Append(path_, seq); }

 private:
  explicit Recorder(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

GLINT_REMOTE(Recorder::Create, &Recorder::Record, Append);

// The numbers a file holds, each once.
std::set<int> Recorded(const std::string& path) {
  std::ifstream f(path);
  std::set<int> out;
  for (int seq; f >> seq;) out.insert(seq);
  return out;
}

// The processes whose parent is one of `parents`.
std::vector<pid_t> ChildrenOf(const std::set<pid_t>& parents) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    pid_t pid = atoi(e.path().filename().c_str());
    if (pid <= 0) continue;
    std::ifstream stat(e.path() / "stat");
    std::string line;
    std::getline(stat, line);
    auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    pid_t ppid = 0;
    if (sscanf(line.c_str() + close + 2, "%c %d", &state, &ppid) == 2 && state != 'Z' && parents.contains(ppid)) {
      out.push_back(pid);
    }
  }
  return out;
}

int ChaosSeconds() {
  const char* s = std::getenv("GLINT_CHAOS_SECONDS");
  return s ? std::max(5, atoi(s)) : 40;
}

TEST(ChaosTest, KilledWorkersAndRayletsLoseNoCallWithRetries) {
  constexpr int kActors = 4;
  constexpr int kCallers = 4;  // threads: 3 call actors, 1 submits tasks
  const std::string nodes_resources = R"({"spot": 4})";
  auto cluster = std::make_unique<TestCluster>(2);
  std::vector<std::string> spot_nodes = {cluster->AddNode(2, nodes_resources), cluster->AddNode(2, nodes_resources)};
  glint::Config c;
  c.address = cluster->gcs_address();
  glint::Init(c);
  std::string dir = glint::testing::TempDir();
  std::vector<glint::ActorHandle<Recorder>> actors;
  for (int i = 0; i < kActors; ++i) {
    actors.push_back(glint::Actor(Recorder::Create)
                         .SetResources({{"spot", 0.1}})
                         .SetMaxRestarts(-1)
                         .SetMaxTaskRetries(-1)
                         .Remote(dir + "/actor-" + std::to_string(i)));
  }
  for (auto& a : actors) ASSERT_EQ(a.Task(&Recorder::Record).Remote(-1).Get(std::chrono::seconds(60)), -1);

  std::atomic<bool> stop{false};
  std::atomic<int> next_seq{0}, ok{0}, failed{0}, workers_killed{0}, raylets_killed{0};
  std::mutex mu;
  std::map<int, std::string> file_of;  // seq -> the file its call appended to
  std::string first_error;
  std::vector<std::thread> callers;
  for (int t = 0; t < kCallers; ++t) {
    callers.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < 10000000 && !stop; ++i) {
        int seq = next_seq++;
        std::string file;
        int got = -2;
        try {
          if (t == kCallers - 1) {
            file = dir + "/tasks";
            got = glint::Task(Append).SetMaxRetries(-1).Remote(file, seq).Get(std::chrono::seconds(120));
          } else {
            int k = rng() % kActors;
            file = dir + "/actor-" + std::to_string(k);
            got = actors[k].Task(&Recorder::Record).Remote(seq).Get(std::chrono::seconds(120));
          }
        } catch (const glint::Error& e) {
          std::lock_guard<std::mutex> lock(mu);
          if (failed++ == 0) first_error = e.what();
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        if (got == seq) {
          ++ok;
          file_of[seq] = file;
        } else if (failed++ == 0) {
          first_error = "call " + std::to_string(seq) + " returned " + std::to_string(got);
        }
      }
    });
  }

  // The killer: a random worker every 1-2 s, a non-head raylet every ~10 s.
  std::set<pid_t> ever_workers;
  std::mt19937 rng(42);
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(ChaosSeconds());
  auto next_raylet_kill = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::vector<pid_t> killed_raylets;
  while (std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1000 + rng() % 1000));  // the chaos's pace, not a wait
    std::set<pid_t> raylets = {cluster->head_raylet_pid()};
    for (auto& n : spot_nodes) raylets.insert(cluster->raylet_pid(n));
    auto workers = ChildrenOf(raylets);
    ever_workers.insert(workers.begin(), workers.end());
    if (!workers.empty()) {
      kill(workers[rng() % workers.size()], SIGKILL);
      ++workers_killed;
    }
    if (std::chrono::steady_clock::now() >= next_raylet_kill) {
      size_t i = rng() % spot_nodes.size();
      killed_raylets.push_back(cluster->raylet_pid(spot_nodes[i]));
      cluster->KillNode(spot_nodes[i]);
      spot_nodes[i] = cluster->AddNode(2, nodes_resources);
      ++raylets_killed;
      next_raylet_kill = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    }
  }
  stop = true;
  for (auto& t : callers) t.join();

  std::cout << "[figures] chaos for " << ChaosSeconds() << " s: " << ok << " calls returned, " << failed
            << " failed; " << workers_killed << " workers and " << raylets_killed << " raylets killed" << std::endl;
  EXPECT_EQ(failed, 0) << first_error;
  EXPECT_GT(ok, 0);
  EXPECT_GT(workers_killed, 0);
  EXPECT_GT(raylets_killed, 0) << "run at least 10 s";
  // At least once: every call that returned left its number in its file.
  std::map<std::string, std::set<int>> recorded;
  int missing = 0;
  for (auto& [seq, file] : file_of) {
    if (!recorded.contains(file)) recorded[file] = Recorded(file);
    if (!recorded[file].contains(seq)) ++missing;
  }
  EXPECT_EQ(missing, 0) << "calls that returned but left no trace";

  glint::Shutdown();
  std::set<pid_t> raylets = {cluster->head_raylet_pid()};
  for (auto& n : spot_nodes) raylets.insert(cluster->raylet_pid(n));
  for (auto w : ChildrenOf(raylets)) ever_workers.insert(w);
  cluster.reset();  // stops the daemons
  EXPECT_TRUE(WaitUntil(
      [&] {
        for (pid_t w : ever_workers) {
          if (glint::ProcessAlive(w)) return false;
        }
        return true;
      },
      std::chrono::seconds(20)))
      << "no worker outlives its cluster";
  glint::RemoveStaleObjectStores("/dev/shm");  // as `glint stop` does
  for (pid_t r : killed_raylets) {
    EXPECT_FALSE(glint::testing::FileExists(glint::ObjectStoreDir("/dev/shm", r))) << "raylet " << r;
  }
}

}  // namespace
