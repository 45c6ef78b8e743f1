// A driver process's life with Glint, start to end and again: Init ->
// Shutdown -> Init leaves nothing of Glint in the process (no runtime, no
// thread, and, under AddressSanitizer, no leaked memory), with a GCS and a
// raylet as processes or inside the test process itself. (This program
// links the runtime itself, to count the runtimes alive in it.)
#include <dirent.h>
#include <glint/api.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth.h"
#include "common/launcher.h"
#include "gcs/gcs_server.h"
#include "testing/test_cluster.h"
#include "raylet/raylet_server.h"
#include "testing/runtime_probe.h"

namespace {

using glint::testing::TempDir;
using glint::testing::TestCluster;
using ::testing::IsEmpty;

int Square(int x) { return x * x; }

class Tally {
 public:
  static Tally* Create(int start) { return new Tally(start); }
  int Add(int v) { return n_ += v; }

 private:
  explicit Tally(int start) : n_(start) {}
  int n_;
};

GLINT_REMOTE(Square, Tally::Create, &Tally::Add);

// The names of this process's threads.
std::vector<std::string> Threads() {
  std::vector<std::string> names;
  DIR* d = opendir("/proc/self/task");
  if (!d) return names;
  while (auto* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(absl::StrCat("/proc/self/task/", e->d_name, "/comm"));
    std::string name;
    std::getline(f, name);
    names.push_back(name);
  }
  closedir(d);
  return names;
}

// Glint's own threads are all named glint-*.
std::vector<std::string> GlintThreads() {
  std::vector<std::string> glint;
  for (auto& n : Threads()) {
    if (n.rfind("glint-", 0) == 0) glint.push_back(n);
  }
  return glint;
}

// One driver's life: a task, an actor, a stored object read in place.
void OneRound(const std::string& address, int round, const std::string& token = "") {
  glint::Config c;
  c.address = address;
  c.auth_token = token;
  glint::Init(c);
  ASSERT_TRUE(glint::IsInitialized());
  EXPECT_EQ(glint::Task(Square).Remote(round).Get(), round * round);
  auto tally = glint::Actor(Tally::Create).Remote(round);
  EXPECT_EQ(tally.Task(&Tally::Add).Remote(1).Get(), round + 1);
  std::vector<char> big(1 << 20, static_cast<char>(round));
  EXPECT_EQ(glint::Put(big).Get(), big);
  EXPECT_EQ(glint::testing::LiveRuntimes(), 1);
  glint::Shutdown();
  EXPECT_FALSE(glint::IsInitialized());
  EXPECT_EQ(glint::testing::LiveRuntimes(), 0) << "Shutdown frees the runtime";
}

TEST(RestartTest, InitShutdownInitLeavesNothingRunning) {
  TestCluster cluster(2);
  OneRound(cluster.gcs_address(), 1);
  EXPECT_THAT(GlintThreads(), IsEmpty());
  size_t threads = Threads().size();
  constexpr int kMoreRounds = 6;
  for (int round = 2; round <= 1 + kMoreRounds; ++round) {
    OneRound(cluster.gcs_address(), round);
    EXPECT_THAT(GlintThreads(), IsEmpty()) << "after round " << round;
  }
  // gRPC's own pools may start a thread when busy and keep it (seen once
  // under AddressSanitizer); a thread left per round would be 6 more.
  EXPECT_LE(Threads().size(), threads + 2) << "the process has more threads after each round";
}

TEST(RestartTest, AGcsAndARayletRunInsideTheTestProcess) {
  std::string worker = glint::FindBinary("glint-worker");
  ASSERT_FALSE(worker.empty()) << "cannot find glint-worker";
  std::string logs = TempDir();
  // These daemons record no session, so the driver must not find an older
  // session of another test that used the same port (with TLS, say): it
  // looks in a session root of its own.
  glint::testing::ScopedEnv session_root("GLINT_TMPDIR", TempDir());
  for (int round = 1; round <= 2; ++round) {
    // The daemons in this process check the token its calls carry.
    std::string token = glint::NewAuthToken();
    ASSERT_TRUE(glint::SetClusterAuth({token, {}}).ok());
    glint::gcs::GcsOptions go;
    go.port = 0;
    glint::gcs::GcsServer gcs(go, *glint::gcs::MakeStore("memory"), glint::gcs::MakeGrpcClusterClient());
    ASSERT_TRUE(gcs.Start().ok());
    glint::raylet::RayletOptions ro;
    ro.gcs_address = absl::StrCat("127.0.0.1:", gcs.port());
    ro.resources = {{"CPU", 2}};
    ro.is_head = true;
    ro.worker_path = worker;
    ro.log_dir = logs;
    ro.store.dir = absl::StrCat("/dev/shm/glint-objects-", getpid(), "-", round);
    ro.store.capacity = 64 << 20;
    ro.auth.token = token;  // for the workers it starts
    glint::raylet::RayletServer raylet(ro);
    auto started = raylet.Start();
    ASSERT_TRUE(started.ok()) << started;
    OneRound(ro.gcs_address, round, token);
    raylet.Stop();
    gcs.Stop();
    EXPECT_THAT(GlintThreads(), IsEmpty()) << "after round " << round;
    EXPECT_NE(access(ro.store.dir.c_str(), F_OK), 0) << "the raylet left its store behind";
  }
}

}  // namespace
