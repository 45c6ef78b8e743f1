// A node's object store on 2 MiB pages (common/huge_pages.h): the raylets
// keep their stores in a tmpfs mounted with huge=always, made by this test
// in a mount namespace of its own (so the mount goes when the test program
// exits, whatever happens). The store says it is on 2 MiB pages, a driver's
// put lands in them, and objects pulled between nodes on such stores, and
// to a node on the default /dev/shm, arrive whole. Needs root (to mount);
// skipped, with the reason, where the mount cannot be made.
#include <glint/api.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/huge_pages.h"
#include "common/rpc.h"
#include "integration/test_functions.h"
#include "proto/raylet.grpc.pb.h"
#include "testing/test_cluster.h"

namespace {

using glint::testing::StoreInfo;
using tf::Fill;

uint64_t Checksum(std::vector<uint8_t> v) { return tf::Checksum(v.data(), v.size()); }
std::vector<uint8_t> Made(int64_t size, int seed) {
  return Fill(static_cast<size_t>(size), static_cast<uint8_t>(seed));
}
GLINT_REMOTE(Checksum, Made);

constexpr size_t kSize = 64 << 20;

std::string g_huge_dir;     // the tmpfs with huge=always
std::string g_skip_reason;  // why it could not be made

// In a mount namespace of this process (its children, the raylets, inherit
// it): a tmpfs mounted with huge=always in a new temporary directory.
void MountHugeTmpfs() {
  if (geteuid() != 0) {
    g_skip_reason = "mounting a tmpfs needs root";
    return;
  }
  if (unshare(CLONE_NEWNS) != 0) {
    g_skip_reason = std::string("no mount namespace: ") + strerror(errno);
    return;
  }
  // Nothing mounted here reaches the machine's own namespace.
  if (mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    g_skip_reason = std::string("cannot make the mounts private: ") + strerror(errno);
    return;
  }
  char dir[] = "/tmp/glint-huge-XXXXXX";
  if (!mkdtemp(dir)) {
    g_skip_reason = std::string("mkdtemp: ") + strerror(errno);
    return;
  }
  if (mount("tmpfs", dir, "tmpfs", 0, "huge=always,size=2g") != 0) {
    g_skip_reason = std::string("cannot mount a tmpfs with huge=always: ") + strerror(errno);
    rmdir(dir);
    return;
  }
  if (!glint::HugePagesIn(dir)) {
    g_skip_reason = "this kernel gives no tmpfs 2 MiB pages (shmem_enabled is deny)";
    return;
  }
  g_huge_dir = dir;
}

// Bytes of `path` this process has mapped in 2 MiB pages (/proc/self/smaps).
int64_t HugeMappedBytes(const std::string& path) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool in = false;
  int64_t kb = 0;
  while (std::getline(smaps, line)) {
    bool header = !line.empty() && line.find(':') > line.find(' ');  // "start-end perms offset dev inode path"
    if (header) in = line.size() >= path.size() && line.compare(line.size() - path.size(), path.size(), path) == 0;
    if (in && line.rfind("ShmemPmdMapped:", 0) == 0) kb += std::atoll(line.c_str() + 15);
  }
  return kb << 10;
}

// The head and node B keep their stores in the huge tmpfs; node C in /dev/shm.
class HugePagesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (g_huge_dir.empty()) return;
    std::vector<std::string> huge = {"--object_store_dir=" + g_huge_dir, "--object_store_memory=512M"};
    cluster_ = new glint::testing::TestCluster(2, "", huge);
    nodes_["B"] = cluster_->AddNode(1, R"({"nodeB": 100})", huge);
    nodes_["C"] = cluster_->AddNode(1, R"({"nodeC": 100})", {"--object_store_memory=512M"});
    glint::Config c;
    c.address = cluster_->gcs_address();
    glint::Init(c);
  }
  static void TearDownTestSuite() {
    if (!cluster_) return;
    glint::Shutdown();
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    if (!g_skip_reason.empty()) GTEST_SKIP() << g_skip_reason;
  }
  static uint64_t ReadOn(const std::string& name, const glint::ObjectRef<std::vector<uint8_t>>& ref) {
    return glint::Task(Checksum).SetResources({{"node" + name, 1}}).Remote(ref).Get(std::chrono::seconds(120));
  }
  static inline glint::testing::TestCluster* cluster_ = nullptr;
  static inline std::map<std::string, std::string> nodes_;
};

TEST_F(HugePagesTest, AStoreInAHugeTmpfsIsOnHugePagesAndAPutLandsInThem) {
  auto head = StoreInfo(cluster_->head_raylet_address());
  EXPECT_TRUE(head.huge_pages()) << head.dir();
  EXPECT_EQ(head.dir().rfind(g_huge_dir, 0), 0u) << head.dir();
  EXPECT_TRUE(StoreInfo(nodes_["B"]).huge_pages());
  EXPECT_FALSE(StoreInfo(nodes_["C"]).huge_pages()) << "/dev/shm is mounted without huge pages";
  // As `glint list nodes` shows it (from the nodes' heartbeats).
  std::string out;
  EXPECT_TRUE(glint::testing::WaitUntil([&] {
    out = glint::testing::RunCli("list nodes --json --address " + cluster_->gcs_address());
    auto nodes = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
    int huge = 0, small = 0;
    for (const auto& n : nodes) {
      if (!n.contains("object_store")) return false;
      n["object_store"].value("huge_pages", false) ? ++huge : ++small;
    }
    return huge == 2 && small == 1;
  })) << out;

  auto data = Fill(kSize, 3);
  const int64_t before = HugeMappedBytes(head.arena());
  auto ref = glint::Put(data);
  EXPECT_GE(HugeMappedBytes(head.arena()) - before, static_cast<int64_t>(kSize) / 2)
      << "the driver wrote the value into its mapping of the arena in 2 MiB pages";
  EXPECT_EQ(Checksum(ref.Get()), Checksum(data));
}

TEST_F(HugePagesTest, ObjectsPulledBetweenNodesOnHugePagesArriveWhole) {
  // Made on node B (primary there), read on the head: a copy between two
  // huge stores; then on node C, whose store is on 4 KiB pages.
  for (int seed = 1; seed <= 3; ++seed) {
    auto ref = glint::Task(Made).SetResources({{"nodeB", 1}}).Remote(static_cast<int64_t>(kSize), seed);
    const uint64_t want = Checksum(Fill(kSize, static_cast<uint8_t>(seed)));
    EXPECT_EQ(Checksum(ref.Get(std::chrono::seconds(120))), want) << "pull " << seed << " to the head";
    EXPECT_EQ(ReadOn("C", ref), want) << "pull " << seed << " to node C";
  }
  // And from the default store to a huge one.
  auto on_c = glint::Task(Made).SetResources({{"nodeC", 1}}).Remote(static_cast<int64_t>(kSize), 9);
  EXPECT_EQ(ReadOn("B", on_c), Checksum(Fill(kSize, 9)));
}

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("GLINT_WORKER_MODE")) glint::Init();
  MountHugeTmpfs();  // before any thread: the namespace is this thread's
  ::testing::InitGoogleTest(&argc, argv);
  int rc = RUN_ALL_TESTS();
  if (!g_huge_dir.empty()) {
    umount2(g_huge_dir.c_str(), MNT_DETACH);
    rmdir(g_huge_dir.c_str());
  }
  return rc;
}
